"""Every merchant route, wired to its services: the merchant API function's routers, and the
OpenAPI document's (``api/openapi.py``), from one list."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from couponflow.adapters.dynamodb import Table
from couponflow.api import (
    merchant_campaign_admin,
    merchant_campaigns,
    merchant_code_imports,
    merchant_customer_admin,
    merchant_customer_imports,
    merchant_customers,
    merchant_exports,
    merchant_integrations,
    merchant_lists,
    merchant_redemptions,
    merchant_segments,
    merchant_sends,
    merchant_settings,
    merchant_suppressions,
)
from couponflow.services.code_imports import CodeImports
from couponflow.services.customer_imports import CustomerImports
from couponflow.services.export_jobs import ExportJobs
from couponflow.services.redemptions import Redemptions
from couponflow.services.sends import scheduler_from
from couponflow.settings import MerchantApiSettings, SendScheduleSettings


def routers(settings: MerchantApiSettings, schedule: SendScheduleSettings) -> list[APIGatewayRouter]:
    table = Table(settings.table_name)
    events_table = Table(settings.events_table_name)
    return [
        merchant_campaigns.build(table),
        merchant_campaign_admin.build(table),
        merchant_code_imports.build(
            CodeImports(table, settings.code_import_bucket, settings.code_import_queue_url)
        ),
        merchant_customers.build(table, events_table),
        merchant_suppressions.build(table),
        merchant_settings.build(table),
        merchant_redemptions.build(Redemptions(table)),
        merchant_integrations.build(
            table, settings.secret_name_prefix, allow_private_hosts=settings.allow_private_provider_hosts
        ),
        merchant_customer_admin.build(table),
        merchant_customer_imports.build(CustomerImports(table, settings.code_import_bucket)),
        merchant_segments.build(table),
        merchant_sends.build(scheduler_from(table, schedule)),
        merchant_lists.build(table),
        merchant_exports.build(
            table, ExportJobs(table, settings.code_import_bucket, settings.code_import_queue_url)
        ),
    ]
