"""Mail queue consumer: sends a whole batch of queued coupon emails through SES in bulk calls,
reporting the records to retry (or that could not be read) as partial batch failures."""

import time
from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters import secrets
from couponflow.adapters.dynamodb import Table
from couponflow.logs import structured_logger
from couponflow.services.mailer import Mailer, MailJob
from couponflow.settings.mailer import MailerSettings
from couponflow.tracing import function_tracer
from pydantic import ValidationError

settings = MailerSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
mailer = Mailer(
    table=Table(settings.table_name),
    sender=settings.sender_address,
    configuration_set=settings.configuration_set_name,
    public_base_url=str(settings.public_base_url),
    link_secret=secrets.secret_string(settings.link_secret_arn),  # read once per cold start
    ses_id_lookups=settings.ses_identity_notifications,
)
# Sending stops starting new work once this share of the time left is used, keeping the rest for
# the writes that follow; what it could not send goes back to the queue instead of timing out.
SENDING_SHARE_OF_TIME = 1 / 2


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    records = event.get("Records") or []
    failures: list[dict[str, str]] = []
    jobs: list[MailJob] = []
    ids: list[str] = []
    for record in records:
        try:
            jobs.append(MailJob.model_validate_json(record["body"]))
            ids.append(record["messageId"])
        except ValidationError as error:
            logger.warning(
                "bad mail job", extra={"sqs_message_id": record["messageId"], "reason": str(error)}
            )
            failures.append({"itemIdentifier": record["messageId"]})
    deadline = time.time() + context.get_remaining_time_in_millis() / 1000 * SENDING_SHARE_OF_TIME
    for sqs_id, job, result in zip(ids, jobs, mailer.deliver_batch(jobs, deadline=deadline), strict=True):
        if result.error is not None:
            logger.warning("mail job failed", extra={"sqs_message_id": sqs_id, "reason": str(result.error)})
            failures.append({"itemIdentifier": sqs_id})
        else:
            logger.info("mail job done", extra={"merchant_id": job.merchant_id, "outcomes": result.outcomes})
    return {"batchItemFailures": failures}


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
