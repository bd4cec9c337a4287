"""Mail queue consumer: sends each queued coupon email through SES, reporting partial batch failures."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters import secrets
from couponflow.adapters.dynamodb import Table
from couponflow.services.mailer import Mailer, MailJob
from couponflow.settings import MailerSettings

settings = MailerSettings.from_env()
logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)
mailer = Mailer(
    table=Table(settings.table_name),
    sender=settings.sender_address,
    configuration_set=settings.configuration_set_name,
    public_base_url=str(settings.public_base_url),
    link_secret=secrets.secret_string(settings.link_secret_arn),  # read once per cold start
)


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    try:
        job = MailJob.model_validate_json(record.body)
        outcome = mailer.deliver(job)
    except Exception as error:
        logger.warning("mail job failed", extra={"sqs_message_id": record.message_id, "reason": str(error)})
        raise
    logger.info("mail job done", extra={"message_id": job.message_id, "outcome": outcome})
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
