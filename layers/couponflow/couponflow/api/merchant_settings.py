"""Merchant routes: account settings (message event retention, notification address, notice
webhook)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.api import MerchantSettingsIn, NoticeWebhookIn
from couponflow.models.views import NoticeWebhookSet, NoticeWebhookTest, SettingsView
from couponflow.services import merchant_settings, notice_webhook


def build(table: Table, *, allow_private_hosts: bool = False) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/settings")
    def get_settings() -> SettingsView:
        """How long message events are kept, and where notices (a paused campaign...) go."""
        return SettingsView.model_validate(merchant_settings.view(table, merchant_id(router)))

    @router.patch("/settings")
    def update_settings(change: MerchantSettingsIn) -> SettingsView:
        """Change the event retention (from then on) or the notification email."""
        return SettingsView.model_validate(merchant_settings.update(table, merchant_id(router), change))

    @router.put("/settings/notice-webhook")
    def set_notice_webhook(webhook: NoticeWebhookIn) -> NoticeWebhookSet:
        """Post notices to this URL too, signed with a new secret shown in this answer only."""
        shown = notice_webhook.set_webhook(
            table, merchant_id(router), str(webhook.url), allow_private_hosts=allow_private_hosts
        )
        return NoticeWebhookSet.model_validate(shown)

    @router.delete("/settings/notice-webhook")
    def remove_notice_webhook() -> Response[None]:
        """Post no more notices; the notification email goes on."""
        notice_webhook.remove_webhook(table, merchant_id(router))
        return Response(status_code=204)

    @router.post("/settings/notice-webhook/test")
    def test_notice_webhook() -> NoticeWebhookTest:
        """Post a `ping` notice now and say what the webhook answered."""
        found = notice_webhook.send_test(table, merchant_id(router), allow_private_hosts=allow_private_hosts)
        return NoticeWebhookTest.model_validate(found)

    return router
