"""No input breaks the API: schemathesis, driven by the OpenAPI document the API serves, against
the whole local stack over HTTP.

It generates requests for every documented route (valid, invalid and random bodies, parameters
and headers, and methods no route takes) and fails on any 5xx, any answer that breaks its
documented schema or content type. ``make test`` runs a bounded number of examples per route
with a fixed seed; ``make fuzz`` runs many more with a random one
(``COUPONFLOW_FUZZ_EXAMPLES``, ``COUPONFLOW_FUZZ_SEED``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_stack import LocalStack

from tests.e2e.conftest import in_process_stack

pytestmark = pytest.mark.e2e
EXAMPLES = int(os.environ.get("COUPONFLOW_FUZZ_EXAMPLES", "6"))
SEED = os.environ.get("COUPONFLOW_FUZZ_SEED", "20261203")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[LocalStack]:
    with in_process_stack(tmp_path_factory.mktemp("fuzz"), "couponflow-e2e-fuzz", pytestconfig) as running:
        yield running


@pytest.mark.timeout(900)
def test_no_generated_request_gets_a_server_error_or_an_answer_off_its_schema(
    stack: LocalStack, tmp_path: Path
) -> None:
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{stack.api_url}/openapi.json",
        "--url",
        stack.api_url,
        "--header",
        f"Authorization: Bearer {stack.api_key}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "2",
        "--request-timeout",
        "60",  # a liveness bound for a loaded machine, not a speed check
        "--no-color",
    ]
    if SEED:
        command += ["--seed", SEED]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    report = run.stdout + run.stderr
    assert "Server error" not in report and run.returncode == 0, report[-12000:]
