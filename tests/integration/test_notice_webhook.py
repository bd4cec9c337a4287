"""A merchant's notice webhook: set through the merchant API (its secret shown once), tested with
a ping, posted with every notice under an id that stays the same when the notice is tried
again, and never called on an internal host where the template forbids it. The receiver is a
real HTTP server on 127.0.0.1; the merchant API is the function's handler as the template wires it."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from types import ModuleType
from typing import Any

import pytest
from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.errors import PermanentSendError
from couponflow.services.housekeeping.pool_alerts import PoolAlerts
from couponflow.services.notifications import Notice, notify_merchant
from couponflow.store import campaigns, keys

from tests.fakes.providers import NoticeReceiver, signed_with
from tests.integration.helpers import body_of, merchant_event

WEBHOOK = "/settings/notice-webhook"
NOW = "2026-12-04T10:00:00+00:00"


@pytest.fixture()
def receiver() -> Iterator[NoticeReceiver]:
    with NoticeReceiver() as found:
        yield found


Api = Callable[..., tuple[int, Any]]


def _api(module: ModuleType, merchant_id: str, lambda_context: Any) -> Api:
    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = module.lambda_handler(
            merchant_event(merchant_id, method, path, path, body), lambda_context
        )
        return response["statusCode"], body_of(response)

    return call


@pytest.fixture()
def api(load_handler: Callable[[str], ModuleType], merchant: Any, lambda_context: Any) -> Api:
    return _api(load_handler("MerchantApiFunction"), merchant[0], lambda_context)


def test_a_webhook_is_set_with_a_secret_shown_once_replaced_with_a_new_one_and_removed(api, receiver):
    # When the merchant sets a notice webhook
    status, set_ = api("PUT", WEBHOOK, {"url": receiver.notices_url})

    # Then the answer shows the secret, and the settings later show only its end
    assert status == 200, set_
    assert set_["url"] == receiver.notices_url and set_["secret"].startswith("whsec_")
    assert set_["secret_hint"] == set_["secret"][-4:]
    status, settings = api("GET", "/settings")
    assert status == 200
    assert settings["notice_webhook"] == {
        "url": receiver.notices_url,
        "secret_hint": set_["secret"][-4:],
        "set_at": set_["set_at"],
    }
    assert set_["secret"] not in json.dumps(settings)

    # When it is set again, the secret is a new one; when removed, no webhook is left
    status, again = api("PUT", WEBHOOK, {"url": receiver.notices_url})
    assert status == 200 and again["secret"] != set_["secret"]
    assert api("DELETE", WEBHOOK) == (204, None)
    assert api("GET", "/settings")[1]["notice_webhook"] is None
    assert api("DELETE", WEBHOOK) == (204, None)  # removing none is no error


def test_a_test_notice_arrives_signed_with_the_secret_and_its_id_as_the_idempotency_key(api, receiver):
    secret = api("PUT", WEBHOOK, {"url": receiver.notices_url})[1]["secret"]

    status, tested = api("POST", f"{WEBHOOK}/test")

    assert status == 200, tested
    assert tested["delivered"] is True and tested["status"] == 200
    (post,) = receiver.writes()
    assert signed_with(secret, post)
    assert post.headers["Idempotency-Key"] == tested["id"] == post.body["id"]
    assert post.body["type"] == "ping"


def test_a_test_notice_the_webhook_refuses_says_why_and_none_is_404(api, receiver):
    assert api("POST", f"{WEBHOOK}/test")[0] == 404
    api("PUT", WEBHOOK, {"url": receiver.notices_url})
    receiver.fail_next.append(410)

    status, tested = api("POST", f"{WEBHOOK}/test")

    assert status == 200
    assert tested["delivered"] is False and "410" in tested["reason"]


@pytest.mark.parametrize("url", ["ftp://example.com/hooks", "not a url", ""])
def test_a_webhook_url_that_is_not_http_is_refused_naming_the_field(api, url):
    status, problem = api("PUT", WEBHOOK, {"url": url})

    assert status == 422 and "url" in json.dumps(problem)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://shop.example.com/hooks", "must use https"),
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://169.254.169.254/latest/meta-data", "instance metadata"),
        ("https://10.0.0.8/hooks", "private"),
    ],
)
def test_a_webhook_on_an_internal_host_or_without_https_is_400_as_deployed(
    load_handler, monkeypatch, merchant, lambda_context, url, why
):
    # Given the merchant API as deployed to AWS (AllowPrivateProviderHosts=false)
    module = load_handler("MerchantApiFunction")
    monkeypatch.setenv("ALLOW_PRIVATE_PROVIDER_HOSTS", "false")
    strict = _api(importlib.reload(module), merchant[0], lambda_context)

    status, problem = strict("PUT", WEBHOOK, {"url": url})

    assert status == 400, problem
    assert problem["field"] == "url" and why in problem["message"]


def test_a_notifying_function_as_deployed_never_posts_to_an_internal_host(stack, merchant, receiver):
    # Given a webhook on 127.0.0.1 (set while private hosts were allowed) and no notification email
    table = Table(stack.physical["CouponflowTable"])
    table.update(
        keys.merchant(merchant[0]),
        "SET webhook_url = :u, webhook_secret = :s REMOVE notification_email",
        values={":u": receiver.notices_url, ":s": "whsec_x"},
    )
    notice = Notice("pool_low", "Codes running low", "Only 5 codes left", {"left": 5}, key="c-1/1")

    # When a function that does not allow private hosts notifies the merchant
    with pytest.raises(PermanentSendError, match=r"loopback|https"):
        notify_merchant(table, merchant[0], notice, sender="coupons@example.com")

    # Then nothing reached the host
    assert receiver.requests == []


def test_a_pool_alert_tried_again_after_its_webhook_failed_posts_the_same_notice_id(
    api, stack, merchant, receiver
):
    # Given a webhook that fails once, and no notification email
    table = Table(stack.physical["CouponflowTable"])
    api("PUT", WEBHOOK, {"url": receiver.notices_url})
    table.update(keys.merchant(merchant[0]), "REMOVE notification_email")
    receiver.fail_next.append(503)
    campaign = Campaign(merchant[0], "cmp_notice_id", "Notice id", "Subject", "email")
    campaigns.create(table, campaign, NOW)
    campaigns.update_fields(table, merchant[0], campaign.campaign_id, {"pool_alert_threshold": 5}, NOW)
    campaigns.add_codes(table, merchant[0], campaign.campaign_id, ["NID-001"], NOW)
    sweep = PoolAlerts(table, sender="alerts@example.com", allow_private_hosts=True)

    # When two sweeps run (the first one's alert is given back)
    sweep(datetime.fromisoformat(NOW))
    sweep(datetime.fromisoformat(NOW))

    # Then both posts are one notice: the same id in the body and the Idempotency-Key
    first, second = receiver.writes()
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    assert [p.body["id"] for p in (first, second)] == [first.headers["Idempotency-Key"]] * 2
    assert [p.body["type"] for p in (first, second)] == ["pool_low", "pool_low"]
    stored = table.get(keys.campaign(merchant[0], campaign.campaign_id)) or {}
    assert stored["pool_low_alerted_version"] == 1
