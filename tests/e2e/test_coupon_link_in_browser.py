"""End to end in a real headless browser: the coupon link from the email, the coupon page, the
button to the store, and the one-click unsubscribe page, on the running local stack.

Chromium (Debian's ``chromium`` package; ``make test`` installs it when missing) is driven over
the DevTools protocol on ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated
JSON), so the test needs nothing beyond the standard library. The store is a tiny local
``http.server`` that records what it was asked for.
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.browser import WAIT_SECONDS, Chromium
from tests.e2e.conftest import Call, Running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


class Store:
    """A tiny shop on 127.0.0.1 that remembers every request."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                store.requests.append(self.path)
                body = b"<!doctype html><title>The shop</title><h1 id='shop'>Welcome to the shop</h1>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    shop = Store()
    yield shop
    shop.stop()


def emails_to(local: Running, recipient: str) -> list[bytes]:
    """Raw MIME of what (moto's) SES accepted for ``recipient``, oldest first."""
    with urllib.request.urlopen(f"{local.moto_url}/moto-api/data.json", timeout=30) as response:
        data = json.loads(response.read())
    sent = data.get("ses", {}).get("RawMessage", [])
    return [m["raw_data"].encode() for m in sent if recipient in m.get("destinations", [])]


def links_in(raw: bytes) -> tuple[str, str]:
    """(coupon link, List-Unsubscribe link) of a coupon email, as the recipient's client sees them."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body(("html",))
    assert body is not None
    coupon = re.search(r'href="([^"]+/coupons/[^"]+)"', body.get_content())
    unsubscribe = re.fullmatch(r"<(.+)>", str(message["List-Unsubscribe"]))
    assert coupon and unsubscribe
    return coupon.group(1), unsubscribe.group(1)


def eventually(probe: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} never happened; last seen: {last}")


@pytest.fixture(scope="module")
def claimed_by_email(http: Call, local: Running, store: Store) -> Callable[[str], tuple[str, str, str]]:
    """A campaign leading to the local store, claimed by ``email``.

    Returns (campaign id, coupon link, unsubscribe link), the links read from the email SES accepted.
    """

    def claim(email: str) -> tuple[str, str, str]:
        status, campaign = http(
            "POST",
            "/campaigns",
            {
                "name": "Browser sale",
                "store_url": f"{store.url}/shop?ref=mail",
                "codes": [f"WEB-{email[:4]}-01"],
            },
        )
        assert status == 201, campaign
        path = f"/public/merchants/{local.merchant_id}/campaigns/{campaign['campaign_id']}/claims"
        status, answer = http("POST", path, {"email": email}, key=None)
        assert status == 201 and answer["status"] == "claimed", answer
        raw = eventually(lambda: emails_to(local, email), f"a coupon email to {email}")[-1]
        coupon, unsubscribe = links_in(raw)
        return str(campaign["campaign_id"]), coupon, unsubscribe

    return claim


def customer(http: Call, email: str) -> dict[str, Any]:
    status, body = http("GET", f"/customers/{email}")
    assert status == 200, body
    return dict(body)


def test_coupon_link_from_the_email_shows_the_code_and_its_button_lands_on_the_store_with_utm(
    browser: Chromium, store: Store, http: Call, claimed_by_email: Callable[[str], tuple[str, str, str]]
) -> None:
    email = "success+browser@simulator.amazonses.com"
    campaign_id, coupon_link, _ = claimed_by_email(email)
    eventually(lambda: customer(http, email)["messages"][0]["status"] == "delivered", "delivery")

    browser.open(coupon_link)
    assert browser.text_of("coupon-code") == "WEB-succ-01"
    assert customer(http, email)["claims"][0]["status"] == "coupon_viewed"

    browser.click("go-to-store")
    landed = urlsplit(str(browser.evaluate("location.href")))
    assert f"{landed.scheme}://{landed.netloc}" == store.url and landed.path == "/shop"
    assert parse_qs(landed.query) == {
        "ref": ["mail"],
        "utm_source": ["couponflow"],
        "utm_medium": ["email"],
        "utm_campaign": [campaign_id],
    }
    assert browser.text_of("shop") == "Welcome to the shop"
    assert any(r.startswith("/shop?") for r in store.requests)

    assert customer(http, email)["claims"][0]["status"] == "clicked_through"
    message = eventually(
        lambda: next((m for m in customer(http, email)["messages"] if m["status"] == "clicked"), None),
        "the message reading clicked (the simulator's Open and Click)",
    )
    assert {"open", "click"} <= {e["event_type"] for e in message["events"]}


def test_unsubscribe_link_asks_first_then_its_button_unsubscribes(
    browser: Chromium, http: Call, claimed_by_email: Callable[[str], tuple[str, str, str]]
) -> None:
    email = "leave@example.com"
    _, _, unsubscribe_link = claimed_by_email(email)

    browser.open(unsubscribe_link)
    assert browser.text_of("unsubscribe") == "Unsubscribe"
    assert customer(http, email)["unsubscribed_at"] is None

    browser.click("unsubscribe")
    assert "You are unsubscribed" in str(browser.evaluate("document.body.textContent"))
    assert customer(http, email)["unsubscribed_at"]


def test_a_tampered_coupon_link_is_refused_with_json(
    browser: Chromium, claimed_by_email: Callable[[str], tuple[str, str, str]]
) -> None:
    _, coupon_link, _ = claimed_by_email("tamper@example.com")
    head, _, token = coupon_link.rpartition("/")
    payload, _, mac = token.partition(".")
    tampered = f"{head}/{payload}.{mac[::-1]}"

    browser.open(tampered)
    answer = json.loads(str(browser.evaluate("document.body.innerText")))
    assert answer["field"] == "token"
