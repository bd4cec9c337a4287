"""Merchant routes: account settings (message event retention, notification address)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.api import MerchantSettingsIn
from couponflow.models.views import SettingsView
from couponflow.services import merchant_settings


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/settings")
    def get_settings() -> SettingsView:
        """How long message events are kept, and where notices (a paused campaign...) go."""
        return SettingsView.model_validate(merchant_settings.view(table, merchant_id(router)))

    @router.patch("/settings")
    def update_settings(change: MerchantSettingsIn) -> SettingsView:
        """Change the event retention (from then on) or the notification email."""
        return SettingsView.model_validate(merchant_settings.update(table, merchant_id(router), change))

    return router
