"""Provisioning template.yaml (the product template) into a real moto server over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from local_stack.moto_server import MotoServer
from local_stack.provision import Provisioned, Provisioner
from local_stack.template import Resolver, Template

ROOT = Path(__file__).resolve().parents[2]
STACK = "provision-test"


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def provisioned(moto: MotoServer, template: Template) -> Provisioned:
    resolver = Resolver(template, stack_name=STACK)
    return Provisioner(template, resolver, moto.url, "us-east-1").provision()


def client(moto: MotoServer, service: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def of_type(template: Template, rtype: str) -> list[str]:
    return [lid for lid, r in template.resources.items() if r["Type"] == rtype]


def test_every_table_exists_with_its_keys_indexes_and_ttl(
    moto: MotoServer, template: Template, provisioned: Provisioned
) -> None:
    ddb = client(moto, "dynamodb")
    for lid in of_type(template, "AWS::DynamoDB::Table"):
        name = provisioned.physical[lid]
        assert name == f"{STACK}-{lid}"
        table = ddb.describe_table(TableName=name)["Table"]
        props = template.resources[lid]["Properties"]
        assert table["KeySchema"] == props["KeySchema"]
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == {
            i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])
        }
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED"
        assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]


def test_every_queue_exists_and_redrives_to_its_dead_letter_queue(
    moto: MotoServer, template: Template, provisioned: Provisioned
) -> None:
    sqs = client(moto, "sqs")
    for lid in of_type(template, "AWS::SQS::Queue"):
        props = template.resources[lid]["Properties"]
        attrs = sqs.get_queue_attributes(QueueUrl=provisioned.physical[lid], AttributeNames=["All"])[
            "Attributes"
        ]
        if "VisibilityTimeout" in props:
            assert attrs["VisibilityTimeout"] == str(props["VisibilityTimeout"])
        assert attrs["MessageRetentionPeriod"] == str(props["MessageRetentionPeriod"])
        if "RedrivePolicy" in props:
            redrive = json.loads(attrs["RedrivePolicy"])
            dlq = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert redrive["deadLetterTargetArn"].endswith(f":{STACK}-{dlq}")
            assert int(redrive["maxReceiveCount"]) == props["RedrivePolicy"]["maxReceiveCount"]


def test_topics_and_the_ses_events_subscription_exist(
    moto: MotoServer, template: Template, provisioned: Provisioned
) -> None:
    sns = client(moto, "sns")
    topics = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    for lid in of_type(template, "AWS::SNS::Topic"):
        assert provisioned.physical[lid] in topics
    for lid in of_type(template, "AWS::SNS::Subscription"):
        props = template.resources[lid]["Properties"]
        attrs = sns.get_subscription_attributes(SubscriptionArn=provisioned.physical[lid])["Attributes"]
        assert attrs["Protocol"] == props["Protocol"]
        assert attrs["TopicArn"] == provisioned.physical[props["TopicArn"]["Ref"]]
        assert attrs["Endpoint"].endswith(f":{STACK}-{props['Endpoint']['Fn::GetAtt'][0]}")
        assert attrs["RawMessageDelivery"] == str(props["RawMessageDelivery"]).lower()
        assert "deadLetterTargetArn" in json.loads(attrs["RedrivePolicy"])


def test_configuration_set_and_its_sns_event_destination_exist(
    moto: MotoServer, template: Template, provisioned: Provisioned
) -> None:
    ses = client(moto, "ses")
    for lid in of_type(template, "AWS::SES::ConfigurationSet"):
        name = provisioned.physical[lid]
        assert name == f"{STACK}-coupons"  # the template's explicit Name
        described = ses.describe_configuration_set(
            ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"]
        )
        destinations = described["EventDestinations"]
        assert (
            destinations
            and destinations[0]["SNSDestination"]["TopicARN"] == provisioned.physical["SesEventsTopic"]
        )
        assert provisioned.configuration_sets[name][0].enabled


def test_sender_domain_is_a_verified_ses_identity(moto: MotoServer, provisioned: Provisioned) -> None:
    identities = client(moto, "ses").list_identities()["Identities"]
    assert "example.com" in identities
    assert "coupons@example.com" in identities


def test_mailer_public_base_url_is_the_execute_api_url_resolved_from_the_template(
    provisioned: Provisioned,
) -> None:
    env = provisioned.resolved["MailerFunction"]["Properties"]["Environment"]["Variables"]
    assert env["PUBLIC_BASE_URL"] == "https://local.execute-api.us-east-1.amazonaws.com/v1"
    assert env["TABLE_NAME"] == f"{STACK}-CouponflowTable"  # from Globals
    assert env["CONFIGURATION_SET_NAME"] == f"{STACK}-coupons"


def test_things_without_local_meaning_are_skipped(template: Template, provisioned: Provisioned) -> None:
    for lid, resource in template.resources.items():
        if resource["Type"].startswith(("AWS::IAM::", "AWS::Logs::", "AWS::CloudWatch::")):
            assert lid in provisioned.skipped
    assert provisioned.physical["CouponflowApi"] == "local"
