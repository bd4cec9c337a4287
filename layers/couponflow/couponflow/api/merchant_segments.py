"""Merchant routes: segments (customer groups), static members, and the segment's size."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.audience import MembersIn, SegmentIn
from couponflow.services import audience


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/segments")
    def create_segment(segment: SegmentIn) -> Response[dict[str, Any]]:
        created = audience.create_segment(table, merchant_id(router), segment)
        return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)

    @router.get("/segments/<segment_id>")
    def get_segment(segment_id: str) -> dict[str, Any]:
        return audience.get_segment(table, merchant_id(router), segment_id)

    @router.post("/segments/<segment_id>/members")
    def add_members(segment_id: str, body: MembersIn) -> dict[str, Any]:
        return audience.change_members(table, merchant_id(router), segment_id, body.customers, add=True)

    @router.post("/segments/<segment_id>/members/remove")
    def remove_members(segment_id: str, body: MembersIn) -> dict[str, Any]:
        return audience.change_members(table, merchant_id(router), segment_id, body.customers, add=False)

    return router
