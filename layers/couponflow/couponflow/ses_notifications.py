"""Inbound SES notifications: the models, the parser, and what each event means for a message.

SES tells us what became of a message in two formats, and both reach the SES-events queue:

- configuration-set event publishing: ``eventType`` is one of ``Send``, ``Delivery``,
  ``Bounce``, ``Complaint``, ``Reject``, ``Open``, ``Click``, ``Rendering Failure``,
  ``DeliveryDelay``, ``Subscription``; ``mail.tags`` carries our message tags;
- identity notifications: ``notificationType`` is ``Bounce``, ``Complaint`` or ``Delivery``;
  no tags.

Either arrives wrapped in an SNS envelope (``{"Type": "Notification", "Message": "<json>"}``)
or raw (SNS raw message delivery: the SES JSON is the SQS body). ``parse_record_body`` takes
an SQS record body and returns one ``MessageEvent`` per affected recipient, each with the
status it implies (``couponflow.domain.message_status`` decides which status wins).

These models are ours: Powertools' ``SesModel`` describes inbound mail, not sending events.
Pure code: no AWS calls, no environment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from couponflow.domain.message_status import MessageStatus

__all__ = [
    "MessageEvent",
    "ParsedNotification",
    "SesEventType",
    "SesNotificationError",
    "SesRecord",
    "SnsEnvelope",
    "describe",
    "parse_record_body",
]


class SesEventType(StrEnum):
    SEND = "send"
    DELIVERY = "delivery"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"
    REJECT = "reject"
    OPEN = "open"
    CLICK = "click"
    RENDERING_FAILURE = "rendering_failure"
    DELIVERY_DELAY = "delivery_delay"
    SUBSCRIPTION = "subscription"


# SES's own spelling -> ours. Event publishing uses all ten; identity notifications only the
# first three. "RenderingFailure" is how the SESv2 API and EventBridge spell it.
_EVENT_TYPES: Mapping[str, SesEventType] = {
    "Bounce": SesEventType.BOUNCE,
    "Complaint": SesEventType.COMPLAINT,
    "Delivery": SesEventType.DELIVERY,
    "Send": SesEventType.SEND,
    "Reject": SesEventType.REJECT,
    "Open": SesEventType.OPEN,
    "Click": SesEventType.CLICK,
    "Rendering Failure": SesEventType.RENDERING_FAILURE,
    "RenderingFailure": SesEventType.RENDERING_FAILURE,
    "DeliveryDelay": SesEventType.DELIVERY_DELAY,
    "Subscription": SesEventType.SUBSCRIPTION,
}
_NOTIFICATION_TYPES: Mapping[str, SesEventType] = {
    "Bounce": SesEventType.BOUNCE,
    "Complaint": SesEventType.COMPLAINT,
    "Delivery": SesEventType.DELIVERY,
}

# Bounce subtypes meaning SES never attempted delivery: the address was on a suppression list.
SUPPRESSION_BOUNCE_SUBTYPES: frozenset[str] = frozenset({"OnAccountSuppressionList", "Suppressed"})

_SNS_IGNORED_TYPES = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})
_SES_SUBSCRIPTION_TEST = "AmazonSnsSubscriptionSucceeded"


class SesNotificationError(ValueError):
    """The record cannot be parsed; the caller sends it to the DLQ. The message says why."""


# --------------------------------------------------------------------------------------------
# Models of the SES JSON (only the fields that carry meaning; everything else is ignored)
# --------------------------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    """SES timestamps are UTC ("...Z"); a naive one is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class _SesModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class SesMail(_SesModel):
    timestamp: UtcDatetime | None = None
    message_id: str = Field(alias="messageId", min_length=1)
    source: str | None = None
    destination: list[str] = Field(default_factory=list)
    tags: dict[str, list[str]] = Field(default_factory=dict)


class SesBouncedRecipient(_SesModel):
    email_address: str = Field(alias="emailAddress", min_length=1)
    action: str | None = None
    status: str | None = None
    diagnostic_code: str | None = Field(default=None, alias="diagnosticCode")


