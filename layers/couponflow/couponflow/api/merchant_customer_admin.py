"""Merchant routes: create, update, import and unsubscribe customers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.audience import CustomerIn, CustomersImportIn
from couponflow.services import audience


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/customers")
    def put_customer(customer: CustomerIn) -> Response[dict[str, Any]]:
        stored = audience.put_customer(table, merchant_id(router), customer)
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=stored)

    @router.post("/customers/import")
    def import_customers(body: CustomersImportIn) -> dict[str, Any]:
        return audience.import_customers(table, merchant_id(router), body.customers)

    @router.post("/customers/<customer_ref>/unsubscribe")
    def unsubscribe(customer_ref: str) -> dict[str, Any]:
        """Globally unsubscribe: left out of every current and future list and send."""
        return audience.unsubscribe(table, merchant_id(router), customer_ref)

    @router.delete("/customers/<customer_ref>/unsubscribe")
    def resubscribe(customer_ref: str) -> dict[str, Any]:
        """Undo a global unsubscribe (for a customer who asked to come back)."""
        return audience.resubscribe(table, merchant_id(router), customer_ref)

    return router
