"""The local stack's moto DynamoDB after its speed patches (``local_stack.moto_patches``): every
request still gets its own names and values, and everything invalid still fails, every time.

Parses of update and condition expressions are remembered, the validator's structural checks are
skipped once an expression passed them, and an index query is handed only its candidates: these
tests send the same expression again with other names, values and items, and the same invalid
request twice, over moto's real HTTP server.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from local_stack.moto_server import MotoServer
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.parsing import ast_nodes
from moto.dynamodb.parsing.expressions import UpdateExpressionParser


@pytest.fixture(scope="module")
def db(moto: MotoServer) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def table(db: Any) -> str:
    name = f"speed-{uuid.uuid4().hex[:8]}"  # moto's state is per process: a name of its own
    db.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "gpk", "AttributeType": "S"},
            {"AttributeName": "gsk", "AttributeType": "S"},
            {"AttributeName": "npk", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [
                    {"AttributeName": "gpk", "KeyType": "HASH"},
                    {"AttributeName": "gsk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-n",
                "KeySchema": [{"AttributeName": "npk", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def key(pk: str, sk: str = "s") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def fresh() -> str:
    return f"p-{uuid.uuid4().hex[:10]}"


def error_of(call: Any, **request: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**request)
    return dict(raised.value.response)


def test_the_same_update_expression_applies_each_requests_own_values_names_and_item(
    db: Any, table: str
) -> None:
    expression = "SET #f = :v, n = if_not_exists(n, :zero) + :one, l = list_append(if_not_exists(l, :e), :l)"
    answers = []
    for pk, field, text, one in ((fresh(), "x", "first", "1"), (fresh(), "y", "second", "5")):
        for _ in range(2):
            answers.append(
                db.update_item(
                    TableName=table,
                    Key=key(pk),
                    UpdateExpression=expression,
                    ExpressionAttributeNames={"#f": field},
                    ExpressionAttributeValues={
                        ":v": {"S": text},
                        ":zero": {"N": "0"},
                        ":one": {"N": one},
                        ":e": {"L": []},
                        ":l": {"L": [{"S": text}]},
                    },
                    ReturnValues="ALL_NEW",
                )["Attributes"]
            )
            del answers[-1]["pk"], answers[-1]["sk"]
    assert answers == [
        {"x": {"S": "first"}, "n": {"N": "1"}, "l": {"L": [{"S": "first"}]}},
        {"x": {"S": "first"}, "n": {"N": "2"}, "l": {"L": [{"S": "first"}, {"S": "first"}]}},
        {"y": {"S": "second"}, "n": {"N": "5"}, "l": {"L": [{"S": "second"}]}},
        {"y": {"S": "second"}, "n": {"N": "10"}, "l": {"L": [{"S": "second"}, {"S": "second"}]}},
    ]


def test_an_invalid_update_expression_fails_the_same_way_every_time(db: Any, table: str) -> None:
    request = {
        "TableName": table,
        "Key": key(fresh()),
        "UpdateExpression": "SET a = = :v",
        "ExpressionAttributeValues": {":v": {"S": "x"}},
    }
    first, second = error_of(db.update_item, **request), error_of(db.update_item, **request)
    assert first["Error"] == second["Error"]
    assert first["Error"]["Code"] == "ValidationException" and "Syntax error" in first["Error"]["Message"]


def test_checks_an_expression_passed_before_still_fail_for_other_names_and_placeholders(
    db: Any, table: str
) -> None:
    pk = fresh()
    update = {"TableName": table, "Key": key(pk), "UpdateExpression": "SET #a = :v, #b = :w"}
    values = {":v": {"S": "1"}, ":w": {"S": "2"}}
    db.update_item(
        **update, ExpressionAttributeNames={"#a": "x", "#b": "y"}, ExpressionAttributeValues=values
    )

    for _ in range(2):  # the same attribute twice: DynamoDB refuses the overlap
        same = error_of(
            db.update_item,
            **update,
            ExpressionAttributeNames={"#a": "x", "#b": "x"},
            ExpressionAttributeValues=values,
        )
        assert same["Error"]["Code"] == "ValidationException"
        assert "Two document paths overlap" in same["Error"]["Message"]
        # a key attribute behind a name
        keyed = error_of(
            db.update_item,
            **update,
            ExpressionAttributeNames={"#a": "x", "#b": "sk"},
            ExpressionAttributeValues=values,
        )
        assert "Cannot update attribute sk" in keyed["Error"]["Message"]
        # a value placeholder the request does not define, and a name it does not define
        missing = error_of(
            db.update_item,
            **update,
            ExpressionAttributeNames={"#a": "x", "#b": "y"},
            ExpressionAttributeValues={":v": {"S": "1"}},
        )
        assert missing["Error"]["Code"] == "ValidationException" and ":w" in missing["Error"]["Message"]
        unused = error_of(
            db.update_item,
            **update,
            ExpressionAttributeNames={"#a": "x", "#b": "y", "#c": "z"},
            ExpressionAttributeValues=values,
        )
        assert unused["Error"]["Code"] == "ValidationException" and "#c" in unused["Error"]["Message"]
        # a name the request does not define (moto answers it with an internal error, as before)
        unnamed = error_of(
            db.update_item, **update, ExpressionAttributeNames={"#a": "x"}, ExpressionAttributeValues=values
        )
        assert (
            unnamed["Error"]
            == error_of(
                db.update_item,
                **update,
                ExpressionAttributeNames={"#a": "x"},
                ExpressionAttributeValues=values,
            )["Error"]
        )
    stored = db.get_item(TableName=table, Key=key(pk), ConsistentRead=True)["Item"]
    assert stored == {**key(pk), "x": {"S": "1"}, "y": {"S": "2"}}


def test_the_same_condition_is_evaluated_with_each_requests_values_against_the_item_as_it_is(
    db: Any, table: str
) -> None:
    pk = fresh()
    request = {
        "TableName": table,
        "Key": key(pk),
        "UpdateExpression": "ADD c :one",
        "ConditionExpression": "attribute_not_exists(c) OR c < :limit",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    for _ in range(2):  # the same expression and values: the second time c is 2, not below 2
        values = {":one": {"N": "1"}, ":limit": {"N": "2"}}
        db.update_item(**request, ExpressionAttributeValues=values)
    failed = error_of(
        db.update_item, **request, ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": "2"}}
    )
    assert failed["Error"]["Code"] == "ConditionalCheckFailedException"
    assert failed["Item"] == {**key(pk), "c": {"N": "2"}}
    db.update_item(**request, ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": "3"}})
    put = {
        "TableName": table,
        "Item": {**key(pk), "c": {"N": "0"}},
        "ConditionExpression": "c = :c",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    failed = error_of(db.put_item, **put, ExpressionAttributeValues={":c": {"N": "2"}})
    assert failed["Item"]["c"] == {"N": "3"}
    db.put_item(**put, ExpressionAttributeValues={":c": {"N": "3"}})
    assert db.get_item(TableName=table, Key=key(pk))["Item"]["c"] == {"N": "0"}


def test_an_invalid_condition_fails_every_time_and_a_transaction_checks_each_requests_values(
    db: Any, table: str
) -> None:
    invalid = (("((a = :v))", "redundant parentheses"), ("status = :v", "reserved keyword"))
    for condition, complaint in invalid:
        bad = {
            "TableName": table,
            "Item": {**key(fresh()), "a": {"S": "x"}},
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {":v": {"S": "x"}},
        }
        first, second = error_of(db.put_item, **bad), error_of(db.put_item, **bad)
        assert first["Error"] == second["Error"] and first["Error"]["Code"] == "ValidationException"
        assert complaint in first["Error"]["Message"]

    pk = fresh()
    db.put_item(TableName=table, Item={**key(pk), "state": {"S": "available"}})
    db.put_item(TableName=table, Item=key(pk, "gate"))

    def claim(expected: str) -> None:
        db.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key(pk),
                        "UpdateExpression": "SET #state = :taken",
                        "ConditionExpression": "#state = :expected",
                        "ExpressionAttributeNames": {"#state": "state"},
                        "ExpressionAttributeValues": {":taken": {"S": "taken"}, ":expected": {"S": expected}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key(pk, "gate"),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"TableName": table, "Item": {**key(pk, "log"), "by": {"S": expected}}}},
            ]
        )

    claim("available")
    canceled = error_of(claim, expected="available")  # the same request again: the state moved on
    reasons = canceled["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["ConditionalCheckFailed", "None", "None"]
    assert reasons[0]["Item"]["state"] == {"S": "taken"}
    claim("taken")


def test_a_remembered_condition_keeps_the_values_it_was_parsed_with() -> None:
    values = {":v": {"L": [{"S": "a"}]}}
    first = get_filter_expression("l = :v", None, values)
    values[":v"]["L"].append({"S": "b"})  # a request's values changing after the parse
    second = get_filter_expression("l = :v", None, values)
    item = Item(DynamoType({"S": "h"}), None, {"h": {"S": "h"}, "l": {"L": [{"S": "a"}]}})
    longer = Item(DynamoType({"S": "h"}), None, {"h": {"S": "h"}, "l": {"L": [{"S": "a"}, {"S": "b"}]}})
    assert (first.expr(item), first.expr(longer)) == (True, False)
    assert (second.expr(item), second.expr(longer)) == (False, True)


def test_a_copy_of_a_remembered_parse_is_a_deep_copy_with_its_own_parent_links() -> None:
    parsed = UpdateExpressionParser.make("SET a = :v REMOVE b")
    assert UpdateExpressionParser.make("SET a = :v REMOVE b") is parsed  # remembered
    copied = copy.deepcopy(parsed)

    def nodes(node: Any) -> list[Any]:
        found = [node]
        for child in node.children or []:
            if isinstance(child, ast_nodes.Node):
                found.extend(nodes(child))
        return found

    originals, copies = nodes(parsed), nodes(copied)
    assert [type(n) for n in originals] == [type(n) for n in copies]
    assert not {id(n) for n in originals} & {id(n) for n in copies}
    for original, twin in zip(originals[1:], copies[1:], strict=True):
        assert twin.parent is copies[originals.index(original.parent)]
    copies[1].children.clear()  # what the validator does to its copy stays in the copy
    assert nodes(UpdateExpressionParser.make("SET a = :v REMOVE b")) == originals


def test_an_index_query_reads_the_matching_items_in_order_with_paging_and_number_keys(
    db: Any, table: str
) -> None:
    group = fresh()
    for i in (3, 1, 2, 0):
        db.put_item(TableName=table, Item={**key(fresh()), "gpk": {"S": group}, "gsk": {"S": f"t{i}"}})
    db.put_item(TableName=table, Item={**key(fresh()), "gpk": {"S": group + "x"}, "gsk": {"S": "t9"}})
    db.put_item(TableName=table, Item={**key(fresh()), "gpk": {"S": group}})  # no index range key
    pages, start = [], None
    while True:
        request = {
            "TableName": table,
            "IndexName": "by-g",
            "KeyConditionExpression": "gpk = :g AND gsk > :after",
            "ExpressionAttributeValues": {":g": {"S": group}, ":after": {"S": "t0"}},
            "ScanIndexForward": False,
            "Limit": 2,
        }
        answer = db.query(**request, **({"ExclusiveStartKey": start} if start else {}))
        pages.append([item["gsk"]["S"] for item in answer["Items"]])
        start = answer.get("LastEvaluatedKey")
        if not start:
            break
    assert [g for page in pages for g in page] == ["t3", "t2", "t1"]

    number = 10**6 + int(uuid.uuid4().int % 10**6)
    pk = fresh()
    db.put_item(TableName=table, Item={**key(pk), "npk": {"N": str(number)}})
    found = db.query(
        TableName=table,
        IndexName="by-n",
        KeyConditionExpression="npk = :n",
        ExpressionAttributeValues={":n": {"N": f"{number}.0"}},  # the same number, written otherwise
    )["Items"]
    assert [item["pk"]["S"] for item in found] == [pk]


def test_a_busy_queue_still_hands_out_only_messages_within_its_retention_period(moto: MotoServer) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    sqs = boto3.client(
        "sqs",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    name = f"speed-{uuid.uuid4().hex[:8]}"
    url = sqs.create_queue(QueueName=name, Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
    for i in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    queue = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues[name]
    for message in queue._messages[20:]:  # sent 61 s ago: past the queue's retention
        message.sent_timestamp -= 61_000
    received: list[str] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            break
        received += [m["Body"] for m in batch]
    # moto stops a receive at the first message past retention (and so did it before)
    assert sorted(received) == sorted(f"m{i}" for i in range(20))


def test_a_queue_keeps_a_delayed_message_and_an_invisible_one_back_until_their_time(moto: MotoServer) -> None:
    """The messages' clock (``_now_millis``) is the epoch's milliseconds, as moto's own was."""
    import time

    from moto.core.utils import unix_time_millis
    from moto.sqs import models as sqs_models

    assert abs(sqs_models.unix_time_millis() - unix_time_millis()) < 1_000
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    url = sqs.create_queue(QueueName=f"clock-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=2)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=2)["Messages"]
    assert [m["Body"] for m in first] == ["now"]  # the delayed one is held back
    assert (
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []) == []
    )  # "now" in flight
    deadline, seen = time.monotonic() + 60, set()
    while seen != {"now", "later"} and time.monotonic() < deadline:
        time.sleep(0.25)
        seen |= {
            m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        }
    assert seen == {"now", "later"}  # each came (back) once its time was up


