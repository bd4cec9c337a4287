"""Mailchimp Marketing API v3: add a contact to an audience (list).

- Look the member up: ``GET /3.0/lists/{list_id}/members/{md5(lowercase email)}`` (404: new).
- Upsert: ``PUT /3.0/lists/{list_id}/members/{hash}`` with ``email_address``, ``status_if_new``
  (``pending`` for double opt-in, which makes Mailchimp send its confirmation email, else
  ``subscribed``) and ``merge_fields.FNAME``; an archived or transactional member is moved with
  ``status`` as well. A member who unsubscribed or was cleaned is never re-subscribed.
- HTTP Basic auth, any user name and the API key as password. The data center is the API key's
  suffix (``...-us21`` -> ``https://us21.api.mailchimp.com``) unless ``base_url`` is given.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from couponflow.domain.integration_status import Answer, Push, mailchimp_lookup, mailchimp_upsert
from couponflow.providers import Contact
from couponflow.providers.http import call


def subscriber_hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


def api_root(server_prefix: str | None, base_url: str | None) -> str:
    if base_url:
        return base_url.rstrip("/")
    return f"https://{server_prefix}.api.mailchimp.com"


@dataclass(frozen=True)
class MailchimpList:
    api_root: str  # e.g. https://us21.api.mailchimp.com (without /3.0)
    api_key: str
    list_id: str
    double_opt_in: bool

    def _headers(self) -> dict[str, str]:
        token = base64.b64encode(f"couponflow:{self.api_key}".encode()).decode()
        return {
            "Authorization": f"Basic {token}",
            "Content-Type": "application/json",
            "User-Agent": "Couponflow-Sync/1",
        }

    def member_url(self, email: str) -> str:
        return f"{self.api_root}/3.0/lists/{self.list_id}/members/{subscriber_hash(email)}"

    def subscribe(self, contact: Contact, *, pushed_before: bool, on_push: Callable[[], None]) -> Answer:
        url = self.member_url(contact.email)
        status, body = call("GET", url, headers=self._headers())
        decision = mailchimp_lookup(status, body, pushed_before=pushed_before)
        if not isinstance(decision, Push):
            return decision
        wanted = "pending" if self.double_opt_in else "subscribed"
        member: dict[str, object] = {"email_address": contact.email, "status_if_new": wanted}
        if decision.set_status:
            member["status"] = wanted
        if contact.name:
            member["merge_fields"] = {"FNAME": contact.name}
        on_push()
        status, body = call("PUT", url, body=json.dumps(member).encode(), headers=self._headers())
        return mailchimp_upsert(status, body, double_opt_in=self.double_opt_in, pushed_before=pushed_before)
