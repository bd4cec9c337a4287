"""Parsing SES notifications (both formats, raw or in an SNS envelope) into per-recipient events."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from couponflow.domain.message_status import MessageStatus
from couponflow.ses_notifications import (
    MessageEvent,
    ParsedNotification,
    SesEventType,
    SesNotificationError,
    describe,
    parse_record_body,
)

Load = Callable[[str], dict[str, Any]]
Wrap = Callable[..., str]

EXAMPLE_ID = "EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# name of the sample -> (event type, status, recipient, occurred_at, details, describe line)
EXPECTED: dict[str, tuple[SesEventType, MessageStatus | None, str, str, dict[str, Any], str]] = {
    "event_bounce": (
        SesEventType.BOUNCE,
        MessageStatus.BOUNCED,
        "recipient@example.com",
        "2017-08-05T00:41:02.669Z",
        {
            "bounce_type": "Permanent",
            "bounce_sub_type": "General",
            "action": "failed",
            "status": "5.1.1",
            "diagnostic_code": "smtp; 550 5.1.1 user unknown",
            "reporting_mta": "dsn; mta.example.com",
            "feedback_id": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
        },
        "Bounced (Permanent/General): smtp; 550 5.1.1 user unknown",
    ),
    "event_complaint": (
        SesEventType.COMPLAINT,
        MessageStatus.COMPLAINED,
        "recipient@example.com",
        "2017-08-05T00:41:02.669Z",
        {
            "feedback_type": "abuse",
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/60.0.3112.90 Safari/537.36",
            "arrival_date": "2017-08-05T00:41:02.669Z",
            "feedback_id": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
        },
        "Marked as spam (abuse)",
    ),
    "event_delivery": (
        SesEventType.DELIVERY,
        MessageStatus.DELIVERED,
        "recipient@example.com",
        "2016-10-19T23:21:04.133Z",
        {
            "smtp_response": "250 2.6.0 Message received",
            "processing_time_millis": 11893,
            "reporting_mta": "mta.example.com",
        },
        "Delivered: 250 2.6.0 Message received",
    ),
    "event_send": (
        SesEventType.SEND,
        MessageStatus.SENT,
        "recipient@example.com",
        "2016-10-14T05:02:16.645Z",
        {},
        "Sent: accepted by SES",
    ),
    "event_reject": (
        SesEventType.REJECT,
        MessageStatus.FAILED,
        "sender@example.com",  # the guide's example sends to the sender
        "2016-10-14T17:38:15.211Z",
        {"reason": "Bad content"},
        "Rejected by SES: Bad content",
    ),
    "event_open": (
        SesEventType.OPEN,
        MessageStatus.OPENED,
        "recipient@example.com",
        "2017-08-09T22:00:19.652Z",
        {
            "ip_address": "192.0.2.1",
            "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 "
            "(KHTML, like Gecko) Mobile/14G60",
        },
        "Opened: Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_3 like Mac OS X) AppleWebKit/603.3.8 "
        "(KHTML, like Gecko) Mobile/14G60",
    ),
    "event_click": (
        SesEventType.CLICK,
        MessageStatus.CLICKED,
        "recipient@example.com",
        "2017-08-09T23:51:25.570Z",
        {
            "link": "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
            "link_tags": {"samplekey0": ["samplevalue0"], "samplekey1": ["samplevalue1"]},
            "ip_address": "192.0.2.1",
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/60.0.3112.90 Safari/537.36",
        },
        "Clicked: http://docs.aws.amazon.com/ses/latest/DeveloperGuide/send-email-smtp.html",
    ),
    "event_rendering_failure": (
        SesEventType.RENDERING_FAILURE,
        MessageStatus.FAILED,
        "recipient@example.com",
        "2018-01-22T18:43:06.197Z",
        {
            "template_name": "MyTemplate",
            "error_message": "Attribute 'attributeName' is not present in the rendering data.",
        },
        "Failed to render template MyTemplate: "
        "Attribute 'attributeName' is not present in the rendering data.",
    ),
    "event_delivery_delay": (
        SesEventType.DELIVERY_DELAY,
        MessageStatus.DELAYED,
        "recipient@example.com",
        "2020-06-16T00:25:40.095Z",
        {
            "delay_type": "TransientCommunicationFailure",
            "expiration_time": "2020-06-16T00:25:40.914Z",
            "status": "4.4.1",
            "diagnostic_code": "smtp; 421 4.4.1 Unable to connect to remote host",
        },
        "Delayed (TransientCommunicationFailure), retrying until 2020-06-16T00:25:40.914Z: "
        "smtp; 421 4.4.1 Unable to connect to remote host",
    ),
    "event_subscription": (
        SesEventType.SUBSCRIPTION,
        None,
        "recipient@example.com",
        "2022-01-12T01:00:17.910Z",
        {
            "contact_list": "ContactListName",
            "source": "UnsubscribeHeader",
            "unsubscribe_all": True,
            "new_topic_preferences": {"unsubscribe_all": True, "topics": {"ExampleTopicName": "OptOut"}},
            "old_topic_preferences": {"unsubscribe_all": False, "topics": {"ExampleTopicName": "OptOut"}},
        },
        "Unsubscribed from all topics of ContactListName (UnsubscribeHeader)",
    ),
    "event_bounce_suppressed": (
        SesEventType.BOUNCE,
        MessageStatus.DROPPED,
        "suppressionlist@simulator.amazonses.com",
        "2021-09-20T15:31:06.377Z",
        {
            "bounce_type": "Permanent",
            "bounce_sub_type": "OnAccountSuppressionList",
            "action": "failed",
            "status": "5.1.1",
            "diagnostic_code": "Amazon SES did not send the message to this address because it is on the "
            "suppression list for your account. For more information about removing addresses from the "
            "suppression list, see the Amazon SES Developer Guide at "
            "https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html",
            "reporting_mta": "dns; amazonses.com",
            "feedback_id": "0100017c1a2b3c4d-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000",
        },
        "Dropped, on a suppression list (Permanent/OnAccountSuppressionList): Amazon SES did not send the "
        "message to this address because it is on the suppression list for your account. For more "
        "information about removing addresses from the suppression list, see the Amazon SES Developer "
        "Guide at https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html",
    ),
    "notification_bounce": (
        SesEventType.BOUNCE,
        MessageStatus.BOUNCED,
        "jane@example.com",
        "2016-01-27T14:59:38.237Z",
        {
            "bounce_type": "Permanent",
            "bounce_sub_type": "General",
            "action": "failed",
            "status": "5.1.1",
            "diagnostic_code": "smtp; 550 5.1.1 <jane@example.com>... User",
            "reporting_mta": "dns; email.example.com",
            "feedback_id": "00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000",
        },
        "Bounced (Permanent/General): smtp; 550 5.1.1 <jane@example.com>... User",
    ),
    "notification_complaint": (
        SesEventType.COMPLAINT,
        MessageStatus.COMPLAINED,
        "richard@example.com",
        "2016-01-27T14:59:38.237Z",
        {
            "feedback_type": "abuse",
            "user_agent": "AnyCompany Feedback Loop (V0.01)",
            "arrival_date": "2016-01-27T14:59:38.237Z",
            "feedback_id": "000001378603177f-18c07c78-fa81-4a58-9dd1-fedc3cb8f49a-000000",
        },
        "Marked as spam (abuse)",
    ),
    "notification_complaint_no_feedback_report": (
        SesEventType.COMPLAINT,
        MessageStatus.COMPLAINED,
        "richard@example.com",
        "2016-01-27T14:59:38.237Z",
        {"feedback_id": "0000013786031775-fea503bc-7497-49e1-881b-a0379bb037d3-000000"},
        "Marked as spam",
    ),
    "notification_delivery": (
        SesEventType.DELIVERY,
        MessageStatus.DELIVERED,
        "jane@example.com",
        "2016-01-27T14:59:38.237Z",
        {
            "smtp_response": "250 ok:  Message 64111812 accepted",
            "processing_time_millis": 546,
            "reporting_mta": "a8-70.smtp-out.amazonses.com",
        },
        "Delivered: 250 ok:  Message 64111812 accepted",
    ),
}


def body_of(record: dict[str, Any], form: str, wrap: Wrap) -> str:
    return json.dumps(record) if form == "raw" else wrap(record)


@pytest.mark.parametrize("form", ["raw", "sns"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_parses_to_one_event_with_its_status_and_verbatim_details(
    name: str, form: str, ses_sample: Load, sns_envelope: Wrap
) -> None:
    event_type, status, recipient, occurred_at, details, line = EXPECTED[name]
    record = ses_sample(name)

    parsed = parse_record_body(body_of(record, form, sns_envelope))

    assert parsed.ignored_reason is None
    assert len(parsed.events) == 1
    event = parsed.events[0]
    assert event.ses_message_id == record["mail"]["messageId"]
    assert event.event_type is event_type
    assert event.status is status
    assert event.recipient == recipient
    assert event.occurred_at == at(occurred_at)
    assert event.occurred_at.tzinfo is UTC
    assert dict(event.details) == details
    assert describe(event) == line


def test_every_sample_file_in_events_ses_is_covered_by_a_test() -> None:
    samples = {path.stem for path in (Path(__file__).resolve().parents[2] / "events" / "ses").glob("*.json")}
    covered = set(EXPECTED) | {
        "notification_bounce_multi_recipient",
        "sqs_batch_sns_envelope",
        "sns_topic_validation",
    }
    assert samples == covered


@pytest.mark.parametrize("form", ["raw", "sns"])
def test_multi_recipient_bounce_produces_one_event_per_bounced_recipient(
    form: str, ses_sample: Load, sns_envelope: Wrap
) -> None:
    record = ses_sample("notification_bounce_multi_recipient")

    parsed = parse_record_body(body_of(record, form, sns_envelope))

    assert [e.recipient for e in parsed.events] == ["jane@example.com", "richard@example.com"]
    assert {e.status for e in parsed.events} == {MessageStatus.BOUNCED}
    assert {e.ses_message_id for e in parsed.events} == {
        "00000137860315fd-34208509-5b74-41f3-95c5-22c1edc3c924-000000"
    }
    assert len({e.event_key for e in parsed.events}) == 2
    # no DSN: only the bounce type and feedback id are known
    assert dict(parsed.events[0].details) == {
        "bounce_type": "Permanent",
        "bounce_sub_type": "General",
        "feedback_id": "00000137860315fd-869464a4-8680-4114-98d3-716fe35851f9-000000",
    }


def test_bounce_names_only_bounced_recipients_not_the_whole_destination(ses_sample: Load) -> None:
    record = ses_sample("notification_bounce")
    assert len(record["mail"]["destination"]) == 3

    parsed = parse_record_body(json.dumps(record))

    assert [e.recipient for e in parsed.events] == ["jane@example.com"]


def test_send_open_click_name_every_destination_address(ses_sample: Load) -> None:
    record = ses_sample("event_open")
    record["mail"]["destination"] = ["a@example.com", "b@example.com"]

    parsed = parse_record_body(json.dumps(record))

    assert [e.recipient for e in parsed.events] == ["a@example.com", "b@example.com"]
    assert {e.status for e in parsed.events} == {MessageStatus.OPENED}


def test_recipient_is_lower_cased_and_stripped_of_display_name(ses_sample: Load) -> None:
    record = ses_sample("event_delivery")
    record["delivery"]["recipients"] = ["Jane Doe <Jane.Doe@Example.COM>"]

    (event,) = parse_record_body(json.dumps(record)).events

    assert event.recipient == "jane.doe@example.com"


def test_the_same_recipient_listed_twice_gives_one_event(ses_sample: Load) -> None:
    record = ses_sample("event_send")
    record["mail"]["destination"] = ["a@example.com", "A@example.com"]

    parsed = parse_record_body(json.dumps(record))

    assert [e.recipient for e in parsed.events] == ["a@example.com"]


def test_global_suppression_bounce_is_dropped_not_bounced(ses_sample: Load) -> None:
    record = ses_sample("event_bounce")
    record["bounce"]["bounceSubType"] = "Suppressed"

    (event,) = parse_record_body(json.dumps(record)).events

    assert event.status is MessageStatus.DROPPED
    assert event.details["bounce_sub_type"] == "Suppressed"


def test_transient_bounce_after_ses_gave_up_is_bounced(ses_sample: Load) -> None:
    record = ses_sample("event_bounce")
    record["bounce"]["bounceType"] = "Transient"
    record["bounce"]["bounceSubType"] = "MailboxFull"

    (event,) = parse_record_body(json.dumps(record)).events

    assert event.status is MessageStatus.BOUNCED
    assert describe(event) == "Bounced (Transient/MailboxFull): smtp; 550 5.1.1 user unknown"


def test_tags_keep_the_first_value_of_each_mail_tag(ses_sample: Load) -> None:
    record = ses_sample("event_delivery")
    record["mail"]["tags"]["merchant"] = ["m1"]
    record["mail"]["tags"]["message"] = ["msg_x", "ignored"]
    record["mail"]["tags"]["empty"] = []

    (event,) = parse_record_body(json.dumps(record)).events

    assert event.tags["merchant"] == "m1"
    assert event.tags["message"] == "msg_x"
    assert event.tags["ses:configuration-set"] == "ConfigSet"
    assert "empty" not in event.tags


def test_identity_notifications_carry_no_tags(ses_sample: Load) -> None:
    (event,) = parse_record_body(json.dumps(ses_sample("notification_delivery"))).events
    assert dict(event.tags) == {}


def test_event_key_is_the_same_raw_and_in_sns_envelopes_with_different_message_ids(
    ses_sample: Load, sns_envelope: Wrap
) -> None:
    record = ses_sample("event_bounce")

    keys = {
        parse_record_body(body).events[0].event_key
        for body in (
            json.dumps(record),
            sns_envelope(record, sns_message_id="11111111-1111-4111-8111-111111111111"),
            sns_envelope(record, sns_message_id="22222222-2222-4222-8222-222222222222"),
        )
    }

    assert len(keys) == 1
    (key,) = keys
    assert len(key) == 32
    int(key, 16)


def test_event_key_differs_when_what_happened_differs(ses_sample: Load) -> None:
    record = ses_sample("event_delivery_delay")
    first = parse_record_body(json.dumps(record)).events[0]
    record["deliveryDelay"]["timestamp"] = "2020-06-16T00:35:40.095Z"
    later = parse_record_body(json.dumps(record)).events[0]
    record["deliveryDelay"]["delayedRecipients"][0]["diagnosticCode"] = "smtp; 452 4.2.2 Mailbox full"
    other = parse_record_body(json.dumps(record)).events[0]

    assert len({first.event_key, later.event_key, other.event_key}) == 3


def test_event_details_are_json_serialisable_and_events_hashable(ses_sample: Load) -> None:
    for name in EXPECTED:
        for event in parse_record_body(json.dumps(ses_sample(name))).events:
            json.dumps(dict(event.details))
            assert event in {event}


def test_sqs_batch_sample_holds_sns_envelopes_of_a_delivery_and_a_bounce(ses_sample: Load) -> None:
    batch = ses_sample("sqs_batch_sns_envelope")

    parsed = [parse_record_body(record["body"]) for record in batch["Records"]]

    assert all(record["eventSource"] == "aws:sqs" for record in batch["Records"])
    assert [p.events[0].status for p in parsed] == [MessageStatus.DELIVERED, MessageStatus.BOUNCED]
    assert (
        parsed[0].events[0].event_key
        == parse_record_body(json.dumps(ses_sample("event_delivery"))).events[0].event_key
    )


def test_naive_timestamp_is_taken_as_utc(ses_sample: Load) -> None:
    record = ses_sample("event_open")
    record["open"]["timestamp"] = "2017-08-09T22:00:19.652"

    (event,) = parse_record_body(json.dumps(record)).events

    assert event.occurred_at == datetime(2017, 8, 9, 22, 0, 19, 652000, tzinfo=UTC)


def test_rendering_failure_spelled_without_space_is_understood(ses_sample: Load) -> None:
    record = ses_sample("event_rendering_failure")
    record["eventType"] = "RenderingFailure"

    (event,) = parse_record_body(json.dumps(record)).events

    assert event.event_type is SesEventType.RENDERING_FAILURE


def test_describe_subscription_preference_change_without_unsubscribe_all(ses_sample: Load) -> None:
    record = ses_sample("event_subscription")
    record["subscription"]["newTopicPreferences"]["unsubscribeAll"] = False

    (event,) = parse_record_body(json.dumps(record)).events

    assert describe(event) == "Changed subscription preferences of ContactListName (UnsubscribeHeader)"


def test_describe_without_optional_fields_still_gives_a_line() -> None:
    bare = MessageEvent(
        ses_message_id="m",
        recipient="r@example.com",
        event_type=SesEventType.DELIVERY_DELAY,
        occurred_at=datetime(2024, 1, 1, tzinfo=UTC),
        status=MessageStatus.DELAYED,
        tags={},
        details={},
    )
    assert describe(bare) == "Delayed"


# ---- bad input: SesNotificationError with a clear message -------------------------------------


def test_body_that_is_not_json_is_an_error() -> None:
    with pytest.raises(SesNotificationError, match="record body is not JSON"):
        parse_record_body("this is not json")


def test_body_that_is_a_json_array_is_an_error() -> None:
    with pytest.raises(SesNotificationError, match="not a JSON object"):
        parse_record_body("[1, 2]")


def test_json_without_event_type_or_notification_type_is_an_error() -> None:
    with pytest.raises(SesNotificationError, match="neither eventType nor notificationType"):
        parse_record_body(json.dumps({"mail": {"messageId": "x"}}))


def test_sns_envelope_whose_message_is_broken_json_is_an_error(sns_envelope: Wrap) -> None:
    envelope = json.loads(sns_envelope({}))
    envelope["Message"] = '{"eventType": "Bounce", "mail": '

    with pytest.raises(SesNotificationError, match="SNS envelope Message is not JSON"):
        parse_record_body(json.dumps(envelope))


def test_the_topic_validation_text_ses_publishes_at_set_up_is_acknowledged_not_failed() -> None:
    envelope = (
        Path(__file__).resolve().parents[2] / "events" / "ses" / "sns_topic_validation.json"
    ).read_text()

    parsed = parse_record_body(envelope)

    assert parsed.events == ()
    assert parsed.ignored_reason is not None and "Successfully validated" in parsed.ignored_reason


@pytest.mark.parametrize("missing", ["mail", "bounce"])
def test_a_bounce_without_its_timestamps_takes_the_sns_envelopes_timestamp(
    ses_sample: Load, sns_envelope: Wrap, missing: str
) -> None:
    document = ses_sample("event_bounce")
    document["mail"].pop("timestamp", None)
    document["bounce"].pop("timestamp", None)
    if missing == "mail":  # only the mail's is gone: the bounce keeps its own
        document["bounce"]["timestamp"] = "2026-11-20T10:00:01.000Z"
    envelope = json.loads(sns_envelope(document))
    envelope["Timestamp"] = "2026-11-20T10:00:05.000Z"  # when SNS published it

    [event, *_] = parse_record_body(json.dumps(envelope)).events

    expected = "2026-11-20T10:00:01+00:00" if missing == "mail" else "2026-11-20T10:00:05+00:00"
    assert event.occurred_at.isoformat() == expected
    assert event.status is MessageStatus.BOUNCED


def test_a_raw_complaint_without_any_timestamp_takes_its_arrival_time(ses_sample: Load) -> None:
    document = ses_sample("event_complaint")
    document["mail"].pop("timestamp", None)
    document["complaint"].pop("timestamp", None)
    arrival = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)

    [event, *_] = parse_record_body(json.dumps(document), received_at=arrival).events

    assert event.occurred_at == arrival and event.status is MessageStatus.COMPLAINED


def test_sns_notification_without_message_is_an_error(sns_envelope: Wrap) -> None:
    envelope = json.loads(sns_envelope({}))
    del envelope["Message"]

    with pytest.raises(SesNotificationError, match="has no Message"):
        parse_record_body(json.dumps(envelope))


@pytest.mark.parametrize("form", ["raw", "sns"])
def test_missing_mail_message_id_is_an_error_naming_the_field(
    form: str, ses_sample: Load, sns_envelope: Wrap
) -> None:
    record = ses_sample("event_bounce")
    del record["mail"]["messageId"]

    with pytest.raises(
        SesNotificationError, match=r"invalid SES Bounce record: mail\.messageId: Field required"
    ):
        parse_record_body(body_of(record, form, sns_envelope))


def test_bounce_without_bounce_object_is_an_error(ses_sample: Load) -> None:
    record = ses_sample("event_bounce")
    del record["bounce"]

    with pytest.raises(SesNotificationError, match=f"SES Bounce record {EXAMPLE_ID} has no 'bounce' object"):
        parse_record_body(json.dumps(record))


def test_bad_timestamp_is_an_error_naming_the_field(ses_sample: Load) -> None:
    record = ses_sample("event_delivery")
    record["delivery"]["timestamp"] = "yesterday"

    with pytest.raises(SesNotificationError, match=r"delivery\.timestamp"):
        parse_record_body(json.dumps(record))


def test_send_with_empty_destination_is_an_error(ses_sample: Load) -> None:
    record = ses_sample("event_send")
    record["mail"]["destination"] = []

    with pytest.raises(SesNotificationError, match="names no recipient"):
        parse_record_body(json.dumps(record))


def test_event_type_that_is_not_a_string_is_an_error(ses_sample: Load) -> None:
    record = ses_sample("event_send")
    record["eventType"] = 7

    with pytest.raises(SesNotificationError, match="eventType is not a string"):
        parse_record_body(json.dumps(record))


# ---- valid but not ours: ignored, never retried -------------------------------------------------


def test_unknown_event_type_is_ignored_with_a_reason(ses_sample: Load) -> None:
    record = ses_sample("event_send")
    record["eventType"] = "SomethingNew"

    parsed = parse_record_body(json.dumps(record))

    assert parsed == ParsedNotification(events=(), ignored_reason="unhandled SES eventType 'SomethingNew'")


def test_unknown_notification_type_is_ignored_with_a_reason() -> None:
    parsed = parse_record_body(json.dumps({"notificationType": "Received", "mail": {}}))

    assert parsed.events == ()
    assert parsed.ignored_reason == "unhandled SES notificationType 'Received'"


@pytest.mark.parametrize("sns_type", ["SubscriptionConfirmation", "UnsubscribeConfirmation"])
def test_sns_subscription_confirmation_is_ignored(sns_type: str) -> None:
    body = json.dumps(
        {
            "Type": sns_type,
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37...",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:couponflow-ses-events",
            "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:"
            "couponflow-ses-events.\nTo confirm the subscription, "
            "visit the SubscribeURL included in this message.",
            "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "Timestamp": "2024-05-01T12:00:00.000Z",
        }
    )

    parsed = parse_record_body(body)

    assert parsed.events == ()
    assert parsed.ignored_reason == f"SNS {sns_type} message, not an SES event"


def test_ses_subscription_succeeded_test_notification_is_ignored(sns_envelope: Wrap) -> None:
    test_notification = {
        "notificationType": "AmazonSnsSubscriptionSucceeded",
        "message": "You have successfully subscribed your Amazon SNS topic "
        "'arn:aws:sns:us-east-1:123456789012:couponflow-ses-events' to receive 'Bounce' notifications "
        "from Amazon SES for identity 'example.com'.",
    }

    parsed = parse_record_body(sns_envelope(test_notification))

    assert parsed.events == ()
    assert parsed.ignored_reason is not None
    assert "test notification" in parsed.ignored_reason
