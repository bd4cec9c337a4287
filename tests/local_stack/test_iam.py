"""IAM on the local stack: the action and resources of each call, evaluated against a role's
statements as AWS does, and a function's call that its role does not allow refused."""

from __future__ import annotations

from typing import Any

import pytest
from local_stack import iam

REGION, ACCOUNT = "us-east-1", "123456789012"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/couponflow-Table"


def resources(service: str, operation: str, **params: Any) -> list[str]:
    found, _ = iam.resources_of(service, operation, params, region=REGION, account_id=ACCOUNT)
    return found


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("dynamodb", "Query", "dynamodb:Query"),
        ("sesv2", "SendBulkEmail", "ses:SendBulkEmail"),
        ("sqs", "SendMessageBatch", "sqs:SendMessage"),
        ("s3", "HeadObject", "s3:GetObject"),
        ("s3", "ListObjectsV2", "s3:ListBucket"),
    ],
)
def test_each_call_is_the_iam_action_aws_evaluates(service: str, operation: str, action: str) -> None:
    assert iam.action_of(service, operation) == action


def test_a_query_on_an_index_is_evaluated_on_the_index_arn_and_a_batch_on_each_table() -> None:
    assert resources("dynamodb", "Query", TableName="couponflow-Table", IndexName="gsi4") == [
        f"{TABLE}/index/gsi4"
    ]
    assert resources("dynamodb", "BatchGetItem", RequestItems={"couponflow-Table": {}, "Other": {}}) == [
        TABLE,
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Other",
    ]
    transaction = [
        {"Put": {"TableName": "couponflow-Table"}},
        {"Update": {"TableName": "couponflow-Table"}},
        {"ConditionCheck": {"TableName": "couponflow-Table"}},
    ]
    requests, _ = iam.requests_of(
        "dynamodb", "TransactWriteItems", {"TransactItems": transaction}, region=REGION, account_id=ACCOUNT
    )
    # item by item, each with its own action: IAM has no dynamodb:TransactWriteItems
    assert requests == [
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:ConditionCheckItem", TABLE),
    ]


def test_queues_objects_secrets_and_ses_sending_have_the_arns_aws_names() -> None:
    assert resources("sqs", "SendMessage", QueueUrl="http://127.0.0.1:4566/123456789012/mail") == [
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:mail"
    ]
    assert resources("s3", "PutObject", Bucket="reports", Key="reports/m/s.csv") == [
        "arn:aws:s3:::reports/reports/m/s.csv"
    ]
    assert resources("secretsmanager", "CreateSecret", Name="stack/merchants/m1/email-provider") == [
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:stack/merchants/m1/email-provider-??????"
    ]
    assert resources(
        "sesv2", "SendBulkEmail", FromEmailAddress="Shop <coupons@shop.example>", ConfigurationSetName="cs"
    ) == [
        f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/shop.example",
        f"arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/cs",
    ]
    assert resources("sns", "Publish", PhoneNumber="+14155550100") == ["*"]


def _role(*statements: dict[str, Any]) -> iam.Role:
    return iam.role_of("MailerFunction", {"Policies": [{"Statement": list(statements)}]}, account_id=ACCOUNT)


def test_an_action_on_a_resource_no_statement_names_is_refused_and_wildcards_match() -> None:
    role = _role(
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": TABLE},
        {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": f"{TABLE}/index/gsi1"},
        {"Effect": "Allow", "Action": "ses:Send*", "Resource": f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/*"},
    )
    assert role.denial("dynamodb:Query", [TABLE, f"{TABLE}/index/gsi1"], {}) is None
    assert role.denial("dynamodb:Query", [f"{TABLE}/index/gsi4"], {}) == f"{TABLE}/index/gsi4"
    assert role.denial("dynamodb:PutItem", [TABLE], {}) == TABLE
    assert role.denial("SES:SendBulkEmail", [f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/x.com"], {}) is None


def test_an_s3_prefix_condition_is_evaluated() -> None:
    role = _role(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::reports",
            "Condition": {"StringLike": {"s3:prefix": ["reports/*"]}},
        }
    )
    assert role.denial("s3:ListBucket", ["arn:aws:s3:::reports"], {"s3:prefix": "reports/m/1.csv"}) is None
    assert role.denial("s3:ListBucket", ["arn:aws:s3:::reports"], {"s3:prefix": "other/"}) is not None


def test_a_role_whose_policies_cannot_be_evaluated_is_left_unchecked_not_guessed() -> None:
    managed = iam.role_of("F", {"Policies": [{"DynamoDBCrudPolicy": {"TableName": "t"}}]}, account_id=ACCOUNT)
    assert managed.statements is None and managed.denial("dynamodb:PutItem", [TABLE], {}) is None
    nothing = iam.role_of("F", {}, account_id=ACCOUNT)
    assert nothing.denial("dynamodb:GetItem", [TABLE], {}) == TABLE  # no policy: AWS allows nothing


def test_a_denied_call_is_awss_access_denied_error_naming_action_and_resource() -> None:
    role = _role()
    answer = iam.denied_error("dynamodb", "Query", role, "dynamodb:Query", f"{TABLE}/index/gsi4")
    assert answer["Error"]["Code"] == "AccessDeniedException"
    assert "MailerFunction is not authorized to perform: dynamodb:Query" in answer["Error"]["Message"]
    assert f"{TABLE}/index/gsi4" in answer["Error"]["Message"]


def test_a_function_whose_role_lacks_a_permission_gets_access_denied_from_the_stack(stack: Any) -> None:
    """The fixture's EchoFunction has no policy: its call to SQS is refused as AWS would."""
    result = stack.invoke("EchoFunction", {"body": "send", "path": "/"})
    assert result.ok  # the fixture answers with what happened to its call
    assert "AccessDenied" in result.payload["body"], result.payload["body"]
