"""Fan-out queue consumer: assigns codes and sends one chunk of a send's recipients."""

from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.logs import structured_logger
from couponflow.services.send_delivery import FanoutChunk, SendFanout
from couponflow.settings.send_fanout import SendFanoutSettings
from couponflow.tracing import function_tracer

settings = SendFanoutSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
processor = BatchProcessor(event_type=EventType.SQS)
fanout = SendFanout(Table(settings.table_name), settings.mail_queue_url, str(settings.public_base_url))


@tracer.capture_method
def record_handler(record: SQSRecord) -> dict[str, int]:
    try:
        chunk = FanoutChunk.model_validate_json(record.body)
        outcome = fanout.process_resuming(chunk)
    except Exception as error:
        logger.warning(
            "fan-out chunk failed", extra={"sqs_message_id": record.message_id, "reason": str(error)}
        )
        raise
    logger.info(
        "fan-out chunk done", extra={"send_id": chunk.send_id, "chunk": chunk.chunk, "outcome": outcome}
    )
    return outcome


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
