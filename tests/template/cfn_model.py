"""Read template.yaml the way CloudFormation does, and answer questions about it.

`load_template` understands the CloudFormation short tags (`!Ref`, `!GetAtt`, `!Sub`, ...) and
turns them into their long form (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`), which is also what
the SAM translator expects. The helpers below are the few graph walks the template tests share.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"

# Short tag -> long-form key. !Ref and !Condition are not Fn:: intrinsics; !GetAtt has its own form.
_FN_TAGS = (
    "Sub",
    "If",
    "Not",
    "Equals",
    "Join",
    "Select",
    "Split",
    "And",
    "Or",
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
)

# Lambda's own default when neither the function nor Globals sets a timeout.
LAMBDA_DEFAULT_TIMEOUT = 3


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that knows the CloudFormation short tags (and no other tag)."""


def _node_value(loader: CfnLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    assert isinstance(node, yaml.MappingNode)
    return loader.construct_mapping(node, deep=True)


def _fn(name: str) -> Any:
    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        return {f"Fn::{name}": _node_value(loader, node)}

    return construct


def _ref(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Ref": _node_value(loader, node)}


def _condition(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    return {"Condition": _node_value(loader, node)}


def _get_att(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    if isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {"Fn::GetAtt": value}


for _tag in _FN_TAGS:
    CfnLoader.add_constructor(f"!{_tag}", _fn(_tag))
CfnLoader.add_constructor("!Ref", _ref)
CfnLoader.add_constructor("!Condition", _condition)
CfnLoader.add_constructor("!GetAtt", _get_att)


def load_template_text(text: str) -> dict[str, Any]:
    document = yaml.load(text, Loader=CfnLoader)  # CfnLoader is a SafeLoader
    assert isinstance(document, dict)
    return document


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return load_template_text(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# Walks over the parsed template
# ---------------------------------------------------------------------------------------------


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def target(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points at, else None."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


def get_att(value: Any) -> tuple[str, str] | None:
    if isinstance(value, dict) and list(value) == ["Fn::GetAtt"]:
        resource, attribute = value["Fn::GetAtt"]
        return str(resource), str(attribute)
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def function_properties(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every AWS::Serverless::Function's properties with Globals.Function merged under them."""
    globals_ = template.get("Globals", {}).get("Function", {})
    merged: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        props = copy.deepcopy(globals_)
        for key, value in resource.get("Properties", {}).items():
            if key == "Environment" and "Environment" in props:
                variables = {**props["Environment"].get("Variables", {}), **value.get("Variables", {})}
                props["Environment"] = {"Variables": variables}
            else:
                props[key] = copy.deepcopy(value)
        merged[logical_id] = props
    return merged


def function_timeout(properties: dict[str, Any]) -> int:
    return int(properties.get("Timeout", LAMBDA_DEFAULT_TIMEOUT))


def events_of_type(properties: dict[str, Any], event_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for event_id, event in (properties.get("Events") or {}).items():
        if event["Type"] == event_type:
            yield event_id, event.get("Properties", {})


def dead_letter_targets(template: dict[str, Any]) -> dict[str, str]:
    """Dead-letter queue logical id -> what sends failures to it: a queue's or subscription's
    redrive, a function's async on-failure destination, or an EventBridge rule's DLQ."""
    found: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            props = resource.get("Properties", {})
            on_failure = ((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get(
                "OnFailure"
            )
            arns = [(on_failure or {}).get("Destination")]
            arns += [
                (e.get("Properties", {}).get("DeadLetterConfig") or {}).get("Arn")
                for e in (props.get("Events") or {}).values()
            ]
            for arn in arns:
                dlq = target(arn)
                if dlq:
                    found[dlq] = logical_id
            continue
        if resource["Type"] not in {"AWS::SQS::Queue", "AWS::SNS::Subscription"}:
            continue
        redrive = resource.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            dlq = target(redrive.get("deadLetterTargetArn"))
            if dlq:
                found[dlq] = logical_id
    return found


def alarmed_queues(template: dict[str, Any]) -> set[str]:
    """Queues with a CloudWatch alarm on their visible-message count that notifies someone."""
    queues: set[str] = set()
    for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if props.get("Namespace") != "AWS/SQS" or not props.get("AlarmActions"):
            continue
        if props.get("MetricName") != "ApproximateNumberOfMessagesVisible":
            continue
        for dimension in props.get("Dimensions", []):
            queue = get_att(dimension.get("Value"))
            if dimension.get("Name") == "QueueName" and queue and queue[1] == "QueueName":
                queues.add(queue[0])
    return queues


def sns_sqs_subscriptions(template: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(subscription id, topic id, queue id) for every SNS -> SQS subscription, standalone or inline."""
    for logical_id, sub in resources_of_type(template, "AWS::SNS::Subscription").items():
        props = sub["Properties"]
        if props.get("Protocol") == "sqs":
            yield logical_id, str(target(props["TopicArn"])), str(target(props["Endpoint"]))
    for topic_id, topic in resources_of_type(template, "AWS::SNS::Topic").items():
        inline = topic.get("Properties", {}).get("Subscription")
        if not isinstance(inline, list):  # absent, or an !If over AWS::NoValue (email alarms)
            continue
        for index, sub in enumerate(inline):
            if sub.get("Protocol") == "sqs":
                yield f"{topic_id}.Subscription[{index}]", topic_id, str(target(sub["Endpoint"]))


# Actions that may name Resource "*" (each with why): nothing else may.
RESOURCE_STAR_ALLOWED_ACTIONS: dict[str, str] = {
    "sns:Publish": "an SMS published straight to a phone number has no resource ARN to name",
    "ses:GetAccount": "the account's sending quota is not a resource; IAM takes only '*' for it",
}
