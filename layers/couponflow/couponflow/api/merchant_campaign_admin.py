"""Merchant routes that manage campaigns: update, pause and resume."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.api import CampaignUpdate
from couponflow.models.page_views import PageViewsOut
from couponflow.models.views import CampaignView
from couponflow.services import campaign_admin


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.patch("/campaigns/<campaign_id>")
    def update_campaign(campaign_id: str, changes: CampaignUpdate) -> CampaignView:
        """Change a campaign's settings (window, limits, templates, store URL...)."""
        m = merchant_id(router)
        return CampaignView.model_validate(campaign_admin.update_campaign(table, m, campaign_id, changes))

    @router.post("/campaigns/<campaign_id>/pause")
    def pause_campaign(campaign_id: str) -> CampaignView:
        """Pause: claims answer out of coupons (`paused`) until it is resumed."""
        return CampaignView.model_validate(
            campaign_admin.set_paused(table, merchant_id(router), campaign_id, True)
        )

    @router.post("/campaigns/<campaign_id>/resume")
    def resume_campaign(campaign_id: str) -> CampaignView:
        """Resume a paused campaign (also one the reputation guard paused)."""
        m = merchant_id(router)
        return CampaignView.model_validate(campaign_admin.set_paused(table, m, campaign_id, False))

    @router.get("/campaigns/<campaign_id>/views")
    def page_views(campaign_id: str) -> PageViewsOut:
        """Anonymous visitors who viewed the campaign's page (no email asked)."""
        return PageViewsOut.model_validate(campaign_admin.page_views(table, merchant_id(router), campaign_id))

    return router
