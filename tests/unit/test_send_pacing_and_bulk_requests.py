"""Pacing arithmetic under SES's sending rate, and the SendBulkEmail request we build."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser

import pytest
from couponflow.adapters.ses import BulkEntry, BulkResult, bulk_request
from couponflow.domain.coupon_email import (
    CouponEmail,
    bulk_template,
    bulk_template_data,
    render,
    unsubscribe_headers,
)
from couponflow.domain.send_pacing import (
    MAX_BULK_ENTRIES,
    bulk_size,
    chunks,
    fits,
    lane_budget,
    per_second_budget,
    room_needed,
    seconds_until_next_window,
    throttle_backoff,
)
from local_stack.moto_patches import render_entry, render_handlebars

# --- pacing arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "budget", "size"),
    [(1.0, 1, 1), (14.0, 14, 14), (14.9, 14, 14), (50.0, 50, 50), (200.0, 200, 50), (0.5, 1, 1), (0.0, 1, 1)],
)
def test_a_second_allows_the_whole_sends_of_the_rate_and_a_bulk_call_never_exceeds_it_nor_50(
    rate: float, budget: int, size: int
) -> None:
    assert per_second_budget(rate) == budget
    assert bulk_size(rate) == size
    assert bulk_size(rate) <= MAX_BULK_ENTRIES


@pytest.mark.parametrize(
    ("budget", "sends_share"), [(1, 1), (2, 1), (9, 8), (10, 9), (14, 13), (50, 45), (200, 180)]
)
def test_a_segment_send_leaves_claims_a_share_of_every_second_and_claims_may_fill_it(
    budget: int, sends_share: int
) -> None:
    assert lane_budget(budget, segment_send=True) == sends_share
    assert lane_budget(budget, segment_send=False) == budget
    assert bulk_size(float(budget), segment_send=True) == min(50, sends_share)


def test_chunks_cover_every_item_once_in_calls_of_at_most_the_size() -> None:
    assert chunks(120, 50) == [(0, 50), (50, 100), (100, 120)]
    assert chunks(14, 14) == [(0, 14)]
    assert chunks(0, 50) == []
    with pytest.raises(ValueError, match="at least 1"):
        chunks(3, 0)


def test_a_reservation_fits_only_while_the_second_keeps_room_for_all_of_it() -> None:
    assert room_needed(14, 14) == 0
    assert fits(used=0, budget=14, count=14)
    assert not fits(used=1, budget=14, count=14)
    assert fits(used=10, budget=14, count=4)
    assert not fits(used=11, budget=14, count=4)
    assert room_needed(14, 15) < 0 and not fits(used=0, budget=14, count=15)


def test_waiting_for_the_next_second_is_never_zero_and_never_more_than_a_second() -> None:
    assert seconds_until_next_window(100.25) == pytest.approx(0.75)
    assert 0 < seconds_until_next_window(100.0) <= 1.0
    assert seconds_until_next_window(100.9999999) > 0


def test_throttling_backoff_doubles_up_to_its_cap() -> None:
    assert [throttle_backoff(n, base=0.25, cap=4.0) for n in range(0, 7)] == [
        0.0,
        0.25,
        0.5,
        1.0,
        2.0,
        4.0,
        4.0,
    ]


# --- the bulk request ---------------------------------------------------------------------------

UNSUB = "https://api.example.com/v1/public/unsubscribe?t=abc&u=1"


def _entry(i: int) -> BulkEntry:
    url = f"{UNSUB}{i}"
    values = {"code": f"CODE-{i}", "campaign": "Fish & Chips", "name": f"Ann <{i}>", "email": f"a{i}@x.com"}
    return BulkEntry(
        recipient=f"a{i}@x.com",
        template_data=bulk_template_data({**values, "coupon_url": f"https://c.example.com/{i}"}, url),
        headers=unsubscribe_headers(url),
        tags={"merchant": "m1", "campaign": "c1", "customer": f"cus{i}", "message": f"msg{i}"},
    )


def test_a_bulk_request_carries_one_entry_per_recipient_with_its_own_headers_data_and_tags() -> None:
    template = bulk_template("Your {{campaign}} code", None, None)
    request = bulk_request(
        sender="coupons@shop.example.com",
        configuration_set="couponflow-coupons",
        template=template,
        entries=[_entry(0), _entry(1)],
    )
    assert request["ConfigurationSetName"] == "couponflow-coupons"
    content = request["DefaultContent"]["Template"]["TemplateContent"]
    assert content["Subject"] == "Your {{{campaign}}} code"
    assert "{{{code_html}}}" in content["Html"] and "{{{code}}}" in content["Text"]
    first, second = request["BulkEmailEntries"]
    assert first["Destination"] == {"ToAddresses": ["a0@x.com"]}
    assert first["ReplacementHeaders"] == [
        {"Name": "List-Unsubscribe", "Value": f"<{UNSUB}0>"},
        {"Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"},
    ]
    assert second["ReplacementHeaders"][0]["Value"] == f"<{UNSUB}1>"
    assert {t["Name"]: t["Value"] for t in second["ReplacementTags"]} == {
        "merchant": "m1",
        "campaign": "c1",
        "customer": "cus1",
        "message": "msg1",
    }
    data = json.loads(second["ReplacementEmailContent"]["ReplacementTemplate"]["ReplacementTemplateData"])
    assert data["code"] == "CODE-1" and data["name_html"] == "Ann &lt;1&gt;"


@pytest.mark.parametrize("count", [0, 51])
def test_a_bulk_request_takes_1_to_50_entries(count: int) -> None:
    with pytest.raises(ValueError, match="1 to 50"):
        bulk_request(
            sender="s@x.com",
            configuration_set="cs",
            template=bulk_template("s", None, None),
            entries=[_entry(i) for i in range(count)],
        )


def test_an_entry_result_is_sent_only_with_success_and_an_id_and_rejections_are_permanent() -> None:
    assert BulkResult("SUCCESS", "id-1").sent
    assert not BulkResult("SUCCESS", None).sent
    assert BulkResult("MESSAGE_REJECTED", error="bad").permanent
    throttled = BulkResult("ACCOUNT_THROTTLED")
    assert not throttled.sent and not throttled.permanent  # retried, not failed


def test_ses_rendering_of_the_bulk_template_reads_exactly_like_the_raw_email() -> None:
    """What SES fills in per recipient (Handlebars) equals what ``render`` builds for one message."""
    subject, html_template = "{{name}}, {{campaign}}: {{ code }}", "<p>{{name}} {{code}} {{#if x}}</p>"
    text_template = "Hi {{name}}: {{code}} {{coupon_url}} {{unsubscribe_url}}"
    values = {"code": "A&B<1>", "campaign": "Fish & Chips", "name": 'Zoë "Z"', "email": "z@x.com"}
    values["coupon_url"] = "https://c.example.com/1?a=1&b=2"
    email = CouponEmail("s@shop.example.com", "z@x.com", subject, html_template, text_template, values, UNSUB)
    raw = BytesParser(policy=policy.default).parsebytes(render(email))

    template = bulk_template(subject, html_template, text_template)
    data = bulk_template_data(values, UNSUB)
    assert render_handlebars(template.subject, data) == raw["Subject"]
    text_part, html_part = (p.get_content() for p in raw.iter_parts())
    assert render_handlebars(template.text, data) == text_part.rstrip("\n")
    assert render_handlebars(template.html, data) == html_part.rstrip("\n")
    assert "{{#if x}}" in render_handlebars(template.html, data)  # not ours: left as written


def test_the_local_ses_renders_each_bulk_entry_with_its_own_unsubscribe_headers() -> None:
    request = bulk_request(
        sender="coupons@shop.example.com",
        configuration_set="cs",
        template=bulk_template("Your {{campaign}} code", None, None),
        entries=[_entry(0), _entry(1)],
    )
    rendered = render_entry(request, 1)
    data = rendered.data
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert rendered.destinations == ["a1@x.com"]
    assert message["To"] == "a1@x.com" and message["Subject"] == "Your Fish & Chips code"
    assert message["List-Unsubscribe"] == f"<{UNSUB}1>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "CODE-1" in data.decode()


# --- the mail job -----------------------------------------------------------------------------


def test_a_mail_job_names_one_message_or_a_list_of_up_to_50() -> None:
    from couponflow.services.mailer import MailJob
    from pydantic import ValidationError

    from tests.conftest import load_event

    single = MailJob.model_validate_json(load_event("mailer/mail_job")["Records"][0]["body"])
    bundle = MailJob.model_validate_json(load_event("mailer/mail_job_of_a_send")["Records"][0]["body"])
    assert [t.message_id for t in single.targets()] == ["msg_0000"]
    assert [t.message_id for t in bundle.targets()] == ["msg_0001", "msg_0002"]
    for bad in (
        {"merchant_id": "m1"},
        {"merchant_id": "m1", "customer_id": "c1"},
        {"merchant_id": "m1", "customer_id": "c1", "message_id": "x", "messages": [single.targets()[0]]},
        {"merchant_id": "m1", "messages": [{"customer_id": "c", "message_id": f"m{i}"} for i in range(51)]},
    ):
        with pytest.raises(ValidationError):
            MailJob.model_validate(bad)
