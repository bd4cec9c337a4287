"""Merchant route: the store reports that a code was used (``POST /redemptions``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.context import merchant_id
from couponflow.http import error
from couponflow.models.redemptions import RedemptionIn
from couponflow.services.redemptions import RedemptionRefused, Redemptions


def build(redemptions: Redemptions) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/redemptions")
    def report_redemption(redemption: RedemptionIn) -> Response[dict[str, Any]]:
        try:
            done = redemptions.report(merchant_id(router), redemption)
        except RedemptionRefused as refused:
            return error(409, str(refused), **refused.details)
        return Response(status_code=200, content_type="application/json", body=done)

    return router
