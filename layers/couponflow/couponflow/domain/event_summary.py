"""The one-line summary a merchant reads beside each message event (the info panel), in words,
from the event as stored; the receiving server's own words stay verbatim in the event's details
(the summary quotes them, shortened). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

QUOTE_MAX = 160

_BOUNCES = {
    ("Permanent", "General"): "Hard bounce",
    ("Permanent", "NoEmail"): "No such mailbox",
    ("Permanent", "Suppressed"): "Not sent: the address is on SES's suppression list",
    ("Permanent", "OnAccountSuppressionList"): "Not sent: the address is on the account's suppression list",
    ("Transient", "General"): "Soft bounce",
    ("Transient", "MailboxFull"): "Mailbox full",
    ("Transient", "MessageTooLarge"): "Message too large for the mailbox",
    ("Transient", "ContentRejected"): "Content rejected by the receiving server",
    ("Transient", "AttachmentRejected"): "Attachment rejected by the receiving server",
}


def _quoted(words: Any) -> str:
    text = " ".join(str(words or "").split())
    return text if len(text) <= QUOTE_MAX else text[: QUOTE_MAX - 1] + "…"


def _answered(prefix: str, words: Any, who: str = "the receiving server") -> str:
    said = _quoted(words)
    return f'{prefix}: {who} answered "{said}"' if said else prefix


def summary(event_type: str, details: Mapping[str, Any] | None) -> str:
    d = details or {}
    if event_type == "send":
        return "Accepted by SES for delivery"
    if event_type == "delivery":
        return _answered("Delivered", d.get("smtp_response"))
    if event_type == "bounce":
        kind = (str(d.get("bounce_type")), str(d.get("bounce_sub_type")))
        words = _BOUNCES.get(kind) or f"{kind[0]} bounce ({kind[1]})"
        return _answered(words, d.get("diagnostic_code") or d.get("status"))
    if event_type == "complaint":
        return f"Marked as spam ({d['feedback_type']})" if d.get("feedback_type") else "Marked as spam"
    if event_type == "reject":
        return f"Rejected by SES before sending: {_quoted(d.get('reason'))}".rstrip(": ")
    if event_type == "open":
        return "Opened"
    if event_type == "click":
        return f"Clicked {_quoted(d.get('link'))}".rstrip()
    if event_type == "rendering_failure":
        return f"Not sent: the template failed to render ({_quoted(d.get('error_message'))})"
    if event_type == "delivery_delay":
        until = f", retrying until {d['expiration_time']}" if d.get("expiration_time") else ""
        return _answered(
            f"Delayed ({d.get('delay_type') or 'unknown reason'}){until}", d.get("diagnostic_code")
        )
    if event_type == "subscription":
        return "Changed their subscription preferences"
    if event_type == "SmsDelivery":
        return _answered("Text delivered", d.get("provider_response"), "the carrier")
    if event_type == "SmsFailure":
        return _answered("Text not delivered", d.get("provider_response"), "the carrier")
    return event_type.replace("_", " ").capitalize()
