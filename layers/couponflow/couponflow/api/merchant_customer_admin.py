"""Merchant routes: create, update, import and unsubscribe customers."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.audience import CustomerIn, CustomersImported, CustomersImportIn
from couponflow.models.views import CustomerRecord
from couponflow.services import audience


def build(table: Table) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.post("/customers")
    def put_customer(customer: CustomerIn) -> CustomerRecord:
        """Create a customer, or update the fields given (the email, else the phone, names them)."""
        return CustomerRecord.model_validate(audience.put_customer(table, merchant_id(router), customer))

    @router.post("/customers/import")
    def import_customers(body: CustomersImportIn) -> CustomersImported:
        """Create or update up to 1,000 customers; each invalid row is named and the rest imported."""
        return CustomersImported.model_validate(
            audience.import_customers(table, merchant_id(router), body.customers)
        )

    @router.post("/customers/<customer_ref>/unsubscribe")
    def unsubscribe(customer_ref: str) -> CustomerRecord:
        """Globally unsubscribe: left out of every current and future list and send."""
        return CustomerRecord.model_validate(audience.unsubscribe(table, merchant_id(router), customer_ref))

    @router.delete("/customers/<customer_ref>/unsubscribe")
    def resubscribe(customer_ref: str) -> CustomerRecord:
        """Undo a global unsubscribe (for a customer who asked to come back)."""
        return CustomerRecord.model_validate(audience.resubscribe(table, merchant_id(router), customer_ref))

    return router
