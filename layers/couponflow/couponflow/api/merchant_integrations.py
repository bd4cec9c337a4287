"""Merchant routes: the email-provider list that consenting claimants are pushed to."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api.context import merchant_id
from couponflow.models.integrations import EmailProviderIn, EmailProviderOut
from couponflow.services import email_provider


def build(table: Table, secret_prefix: str, *, allow_private_hosts: bool = False) -> APIGatewayRouter:
    router = APIGatewayRouter()

    @router.put("/integrations/email-provider")
    def connect(provider: EmailProviderIn) -> EmailProviderOut:
        return email_provider.connect(
            table, secret_prefix, merchant_id(router), provider, allow_private_hosts=allow_private_hosts
        )

    @router.get("/integrations/email-provider")
    def show() -> EmailProviderOut:
        return email_provider.get(table, merchant_id(router))

    @router.delete("/integrations/email-provider")
    def disconnect() -> Response[None]:
        email_provider.disconnect(table, merchant_id(router))
        return Response(status_code=204)

    return router
