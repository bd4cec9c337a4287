"""What happens to a claim after the code was assigned, in DynamoDB.

- ``advance``: coupon viewed, clicked through. A conditional write on the status read, so the
  status only moves forward (``domain.claim_status.can_move``) however requests interleave.

Every move here carries the campaign's funnel tally in its transaction (``campaigns.claim_tally``,
or the pool counter move of a returned code), so each claim is counted once per status reached.
- ``redeem``: one transaction that marks the code's registry item ``redeemed`` (only if it was
  ``assigned`` to this customer) and the claim ``redeemed``; a second report finds the registry
  item already redeemed and gets the first order id back.
- ``return_code``: expiry and release. One transaction that moves the claim to ``expired`` or
  ``released`` (only from a status that may move there, and only while it holds this code), moves
  the registry item ``assigned -> available`` (only if assigned to this customer), puts the
  code back in its pool shard (only if absent) and adds one to that shard's counter. Running it
  twice changes nothing the second time, and a code can never be available twice.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from couponflow.adapters.dynamodb import ConditionFailed, Item, Put, Table, TransactionCanceled, Update
from couponflow.domain.claim_status import ClaimStatus, can_move
from couponflow.errors import RetryableError
from couponflow.store import campaigns, claims, keys

MAX_RACES = 5


def _from_states(new: ClaimStatus) -> list[str]:
    return sorted(str(s) for s in ClaimStatus if can_move(s, new))


def _in_clause(prefix: str, states: list[str]) -> tuple[str, dict[str, str]]:
    names = {f"{prefix}{i}": s for i, s in enumerate(states)}
    return "(" + ", ".join(names) + ")", names


def advance(
    table: Table,
    merchant_id: str,
    customer_id: str,
    campaign_id: str,
    new: ClaimStatus,
    *,
    at: str,
    read: Item | None = None,
) -> tuple[Item | None, bool]:
    """Move the claim to ``new`` if that is a forward move; returns (claim as stored, moved).

    ``read`` is the claim as the caller just read it (saves a read; a stale one only costs a retry).
    """
    key = keys.claim(merchant_id, customer_id, campaign_id)
    for _ in range(MAX_RACES):
        item, read = read or table.get(key), None
        if item is None:
            return None, False
        current = ClaimStatus(item["status"])
        if not can_move(current, new):
            return item, False
        view = _view_sets(item, new)
        try:
            table.transact(
                [
                    Update(
                        key,
                        f"SET #status = :new, updated_at = :at, {new}_at = if_not_exists({new}_at, :at)"
                        + view.expression,
                        condition="#status = :current",
                        names={"#status": "status"},
                        values={":new": str(new), ":at": at, ":current": str(current), **view.values},
                    ),
                    campaigns.claim_tally(
                        merchant_id, campaign_id, str(item.get("code") or customer_id), str(new)
                    ),
                ]
            )
        except TransactionCanceled:
            continue  # it moved under us: look again
        # what the update wrote, without reading it back
        written = {"status": str(new), "updated_at": at, f"{new}_at": item.get(f"{new}_at", at)}
        return {**item, **written, **view.entry}, True
    raise RetryableError("the claim keeps changing; retry")


@dataclass(frozen=True)
class _ViewSets:
    """The claim's views index entry for its new status, as an update's SET clause and values."""

    entry: dict[str, str] = field(default_factory=dict)

    @property
    def expression(self) -> str:
        return "".join(f", {name} = :{name}" for name in self.entry)

    @property
    def values(self) -> dict[str, str]:
        return {f":{name}": value for name, value in self.entry.items()}


def _view_sets(claim: Item, new: ClaimStatus) -> _ViewSets:
    return _ViewSets(claims.claim_view_entry(claim, str(new)))


@dataclass(frozen=True)
class Redeemed:
    ok: bool
    reason: str | None = None  # why not: already_redeemed, expired, released, not_handed_out
    claim: Item | None = None
    first_order_id: str | None = None
    redeemed_at: str | None = None


def redeem(
    table: Table, merchant_id: str, campaign_id: str, code: str, order_id: str, *, at: str
) -> Redeemed | None:
    """Record the store's redemption of ``code``; None when the campaign never had the code."""
    registry_key = keys.code_registry(merchant_id, campaign_id, code)
    for _ in range(MAX_RACES):
        registry = table.get(registry_key)
        if registry is None:
            return None
        state = registry.get("state")
        if state == "redeemed":
            holder = registry.get("customer_id")
            same = registry.get("order_id") == order_id and holder  # the store's retry of its report
            return Redeemed(
                bool(same),
                None if same else "already_redeemed",
                claim=table.get(keys.claim(merchant_id, str(holder), campaign_id)) if same else None,
                first_order_id=registry.get("order_id"),
                redeemed_at=registry.get("redeemed_at"),
            )
        if state != "assigned" or not registry.get("customer_id"):
            return Redeemed(False, registry.get("returned_as") or "not_handed_out")
        customer_id = str(registry["customer_id"])
        clause, states = _in_clause(":from", _from_states(ClaimStatus.REDEEMED))
        held = table.get(keys.claim(merchant_id, customer_id, campaign_id)) or {}
        view = _view_sets(held, ClaimStatus.REDEEMED) if held else _ViewSets()
        try:
            table.transact(
                [
                    Update(
                        registry_key,
                        "SET #state = :redeemed, order_id = :order, redeemed_at = :at",
                        condition="#state = :assigned AND customer_id = :cus",
                        names={"#state": "state"},
                        values={
                            ":redeemed": "redeemed",
                            ":assigned": "assigned",
                            ":cus": customer_id,
                            ":order": order_id,
                            ":at": at,
                        },
                    ),
                    Update(
                        keys.claim(merchant_id, customer_id, campaign_id),
                        "SET #status = :redeemed, order_id = :order, redeemed_at = :at, updated_at = :at"
                        + view.expression
                        + " REMOVE gsi2pk, gsi2sk",
                        condition=f"code = :code AND #status IN {clause}",
                        names={"#status": "status"},
                        values={
                            ":redeemed": "redeemed",
                            ":order": order_id,
                            ":at": at,
                            ":code": code,
                            **states,
                            **view.values,
                        },
                    ),
                    campaigns.claim_tally(merchant_id, campaign_id, code, str(ClaimStatus.REDEEMED)),
                ]
            )
        except TransactionCanceled:
            continue  # the registry or the claim moved (another report, an expiry): look again
        claim = table.get(keys.claim(merchant_id, customer_id, campaign_id))
        return Redeemed(True, claim=claim, first_order_id=order_id, redeemed_at=at)
    raise RetryableError("the code keeps changing; retry")


