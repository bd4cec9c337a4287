"""What a segment send says: its subject, email body and SMS text filled in for one recipient.

Pure. Links carry UTM parameters naming the send, so the store's analytics can tell sends apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from couponflow.domain.coupon_email import fill

SAMPLE_CODE = "SAMPLE-CODE"


def with_utm(url: str, *, medium: str, campaign: str, content: str) -> str:
    parts = urlsplit(url)
    utm = urlencode(
        {"utm_source": "couponflow", "utm_medium": medium, "utm_campaign": campaign, "utm_content": content}
    )
    query = f"{parts.query}&{utm}" if parts.query else utm
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def values_for(
    customer: Mapping[str, Any], *, code: str, campaign_name: str, link: str, send_id: str, medium: str
) -> dict[str, str]:
    """Placeholder values for one recipient; ``link`` gets the send's UTM parameters."""
    return {
        "code": code,
        "campaign": campaign_name,
        "name": customer.get("first_name") or customer.get("name") or "there",
        "email": customer.get("email") or "",
        "coupon_url": with_utm(link, medium=medium, campaign=send_id, content=code),
    }


def sms_text(template: str, values: Mapping[str, str]) -> str:
    return fill(template, values, escape=False)
