"""End to end: a merchant connects a Mailchimp list (a local server speaking the members API),
a storefront claim with marketing consent travels claim -> integration queue -> provider-sync
function -> Mailchimp, and the merchant reads the claim's integration status over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Call, Running
from tests.fakes.providers import FakeMailchimp

pytestmark = pytest.mark.e2e

API_KEY = "fedcba9876543210fedcba9876543210-us21"
LIST_ID = "e2elist01"


@pytest.fixture(scope="module")
def mailchimp() -> Iterator[FakeMailchimp]:
    with FakeMailchimp(API_KEY, LIST_ID) as server:
        yield server


def wait_for_claim(http: Call, email: str, field: str, value: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        code, customer = http("GET", f"/customers/{email}")
        if code == 200 and customer["claims"]:
            last = customer["claims"][-1]
            if last.get(field) == value:
                return dict(last)
        time.sleep(0.2)
    raise AssertionError(f"claim of {email} never had {field}={value}; last seen: {last}")


def test_claim_with_consent_reaches_the_mailchimp_list_and_shows_received(
    http: Call, local: Running, mailchimp
):
    connect = {"type": "mailchimp", "api_key": API_KEY, "base_url": mailchimp.url, "list_id": LIST_ID}
    code, shown = http("PUT", "/integrations/email-provider", connect)
    assert code == 200, shown
    assert shown["api_key"] == "****" + API_KEY[-4:] and shown["double_opt_in"] is True
    code, campaign = http("POST", "/campaigns", {"name": "Sync e2e", "codes": ["E2E-SYNC-01", "E2E-SYNC-02"]})
    assert code == 201, campaign

    email = "subscriber@example.com"
    path = f"/public/merchants/{local.merchant_id}/campaigns/{campaign['campaign_id']}/claims"
    code, claimed = http("POST", path, {"email": email, "name": "Sue", "marketing_consent": True}, key=None)
    assert code == 201 and claimed["status"] == "claimed"

    synced = wait_for_claim(http, email, "integration_status", "received")
    assert "integration_reason" not in synced
    member = mailchimp.member(LIST_ID, email)
    assert member is not None and member["status"] == "pending" and member["merge_fields"] == {"FNAME": "Sue"}

    code, _ = http("DELETE", "/integrations/email-provider")
    assert code == 204
    assert http("GET", "/integrations/email-provider")[0] == 404
