"""The SES simulator publishes Open and Click when a recipient follows a link from an email it saw."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email.message import EmailMessage
from typing import Any

from local_stack import LocalStack
from local_stack.ses_simulator import links_in_body

SENDER = "sender@fixture.example"


def coupon_email(to: str, link: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = SENDER, to, "Your coupon"
    message.set_content(f"Check your coupon: {link}\n" + "x" * 200)  # long lines: quoted-printable
    message.add_alternative(f'<p><a href="{link}&amp;x=1">Check</a> {"y" * 200}</p>', subtype="html")
    return message.as_bytes()


def test_links_are_read_from_encoded_text_and_html_parts():
    link = "https://api.example/v1/public/merchants/m1/coupons/eyJ9.abc-_"
    raw = coupon_email("a@example.com", link)
    assert link.encode() not in raw or b"quoted-printable" in raw or b"base64" in raw
    assert links_in_body(raw) == [link, link + "&x=1"]


def test_following_an_emailed_link_publishes_open_then_click(stack: LocalStack, ses_events: Any) -> None:
    to = "success+link@simulator.amazonses.com"
    link = f"{stack.api_url}/items/coupon-1"
    response = stack.client("sesv2").send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [to]},
        Content={"Raw": {"Data": coupon_email(to, link)}},
        ConfigurationSetName=stack.resources["ConfigSet"],
    )
    message_id = response["MessageId"]
    ses_events.wait_for(message_id, 2)  # Send, Delivery

    try:  # the recipient follows the link (whatever the route answers, the click happened)
        urllib.request.urlopen(link, timeout=10).close()
    except urllib.error.HTTPError as answer:
        answer.close()

    records = {r["eventType"]: r for r in ses_events.wait_for(message_id, 4)}
    assert records["Click"]["click"]["link"] == link
    assert records["Open"]["mail"]["destination"] == [to]
    assert records["Click"]["mail"]["messageId"] == message_id


def test_each_bulk_sent_email_is_seen_with_its_own_tags_and_links_like_a_single_send(
    stack: LocalStack, ses_events: Any
) -> None:
    recipients = [f"success+bulk{i}@simulator.amazonses.com" for i in range(2)]
    response = stack.client("sesv2").send_bulk_email(
        FromEmailAddress=SENDER,
        ConfigurationSetName=stack.resources["ConfigSet"],
        DefaultContent={
            "Template": {
                "TemplateContent": {
                    "Subject": "Your code {{{code}}}",
                    "Text": "Check your coupon: {{{link}}}",
                    "Html": '<p><a href="{{{link}}}">Check</a></p>',
                },
                "TemplateData": "{}",
            }
        },
        BulkEmailEntries=[
            {
                "Destination": {"ToAddresses": [to]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": json.dumps(
                            {"code": f"C{i}", "link": f"{stack.api_url}/items/bulk-{i}"}
                        )
                    }
                },
                "ReplacementHeaders": [{"Name": "List-Unsubscribe", "Value": f"<https://u.example/{i}>"}],
                "ReplacementTags": [{"Name": "message", "Value": f"msg-bulk-{i}"}],
            }
            for i, to in enumerate(recipients)
        ],
    )
    results = response["BulkEmailEntryResults"]
    assert [r["Status"] for r in results] == ["SUCCESS", "SUCCESS"]
    second = results[1]["MessageId"]
    records = {r["eventType"]: r for r in ses_events.wait_for(second, 2)}
    mail = records["Delivery"]["mail"]
    assert mail["destination"] == [recipients[1]] and mail["tags"]["message"] == ["msg-bulk-1"]
    assert mail["commonHeaders"]["subject"] == "Your code C1"
    assert {"name": "List-Unsubscribe", "value": "<https://u.example/1>"} in mail["headers"]

    try:  # the second recipient follows their own link: their message reads clicked
        urllib.request.urlopen(f"{stack.api_url}/items/bulk-1", timeout=10).close()
    except urllib.error.HTTPError as answer:
        answer.close()
    clicked = {r["eventType"]: r for r in ses_events.wait_for(second, 4)}
    assert clicked["Click"]["click"]["link"] == f"{stack.api_url}/items/bulk-1"
    assert clicked["Open"]["mail"]["tags"]["message"] == ["msg-bulk-1"]
