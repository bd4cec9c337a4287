"""DynamoDB in a moto process of its own (``local_stack.dynamodb_process``): the functions reach
it directly, every other client through the main moto, which forwards to it; it stops with the
stack, and with the stack's process when that dies."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from botocore.exceptions import ClientError
from local_stack import LocalStack
from local_stack.dynamodb_process import DynamoDBProcess
from local_stack.moto_server import DynamoDBProxy, local_client

from tests.local_stack.conftest import eventually


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie has exited
        return stat.read().split()[2] != "Z"


def test_the_stacks_table_is_one_table_through_the_main_moto_and_through_dynamodb_s_own_process(
    stack: LocalStack,
) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = stack.resources["AttemptsTable"]
    direct = stack.client("dynamodb")
    forwarded = local_client("dynamodb", stack.moto_url, stack.region)
    assert direct.meta.endpoint_url == stack.dynamodb_url != stack.moto_url
    forwarded.put_item(TableName=table, Item={"pk": {"S": "through-main"}, "n": {"N": "1"}})
    direct.put_item(TableName=table, Item={"pk": {"S": "direct"}, "n": {"N": "2"}})
    assert direct.get_item(TableName=table, Key={"pk": {"S": "through-main"}})["Item"]["n"] == {"N": "1"}
    assert forwarded.get_item(TableName=table, Key={"pk": {"S": "direct"}})["Item"]["n"] == {"N": "2"}
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):  # moto's errors come back as they are
        forwarded.put_item(
            TableName=table, Item={"pk": {"S": "direct"}}, ConditionExpression="attribute_not_exists(pk)"
        )
    # and this process's moto holds no DynamoDB table of the stack: the other process serves them
    assert table not in dynamodb_backends[DEFAULT_ACCOUNT_ID][stack.region].tables


def test_a_reset_sent_to_the_main_moto_resets_dynamodb_s_process_too() -> None:
    """Through the proxy alone: a reset of a real moto here would wipe this process's moto, which
    other tests' fixtures share."""
    process = DynamoDBProcess()
    process.start()
    try:
        client: Any = local_client("dynamodb", process.wait_ready(), "us-east-1")
        client.create_table(
            TableName="reset-me",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert client.list_tables()["TableNames"] == ["reset-me"]
        reached_main: list[str] = []

        def main_moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            reached_main.append(environ["PATH_INFO"])
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b""]

        proxy = DynamoDBProxy(main_moto, process.url)
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/moto-api/reset", "wsgi.input": io.BytesIO()}
        assert proxy(environ, lambda status, headers: None) == [b""]
        assert reached_main == ["/moto-api/reset"]  # this moto is reset as well
        assert client.list_tables()["TableNames"] == []
    finally:
        process.stop()


def test_dynamodb_s_process_stops_with_the_stack_and_with_a_stack_process_that_dies() -> None:
    process = DynamoDBProcess()
    process.start()
    process.wait_ready()
    child = process._process
    assert child is not None
    process.stop()
    assert child.poll() is not None  # stopped, and waited for

    # a process that starts one and dies without stopping it: the child sees its pipe close
    script = textwrap.dedent(
        """
        import os
        from local_stack.dynamodb_process import DynamoDBProcess
        process = DynamoDBProcess()
        process.start()
        process.wait_ready()
        print(process._process.pid, flush=True)
        os._exit(0)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=True
    )
    orphan = int(out.stdout.strip())
    eventually(lambda: not _alive(orphan), timeout=120)


def test_a_dynamodb_process_that_cannot_start_says_so() -> None:
    process = DynamoDBProcess(port=-1)  # not a port: the child exits
    process.start()
    with pytest.raises(RuntimeError, match="DynamoDB process exited"):  # not "did not listen within"
        process.wait_ready()
    process.stop()
