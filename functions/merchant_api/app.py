"""Merchant API: campaigns and code pools, claims, customers and their messages."""

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.api import (
    merchant_campaign_admin,
    merchant_campaigns,
    merchant_code_imports,
    merchant_customer_admin,
    merchant_customer_imports,
    merchant_customers,
    merchant_integrations,
    merchant_redemptions,
    merchant_segments,
    merchant_sends,
    merchant_settings,
    merchant_suppressions,
)
from couponflow.http import resolver, too_large
from couponflow.logs import structured_logger
from couponflow.services.code_imports import CodeImports
from couponflow.services.customer_imports import CustomerImports
from couponflow.services.redemptions import Redemptions
from couponflow.services.sends import scheduler_from
from couponflow.settings import MerchantApiSettings, SendScheduleSettings

MAX_BODY_BYTES = 1024 * 1024

settings = MerchantApiSettings.from_env()
logger = structured_logger()
tracer = Tracer()
table = Table(settings.table_name)
events_table = Table(settings.events_table_name)
app = resolver()
app.include_router(merchant_campaigns.build(table))
app.include_router(merchant_campaign_admin.build(table))
app.include_router(
    merchant_code_imports.build(
        CodeImports(table, settings.code_import_bucket, settings.code_import_queue_url)
    )
)
app.include_router(merchant_customers.build(table, events_table))
app.include_router(merchant_suppressions.build(table))
app.include_router(merchant_settings.build(table))
app.include_router(merchant_redemptions.build(Redemptions(table)))
app.include_router(
    merchant_integrations.build(
        table, settings.secret_name_prefix, allow_private_hosts=settings.allow_private_provider_hosts
    )
)
app.include_router(merchant_customer_admin.build(table))
app.include_router(merchant_customer_imports.build(CustomerImports(table, settings.code_import_bucket)))
app.include_router(merchant_segments.build(table))
app.include_router(merchant_sends.build(scheduler_from(table, SendScheduleSettings.from_env())))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return too_large(event, MAX_BODY_BYTES) or app.resolve(event, context)
