"""Fault injection: AWS's errors as botocore raises them, a lost answer after the call took
effect, selection by service and kind, the switch, the log, and the CLI flags."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from local_stack import faults
from local_stack.__main__ import parse_args
from local_stack.moto_server import MotoServer


@pytest.fixture()
def table(moto: MotoServer) -> Iterator[Any]:
    client = boto3.client(
        "dynamodb",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_table(
        TableName="faulted",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    yield client
    client.delete_table(TableName="faulted")


def _install(tmp_path: Path, **plan: Any) -> faults.FaultInjector:
    return faults.install(faults.FaultPlan(rate=1.0, log_path=str(tmp_path / "faults.jsonl"), **plan), "fn")


def test_a_lost_answer_raises_a_read_timeout_after_the_write_took_effect(tmp_path: Path, table: Any) -> None:
    injector = _install(tmp_path, kinds=frozenset({"lost_answer"}), services=frozenset({"dynamodb"}))
    try:
        with pytest.raises(ReadTimeoutError):
            table.put_item(TableName="faulted", Item={"pk": {"S": "written"}})
    finally:
        injector.remove()
    assert table.get_item(TableName="faulted", Key={"pk": {"S": "written"}})["Item"]  # it happened
    [logged] = faults.read_log(tmp_path / "faults.jsonl")
    assert (logged["service"], logged["operation"], logged["kind"]) == ("dynamodb", "PutItem", "lost_answer")


def test_a_write_sent_again_took_effect_once_and_answers_as_its_second_attempt(
    tmp_path: Path, table: Any
) -> None:
    """The SDK's retry of a conditional write whose first attempt took effect: the function sees
    the condition fail on its own write."""
    injector = _install(tmp_path, kinds=frozenset({"sent_again"}))
    try:
        with pytest.raises(ClientError) as raised:
            table.put_item(
                TableName="faulted",
                Item={"pk": {"S": "once"}},
                ConditionExpression="attribute_not_exists(pk)",
            )
        table.get_item(TableName="faulted", Key={"pk": {"S": "once"}})  # reads are never sent again
    finally:
        injector.remove()
    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert table.get_item(TableName="faulted", Key={"pk": {"S": "once"}})["Item"]  # it happened
    [logged] = faults.read_log(tmp_path / "faults.jsonl")
    assert (logged["operation"], logged["kind"]) == ("PutItem", "sent_again")


def test_throttling_is_the_services_modeled_error_and_the_call_does_nothing(
    tmp_path: Path, table: Any
) -> None:
    injector = _install(tmp_path, kinds=frozenset({"throttle"}))
    try:
        with pytest.raises(ClientError) as raised:
            table.put_item(TableName="faulted", Item={"pk": {"S": "throttled"}})
    finally:
        injector.remove()
    assert raised.value.response["Error"]["Code"] in (
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
    )
    assert "Item" not in table.get_item(TableName="faulted", Key={"pk": {"S": "throttled"}})


def test_a_conflicting_transaction_names_one_reason_per_item(tmp_path: Path, table: Any) -> None:
    injector = _install(tmp_path, kinds=frozenset({"conflict"}))
    items = [{"Put": {"TableName": "faulted", "Item": {"pk": {"S": f"t{i}"}}}} for i in range(3)]
    try:
        with pytest.raises(ClientError) as raised:
            table.transact_write_items(TransactItems=items)
    finally:
        injector.remove()
    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert len(reasons) == 3 and reasons.count("TransactionConflict") == 1


def test_only_the_selected_services_fail_and_the_switch_turns_faults_off(tmp_path: Path, table: Any) -> None:
    switch = tmp_path / "on"
    injector = _install(
        tmp_path, services=frozenset({"sqs"}), kinds=frozenset({"no_connection"}), switch_path=str(switch)
    )
    sqs = boto3.client(
        "sqs",
        endpoint_url=table.meta.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    try:
        table.describe_table(TableName="faulted")  # DynamoDB is not selected
        sqs.list_queues()  # the switch is off
        switch.touch()
        with pytest.raises(EndpointConnectionError):
            sqs.list_queues()
    finally:
        injector.remove()
    assert len(faults.read_log(tmp_path / "faults.jsonl")) == 1


def test_a_plan_refuses_a_rate_outside_0_to_1_and_unknown_kinds() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        faults.FaultPlan(rate=1.5)
    with pytest.raises(ValueError, match="unknown fault kinds"):
        faults.FaultPlan(rate=0.1, kinds=frozenset({"gremlins"}))


def test_the_cli_builds_the_plan_from_its_flags_and_logs_beside_the_functions(tmp_path: Path) -> None:
    args = parse_args(
        [
            "--faults",
            "0.1",
            "--fault-services",
            "dynamodb,sesv2",
            "--fault-kinds",
            "lost_answer",
            "--fault-seed",
            "3",
            "--log-dir",
            str(tmp_path),
        ]
    )
    plan = args.fault_plan
    assert (plan.rate, plan.services, plan.kinds, plan.seed) == (
        0.1,
        frozenset({"dynamodb", "sesv2"}),
        frozenset({"lost_answer"}),
        3,
    )
    assert plan.log_path == str(tmp_path / "faults.jsonl")
    assert parse_args([]).fault_plan is None
    with pytest.raises(SystemExit):
        parse_args(["--faults", "0.1", "--fault-services", "dynamo"])
