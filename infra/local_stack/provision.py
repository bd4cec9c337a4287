"""Provision a template's resources into moto through the service APIs.

moto's CloudFormation does not run the SAM transform, nor create SNS subscriptions, SES
configuration sets or event destinations, so each resource type is created with its own API
call here. Functions and the API are not created in moto: their Ref/GetAtt values are fake
but well-formed, and the local stack runs them itself.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack.moto_server import local_client
from local_stack.template import API_ID, Resolver, Template, dependency_order

log = logging.getLogger(__name__)

# Resource types that have no meaning locally: logged and skipped.
# CloudFront: the local stack serves the console itself, at /console on the API port.
SKIPPED_PREFIXES = (
    "AWS::IAM::",
    "AWS::Logs::",
    "AWS::CloudWatch::",
    "AWS::Lambda::Permission",
    "AWS::CloudFront::",
)
SKIPPED_TYPES = {
    "AWS::Serverless::LayerVersion",
    "AWS::Lambda::LayerVersion",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::ApiGateway::Account",
}
LATE_TYPES = {"AWS::Serverless::Function", "AWS::Serverless::Api"}


@dataclass
class EventDestination:
    name: str
    enabled: bool
    matching_event_types: list[str]
    sns_topic_arn: str | None


@dataclass
class Provisioned:
    """What provisioning produced: physical ids, attributes, and resolved definitions."""

    resolver: Resolver
    physical: dict[str, str] = field(default_factory=dict)
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    configuration_sets: dict[str, list[EventDestination]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def of_type(self, rtype: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resolved.items() if r["Type"] == rtype}


def queue_url_from_arn(arn: str, endpoint_url: str) -> str:
    _, _, _, _region, account, name = arn.split(":", 5)
    return f"{endpoint_url}/{account}/{name}"


class Provisioner:
    def __init__(
        self,
        template: Template,
        resolver: Resolver,
        endpoint_url: str,
        region: str,
    ) -> None:
        self.template = template
        self.resolver = resolver
        self.endpoint_url = endpoint_url
        self.region = region
        self.stack = resolver.stack_name
        self.account = resolver.account_id
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = local_client(service, self.endpoint_url, self.region)
        return self._clients[service]

    def default_name(self, logical_id: str) -> str:
        return f"{self.stack}-{logical_id}"

    # ---------------------------------------------------------------------------------------

    def provision(self) -> Provisioned:
        result = Provisioned(resolver=self.resolver)
        enabled = [lid for lid in self.template.resources if self.resolver.resource_enabled(lid)]
        # Functions and APIs are not created in moto and their names depend on nothing, so they
        # get their Ref/GetAtt values first (this also breaks API <-> authorizer cycles) and
        # their properties are resolved once everything else exists.
        late = [lid for lid in enabled if self.template.resources[lid].get("Type") in LATE_TYPES]
        for lid in late:
            rtype = str(self.template.resources[lid]["Type"])
            self._preset(lid, rtype)
        early = [lid for lid in enabled if lid not in late]
        for lid in [*dependency_order(self.template, early), *late]:
            resource = self.template.resources[lid]
            rtype = str(resource.get("Type"))
            if rtype.startswith(SKIPPED_PREFIXES) or rtype in SKIPPED_TYPES:
                result.skipped[lid] = rtype
                self._fake(lid, rtype)
                continue
            creator = getattr(self, "_create_" + re.sub(r"\W+", "_", rtype.split("::", 1)[1]), None)
            if creator is None:
                log.warning("skipping %s (%s): not supported locally", lid, rtype)
                result.skipped[lid] = rtype
                self._fake(lid, rtype)
                continue
            props = self.resolver.resolve(resource.get("Properties") or {})
            result.resolved[lid] = {"Type": rtype, "Properties": props}
            creator(lid, props, result)
            result.physical[lid] = str(self.resolver.refs[lid])
        self._verify_sender(result)
        return result

    def _set(self, lid: str, ref: Any, **attrs: Any) -> None:
        self.resolver.refs[lid] = ref
        self.resolver.attrs[lid] = attrs

    def _fake(self, lid: str, rtype: str) -> None:
        """Give skipped resources plausible Ref/GetAtt values so references to them resolve."""
        name = self.default_name(lid)
        service = rtype.split("::")[1].lower()
        arn = f"arn:aws:{service}:{self.region}:{self.account}:{lid.lower()}/{name}"
        if rtype == "AWS::Logs::LogGroup":
            # Its Ref is the group's name as written: subscriptions (CloudWatchLogs events) and
            # the SMS simulator's delivery status logs meet on it.
            given = (self.template.resources[lid].get("Properties") or {}).get("LogGroupName")
            name = str(self.resolver.resolve(given)) if given else name
            arn = f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}:*"
        self._set(lid, name, Arn=arn, LayerVersionArn=arn)

    # -- resource types ---------------------------------------------------------------------

    def _create_DynamoDB_Table(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        name = props.get("TableName") or self.default_name(lid)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if kwargs["BillingMode"] == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
            if key in props:
                kwargs[key] = props[key]
        ddb = self.client("dynamodb")
        table = ddb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        pitr = (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
        if pitr:
            try:
                ddb.update_continuous_backups(
                    TableName=name,
                    PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
                )
            except Exception as exc:  # moto may lack it: harmless locally
                log.info("PITR not enabled on %s: %s", name, exc)
        self._set(
            lid,
            name,
            Arn=table["TableArn"],
            StreamArn=table.get("LatestStreamArn", f"{table['TableArn']}/stream/local"),
        )

    def _create_SQS_Queue(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        fifo = str(props.get("FifoQueue", "false")).lower() == "true"
        name = props.get("QueueName") or self.default_name(lid) + (".fifo" if fifo else "")
        attributes: dict[str, str] = {}
        for key, value in props.items():
            if key in ("QueueName", "Tags"):
                continue
            if isinstance(value, dict | list):
                attributes[key] = json.dumps(value)
            elif isinstance(value, bool):
                attributes[key] = str(value).lower()
            else:
                attributes[key] = str(value)
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self._set(lid, url, Arn=arn, QueueName=name, QueueUrl=url)

    def _create_SNS_Topic(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        fifo = str(props.get("FifoTopic", "false")).lower() == "true"
        name = props.get("TopicName") or self.default_name(lid) + (".fifo" if fifo else "")
        attributes = {}
        if "DisplayName" in props:
            attributes["DisplayName"] = str(props["DisplayName"])
        if fifo:
            attributes["FifoTopic"] = "true"
        sns = self.client("sns")
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for sub in props.get("Subscription") or []:
            sns.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        self._set(lid, arn, TopicArn=arn, TopicName=name)

    def _create_SNS_Subscription(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        attributes: dict[str, str] = {}
        for key in ("RawMessageDelivery", "RedrivePolicy", "FilterPolicy", "FilterPolicyScope"):
            if key in props:
                value = props[key]
                if isinstance(value, dict):
                    attributes[key] = json.dumps(value)
                elif isinstance(value, bool):
                    attributes[key] = str(value).lower()
                else:
                    attributes[key] = str(value)
        arn = self.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        self._set(lid, arn, Arn=arn)

    def _create_SES_ConfigurationSet(self, lid: str, props: dict[str, Any], result: Provisioned) -> None:  # noqa: N802
        name = props.get("Name") or self.default_name(lid)
        self.client("ses").create_configuration_set(ConfigurationSet={"Name": name})
        result.configuration_sets.setdefault(name, [])
        self._set(lid, name)

    def _create_SES_ConfigurationSetEventDestination(  # noqa: N802
        self, lid: str, props: dict[str, Any], result: Provisioned
    ) -> None:
        config_set = props["ConfigurationSetName"]
        dest = props["EventDestination"]
        name = dest.get("Name") or self.default_name(lid)
        api_dest: dict[str, Any] = {
            "Name": name,
            "Enabled": bool(dest.get("Enabled", False)),
            "MatchingEventTypes": dest["MatchingEventTypes"],
        }
        topic = (dest.get("SnsDestination") or {}).get("TopicARN")
        if topic:
            api_dest["SNSDestination"] = {"TopicARN": topic}
        if "CloudWatchDestination" in dest:
            api_dest["CloudWatchDestination"] = dest["CloudWatchDestination"]
        if "KinesisFirehoseDestination" in dest:
            api_dest["KinesisFirehoseDestination"] = dest["KinesisFirehoseDestination"]
        self.client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=config_set, EventDestination=api_dest
        )
        result.configuration_sets.setdefault(config_set, []).append(
            EventDestination(
                name=name,
                enabled=api_dest["Enabled"],
                matching_event_types=list(api_dest["MatchingEventTypes"]),
                sns_topic_arn=topic,
            )
        )
        self._set(lid, f"{config_set}|{name}", Id=f"{config_set}|{name}")

    def _create_S3_Bucket(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        name = props.get("BucketName") or self.default_name(lid).lower()
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.client("s3").create_bucket(**kwargs)
        queues = [
            {
                "QueueArn": str(config["Queue"]),
                "Events": [str(config["Event"])],
                **(
                    {"Filter": {"Key": {"FilterRules": config["Filter"]["S3Key"]["Rules"]}}}
                    if config.get("Filter")
                    else {}
                ),
            }
            for config in (props.get("NotificationConfiguration") or {}).get("QueueConfigurations", [])
        ]
        renamed = {"MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders", "Id": "ID"}  # CFN -> S3 API
        rules = [
            {renamed.get(name, name): value for name, value in rule.items()}
            for rule in (props.get("CorsConfiguration") or {}).get("CorsRules", [])
        ]
        if rules:  # moto answers preflights and adds CORS headers from these, as S3 does
            self.client("s3").put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        if queues:  # moto delivers ObjectCreated notifications to SQS as S3 does
            self.client("s3").put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": queues}
            )
        self._set(
            lid,
            name,
            Arn=f"arn:aws:s3:::{name}",
            DomainName=f"{name}.s3.amazonaws.com",
            RegionalDomainName=f"{name}.s3.{self.region}.amazonaws.com",
            WebsiteURL=f"http://{name}.s3-website-{self.region}.amazonaws.com",
        )

    def _create_SSM_Parameter(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        name = props.get("Name") or self.default_name(lid)
        self.client("ssm").put_parameter(
            Name=name, Type=props.get("Type", "String"), Value=str(props["Value"]), Overwrite=True
        )
        self._set(lid, name, Type=props.get("Type", "String"), Value=str(props["Value"]))

    def _create_SecretsManager_Secret(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        """A secret with its given value, or one generated as GenerateSecretString asks (moto's
        CreateSecret takes no generator, so the value comes from its GetRandomPassword)."""
        name = props.get("Name") or self.default_name(lid)
        sm = self.client("secretsmanager")
        value = props.get("SecretString")
        generate = props.get("GenerateSecretString")
        if value is None and generate is not None:
            options = {
                key: generate[key]
                for key in (
                    "PasswordLength",
                    "ExcludeCharacters",
                    "ExcludeNumbers",
                    "ExcludePunctuation",
                    "ExcludeUppercase",
                    "ExcludeLowercase",
                    "IncludeSpace",
                    "RequireEachIncludedType",
                )
                if key in generate
            }
            password = sm.get_random_password(**options)["RandomPassword"]
            template, key = generate.get("SecretStringTemplate"), generate.get("GenerateStringKey")
            value = json.dumps({**json.loads(template), key: password}) if template and key else password
        kwargs: dict[str, Any] = {"Name": name, "SecretString": str(value or "")}
        if props.get("Description"):
            kwargs["Description"] = str(props["Description"])
        arn = sm.create_secret(**kwargs)["ARN"]
        self._set(lid, arn, Id=arn)

    def _create_Scheduler_ScheduleGroup(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        name = props.get("Name") or self.default_name(lid)
        arn = self.client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        self._set(lid, name, Arn=arn)

    def _preset(self, lid: str, rtype: str) -> None:
        if rtype == "AWS::Serverless::Api":
            self._set(lid, API_ID, RootResourceId="root")
            return
        explicit = (self.template.resources[lid].get("Properties") or {}).get("FunctionName")
        name = self.resolver.resolve(explicit) if explicit else self.default_name(lid)
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        self._set(lid, name, Arn=arn)

    def _create_Serverless_Function(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        """Nothing to create: the local stack runs the function in its own workers."""

    def _create_Serverless_Api(self, lid: str, props: dict[str, Any], _result: Provisioned) -> None:  # noqa: N802
        """Nothing to create: the local gateway serves it."""

    # -- SES identity ------------------------------------------------------------------------

    def _verify_sender(self, result: Provisioned) -> None:
        sender = result.resolver.parameters.get("SenderAddress")
        if not sender or "@" not in str(sender):
            return
        ses = self.client("ses")
        ses.verify_domain_identity(Domain=str(sender).rsplit("@", 1)[1])
        ses.verify_email_identity(EmailAddress=str(sender))


def provision_template(
    template_path: str | Path, endpoint_url: str, region: str, parameters: dict[str, str] | None = None
) -> Provisioned:
    """Everything ``template_path`` declares, created in the moto at ``endpoint_url`` (default
    parameters, unless ``parameters`` overrides some)."""
    template = Template.load(template_path)
    resolver = Resolver(template=template, region=region, parameter_overrides=dict(parameters or {}))
    return Provisioner(template, resolver, endpoint_url, region).provision()
