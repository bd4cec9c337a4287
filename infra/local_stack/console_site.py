"""The merchant console at ``/console`` on the local stack's API port, as CloudFront serves it
from S3 on AWS: the static files of ``console/``, a ``config.json`` naming the API, and (local
stack only) the outbox: what the local SES and SNS accepted, each email openable with its links
working (they point at this stack's public routes)."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

Reply = tuple[int, list[tuple[str, str]], bytes]
PREFIX = "/console"
NO_CACHE = [("Cache-Control", "no-store")]


def _json(value: Any) -> Reply:
    return 200, [("Content-Type", "application/json"), *NO_CACHE], json.dumps(value).encode()


def html_of(raw: bytes) -> bytes | None:
    """The HTML part of a MIME message (else its text, as preformatted HTML)."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    part = message.get_body(preferencelist=("html", "plain"))
    if part is None:
        return None
    content = str(part.get_content())
    if part.get_content_type() == "text/plain":
        escaped = content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        content = f"<!doctype html><meta charset='utf-8'><pre>{escaped}</pre>"
    return content.encode()


class ConsoleSite:
    def __init__(
        self,
        root: Path,
        api_path: str,
        outbox: Callable[[], list[dict[str, Any]]],
        email_body: Callable[[str], bytes | None],
    ) -> None:
        self.root = root.resolve()
        self.api_path = api_path
        self.outbox = outbox
        self.email_body = email_body

    def __call__(self, path: str, _query: str) -> Reply | None:
        if path == "/":
            return 302, [("Location", f"{PREFIX}/")], b""
        if path != PREFIX and not path.startswith(f"{PREFIX}/"):
            return None
        rest = path[len(PREFIX) :].lstrip("/")
        if path == PREFIX:
            return 302, [("Location", f"{PREFIX}/")], b""
        if rest == "config.json":
            return _json({"api_url": self.api_path, "local": True})
        if rest == "outbox.json":
            return _json(self.outbox())
        if rest.startswith("outbox/"):
            body = self.email_body(rest.removeprefix("outbox/"))
            if body is None:
                return 404, [("Content-Type", "text/plain")], b"no such email"
            return 200, [("Content-Type", "text/html; charset=utf-8"), *NO_CACHE], body
        file = (self.root / (rest or "index.html")).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return 404, [("Content-Type", "text/plain")], b"not found"
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
            kind += "; charset=utf-8"
        return 200, [("Content-Type", kind), *NO_CACHE], file.read_bytes()
