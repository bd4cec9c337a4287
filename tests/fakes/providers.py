"""Local HTTP servers that speak the email providers' protocols, for integration and e2e tests.

``FakeMailchimp`` implements the Marketing API v3 list-member endpoints the way Mailchimp
documents them: ``GET``/``PUT /3.0/lists/{list_id}/members/{md5(lowercase email)}`` (``PUT``
creates with ``status_if_new`` or updates, and ``status`` moves an existing member),
``POST /3.0/lists/{list_id}/members`` (400 ``Member Exists`` for a known address), HTTP Basic
auth with the API key as password (401 otherwise), 404 for an unknown list or member, 400
``Forgotten Email Not Subscribed`` for a permanently deleted contact, and programmable
failures (e.g. 500 or 429) for the next requests.

``WebhookReceiver`` verifies ``Couponflow-Signature`` (HMAC-SHA256 over ``"{t}.{body}"``),
answers 401 to a bad signature, 409 to an address it already has (unless the same
``Idempotency-Key`` repeats), 200 otherwise, or the programmed status.

``NoticeReceiver`` is a merchant's notice webhook: it takes every post (200, or the programmed
status) and keeps each raw body, so a test checks the signature with the secret the merchant
was shown (``signed_with``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


def _hash(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""


class _Server:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.fail_next: list[int] = []  # statuses to answer, one per request, before normal service
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                with owner._lock:
                    owner.requests.append(Recorded(self.command, self.path, dict(self.headers), body, raw))
                    forced = owner.fail_next.pop(0) if owner.fail_next else None
                    if forced is not None:
                        status, answer = (
                            forced,
                            {"title": "Forced", "status": forced, "detail": "test failure"},
                        )
                    else:
                        status, answer = owner.handle(self.command, self.path, dict(self.headers), raw, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header(
                    "Content-Type", "application/problem+json" if status >= 400 else "application/json"
                )
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _serve  # noqa: N815

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, body: Any
    ) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("PUT", "POST")]

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@dataclass
class _List:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)


class FakeMailchimp(_Server):
    def __init__(self, api_key: str, list_id: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.lists = {list_id: _List()}

    def add_member(self, list_id: str, email: str, status: str) -> None:
        self.lists[list_id].members[_hash(email)] = {
            "email_address": email,
            "status": status,
            "merge_fields": {},
        }

    def forget(self, list_id: str, email: str) -> None:
        self.lists[list_id].forgotten.add(_hash(email))

    def member(self, list_id: str, email: str) -> dict[str, Any] | None:
        return self.lists[list_id].members.get(_hash(email))

    def _authorized(self, headers: dict[str, str]) -> bool:
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme != "Basic":
            return False
        _, _, password = base64.b64decode(token).decode().partition(":")
        return password == self.api_key

    @staticmethod
    def _problem(status: int, title: str, detail: str) -> tuple[int, dict[str, Any]]:
        return status, {
            "type": "https://mailchimp.com/developer/",
            "title": title,
            "status": status,
            "detail": detail,
        }

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, body: Any
    ) -> tuple[int, dict[str, Any]]:
        if not self._authorized(headers):
            return self._problem(401, "API Key Invalid", "Your API key may be invalid.")
        parts = path.strip("/").split("/")  # 3.0 lists <id> members [hash]
        if parts[:2] != ["3.0", "lists"] or len(parts) < 4 or parts[3] != "members":
            return self._problem(404, "Resource Not Found", "The requested resource could not be found.")
        audience = self.lists.get(parts[2])
        if audience is None:
            return self._problem(404, "Resource Not Found", "The requested resource could not be found.")
        if len(parts) == 4 and method == "POST":
            member_hash = _hash(body["email_address"])
            if member_hash in audience.members:
                return self._problem(
                    400, "Member Exists", f"{body['email_address']} is already a list member."
                )
            return self._create(audience, member_hash, body, body.get("status", "subscribed"))
        if len(parts) != 5:
            return self._problem(405, "Method Not Allowed", "")
        member_hash = parts[4]
        existing = audience.members.get(member_hash)
        if method == "GET":
            if existing is None:
                return self._problem(404, "Resource Not Found", "The requested resource could not be found.")
            return 200, existing
        if method == "PUT":
            if body.get("email_address") and _hash(body["email_address"]) != member_hash:
                return self._problem(
                    400, "Invalid Resource", "The subscriber hash does not match the address."
                )
            if existing is None:
                return self._create(audience, member_hash, body, body.get("status") or body["status_if_new"])
            if body.get("status"):
                existing["status"] = body["status"]
            existing["merge_fields"].update(body.get("merge_fields") or {})
            return 200, existing
        return self._problem(405, "Method Not Allowed", "")

    def _create(
        self, audience: _List, member_hash: str, body: dict[str, Any], status: str
    ) -> tuple[int, dict[str, Any]]:
        if member_hash in audience.forgotten:
            return self._problem(
                400,
                "Forgotten Email Not Subscribed",
                f"{body['email_address']} was permanently deleted and cannot be re-imported.",
            )
        member = {
            "id": member_hash,
            "email_address": body["email_address"],
            "status": status,
            "merge_fields": dict(body.get("merge_fields") or {}),
        }
        audience.members[member_hash] = member
        return 200, member


class WebhookReceiver(_Server):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.accepted: dict[str, str] = {}  # email -> idempotency key
        self.answer: int | None = None  # a fixed status to answer, instead of the normal service

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, body: Any
    ) -> tuple[int, dict[str, Any]]:
        timestamp, _, mac = headers.get("Couponflow-Signature", "").partition(",v1=")
        expected = hmac.new(
            self.secret.encode(), f"{timestamp[2:]}.".encode() + raw, hashlib.sha256
        ).hexdigest()
        if not timestamp.startswith("t=") or not hmac.compare_digest(mac, expected):
            return 401, {"error": "bad signature"}
        if self.answer is not None:
            return self.answer, {"status": self.answer}
        key = headers.get("Idempotency-Key", "")
        email = body["email"]
        if email in self.accepted and self.accepted[email] != key:
            return 409, {"error": "already subscribed"}
        self.accepted[email] = key
        return 200, {"ok": True}


class NoticeReceiver(_Server):
    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes, body: Any
    ) -> tuple[int, dict[str, Any]]:
        return 200, {"ok": True}

    @property
    def notices_url(self) -> str:
        return f"{self.url}/notices"


def signed_with(secret: str, post: Recorded) -> bool:
    """Whether ``post`` carries a ``Couponflow-Signature`` made with ``secret`` over its body."""
    stamp, _, mac = post.headers.get("Couponflow-Signature", "").removeprefix("t=").partition(",v1=")
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + post.raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, expected)