def test_requests_read_without_moto_s_parser_keep_their_blobs_numbers_and_nested_values(
    db: Any, table: str
) -> None:
    """A body with no blob is read as sent; one with a blob still goes through moto's parse."""
    item = {
        "pk": {"S": "parse"},
        "sk": {"S": "plain"},
        "n": {"N": "12.50"},
        "m": {"M": {"l": {"L": [{"S": "x"}, {"N": "1"}, {"BOOL": True}, {"NULL": True}]}}},
        "ss": {"SS": ["a", "b"]},
    }
    db.put_item(TableName=table, Item=item)
    assert db.get_item(TableName=table, Key={"pk": {"S": "parse"}, "sk": {"S": "plain"}})["Item"] == item
    blob = {"pk": {"S": "parse"}, "sk": {"S": "blob"}, "b": {"B": b"\x00\xffraw"}, "bs": {"BS": [b"\x01"]}}
    db.put_item(TableName=table, Item=blob)
    got = db.get_item(TableName=table, Key={"pk": {"S": "parse"}, "sk": {"S": "blob"}})["Item"]
    assert got["b"] == {"B": b"\x00\xffraw"} and got["bs"] == {"BS": [b"\x01"]}
    page = db.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "parse"}},
        Limit=1,
    )
    assert page["Count"] == 1 and "LastEvaluatedKey" in page  # Limit read as the number it is
    with pytest.raises(ClientError, match="ValidationException"):  # still checked by moto
        db.query(
            TableName=table, KeyConditionExpression="nope = :p", ExpressionAttributeValues={":p": {"S": "x"}}
        )


def test_a_queue_reports_its_counts_while_its_sends_skip_counting(moto: MotoServer) -> None:
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    url = sqs.create_queue(QueueName=f"counts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    fifo = sqs.create_queue(
        QueueName=f"counts-{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")  # deduplicated by content
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1)
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "2"
    assert counts["ApproximateNumberOfMessagesNotVisible"] == "1"
    assert counts["ApproximateNumberOfMessagesDelayed"] == "0"
    fifo_counts = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
    assert (
        fifo_counts["ApproximateNumberOfMessages"] == "1"
        and fifo_counts["ContentBasedDeduplication"] == "true"
    )


def test_the_patches_refuse_a_moto_they_were_not_written_for() -> None:
    import pytest
    from local_stack import moto_patches

    moto_patches.check_moto_version(moto_patches.WRITTEN_FOR_MOTO)  # the pinned one passes
    with pytest.raises(RuntimeError, match=r"written for moto 5\.2\.5, but moto 9\.9\.9 is installed"):
        moto_patches.check_moto_version("9.9.9")
