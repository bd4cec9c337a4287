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


def test_connects_and_disconnects_racing_over_http_get_no_5xx_and_leave_no_connection_without_its_secret(
    http: Call, local: Running, mailchimp
):
    """Each request in a Lambda-like worker of its own, up to four at once, as API Gateway would
    run them: whatever the order, the later one wins or is told so, and the connection that stays
    (if any) has its secret, the only one left of this merchant's."""
    from concurrent.futures import ThreadPoolExecutor

    import boto3

    connect = {"type": "mailchimp", "api_key": API_KEY, "base_url": mailchimp.url, "list_id": LIST_ID}

    def one(turn: int) -> int:
        code, _ = (
            http("PUT", "/integrations/email-provider", connect)
            if turn % 2 == 0
            else http("DELETE", "/integrations/email-provider")
        )
        return int(code)

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(24)))

    assert all(code < 500 for code in codes), codes
    secrets = boto3.client("secretsmanager", endpoint_url=local.moto_url, region_name="us-east-1")
    prefix = f"/merchants/{local.merchant_id}/email-provider/"
    names = [
        s["Name"]
        for page in secrets.get_paginator("list_secrets").paginate()
        for s in page["SecretList"]
        if prefix in s["Name"]
    ]
    code, shown = http("GET", "/integrations/email-provider")
    if code == 200:  # connected: its one secret is there, and the connection reads it
        assert len(names) == 1 and shown["list_id"] == LIST_ID
    else:
        assert code == 404 and names == []
