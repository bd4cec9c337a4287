"""Housekeeping on a rate schedule: the periodic sweeps that keep every message and coupon moving."""

from datetime import UTC, datetime, timedelta
from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters import secrets
from couponflow.adapters.dynamodb import Table
from couponflow.logs import structured_logger
from couponflow.services.housekeeping import Task, run_all
from couponflow.services.housekeeping.expire_offers import ExpireOffers
from couponflow.services.housekeeping.finish_sends import FinishSends
from couponflow.services.housekeeping.pending_syncs import RequeuePendingSyncs
from couponflow.services.housekeeping.pool_alerts import PoolAlerts
from couponflow.services.housekeeping.requeue_outbox import RequeueOutbox
from couponflow.services.housekeeping.stale_messages import FlagStaleMessages
from couponflow.services.housekeeping.unknown_outcomes import SettleUnknownOutcomes
from couponflow.services.link_signer import LinkSigner
from couponflow.settings.housekeeping import HousekeepingSettings, SendCompletionSettings
from couponflow.tracing import function_tracer

settings = HousekeepingSettings.from_env()
completion = SendCompletionSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
table = Table(settings.table_name)
tasks: dict[str, Task] = {
    "expire_offers": ExpireOffers(table),
    "finish_sends": FinishSends(
        table,
        completion.report_bucket,
        completion.sender_address,
        # read when a finishing send's report link is first signed: most runs finish no send
        LinkSigner(secrets.OnFirstUse(completion.link_secret_arn), str(completion.public_base_url)),
        timedelta(minutes=completion.send_grace_minutes),
        timedelta(hours=settings.stale_message_hours),
        allow_private_hosts=settings.allow_private_provider_hosts,
    ),
    "pending_syncs": RequeuePendingSyncs(
        table,
        settings.integration_queue_url,
        timedelta(minutes=settings.pending_sync_minutes),
        settings.pending_sync_max_requeues,
    ),
    "pool_alerts": PoolAlerts(
        table,
        settings.sender_address,
        settings.configuration_set_name,
        allow_private_hosts=settings.allow_private_provider_hosts,
    ),
    "requeue_outbox": RequeueOutbox(
        table, settings.mail_queue_url, timedelta(minutes=settings.outbox_grace_minutes)
    ),
    "stale_messages": FlagStaleMessages(table, timedelta(hours=settings.stale_message_hours)),
    "unknown_outcomes": SettleUnknownOutcomes(table, timedelta(minutes=settings.unknown_outcome_minutes)),
}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    results = run_all(tasks, datetime.now(UTC))
    logger.info("housekeeping done", extra={"results": results})
    return results


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
