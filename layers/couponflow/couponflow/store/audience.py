"""Customers (as the merchant manages them), segments and static segment members in DynamoDB.

Customer profiles are the items claims create too (``keys.customer``); every write here sets
only the fields given, so a claim's fields (consent, name) survive a merchant's update. Each
profile carries the ``keys.customers_index`` entry, so a merchant's customers are one Query on
gsi2, ordered by last interaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from couponflow.adapters.dynamodb import ConditionFailed, Delete, Item, Table, TransactionCanceled, Update
from couponflow.errors import NotFoundError
from couponflow.store import keys

TRANSACT_MAX = 25


def upsert_customer(
    table: Table, merchant_id: str, customer_id: str, fields: Mapping[str, Any], *, now: str
) -> Item:
    """Create the customer or update the given fields; returns the stored profile."""
    sets = [
        "#type = :type",
        "merchant_id = :m",
        "customer_id = :c",
        "created_at = if_not_exists(created_at, :now)",
        "updated_at = :now",
    ]
    names = {"#type": "type"}
    values: dict[str, Any] = {":type": "customer", ":m": merchant_id, ":c": customer_id, ":now": now}
    for i, (name, value) in enumerate(fields.items()):
        if value is None:
            continue
        names[f"#f{i}"] = name
        values[f":f{i}"] = value
        sets.append(f"#f{i} = :f{i}")
    # The listing entry moves with the last interaction (one write either way).
    index = keys.customers_index(merchant_id, customer_id, fields.get("last_interaction_at"))
    values[":g2pk"] = index["gsi2pk"]
    values[":g2sk"] = index["gsi2sk"]
    sets.append("gsi2pk = :g2pk")
    sets.append(
        "gsi2sk = :g2sk" if fields.get("last_interaction_at") else "gsi2sk = if_not_exists(gsi2sk, :g2sk)"
    )
    search = keys.customer_search_index(
        merchant_id, customer_id, email=fields.get("email"), name=fields.get("name")
    )
    for name, value in search.items():
        values[f":{name}"] = value
        sets.append(f"{name} = :{name}")
    item = table.update(
        keys.customer(merchant_id, customer_id),
        "SET " + ", ".join(sets),
        names=names,
        values=values,
        return_new=True,
    )
    assert item is not None
    return item


def get_customer(table: Table, merchant_id: str, customer_id: str) -> Item | None:
    return table.get(keys.customer(merchant_id, customer_id))


def get_customers(table: Table, merchant_id: str, customer_ids: Iterable[str]) -> list[Item]:
    """The profiles of those of ``customer_ids`` that exist (one BatchGetItem per hundred)."""
    return table.batch_get([keys.customer(merchant_id, c) for c in dict.fromkeys(customer_ids)])


def set_unsubscribed(table: Table, merchant_id: str, customer_id: str, at: str | None) -> Item:
    """Globally unsubscribe (``at``) or resubscribe (None) an existing customer."""
    expression = "SET unsubscribed_at = :at, updated_at = :now" if at else "REMOVE unsubscribed_at"
    values = {":at": at, ":now": at} if at else None
    try:
        item = table.update(
            keys.customer(merchant_id, customer_id),
            expression,
            condition="attribute_exists(pk)",
            values=values,
            return_new=True,
        )
    except ConditionFailed as error:
        raise NotFoundError(f"customer '{customer_id}' not found") from error
    assert item is not None
    return item


def all_customers(table: Table, merchant_id: str, *, since: str | None = None) -> list[Item]:
    """Every customer of the merchant (those with an interaction at or after ``since`` if given),
    shard after shard of the listing index."""
    found: list[Item] = []
    for shard in range(keys.CUSTOMER_INDEX_SHARDS):
        values = {":pk": keys.customers_partition(merchant_id, shard)}
        if since is None:
            found += table.query("gsi2pk = :pk", values, index=keys.GSI2)
        else:
            found += table.query(
                "gsi2pk = :pk AND gsi2sk >= :since", {**values, ":since": since}, index=keys.GSI2
            )
    return found


def put_segment(table: Table, item: Item) -> None:
    index = keys.segments_index(item["merchant_id"], item["segment_id"], item["created_at"])
    table.put({**item, **index}, condition="attribute_not_exists(pk)")


def get_segment(table: Table, merchant_id: str, segment_id: str) -> Item:
    item = table.get(keys.segment(merchant_id, segment_id))
    if item is None:
        raise NotFoundError(f"segment '{segment_id}' not found")
    return item


def add_members(
    table: Table, merchant_id: str, segment_id: str, customer_ids: Iterable[str], now: str
) -> None:
    """The member items, then each profile's ``segment_ids`` (a set: adding twice changes nothing),
    which the customers tab counts as the customer's lists."""
    wanted = list(dict.fromkeys(customer_ids))
    table.batch_put(
        [
            {
                **keys.segment_member(merchant_id, segment_id, c),
                "type": "segment_member",
                "customer_id": c,
                "added_at": now,
            }
            for c in wanted
        ]
    )
    _mark_lists(table, merchant_id, wanted, segment_id, "ADD")


