"""Merchant routes: the suppression list (list, inspect, remove) and a campaign's send statistics."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.views import CampaignStats, SuppressionPage, SuppressionRemoved, SuppressionView
from couponflow.services import campaign_stats, suppressions


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/suppressions")
    def list_suppressions(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        after: Annotated[str | None, Query(max_length=320)] = None,
    ) -> SuppressionPage:
        """The suppression list in address order; `next` is the `after` of the next page."""
        return SuppressionPage.model_validate(
            suppressions.list_suppressions(table, merchant_id(router), limit=limit, after=after)
        )

    @router.get("/suppressions/<email>")
    def get_suppression(email: str) -> SuppressionView:
        """Why an address is suppressed, with the event(s) that caused it."""
        return SuppressionView.model_validate(suppressions.get_suppression(table, merchant_id(router), email))

    @router.delete("/suppressions/<email>")
    def remove_suppression(email: str) -> SuppressionRemoved:
        """Take the address off the list (its soft bounces too): later emails go out again."""
        return SuppressionRemoved.model_validate(
            suppressions.remove_suppression(table, merchant_id(router), email)
        )

    @router.get("/campaigns/<campaign_id>/stats")
    def campaign_statistics(campaign_id: str) -> CampaignStats:
        return campaign_stats.stats_view(table, merchant_id(router), campaign_id)

    return router
