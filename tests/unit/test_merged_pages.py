"""A listing merged over the shards of a sharded index: every entry once, in one order, page by
page through the cursor, a query per live shard a round."""

from __future__ import annotations

from typing import Any

import pytest
from couponflow.errors import InvalidInputError
from couponflow.store import pages
from hypothesis import given, settings
from hypothesis import strategies as st

SHARDS = 4


def _shards(keys: list[str]) -> list[list[dict[str, Any]]]:
    found: list[list[dict[str, Any]]] = [[] for _ in range(SHARDS)]
    for key in keys:
        found[hash(key) % SHARDS].append({"sk": key})
    return found


def _query(shards: list[list[dict[str, Any]]], descending: bool, asked: list[int]) -> pages.ShardQuery:
    def query(_phase: int, shard: int, after: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        asked.append(shard)
        ordered = sorted(shards[shard], key=lambda e: e["sk"], reverse=descending)
        if after is not None:
            ordered = [e for e in ordered if (e["sk"] < after if descending else e["sk"] > after)]
        return ordered[:limit], len(ordered) > limit

    return query


@settings(max_examples=60, deadline=None)
@given(
    keys=st.sets(st.from_regex(r"[a-z0-9]{1,6}#cus_[a-z]{3}", fullmatch=True), max_size=60),
    limit=st.integers(1, 9),
    descending=st.booleans(),
)
def test_pages_through_the_cursor_give_every_entry_once_in_order(
    keys: set[str], limit: int, descending: bool
) -> None:
    shards, asked = _shards(sorted(keys)), []
    query = _query(shards, descending, asked)
    seen: list[str] = []
    text: str | None = None
    for _ in range(len(keys) + 2):
        cursor = pages.decode_merge(text, shards=SHARDS)
        asked.clear()
        found, following = pages.collect_merged(
            query,
            shards=SHARDS,
            cursor=cursor,
            limit=limit,
            sort_key=lambda e: e["sk"],
            descending=descending,
        )
        assert len(found) <= limit and len(asked) <= SHARDS  # one query per live shard
        seen += [e["sk"] for e in found]
        text = pages.encode_merge(following)
        if text is None:
            break
    assert seen == sorted(keys, reverse=descending)


def test_a_forged_merged_cursor_is_a_400_naming_next() -> None:
    for forged in (
        "bm9wZQ",
        pages.encode_merge(pages.Merge(0, ("x",) * SHARDS)),
        pages.encode_merge(pages.Merge(3, (None,) * SHARDS)),
    ):
        with pytest.raises(InvalidInputError) as refused:
            pages.decode_merge(forged, shards=SHARDS)
        assert refused.value.field == "next"
