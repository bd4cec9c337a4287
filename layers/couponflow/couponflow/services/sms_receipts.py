"""Applying SNS's SMS delivery receipts to text messages: ``sent`` -> ``delivered`` or ``failed``.

Each receipt names SNS's message id; the fan-out indexed the text's message under it (gsi4
``SMSMESSAGE#<sns id>``). The receipt goes into the message's timeline (keyed on its content, so
a redelivered one is stored once) and raises the status by the one precedence of
``domain/message_status.py``: a failure after a delivery wins, a late success never overwrites
a failure, duplicates change nothing. The carrier's answer is kept verbatim in
``status_details.provider_response``. Receipts for texts we did not send (other senders in the
account share the log group) are kept as orphans and logged, not errors.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from couponflow.adapters.dynamodb import Table
from couponflow.sms_delivery_logs import SmsReceipt
from couponflow.store import keys, messages

logger = logging.getLogger(__name__)

_CACHE_SECONDS = 300.0


@dataclass
class SmsReceipts:
    table: Table
    events_table: Table
    retention_days: int = 180  # when the merchant has no retention setting of their own
    _retention: dict[str, tuple[int, float]] = field(default_factory=dict, repr=False, compare=False)

    def _retention_days(self, merchant_id: str) -> int:
        cached = self._retention.get(merchant_id)
        if cached and time.monotonic() - cached[1] < _CACHE_SECONDS:
            return cached[0]
        profile = self.table.get(keys.merchant(merchant_id), consistent=False) or {}
        days = int(profile.get("message_event_retention_days") or self.retention_days)
        self._retention[merchant_id] = (days, time.monotonic())
        return days

    def apply(self, receipt: SmsReceipt, now: datetime | None = None) -> str:
        """``moved``, ``unchanged`` (a duplicate or outranked receipt) or ``orphan``."""
        now = now or datetime.now(UTC)
        occurred = receipt.occurred_at.astimezone(UTC).isoformat()
        record: dict[str, Any] = {
            "type": "message_event",
            "event_type": "SmsDelivery" if receipt.status == "delivered" else "SmsFailure",
            "event_key": receipt.event_key,
            "sns_message_id": receipt.sns_message_id,
            "recipient": receipt.phone,
            "status": str(receipt.status),
            "details": dict(receipt.details),
            "occurred_at": occurred,
            "received_at": now.isoformat(),
        }
        item = messages.find_by_sns_id(self.table, receipt.sns_message_id)
        if item is None:
            logger.info("orphan SMS receipt", extra={"sns_message_id": receipt.sns_message_id})
            record["expires_at"] = int((now + timedelta(days=self.retention_days)).timestamp())
            messages.put_event(
                self.events_table,
                {**keys.orphan_event(receipt.sns_message_id, occurred, receipt.event_key), **record},
            )
            return "orphan"
        merchant_id, customer_id, message_id = item["merchant_id"], item["customer_id"], item["message_id"]
        record["expires_at"] = int((now + timedelta(days=self._retention_days(merchant_id))).timestamp())
        messages.put_event(
            self.events_table,
            {
                **keys.message_event(merchant_id, message_id, occurred, receipt.event_key),
                **record,
                "merchant_id": merchant_id,
                "customer_id": customer_id,
                "message_id": message_id,
            },
        )
        moved = messages.raise_status(
            self.table,
            keys.message(merchant_id, customer_id, message_id),
            receipt.status,
            at=occurred,
            details=receipt.details,
        )
        return "moved" if moved else "unchanged"
