"""Shared by the end-to-end tests: the local stack started as ``make run`` starts it, and HTTP."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from couponflow.adapters import dynamodb
from couponflow.adapters.dynamodb import Table
from local_stack import LocalStack
from local_stack.moto_server import aws_env

from tests.conftest import record_stack_startup

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Running:
    """What the running stack wrote to its ready file."""

    api_url: str
    moto_url: str
    merchant_id: str
    api_key: str
    resources: dict[str, str]


# How long a local stack may take to get ready: a liveness bound, generous for a loaded machine
# (30 to 60 s were seen under heavy load); the run's summary reports the times actually taken.
READY_WITHIN = 300.0


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Running]:
    """``python -m local_stack`` in a process of its own, exactly as ``make run`` starts it."""
    ready = tmp_path_factory.mktemp("stack") / "ready.json"
    command = [
        sys.executable,
        "-m",
        "local_stack",
        "--api-port",
        "0",
        "--moto-port",
        "0",
        "--retry-delay",
        "0.2",
        "--ready-file",
        str(ready),
        "--log-dir",
        str(ready.parent),
    ]
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = started + READY_WITHIN
        while not ready.exists() or not ready.read_text():
            assert process.poll() is None, "the local stack exited during start-up"
            assert time.monotonic() < deadline, (
                f"the local stack did not get ready within {READY_WITHIN:.0f} s"
            )
            time.sleep(0.1)
        record_stack_startup(pytestconfig, "make-run", time.monotonic() - started)
        info = json.loads(ready.read_text())
        assert info["api_key"], "the local stack did not seed a demo merchant"
        yield Running(
            info["api_url"], info["moto_url"], info["merchant_id"], info["api_key"], info["resources"]
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            # a liveness bound (the stack drains in-flight batches first), generous for a loaded CI machine
            assert process.wait(timeout=120) == 0, "the local stack did not stop cleanly on Ctrl-C"
        finally:
            if process.poll() is None:
                process.kill()


Call = Callable[..., tuple[int, Any]]


def api_caller(api_url: str, api_key: str, timeout: float = 60.0) -> Call:
    """HTTP to a stack's API: ``call(method, path, body)`` as the demo merchant, or with
    ``key=None`` (no key) or another ``Authorization`` value; ``raw`` sends bytes as they are."""

    def call(
        method: str, path: str, body: Any = None, *, key: str | None = "demo", raw: bytes | None = None
    ) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if key == "demo":
            headers["Authorization"] = f"Bearer {api_key}"
        elif key is not None:
            headers["Authorization"] = key
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(api_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    return call


@pytest.fixture(scope="module")
def http(local: Running) -> Call:
    return api_caller(local.api_url, local.api_key, timeout=60)


def run_import(
    http: Call, path: str, data: bytes, body: Any = None, *, timeout: float = 240.0
) -> list[dict[str, Any]]:
    """An async import as a merchant runs one: start the job at ``path``, upload ``data`` to its
    presigned URL, and poll the job until it is done or failed; every state seen, the final last.
    ``timeout`` is a liveness bound for a loaded machine, not a speed check."""
    status, job = http("POST", path, body)
    assert status == 202 and job["state"] == "awaiting_upload", job
    upload = urllib.request.Request(
        job["upload"]["url"], data=data, method="PUT", headers=job["upload"]["headers"]
    )
    with urllib.request.urlopen(upload, timeout=60) as response:
        assert response.status == 200
    job_id = job.get("job_id") or job["import_id"]
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, current = http("GET", f"{path}/{job_id}")
        assert status == 200, current
        seen.append(current)
        if current["state"] in ("done", "failed"):
            return seen
        time.sleep(0.3)
    raise AssertionError(f"{path}/{job_id} did not finish within {timeout:.0f} s: {seen[-1:]}")


@contextmanager
def in_process_stack(
    logs: Path, stack_name: str, config: pytest.Config | None = None, *, dynamodb_process: bool = True
) -> Iterator[LocalStack]:
    """The template's whole local stack in this process, so a test can move its clock (a send is
    scheduled 2 hours ahead by the real clock, then the clock jumps to fire it), under resource
    names of its own beside the test session's. ``dynamodb_process=False`` keeps DynamoDB in this
    process's moto, for a test that watches moto serve its requests."""
    started = time.monotonic()
    with LocalStack(
        ROOT / "template.yaml",
        retry_delay=0.2,
        log_dir=logs,
        log_stream=None,
        stack_name=stack_name,
        dynamodb_process=dynamodb_process,
    ) as running:
        if config is not None:
            record_stack_startup(config, stack_name, time.monotonic() - started)
        # moto's state is per process: resetting it on stop would wipe the test session's resources
        assert running.moto is not None
        running.moto.reset = lambda: None  # type: ignore[method-assign]
        yield running


def stack_http(stack: LocalStack) -> Call:
    """HTTP to an in-process stack's API (see ``api_caller``)."""
    return api_caller(stack.api_url, stack.api_key)


def seed_table(stack: LocalStack, items: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Write ``items`` straight into an in-process stack's main table (through its moto), for a
    test whose subject is reading them: the core package's client pointed there for the write only."""
    with monkeypatch.context() as env:
        for name, value in aws_env(stack.moto_url, stack.region).items():
            env.setenv(name, value)
        dynamodb.client.cache_clear()
        try:
            Table(stack.resources["CouponflowTable"]).batch_put(items)
        finally:
            dynamodb.client.cache_clear()
