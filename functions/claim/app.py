"""Public claim endpoint: storefronts and landing pages ask for a coupon for a customer."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.http import resolver, too_large
from couponflow.models.api import ClaimIn, ClaimOut
from couponflow.services.claims import ClaimService
from couponflow.settings import ClaimSettings

MAX_CLAIM_BODY_BYTES = 16 * 1024

settings = ClaimSettings.from_env()
logger = Logger()
tracer = Tracer()
app = resolver()
service = ClaimService(Table(settings.table_name), settings.mail_queue_url)


@app.post("/public/merchants/<merchant_id>/campaigns/<campaign_id>/claims")
@tracer.capture_method
def post_claim(merchant_id: str, campaign_id: str, claim: ClaimIn) -> Response[ClaimOut]:
    outcome, created = service.claim(merchant_id, campaign_id, claim)
    return Response(
        status_code=201 if created else 200, content_type=content_types.APPLICATION_JSON, body=outcome
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return too_large(event, MAX_CLAIM_BODY_BYTES) or app.resolve(event, context)
