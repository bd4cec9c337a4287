"""Business metrics: what the operations dashboard and the reputation alarm read.

Each metric is written as one CloudWatch embedded-metric-format (EMF) line on stdout through
Powertools' ``single_metric``: CloudWatch Logs turns the line into a metric, so publishing costs
no API call, no IAM permission and no latency, and works the same on the local stack (where the
line is just a log line). One line per fact keeps the dimension with its value (a batch
``Metrics`` object shares one set of dimensions across everything it holds).

The namespace is ``POWERTOOLS_METRICS_NAMESPACE`` (the template sets ``Couponflow/<stack>``, so
two stacks in one account never mix), ``Couponflow`` where it is unset (tests, scripts).
``POWERTOOLS_METRICS_DISABLED=true`` silences them (checked here: Powertools' ``single_metric``
prints whatever that variable says, unlike its ``Metrics`` class).

| metric | unit | dimensions | written when |
|---|---|---|---|
| ``Claims`` | Count | ``outcome``: claimed, repeat, or the out-of-coupons reason | a claim is answered |
| ``Messages`` | Count | ``channel`` (email, sms), ``status`` | a message moves (any cause) |
| ``Sends`` | Count | ``status``: sending, done, failed, canceled | a segment send changes status |
| ``CodesLeft`` | Count | ``campaign`` | housekeeping counts a watched pool (each sweep) |
| ``BounceRate``, ``ComplaintRate`` | Percent | ``campaign`` | a bounce or complaint is applied |
| ``ReputationPauses`` | Count | none | the guard pauses a campaign (alarmed) |
"""

from __future__ import annotations

import logging
import os

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

logger = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "Couponflow"


def _namespace() -> str:
    return os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE


def _put(name: str, value: float, unit: MetricUnit, **dimensions: str) -> None:
    """Write one metric; a metric that cannot be written is logged, never fails the work."""
    if is_metrics_disabled():
        return
    try:
        with single_metric(name=name, unit=unit, value=value, namespace=_namespace()) as metric:
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=dimension or "none")
    except Exception:
        logger.warning("metric not written", extra={"metric": name}, exc_info=True)


def claim_answered(outcome: str) -> None:
    _put("Claims", 1, MetricUnit.Count, outcome=outcome)


def message_moved(channel: str, status: str, count: int = 1) -> None:
    _put("Messages", count, MetricUnit.Count, channel=channel, status=status)


def send_moved(status: str) -> None:
    _put("Sends", 1, MetricUnit.Count, status=status)


def codes_left(campaign_id: str, available: int) -> None:
    _put("CodesLeft", available, MetricUnit.Count, campaign=campaign_id)


def reputation_rates(campaign_id: str, bounce_rate: float, complaint_rate: float) -> None:
    _put("BounceRate", round(bounce_rate * 100, 4), MetricUnit.Percent, campaign=campaign_id)
    _put("ComplaintRate", round(complaint_rate * 100, 4), MetricUnit.Percent, campaign=campaign_id)


def reputation_paused() -> None:
    _put("ReputationPauses", 1, MetricUnit.Count)
