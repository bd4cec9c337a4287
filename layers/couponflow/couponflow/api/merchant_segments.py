"""Merchant routes: segments (customer groups), static members, and the segment's size."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.audience import MembersIn, SegmentIn
from couponflow.models.views import SegmentView
from couponflow.services import audience


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/segments")
    def create_segment(segment: SegmentIn) -> Response[SegmentView]:
        """A static segment (a list: add members) or one defined by a rule."""
        created = SegmentView.model_validate(audience.create_segment(table, merchant_id(router), segment))
        return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)

    @router.get("/segments/<segment_id>")
    def get_segment(segment_id: str) -> SegmentView:
        """A segment and how many customers it holds now."""
        return SegmentView.model_validate(audience.get_segment(table, merchant_id(router), segment_id))

    @router.post("/segments/<segment_id>/members")
    def add_members(segment_id: str, body: MembersIn) -> SegmentView:
        """Add customers (ids or emails) to a list; `not_found` names the references of no customer."""
        m = merchant_id(router)
        return SegmentView.model_validate(
            audience.change_members(table, m, segment_id, body.customers, add=True)
        )

    @router.post("/segments/<segment_id>/members/remove")
    def remove_members(segment_id: str, body: MembersIn) -> SegmentView:
        """Take customers off a list."""
        m = merchant_id(router)
        return SegmentView.model_validate(
            audience.change_members(table, m, segment_id, body.customers, add=False)
        )

    return router
