"""Public endpoint: storefronts and landing pages claim coupons (no API key)."""

from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters import secrets
from couponflow.adapters.dynamodb import Table
from couponflow.api import public, public_claims
from couponflow.http import decoded_path, refuse_unreadable, resolver
from couponflow.logs import structured_logger
from couponflow.services.claims import ClaimService
from couponflow.services.provider_directory import ProviderDirectory
from couponflow.settings.claim import ClaimSettings
from couponflow.tracing import function_tracer

MAX_BODY_BYTES = 16 * 1024

settings = ClaimSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
app = resolver()
table = Table(settings.table_name)
claim_service = ClaimService(
    table,
    settings.mail_queue_url,
    integration_queue_url=settings.integration_queue_url,
    providers=ProviderDirectory(table, ttl_seconds=settings.provider_lookup_ttl_seconds),
)
link_secret = secrets.OnFirstUse(settings.link_secret_arn)  # read by the first request that signs a link
app.include_router(public_claims.build(claim_service, link_secret))
# Coupon links, page views and send reports: each router loaded by its first request.
routes = public.OnFirstRequest(app, public.Wiring(table, link_secret, settings.report_bucket))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = refuse_unreadable(event, MAX_BODY_BYTES)
    if refused:
        return refused
    routes.include_for(event.get("resource"))
    return app.resolve(decoded_path(event), context)


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
