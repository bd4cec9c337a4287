"""End to end: a scheduled segment send on the local stack, with its controllable clock.

The merchant imports customers, builds segments, schedules an email send and an SMS send,
checks preflight, then the clock moves past the send time: EventBridge Scheduler (the local
loop) starts each send, the fan-out queue spreads the recipients, the mailer and the SES
mailbox simulator deliver and bounce, and housekeeping finishes the sends: ``done`` with the
right counts, a CSV report holding exactly the failed recipients, and the merchant's email
with the link.

This module starts its own in-process stack: the shared ``local`` fixture runs the stack in a
subprocess whose clock cannot be moved after start, and the send must be scheduled (2 hours
ahead, by the real clock) before the clock jumps to fire it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_string, policy
from pathlib import Path
from typing import Any

import pytest
from local_stack import LocalStack, moto_patches

from tests.e2e.conftest import Call, in_process_stack, run_import, stack_http

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SIM = "simulator.amazonses.com"
# With 5 bounces and 3 dropped by SES: 1,000 recipients of the email send (`make bench` runs
# 10,000), at an SES account rate of 200 a second (the local SES answers GetAccount with it).
DELIVERED = 992
RECIPIENTS = DELIVERED + 8
CODES = 1200
SEND_RATE = 200.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[LocalStack]:
    rate = moto_patches.SEND_QUOTA["MaxSendRate"]
    moto_patches.SEND_QUOTA["MaxSendRate"] = SEND_RATE
    try:
        with in_process_stack(
            tmp_path_factory.mktemp("segment-send"), "couponflow-e2e-sends", pytestconfig
        ) as running:
            yield running
    finally:
        moto_patches.SEND_QUOTA["MaxSendRate"] = rate


@pytest.fixture(scope="module")
def http(stack: LocalStack) -> Call:
    return stack_http(stack)


def import_csv(http: Call, customers: list[dict[str, str]]) -> None:
    """Customers in, as a merchant with a thousand of them does: the async CSV import."""
    rows = ["email,phone,last_interaction_at"]
    rows += [f"{c['email']},{c.get('phone', '')},{c['last_interaction_at']}" for c in customers]
    final = run_import(http, "/customers/imports", "\n".join(rows).encode(), {"format": "csv"})[-1]
    stored = final["created"] + final["updated"] + final["unchanged"]
    assert (final["state"], stored, final["invalid"]) == ("done", len(customers), 0), final


def ok(answer: tuple[int, Any], status: int = 200) -> Any:
    assert answer[0] == status, answer
    return answer[1]


def wait_until(
    check: Callable[[], Any], what: str, timeout: float = 120.0, tick: Callable[[], Any] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if tick:
            tick()
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def suppress_by_hard_bounce(http: Call, stack: LocalStack, emails: list[str]) -> None:
    """A real path onto the suppression list: a claimed coupon to an address that hard-bounces."""
    campaign = ok(
        http(
            "POST", "/campaigns", {"name": "Earlier", "codes": [f"OLD-{i:03d}" for i in range(len(emails))]}
        ),
        201,
    )
    for email in emails:
        ok(
            http(
                "POST",
                f"/public/merchants/{stack.merchant_id}/campaigns/{campaign['campaign_id']}/claims",
                {"email": email},
                key=None,
            ),
            201,
        )

    def all_suppressed() -> bool:
        return all(http("GET", f"/suppressions/{e}")[0] == 200 for e in emails)

    wait_until(all_suppressed, "the hard bounces suppressing their addresses", 120)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def follow_once(url: str) -> tuple[int, str]:
    """GET ``url`` without following a redirect: (status, Location) for a 3xx, else (status, body)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        if 300 <= error.code < 400:
            return error.code, str(error.headers["Location"])
        return error.code, error.read().decode()


