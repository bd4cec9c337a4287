"""Integration queue consumer: pushes consenting claimants to the merchant's email-provider list."""

from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.logs import structured_logger
from couponflow.services.provider_sync import ProviderSync, SyncJob
from couponflow.settings.provider_sync import ProviderSyncSettings
from couponflow.tracing import function_tracer

settings = ProviderSyncSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
processor = BatchProcessor(event_type=EventType.SQS)
provider_sync = ProviderSync(
    table=Table(settings.table_name),
    max_attempts=settings.max_attempts,
    allow_private_hosts=settings.allow_private_provider_hosts,
)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    attempt = int(record.attributes.approximate_receive_count or 1)
    try:
        job = SyncJob.model_validate_json(record.body)
        outcome = provider_sync.sync(job, attempt=attempt)
    except Exception as error:
        logger.warning(
            "provider sync failed",
            extra={"sqs_message_id": record.message_id, "attempt": attempt, "reason": str(error)},
        )
        raise
    logger.info("provider sync done", extra={"customer_id": job.customer_id, "outcome": outcome})
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
