"""Patches to moto that the local stack needs to behave (and perform) like the real service.

``Query`` on a table's key reads one partition (moto walks and sorts the whole table).

Answers of DynamoDB's item operations are written with ``json.dumps``: moto's generic response
serializer walks botocore's shape model for every attribute of every item, which took 20 s of
CPU for one Query page of 3,000 customers. Those answers are already DynamoDB JSON.

``TransactWriteItems``: moto deep-copies every table a transaction touches so it can roll back,
which makes each transaction cost time in proportion to the table's size (127 ms per claim on a
table of a few thousand items). DynamoDB's semantics are simpler: every condition is checked,
then either all writes apply or none do. Because the local stack serialises DynamoDB requests
(see ``moto_server.DynamoDBSerializer``), we can do exactly that: evaluate all conditions
first, and only then write, remembering just the touched items to restore should a write fail
validation part-way.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoResult

_applied = False
_original_query = Table.query


def _partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """``Query`` on the table's own key reads only that partition.

    moto's ``Query`` walks (and sorts) every item of the table for each call, so a table of a
    hundred thousand items makes every query slow. DynamoDB reads one partition; so does this.
    Index queries are left to moto.
    """
    # moto passes index_name positionally, as the 8th argument after hash_key.
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name or hash_key is None:
        return _original_query(self, hash_key, *args, **kwargs)
    partition = self.items.get(hash_key)
    if partition is None:
        found: list[Any] = []
    elif self.range_key_attr:
        found = list(partition.values())
    else:
        found = [partition]
    self.all_items = lambda: found  # type: ignore[method-assign]  # requests are serialised (see moto_server)
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


# Operations whose answers hold only items, keys, counts and capacity: plain DynamoDB JSON.
_ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_original_execute_result = DynamoResult.execute_result


def _execute_result(self: DynamoResult, context: Any) -> Any:
    """An item operation's answer is its DynamoDB JSON as it is (moto's serializer is slow)."""
    result = self.result
    if str(context.operation_model.name) not in _ITEM_OPERATIONS or not isinstance(result, dict):
        return _original_execute_result(self, context)
    body = json.dumps({k: v for k, v in result.items() if v is not None})
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, body


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = []
    errors: list[Any] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        key = _key_of(self, op_type, op)
        marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = self.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        if condition is not None and not get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        ).expr(current):
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            errors.append(("ConditionalCheckFailed", str(ConditionalCheckFailed(item=old).message), old))
            continue
        errors.append((None, None, None))
        plan.append((op_type, op, key, copy.deepcopy(current)))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    done: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for op_type, op, key, before in plan:
            names, values = (
                op.get("ExpressionAttributeNames") or {},
                op.get("ExpressionAttributeValues") or {},
            )
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key)
            elif op_type == "Update":
                self.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            done.append((op["TableName"], key, before))
    except Exception:
        for table_name, key, before in reversed(done):
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        raise


def apply() -> None:
    """Install the patches (idempotent); call before moto serves any request."""
    global _applied  # noqa: PLW0603
    if _applied:
        return
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    Table.query = _partition_query  # type: ignore[method-assign]
    DynamoResult.execute_result = _execute_result  # type: ignore[method-assign,assignment]
    _applied = True
