"""Housekeeping task: finish every fanned-out segment send whose emails all have SES's verdict.

A send is finished once all its chunks were processed and every email it queued has a final
status (delivered, bounced, dropped, unknown...), or the grace period after the fan-out has
passed and every email was at least handed to SES (then what SES still has in flight counts as
sent; an email still ``queued`` is never counted as sent: the send waits for it). Finishing:
the emails still in flight put where the stale-message sweep finds them (``stale_messages``),
counts sent and failed by reason, the failure report as a CSV in S3 with its link (only when
something failed), ``done`` with one conditional write, the segment freed for its next send,
and the merchant notified.

A send of any size finishes: no run reads more than ``PAGES_PER_RUN`` pages of recipients, and
each pass keeps on the send how far it got. First a sweep waits for the verdicts, reading on
from its mark (``verdicts_through``) as the send drains; then the count reads every recipient
again, consistently, a page at a time, and keeps its mark, the counts so far and the keys of
the report's parts (each run's failed rows, one S3 object under ``report-parts/``) in the
send's ``tally``, saved on the condition that no other run saved one since; the last run joins
the parts into the report. A run that dies part-way leaves the tally as it was, and the next
counts those pages again (its part unused, deleted with the bucket's 7-day rule). A million
recipients are about 10,000 pages: 17 runs of the count, 85 minutes at one run per 5 minutes,
after a sweep that mostly kept pace with the send.

The report link is our signed ``/public/reports/<token>`` redirect, good for 7 days from the
report (``services/send_reports.py``): a URL presigned here would die with the housekeeping
role's session credentials, hours later.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from couponflow.adapters import s3
from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.message_status import MessageStatus
from couponflow.domain.send_report import (
    IN_FLIGHT,
    NOT_HANDED_OFF,
    add_counts,
    counts,
    outcome,
    report_csv,
    report_rows,
)
from couponflow.domain.send_schedule import SendStatus
from couponflow.services.housekeeping.stale_messages import STALE_AFTER, watch_in_flight
from couponflow.services.link_signer import LinkSigner
from couponflow.services.notifications import Notice
from couponflow.services.send_delivery import notify_quietly
from couponflow.services.send_reports import REPORT_LINK_LIFETIME
from couponflow.store import keys, sends

READ_BATCH = 100  # messages per BatchGetItem
# Pages of recipients one housekeeping run reads for all the sends it finishes: each page is a
# Query and one or two BatchGetItem calls (about 50 ms on AWS), so 600 pages (60,000 recipients)
# keep the run well inside its 120 s beside the other tasks; a larger send goes on next run.
PAGES_PER_RUN = 600


class Budget:
    """The pages a housekeeping run may still read (``PAGES_PER_RUN``)."""

    def __init__(self, pages: int, of: Budget | None = None) -> None:
        self.pages = pages
        self.of = of  # the run's budget, when this is one send's share of it

    def take(self) -> bool:
        """One page more, if any is left."""
        if self.pages <= 0:
            return False
        self.pages -= 1
        if self.of:
            self.of.pages -= 1
        return True

    def share(self) -> Budget:
        """One send's share: what is left, but a page at least, so that a send waits for no other
        send's count (a send waiting for SES's verdicts reads a page a run)."""
        return Budget(max(1, self.pages), of=self)


@dataclass
class _Cursor:
    """Where a pass over a send's recipients stands: a shard, and the last key read in it."""

    shard: int = 0
    after: str = ""  # "": from the shard's first

    @classmethod
    def at(cls, mark: Mapping[str, Any] | None) -> _Cursor:
        return cls(int(mark["shard"]), str(mark["after"])) if mark else cls()

    @property
    def at_end(self) -> bool:
        return self.shard >= keys.RECIPIENT_SHARDS

    def pages(self, table: Table, merchant_id: str, send_id: str, budget: Budget) -> Iterator[list[Item]]:
        """The recipients from here on in key order, a page at a time while ``budget`` lasts. The
        cursor moves past a page when the reader asks for the next, so a reader that stops at a
        page leaves the cursor before it."""
        while not self.at_end and budget.take():
            page = sends.recipients_after(
                table, merchant_id, send_id, shard=self.shard, after=self.after, limit=READ_BATCH
            )
            if not page:
                self.shard, self.after = self.shard + 1, ""
                continue
            yield page
            self.after = str(page[-1]["sk"])


