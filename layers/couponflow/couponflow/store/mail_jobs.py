"""The send lease of a segment send's mail job: one item per job instead of one write per message.

A send's fan-out bundles each chunk's emails into mail jobs of up to 50 and names the job on
each message it puts (``mail_job``); a message so named is only ever sent under its own job's
lease, held by one mailer invocation at a time (``services/mailer.py``, "At most once"):

- ``take``: before it reads the job's messages, an invocation takes the lease if nobody holds
  it or its holder's time ran out; the ids the last holder was calling SES for (``in_call``)
  come back with it: any of them still queued may have reached SES;
- ``record_call``: before each bulk call, the holder writes the call's message ids on the lease
  (one write per call, not per message), still only while it holds the lease;
- ``clear_call``: a call SES surely did not take (its error answered) is cleared, so its
  messages can be sent again;
- ``release``: a job done with nothing in doubt frees the lease for a duplicate of the job.

The item lives in the send's partition (``keys.mail_job``) and expires with the send's data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

from couponflow.adapters.dynamodb import ConditionFailed, Table

KEEP_SECONDS = 14 * 24 * 3600  # as long as a send's report lasts, and then some


def take(
    table: Table, key: Mapping[str, str], *, now_epoch: int, lease_seconds: int, owner: str
) -> list[str] | None:
    """Take the job's lease for ``owner``; None while another invocation holds it. Returns the ids
    the previous holder last wrote as being handed to SES (empty when it cleared them).

    A lease ``owner`` holds already is taken again (the SDK's retry of a take that took effect,
    its answer lost); the ids come back unchanged, as taking writes none. An invocation takes
    each job once, so the ids are never its own."""
    try:
        item = table.update(
            dict(key),
            "SET lease_owner = :owner, lease_until = :until, expires_at = if_not_exists(expires_at, :ttl)",
            condition="attribute_not_exists(lease_owner) OR lease_until < :now OR lease_owner = :owner",
            values={
                ":owner": owner,
                ":until": now_epoch + lease_seconds,
                ":now": now_epoch,
                ":ttl": now_epoch + KEEP_SECONDS,
            },
            return_new=True,
        )
    except ConditionFailed:
        return None
    return list((item or {}).get("in_call") or [])


def record_call(
    table: Table,
    key: Mapping[str, str],
    message_ids: Sequence[str],
    *,
    now_epoch: int,
    lease_seconds: int,
    owner: str,
) -> bool:
    """Write the ids of the bulk call about to be made (and renew the lease); False if ``owner`` no
    longer holds it."""
    try:
        table.update(
            dict(key),
            "SET in_call = :ids, lease_until = :until",
            condition="lease_owner = :owner",
            values={":ids": list(message_ids), ":until": now_epoch + lease_seconds, ":owner": owner},
        )
    except ConditionFailed:
        return False
    return True


def clear_call(table: Table, key: Mapping[str, str], *, owner: str) -> None:
    """Clear the call's ids: SES surely took none of them (it answered with an error)."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            dict(key),
            "SET in_call = :none",
            condition="lease_owner = :owner",
            values={":none": [], ":owner": owner},
        )


def release(table: Table, key: Mapping[str, str], *, owner: str) -> None:
    """Free the lease of a job whose every message was settled (nothing in doubt)."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            dict(key),
            "SET in_call = :none REMOVE lease_owner, lease_until",
            condition="lease_owner = :owner",
            values={":none": [], ":owner": owner},
        )