class SesBounce(_SesModel):
    bounce_type: str = Field(alias="bounceType")
    bounce_sub_type: str = Field(alias="bounceSubType")
    bounced_recipients: list[SesBouncedRecipient] = Field(alias="bouncedRecipients", min_length=1)
    timestamp: UtcDatetime | None = None
    feedback_id: str | None = Field(default=None, alias="feedbackId")
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class SesComplainedRecipient(_SesModel):
    email_address: str = Field(alias="emailAddress", min_length=1)


class SesComplaint(_SesModel):
    complained_recipients: list[SesComplainedRecipient] = Field(alias="complainedRecipients", min_length=1)
    timestamp: UtcDatetime | None = None
    feedback_id: str | None = Field(default=None, alias="feedbackId")
    complaint_feedback_type: str | None = Field(default=None, alias="complaintFeedbackType")
    complaint_sub_type: str | None = Field(default=None, alias="complaintSubType")
    user_agent: str | None = Field(default=None, alias="userAgent")
    arrival_date: UtcDatetime | None = Field(default=None, alias="arrivalDate")


class SesDelivery(_SesModel):
    timestamp: UtcDatetime | None = None
    recipients: list[str] = Field(min_length=1)
    processing_time_millis: int | None = Field(default=None, alias="processingTimeMillis")
    smtp_response: str | None = Field(default=None, alias="smtpResponse")
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class SesReject(_SesModel):
    reason: str | None = None


class SesOpen(_SesModel):
    timestamp: UtcDatetime | None = None
    user_agent: str | None = Field(default=None, alias="userAgent")
    ip_address: str | None = Field(default=None, alias="ipAddress")


class SesClick(_SesModel):
    timestamp: UtcDatetime | None = None
    link: str | None = None
    link_tags: dict[str, list[str]] | None = Field(default=None, alias="linkTags")
    user_agent: str | None = Field(default=None, alias="userAgent")
    ip_address: str | None = Field(default=None, alias="ipAddress")


class SesRenderingFailure(_SesModel):
    template_name: str | None = Field(default=None, alias="templateName")
    error_message: str | None = Field(default=None, alias="errorMessage")


class SesDelayedRecipient(_SesModel):
    email_address: str = Field(alias="emailAddress", min_length=1)
    status: str | None = None
    diagnostic_code: str | None = Field(default=None, alias="diagnosticCode")


class SesDeliveryDelay(_SesModel):
    timestamp: UtcDatetime | None = None
    delay_type: str | None = Field(default=None, alias="delayType")
    expiration_time: UtcDatetime | None = Field(default=None, alias="expirationTime")
    delayed_recipients: list[SesDelayedRecipient] = Field(alias="delayedRecipients", min_length=1)
    reporting_mta: str | None = Field(default=None, alias="reportingMTA")


class SesTopicStatus(_SesModel):
    topic_name: str = Field(alias="topicName")
    subscription_status: str = Field(alias="subscriptionStatus")


class SesTopicPreferences(_SesModel):
    unsubscribe_all: bool | None = Field(default=None, alias="unsubscribeAll")
    topic_subscription_status: list[SesTopicStatus] = Field(
        default_factory=list, alias="topicSubscriptionStatus"
    )


class SesSubscription(_SesModel):
    contact_list: str | None = Field(default=None, alias="contactList")
    timestamp: UtcDatetime | None = None
    source: str | None = None
    new_topic_preferences: SesTopicPreferences | None = Field(default=None, alias="newTopicPreferences")
    old_topic_preferences: SesTopicPreferences | None = Field(default=None, alias="oldTopicPreferences")


class SesRecord(_SesModel):
    """One SES record, either format. Which sub-object is present depends on the type."""

    event_type: str | None = Field(default=None, alias="eventType")
    notification_type: str | None = Field(default=None, alias="notificationType")
    mail: SesMail
    send: dict[str, Any] | None = None
    delivery: SesDelivery | None = None
    bounce: SesBounce | None = None
    complaint: SesComplaint | None = None
    reject: SesReject | None = None
    open: SesOpen | None = None
    click: SesClick | None = None
    failure: SesRenderingFailure | None = None
    delivery_delay: SesDeliveryDelay | None = Field(default=None, alias="deliveryDelay")
    subscription: SesSubscription | None = None