@dataclass(frozen=True)
class FinishSends:
    """Housekeeping task: finish every fanned-out send whose emails all have SES's verdict."""

    table: Table
    report_bucket: str
    sender: str
    links: LinkSigner
    grace: timedelta = timedelta(minutes=30)
    stale_after: timedelta = STALE_AFTER  # the stale-message sweep's limit (``STALE_MESSAGE_HOURS``)
    pages_per_run: int = PAGES_PER_RUN
    allow_private_hosts: bool = False  # notice webhooks on internal hosts (local stack, tests)

    def __call__(self, now: datetime) -> Mapping[str, int]:
        finished = waiting = 0
        budget = Budget(self.pages_per_run)
        for shard in range(keys.SENDING_SHARDS):
            for send in self.table.query(
                "gsi2pk = :pk", {":pk": keys.sending_partition(shard)}, index=keys.GSI2
            ):
                if self.finish(send["merchant_id"], send["send_id"], now, budget.share()):
                    finished += 1
                else:
                    waiting += 1
        return {"finished": finished, "waiting": waiting}

    def _messages(
        self, merchant_id: str, wanted: list[tuple[str, str]], *, consistent: bool = True
    ) -> dict[str, Item]:
        """Each (customer, message) given as it stands, by message id: batch reads."""
        found = self.table.batch_get(
            [keys.message(merchant_id, c, m) for c, m in wanted], consistent=consistent
        )
        return {i["message_id"]: i for i in found}

    def _statuses(
        self, merchant_id: str, wanted: list[tuple[str, str]], *, consistent: bool = True
    ) -> dict[str, MessageStatus]:
        """The current status of each (customer, message) given, by message id."""
        return {m: _status(i) for m, i in self._messages(merchant_id, wanted, consistent=consistent).items()}

    def _settled_so_far(
        self, send: Mapping[str, Any], waiting_for: frozenset[MessageStatus], budget: Budget
    ) -> bool:
        """Whether every email the send queued has left ``waiting_for``, read from where the last
        sweep stopped: the recipients in key order, a hundred at a time, up to the first page with
        an email still waiting; how far it got is kept on the send (``verdicts_through``). Each
        sweep of a send draining at SES's rate used to read every message from the first again:
        on a 10,000-recipient send, 10 read units per recipient over its 18 sweeps. Read eventually
        consistent, at half the price: a stale read shows an earlier status, which only makes the
        send wait a sweep longer, and the finish reads every email again, consistently. Out of
        ``budget``, it stops where it got to (not settled yet)."""
        merchant_id, send_id = send["merchant_id"], send["send_id"]
        cursor = _Cursor.at(send.get("verdicts_through"))
        start = dataclasses.replace(cursor)
        for page in cursor.pages(self.table, merchant_id, send_id, budget):
            emailed = [(r["customer_id"], r["message_id"]) for r in page if r.get("email_queued")]
            found = self._statuses(merchant_id, emailed, consistent=False)
            if any(found.get(m, MessageStatus.QUEUED) in waiting_for for _, m in emailed):
                break
        if cursor != start:
            mark = dataclasses.asdict(cursor)
            sends.set_fields(self.table, merchant_id, send_id, {"verdicts_through": mark})
        return cursor.at_end

    def finish(self, merchant_id: str, send_id: str, now: datetime, budget: Budget | None = None) -> bool:
        """Finish the send if it is ready; False while it waits (or ran out of ``budget`` on the
        way: the next run goes on from where this one stopped)."""
        budget = budget or Budget(self.pages_per_run)
        send = sends.get(self.table, merchant_id, send_id)
        if send["status"] != SendStatus.SENDING or not send.get("fanned_out_at"):
            return False
        if int(send.get("chunks_done", 0)) < int(send.get("chunks_total", 0)):
            return False
        late = now - datetime.fromisoformat(send["fanned_out_at"]) > self.grace
        waiting_for = NOT_HANDED_OFF if late else IN_FLIGHT
        if not self._settled_so_far(send, waiting_for, budget):
            return False
        tally = self._count_on(send, waiting_for, now, budget)
        return tally is not None and self._close(send, tally, now)

    def _count_on(
        self, send: Mapping[str, Any], waiting_for: frozenset[MessageStatus], now: datetime, budget: Budget
    ) -> Mapping[str, Any] | None:
        """Count the send's recipients from where the last run stopped, a page at a time, each
        read consistently with its emails and texts: their outcomes added to the counts so far,
        the page's failures written as a part of the report, its emails still in flight watched
        (``watch_in_flight``). Stops at the end (the tally returned), at a page with an email
        back in flight (a late ``Send`` event; the send waits) or out of budget (None both)."""
        merchant_id, send_id = send["merchant_id"], send["send_id"]
        before = send.get("tally") or {"shard": 0, "after": "", "counts": counts([]), "parts": [], "step": 0}
        cursor, total = _Cursor.at(before), dict(before["counts"])
        rows: list[bytes] = []
        for page in cursor.pages(self.table, merchant_id, send_id, budget):
            counted = self._count_page(merchant_id, page, waiting_for, now)
            if counted is None:
                break
            total = add_counts(total, counted[0])
            rows.append(counted[1])
        if cursor == _Cursor.at(before):
            return before if cursor.at_end else None
        parts = list(before["parts"])
        if any(rows):
            parts.append(f"report-parts/{merchant_id}/{send_id}/{uuid.uuid4().hex}.csv")
            s3.put_csv(self.report_bucket, parts[-1], b"".join(rows), filename=f"send-{send_id}-part.csv")
        tally = {**dataclasses.asdict(cursor), "counts": total, "parts": parts, "step": before["step"] + 1}
        if not sends.save_tally(self.table, merchant_id, send_id, tally):
            return None  # another run counted on first: its tally stands, this one's part is unused
        return tally if cursor.at_end else None

    def _count_page(
        self,
        merchant_id: str,
        page: list[Item],
        waiting_for: frozenset[MessageStatus],
        now: datetime,
    ) -> tuple[dict[str, Any], bytes] | None:
        """One page of recipients' counts and report rows; None if an email of theirs is in
        ``waiting_for`` again (the sweep saw it settled)."""
        emailed = [(r["customer_id"], r["message_id"]) for r in page if r.get("email_queued")]
        read = self._messages(merchant_id, emailed)
        emails = {m: _status(i) for m, i in read.items()}
        if any(emails.get(m, MessageStatus.QUEUED) in waiting_for for _, m in emailed):
            return None
        # texts are not waited for: their receipts may never come
        texts = self._statuses(
            merchant_id, [(r["customer_id"], r["sms_message_id"]) for r in page if r.get("sms_message_id")]
        )
        outcomes = [
            outcome(
                r,
                emails.get(r["message_id"], MessageStatus.QUEUED) if r.get("email_queued") else None,
                texts.get(r["sms_message_id"]) if r.get("sms_message_id") else None,
            )
            for r in page
        ]
        # before ``done``: nothing else reads them again
        watch_in_flight(self.table, read.values(), now, self.stale_after)
        return counts(outcomes), report_rows(outcomes)

    def _close(self, send: Mapping[str, Any], tally: Mapping[str, Any], now: datetime) -> bool:
        """The send ``done`` with its counts and report (joined from its parts), its segment
        freed and the merchant told; False if it was no longer ``sending``."""
        merchant_id, send_id = send["merchant_id"], send["send_id"]
        summary = tally["counts"]
        stamp = now.isoformat()
        fields: dict[str, Any] = {
            "count_recipients": summary["recipients"],
            "count_sent": summary["sent"],
            "count_failed": summary["failed"],
            "count_excluded": summary["excluded"],
            "count_undelivered": summary["undelivered"],
            "failed_by_reason": summary["failed_by_reason"],
            "finished_at": stamp,
        }
        if summary["failed"]:
            key = f"reports/{merchant_id}/{send_id}.csv"
            report = report_csv(s3.read(self.report_bucket, part) for part in tally["parts"])
            s3.put_csv(self.report_bucket, key, report, filename=f"send-{send_id}-failures.csv")
            fields["report_key"] = key
            fields["report_url"] = self.links.report_url(merchant_id, send_id, now + REPORT_LINK_LIFETIME)
            fields["report_expires_at"] = (now + REPORT_LINK_LIFETIME).isoformat()
        if not sends.move(
            self.table,
            merchant_id,
            send_id,
            frm=SendStatus.SENDING,
            to=SendStatus.DONE,
            at=stamp,
            fields=fields,
        ):
            return False
        self.table.update(keys.send(merchant_id, send_id), "REMOVE gsi2pk, gsi2sk")
        sends.release_segment(self.table, merchant_id, send["segment_id"], send_id)
        text = f"Your send {send_id} is done: {summary['sent']} sent, {summary['failed']} not sent.\n"
        if summary["failed"]:
            reasons = ", ".join(f"{k}: {v}" for k, v in sorted(summary["failed_by_reason"].items()))
            text += f"Not sent, by reason: {reasons}.\nReport (valid 7 days): {fields['report_url']}\n"
        notify_quietly(
            self.table,
            merchant_id,
            Notice(
                "send_finished", f"Send {send_id} is done", text, {"send_id": send_id, **summary}, key=send_id
            ),
            self.sender,
            allow_private_hosts=self.allow_private_hosts,
        )
        return True


def _status(message: Item) -> MessageStatus:
    return MessageStatus(message.get("status", MessageStatus.QUEUED))
