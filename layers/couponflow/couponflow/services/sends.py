"""Scheduling segment sends: schedule, preview, preflight, cancel, and the send as the merchant sees it.

The rules are in ``domain.send_schedule``; the one-send-per-segment lock and the status race are
conditional writes in ``store.sends``; the one-time schedule is ``adapters.scheduler``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from couponflow.adapters import scheduler
from couponflow.adapters.dynamodb import Item, Table
from couponflow.domain.audience import Channel, exclusion
from couponflow.domain.coupon_email import DEFAULT_HTML, DEFAULT_TEXT, fill
from couponflow.domain.send_message import SAMPLE_CODE, sms_text, values_for
from couponflow.domain.send_schedule import Rule, SendStatus, check_cancel, send_time
from couponflow.errors import NotFoundError
from couponflow.ids import new_id, resolve_customer_id
from couponflow.models.sends import SendIn
from couponflow.services import coupon_check, segment_members
from couponflow.services.audience import public
from couponflow.settings.merchant_api import SendScheduleSettings
from couponflow.store import audience, campaigns, keys, sends


def schedule_name(send_id: str) -> str:
    return f"send-{send_id}"


def merchant_timezone(table: Table, merchant_id: str) -> str:
    profile = table.get(keys.merchant(merchant_id), consistent=False) or {}
    return str(profile.get("timezone") or "UTC")


@dataclass(frozen=True)
class SendScheduler:
    table: Table
    target: scheduler.Target
    public_base_url: str

    def schedule(self, merchant_id: str, request: SendIn, now: datetime | None = None) -> dict[str, Any]:
        """Create the send (``scheduled``) holding its segment's lock, then its one-time schedule."""
        now = now or datetime.now(UTC)
        item, _ = self._draft(merchant_id, request, now)
        send_id, at = item["send_id"], datetime.fromisoformat(item["send_at"])
        sends.create(self.table, item)
        try:
            scheduler.create_once(
                schedule_name(send_id), at, self.target, {"merchant_id": merchant_id, "send_id": send_id}
            )
        except Exception:
            # No schedule, no send: give the segment back so the merchant can try again.
            sends.move(
                self.table,
                merchant_id,
                send_id,
                frm=SendStatus.SCHEDULED,
                to=SendStatus.FAILED,
                at=now.isoformat(),
                fields={"reason": "system_error"},
            )
            sends.release_segment(self.table, merchant_id, request.segment_id, send_id)
            raise
        return view(item)

    def _draft(self, merchant_id: str, request: SendIn, now: datetime) -> tuple[Item, Item]:
        """The send as it would be stored, and its segment: the time rules checked (on the hour,
        2 hours ahead), the segment and the campaign found (404 otherwise)."""
        timezone = request.timezone or merchant_timezone(self.table, merchant_id)
        at = send_time(request.send_at, timezone, now)
        segment = audience.get_segment(self.table, merchant_id, request.segment_id)  # 404 before the lock
        campaigns.get(self.table, merchant_id, request.campaign_id)
        send_id = new_id("snd")
        item: Item = {
            "type": "send",
            "merchant_id": merchant_id,
            "send_id": send_id,
            "segment_id": request.segment_id,
            "campaign_id": request.campaign_id,
            "channel": str(request.channel),
            "send_at": at.isoformat(),
            "timezone": timezone,
            "subject": request.subject,
            "body": request.body,
            "sms_text": request.sms_text,
            "include_inactive": request.include_inactive,
            "status": str(SendStatus.SCHEDULED),
            "status_at": now.isoformat(),
            "created_at": now.isoformat(),
            "schedule_name": schedule_name(send_id),
        }
        return item, segment

    def check(self, merchant_id: str, request: SendIn, now: datetime | None = None) -> dict[str, Any]:
        """What scheduling ``request`` would do, without scheduling it: the time it would go at,
        the preflight and the preview (refused as ``schedule`` would refuse it)."""
        now = now or datetime.now(UTC)
        draft, segment = self._draft(merchant_id, request, now)
        members = segment_members.members(self.table, merchant_id, draft["segment_id"], now).customers
        preflight = self._preflight_of(draft, now, members)
        if segment.get("active_send_id"):
            preflight["warnings"].append(
                {
                    "reason": str(Rule.ONE_SEND_PER_SEGMENT),
                    "message": f"the segment has a send scheduled or sending ({segment['active_send_id']}): "
                    "cancel it first, or wait until it is done",
                }
            )
        return {
            "send_at": draft["send_at"],
            "timezone": draft["timezone"],
            "preflight": {**preflight, "send_id": None},
            "preview": self._preview_of(draft, _sample(members)),
        }

    def cancel(self, merchant_id: str, send_id: str, now: datetime | None = None) -> dict[str, Any]:
        """Cancel until 2 hours before the time; the status write decides a race with the starter."""
        now = now or datetime.now(UTC)
        item = sends.get(self.table, merchant_id, send_id)
        check_cancel(SendStatus(item["status"]), datetime.fromisoformat(item["send_at"]), now)
        if not sends.move(
            self.table,
            merchant_id,
            send_id,
            frm=SendStatus.SCHEDULED,
            to=SendStatus.CANCELED,
            at=now.isoformat(),
        ):
            raise sends.SendConflict(
                Rule.NOT_SCHEDULED, "the send started (or was canceled) before this cancel took effect"
            )
        scheduler.delete(item["schedule_name"], self.target.group)
        sends.release_segment(self.table, merchant_id, item["segment_id"], send_id)
        return view(sends.get(self.table, merchant_id, send_id))

    def preview(self, merchant_id: str, send_id: str, customer_ref: str | None = None) -> dict[str, Any]:
        """The message as a sample customer (the one named, else the segment's first) would get it."""
        send = sends.get(self.table, merchant_id, send_id)
        if customer_ref:
            cid = resolve_customer_id(merchant_id, customer_ref)
            customer = audience.get_customer(self.table, merchant_id, cid)
            if customer is None:
                raise NotFoundError(f"customer '{customer_ref}' not found")
        else:
            customer = _sample(segment_members.members(self.table, merchant_id, send["segment_id"]).customers)
        return self._preview_of(send, customer)

    def _preview_of(self, send: Item, customer: Item) -> dict[str, Any]:
        merchant_id, send_id = send["merchant_id"], send["send_id"]
        campaign = campaigns.get(self.table, merchant_id, send["campaign_id"])
        link = campaign.store_url or self.public_base_url
        email_values = values_for(
            customer,
            code=SAMPLE_CODE,
            campaign_name=campaign.name,
            link=link,
            send_id=send_id,
            medium="email",
        )
        sms_values = values_for(
            customer, code=SAMPLE_CODE, campaign_name=campaign.name, link=link, send_id=send_id, medium="sms"
        )
        email_values["unsubscribe_url"] = f"{self.public_base_url.rstrip('/')}/public/unsubscribe"
        return {
            "customer_id": customer.get("customer_id"),
            "subject": fill(send["subject"], email_values, escape=False),
            "text": fill(
                send.get("body") or campaign.text_template or DEFAULT_TEXT, email_values, escape=False
            ),
            "html": fill(campaign.html_template or DEFAULT_HTML, email_values, escape=True),
            "sms": sms_text(send["sms_text"], sms_values),
        }

    def preflight(self, merchant_id: str, send_id: str, now: datetime | None = None) -> dict[str, Any]:
        """Eligible and excluded (by reason) members now, and codes needed against codes available."""
        now = now or datetime.now(UTC)
        send = sends.get(self.table, merchant_id, send_id)
        members = segment_members.members(self.table, merchant_id, send["segment_id"], now).customers
        return self._preflight_of(send, now, members)

    def _preflight_of(self, send: Item, now: datetime, members: list[Item]) -> dict[str, Any]:
        merchant_id, send_id = send["merchant_id"], send["send_id"]
        suppressed = audience.suppressed_emails(self.table, merchant_id)
        channel = Channel(send["channel"])
        reasons: Counter[str] = Counter()
        eligible_customers = []
        for c in members:
            r = exclusion(
                c,
                channel=channel,
                now=now,
                suppressed=suppressed,
                include_inactive=bool(send.get("include_inactive")),
            )
            if r is None:
                eligible_customers.append(c)
            else:
                reasons[str(r)] += 1
        eligible = len(members) - sum(reasons.values())
        available = campaigns.count_available(self.table, merchant_id, send["campaign_id"])
        try:
            campaign = campaigns.get(self.table, merchant_id, send["campaign_id"])
        except NotFoundError:
            campaign = None
        problem = coupon_check.check(
            self.table,
            campaign,
            eligible_customers,
            at=datetime.fromisoformat(send["send_at"]),
            codes_available=available,
        )
        return {
            "send_id": send_id,
            "members": len(members),
            "eligible": eligible,
            "excluded": dict(reasons),
            "codes_needed": eligible,
            "codes_available": available,
            "problem_at_send_time": str(problem.failure) if problem else None,
            "warnings": [coupon_check.as_warning(problem)] if problem else [],
        }

    def get(self, merchant_id: str, send_id: str) -> dict[str, Any]:
        return view(sends.get(self.table, merchant_id, send_id))


def _sample(members: list[Item]) -> Item:
    """Whom a preview is written for: the segment's first member, else a sample customer."""
    return members[0] if members else {"first_name": "Sample", "email": "sample@example.com"}


def view(item: Item) -> dict[str, Any]:
    shown = public(item)
    counts = {k.removeprefix("count_"): v for k, v in item.items() if k.startswith("count_")}
    for k in list(shown):
        if k.startswith("count_"):
            shown.pop(k)
    if counts:
        shown["counts"] = counts
    tally = item.get("tally")  # the finish's count so far (``housekeeping/finish_sends.py``)
    if tally and item.get("status") == SendStatus.SENDING:
        shown["counted"] = int(tally["counts"].get("recipients", 0))
    return shown


def scheduler_from(table: Table, settings: SendScheduleSettings) -> SendScheduler:
    target = scheduler.Target(
        group=settings.schedule_group,
        arn=settings.starter_arn,
        role_arn=settings.scheduler_role_arn,
        dead_letter_arn=settings.dead_letter_arn,
    )
    return SendScheduler(table, target, str(settings.public_base_url))
