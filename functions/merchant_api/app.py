"""Merchant API: campaigns and code pools, claims, customers and their messages."""

from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.api import merchant, openapi
from couponflow.http import decoded_path, refuse_unreadable, resolver
from couponflow.logs import structured_logger
from couponflow.settings.merchant_api import MerchantApiSettings, SendScheduleSettings
from couponflow.tracing import function_tracer

MAX_BODY_BYTES = 1024 * 1024

settings = MerchantApiSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
app = resolver()
app.include_router(openapi.build())  # GET /openapi.json and /docs, public
routes = merchant.OnFirstRequest(app, merchant.Wiring(settings, SendScheduleSettings.from_env()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = refuse_unreadable(event, MAX_BODY_BYTES)
    if refused:
        return refused
    event = decoded_path(event)
    routes.include_for(str(event.get("path") or ""))
    return app.resolve(event, context)


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
