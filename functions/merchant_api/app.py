"""Merchant API: campaigns and code pools, claims, customers and their messages."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.http import resolver, too_large
from couponflow.models.api import CampaignIn, CodesIn, CodesLoaded
from couponflow.services import campaigns, customers
from couponflow.settings import MerchantApiSettings

MAX_BODY_BYTES = 1024 * 1024

settings = MerchantApiSettings.from_env()
logger = Logger()
tracer = Tracer()
app = resolver()
table = Table(settings.table_name)
events_table = Table(settings.events_table_name)


def merchant_id() -> str:
    """The merchant the authorizer resolved from the API key; every read and write is scoped to it."""
    return str(app.current_event.request_context.authorizer["merchant_id"])


@app.post("/campaigns")
def create_campaign(campaign: CampaignIn) -> Response[dict[str, Any]]:
    created = campaigns.create_campaign(table, merchant_id(), campaign)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created)


@app.get("/campaigns/<campaign_id>")
def get_campaign(campaign_id: str) -> dict[str, Any]:
    return campaigns.get_campaign(table, merchant_id(), campaign_id)


@app.post("/campaigns/<campaign_id>/codes")
def add_codes(campaign_id: str, body: CodesIn) -> CodesLoaded:
    return campaigns.add_codes(table, merchant_id(), campaign_id, body.codes)


@app.get("/campaigns/<campaign_id>/claims")
def list_claims(campaign_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    items = campaigns.list_claims(table, merchant_id(), campaign_id, limit)
    return {"items": items, "count": len(items)}


@app.get("/customers/<customer_ref>")
def get_customer(customer_ref: str) -> dict[str, Any]:
    return customers.customer_view(table, events_table, merchant_id(), customer_ref)


@app.get("/customers/<customer_ref>/messages/<message_id>")
def get_message(customer_ref: str, message_id: str) -> dict[str, Any]:
    return customers.message_view(table, events_table, merchant_id(), customer_ref, message_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return too_large(event, MAX_BODY_BYTES) or app.resolve(event, context)
