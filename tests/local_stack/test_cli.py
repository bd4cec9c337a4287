"""`python -m local_stack` as a subprocess: ready file, serving, clean SIGTERM shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURE_TEMPLATE = Path(__file__).parent / "fixtures" / "template.yaml"


def test_cli_writes_the_ready_file_serves_and_exits_0_on_sigterm(
    tmp_path: Path, eventually: Callable[..., Any]
) -> None:
    ready = tmp_path / "ready.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local_stack",
            "--template",
            str(FIXTURE_TEMPLATE),
            "--api-port",
            "0",
            "--moto-port",
            "0",
            "--stack-name",
            "cli",
            "--parameter",
            "Flavour=fancy",
            "--log-dir",
            str(tmp_path / "logs"),
            "--ready-file",
            str(ready),
            "--no-seed",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        eventually(lambda: ready.exists() or process.poll() is not None, timeout=300)
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        info = json.loads(ready.read_text())
        assert set(info) == {"api_url", "moto_url", "dynamodb_url", "merchant_id", "api_key", "resources"}
        assert info["resources"]["FancyBucket"] == "cli-fancybucket"  # the condition follows --parameter
        request = urllib.request.Request(info["api_url"] + "/public/1", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "Couponflow local stack is up" in output
    assert "EchoFunction | REPORT RequestId" in output
    assert (tmp_path / "logs" / "EchoFunction.log").read_text()
