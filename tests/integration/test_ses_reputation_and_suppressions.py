"""Campaign counts, the reputation guard, soft-bounce suppression, the suppression API and the
stale-message sweep, through the SES-events, merchant API and housekeeping handlers on moto's server."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from couponflow.adapters import dynamodb
from couponflow.adapters.dynamodb import Table, TransactionCanceled
from couponflow.domain.campaign import Campaign
from couponflow.errors import RetryableError
from couponflow.services.housekeeping.stale_messages import FlagStaleMessages, watch_in_flight
from couponflow.store import campaign_stats, campaigns, keys, messages
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import load_event
from tests.integration.helpers import body_of, merchant_event, notices_to, sqs_event


@dataclass(frozen=True)
class Sent:
    merchant_id: str
    campaign_id: str
    customer_id: str
    message_id: str
    recipient: str

    @property
    def ses_id(self) -> str:
        return f"ses-{self.message_id}"

    @property
    def key(self) -> dict[str, str]:
        return keys.message(self.merchant_id, self.customer_id, self.message_id)


def ses_record(kind: str, sent: Sent, *, at: str = "2026-11-22T10:00:00.000Z", **bounce: str) -> str:
    """A sample SES event (configuration-set format) re-addressed to ``sent``, in an SNS envelope."""
    record = copy.deepcopy(load_event(f"ses/event_{kind}"))
    record["mail"]["messageId"] = sent.ses_id
    record["mail"]["destination"] = [sent.recipient]
    record["mail"]["tags"] = {
        "merchant": [sent.merchant_id],
        "campaign": [sent.campaign_id],
        "customer": [sent.customer_id],
        "message": [sent.message_id],
    }
    for section, field in (("bounce", "bouncedRecipients"), ("complaint", "complainedRecipients")):
        if section in record:
            record[section][field] = [{**record[section][field][0], "emailAddress": sent.recipient}]
            record[section]["timestamp"] = at
    if "bounce" in record:
        record["bounce"].update(bounce)
    if "delivery" in record:
        record["delivery"]["recipients"] = [sent.recipient]
        record["delivery"]["timestamp"] = at
    if "open" in record:
        record["open"]["timestamp"] = at
    return json.dumps({"Type": "Notification", "MessageId": "sns", "Message": json.dumps(record)})


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


@pytest.fixture()
def campaign_with(table: Table, merchant: tuple[str, str]) -> Callable[..., list[Sent]]:
    """A campaign and ``n`` of its messages as the mailer leaves them after hand-off to SES."""

    def make(
        n: int, *, recipients: list[str] | None = None, sent_at: str | None = None, handed_off: bool = True
    ) -> list[Sent]:
        stamp = sent_at or datetime.now(UTC).isoformat()
        campaign = Campaign(
            merchant[0], f"cmp_rep{abs(hash((n, stamp, id(table)))) % 10**9}", "Sale", "Hi", "email"
        )
        campaigns.create(table, campaign, stamp)
        made = []
        for i in range(n):
            recipient = (recipients or [])[i] if recipients else f"shopper{i}@example.com"
            sent = Sent(
                merchant[0],
                campaign.campaign_id,
                f"cus_{campaign.campaign_id}_{i}",
                f"msg_{campaign.campaign_id}_{i}",
                recipient,
            )
            table.put(
                {
                    **sent.key,
                    "type": "message",
                    "merchant_id": sent.merchant_id,
                    "customer_id": sent.customer_id,
                    "message_id": sent.message_id,
                    "campaign_id": sent.campaign_id,
                    "recipient": recipient,
                    "status": "queued",
                    "status_rank": 0,
                    "created_at": stamp,
                }
            )
            if handed_off:
                messages.record_handoff(table, sent.key, sent.ses_id, at=stamp)
                assert messages.raise_status(table, sent.key, messages.MessageStatus.SENT, at=stamp)
            made.append(sent)
        return made

    return make


def apply(load_handler: Callable[[str], Any], lambda_context: Any, bodies: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = load_handler("SesEventsFunction").lambda_handler(
        sqs_event(bodies), lambda_context
    )
    return result


def stats(load_handler: Callable[[str], Any], lambda_context: Any, sent: Sent) -> dict[str, Any]:
    path = f"/campaigns/{sent.campaign_id}/stats"
    event = merchant_event(sent.merchant_id, "GET", "/campaigns/{campaignId}/stats", path)
    event["pathParameters"] = {"campaignId": sent.campaign_id}
    response = load_handler("MerchantApiFunction").lambda_handler(event, lambda_context)
    assert response["statusCode"] == 200, response
    body: dict[str, Any] = body_of(response)
    return body


# --- counts by status -------------------------------------------------------------------------


def test_campaign_counts_follow_each_status_move_whatever_the_order_and_duplicates(
    table, campaign_with, load_handler, lambda_context
):
    sent = campaign_with(5)
    bodies = [ses_record("delivery", s) for s in sent]
    bodies += [ses_record("open", sent[0]), ses_record("open", sent[1]), ses_record("bounce", sent[2])]
    bodies += [ses_record("delivery", sent[0]), ses_record("open", sent[0])]  # duplicates
    apply(load_handler, lambda_context, list(reversed(bodies)))
    apply(load_handler, lambda_context, bodies)  # the whole stream redelivered

    body = stats(load_handler, lambda_context, sent[0])

    assert {k: v for k, v in body["counts"].items() if v} == {"delivered": 2, "opened": 2, "bounced": 1}
    assert body["messages"] == 5 and body["attempted"] == 5
    assert body["bounce_rate"] == 0.2 and body["complaint_rate"] == 0.0
    shards = table.batch_get(
        [
            keys.campaign_stats_shard(sent[0].merchant_id, sent[0].campaign_id, s)
            for s in range(keys.STATS_SHARDS)
        ]
    )
    assert len(shards) > 1, "a campaign's counts are spread over several counter items"


def test_stats_of_an_unknown_campaign_is_404(merchant, load_handler, lambda_context, stack):
    event = merchant_event(merchant[0], "GET", "/campaigns/{campaignId}/stats", "/campaigns/cmp_nope/stats")
    response = load_handler("MerchantApiFunction").lambda_handler(event, lambda_context)
    assert response["statusCode"] == 404


# --- reputation guard -------------------------------------------------------------------------


def test_complaints_over_the_threshold_pause_the_campaign_and_notify_the_merchant_once(
    table, merchant, campaign_with, load_handler, lambda_context
):
    owner = f"owner-{merchant[0]}@shop.example.com"
    table.update(keys.merchant(merchant[0]), "SET notification_email = :e", values={":e": owner})
    sent = campaign_with(100)
    apply(load_handler, lambda_context, [ses_record("delivery", s) for s in sent])
    assert table.get(keys.campaign(merchant[0], sent[0].campaign_id))["paused"] is False

    apply(load_handler, lambda_context, [ses_record("complaint", sent[0])])
    apply(load_handler, lambda_context, [ses_record("complaint", sent[1]), ses_record("complaint", sent[0])])

    campaign = table.get(keys.campaign(merchant[0], sent[0].campaign_id))
    assert campaign["paused"] is True and campaign["paused_reason"] == "complaint_rate"
    assert campaign["reputation_rates"]["complained"] == 1  # paused at the first crossing
    assert len(notices_to(owner)) == 1
    assert campaign_stats.counts(table, merchant[0], sent[0].campaign_id)["complained"] == 2


def test_bounces_at_the_threshold_do_not_pause_and_one_more_does(
    table, merchant, campaign_with, load_handler, lambda_context
):
    sent = campaign_with(100)
    apply(load_handler, lambda_context, [ses_record("delivery", s) for s in sent[2:]])
    apply(load_handler, lambda_context, [ses_record("bounce", s) for s in sent[:2]])  # 2% exactly
    assert table.get(keys.campaign(merchant[0], sent[0].campaign_id))["paused"] is False

    apply(load_handler, lambda_context, [ses_record("bounce", sent[2])])  # a bounce after a delivery

    campaign = table.get(keys.campaign(merchant[0], sent[0].campaign_id))
    assert campaign["paused"] is True and campaign["paused_reason"] == "bounce_rate"


def test_too_few_messages_never_pause_a_campaign(
    table, merchant, campaign_with, load_handler, lambda_context
):
    sent = campaign_with(10)
    apply(load_handler, lambda_context, [ses_record("complaint", s) for s in sent[:5]])
    assert table.get(keys.campaign(merchant[0], sent[0].campaign_id))["paused"] is False


# --- soft bounces -----------------------------------------------------------------------------


def transient(sent: Sent, at: str) -> str:
    return ses_record("bounce", sent, at=at, bounceType="Transient", bounceSubType="MailboxFull")


def test_three_soft_bounces_within_seven_days_suppress_the_address_with_the_events(
    table, merchant, campaign_with, load_handler, lambda_context
):
    address = f"full-{merchant[0]}@example.com"
    sent = campaign_with(3, recipients=[address] * 3)
    apply(load_handler, lambda_context, [transient(sent[2], "2026-11-20T10:00:00.000Z")])
    apply(load_handler, lambda_context, [transient(sent[0], "2026-11-14T10:00:00.000Z")])
    assert table.get(keys.suppression(merchant[0], address)) is None
    apply(load_handler, lambda_context, [transient(sent[0], "2026-11-14T10:00:00.000Z")])  # duplicate
    assert table.get(keys.suppression(merchant[0], address)) is None

    apply(load_handler, lambda_context, [transient(sent[1], "2026-11-17T10:00:00.000Z")])

    suppression = table.get(keys.suppression(merchant[0], address))
    assert suppression is not None and suppression["reason"] == "soft_bounce"
    causes = suppression["source"]["soft_bounces"]
    assert [c["message_id"] for c in causes] == [sent[0].message_id, sent[1].message_id, sent[2].message_id]
    assert {c["bounce_type"] for c in causes} == {"Transient"}


def test_soft_bounces_spread_over_more_than_seven_days_do_not_suppress(
    table, merchant, campaign_with, load_handler, lambda_context
):
    address = f"slow-{merchant[0]}@example.com"
    sent = campaign_with(3, recipients=[address] * 3)
    apply(
        load_handler,
        lambda_context,
        [
            transient(sent[0], "2026-11-01T10:00:00.000Z"),
            transient(sent[1], "2026-11-06T10:00:00.000Z"),
            transient(sent[2], "2026-11-09T10:00:01.000Z"),
        ],
    )
    assert table.get(keys.suppression(merchant[0], address)) is None


# --- suppression API --------------------------------------------------------------------------


def api(
    load_handler, lambda_context, merchant_id: str, method: str, path: str, query=None
) -> tuple[int, Any]:
    resource = "/suppressions/{email}" if path.count("/") == 2 else "/suppressions"
    event = merchant_event(merchant_id, method, resource, path, query=query)
    if resource.endswith("{email}"):
        event["pathParameters"] = {"email": path.rsplit("/", 1)[1]}
    response = load_handler("MerchantApiFunction").lambda_handler(event, lambda_context)
    return response["statusCode"], body_of(response)


def test_suppressions_are_listed_by_page_inspected_with_their_event_and_removed(
    table, merchant, campaign_with, load_handler, lambda_context
):
    bounced = campaign_with(3, recipients=["a@example.com", "b+tag@example.com", "c@example.com"])
    apply(load_handler, lambda_context, [ses_record("bounce", s) for s in bounced])

    status, first = api(load_handler, lambda_context, merchant[0], "GET", "/suppressions", {"limit": "2"})
    assert status == 200 and first["count"] == 2 and first["next"]
    status, second = api(
        load_handler,
        lambda_context,
        merchant[0],
        "GET",
        "/suppressions",
        {"limit": "2", "after": first["next"]},
    )
    listed = [i["email"] for i in first["items"] + second["items"]]
    assert listed == ["a@example.com", "b+tag@example.com", "c@example.com"] and second["next"] is None

    status, one = api(load_handler, lambda_context, merchant[0], "GET", "/suppressions/b%2Btag%40example.com")
    assert status == 200 and one["reason"] == "hard_bounce"
    assert one["source"]["message_id"] == bounced[1].message_id
    assert one["source"]["diagnostic_code"].startswith("smtp; 550")

    status, _ = api(load_handler, lambda_context, merchant[0], "DELETE", "/suppressions/b+tag@example.com")
    assert status == 200
    assert table.get(keys.suppression(merchant[0], "b+tag@example.com")) is None
    status, _ = api(load_handler, lambda_context, merchant[0], "GET", "/suppressions/b+tag@example.com")
    assert status == 404
    status, _ = api(load_handler, lambda_context, merchant[0], "DELETE", "/suppressions/b+tag@example.com")
    assert status == 404
    status, _ = api(load_handler, lambda_context, "m-someone-else", "GET", "/suppressions/a@example.com")
    assert status == 404, "a merchant never sees another merchant's list"
    status, bad = api(load_handler, lambda_context, merchant[0], "GET", "/suppressions/not-an-email")
    assert status == 400 and bad["field"] == "email"


def test_a_removed_suppression_lets_the_next_email_go_out(
    stack, table, merchant, load_handler, lambda_context
):
    from couponflow.ids import customer_id
    from couponflow.store import claims

    address = f"back-{merchant[0]}@example.com"
    table.put(
        {
            **keys.suppression(merchant[0], address),
            "type": "suppression",
            "email": address,
            "reason": "complaint",
        }
    )
    campaign = Campaign(merchant[0], f"cmp_back{abs(hash(address)) % 10**8}", "Back", "Hi", "email")
    campaigns.create(table, campaign, "2026-11-22T10:00:00+00:00")
    campaigns.add_codes(table, merchant[0], campaign.campaign_id, ["BACK-1"], "2026-11-22T10:00:00+00:00")
    who = claims.Claimant(customer_id(merchant[0], address), address, None, False)
    record = claims.assign(
        table, campaign, who, now="2026-11-22T10:00:00+00:00", day="2026-11-22", message_id="msg_back"
    )
    job = {"merchant_id": merchant[0], "customer_id": who.customer_id, "message_id": record.message_id}

    status, _ = api(load_handler, lambda_context, merchant[0], "DELETE", f"/suppressions/{address}")
    assert status == 200
    load_handler("MailerFunction").lambda_handler(sqs_event([json.dumps(job)]), lambda_context)

    item = table.get(keys.message(merchant[0], who.customer_id, "msg_back"))
    assert item["status"] == "sent" and item["ses_message_id"]


# --- batches with unparseable records ---------------------------------------------------------


def test_a_batch_of_100_with_3_unparseable_applies_97_and_returns_exactly_those_3(
    table, campaign_with, load_handler, lambda_context
):
    sent = campaign_with(97)
    bodies = [ses_record("delivery", s) for s in sent]
    for position, junk in (
        (5, "not json"),
        (50, "{}"),
        (99, json.dumps({"Type": "Notification", "Message": "{"})),
    ):
        bodies.insert(position, junk)
    event = sqs_event(bodies)

    result = load_handler("SesEventsFunction").lambda_handler(event, lambda_context)

    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    assert failed == [event["Records"][i]["messageId"] for i in (5, 50, 99)]
    assert all(table.get(s.key)["status"] == "delivered" for s in sent)
    assert campaign_stats.counts(table, sent[0].merchant_id, sent[0].campaign_id)["delivered"] == 97


# --- hand-offs of unknown outcome ----------------------------------------------------------------


def test_a_hand_off_of_unknown_outcome_is_settled_by_its_events_or_shown_unknown_after_the_deadline(
    table, campaign_with, load_handler, lambda_context
):
    """Given two messages whose bulk call's answer was lost, when SES's Delivery comes for one
    (found by its message tags: we never learned SES's id) and nothing for the other, then the
    first is delivered, the second is ``unknown`` with the reason once the deadline passed, the
    counters follow, and a late event still moves the second on."""
    long_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    heard, silent = campaign_with(2, sent_at=long_ago, handed_off=False)
    why = "SES's answer to the hand-off was lost (Read timeout on endpoint URL)"
    for sent in (heard, silent):
        assert messages.mark_outcome_unknown(table, sent.key, at=long_ago, reason=why)
        assert table.get(sent.key)["gsi3pk"].startswith("UNKNOWN#")
    apply(load_handler, lambda_context, [ses_record("delivery", heard)])
    assert table.get(heard.key)["status"] == "delivered" and "gsi3pk" not in table.get(heard.key)

    housekeeping = load_handler("HousekeepingFunction")
    result = housekeeping.lambda_handler(load_event("housekeeping/scheduled"), lambda_context)

    assert result["unknown_outcomes"]["settled_unknown"] >= 1
    item = table.get(silent.key)
    assert (item["status"], item["status_details"]["reason"]) == ("unknown", "outcome_unknown")
    assert "Read timeout" in item["status_details"]["detail"] and "gsi3pk" not in item
    counts = campaign_stats.counts(table, silent.merchant_id, silent.campaign_id)
    assert (counts["unknown"], counts["delivered"]) == (1, 1)

    apply(load_handler, lambda_context, [ses_record("delivery", silent)])  # an outcome learned late
    assert table.get(silent.key)["status"] == "delivered"
    counts = campaign_stats.counts(table, silent.merchant_id, silent.campaign_id)
    assert (counts["unknown"], counts["delivered"]) == (0, 2)


# --- stale messages ---------------------------------------------------------------------------


def test_messages_without_a_final_status_after_72_hours_are_flagged_once_and_final_ones_are_not(
    table, merchant, campaign_with, load_handler, lambda_context
):
    old = (datetime.now(UTC) - timedelta(hours=73)).isoformat()
    stuck, delayed, delivered = campaign_with(3, sent_at=old)
    recent = campaign_with(1)[0]
    apply(
        load_handler,
        lambda_context,
        [ses_record("delivery_delay", delayed), ses_record("delivery", delivered)],
    )
    assert table.get(delivered.key)["gsi3pk"].startswith("AWAITING#"), "kept: the sweep reads past it"

    housekeeping = load_handler("HousekeepingFunction")
    first = housekeeping.lambda_handler(load_event("housekeeping/scheduled"), lambda_context)
    second = housekeeping.lambda_handler(load_event("housekeeping/scheduled"), lambda_context)

    assert first["stale_messages"] == {"flagged": 2, "read": 3}
    assert second["stale_messages"] == {"flagged": 0, "read": 0}, "each message is read once"
    assert table.get(stuck.key)["needs_attention"] is True
    assert table.get(delayed.key)["needs_attention"] is True
    assert "needs_attention" not in table.get(delivered.key)
    assert "needs_attention" not in table.get(recent.key)
    customer = f"/customers/{stuck.customer_id}/messages/{stuck.message_id}"
    event = merchant_event(merchant[0], "GET", "/customers/{customerRef}/messages/{messageId}", customer)
    event["pathParameters"] = {"customerRef": stuck.customer_id, "messageId": stuck.message_id}
    view = body_of(load_handler("MerchantApiFunction").lambda_handler(event, lambda_context))
    assert view["needs_attention"] is True and "72 hours" in view["needs_attention_reason"]

    apply(load_handler, lambda_context, [ses_record("delivery", stuck)])  # a late final status clears it
    assert "needs_attention" not in table.get(stuck.key)


def test_a_send_s_emails_wait_for_its_finish_to_go_on_the_awaiting_index_if_still_in_flight(
    table, campaign_with, load_handler, lambda_context
):
    """Given a segment send's emails, handed to SES without an awaiting entry, when the send
    finishes: the one delivered stays off the index, the one still in flight goes on it by its
    hand-off time (where the sweep reads it 72 hours after that, as the tests above show), the
    one handed off within 10 minutes of the 72 hours is flagged at once; a finish that runs again
    changes nothing."""
    now = datetime.now(UTC)
    later = (now - timedelta(minutes=30)).isoformat()
    long_ago = (now - timedelta(hours=71, minutes=55)).isoformat()  # within 10 minutes of the limit
    in_flight, delivered = campaign_with(2, handed_off=False)
    old = campaign_with(1, handed_off=False)[0]
    for sent, at in ((in_flight, later), (delivered, later), (old, long_ago)):
        table.update(sent.key, "SET send_id = :s", values={":s": "snd_stale"})
        item = table.get(sent.key)
        messages.record_sent(table, [(item, sent.ses_id)], at=at)
        assert table.get(sent.key)["status"] == "sent" and "gsi3pk" not in table.get(sent.key)
    claimed = campaign_with(1, handed_off=False)[0]  # a storefront claim's email: on the index at once
    messages.record_sent(table, [(table.get(claimed.key), claimed.ses_id)], at=later)
    assert table.get(claimed.key)["gsi3pk"].startswith("AWAITING#")
    apply(load_handler, lambda_context, [ses_record("delivery", delivered)])

    def finish() -> dict[str, int]:
        return watch_in_flight(table, [table.get(s.key) for s in (in_flight, delivered, old)], now)

    assert finish() == {"watched": 1, "flagged": 1}
    assert finish() == {"watched": 0, "flagged": 0}
    entry = table.get(in_flight.key)
    assert (entry["gsi3pk"], entry["gsi3sk"]) == (
        keys.awaiting_index(in_flight.message_id, later)["gsi3pk"],
        f"{later}#{in_flight.message_id}",
    )
    assert "gsi3pk" not in table.get(delivered.key) and "needs_attention" not in table.get(delivered.key)
    assert table.get(old.key)["needs_attention"] is True and "gsi3pk" not in table.get(old.key)


def test_the_stale_sweep_reads_on_past_its_mark_as_messages_come_of_age(table, campaign_with):
    """Given a sweep that has read every message older than 72 hours, when later messages come
    of age it reads those alone, and a sweep with an earlier clock never moves the mark back."""
    sweep = FlagStaleMessages(table)
    now = datetime.now(UTC)
    sweep(now + timedelta(hours=72, minutes=1))  # every message so far (other tests') is read
    first, second = campaign_with(2, sent_at=(now + timedelta(hours=1)).isoformat())

    not_yet = sweep(now + timedelta(hours=72, minutes=30))
    assert not_yet == {"flagged": 0, "read": 0}, "the messages are not 72 hours old yet"
    read = sweep(now + timedelta(hours=73, minutes=1))
    again = sweep(now + timedelta(hours=74))
    earlier = sweep(now)

    assert read["flagged"] >= 2 and read["flagged"] == read["read"]
    assert table.get(first.key)["needs_attention"] and table.get(second.key)["needs_attention"]
    assert again == earlier == {"flagged": 0, "read": 0}


# --- retention --------------------------------------------------------------------------------


def test_the_merchant_retention_setting_is_the_ttl_of_the_events_stored_after_it(
    stack, merchant, campaign_with, load_handler, lambda_context
):
    def settings_call(method: str, body: Any = None) -> tuple[int, Any]:
        event = merchant_event(merchant[0], method, "/settings", "/settings", body=body)
        response = load_handler("MerchantApiFunction").lambda_handler(event, lambda_context)
        return response["statusCode"], body_of(response)

    assert settings_call("GET") == (
        200,
        {"message_event_retention_days": 180, "notification_email": None, "notice_webhook": None},
    )
    status, bad = settings_call("PATCH", {"message_event_retention_days": 0})
    assert status == 422 and "message_event_retention_days" in json.dumps(bad)
    status, changed = settings_call("PATCH", {"message_event_retention_days": 30})
    assert status == 200 and changed["message_event_retention_days"] == 30

    sent = campaign_with(1)[0]
    apply(load_handler, lambda_context, [ses_record("delivery", sent)])
    events = Table(stack.physical["MessageEventsTable"])
    message = Table(stack.physical["CouponflowTable"]).get(
        keys.message(sent.merchant_id, sent.customer_id, sent.message_id)
    )
    assert message is not None

    (held,) = messages.timeline(events, message, now_epoch=int(datetime.now(UTC).timestamp()))
    expected = (datetime.now(UTC) + timedelta(days=30)).timestamp()
    assert held["event_type"] == "delivery" and abs(held["expires_at"] - expected) < 600

    # the open that takes over the status writes the delivery out, with the expiry it was held for
    apply(load_handler, lambda_context, [ses_record("open", sent)])
    stored = events.query(
        "pk = :pk", {":pk": keys.message_events_partition(sent.merchant_id, sent.message_id)}
    )
    assert [(e["event_type"], e["expires_at"]) for e in stored] == [("delivery", held["expires_at"])]


# --- order and duplicates never change the counts ---------------------------------------------

STREAM = ["send", "delivery_delay", "delivery", "open", "click", "bounce"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    order=st.permutations(STREAM),
    repeats=st.lists(st.integers(min_value=1, max_value=3), min_size=len(STREAM), max_size=len(STREAM)),
)
def test_any_order_with_duplicates_counts_each_message_once_under_its_final_status(
    stack, table, campaign_with, load_handler, lambda_context, order, repeats
):
    sent = campaign_with(1)[0]
    bodies = [
        ses_record(kind, sent) for kind, times in zip(order, repeats, strict=True) for _ in range(times)
    ]
    apply(load_handler, lambda_context, bodies)

    counts = campaign_stats.counts(table, sent.merchant_id, sent.campaign_id)
    assert {k: v for k, v in counts.items() if v} == {"bounced": 1}
    assert table.get(sent.key)["status"] == "bounced"
    timeline = Table(stack.physical["MessageEventsTable"]).query(
        "pk = :pk", {":pk": keys.message_events_partition(sent.merchant_id, sent.message_id)}
    )
    assert len(timeline) == len(STREAM), "each event is in the timeline once"


DELIVERY_PATH = ["send", "delivery_delay", "delivery", "open", "click"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    order=st.permutations(DELIVERY_PATH),
    repeats=st.lists(
        st.integers(min_value=1, max_value=3), min_size=len(DELIVERY_PATH), max_size=len(DELIVERY_PATH)
    ),
    cuts=st.lists(st.booleans(), min_size=15, max_size=15),
)
def test_delivery_path_events_in_any_order_and_batches_are_each_in_the_timeline_once(
    stack, table, campaign_with, load_handler, lambda_context, order, repeats, cuts
):
    """The event that decides the status is held on the message and each one it displaced is
    written out: whatever the order, the repeats and the batches, each event is in the timeline
    once, and the message is counted once."""
    sent = campaign_with(1)[0]
    bodies = [
        ses_record(kind, sent) for kind, times in zip(order, repeats, strict=True) for _ in range(times)
    ]
    batches: list[list[str]] = [[]]
    for body, cut in zip(bodies, [*cuts, *[False] * len(bodies)], strict=False):
        batches[-1].append(body)
        if cut:
            batches.append([])
    for batch in filter(None, batches):
        assert apply(load_handler, lambda_context, batch) == {"batchItemFailures": []}

    counts = campaign_stats.counts(table, sent.merchant_id, sent.campaign_id)
    assert {k: v for k, v in counts.items() if v} == {"clicked": 1}
    item = table.get(sent.key)
    events = Table(stack.physical["MessageEventsTable"])
    timeline = messages.timeline(events, item, now_epoch=int(datetime.now(UTC).timestamp()))
    assert sorted(e["event_type"] for e in timeline) == sorted(DELIVERY_PATH)
    assert messages.is_held(item, f"EVENT#{item['status_event']}")
    stored = events.query(
        "pk = :pk", {":pk": keys.message_events_partition(sent.merchant_id, sent.message_id)}
    )
    assert "click" not in {e["event_type"] for e in stored}, "the click is held, not written twice"


def test_an_event_written_out_by_a_move_that_then_failed_is_in_the_timeline_once(
    stack, table, campaign_with, load_handler, lambda_context, monkeypatch
):
    """Given a delivered message holding its Delivery, when the Open's move writes the Delivery
    out and then fails (the function dies before its transaction), then the Delivery is both
    written out and still held, and the timeline shows it once; the Open's retry moves the
    message, and each event is in the timeline once."""
    sent = campaign_with(1)[0]
    assert apply(load_handler, lambda_context, [ses_record("delivery", sent)]) == {"batchItemFailures": []}
    events = Table(stack.physical["MessageEventsTable"])
    partition = keys.message_events_partition(sent.merchant_id, sent.message_id)

    def timeline() -> list[str]:
        item = table.get(sent.key)
        return [
            e["event_type"]
            for e in messages.timeline(events, item, now_epoch=int(datetime.now(UTC).timestamp()))
        ]

    def dies(self: Table, actions: Any, **kwargs: Any) -> None:
        raise ConnectionError("the function died here")

    with monkeypatch.context() as patched:
        patched.setattr(Table, "transact", dies)
        with pytest.raises(BatchProcessingError):  # Powertools: every record of the batch failed
            apply(load_handler, lambda_context, [ses_record("open", sent)])
    assert [e["event_type"] for e in events.query("pk = :pk", {":pk": partition})] == ["delivery"]
    assert table.get(sent.key)["status"] == "delivered" and timeline() == ["delivery"]

    assert apply(load_handler, lambda_context, [ses_record("open", sent)]) == {"batchItemFailures": []}
    assert table.get(sent.key)["status"] == "opened"
    assert sorted(timeline()) == ["delivery", "open"]


# --- delivery-path events of a batch move together -------------------------------------------


def test_a_batch_of_deliveries_moves_its_messages_in_one_transaction_with_exact_counts(
    table, campaign_with, load_handler, lambda_context
):
    """Given 20 sent messages of a campaign, when a batch brings each one's Delivery and two Opens,
    then one transaction moves them all (one counter update for the campaign, not one each),
    and the counts are those of the one-by-one path."""
    sent = campaign_with(20)
    bodies = [ses_record("delivery", s) for s in sent] + [ses_record("open", s) for s in sent[:2]]
    transactions: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        transactions.append(len(params["TransactItems"]))

    client = dynamodb.client()
    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", count)
    try:
        assert apply(load_handler, lambda_context, bodies) == {"batchItemFailures": []}
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb.TransactWriteItems", count)

    assert transactions == [21]  # 20 messages and the campaign's counter
    counts = stats(load_handler, lambda_context, sent[0])["counts"]
    assert {k: v for k, v in counts.items() if v} == {"delivered": 18, "opened": 2}
    assert [messages.get(table, s.merchant_id, s.customer_id, s.message_id)["status"] for s in sent[:3]] == [
        "opened",
        "opened",
        "delivered",
    ]


@pytest.mark.parametrize(
    "refusal",
    [
        TransactionCanceled(["ConditionalCheckFailed", "None", "None", "None", "None"], [None]),
        RetryableError("transaction conflict: ['TransactionConflict']"),
    ],
    ids=["a message moved meanwhile", "a conflict with another transaction"],
)
def test_when_the_batch_transaction_is_refused_each_event_is_applied_on_its_own(
    table, campaign_with, load_handler, lambda_context, monkeypatch, refusal
):
    """The batch's transaction is conditioned on each status read, and DynamoDB cancels one that
    meets another transaction; either way every event is still applied, one by one."""
    sent = campaign_with(4)
    real = Table.transact
    canceled: list[int] = []

    def first_batch_canceled(self: Table, actions: list[Any]) -> None:
        if len(actions) > 2 and not canceled:
            canceled.append(len(actions))
            raise refusal
        real(self, actions)

    monkeypatch.setattr(Table, "transact", first_batch_canceled)
    assert apply(load_handler, lambda_context, [ses_record("delivery", s) for s in sent]) == {
        "batchItemFailures": []
    }
    assert canceled == [5]
    counts = stats(load_handler, lambda_context, sent[0])["counts"]
    assert {k: v for k, v in counts.items() if v} == {"delivered": 4}


def test_a_stale_read_of_a_message_never_replaces_the_event_it_holds(
    stack, table, campaign_with, load_handler, lambda_context, monkeypatch
):
    """Given a sent message that holds its Send event, when a batch's eventually consistent read
    returns the copy from before that (sent, holding nothing), then its Delivery's move is
    refused on the held event, made again on a consistent read, and the Send is written out:
    each event is in the timeline once."""
    sent = campaign_with(1)[0]
    before = table.get(sent.key)
    assert before is not None and not messages.holds_event(before)
    assert apply(load_handler, lambda_context, [ses_record("send", sent)]) == {"batchItemFailures": []}
    assert messages.holds_event(table.get(sent.key))
    real = Table.batch_get

    def stale(self: Table, wanted: Any, *, consistent: bool = False) -> list[Any]:
        found = real(self, wanted, consistent=consistent)
        return found if consistent else [before if i["sk"] == before["sk"] else i for i in found]

    monkeypatch.setattr(Table, "batch_get", stale)
    assert apply(load_handler, lambda_context, [ses_record("delivery", sent)]) == {"batchItemFailures": []}
    events = Table(stack.physical["MessageEventsTable"])
    item = table.get(sent.key)
    timeline = messages.timeline(events, item, now_epoch=int(datetime.now(UTC).timestamp()))
    assert item["status"] == "delivered"
    assert sorted(e["event_type"] for e in timeline) == ["delivery", "send"]
