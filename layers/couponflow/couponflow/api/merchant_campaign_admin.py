"""Merchant routes that manage campaigns: list, update, pause and resume."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.api import CampaignUpdate
from couponflow.services import campaign_admin


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/campaigns")
    def list_campaigns(limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        items = campaign_admin.list_campaigns(table, merchant_id(router), limit)
        return {"items": items, "count": len(items)}

    @router.patch("/campaigns/<campaign_id>")
    def update_campaign(campaign_id: str, changes: CampaignUpdate) -> dict[str, Any]:
        return campaign_admin.update_campaign(table, merchant_id(router), campaign_id, changes)

    @router.post("/campaigns/<campaign_id>/pause")
    def pause_campaign(campaign_id: str) -> dict[str, Any]:
        return campaign_admin.set_paused(table, merchant_id(router), campaign_id, True)

    @router.post("/campaigns/<campaign_id>/resume")
    def resume_campaign(campaign_id: str) -> dict[str, Any]:
        return campaign_admin.set_paused(table, merchant_id(router), campaign_id, False)

    @router.get("/campaigns/<campaign_id>/views")
    def page_views(campaign_id: str) -> dict[str, Any]:
        return campaign_admin.page_views(table, merchant_id(router), campaign_id)

    return router
