"""Rendering the coupon email: the campaign's templates filled in, as a complete MIME message.

Pure: values in, bytes out. ``render`` builds one complete message (the reference rendering);
the mailer sends the same email in bulk as an SES template (``bulk_template``) that SES fills
in per recipient with ``bulk_template_data``, with the one-click unsubscribe headers of
``unsubscribe_headers``, so each recipient gets what ``render`` would have built.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

PLACEHOLDERS = frozenset({"code", "coupon_url", "campaign", "name", "email", "unsubscribe_url"})
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")

DEFAULT_HTML = """<!doctype html>
<html><body style="font-family:Arial,sans-serif;color:#222">
<h1 style="font-size:20px">{{campaign}}</h1>
<p>Hi {{name}}, here is your coupon code:</p>
<p style="font-size:28px;font-weight:bold;letter-spacing:2px">{{code}}</p>
<p><a href="{{coupon_url}}" style="background:#0a7;color:#fff;padding:10px 16px;text-decoration:none">
Check your coupon</a></p>
<p style="font-size:12px;color:#777">Don't want these emails?
<a href="{{unsubscribe_url}}">Unsubscribe</a></p>
</body></html>
"""

DEFAULT_TEXT = """{{campaign}}

Hi {{name}}, here is your coupon code: {{code}}

Check your coupon: {{coupon_url}}

Unsubscribe: {{unsubscribe_url}}
"""


def unknown_placeholders(template: str) -> set[str]:
    return {name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS}


def fill(template: str, values: Mapping[str, str], *, escape: bool) -> str:
    """Replace ``{{name}}`` placeholders; values are HTML-escaped in HTML bodies."""

    def one(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "")
        return html.escape(value, quote=True) if escape else value

    return _PLACEHOLDER.sub(one, template)


@dataclass(frozen=True)
class CouponEmail:
    sender: str
    recipient: str
    subject: str
    html_template: str | None
    text_template: str | None
    values: Mapping[str, str]
    unsubscribe_url: str | None = None


def render(email: CouponEmail, *, now: datetime | None = None) -> bytes:
    """A multipart/alternative message (text, then HTML) with one-click unsubscribe headers.

    The reference the bulk template is held to (the functions send through SES's templates and
    never render raw MIME): the header registry it needs is imported here, not by every function
    that imports this module (the mailer, the fan-out, the merchant API's campaign routes).
    """
    from email.headerregistry import Address  # noqa: PLC0415

    values = {**email.values, "unsubscribe_url": email.unsubscribe_url or ""}
    message = EmailMessage()
    message["From"] = email.sender
    message["To"] = Address(addr_spec=email.recipient)
    message["Subject"] = fill(email.subject, values, escape=False)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=email.sender.rpartition("@")[2] or None)
    if email.unsubscribe_url:
        # RFC 8058 one-click unsubscribe: mailbox providers POST "List-Unsubscribe=One-Click" to it.
        message["List-Unsubscribe"] = f"<{email.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(fill(email.text_template or DEFAULT_TEXT, values, escape=False))
    message.add_alternative(fill(email.html_template or DEFAULT_HTML, values, escape=True), subtype="html")
    return message.as_bytes()


# ---------------------------------------------------------------------------------------------
# The same email as an SES template, for bulk sending (SES v2 SendBulkEmail)
# ---------------------------------------------------------------------------------------------

_MUSTACHE = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}|\{\{")
HTML_SUFFIX = "_html"


@dataclass(frozen=True)
class BulkTemplate:
    """One campaign's (or send's) email as an SES template: Handlebars placeholders per recipient."""

    subject: str
    text: str
    html: str


def _to_handlebars(template: str, *, html_part: bool) -> str:
    """Our ``{{name}}`` as ``{{{name}}}`` (SES renders it verbatim; HTML values come pre-escaped
    as ``name_html``), and any other ``{{`` escaped so SES prints it as written, like ``fill``."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "\\{{"
        return "{{{" + name + (HTML_SUFFIX if html_part else "") + "}}}"

    return _MUSTACHE.sub(one, template)


def bulk_template(subject: str, html_template: str | None, text_template: str | None) -> BulkTemplate:
    """The template SES fills in for each recipient; rendered, it reads exactly like :func:`render`."""
    return BulkTemplate(
        subject=_to_handlebars(subject, html_part=False),
        text=_to_handlebars(text_template or DEFAULT_TEXT, html_part=False),
        html=_to_handlebars(html_template or DEFAULT_HTML, html_part=True),
    )


def bulk_template_data(values: Mapping[str, str], unsubscribe_url: str | None) -> dict[str, str]:
    """One recipient's replacement data: every placeholder as written and HTML-escaped."""
    plain = {name: "" for name in PLACEHOLDERS}
    plain.update({k: v for k, v in values.items() if k in PLACEHOLDERS})
    plain["unsubscribe_url"] = unsubscribe_url or ""
    escaped = {name + HTML_SUFFIX: html.escape(value, quote=True) for name, value in plain.items()}
    return {**plain, **escaped}


def unsubscribe_headers(unsubscribe_url: str | None) -> list[tuple[str, str]]:
    """RFC 8058 one-click unsubscribe headers of one recipient (none without a URL)."""
    if not unsubscribe_url:
        return []
    return [
        ("List-Unsubscribe", f"<{unsubscribe_url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ]
