"""A headless Chromium (Debian's ``chromium``) driven over the DevTools protocol on
``--remote-debugging-pipe`` (file descriptors 3 and 4, NUL-separated JSON): the standard library
is all it needs, and no browser is downloaded. Shared by the browser tests."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WAIT_SECONDS = 120.0  # a liveness bound for a loaded machine, not a speed check


class Chromium:
    """A headless Chromium driven through the DevTools protocol over a pipe."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM, "chromium is not installed: make test installs it (apt-get install -y chromium)"
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # dup2 onto the same number is a no-op that keeps close-on-exec (a fresh process's first
        # pipe is fd 3): the child's ends must be inheritable themselves
        os.set_inheritable(to_browser_r, True)
        os.set_inheritable(from_browser_w, True)

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
        with contextlib.suppress(queue.Empty):  # a load of an earlier page (a reload) is not this one's
            while True:
                self._events.get_nowait()
        self.call("Page.navigate", {"url": url}, session=self.session)
        self.wait_for_load()

    def visit(self, url: str) -> None:
        """Navigate, then wait for the document at ``url`` to be parsed (not for every resource
        it names to load: an email's images may point at hosts this machine cannot reach)."""
        self.call("Page.navigate", {"url": url}, session=self.session)
        self.wait_until(
            f"location.href === {json.dumps(url)} && document.readyState !== 'loading'", f"the page {url}"
        )

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

    def evaluate_async(self, expression: str) -> Any:
        """The value a JavaScript promise resolves to."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
        )
        return result["result"].get("value")

    def wait_until(self, expression: str, what: str) -> Any:
        """Poll a JavaScript expression until it is truthy; its value."""
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, f"{what} did not happen within {WAIT_SECONDS:.0f} s"
            time.sleep(0.2)

    def screenshot(self, path: Path, width: int = 1280, height: int = 900) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            session=self.session,
        )
        shot = self.call("Page.captureScreenshot", {"format": "png"}, session=self.session)
        path.parent.mkdir(parents=True, exist_ok=True)  # whichever test takes the first one
        path.write_bytes(base64.b64decode(shot["data"]))
