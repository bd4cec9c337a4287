"""Import queue consumer: S3 says an uploaded file landed (codes or customers), or a job asks to go
on (a generation, a list export, or any job short of time); run the job, whatever its kind, chunk
by chunk."""

from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.logs import structured_logger
from couponflow.models.code_imports import ImportContinuation, S3Notification
from couponflow.services.code_imports import CodeImports
from couponflow.services.customer_imports import CustomerImports
from couponflow.services.export_jobs import ExportJobs
from couponflow.services.import_jobs import ImportWorker
from couponflow.settings.code_import import CodeImportSettings
from couponflow.store.import_jobs import JobRef
from couponflow.tracing import function_tracer

settings = CodeImportSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
processor = BatchProcessor(event_type=EventType.SQS)
table = Table(settings.table_name)
imports = ImportWorker(
    table,
    settings.bucket,
    settings.queue_url,
    kinds={
        **CodeImports(table, settings.bucket, settings.queue_url).kinds(),
        **CustomerImports(table, settings.bucket).kinds(),
        **ExportJobs(table, settings.bucket, settings.queue_url).kinds(),
    },
    chunk_bytes=settings.chunk_bytes,
)


def _handle(record: SQSRecord, remaining_ms: Any) -> list[str]:
    body = record.json_body
    last = int(record.attributes.approximate_receive_count) >= settings.max_receives
    if "job_id" in body:
        job = ImportContinuation.model_validate(body)
        ref = JobRef(job.merchant_id, job.campaign_id, job.job_id)
        return [imports.run(ref, remaining_ms, last_attempt=last)]
    notification = S3Notification.model_validate(body)
    return [
        imports.on_uploaded(r.s3.object.key, r.s3.object.size, remaining_ms, last_attempt=last)
        for r in notification.Records
        if r.eventName.startswith("ObjectCreated") and r.s3.bucket.name == settings.bucket
    ]  # S3's s3:TestEvent has no records


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    def record_handler(record: SQSRecord) -> list[str]:
        try:
            outcomes = _handle(record, context.get_remaining_time_in_millis)
        except Exception as error:
            logger.warning("import failed", extra={"sqs_message_id": record.message_id, "reason": str(error)})
            raise
        logger.info("import step done", extra={"outcomes": outcomes})
        return outcomes

    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
