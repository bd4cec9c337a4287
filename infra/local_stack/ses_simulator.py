"""SES mailbox simulator: realistic event-publishing records for what moto's SES accepted.

The moto middleware hands every SES request and moto's answer to :meth:`SesSimulator.tap`.
Sends (SES v1 SendEmail / SendRawEmail / SendTemplatedEmail / SendBulkTemplatedEmail, SES v2
SendEmail with Simple or Raw content, and SES v2 SendBulkEmail, each entry rendered as
``moto_patches`` rendered it for moto, so it reads like a raw send) are parsed for what moto
drops: the configuration set,
the message tags (also ``X-SES-CONFIGURATION-SET`` / ``X-SES-MESSAGE-TAGS`` in raw MIME) and
the message id moto returned. If the configuration set has an enabled SNS event destination,
event records in SES's ``eventType`` format are published to its topic (moto's SNS then
delivers the SNS envelope to the subscribed queue), only for the destination's
MatchingEventTypes, with the semantics of SES's simulator addresses:

=================================  ===============================================
recipient (local part may have +x) events
=================================  ===============================================
success@simulator.amazonses.com    Send, Delivery
bounce@simulator.amazonses.com     Send, Bounce (Permanent / General, 5.1.1)
ooto@simulator.amazonses.com       Send, Delivery (the auto-reply is not an event)
complaint@simulator.amazonses.com  Send, Delivery, Complaint (abuse)
suppressionlist@simulator...       Send, Bounce (Permanent / OnAccountSuppressionList)
any other address (local default)  Send, Delivery
=================================  ===============================================

``Send`` is published once per message (as SES does), the others once per recipient, on a
background thread with short gaps (Delivery/Bounce 100-300 ms after Send, Complaint after
Delivery). Opens and clicks are published on demand by :func:`simulate_engagement`.
"""

from __future__ import annotations

import base64
import heapq
import html
import itertools
import json
import logging
import random
import re
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses
from functools import partial
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from local_stack.moto_patches import render_entry, take_rendered
from local_stack.provision import EventDestination
from local_stack.template import ACCOUNT_ID

log = logging.getLogger(__name__)

SIMULATOR_DOMAIN = "simulator.amazonses.com"
SUPPRESSED_DIAGNOSTIC = (
    "Amazon SES did not send the message to this address because it is on the suppression list "
    "for your account."
)
USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"
MAX_REMEMBERED = 10_000

# eventType value -> (MatchingEventTypes name, key of the detail object)
EVENT_TYPES = {
    "Send": ("send", "send"),
    "Delivery": ("delivery", "delivery"),
    "Bounce": ("bounce", "bounce"),
    "Complaint": ("complaint", "complaint"),
    "Reject": ("reject", "reject"),
    "Open": ("open", "open"),
    "Click": ("click", "click"),
    "Rendering Failure": ("renderingFailure", "failure"),
    "DeliveryDelay": ("deliveryDelay", "deliveryDelay"),
}


