"""Functions in worker processes: Lambda context, environment, timeout, scaling."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from local_stack import LocalStack
from local_stack.workers import FunctionPool, FunctionSpec, LogSink, stop_pools


def test_handler_gets_a_lambda_context_and_only_the_template_environment(stack: LocalStack) -> None:
    result = stack.invoke("EchoFunction", {"httpMethod": "GET"})
    assert result.ok, result.error
    body = json.loads(result.payload["body"])
    context, env = body["context"], body["env"]
    assert context["function_name"] == "fx-EchoFunction"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fx-EchoFunction"
    assert context["memory_limit_in_mb"] == 256
    assert context["log_group_name"] == "/aws/lambda/fx-EchoFunction"
    assert 0 < context["remaining_ms"] <= 10000  # the fixture template's Timeout
    assert env["AWS_ENDPOINT_URL"] == stack.moto_url
    assert env["AWS_ENDPOINT_URL_DYNAMODB"] == stack.dynamodb_url != stack.moto_url  # its own process
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fx-EchoFunction"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["POWERTOOLS_SERVICE_NAME"] == "fixture"
    assert env["FIXTURE_QUEUE_URL"] == stack.resources["WorkQueue"]


def test_an_invocation_over_the_timeout_is_killed_and_reported(stack: LocalStack) -> None:
    first = stack.invoke("SlowFunction", {"sleep": 0})
    timed_out = stack.invoke("SlowFunction", {"sleep": 30})
    assert timed_out.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in timed_out.error_message
    after = stack.invoke("SlowFunction", {"sleep": 0})
    assert after.ok
    assert after.payload["pid"] != first.payload["pid"]  # the timed-out environment was replaced


def test_concurrent_invocations_scale_out_to_more_workers(stack: LocalStack) -> None:
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: stack.invoke("SlowFunction", {"sleep": 0.5}), range(3)))
    assert all(r.ok for r in results)
    assert len({r.payload["pid"] for r in results}) > 1
    assert stack.pools["SlowFunction"].size <= stack.max_concurrency


def test_function_errors_come_back_as_lambda_error_objects(stack: LocalStack) -> None:
    result = stack.invoke("EchoFunction", {"body": "boom"})
    assert result.error_type == "RuntimeError"
    assert result.error_message == "boom"
    assert result.error and result.error["stackTrace"]


def test_stopping_the_pools_while_invocations_are_in_flight_ends_each_and_raises_nothing(
    tmp_path: Path,
) -> None:
    """Stopping kills the workers while an invocation's thread sees its worker die: both close
    the worker's pipe, and closing it twice failed (``Bad file descriptor``) or, worse, closed a
    file that took the number meanwhile. Each pipe is now closed once."""
    from tests.local_stack.conftest import FIXTURES

    spec = FunctionSpec(
        logical_id="SlowFunction",
        name="fx-SlowFunction",
        code_dir=str(FIXTURES / "functions" / "slow"),
        handler="app.lambda_handler",
        timeout=30,
        memory_mb=128,
        environment={},
        region="us-east-1",
        account_id="123456789012",
    )
    sink = LogSink(None, tmp_path)
    for _ in range(5):
        pool = FunctionPool(spec, sink)
        pool.start()
        pool.wait_ready()
        with ThreadPoolExecutor(max_workers=4) as threads:
            in_flight = [threads.submit(pool.invoke, {"sleep": 0.5}) for _ in range(4)]
            time.sleep(0.2)  # the invocations are under way (not a wait on a result)
            stop_pools([pool])
            results = [f.result(timeout=120) for f in in_flight]
        # each ended: answered (the stop waits a moment for a worker to finish) or an error
        assert len(results) == 4 and all(r.ok or r.error_type for r in results)
    sink.close()
