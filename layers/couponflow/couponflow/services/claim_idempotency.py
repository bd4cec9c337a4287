"""The claim's optional ``Idempotency-Key`` header, with Powertools idempotency.

A storefront that retries a claim (a timeout, a double click) sends the same key again and gets
the first answer back, from the idempotency table, without running the claim twice. The record
is keyed on merchant + campaign + the header value (a key is only meaningful within one
campaign of one merchant) and stores a hash of the body: the same key with a different body is
refused (422 naming the header), and a duplicate that arrives while the first is still running
is told to retry (409 with Retry-After). Records expire after ``expires_after_seconds``.

The persistence layer is Powertools' DynamoDB one, given the DynamoDB adapter's own client.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, cast

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyItemNotFoundError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from couponflow.adapters import dynamodb
from couponflow.errors import CouponflowError, RetryableError

HEADER = "Idempotency-Key"


class IdempotencyKeyReused(CouponflowError):
    """The key was used before with a different request body."""


class IdempotencyInProgress(CouponflowError):
    """A request with this key is still being handled; ``retry_after`` seconds until it is answered
    or its in-progress mark lapses (a request that failed and could not clear its mark holds it
    until its invocation's time would have run out)."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


Answer = dict[str, Any]  # {"status_code": int, "body": {...}}


@dataclass
class ClaimIdempotency:
    table_name: str
    expires_after_seconds: int = 24 * 3600
    in_progress_ceiling_seconds: int = 30  # the claim function's timeout bounds an in-progress mark
    _config: IdempotencyConfig = field(init=False)

    def __post_init__(self) -> None:
        self._config = IdempotencyConfig(
            event_key_jmespath="[merchant_id, campaign_id, key]",
            payload_validation_jmespath="body",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=self.expires_after_seconds,
        )

    def register_lambda_context(self, context: Any) -> None:
        """Lets an in-progress record expire with the invocation (a crashed claim can be retried)."""
        self._config.register_lambda_context(context)

    @cached_property
    def _persistence(self) -> DynamoDBPersistenceLayer:  # created on first use, never at import
        return DynamoDBPersistenceLayer(table_name=self.table_name, boto3_client=dynamodb.client())

    @cached_property
    def _once(self) -> Callable[..., Answer]:
        def claim_once(request: dict[str, Any], produce: Callable[[], Answer]) -> Answer:
            return produce()

        decorate = idempotent_function(
            data_keyword_argument="request", config=self._config, persistence_store=self._persistence
        )
        return cast("Callable[..., Answer]", decorate(claim_once))

    def once(
        self,
        merchant_id: str,
        campaign_id: str,
        key: str,
        body: dict[str, Any],
        produce: Callable[[], Answer],
    ) -> Answer:
        """``produce()``'s answer, or the answer stored for an earlier request with this key."""
        request = {"merchant_id": merchant_id, "campaign_id": campaign_id, "key": key, "body": body}
        try:
            return self._once(request=request, produce=produce)
        except IdempotencyValidationError as error:
            raise IdempotencyKeyReused(
                f"{HEADER} '{key}' was already used with a different request body"
            ) from error
        except IdempotencyPersistenceLayerError as error:  # the idempotency table failed: 503, retry
            raise RetryableError(f"the {HEADER} record could not be kept: {error}") from error
        except IdempotencyAlreadyInProgressError as error:
            wait = self._in_progress_for(request)
            raise IdempotencyInProgress(
                f"a request with {HEADER} '{key}' is still in progress; retry in {wait} s", wait
            ) from error

    def _in_progress_for(self, request: dict[str, Any]) -> int:
        """Whole seconds until the in-progress mark of ``request`` lapses (at least 1): read from
        the record, only on this rare path. Unreadable: the longest a mark can last."""
        try:
            record = self._persistence.get_record(data=request)
        except IdempotencyItemNotFoundError:
            return 1  # answered or cleared since: retry now
        except Exception:
            return self.in_progress_ceiling_seconds
        expiry = record.in_progress_expiry_timestamp if record is not None else None
        if expiry is None:
            return self.in_progress_ceiling_seconds
        return max(1, math.ceil(float(expiry) / 1000 - time.time()))
