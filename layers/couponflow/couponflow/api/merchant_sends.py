"""Merchant routes: schedule a segment send, preview and preflight it, cancel it, follow it."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.context import merchant_id
from couponflow.api.responses import answered
from couponflow.models.sends import SendIn
from couponflow.models.views import PreflightView, SendCheck, SendPreview, SendView
from couponflow.services.sends import SendScheduler


def build(service: SendScheduler) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post(
        "/sends",
        responses=answered(201, SendView, "scheduled"),
    )
    def schedule_send(send: SendIn) -> Response[SendView]:
        """Schedule a send of a campaign's coupons to a segment: on the hour, at least 2 hours ahead."""
        created = SendView.model_validate(service.schedule(merchant_id(router), send))
        return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)

    @router.post("/sends/check")
    def check_send(send: SendIn) -> SendCheck:
        """What scheduling this send would do, without scheduling it: when it would go, who it
        would reach, codes needed against codes left, what would fail it, and the message as the
        segment's first member would get it. Refused as scheduling would refuse it."""
        return SendCheck.model_validate(service.check(merchant_id(router), send))

    @router.get("/sends/<send_id>")
    def get_send(send_id: str) -> SendView:
        """A send: its status, counts once done, and the failure report link while it lasts."""
        return SendView.model_validate(service.get(merchant_id(router), send_id))

    @router.get("/sends/<send_id>/preview")
    def preview(send_id: str, customer: Annotated[str | None, Query(max_length=254)] = None) -> SendPreview:
        """The email and text as `customer` (an id or email of the segment, or a sample) would get them."""
        return SendPreview.model_validate(service.preview(merchant_id(router), send_id, customer))

    @router.get("/sends/<send_id>/preflight")
    def preflight(send_id: str) -> PreflightView:
        """Who the send would reach now, who is left out and why, and codes needed against left."""
        return PreflightView.model_validate(service.preflight(merchant_id(router), send_id))

    @router.post("/sends/<send_id>/cancel")
    def cancel(send_id: str) -> SendView:
        """Cancel a scheduled send, until 2 hours before its time."""
        return SendView.model_validate(service.cancel(merchant_id(router), send_id))

    @router.delete("/sends/<send_id>")
    def delete(send_id: str) -> SendView:
        """The same as cancel."""
        return SendView.model_validate(service.cancel(merchant_id(router), send_id))

    return router