class SnsEnvelope(_SesModel):
    """The SNS envelope around an SES record (SNS -> SQS without raw message delivery)."""

    type: str = Field(alias="Type")
    message_id: str | None = Field(default=None, alias="MessageId")
    topic_arn: str | None = Field(default=None, alias="TopicArn")
    message: str | None = Field(default=None, alias="Message")
    timestamp: UtcDatetime | None = Field(default=None, alias="Timestamp")


# --------------------------------------------------------------------------------------------
# Our view: one event for one recipient
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageEvent:
    """One event for ONE recipient of one SES message.

    ``details`` holds the meaningful fields verbatim (JSON-serialisable, only keys that apply):
    bounce_type, bounce_sub_type, action, status (SMTP status, e.g. "5.1.1"), diagnostic_code,
    reporting_mta, feedback_id, smtp_response, processing_time_millis, feedback_type,
    complaint_sub_type, arrival_date, user_agent, ip_address, link, link_tags, reason,
    template_name, error_message, delay_type, expiration_time, contact_list, source,
    unsubscribe_all, new_topic_preferences, old_topic_preferences.
    """

    ses_message_id: str
    recipient: str
    event_type: SesEventType
    occurred_at: datetime
    status: MessageStatus | None
    tags: Mapping[str, str]
    details: Mapping[str, Any]

    @property
    def event_key(self) -> str:
        """The dedupe key: a content hash of what SES said, independent of the SNS/SQS
        envelope, so the same SES event delivered twice has the same key. The status we read
        from it is part of the key, so two events can share a key only if they agree on it."""
        canonical = json.dumps(
            {
                "message": self.ses_message_id,
                "type": self.event_type.value,
                "recipient": self.recipient,
                "at": self.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
                "details": self.details,
                "status": self.status.value if self.status else None,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]

    def __hash__(self) -> int:  # details and tags are dicts; the key identifies the event
        return hash(self.event_key)


@dataclass(frozen=True)
class ParsedNotification:
    events: tuple[MessageEvent, ...]
    ignored_reason: str | None = None


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def parse_record_body(body: str, *, received_at: datetime | None = None) -> ParsedNotification:
    """Parse an SQS record body holding an SES record, raw or in an SNS envelope.

    Returns one event per affected recipient, or no events and ``ignored_reason`` for a valid
    record we do not handle (acknowledge it, never retry): among them SNS messages that are not
    JSON, such as the "Successfully validated SNS topic for Amazon SES event publishing." text
    SES publishes when an event destination is created. Raises ``SesNotificationError`` for a
    record that cannot be parsed (send it to the DLQ).

    An event without its own timestamp (seen in the wild for ``mail``, ``bounce`` and
    ``complaint``) takes the SNS envelope's ``Timestamp``, else ``received_at`` (the arrival).
    """
    document = _load_json_object(body, "record body")
    fallback = received_at or datetime.now(UTC)
    if _is_sns_envelope(document):
        envelope = _validate(SnsEnvelope, document, "SNS envelope")
        if envelope.type in _SNS_IGNORED_TYPES:
            return ParsedNotification((), f"SNS {envelope.type} message, not an SES event")
        if envelope.type != "Notification":
            return ParsedNotification((), f"SNS message of type {envelope.type!r}, not an SES event")
        if envelope.message is None:
            raise SesNotificationError("SNS Notification has no Message")
        text = envelope.message.strip()
        if not text.startswith(("{", "[")):  # a plain-text notice, not a record (broken JSON is)
            notice = " ".join(text.split())
            return ParsedNotification((), f"SNS text message, not an SES record: {notice[:200]!r}")
        document = _load_json_object(envelope.message, "SNS envelope Message")
        fallback = envelope.timestamp or fallback
    return _parse_ses_document(document, _as_utc(fallback))


def _load_json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise SesNotificationError(f"{what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise SesNotificationError(f"{what} is not a JSON object but {type(value).__name__}")
    return value


def _is_sns_envelope(document: Mapping[str, Any]) -> bool:
    return "Type" in document and ("Message" in document or "TopicArn" in document)


_M = TypeVar("_M", bound=BaseModel)
_T = TypeVar("_T")


def _validate(model: type[_M], document: Mapping[str, Any], what: str) -> _M:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SesNotificationError(f"invalid {what}: {problems}") from exc


def _parse_ses_document(document: Mapping[str, Any], fallback: datetime) -> ParsedNotification:
    event_name = document.get("eventType")
    notification_name = document.get("notificationType")
    if event_name is None and notification_name is None:
        raise SesNotificationError("not an SES record: it has neither eventType nor notificationType")
    if event_name is not None:
        if not isinstance(event_name, str):
            raise SesNotificationError(f"eventType is not a string: {event_name!r}")
        event_type = _EVENT_TYPES.get(event_name)
        if event_type is None:
            return ParsedNotification((), f"unhandled SES eventType {event_name!r}")
        name = event_name
    else:
        if not isinstance(notification_name, str):
            raise SesNotificationError(f"notificationType is not a string: {notification_name!r}")
        if notification_name == _SES_SUBSCRIPTION_TEST:
            return ParsedNotification((), "SES test notification confirming the SNS topic subscription")
        event_type = _NOTIFICATION_TYPES.get(notification_name)
        if event_type is None:
            return ParsedNotification((), f"unhandled SES notificationType {notification_name!r}")
        name = notification_name

    record = _validate(SesRecord, document, f"SES {name} record")
    happened = _READERS[event_type](record, fallback)
    if not happened.recipients:
        raise SesNotificationError(f"SES {name} record {record.mail.message_id} names no recipient")
    tags = _tags(record.mail)
    events: dict[str, MessageEvent] = {}
    for recipient, details in happened.recipients:
        event = MessageEvent(
            ses_message_id=record.mail.message_id,
            recipient=_address(recipient),
            event_type=happened.event_type,
            occurred_at=happened.occurred_at,
            status=happened.status,
            tags=dict(tags),
            details=details,
        )
        events.setdefault(event.event_key, event)  # a recipient listed twice is one event
    return ParsedNotification(tuple(events.values()))


def _require(value: _T | None, record: SesRecord, field: str) -> _T:
    if value is None:
        kind = record.event_type or record.notification_type
        raise SesNotificationError(f"SES {kind} record {record.mail.message_id} has no {field!r} object")
    return value


def _address(raw: str) -> str:
    """The bare, lower-cased address ("Jane <Jane@Example.com>" -> "jane@example.com")."""
    _, address = parseaddr(raw)
    return (address or raw).strip().lower()


def _iso(value: datetime) -> str:
    """SES's own timestamp form: UTC, milliseconds, "Z"."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _tags(mail: SesMail) -> dict[str, str]:
    return {name: values[0] for name, values in mail.tags.items() if values}


def _compact(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class _Happened:
    """What one SES record says happened, before it is split into one event per recipient."""

    event_type: SesEventType
    occurred_at: datetime
    status: MessageStatus | None
    recipients: tuple[tuple[str, dict[str, Any]], ...]  # (address as SES wrote it, details)


def _each(recipients: list[str], details: dict[str, Any]) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The same details for every recipient (each gets its own copy)."""
    return tuple((recipient, dict(details)) for recipient in recipients)


def _send(record: SesRecord, fallback: datetime) -> _Happened:
    return _Happened(
        SesEventType.SEND,
        record.mail.timestamp or fallback,
        MessageStatus.SENT,
        _each(record.mail.destination, {}),
    )


def _delivery(record: SesRecord, fallback: datetime) -> _Happened:
    delivery = _require(record.delivery, record, "delivery")
    details = _compact(
        smtp_response=delivery.smtp_response,
        processing_time_millis=delivery.processing_time_millis,
        reporting_mta=delivery.reporting_mta,
    )
    return _Happened(
        SesEventType.DELIVERY,
        delivery.timestamp or fallback,
        MessageStatus.DELIVERED,
        _each(delivery.recipients, details),
    )


def _bounce(record: SesRecord, fallback: datetime) -> _Happened:
    bounce = _require(record.bounce, record, "bounce")
    # A suppressed address was never attempted: that is a drop, not a bounce.
    suppressed = bounce.bounce_sub_type in SUPPRESSION_BOUNCE_SUBTYPES
    recipients = tuple(
        (
            recipient.email_address,
            _compact(
                bounce_type=bounce.bounce_type,
                bounce_sub_type=bounce.bounce_sub_type,
                action=recipient.action,
                status=recipient.status,
                diagnostic_code=recipient.diagnostic_code,
                reporting_mta=bounce.reporting_mta,
                feedback_id=bounce.feedback_id,
            ),
        )
        for recipient in bounce.bounced_recipients
    )
    status = MessageStatus.DROPPED if suppressed else MessageStatus.BOUNCED
    return _Happened(SesEventType.BOUNCE, bounce.timestamp or fallback, status, recipients)


def _complaint(record: SesRecord, fallback: datetime) -> _Happened:
    complaint = _require(record.complaint, record, "complaint")
    details = _compact(
        feedback_type=complaint.complaint_feedback_type,
        complaint_sub_type=complaint.complaint_sub_type,
        user_agent=complaint.user_agent,
        arrival_date=_iso(complaint.arrival_date) if complaint.arrival_date else None,
        feedback_id=complaint.feedback_id,
    )
    recipients = [recipient.email_address for recipient in complaint.complained_recipients]
    return _Happened(
        SesEventType.COMPLAINT,
        complaint.timestamp or fallback,
        MessageStatus.COMPLAINED,
        _each(recipients, details),
    )


def _reject(record: SesRecord, fallback: datetime) -> _Happened:
    details = _compact(reason=record.reject.reason if record.reject else None)
    return _Happened(
        SesEventType.REJECT,
        record.mail.timestamp or fallback,
        MessageStatus.FAILED,
        _each(record.mail.destination, details),
    )


def _open(record: SesRecord, fallback: datetime) -> _Happened:
    opened = _require(record.open, record, "open")
    details = _compact(user_agent=opened.user_agent, ip_address=opened.ip_address)
    return _Happened(
        SesEventType.OPEN,
        opened.timestamp or fallback,
        MessageStatus.OPENED,
        _each(record.mail.destination, details),
    )


def _click(record: SesRecord, fallback: datetime) -> _Happened:
    click = _require(record.click, record, "click")
    details = _compact(
        link=click.link,
        link_tags=click.link_tags,
        user_agent=click.user_agent,
        ip_address=click.ip_address,
    )
    return _Happened(
        SesEventType.CLICK,
        click.timestamp or fallback,
        MessageStatus.CLICKED,
        _each(record.mail.destination, details),
    )


def _rendering_failure(record: SesRecord, fallback: datetime) -> _Happened:
    failure = record.failure
    details = (
        _compact(template_name=failure.template_name, error_message=failure.error_message) if failure else {}
    )
    return _Happened(
        SesEventType.RENDERING_FAILURE,
        record.mail.timestamp or fallback,
        MessageStatus.FAILED,
        _each(record.mail.destination, details),
    )


def _delivery_delay(record: SesRecord, fallback: datetime) -> _Happened:
    delay = _require(record.delivery_delay, record, "deliveryDelay")
    recipients = tuple(
        (
            recipient.email_address,
            _compact(
                delay_type=delay.delay_type,
                expiration_time=_iso(delay.expiration_time) if delay.expiration_time else None,
                status=recipient.status,
                diagnostic_code=recipient.diagnostic_code,
                reporting_mta=delay.reporting_mta,
            ),
        )
        for recipient in delay.delayed_recipients
    )
    return _Happened(
        SesEventType.DELIVERY_DELAY, delay.timestamp or fallback, MessageStatus.DELAYED, recipients
    )


def _preferences(preferences: SesTopicPreferences | None) -> dict[str, Any] | None:
    if preferences is None:
        return None
    return {
        "unsubscribe_all": preferences.unsubscribe_all,
        "topics": {t.topic_name: t.subscription_status for t in preferences.topic_subscription_status},
    }


def _subscription(record: SesRecord, fallback: datetime) -> _Happened:
    subscription = _require(record.subscription, record, "subscription")
    new = subscription.new_topic_preferences
    details = _compact(
        contact_list=subscription.contact_list,
        source=subscription.source,
        unsubscribe_all=new.unsubscribe_all if new else None,
        new_topic_preferences=_preferences(new),
        old_topic_preferences=_preferences(subscription.old_topic_preferences),
    )
    # A preference change is about the contact, not about the message: it implies no status.
    return _Happened(
        SesEventType.SUBSCRIPTION,
        subscription.timestamp or fallback,
        None,
        _each(record.mail.destination, details),
    )


_READERS: Mapping[SesEventType, Callable[[SesRecord, datetime], _Happened]] = {
    SesEventType.SEND: _send,
    SesEventType.DELIVERY: _delivery,
    SesEventType.BOUNCE: _bounce,
    SesEventType.COMPLAINT: _complaint,
    SesEventType.REJECT: _reject,
    SesEventType.OPEN: _open,
    SesEventType.CLICK: _click,
    SesEventType.RENDERING_FAILURE: _rendering_failure,
    SesEventType.DELIVERY_DELAY: _delivery_delay,
    SesEventType.SUBSCRIPTION: _subscription,
}


# --------------------------------------------------------------------------------------------
# The merchant's "info button"
# --------------------------------------------------------------------------------------------


def describe(event: MessageEvent) -> str:
    """One human line saying what happened, e.g.
    "Bounced (Permanent/General): smtp; 550 5.1.1 user unknown"."""
    d = event.details

    def get(key: str) -> str | None:
        value = d.get(key)
        return None if value is None else str(value)

    def suffix(text: str | None) -> str:
        return f": {text}" if text else ""

    match event.event_type:
        case SesEventType.SEND:
            return "Sent: accepted by SES"
        case SesEventType.DELIVERY:
            return "Delivered" + suffix(get("smtp_response"))
        case SesEventType.BOUNCE:
            kind = "/".join(k for k in (get("bounce_type"), get("bounce_sub_type")) if k)
            label = "Dropped, on a suppression list" if event.status is MessageStatus.DROPPED else "Bounced"
            head = f"{label} ({kind})" if kind else label
            return head + suffix(get("diagnostic_code") or get("status"))
        case SesEventType.COMPLAINT:
            feedback = get("feedback_type")
            return f"Marked as spam ({feedback})" if feedback else "Marked as spam"
        case SesEventType.REJECT:
            return "Rejected by SES" + suffix(get("reason"))
        case SesEventType.OPEN:
            return "Opened" + suffix(get("user_agent"))
        case SesEventType.CLICK:
            return "Clicked" + suffix(get("link"))
        case SesEventType.RENDERING_FAILURE:
            template = get("template_name")
            head = f"Failed to render template {template}" if template else "Failed to render"
            return head + suffix(get("error_message"))
        case SesEventType.DELIVERY_DELAY:
            delay_type = get("delay_type")
            head = f"Delayed ({delay_type})" if delay_type else "Delayed"
            expiration = get("expiration_time")
            if expiration:
                head += f", retrying until {expiration}"
            return head + suffix(get("diagnostic_code") or get("status"))
        case SesEventType.SUBSCRIPTION:
            contact_list = get("contact_list")
            where = f" of {contact_list}" if contact_list else ""
            how = f" ({get('source')})" if get("source") else ""
            if d.get("unsubscribe_all") is True:
                return f"Unsubscribed from all topics{where}{how}"
            return f"Changed subscription preferences{where}{how}"
