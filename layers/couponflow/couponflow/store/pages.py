"""Cursor paging over one or more partitions, a few DynamoDB requests per page.

A list view reads its partitions (one, or the shards of a sharded listing) in a fixed order, each
in key order, so the order is stable. The cursor says where the next page starts: the partition
and DynamoDB's ``LastEvaluatedKey`` there, as opaque URL-safe text. A filter that no key serves
(e.g. a status computed from two items) is applied to what was read; a page then stops after
``MAX_REQUESTS`` queries (or one per shard of a sharded listing, so a page can always pass
over every empty shard) even if it holds fewer than ``limit`` items, and its cursor goes on
from there: a page's cost is bounded (a client pages until ``next`` is absent).
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from couponflow.adapters.dynamodb import Item
from couponflow.errors import InvalidInputError

MAX_REQUESTS = 6

# fetch(partition, start_key, limit) -> (items, last_evaluated_key)
Fetch = Callable[[int, Item | None, int], tuple[list[Item], Item | None]]


@dataclass(frozen=True)
class Cursor:
    partition: int = 0
    key: Item | None = None


def encode(cursor: Cursor | None) -> str | None:
    if cursor is None:
        return None
    raw = json.dumps({"p": cursor.partition, "k": cursor.key}, separators=(",", ":"), sort_keys=True)
    return _to_text(raw.encode())


def _to_text(raw: bytes) -> str:
    """A cursor's bytes as URL-safe text (no padding: it is put in a query string)."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _from_text(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode(text: str | None, partitions: int = 1) -> Cursor:
    """The cursor a client sent back (``next``), or the start; a forged one is a 400 naming it."""
    if not text:
        return Cursor()
    try:
        raw = json.loads(_from_text(text))
        partition, key = raw["p"], raw["k"]
        valid = isinstance(partition, int) and 0 <= partition < partitions
        valid = valid and (
            key is None or (isinstance(key, dict) and all(isinstance(v, str) for v in key.values()))
        )
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        valid = False
    if not valid:
        raise InvalidInputError("next is not a cursor this list gave out", "next")
    return Cursor(partition, key)


def collect(
    fetch: Fetch,
    *,
    partitions: int,
    cursor: Cursor,
    limit: int,
    keep: Callable[[Item], bool] | None = None,
) -> tuple[list[Item], Cursor | None]:
    """Up to ``limit`` items (those ``keep`` accepts) from ``cursor`` on, and the next cursor."""
    found: list[Item] = []
    partition, key = cursor.partition, cursor.key
    for _ in range(max(MAX_REQUESTS, partitions)):  # a sharded listing's empty shards cost one each
        items, last = fetch(partition, key, limit - len(found))
        found.extend(i for i in items if keep is None or keep(i))
        if last is None:
            partition, key = partition + 1, None
            if partition >= partitions:
                return found, None
        else:
            key = last
        if len(found) >= limit:
            break
    return found, Cursor(partition, key)


def collect_rows(
    fetch: Fetch,
    rows: Callable[[list[Item]], list[Item]],
    *,
    partitions: int,
    cursor: Cursor,
    limit: int,
    keep: Callable[[Item], bool] | None = None,
    key_names: tuple[str, ...] = ("pk", "sk"),
) -> tuple[list[Item], Cursor | None]:
    """``collect`` for rows built from what was read and other items read in a batch (``rows``:
    one row per item, in order). Unfiltered, the page's items are read first and their rows built
    in one batch. Filtered on a row's value, each read asks for a whole page and its rows are
    built at once, so the filter sees them; a page that fills part way through a read ends at its
    last row's item, whose ``key_names`` (the query's start key) the cursor goes on from."""
    if keep is None:
        found, following = collect(fetch, partitions=partitions, cursor=cursor, limit=limit)
        return rows(found), following
    kept: list[Item] = []
    partition, key = cursor.partition, cursor.key
    for _ in range(max(MAX_REQUESTS, partitions)):  # a sharded listing's empty shards cost one each
        items, last = fetch(partition, key, limit)
        for item, row in zip(items, rows(items), strict=True):
            if keep(row):
                kept.append(row)
                if len(kept) == limit:
                    return kept, Cursor(partition, {name: item[name] for name in key_names})
        if last is None:
            partition, key = partition + 1, None
            if partition >= partitions:
                return kept, None
        else:
            key = last
    return kept, Cursor(partition, key)


