"""DynamoDB served by a moto of its own, in a process of its own.

moto serves every request under its process's one GIL, and the local stack's process also runs
the gateway, the SQS pollers and the SES and SMS simulators: under a flash sale of claims over
HTTP it sat at 80 to 90% of a core while the machine's other core idled, and claims stopped at
25 to 35 per second. DynamoDB is the busiest service (five of the eight moto requests a claim
brings with its email and SES's events) and moto ties it to no other service, so it runs here:
the functions reach it at ``AWS_ENDPOINT_URL_DYNAMODB`` (botocore's per-service endpoint, so
nothing in a function knows), and any other client of the main moto (``AWS_ENDPOINT_URL``
alone, the CLI's ``--local``, a test's boto3 client) is forwarded here by the main moto's
``DynamoDBProxy``. The same patches (``moto_patches``) apply in both processes.

The child prints its URL once it listens, and exits when its standard input closes: when the
stack stops, and when the stack's process dies without stopping it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import subprocess
import sys
import time

from local_stack.moto_server import FAKE_CREDENTIALS, MotoServer

log = logging.getLogger(__name__)

READY_TIMEOUT = 120.0  # seconds; a loaded machine took 30 to 60 s to start the whole stack


class DynamoDBProcess:
    """:func:`main` in a child of this process."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._process: subprocess.Popen[str] | None = None
        self._url: str | None = None

    def start(self) -> None:
        """Start the child; :meth:`wait_ready` waits for it to listen."""
        self._url = None  # a stopped child's URL is not this one's
        # main() by import, not ``-m``: the package's __init__ imports this module first
        child = "import sys; from local_stack.dynamodb_process import main; sys.exit(main(sys.argv[1:]))"
        command = [sys.executable, "-c", child, "--port", str(self.port)]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **FAKE_CREDENTIALS},
        )

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> str:
        """The child's URL, once it listens (raises ``RuntimeError`` if it exits or takes too long)."""
        if self._url is not None:
            return self._url
        process = self._process
        assert process is not None and process.stdout is not None, "not started"
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"moto's DynamoDB process did not listen within {timeout:.0f} s")
            readable, _, _ = select.select([process.stdout], [], [], min(remaining, 1.0))
            if readable:
                line = process.stdout.readline().strip()
                if line.startswith("http://"):
                    self._url = line
                    return line
                if not line and process.poll() is not None:
                    raise RuntimeError(f"moto's DynamoDB process exited ({process.returncode})")
            elif process.poll() is not None:
                raise RuntimeError(f"moto's DynamoDB process exited ({process.returncode})")

    @property
    def url(self) -> str:
        assert self._url is not None, "not ready"
        return self._url

    def stop(self, timeout: float = 10.0) -> None:
        process = self._process
        if process is None:
            return
        self._process = None
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the child's signal to stop
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("moto's DynamoDB process did not stop within %.0f s: killed", timeout)
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="moto's DynamoDB for the local stack (a child of it)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = MotoServer(args.port)
    server.start()
    print(server.url, flush=True)
    try:
        sys.stdin.read()  # returns when the parent closes the pipe, or dies
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
