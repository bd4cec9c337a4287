"""Merchant routes: campaigns, code pools and the claims of a campaign."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.api.responses import answered
from couponflow.models.api import CampaignIn, CodesIn, CodesLoaded
from couponflow.models.views import CampaignView
from couponflow.services import campaigns


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post(
        "/campaigns",
        responses=answered(201, CampaignView, "created"),
    )
    def create_campaign(campaign: CampaignIn) -> Response[CampaignView]:
        """Create a campaign, with its first codes if given."""
        created = CampaignView.model_validate(campaigns.create_campaign(table, merchant_id(router), campaign))
        return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)

    @router.get("/campaigns/<campaign_id>")
    def get_campaign(campaign_id: str) -> CampaignView:
        """A campaign, its settings and the codes left in its pool."""
        return CampaignView.model_validate(campaigns.get_campaign(table, merchant_id(router), campaign_id))

    @router.post("/campaigns/<campaign_id>/codes")
    def add_codes(campaign_id: str, body: CodesIn) -> CodesLoaded:
        return campaigns.add_codes(table, merchant_id(router), campaign_id, body.codes)

    return router
