"""What a route needs to know about the request beyond its body."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter


def merchant_id(router: APIGatewayRouter) -> str:
    """The merchant the authorizer resolved from the API key; every read and write is scoped to it."""
    return str(router.current_event.request_context.authorizer["merchant_id"])