def query_pages(
    table: Any,
    condition: str,
    values: Callable[[int], dict[str, Any]],
    *,
    index: str | None = None,
    **options: Any,
) -> Fetch:
    """A ``Fetch`` over ``table.query_page`` with the key condition's values (``:pk`` the partition
    key's) for each partition. A start key from a cursor must be one this query could have
    given (the table's and the index's key names, the same partition), or it is a 400."""
    partition_name = f"{index}pk" if index else "pk"
    names = {"pk", "sk"} | ({f"{index}pk", f"{index}sk"} if index else set())

    def fetch(partition: int, start: Item | None, limit: int) -> tuple[list[Item], Item | None]:
        given = values(partition)
        if start is not None and (set(start) != names or start.get(partition_name) != given[":pk"]):
            raise InvalidInputError("next is not a cursor this list gave out", "next")
        page: tuple[list[Item], Item | None] = table.query_page(
            condition, given, limit=limit, start_key=start, index=index, **options
        )
        return page

    return fetch


# --------------------------------------------------------------------------------------------
# Merged listings: one order over the shards of a sharded index
# --------------------------------------------------------------------------------------------

DONE = 0  # a shard read to its end (in a merged cursor)

# query(phase, shard, after, limit) -> (entries in the listing's order, whether the shard has more);
# ``after`` is the sort key read up to on that shard (None: from its start)
ShardQuery = Callable[[int, int, str | None, int], tuple[list[Item], bool]]


@dataclass(frozen=True)
class Merge:
    """Where a merged listing goes on: its phase (a listing may have several, one after the
    other) and, per shard, the sort key read up to (None: not begun; ``DONE``: read to its end).
    Sort keys alone, not DynamoDB's start keys: the caller rebuilds a start key from one, so the
    cursor of 16 shards stays short."""

    phase: int = 0
    after: tuple[str | int | None, ...] = ()


def encode_merge(cursor: Merge | None) -> str | None:
    if cursor is None:
        return None
    raw = json.dumps({"m": cursor.phase, "a": list(cursor.after)}, separators=(",", ":"))
    return _to_text(zlib.compress(raw.encode(), 9))


def decode_merge(text: str | None, *, shards: int, phases: int = 1) -> Merge:
    """The cursor a client sent back, or the start; a forged one is a 400 naming ``next``."""
    if not text:
        return Merge(0, (None,) * shards)
    try:
        raw = json.loads(zlib.decompress(_from_text(text)))
        phase, after = raw["m"], raw["a"]
        valid = isinstance(phase, int) and 0 <= phase < phases and isinstance(after, list)
        valid = valid and len(after) == shards
        valid = valid and all(a is None or a == DONE or (isinstance(a, str) and "#" in a) for a in after)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError, zlib.error):
        valid = False
    if not valid:
        raise InvalidInputError("next is not a cursor this list gave out", "next")
    return Merge(phase, tuple(after))


def collect_merged(
    query: ShardQuery,
    *,
    shards: int,
    cursor: Merge,
    limit: int,
    sort_key: Callable[[Item], str],
    descending: bool,
    phases: int = 1,
) -> tuple[list[Item], Merge | None]:
    """Up to ``limit`` entries in one order across ``shards`` shards, and the next cursor.

    Each round asks every shard not yet read to its end for ``limit`` entries from where it
    stopped (one Query each, in parallel), and takes the first ``limit`` of them all in order;
    each shard goes on after the last of its entries taken. A page is one round (two when a
    phase ends inside it): ``shards`` requests, whatever the listing's size.
    """
    found: list[Item] = []
    phase, after = cursor.phase, list(cursor.after)
    for _ in range(2):
        want = limit - len(found)
        live = [s for s in range(shards) if after[s] != DONE]
        with ThreadPoolExecutor(max(1, len(live))) as pool:
            asked = {s: pool.submit(query, phase, s, _text(after[s]), want) for s in live}
            answers = {s: future.result() for s, future in asked.items()}
        ranked = sorted(
            ((sort_key(entry), shard, entry) for shard, (entries, _) in answers.items() for entry in entries),
            key=lambda ranked_entry: ranked_entry[0],
            reverse=descending,
        )[:want]
        taken: dict[int, int] = {}
        for key, shard, entry in ranked:
            after[shard] = key
            taken[shard] = taken.get(shard, 0) + 1
            found.append(entry)
        for shard, (entries, more) in answers.items():
            if not more and taken.get(shard, 0) == len(entries):
                after[shard] = DONE
        if any(a != DONE for a in after):
            return found, Merge(phase, tuple(after))
        phase, after = phase + 1, [None] * shards
        if phase >= phases:
            return found, None
        if len(found) >= limit:
            break
    return found, Merge(phase, tuple(after))


def _text(position: str | int | None) -> str | None:
    return position if isinstance(position, str) else None
