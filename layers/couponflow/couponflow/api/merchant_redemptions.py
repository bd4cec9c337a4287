"""Merchant route: the store reports that a code was used (``POST /redemptions``)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.api.context import merchant_id
from couponflow.models.redemptions import RedemptionIn, RedemptionOut
from couponflow.services.redemptions import Redemptions


def build(redemptions: Redemptions) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/redemptions")
    def report_redemption(redemption: RedemptionIn) -> RedemptionOut:
        """The store reports a code used in an order; the same report again gets the same answer.

        A code that cannot be redeemed is a 409 whose `reason` says why (`already_redeemed` with
        the `first_order_id`, `expired`, `released`, `not_handed_out`)."""
        return RedemptionOut.model_validate(redemptions.report(merchant_id(router), redemption))

    return router
