"""Merchant routes that manage campaigns: list, update, pause and resume."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.api import CampaignUpdate
from couponflow.models.views import CampaignPage, CampaignView
from couponflow.services import campaign_admin


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/campaigns")
    def list_campaigns(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> CampaignPage:
        """The merchant's campaigns, newest first."""
        items = campaign_admin.list_campaigns(table, merchant_id(router), limit)
        return CampaignPage(items=[CampaignView.model_validate(i) for i in items], count=len(items))

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
    def page_views(campaign_id: str) -> dict[str, Any]:
        return campaign_admin.page_views(table, merchant_id(router), campaign_id)

    return router
