"""Receipts of claims sent with an ``Idempotency-Key``: the answer each got, kept 24 hours.

A receipt is written in the claim's own transaction, only if absent (``Receipt.put``), so a claim
with the header costs the requests of one without it. A retry with the same key fails that
transaction on the receipt and is answered from it (``ReceiptFound``); a claim that wrote
nothing (the customer held the code already) writes its receipt on its own (``keep``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from couponflow.adapters.dynamodb import ConditionFailed, Item, Put, Table
from couponflow.errors import CouponflowError
from couponflow.store import keys

KEEP_SECONDS = 24 * 3600


def fingerprint(body: dict[str, Any]) -> str:
    """The request body's hash: the same key with another body is refused."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Receipt:
    """What a receipt is for: the request (merchant, campaign, key, body) and when it was made."""

    merchant_id: str
    campaign_id: str
    key: str
    body_hash: str
    now_epoch: int

    def put(self, status_code: int, answer: dict[str, Any]) -> Put:
        """The receipt of ``answer`` (a transaction action, only if no receipt has the key)."""
        item = {
            **keys.claim_receipt(self.merchant_id, self.campaign_id, self.key),
            "type": "claim_receipt",
            "merchant_id": self.merchant_id,
            "body_hash": self.body_hash,
            "status_code": status_code,
            "answer": answer,
            "expires_at": self.now_epoch + KEEP_SECONDS,
        }
        return Put(item, condition="attribute_not_exists(pk)")


class ReceiptFound(CouponflowError):
    """A claim with this key was answered before: ``receipt`` is the stored receipt, ``claim``
    the customer's claim as the failed transaction read it (when it was read)."""

    def __init__(self, receipt: Item, claim: Item | None = None, record: Any = None) -> None:
        super().__init__("a claim with this Idempotency-Key was answered before")
        self.receipt = receipt
        self.claim = claim
        self.record = record  # the customer's claim as this request found it, when known


def keep(table: Table, put: Put) -> None:
    """Write a receipt outside a transaction; ``ReceiptFound`` if one has the key already."""
    try:
        table.put(put.item, condition=put.condition)
    except ConditionFailed as failed:
        raise ReceiptFound(
            failed.item or table.get({"pk": put.item["pk"], "sk": put.item["sk"]}) or {}
        ) from failed
