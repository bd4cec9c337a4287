"""The one module that talks to DynamoDB.

It creates the client lazily (never at import), converts between Python values and DynamoDB's
typed JSON, and turns ``ClientError`` codes into domain errors:

- ``ConditionalCheckFailedException`` -> :class:`ConditionFailed` (an invariant held: already
  claimed, sold out, duplicate event...)
- ``TransactionCanceledException`` -> :class:`TransactionCanceled` with one reason per item, or
  :class:`~couponflow.errors.RetryableError` when the cancellation was a conflict or throttling
- throttling and internal errors -> :class:`~couponflow.errors.RetryableError`
- no answer (read timeout, connection reset) -> :class:`~couponflow.errors.OutcomeUnknown`: the
  write may have happened; every write here is conditional or idempotent, so its retry is safe
- batch reads and writes resend unprocessed items with jittered backoff, a bounded number of
  times (``couponflow.retry``), then raise :class:`~couponflow.errors.RetryableError`
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any, cast

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from couponflow import retry
from couponflow.errors import ConflictError, OutcomeUnknown, RetryableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

Item = dict[str, Any]

_RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "TransactionConflictException",
    }
)
_RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ConditionFailed(ConflictError):
    """A conditional write found the item not in the state it required."""

    def __init__(self, message: str, item: Item | None = None) -> None:
        super().__init__(message)
        self.item = item


class TransactionCanceled(ConflictError):
    """A transaction was canceled by a failed condition; ``reasons[i]`` belongs to the i-th action."""

    def __init__(self, reasons: list[str], items: list[Item | None]) -> None:
        super().__init__(f"transaction canceled: {reasons}")
        self.reasons = reasons
        self.items = items

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"


@cache
def client() -> DynamoDBClient:
    """The shared client, created on first use with adaptive retries for throttling."""
    return boto3.client("dynamodb", config=Config(retries={"max_attempts": 8, "mode": "adaptive"}))


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def deserialize(raw: Mapping[str, Any]) -> Item:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in raw.items()}


def _values(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return serialize(values) if values else None


# Rounds of a batch read or write that resend what DynamoDB left unprocessed, before giving up.
BATCH_ROUNDS = 8


def _translate(error: ClientError | BotoCoreError) -> Exception:
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return RetryableError(f"DynamoDB unreachable: {error}")  # the request never left
    if isinstance(error, BotoCoreError):
        return OutcomeUnknown(f"DynamoDB did not answer: {error}")
    code = error.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        raw: Any = error.response.get("Item")
        return ConditionFailed(str(error), deserialize(raw) if raw else None)
    if code == "TransactionCanceledException":
        cancellations = error.response.get("CancellationReasons", [])
        reasons = [c.get("Code", "None") for c in cancellations]
        if any(r in _RETRYABLE_REASONS for r in reasons):
            return RetryableError(f"transaction conflict: {reasons}")
        items = [deserialize(c["Item"]) if c.get("Item") else None for c in cancellations]
        return TransactionCanceled(reasons, items)
    if code in _RETRYABLE_CODES:
        return RetryableError(f"DynamoDB {code}: {error}")
    return error


@dataclass(frozen=True)
class Put:
    item: Item
    condition: str | None = None
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Update:
    key: Item
    expression: str
    condition: str | None = None
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Delete:
    key: Item
    condition: str | None = None
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Check:
    key: Item
    condition: str
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None


TransactAction = Put | Update | Delete | Check


@dataclass
class Table:
    """One DynamoDB table, addressed by name, with the few operations the store needs."""

    name: str

    def _common(
        self, condition: str | None, names: Mapping[str, str] | None, values: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if values:
            kwargs["ExpressionAttributeValues"] = _values(values)
        return kwargs

    def get(self, key: Item, *, consistent: bool = True) -> Item | None:
        try:
            response = client().get_item(TableName=self.name, Key=serialize(key), ConsistentRead=consistent)
        except (ClientError, BotoCoreError) as error:
            raise _translate(error) from error
        raw = response.get("Item")
        return deserialize(raw) if raw else None

    def put(
        self,
        item: Item,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Item | None:
        """Put one item; returns the item it replaced (None when there was none)."""
        try:
            response = client().put_item(
                TableName=self.name,
                Item=serialize(item),
                ReturnValues="ALL_OLD",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **self._common(condition, names, values),
            )
        except (ClientError, BotoCoreError) as error:
            raise _translate(error) from error
        raw = response.get("Attributes")
        return deserialize(raw) if raw else None

    def update(
        self,
        key: Item,
        expression: str,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
        return_new: bool = False,
    ) -> Item | None:
        try:
            response = client().update_item(
                TableName=self.name,
                Key=serialize(key),
                UpdateExpression=expression,
                ReturnValues="ALL_NEW" if return_new else "NONE",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **self._common(condition, names, values),
            )
        except (ClientError, BotoCoreError) as error:
            raise _translate(error) from error
        raw = response.get("Attributes")
        return deserialize(raw) if raw else None

    def query(
        self,
        key_condition: str,
        values: Mapping[str, Any],
        *,
        names: Mapping[str, str] | None = None,
        index: str | None = None,
        limit: int | None = None,
        forward: bool = True,
        consistent: bool = False,
        filter_expression: str | None = None,
    ) -> list[Item]:
        """All matching items (following pages) up to ``limit``."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": _values(values),
            "ScanIndexForward": forward,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if index:
            kwargs["IndexName"] = index
        elif consistent:
            kwargs["ConsistentRead"] = True
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if limit:
            kwargs["Limit"] = limit
        items: list[Item] = []
        while True:
            try:
                response = client().query(**kwargs)
            except (ClientError, BotoCoreError) as error:
                raise _translate(error) from error
            items.extend(deserialize(raw) for raw in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or (limit and len(items) >= limit):
                return items[:limit] if limit else items
            kwargs["ExclusiveStartKey"] = last

    def count(
        self,
        key_condition: str,
        values: Mapping[str, Any],
        *,
        consistent: bool = False,
        limit: int | None = None,
    ) -> int:
        """How many items match (``Select=COUNT``, following pages): no item is sent back.

        With ``limit``, counting stops there (the answer is ``min(matches, limit)``).
        """
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": _values(values),
            "Select": "COUNT",
            "ConsistentRead": consistent,
        }
        total = 0
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - total
            try:
                response = client().query(**kwargs)
            except (ClientError, BotoCoreError) as error:
                raise _translate(error) from error
            total += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last or (limit is not None and total >= limit):
                return total
            kwargs["ExclusiveStartKey"] = last

    def transact(self, actions: Sequence[TransactAction], *, token: str | None = None) -> None:
        """All-or-nothing write of up to 100 actions on this table."""
        request: list[TransactWriteItemTypeDef] = [self._transact_item(a) for a in actions]
        kwargs: dict[str, Any] = {"TransactItems": request}
        if token:
            kwargs["ClientRequestToken"] = token
        try:
            client().transact_write_items(**kwargs)
        except (ClientError, BotoCoreError) as error:
            raise _translate(error) from error

    def _transact_item(self, action: TransactAction) -> TransactWriteItemTypeDef:
        common = self._common(action.condition, action.names, action.values)
        common["TableName"] = self.name
        request: dict[str, Any]
        if isinstance(action, Put):
            common["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            request = {"Put": {"Item": serialize(action.item), **common}}
        elif isinstance(action, Update):
            common["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            request = {
                "Update": {"Key": serialize(action.key), "UpdateExpression": action.expression, **common}
            }
        elif isinstance(action, Delete):
            request = {"Delete": {"Key": serialize(action.key), **common}}
        else:
            request = {"ConditionCheck": {"Key": serialize(action.key), **common}}
        return cast("TransactWriteItemTypeDef", request)

    def batch_get(self, keys: Sequence[Item], *, consistent: bool = False) -> list[Item]:
        """The items that exist among ``keys`` (chunks of 100, unprocessed keys asked again)."""
        found: list[Item] = []
        for start in range(0, len(keys), 100):
            pending: list[Any] = [serialize(k) for k in keys[start : start + 100]]
            for attempt in range(BATCH_ROUNDS + 1):
                if not pending:
                    break
                if attempt:
                    retry.pause(attempt)
                request: Any = {self.name: {"Keys": pending, "ConsistentRead": consistent}}
                try:
                    response: Any = client().batch_get_item(RequestItems=request)
                except (ClientError, BotoCoreError) as error:
                    raise _translate(error) from error
                found.extend(deserialize(raw) for raw in response.get("Responses", {}).get(self.name, []))
                pending = list(response.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", []))
            if pending:
                raise RetryableError(f"DynamoDB left {len(pending)} keys unread after {BATCH_ROUNDS} retries")
        return found

    def delete(
        self,
        key: Item,
        *,
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> Item | None:
        """Delete one item; returns what it held (None when there was nothing)."""
        try:
            response = client().delete_item(
                TableName=self.name,
                Key=serialize(key),
                ReturnValues="ALL_OLD",
                **self._common(condition, names, values),
            )
        except (ClientError, BotoCoreError) as error:
            raise _translate(error) from error
        raw = response.get("Attributes")
        return deserialize(raw) if raw else None

    def query_page(
        self,
        key_condition: str,
        values: Mapping[str, Any],
        *,
        limit: int,
        start_key: Item | None = None,
        forward: bool = True,
        index: str | None = None,
    ) -> tuple[list[Item], Item | None]:
        """One page of a Query on the table (or ``index``): the items and the key to continue from
        (None at the end)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": _values(values),
            "ScanIndexForward": forward,
            "Limit": limit,
        }
        if index:
            kwargs["IndexName"] = index
        if start_key:
            kwargs["ExclusiveStartKey"] = serialize(start_key)
        try:
            response = client().query(**kwargs)
        except (ClientError, BotoCoreError) as error:
            raise _translate(error) from error
        last = response.get("LastEvaluatedKey")
        return [deserialize(raw) for raw in response.get("Items", [])], deserialize(last) if last else None

    def batch_put(self, items: Sequence[Item]) -> None:
        """Unconditional bulk write in chunks of 25, resending unprocessed items."""
        for start in range(0, len(items), 25):
            pending: list[Any] = [{"PutRequest": {"Item": serialize(i)}} for i in items[start : start + 25]]
            for attempt in range(BATCH_ROUNDS + 1):
                if not pending:
                    break
                if attempt:
                    retry.pause(attempt)
                try:
                    response = client().batch_write_item(RequestItems={self.name: pending})
                except (ClientError, BotoCoreError) as error:
                    raise _translate(error) from error
                pending = list(response.get("UnprocessedItems", {}).get(self.name, []))
            if pending:
                raise RetryableError(
                    f"DynamoDB left {len(pending)} items unwritten after {BATCH_ROUNDS} retries"
                )
