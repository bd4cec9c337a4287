"""Merchant routes: the suppression list (list, inspect, remove) and a campaign's send statistics."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.services import campaign_stats, suppressions


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/suppressions")
    def list_suppressions(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        after: Annotated[str | None, Query(max_length=320)] = None,
    ) -> dict[str, Any]:
        return suppressions.list_suppressions(table, merchant_id(router), limit=limit, after=after)

    @router.get("/suppressions/<email>")
    def get_suppression(email: str) -> dict[str, Any]:
        return suppressions.get_suppression(table, merchant_id(router), email)

    @router.delete("/suppressions/<email>")
    def remove_suppression(email: str) -> dict[str, Any]:
        return suppressions.remove_suppression(table, merchant_id(router), email)

    @router.get("/campaigns/<campaign_id>/stats")
    def campaign_statistics(campaign_id: str) -> dict[str, Any]:
        return campaign_stats.stats_view(table, merchant_id(router), campaign_id)

    return router
