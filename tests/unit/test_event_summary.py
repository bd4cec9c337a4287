"""Each message event's one-line summary: what happened in words, the server's words quoted."""

from __future__ import annotations

import pytest
from couponflow.domain.event_summary import QUOTE_MAX, summary


@pytest.mark.parametrize(
    ("event_type", "details", "expected"),
    [
        (
            "bounce",
            {
                "bounce_type": "Transient",
                "bounce_sub_type": "MailboxFull",
                "diagnostic_code": "smtp; 552 5.2.2 full",
            },
            'Mailbox full: the receiving server answered "smtp; 552 5.2.2 full"',
        ),
        (
            "bounce",
            {"bounce_type": "Permanent", "bounce_sub_type": "General", "status": "5.1.1"},
            'Hard bounce: the receiving server answered "5.1.1"',
        ),
        ("click", {"link": "https://shop.example/c?x=1"}, "Clicked https://shop.example/c?x=1"),
        (
            "delivery",
            {"smtp_response": "250 2.0.0 OK"},
            'Delivered: the receiving server answered "250 2.0.0 OK"',
        ),
        ("complaint", {"feedback_type": "abuse"}, "Marked as spam (abuse)"),
        (
            "delivery_delay",
            {"delay_type": "MailboxFull", "expiration_time": "2026-12-04T10:00:00+00:00"},
            "Delayed (MailboxFull), retrying until 2026-12-04T10:00:00+00:00",
        ),
        (
            "SmsFailure",
            {"provider_response": "Phone is unreachable"},
            'Text not delivered: the carrier answered "Phone is unreachable"',
        ),
        ("open", {}, "Opened"),
    ],
)
def test_the_summary_says_what_happened_and_quotes_the_server(event_type, details, expected):
    assert summary(event_type, details) == expected


def test_long_server_words_are_shortened_in_the_summary_only():
    words = "x" * 1000
    line = summary(
        "bounce", {"bounce_type": "Permanent", "bounce_sub_type": "General", "diagnostic_code": words}
    )
    assert len(line) < QUOTE_MAX + 60 and line.endswith('…"')
