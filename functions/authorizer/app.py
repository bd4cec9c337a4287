"""API Gateway TOKEN authorizer: a merchant API key (stored hashed) becomes the merchant id."""

from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.logs import structured_logger
from couponflow.services.merchants import authenticate
from couponflow.settings.authorizer import AuthorizerSettings

settings = AuthorizerSettings.from_env()
logger = structured_logger()
table = Table(settings.table_name)


@logger.inject_lambda_context
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def lambda_handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict[str, Any]:
    scheme, _, api_key = event.authorization_token.partition(" ")
    if scheme != "Bearer" or not api_key:
        raise Exception("Unauthorized")  # API Gateway answers 401
    arn = event.parsed_arn
    merchant = authenticate(table, api_key)
    policy = APIGatewayAuthorizerResponse(
        principal_id=merchant or "anonymous",
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"merchant_id": merchant} if merchant else None,
    )
    if merchant is None:
        logger.info("API key not recognised")
        policy.deny_all_routes()  # API Gateway answers 403
    else:
        policy.allow_all_routes()  # cached per key for the API, so every route must be allowed
    return policy.asdict()


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
