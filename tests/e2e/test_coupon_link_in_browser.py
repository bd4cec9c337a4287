"""End to end in a real headless browser: the coupon link from the email, the coupon page, the
button to the store, and the one-click unsubscribe page, on the running local stack.

Chromium (Debian's ``chromium`` package; ``make test`` installs it when missing) is driven over
the DevTools protocol on ``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated
JSON), so the test needs nothing beyond the standard library. The store is a tiny local
``http.server`` that records what it was asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.conftest import Call, Running

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WAIT_SECONDS = 120.0  # a liveness bound for a loaded machine, not a speed check


class Chromium:
    """A headless Chromium driven through the DevTools protocol over a pipe."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM, "chromium is not installed: make test installs it (apt-get install -y chromium)"
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire_pipes() -> None:  # in the child: the protocol's fds 3 (commands) and 4 (answers)
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.process = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire_pipes,  # noqa: PLW1509 - single-threaded at this point of the test
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=self.session)

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._cond:
                        self._answers[message["id"]] = message
                        self._cond.notify_all()
                else:
                    self._events.put(message)

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        with self._cond:
            got = self._cond.wait_for(lambda: self._next_id in self._answers, timeout=WAIT_SECONDS)
            assert got, f"chromium did not answer {method}"
            answer = self._answers.pop(self._next_id)
        assert "error" not in answer, answer
        return answer.get("result", {})

    def wait_for_load(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                event = self._events.get(timeout=0.5)
            except queue.Empty:
                continue
            if event.get("method") == "Page.loadEventFired" and event.get("sessionId") == self.session:
                return
        raise AssertionError("the page did not finish loading")

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url}, session=self.session)
        self.wait_for_load()

    def click(self, element_id: str) -> None:
        """A real click on the element (the browser then follows the link or submits the form)."""
        self.evaluate(f"document.getElementById({json.dumps(element_id)}).click()")
        self.wait_for_load()

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=self.session
        )
        return result["result"].get("value")

    def text_of(self, element_id: str) -> str | None:
        value = self.evaluate(f"(e => e && e.textContent)(document.getElementById({json.dumps(element_id)}))")
        return None if value is None else str(value)

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):  # it may close the pipe before answering
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


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
