"""DynamoDB capacity units as AWS bills them, from the items a request really touched.

The bench meters requests at the local moto; counting units from the request alone undercounts:
a write is billed on the larger of the item's size before and after (1 WRU per KB, twice that
inside a transaction), and every global secondary index the item is in is written as well
(an index projecting ``ALL`` is rewritten by any change to the item; a change of the index key
is a delete plus a put). So for each write the meter reads the item from moto's backend before
and after the request and prices the difference; reads are priced from the items answered
(1 RRU per 4 KB read consistently, half that eventually consistent).

Sizes follow DynamoDB's rules: an attribute is its name's UTF-8 bytes plus its value's (a
string's UTF-8 bytes, a number's about one byte per two digits plus one, 1 for a bool or null,
3 plus one per element and the elements' own sizes for a map or list).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from local_stack import moto_patches
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType

KB = 1024
READ_UNIT_BYTES = 4 * KB
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")


def value_size(value: dict[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind in ("S", "B"):
        return len(str(inner).encode())
    if kind == "N":
        digits = len(str(inner).lstrip("-").replace(".", "").strip("0")) or 1
        return math.ceil(digits / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind in ("SS", "BS"):
        return sum(len(str(v).encode()) for v in inner)
    if kind == "NS":
        return sum(value_size({"N": v}) for v in inner)
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


@dataclass(frozen=True)
class _Index:
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    included: tuple[str, ...]


class UnitPricer:
    """Prices DynamoDB requests against the tables in moto's backend (account and region given)."""

    def __init__(self, region: str, account_id: str = DEFAULT_ACCOUNT_ID) -> None:
        self._backend = dynamodb_backends[account_id][region]

    def _table(self, name: str) -> Any:
        return self._backend.get_table(name)

    def keys_written(self, operation: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any], int]]:
        """(table, key, multiplier) for each item the write request touches (2 inside a transaction)."""
        found: list[tuple[str, dict[str, Any], int]] = []
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            found.append((body["TableName"], self._key(body["TableName"], body), 1))
        elif operation == "TransactWriteItems":
            for action in body.get("TransactItems", []):
                (kind, request), *_ = action.items()
                if kind != "ConditionCheck":
                    found.append((request["TableName"], self._key(request["TableName"], request), 2))
        elif operation == "BatchWriteItem":
            for table, requests in body.get("RequestItems", {}).items():
                for request in requests:
                    inner = next(iter(request.values()))
                    found.append((table, self._key(table, inner), 1))
        return found

    def _key(self, table_name: str, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(table_name)
        source = request.get("Key") or request.get("Item") or {}
        return {name: source[name] for name in table.table_key_attrs if name in source}

    def read(self, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item as moto holds it, read under moto's DynamoDB lock (moto's ``get_item`` even
        adds an empty partition for an unknown key, which would race a request being served)."""
        with moto_patches.DYNAMODB_LOCK:
            table = self._table(table_name)
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            try:
                item = table.get_item(hash_value, range_value)
            except Exception:  # a malformed key: the request failed, nothing was written
                return None
            return item.to_json()["Attributes"] if item is not None else None

    def write_units(
        self, table_name: str, before: dict[str, Any] | None, after: dict[str, Any] | None, multiplier: int
    ) -> tuple[int, int]:
        """(table units, index units) for one item going from ``before`` to ``after``."""
        table_units = multiplier * max(1, math.ceil(max(item_size(before), item_size(after)) / KB))
        index_units = 0
        table_keys = self._table(table_name).table_key_attrs
        for index in self._indexes(table_name):
            old = _projected(index, table_keys, before)
            new = _projected(index, table_keys, after)
            if old is not None and new is not None:
                if any(old.get(k) != new.get(k) for k in index.keys):
                    index_units += _units(old) + _units(new)  # the entry moves: delete and put
                elif old != new:
                    index_units += _units(new)
            elif old is not None:
                index_units += _units(old)
            elif new is not None:
                index_units += _units(new)
        return table_units, index_units

    def _indexes(self, table_name: str) -> Iterable[_Index]:
        for index in getattr(self._table(table_name), "global_indexes", []):
            projection = index.projection or {}
            yield _Index(
                keys=tuple(part["AttributeName"] for part in index.schema),
                projection=projection.get("ProjectionType", "ALL"),
                included=tuple(projection.get("NonKeyAttributes", [])),
            )


def _projected(index: _Index, table_keys: list[str], item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None or any(k not in item for k in index.keys):
        return None  # the item is not in this (sparse) index
    if index.projection == "ALL":
        return item
    kept = set(index.keys) | set(table_keys) | set(index.included if index.projection == "INCLUDE" else ())
    return {k: v for k, v in item.items() if k in kept}


def _units(item: dict[str, Any]) -> int:
    return max(1, math.ceil(item_size(item) / KB))


def read_units(operation: str, request: dict[str, Any], answer: dict[str, Any]) -> float:
    """Read units of a read request, from the items it answered."""
    consistent = bool(request.get("ConsistentRead"))
    factor = 1.0 if consistent else 0.5
    if operation == "GetItem":
        return factor * max(1, math.ceil(item_size(answer.get("Item")) / READ_UNIT_BYTES))
    if operation == "Query":
        total = sum(item_size(i) for i in answer.get("Items", []))
        return factor * max(1, math.ceil(total / READ_UNIT_BYTES))
    if operation == "BatchGetItem":
        units = 0.0
        for table, items in answer.get("Responses", {}).items():
            table_consistent = bool(request.get("RequestItems", {}).get(table, {}).get("ConsistentRead"))
            each = 1.0 if table_consistent else 0.5
            units += sum(each * max(1, math.ceil(item_size(i) / READ_UNIT_BYTES)) for i in items)
        return units
    return 0.0