def _now_iso(when: float | None = None) -> str:
    moment = datetime.fromtimestamp(time.time() if when is None else when, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class SentMessage:
    """One message SES accepted, with what event records need to know about it."""

    message_id: str
    operation: str
    source: str
    to: list[str]
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str = ""
    headers: list[dict[str, str]] = field(default_factory=list)
    configuration_set: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    timestamp: float = field(default_factory=time.time)
    template: tuple[str, str] | None = None  # (template name, template data) for templated sends
    links: list[str] = field(default_factory=list)  # http(s) links in the body (raw sends)
    raw: bytes = b""  # the MIME message as sent (raw sends), for the console's outbox

    @property
    def destination(self) -> list[str]:
        return [*self.to, *self.cc, *self.bcc]


# ---------------------------------------------------------------------------------------------
# Parsing SES requests
# ---------------------------------------------------------------------------------------------


def _members(form: dict[str, list[str]], prefix: str) -> list[str]:
    found = []
    for key, values in form.items():
        m = re.fullmatch(re.escape(prefix) + r"\.member\.(\d+)", key)
        if m:
            found.append((int(m.group(1)), values[0]))
    return [v for _, v in sorted(found)]


def _tags(form: dict[str, list[str]], prefix: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    index = 1
    while f"{prefix}.member.{index}.Name" in form:
        tags[form[f"{prefix}.member.{index}.Name"][0]] = form.get(f"{prefix}.member.{index}.Value", [""])[0]
        index += 1
    return tags


def _simple_headers(
    source: str,
    *,
    to: list[str],
    cc: list[str],
    subject: str,
    reply_to: list[str],
    extra: list[dict[str, str]] | None = None,
) -> list[dict[str, str]]:
    headers = [{"name": "From", "value": source}]
    if reply_to:
        headers.append({"name": "Reply-To", "value": ", ".join(reply_to)})
    headers.append({"name": "To", "value": ", ".join(to)})
    if cc:
        headers.append({"name": "Cc", "value": ", ".join(cc)})
    headers += [
        {"name": "Subject", "value": subject},
        {"name": "MIME-Version", "value": "1.0"},
        {"name": "Content-Type", "value": "multipart/alternative"},
    ]
    return headers + list(extra or [])


def _parse_raw(data: bytes) -> dict[str, Any]:
    """Headers, addresses, configuration set and tags of a raw MIME message."""
    message = BytesParser(policy=policy.default).parsebytes(data, headersonly=True)
    tags: dict[str, str] = {}
    for header in message.get_all("X-SES-MESSAGE-TAGS") or []:
        for pair in str(header).split(","):
            if "=" in pair:
                name, value = pair.split("=", 1)
                tags[name.strip()] = value.strip()
    config_set = message.get("X-SES-CONFIGURATION-SET")
    headers = [
        {"name": k, "value": str(v)}
        for k, v in message.items()
        if k.upper() not in ("X-SES-CONFIGURATION-SET", "X-SES-MESSAGE-TAGS", "BCC")
    ]

    def addresses(name: str) -> list[str]:
        return [addr for _, addr in getaddresses([str(v) for v in message.get_all(name) or []]) if addr]

    return {
        "headers": headers,
        "from": addresses("From"),
        "to": addresses("To"),
        "cc": addresses("Cc"),
        "bcc": addresses("Bcc"),
        "subject": str(message.get("Subject", "")),
        "configuration_set": str(config_set) if config_set else None,
        "tags": tags,
    }


_LINK = re.compile(r"""https?://[^\s"'<>]+""")


def links_in_body(data: bytes) -> list[str]:
    """The http(s) links in the text and HTML parts of a raw MIME message, in order, once each."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    texts = []
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        try:
            texts.append(str(part.get_content()))
        except (LookupError, ValueError):
            continue
    return links_in_texts(texts)


def links_in_texts(texts: Iterable[str]) -> list[str]:
    """The http(s) links in the bodies ``texts`` (plain or HTML), in order, once each."""
    found: dict[str, None] = {}
    for text in texts:
        for link in _LINK.findall(html.unescape(text)):
            found.setdefault(link.rstrip(".,;)"), None)
    return list(found)


def _raw_message(
    operation: str,
    *,
    message_id: str,
    data: bytes,
    source: str | None,
    destinations: list[str],
    config_set: str | None,
    tags: dict[str, str],
    links: list[str] | None = None,
) -> SentMessage:
    raw = _parse_raw(data)
    return SentMessage(
        message_id=message_id,
        operation=operation,
        source=source or (raw["from"][0] if raw["from"] else ""),
        to=destinations or raw["to"],
        cc=[] if destinations else raw["cc"],
        bcc=[] if destinations else raw["bcc"],
        subject=raw["subject"],
        headers=raw["headers"],
        configuration_set=config_set or raw["configuration_set"],
        tags={**raw["tags"], **tags},
        links=links_in_body(data) if links is None else links,
        raw=data,
    )


def parse_v1(body: bytes, response: bytes) -> list[SentMessage]:
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    action = form.get("Action", [""])[0]
    ids = re.findall(rb"<MessageId>([^<]+)</MessageId>", response)
    if not ids:
        return []
    message_ids = [i.decode() for i in ids]
    config_set = form.get("ConfigurationSetName", [None])[0]
    source = form.get("Source", [""])[0]
    if action == "SendRawEmail":
        data = base64.b64decode(form.get("RawMessage.Data", [""])[0])
        return [
            _raw_message(
                action,
                message_id=message_ids[0],
                data=data,
                source=source or None,
                destinations=_members(form, "Destinations"),
                config_set=config_set,
                tags=_tags(form, "Tags"),
            )
        ]
    if action in ("SendEmail", "SendTemplatedEmail"):
        to = _members(form, "Destination.ToAddresses")
        cc = _members(form, "Destination.CcAddresses")
        subject = form.get("Message.Subject.Data", [""])[0]
        template = None
        if action == "SendTemplatedEmail":
            template = (form.get("Template", [""])[0], form.get("TemplateData", ["{}"])[0])
        return [
            SentMessage(
                message_id=message_ids[0],
                operation=action,
                source=source,
                to=to,
                cc=cc,
                bcc=_members(form, "Destination.BccAddresses"),
                subject=subject,
                headers=_simple_headers(
                    source, to=to, cc=cc, subject=subject, reply_to=_members(form, "ReplyToAddresses")
                ),
                configuration_set=config_set,
                tags=_tags(form, "Tags"),
                template=template,
            )
        ]
    if action == "SendBulkTemplatedEmail":
        default_tags = _tags(form, "DefaultTags")
        sent = []
        for index, message_id in enumerate(message_ids, start=1):
            prefix = f"Destinations.member.{index}"
            to = _members(form, f"{prefix}.Destination.ToAddresses")
            cc = _members(form, f"{prefix}.Destination.CcAddresses")
            template_data = form.get(
                f"{prefix}.ReplacementTemplateData", form.get("DefaultTemplateData", ["{}"])
            )[0]
            sent.append(
                SentMessage(
                    message_id=message_id,
                    operation=action,
                    source=source,
                    to=to,
                    cc=cc,
                    bcc=_members(form, f"{prefix}.Destination.BccAddresses"),
                    headers=_simple_headers(
                        source, to=to, cc=cc, subject="", reply_to=_members(form, "ReplyToAddresses")
                    ),
                    configuration_set=config_set,
                    tags={**default_tags, **_tags(form, f"{prefix}.ReplacementTags")},
                    template=(form.get("Template", [""])[0], template_data),
                )
            )
        return sent
    return []


def parse_v2(body: bytes, response: bytes) -> list[SentMessage]:
    try:
        request = json.loads(body or b"{}")
        message_id = json.loads(response or b"{}").get("MessageId")
    except ValueError:
        return []
    if not message_id:
        return []
    destination = request.get("Destination") or {}
    content = request.get("Content") or {}
    tags = {t["Name"]: t.get("Value", "") for t in request.get("EmailTags") or []}
    config_set = request.get("ConfigurationSetName")
    source = request.get("FromEmailAddress") or ""
    to = list(destination.get("ToAddresses") or [])
    cc = list(destination.get("CcAddresses") or [])
    bcc = list(destination.get("BccAddresses") or [])
    if "Raw" in content:
        data = base64.b64decode(content["Raw"]["Data"])
        return [
            _raw_message(
                "SendEmail",
                message_id=message_id,
                data=data,
                source=source or None,
                destinations=[*to, *cc, *bcc],
                config_set=config_set,
                tags=tags,
            )
        ]
    simple = content.get("Simple") or {}
    subject = str((simple.get("Subject") or {}).get("Data", ""))
    extra = [{"name": h["Name"], "value": h["Value"]} for h in simple.get("Headers") or []]
    template = None
    if "Template" in content:
        tpl = content["Template"]
        template = (str(tpl.get("TemplateName", "")), str(tpl.get("TemplateData", "{}")))
    return [
        SentMessage(
            message_id=message_id,
            operation="SendEmail",
            source=source,
            to=to,
            cc=cc,
            bcc=bcc,
            subject=subject,
            headers=_simple_headers(
                source,
                to=to,
                cc=cc,
                subject=subject,
                reply_to=list(request.get("ReplyToAddresses") or []),
                extra=extra,
            ),
            configuration_set=config_set,
            tags=tags,
            template=template,
        )
    ]


def parse_v2_bulk(body: bytes, response: bytes) -> list[SentMessage]:
    """One message per entry SES accepted from a v2 ``SendBulkEmail``, with its own tags and links."""
    try:
        request = json.loads(body or b"{}")
        results = json.loads(response or b"{}").get("BulkEmailEntryResults") or []
    except ValueError:
        return []
    default_tags = {t["Name"]: t.get("Value", "") for t in request.get("DefaultEmailTags") or []}
    template = (request.get("DefaultContent") or {}).get("Template") or {}
    content = dict(template["TemplateContent"]) if "TemplateContent" in template else None
    sent = []
    for index, result in enumerate(results):
        if result.get("Status") != "SUCCESS" or not result.get("MessageId"):
            continue
        entry = request["BulkEmailEntries"][index]
        try:  # as moto_patches rendered it for the send, else again
            rendered = take_rendered(result["MessageId"]) or render_entry(request, index, content)
        except (KeyError, ValueError):
            continue
        tags = {**default_tags, **{t["Name"]: t.get("Value", "") for t in entry.get("ReplacementTags") or []}}
        sent.append(
            _raw_message(
                "SendBulkEmail",
                message_id=result["MessageId"],
                data=rendered.data,
                source=request.get("FromEmailAddress") or None,
                destinations=rendered.destinations,
                config_set=request.get("ConfigurationSetName"),
                tags=tags,
                links=links_in_texts(rendered.parts),
            )
        )
    return sent


# ---------------------------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------------------------


def simulator_mailbox(address: str) -> str | None:
    """'success', 'bounce', ... for SES simulator addresses (``+label`` allowed), else None."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != SIMULATOR_DOMAIN:
        return None
    return local.split("+", 1)[0]


Publish = Callable[[str, str], None]  # (topic ARN, message)
Engagement = Literal["open", "click"]

_ACTIVE: SesSimulator | None = None


class SesSimulator:
    def __init__(
        self,
        publish: Publish,
        *,
        configuration_sets: dict[str, list[EventDestination]] | None = None,
        region: str = "us-east-1",
        account_id: str = ACCOUNT_ID,
        render_subject: Callable[[str, str], str] | None = None,
        gap: tuple[float, float] = (0.1, 0.3),
    ) -> None:
        self.publish = publish
        self.configuration_sets = configuration_sets or {}
        self.region = region
        self.account_id = account_id
        self.render_subject = render_subject
        self.gap = gap
        self.messages: OrderedDict[str, SentMessage] = OrderedDict()
        # how many times SES accepted each message, by our ``message`` tag (drills count double sends)
        self.accepted_by_tag: Counter[str] = Counter()
        # the event records published per SES message id, for ``replay`` (SNS's duplicates)
        self.published: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        # path of a link in a sent email -> (SES message id, recipient, the link as written)
        self.link_paths: OrderedDict[str, tuple[str, str, str]] = OrderedDict()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="ses-simulator", daemon=True)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        global _ACTIVE  # noqa: PLW0603 - the module-level simulate_engagement entry point
        self._thread.start()
        _ACTIVE = self

    def stop(self) -> None:
        global _ACTIVE  # noqa: PLW0603
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)
        if _ACTIVE is self:
            _ACTIVE = None

    def _schedule(self, delay: float, action: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), action))
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, action = heapq.heappop(self._heap)
            try:
                action()
            except Exception:
                log.exception("SES simulator: publishing an event failed")

    # -- the tap ------------------------------------------------------------------------------

    def tap(
        self,
        environ: dict[str, Any],
        body: bytes,
        status: str,
        _headers: list[tuple[str, str]],
        response: bytes,
    ) -> None:
        if not status.startswith("200"):
            return
        path = environ.get("PATH_INFO", "")
        if path.startswith("/v2/email/outbound-emails"):
            sent = parse_v2(body, response)
        elif path.startswith("/v2/email/outbound-bulk-emails"):
            sent = parse_v2_bulk(body, response)
        elif path.startswith("/v2/"):
            return
        else:
            sent = parse_v1(body, response)
        for message in sent:
            self.accept(message)

    def accept(self, message: SentMessage) -> None:
        """Remember a sent message and schedule its events."""
        with self._cond:
            self.messages[message.message_id] = message
            self.accepted_by_tag[message.tags.get("message") or message.message_id] += 1
            for link in message.links:
                for recipient in message.destination[:1]:
                    self.link_paths[urlsplit(link).path] = (message.message_id, recipient, link)
            while len(self.link_paths) > MAX_REMEMBERED * 4:
                self.link_paths.popitem(last=False)
            while len(self.messages) > MAX_REMEMBERED:
                self.messages.popitem(last=False)
        if not self._destinations(message):
            return
        self._schedule(0.0, lambda: self._emit(message, "Send", {}))
        for recipient in message.destination:
            self._schedule_outcome(message, recipient)

    def _schedule_outcome(self, message: SentMessage, recipient: str) -> None:
        mailbox = simulator_mailbox(recipient)
        gap = random.uniform(*self.gap)
        if mailbox in ("bounce", "suppressionlist"):
            self._schedule(gap, lambda: self._emit(message, "Bounce", self._bounce(recipient, mailbox)))
            return
        self._schedule(gap, lambda: self._emit(message, "Delivery", self._delivery(message, recipient)))
        if mailbox == "complaint":
            later = gap + random.uniform(*self.gap)
            self._schedule(later, lambda: self._emit(message, "Complaint", self._complaint(recipient)))

    # -- records ------------------------------------------------------------------------------

    def _destinations(self, message: SentMessage) -> list[EventDestination]:
        if not message.configuration_set:
            return []
        return [
            d
            for d in self.configuration_sets.get(message.configuration_set, [])
            if d.enabled and d.sns_topic_arn
        ]

    def _mail(self, message: SentMessage) -> dict[str, Any]:
        domain = message.source.rpartition("@")[2].rstrip(">")
        subject = message.subject
        if not subject and message.template and self.render_subject is not None:
            try:
                subject = message.subject = self.render_subject(*message.template)
            except Exception as exc:
                log.debug("template subject not rendered: %s", exc)
        tags: dict[str, list[str]] = {
            "ses:operation": [message.operation],
            "ses:configuration-set": [message.configuration_set or ""],
            "ses:source-ip": ["127.0.0.1"],
            "ses:from-domain": [domain],
            "ses:caller-identity": ["local"],
        }
        for name, value in message.tags.items():
            tags[name] = [value]
        common: dict[str, Any] = {
            "from": [message.source],
            "to": list(message.to),
            "messageId": message.message_id,
            "subject": subject,
        }
        if message.cc:
            common["cc"] = list(message.cc)
        headers = [
            {**h, "value": subject} if h["name"] == "Subject" and not h["value"] else h
            for h in message.headers
        ]
        headers.append({"name": "Message-ID", "value": f"<{message.message_id}@email.amazonses.com>"})
        return {
            "timestamp": _now_iso(message.timestamp),
            "source": message.source,
            "sourceArn": f"arn:aws:ses:{self.region}:{self.account_id}:identity/{domain}",
            "sendingAccountId": self.account_id,
            "messageId": message.message_id,
            "destination": message.destination,
            "headersTruncated": False,
            "headers": headers,
            "commonHeaders": common,
            "tags": tags,
        }

    def _emit(self, message: SentMessage, event_type: str, detail: dict[str, Any]) -> None:
        matching_name, key = EVENT_TYPES[event_type]
        for destination in self._destinations(message):
            if matching_name not in destination.matching_event_types:
                continue
            mail = self._mail(message)
            if event_type in ("Delivery", "Bounce", "Complaint", "DeliveryDelay"):
                mail["tags"]["ses:outgoing-ip"] = ["127.0.0.1"]
            record = {"eventType": event_type, "mail": mail, key: detail}
            assert destination.sns_topic_arn is not None
            self.publish(destination.sns_topic_arn, json.dumps(record))
            with self._cond:
                self.published.setdefault(message.message_id, []).append((event_type, detail))

    def _delivery(self, message: SentMessage, recipient: str) -> dict[str, Any]:
        return {
            "timestamp": _now_iso(),
            "processingTimeMillis": int((time.time() - message.timestamp) * 1000),
            "recipients": [recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a1-2.smtp-out.amazonses.com",
        }

    def _bounce(self, recipient: str, mailbox: str | None) -> dict[str, Any]:
        if mailbox == "suppressionlist":
            return {
                "feedbackId": f"{uuid.uuid4().hex}-000000",
                "bounceType": "Permanent",
                "bounceSubType": "OnAccountSuppressionList",
                "bouncedRecipients": [
                    {
                        "emailAddress": recipient,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": SUPPRESSED_DIAGNOSTIC,
                    }
                ],
                "timestamp": _now_iso(),
                "reportingMTA": "dns; amazonses.com",
            }
        return {
            "feedbackId": f"{uuid.uuid4().hex}-000000",
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": _now_iso(),
            "reportingMTA": "dsn; a1-2.smtp-out.amazonses.com",
        }

    def _complaint(self, recipient: str) -> dict[str, Any]:
        return {
            "feedbackId": f"{uuid.uuid4().hex}-000000",
            "complaintSubType": None,
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": _now_iso(),
            "userAgent": "Amazon SES Mailbox Simulator",
            "complaintFeedbackType": "abuse",
            "arrivalDate": _now_iso(),
        }

    # -- events on demand (drills and tests) ---------------------------------------------------

    def emit(self, ses_message_id: str, event_type: str) -> bool:
        """Publish one more event of ``event_type`` for a message this simulator has seen, with
        SES's own shape (any type of ``EVENT_TYPES``); False when its configuration set does
        not publish that type."""
        with self._cond:
            message = self.messages[ses_message_id]
        recipient = message.destination[0]
        if event_type in ("Open", "Click"):
            return self.engagement(ses_message_id, recipient, "open" if event_type == "Open" else "click")
        details: dict[str, dict[str, Any]] = {
            "Send": {},
            "Delivery": self._delivery(message, recipient),
            "Bounce": self._bounce(recipient, simulator_mailbox(recipient)),
            "Complaint": self._complaint(recipient),
            "Reject": {"reason": "Bad content"},
            "Rendering Failure": {
                "templateName": "coupon",
                "errorMessage": "Attribute 'code' is not present in the rendering data.",
            },
            "DeliveryDelay": {
                "timestamp": _now_iso(),
                "delayType": "TransientCommunicationFailure",
                "expirationTime": _now_iso(time.time() + 3600),
                "delayedRecipients": [
                    {
                        "emailAddress": recipient,
                        "status": "4.4.1",
                        "diagnosticCode": "smtp; 421 4.4.1 Timeout",
                    }
                ],
                "reportingMTA": "a1-2.smtp-out.amazonses.com",
            },
        }
        matching = EVENT_TYPES[event_type][0]
        if not any(matching in d.matching_event_types for d in self._destinations(message)):
            return False
        self._schedule(0.0, lambda: self._emit(message, event_type, details[event_type]))
        return True

    def replay(self, ses_message_id: str) -> int:
        """Publish every event record published so far for a message once more, as SNS's
        at-least-once delivery sometimes does; how many."""
        with self._cond:
            message = self.messages[ses_message_id]
            records = list(self.published.get(ses_message_id, []))
        for event_type, detail in records:
            self._schedule(0.0, partial(self._emit, message, event_type, detail))
        return len(records)

    # -- engagement ---------------------------------------------------------------------------

    def link_followed(self, path: str) -> bool:
        """A recipient requested ``path``: if it is a link of an email we saw, publish Open + Click.

        Following a link in an email is what SES's click tracking records (and the open pixel
        has loaded by then), so the message reads ``clicked``. True when the path matched.
        """
        with self._cond:
            seen = self.link_paths.get(path)
        if seen is None:
            return False
        message_id, recipient, link = seen
        self.engagement(message_id, recipient, "open")
        self.engagement(message_id, recipient, "click", link)
        return True

    def engagement(
        self, ses_message_id: str, recipient: str, kind: Engagement, link: str | None = None
    ) -> bool:
        """Publish an Open or Click for a message this simulator has seen; False if not matched."""
        with self._cond:
            message = self.messages.get(ses_message_id)
        if message is None:
            raise KeyError(f"the SES simulator has not seen message {ses_message_id}")
        if recipient.lower() not in (d.lower() for d in message.destination):
            raise ValueError(f"{recipient} is not a recipient of message {ses_message_id}")
        detail: dict[str, Any] = {"ipAddress": "127.0.0.1", "timestamp": _now_iso(), "userAgent": USER_AGENT}
        if kind == "open":
            event_type = "Open"
        elif kind == "click":
            event_type = "Click"
            detail = {**detail, "link": link or "", "linkTags": {}}
        else:
            raise ValueError(f"kind must be 'open' or 'click', not {kind!r}")
        if not any(EVENT_TYPES[event_type][0] in d.matching_event_types for d in self._destinations(message)):
            return False
        self._schedule(0.0, lambda: self._emit(message, event_type, detail))
        return True


def simulate_engagement(
    ses_message_id: str, recipient: str, kind: Engagement, link: str | None = None
) -> bool:
    """Publish an Open or Click record for a message the running simulator has seen."""
    if _ACTIVE is None:
        raise RuntimeError("no SES simulator is running")
    return _ACTIVE.engagement(ses_message_id, recipient, kind, link)
