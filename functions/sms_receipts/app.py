"""SNS SMS delivery status logs (a CloudWatch Logs subscription) -> text message statuses."""

from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.logs import structured_logger
from couponflow.services.sms_receipts import SmsReceipts
from couponflow.settings.sms_receipts import SmsReceiptsSettings
from couponflow.sms_delivery_logs import BadDeliveryLog, decode_awslogs, parse_record
from couponflow.tracing import function_tracer

settings = SmsReceiptsSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
receipts = SmsReceipts(
    Table(settings.table_name),
    Table(settings.events_table_name),
    retention_days=settings.message_event_retention_days,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    """Apply every receipt of the batch; a line that is no receipt is logged and, after the good
    ones were applied, fails the invocation (retried, then the on-failure dead-letter queue)."""
    payload = decode_awslogs(event)
    if payload.get("messageType") == "CONTROL_MESSAGE":  # CloudWatch Logs' reachability check
        return {}
    tally: dict[str, int] = {}
    bad: list[str] = []
    for log_event in payload.get("logEvents") or []:
        try:
            receipt = parse_record(str(log_event.get("message", "")))
        except BadDeliveryLog as error:
            logger.error(
                "bad SMS delivery log line", extra={"log_event_id": log_event.get("id"), "reason": str(error)}
            )
            bad.append(str(error))
            continue
        result = receipts.apply(receipt)
        tally[result] = tally.get(result, 0) + 1
    logger.info("SMS receipts applied", extra={"log_group": payload.get("logGroup"), "results": tally})
    if bad:
        raise BadDeliveryLog(f"{len(bad)} log line(s) were not SMS delivery records: {bad[0]}")
    return tally


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
