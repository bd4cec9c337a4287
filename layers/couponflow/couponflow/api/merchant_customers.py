"""Merchant routes: the customers tab and the messages of a customer."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.views import CustomerErased, CustomerExport, CustomerView, MessageView
from couponflow.services import customers, privacy


def build(table: Table, events_table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.get("/customers/<customer_ref>")
    def get_customer(customer_ref: str) -> CustomerView:
        """A customer's profile with their claims, and their emails and texts with each timeline.

        `customer_ref` is the customer id or the email address (encoded or not)."""
        shown = customers.customer_view(table, events_table, merchant_id(router), customer_ref)
        return CustomerView.model_validate({**shown, "lists": shown.get("segment_ids") or []})

    @router.delete("/customers/<customer_ref>")
    def erase_customer(customer_ref: str) -> CustomerErased:
        """Erase a customer's personal data everywhere it is stored; their codes stay accounted for.

        Claims move to an anonymous id (a held code stays held); messages, events, suppression
        entries, list memberships and send-recipient records are deleted, then the profile."""
        return CustomerErased.model_validate(
            privacy.erase(table, events_table, merchant_id(router), customer_ref)
        )

    @router.get("/customers/<customer_ref>/export")
    def export_customer(customer_ref: str) -> CustomerExport:
        """Everything stored about a customer: profile, claims, messages and events, suppressions,
        lists, send records."""
        return CustomerExport.model_validate(
            privacy.export(table, events_table, merchant_id(router), customer_ref)
        )

    @router.get("/customers/<customer_ref>/messages/<message_id>")
    def get_message(customer_ref: str, message_id: str) -> MessageView:
        """One email or text: its status, the words behind it, and its timeline (the (i) panel)."""
        return MessageView.model_validate(
            customers.message_view(table, events_table, merchant_id(router), customer_ref, message_id)
        )

    return router
