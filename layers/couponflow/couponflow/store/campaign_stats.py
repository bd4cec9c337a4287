"""A campaign's counts of messages by current status, on ``keys.STATS_SHARDS`` counter items.

A message's status moves are counted on one shard chosen by its message id (old status -1, new
status +1, in the same transaction as the status write), so a campaign's counter writes spread
over many partition keys; reads sum the shards (one BatchGetItem). The mailer's bulk hand-off
counts a whole call on one shard (``moves``); only the sums are ever read, so that is the same.
Messages are counted from their first move out of ``queued`` (hand-off to SES, or dropped /
failed by the mailer): the counts are of messages we tried to send, and ``queued`` is never
counted.
"""

from __future__ import annotations

from couponflow.adapters.dynamodb import Table, Update
from couponflow.domain.message_status import MessageStatus
from couponflow.store import keys


def move(
    merchant_id: str, campaign_id: str, message_id: str, old: MessageStatus, new: MessageStatus
) -> Update:
    """The counter update for one message moving from ``old`` to ``new`` (a transaction action)."""
    names = {"#new": str(new)}
    values: dict[str, int] = {":one": 1}
    expression = "ADD #new :one"
    if old is not MessageStatus.QUEUED:
        names["#old"] = str(old)
        values[":minus"] = -1
        expression += ", #old :minus"
    return Update(
        key=keys.campaign_stats_for(merchant_id, campaign_id, message_id),
        expression=expression,
        names=names,
        values=values,
    )


def counts(table: Table, merchant_id: str, campaign_id: str) -> dict[str, int]:
    """Messages of the campaign by current status (every status present, zero when none)."""
    shards = [keys.campaign_stats_shard(merchant_id, campaign_id, s) for s in range(keys.STATS_SHARDS)]
    totals = {str(s): 0 for s in MessageStatus if s is not MessageStatus.QUEUED}
    for item in table.batch_get(shards):
        for status in totals:
            totals[status] += int(item.get(status, 0))
    return totals


def moves(
    merchant_id: str, campaign_id: str, message_ids: list[str], old: MessageStatus, new: MessageStatus
) -> Update:
    """One counter update for many messages of one campaign making the same move (a bulk hand-off).

    All of it lands on the shard of the first message: counts are only ever read summed over the
    shards, so which shard holds a +1 (and which the -1 of a later move) does not change them,
    and one update per bulk call costs less than one per shard (a transaction may not touch one
    item twice). Successive calls start with different messages, so the writes still spread.
    """
    count = len(message_ids)
    names = {"#new": str(new)}
    values: dict[str, int] = {":n": count}
    expression = "ADD #new :n"
    if old is not MessageStatus.QUEUED:
        names["#old"] = str(old)
        values[":minus"] = -count
        expression += ", #old :minus"
    return Update(
        key=keys.campaign_stats_for(merchant_id, campaign_id, message_ids[0]),
        expression=expression,
        names=names,
        values=values,
    )


def net_moves(
    merchant_id: str, campaign_id: str, message_ids: list[str], moved: list[tuple[str, str]]
) -> Update | None:
    """One counter update for many messages of one campaign making different moves (``moved``:
    (old, new) status pairs), netted per status, on the shard of the first message (see ``moves``)."""
    deltas: dict[str, int] = {}
    for old, new in moved:
        deltas[new] = deltas.get(new, 0) + 1
        if old != MessageStatus.QUEUED:
            deltas[old] = deltas.get(old, 0) - 1
    changed = sorted((status, n) for status, n in deltas.items() if n)
    if not changed:
        return None
    names = {f"#s{i}": status for i, (status, _) in enumerate(changed)}
    values = {f":n{i}": n for i, (_, n) in enumerate(changed)}
    return Update(
        key=keys.campaign_stats_for(merchant_id, campaign_id, message_ids[0]),
        expression="ADD " + ", ".join(f"#s{i} :n{i}" for i in range(len(changed))),
        names=names,
        values=values,
    )
