"""Merchant routes: account settings (message event retention, notification address)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.api import MerchantSettingsIn
from couponflow.services import merchant_settings


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/settings")
    def get_settings() -> dict[str, Any]:
        return merchant_settings.view(table, merchant_id(router))

    @router.patch("/settings")
    def update_settings(change: MerchantSettingsIn) -> dict[str, Any]:
        return merchant_settings.update(table, merchant_id(router), change)

    return router
