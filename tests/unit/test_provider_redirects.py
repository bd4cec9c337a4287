"""Calls to a merchant-given URL never follow a redirect: the URL was checked, its target was not."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from couponflow.adapters import webhook
from couponflow.errors import PermanentSendError
from couponflow.providers import http


@pytest.fixture()
def redirecting_server() -> Iterator[tuple[str, list[str]]]:
    """A server whose /hook answers 302 to its own /internal; the paths it was asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            asked.append(self.path)
            if self.path == "/hook":
                self.send_response(302)
                self.send_header("Location", "/internal")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"secret": "internal"}')

        def do_GET(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", asked
    server.shutdown()
    server.server_close()


def test_a_provider_call_answered_with_a_redirect_reports_it_and_never_follows_it(
    redirecting_server: tuple[str, list[str]],
) -> None:
    base, asked = redirecting_server
    status, body = http.call("POST", f"{base}/hook", body=b"{}")
    assert status == 302 and "internal" not in str(body)
    assert asked == ["/hook"]


def test_a_webhook_answered_with_a_redirect_fails_for_good_without_following_it(
    redirecting_server: tuple[str, list[str]],
) -> None:
    base, asked = redirecting_server
    with pytest.raises(PermanentSendError, match="redirect"):
        webhook.post_signed(f"{base}/hook", "secret", {"event": "test"})
    assert asked == ["/hook"]