def coupon_emails(subject_part: str) -> dict[str, str]:
    """The coupon emails moto accepted whose subject has ``subject_part``: recipient -> text."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    found: dict[str, str] = {}
    for sent in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages:
        raw = getattr(sent, "raw_data", None)
        if not raw:
            continue
        parsed = message_from_string(raw, policy=policy.default)
        if subject_part in str(parsed["Subject"]):
            text = parsed.get_body(("plain",))
            found[str(parsed["To"])] = text.get_content() if text is not None else ""
    return found


def merchant_emails(subject_part: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [m for m in sent if subject_part in str(getattr(m, "subject", ""))]


def test_scheduled_sends_fire_fan_out_and_finish_with_counts_report_and_merchant_email(
    http: Call, stack: LocalStack
) -> None:
    recent = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    delivered = [f"success+d{i}@{SIM}" for i in range(DELIVERED)]
    bounced = [f"bounce+b{i}@{SIM}" for i in range(5)]
    dropped = [f"suppressionlist+x{i}@{SIM}" for i in range(3)]
    unsubscribed = [f"success+u{i}@{SIM}" for i in range(3)]
    suppressed = [f"bounce+s{i}@{SIM}" for i in range(2)]
    inactive = [f"success+i{i}@{SIM}" for i in range(3)]
    removed = [f"success+r{i}@{SIM}" for i in range(2)]
    suppress_by_hard_bounce(http, stack, suppressed)

    everyone = delivered + bounced + dropped + unsubscribed + suppressed + removed
    customers = [{"email": e, "last_interaction_at": recent} for e in everyone]
    customers += [{"email": e, "last_interaction_at": old} for e in inactive]
    texted = [
        {"email": f"sms{i}@example.com", "phone": f"+1415555{i:04d}", "last_interaction_at": recent}
        for i in range(8)
    ]
    no_phone = [{"email": f"nophone{i}@example.com", "last_interaction_at": recent} for i in range(3)]
    import_csv(http, customers + texted + no_phone)
    for email in unsubscribed:
        ok(http("POST", f"/customers/{email}/unsubscribe"))

    email_segment = ok(http("POST", "/segments", {"name": "Newsletter"}), 201)["segment_id"]
    members = everyone + inactive
    for start in range(0, len(members), 1000):
        ok(http("POST", f"/segments/{email_segment}/members", {"customers": members[start : start + 1000]}))
    sms_segment = ok(http("POST", "/segments", {"name": "Texters"}), 201)["segment_id"]
    ok(
        http(
            "POST", f"/segments/{sms_segment}/members", {"customers": [c["email"] for c in texted + no_phone]}
        )
    )
    campaign = ok(
        http(
            "POST",
            "/campaigns",
            {
                "name": "Winter sale",
                "store_url": "https://shop.example.com/winter",
            },
        ),
        201,
    )["campaign_id"]
    codes_csv = "\n".join(["code", *(f"WIN-{i:04d}" for i in range(CODES))]).encode()
    assert run_import(http, f"/campaigns/{campaign}/code-imports", codes_csv)[-1]["imported"] == CODES

    send_at = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    email_send = ok(
        http(
            "POST",
            "/sends",
            {
                "segment_id": email_segment,
                "campaign_id": campaign,
                "send_at": send_at.isoformat(),
                "subject": "{{campaign}} for {{name}}",
            },
        ),
        201,
    )
    sms_send = ok(
        http(
            "POST",
            "/sends",
            {
                "segment_id": sms_segment,
                "campaign_id": campaign,
                "channel": "sms",
                "send_at": send_at.isoformat(),
            },
        ),
        201,
    )
    assert (
        http(
            "POST",
            "/sends",
            {"segment_id": email_segment, "campaign_id": campaign, "send_at": send_at.isoformat()},
        )[1]["rule"]
        == "one_send_per_segment"
    )

    ok(http("POST", f"/segments/{email_segment}/members/remove", {"customers": removed}))
    flight = ok(http("GET", f"/sends/{email_send['send_id']}/preflight"))
    assert flight["members"] == DELIVERED + 16
    assert flight["excluded"] == {"unsubscribed": 3, "suppressed": 2, "inactive": 3}
    assert (flight["eligible"], flight["codes_needed"], flight["codes_available"]) == (
        RECIPIENTS,
        RECIPIENTS,
        CODES,
    )
    sms_flight = ok(http("GET", f"/sends/{sms_send['send_id']}/preflight"))
    assert (sms_flight["eligible"], sms_flight["excluded"]) == (8, {"no_phone": 3})
    preview = ok(http("GET", f"/sends/{email_send['send_id']}/preview"))
    assert preview["subject"].startswith("Winter sale for ") and "SAMPLE-CODE" in preview["text"]

    # The clock passes the send time: the scheduler fires both sends.
    stack.clock.offset = (send_at - datetime.now(UTC)).total_seconds() + 1

    def finished(send_id: str) -> Callable[[], Any]:
        def check() -> Any:
            send = ok(http("GET", f"/sends/{send_id}"))
            return send if send["status"] in ("done", "failed") else None

        return check

    ticks = iter(range(10**6))

    def housekeeping() -> None:  # the rate schedule runs every 5 minutes; tick it every 10 s or so
        if next(ticks) % 20 == 19:
            stack.invoke("HousekeepingFunction", {})

    # a liveness bound for a loaded 2-core machine, not a speed check (`make bench` times sends)
    done = wait_until(finished(email_send["send_id"]), "the email send finishing", 600, tick=housekeeping)
    sms_done = wait_until(finished(sms_send["send_id"]), "the SMS send finishing", 180, tick=housekeeping)

    assert (done["status"], done["counts"]["sent"], done["counts"]["failed"]) == ("done", DELIVERED, 16)
    counts = done["counts"]  # defined so they add up (domain/send_report.counts)
    assert counts["recipients"] == counts["sent"] + counts["failed"]
    assert counts["failed"] == counts["excluded"] + counts["undelivered"] and counts["excluded"] > 0
    assert done["failed_by_reason"] == {
        "bounced": 5,
        "dropped": 3,
        "unsubscribed": 3,
        "suppressed": 2,
        "inactive": 3,
    }
    assert (sms_done["status"], sms_done["counts"]["sent"], sms_done["failed_by_reason"]) == (
        "done",
        8,
        {"no_phone": 3},
    )

    # The report link is ours (signed, 7 days): over the local gateway it answers 302 to a
    # short-lived presigned URL of the CSV in moto's S3, which downloads it.
    assert done["report_url"].startswith(stack.api_url + "/public/reports/")
    status, location = follow_once(done["report_url"])
    assert status == 302 and location.startswith(stack.moto_url + "/"), (status, location)
    assert "X-Amz-Expires=300" in location
    # Each text is a message of its own on the customers tab, sent with SNS's message id and
    # delivered by its receipt (the local SMS simulator writes SNS's delivery status log).
    texts = [m for m in ok(http("GET", "/customers/sms0@example.com"))["messages"] if m["channel"] == "sms"]
    assert [(t["status"], t["recipient"], bool(t["sns_message_id"])) for t in texts] == [
        ("delivered", "+14155550000", True)
    ]
    with urllib.request.urlopen(location, timeout=30) as response:
        rows = list(csv.DictReader(io.StringIO(response.read().decode())))
    token = done["report_url"].rsplit("/", 1)[1]
    forged = done["report_url"].replace(token, token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB"))
    status, body = follow_once(forged)
    assert status == 403 and json.loads(body)["field"] == "token"
    expected = (
        {e: "bounced" for e in bounced}
        | {e: "dropped" for e in dropped}
        | {e: "unsubscribed" for e in unsubscribed}
    )
    expected |= {e: "suppressed" for e in suppressed} | {e: "inactive" for e in inactive}
    assert {r["email"]: r["reason"] for r in rows} == expected
    assert all(r["customer_id"].startswith("cus_") for r in rows)

    mails = wait_until(
        lambda: merchant_emails(f"Send {email_send['send_id']} is done"), "the merchant's email", 30
    )
    assert done["report_url"] in str(mails[0].body)
    sms_mails = wait_until(
        lambda: merchant_emails(f"Send {sms_send['send_id']} is done"), "the SMS send's email", 30
    )
    assert "report" in str(sms_mails[0].body).lower()

    # Every recipient was emailed a code of their own, the pool's count is exact, and the segment
    # is free for its next send.
    emailed = coupon_emails("Winter sale for ")
    assert len(emailed) == RECIPIENTS  # delivered, bounced, and dropped by SES's suppression list
    code_of = {to: set(re.findall(r"WIN-\d{4}", body)) for to, body in emailed.items()}
    assert all(len(found) == 1 for found in code_of.values()), "one code in each email"
    holders: dict[str, list[str]] = {}
    for to, found in code_of.items():
        holders.setdefault(next(iter(found)), []).append(to)
    # A code is one recipient's; only the code of a bounced or dropped email went back to the pool
    # (released, the campaign's default) and may have gone out again to a later recipient.
    undelivered = set(bounced) | set(dropped)
    assert all(len([to for to in tos if to not in undelivered]) <= 1 for tos in holders.values())
    assert len(holders) >= RECIPIENTS - len(undelivered)
    released = len(bounced) + len(dropped)  # their codes went back to the pool (campaign default)
    texted_codes = len(texted)
    available = CODES - RECIPIENTS - texted_codes + released
    assert ok(http("GET", f"/campaigns/{campaign}"))["codes_available"] == available
    later = (send_at + timedelta(days=1)).isoformat()
    assert (
        http("POST", "/sends", {"segment_id": email_segment, "campaign_id": campaign, "send_at": later})[0]
        == 201
    )
