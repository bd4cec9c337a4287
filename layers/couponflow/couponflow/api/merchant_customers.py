"""Merchant routes: the customers tab and the messages of a customer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.services import customers


def build(table: Table, events_table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/customers/<customer_ref>")
    def get_customer(customer_ref: str) -> dict[str, Any]:
        return customers.customer_view(table, events_table, merchant_id(router), customer_ref)

    @router.get("/customers/<customer_ref>/messages/<message_id>")
    def get_message(customer_ref: str, message_id: str) -> dict[str, Any]:
        return customers.message_view(table, events_table, merchant_id(router), customer_ref, message_id)

    return router
