"""Send starter: invoked by a send's one-time EventBridge Scheduler schedule at the send's time."""

from typing import Any

import couponflow.cold_start  # first: the collector pauses while the modules below load
from aws_lambda_powertools.utilities.typing import LambdaContext
from couponflow.adapters.dynamodb import Table
from couponflow.logs import structured_logger
from couponflow.services.send_delivery import SendStarter, StartSend
from couponflow.settings.send_starter import SendStarterSettings
from couponflow.tracing import function_tracer

settings = SendStarterSettings.from_env()
logger = structured_logger()
tracer = function_tracer()
starter = SendStarter(
    Table(settings.table_name),
    settings.fanout_queue_url,
    settings.sender_address,
    allow_private_hosts=settings.allow_private_provider_hosts,
)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    job = StartSend.model_validate(event)
    outcome = starter.start(job.merchant_id, job.send_id)
    logger.info("send start", extra={"send_id": job.send_id, "outcome": outcome})
    return {"send_id": job.send_id, "outcome": outcome}


couponflow.cold_start.finished()  # what the cold start built stays out of the collector's passes
