"""Text messages as messages: the fan-out records each SMS (``sent`` with SNS's id, or ``failed``
with SNS's refusal), SNS's delivery status logs (CloudWatch Logs subscription payloads, from
``events/sms_receipts/``) move them to ``delivered`` or ``failed`` by the same precedence as
email, and the finished send counts them. Handlers on moto's server.

The handlers run here on moto without the local stack (whose SMS simulator writes the delivery
status logs: tests/e2e/test_sms_receipts.py), so the receipts function is invoked with the sample
payloads, their message id and phone number set to the texts moto's SNS accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.models.api import CampaignIn
from couponflow.models.audience import CustomerIn, SegmentIn
from couponflow.models.sends import SendIn
from couponflow.services import audience, campaigns
from couponflow.services.sends import scheduler_from
from couponflow.settings.merchant_api import SendScheduleSettings
from couponflow.sms_delivery_logs import BadDeliveryLog, decode_awslogs, encode_awslogs
from couponflow.store import campaign_stats

from tests.conftest import load_event
from tests.integration.helpers import body_of, drain_queue, sqs_event

PHONES = {"a": "+14155550123", "b": "+14155550124", "c": "+14155550125"}
REFUSED = "+04155550124"  # a number SNS refuses (moto's SNS checks E.164 as SNS does)


@pytest.fixture()
def table(stack: Any) -> Table:
    return Table(stack.physical["CouponflowTable"])


def _receipt(sample: str, sns_message_id: str, phone: str, timestamp: str) -> dict[str, Any]:
    """The sample subscription payload, about the text SNS knows as ``sns_message_id``."""
    payload = decode_awslogs(load_event(f"sms_receipts/{sample}"))
    record = json.loads(payload["logEvents"][0]["message"])
    record["notification"].update({"messageId": sns_message_id, "timestamp": timestamp})
    record["delivery"]["destination"] = phone
    return encode_awslogs(payload["logGroup"], [json.dumps(record)])


def _sms_message(api: Callable[..., dict[str, Any]], m: str, customer_id: str) -> dict[str, Any]:
    view = body_of(api(m, "GET", "/customers/{customerId}", f"/customers/{customer_id}"))
    texts = [msg for msg in view["messages"] if msg.get("channel") == "sms"]
    assert len(texts) == 1, view["messages"]
    return dict(texts[0])


def _sms_send(
    stack: Any, table: Table, m: str, load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> tuple[str, dict[str, Any], dict[str, str], dict[str, Any]]:
    """An SMS send to the three PHONES, started: (send id, its one chunk, ids by name, campaign)."""
    starter = load_handler("SendStarterFunction")
    load_handler("MerchantApiFunction")
    drain_queue(stack.physical["SendFanoutQueue"])
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    people = [CustomerIn(phone=p, first_name=n, last_interaction_at=recent) for n, p in PHONES.items()]
    audience.import_customers(table, m, people)
    ids = {str(p.first_name): audience.id_for(m, p) for p in people}
    segment = audience.create_segment(table, m, SegmentIn(name="Texters"))["segment_id"]
    audience.change_members(table, m, segment, list(ids.values()), add=True)
    campaign = campaigns.create_campaign(
        table, m, CampaignIn(name="Txt", codes=["TXT-001", "TXT-002", "TXT-003"])
    )
    send_at = (datetime.now(UTC) + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    send = scheduler_from(table, SendScheduleSettings.from_env()).schedule(
        m,
        SendIn.model_validate(
            {
                "segment_id": segment,
                "campaign_id": campaign["campaign_id"],
                "send_at": send_at.isoformat(),
                "channel": "sms",
            }
        ),
    )
    send_id = str(send["send_id"])
    assert (
        starter.lambda_handler({"merchant_id": m, "send_id": send_id}, lambda_context)["outcome"] == "started"
    )
    [chunk] = [c for c in drain_queue(stack.physical["SendFanoutQueue"]) if c["send_id"] == send_id]
    return send_id, chunk, ids, campaign


def test_texts_are_messages_sent_or_failed_and_receipts_move_them_by_precedence_idempotently(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    api: Callable[..., dict[str, Any]],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    m = merchant[0]
    fanout = load_handler("SendFanoutFunction")
    receipts = load_handler("SmsReceiptsFunction")
    housekeeping = load_handler("HousekeepingFunction")
    send_id, chunk, ids, campaign = _sms_send(stack, table, m, load_handler, lambda_context)
    for recipient in chunk["recipients"]:  # SNS will refuse b's number
        if recipient["customer_id"] == ids["b"]:
            recipient["phone"] = REFUSED
    for _ in range(2):  # the chunk is delivered twice: nothing is texted or recorded twice
        assert fanout.lambda_handler(sqs_event([json.dumps(chunk)]), lambda_context) == {
            "batchItemFailures": []
        }

    a, b, c = (_sms_message(api, m, ids[n]) for n in "abc")
    assert (a["status"], a["recipient"], a["send_id"], a["campaign_id"]) == (
        "sent",
        PHONES["a"],
        send_id,
        campaign["campaign_id"],
    )
    assert a["sns_message_id"] and c["sns_message_id"] and a["code"].startswith("TXT-")
    assert (b["status"], b["status_details"]["reason"]) == ("failed", "sns_refused")
    assert "E164" in b["status_details"]["error"]

    delivered = _receipt("awslogs_delivered", a["sns_message_id"], PHONES["a"], "2026-11-22 20:00:03.558")
    assert receipts.lambda_handler(delivered, lambda_context) == {"moved": 1}
    assert receipts.lambda_handler(delivered, lambda_context) == {"unchanged": 1}  # a duplicate
    a = _sms_message(api, m, ids["a"])
    assert a["status"] == "delivered"
    assert a["status_details"]["provider_response"] == "Message has been accepted by phone carrier"
    assert [(e["event_type"], e["status"]) for e in a["events"]] == [("SmsDelivery", "delivered")]

    # c: the failure arrives first, a late success must not overwrite it
    failed = _receipt("awslogs_failed", c["sns_message_id"], PHONES["c"], "2026-11-22 20:00:04.559")
    late = _receipt("awslogs_delivered", c["sns_message_id"], PHONES["c"], "2026-11-22 20:00:02.000")
    assert receipts.lambda_handler(failed, lambda_context) == {"moved": 1}
    assert receipts.lambda_handler(late, lambda_context) == {"unchanged": 1}
    c = _sms_message(api, m, ids["c"])
    assert (c["status"], c["status_details"]["provider_response"]) == (
        "failed",
        "Unknown error attempting to reach phone",
    )
    assert len(c["events"]) == 2  # both receipts are in the timeline

    # The finished send counts texts like emails: delivered or sent is sent, failed is sms_failed.
    later = datetime.now(UTC) + timedelta(hours=1)
    assert housekeeping.tasks["finish_sends"].finish(m, send_id, later)
    done = body_of(api(m, "GET", "/sends/{sendId}", f"/sends/{send_id}"))
    assert (done["counts"]["sent"], done["counts"]["failed"], done["failed_by_reason"]) == (
        1,
        2,
        {"sms_failed": 2},
    )
    # The campaign's counters are its emails' (the reputation guard's rates): texts stay out.
    stats = campaign_stats.counts(table, m, campaign["campaign_id"])
    assert stats["delivered"] == stats["failed"] == stats["sent"] == 0


def test_a_receipt_for_a_text_we_did_not_send_is_an_orphan_and_a_bad_line_fails_after_the_good_ones(
    load_handler: Callable[[str], ModuleType], lambda_context: Any
) -> None:
    receipts = load_handler("SmsReceiptsFunction")
    orphan = load_event("sms_receipts/awslogs_delivered")
    assert receipts.lambda_handler(orphan, lambda_context) == {"orphan": 1}

    good = load_event("sms_receipts/record_failure")
    mixed = encode_awslogs(
        "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure",
        [json.dumps(good), '{"notification": {"timestamp": "2026-11-22 20:00:00.000"}, "status": "LOST"}'],
    )
    with pytest.raises(BadDeliveryLog, match="1 log line"):
        receipts.lambda_handler(mixed, lambda_context)
    with pytest.raises(BadDeliveryLog, match="not a CloudWatch Logs subscription payload"):
        receipts.lambda_handler({"awslogs": {"data": "bm90IGd6aXA="}}, lambda_context)


def test_a_text_sns_could_not_take_now_is_failed_not_left_queued_and_the_chunk_resumes(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    api: Callable[..., dict[str, Any]],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from couponflow.adapters import sns
    from couponflow.errors import RetryableError

    m = merchant[0]
    fanout = load_handler("SendFanoutFunction")
    _, chunk, ids, _ = _sms_send(stack, table, m, load_handler, lambda_context)
    real = sns.send_sms

    def throttled_for_a(phone: str, text: str, **kw: Any) -> str:
        if phone == PHONES["a"]:
            raise RetryableError("SNS Throttling: rate exceeded")
        return real(phone, text, **kw)

    tried: list[str] = []
    monkeypatch.setattr(
        sns, "send_sms", lambda phone, text, **kw: tried.append(phone) or throttled_for_a(phone, text, **kw)
    )
    event = sqs_event([json.dumps(chunk)])
    # SNS answered each of 3 tries with an error; the chunk failed there and resumed in the same
    # invocation for the recipients after it, never texting the first one again
    assert fanout.lambda_handler(event, lambda_context) == {"batchItemFailures": []}
    assert tried.count(PHONES["a"]) == 3
    a = _sms_message(api, m, ids["a"])
    assert (a["status"], a["status_details"]["reason"]) == ("failed", "sns_unavailable")
    assert [_sms_message(api, m, ids[n])["status"] for n in "bc"] == ["sent", "sent"]


def test_a_texted_code_is_never_released_when_its_email_bounces_or_is_dropped(
    stack: Any,
    table: Table,
    merchant: tuple[str, str],
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
) -> None:
    from couponflow.domain.message_status import MessageStatus
    from couponflow.services import release
    from couponflow.store import claims

    m = merchant[0]
    fanout = load_handler("SendFanoutFunction")
    _, chunk, ids, campaign = _sms_send(stack, table, m, load_handler, lambda_context)
    assert fanout.lambda_handler(sqs_event([json.dumps(chunk)]), lambda_context) == {"batchItemFailures": []}
    claim = claims.get(table, m, ids["a"], campaign["campaign_id"])
    assert claim is not None and claim.code and claim.message_id

    # Its coupon email bounced (a "both" send to a bad address, say): the texted code stays theirs.
    assert not release.release_if_undelivered(table, m, ids["a"], claim.message_id, MessageStatus.BOUNCED)
    after = claims.get(table, m, ids["a"], campaign["campaign_id"])
    assert after is not None and (after.status, after.code) == ("claimed", claim.code)