def remove_members(table: Table, merchant_id: str, segment_id: str, customer_ids: Iterable[str]) -> None:
    wanted = list(dict.fromkeys(customer_ids))
    deletes = [Delete(keys.segment_member(merchant_id, segment_id, c)) for c in wanted]
    for start in range(0, len(deletes), TRANSACT_MAX):
        table.transact(deletes[start : start + TRANSACT_MAX])
    _mark_lists(table, merchant_id, wanted, segment_id, "DELETE")


LISTS_PER_WRITE = 100  # a transaction's limit


def _mark_lists(
    table: Table, merchant_id: str, customer_ids: list[str], segment_id: str, action: str
) -> None:
    """Each profile's ``segment_ids`` gains (ADD) or loses (DELETE) the segment: a hundred profiles
    per transaction; should one have been erased meanwhile, that hundred goes one by one."""

    def update(customer_id: str) -> Update:
        return Update(
            keys.customer(merchant_id, customer_id),
            f"{action} segment_ids :s",
            condition="attribute_exists(pk)",
            values={":s": {segment_id}},
        )

    for start in range(0, len(customer_ids), LISTS_PER_WRITE):
        chunk = customer_ids[start : start + LISTS_PER_WRITE]
        try:
            table.transact([update(c) for c in chunk])
        except TransactionCanceled:
            for c in chunk:
                with contextlib.suppress(ConditionFailed):  # the customer was erased meanwhile
                    action_item = update(c)
                    table.update(
                        action_item.key,
                        action_item.expression,
                        condition=action_item.condition,
                        values=action_item.values,
                    )


def member_ids(table: Table, merchant_id: str, segment_id: str) -> set[str]:
    items = table.query(
        "pk = :pk AND begins_with(sk, :member)",
        {":pk": keys.segment_partition(merchant_id, segment_id), ":member": "MEMBER#"},
        consistent=True,
    )
    return {item["customer_id"] for item in items}


def campaign_claimants(table: Table, merchant_id: str, campaign_id: str) -> set[str]:
    """Customers holding a claim (code assigned) on the campaign, across the claim index shards."""
    found: set[str] = set()
    for shard in range(keys.CLAIM_INDEX_SHARDS):
        for item in table.query(
            "gsi1pk = :pk",
            {":pk": keys.campaign_claims_partition(merchant_id, campaign_id, shard)},
            index=keys.GSI1,
        ):
            if item.get("code"):
                found.add(item["customer_id"])
    return found


def suppressed_emails(table: Table, merchant_id: str) -> set[str]:
    """The merchant's suppressed addresses, in one Query of the suppression partition."""
    items = table.query("pk = :pk", {":pk": keys.suppression(merchant_id, "")["pk"]})
    return {item["sk"].removeprefix("EMAIL#") for item in items if item["sk"].startswith("EMAIL#")}