def mark_texted(table: Table, merchant_id: str, customer_id: str, campaign_id: str, *, at: str) -> None:
    """Note on the claim that its code went out by SMS: an undelivered email no longer releases it."""
    table.update(
        keys.claim(merchant_id, customer_id, campaign_id),
        "SET texted_at = if_not_exists(texted_at, :at)",
        condition="attribute_exists(pk)",
        values={":at": at},
    )


def return_code(table: Table, claim: Item, to: ClaimStatus, *, at: str, reason: str) -> bool:
    """Give the claim's code back to the pool, the claim becoming ``to`` (expired / released).

    True when this call returned it; False when the claim had moved on (redeemed, viewed before a
    release, already returned) or no longer holds that code. Idempotent.
    """
    if to not in (ClaimStatus.EXPIRED, ClaimStatus.RELEASED):
        raise ValueError(f"a code is returned only by expiry or release, not {to}")
    code = claim.get("code")
    if not code:
        return False
    merchant_id, customer_id, campaign_id = claim["merchant_id"], claim["customer_id"], claim["campaign_id"]
    clause, states = _in_clause(":from", _from_states(to))
    view = _view_sets(claim, to)
    values: dict[str, Any] = {
        ":to": str(to),
        ":at": at,
        ":reason": reason,
        ":code": code,
        **states,
        **view.values,
    }
    try:
        table.transact(
            [
                Update(
                    keys.claim(merchant_id, customer_id, campaign_id),
                    f"SET #status = :to, {to}_at = :at, updated_at = :at, return_reason = :reason"
                    + view.expression
                    + " REMOVE gsi2pk, gsi2sk",
                    condition=f"code = :code AND #status IN {clause}"
                    # a code that also went out by SMS is the customer's: never released
                    + (" AND attribute_not_exists(texted_at)" if to is ClaimStatus.RELEASED else ""),
                    names={"#status": "status"},
                    values=values,
                ),
                Update(
                    keys.code_registry(merchant_id, campaign_id, code),
                    "SET #state = :available, returned_as = :to, returned_at = :at REMOVE customer_id",
                    condition="#state = :assigned AND customer_id = :cus",
                    names={"#state": "state"},
                    values={
                        ":available": "available",
                        ":assigned": "assigned",
                        ":cus": customer_id,
                        ":to": str(to),
                        ":at": at,
                    },
                ),
                Put(
                    {**keys.pool_code(merchant_id, campaign_id, code), "type": "pool_code", "code": code},
                    condition="attribute_not_exists(pk)",
                ),
                *campaigns.pool_count_moves(merchant_id, campaign_id, [code], +1, tally=str(to)),
                # the shard's empty mark goes and the version moves in the same transaction: a
                # failure after a separate write would have left the code hidden behind the mark
                campaigns.pool_refill(merchant_id, campaign_id, [keys.pool_shard_of(code)]),
            ]
        )
    except TransactionCanceled:
        # Returned already (by a release written before the bump joined the transaction, whose
        # separate bump may have failed)? Then bump the pool again: it is idempotent.
        now_item = table.get(keys.claim(merchant_id, customer_id, campaign_id)) or {}
        if now_item.get("status") == str(to) and now_item.get("code") == code:
            _refilled(table, merchant_id, campaign_id, code)
        return False
    return True


def _refilled(table: Table, merchant_id: str, campaign_id: str, code: str) -> None:
    """After a code is back: invalidate a pool-exhausted marker and the code's shard's empty mark,
    and re-arm the pool alerts (unless the campaign itself is gone)."""
    with contextlib.suppress(ConditionFailed):
        campaigns.pool_refilled(table, merchant_id, campaign_id, [keys.pool_shard_of(code)])
