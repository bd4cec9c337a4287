"""SES-events queue consumer: SES notifications (SNS envelope or raw) become message statuses."""

from datetime import timedelta
from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.domain.reputation import SoftBounceRule, Thresholds
from couponflow.logs import structured_logger
from couponflow.services.reputation import ReputationGuard
from couponflow.services.ses_events import SesEventApplier
from couponflow.ses_notifications import SesNotificationError
from couponflow.settings.ses_events import SesEventsSettings
from couponflow.tracing import function_tracer

settings = SesEventsSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
processor = BatchProcessor(event_type=EventType.SQS)
table = Table(settings.table_name)
applier = SesEventApplier(
    table=table,
    events_table=Table(settings.events_table_name),
    retention_days=settings.message_event_retention_days,
    guard=ReputationGuard(
        table,
        Thresholds(
            bounce_rate=settings.bounce_rate_threshold,
            complaint_rate=settings.complaint_rate_threshold,
            min_messages=settings.reputation_min_messages,
        ),
        sender=settings.sender_address,
        configuration_set=settings.configuration_set_name,
        allow_private_hosts=settings.allow_private_provider_hosts,
    ),
    soft_bounce_rule=SoftBounceRule(
        threshold=settings.soft_bounce_threshold, window=timedelta(days=settings.soft_bounce_window_days)
    ),
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    # The batch is applied as a whole (status moves on the delivery path are written together),
    # then reported record by record, so a bad record fails alone.
    records = event.get("Records", [])
    outcomes = dict(
        zip(
            (r.get("messageId") for r in records),
            applier.apply_records([str(r.get("body", "")) for r in records]),
            strict=True,
        )
    )

    def record_handler(record: SQSRecord) -> None:
        applied = outcomes[record.message_id]
        if isinstance(applied, SesNotificationError):
            # Unparseable: fail this record only; after the queue's maxReceiveCount it lands in the DLQ.
            logger.error(
                "unparseable SES event record",
                extra={"sqs_message_id": record.message_id, "reason": str(applied)},
            )
            raise applied
        if isinstance(applied, Exception):
            raise applied
        if applied.ignored_reason:
            logger.info(
                "SES record ignored",
                extra={"sqs_message_id": record.message_id, "reason": applied.ignored_reason},
            )
        else:
            logger.info("SES record applied", extra={"sqs_message_id": record.message_id, **applied.__dict__})

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
