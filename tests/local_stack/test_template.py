"""Intrinsic resolution and template loading (unit, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_stack.template import Resolver, Template, TemplateError, dependency_order, load_yaml

TEMPLATE = """
Parameters:
  Stage: {Type: String, Default: v1}
  Mode: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Names: {Type: CommaDelimitedList, Default: "a,b,c"}
Conditions:
  IsProd: !Equals [!Ref Mode, prod]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, !Equals [!Ref Stage, v1]]
Globals:
  Function:
    Timeout: 10
    Layers: [L1]
    Environment:
      Variables: {SHARED: one, OVERRIDDEN: global}
Resources:
  Queue:
    Type: AWS::SQS::Queue
  Api:
    Type: AWS::Serverless::Api
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 30
      Layers: [L2]
      Environment:
        Variables:
          OVERRIDDEN: local
          URL: !Ref Queue
          ARN: !GetAtt Queue.Arn
          ARN_LONG: {"Fn::GetAtt": [Queue, Arn]}
          SUB: !Sub "${AWS::StackName}-${Stage}-${Queue.QueueName}-${!Literal}"
          SUB_VARS: !Sub ["${Greeting}, ${AWS::Region}", {Greeting: !Join ["", [hel, lo]]}]
          IF: !If [IsProd, prod-value, !Ref AWS::NoValue]
          IF_ELSE: !If [IsProd, prod-value, dev-value]
          JOIN: !Join [":", [!Ref AWS::AccountId, !Ref AWS::Partition, !Ref AWS::URLSuffix]]
          SELECT: !Select [1, !Split [",", "x,y,z"]]
          SELECT_LIST: !Select [2, !Ref Names]
          BOTH: !If [Both, both-true, both-false]
          API: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
"""


@pytest.fixture
def template(tmp_path: Path) -> Template:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return Template.load(path)


def resolver_for(template: Template, **overrides: str) -> Resolver:
    resolver = Resolver(template, parameter_overrides=overrides, stack_name="st", region="eu-west-1")
    resolver.refs.update({"Queue": "http://q/st-Queue", "Api": "local", "Fn": "st-Fn"})
    resolver.attrs["Queue"] = {"Arn": "arn:aws:sqs:eu-west-1:123456789012:st-Queue", "QueueName": "st-Queue"}
    return resolver


def test_short_tags_load_as_long_form_intrinsics() -> None:
    body = load_yaml("A: !GetAtt X.Arn\nB: !Sub 'x'\nC: !Ref Y\nD: !If [C, 1, 2]")
    assert body == {
        "A": {"Fn::GetAtt": ["X", "Arn"]},
        "B": {"Fn::Sub": "x"},
        "C": {"Ref": "Y"},
        "D": {"Fn::If": ["C", 1, 2]},
    }


def test_globals_merge_maps_concatenate_lists_and_local_scalars_win(template: Template) -> None:
    props = template.resources["Fn"]["Properties"]
    assert props["Timeout"] == 30
    assert props["Layers"] == ["L1", "L2"]
    assert props["Environment"]["Variables"]["SHARED"] == "one"
    assert props["Environment"]["Variables"]["OVERRIDDEN"] == "local"


def test_intrinsics_resolve_against_parameters_pseudo_params_and_physical_values(template: Template) -> None:
    env = resolver_for(template).resolve(template.resources["Fn"]["Properties"])["Environment"]["Variables"]
    assert env["URL"] == "http://q/st-Queue"
    assert env["ARN"] == env["ARN_LONG"] == "arn:aws:sqs:eu-west-1:123456789012:st-Queue"
    assert env["SUB"] == "st-v1-st-Queue-${Literal}"
    assert env["SUB_VARS"] == "hello, eu-west-1"
    assert "IF" not in env  # AWS::NoValue removes the key
    assert env["IF_ELSE"] == "dev-value"
    assert env["JOIN"] == "123456789012:aws:amazonaws.com"
    assert env["SELECT"] == "y"
    assert env["SELECT_LIST"] == "c"
    assert env["BOTH"] == "both-true"
    assert env["API"] == "https://local.execute-api.eu-west-1.amazonaws.com/v1"


def test_parameter_overrides_drive_conditions(template: Template) -> None:
    resolver = resolver_for(template, Mode="prod", Stage="v2")
    env = resolver.resolve(template.resources["Fn"]["Properties"])["Environment"]["Variables"]
    assert resolver.condition("IsProd") is True
    assert env["IF"] == env["IF_ELSE"] == "prod-value"
    assert env["BOTH"] == "both-false"


def test_parameter_override_outside_allowed_values_is_rejected(template: Template) -> None:
    with pytest.raises(TemplateError, match="not one of"):
        resolver_for(template, Mode="staging")


def test_unknown_parameter_override_is_rejected(template: Template) -> None:
    with pytest.raises(TemplateError, match="unknown parameter"):
        resolver_for(template, Nope="1")


def test_string_hook_rewrites_resolved_strings(template: Template) -> None:
    resolver = resolver_for(template)
    resolver.string_hook = lambda s: s.replace(
        "https://local.execute-api.eu-west-1.amazonaws.com", "http://gw"
    )
    env = resolver.resolve(template.resources["Fn"]["Properties"])["Environment"]["Variables"]
    assert env["API"] == "http://gw/v1"


def test_dependency_order_puts_referenced_resources_first() -> None:
    body = load_yaml(
        "Resources:\n"
        "  Main: {Type: AWS::SQS::Queue,\n"
        "         Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn}}}\n"
        "  Sub: {Type: AWS::SNS::Subscription,\n"
        "        Properties: {TopicArn: !Ref Topic, Endpoint: !Sub '${Main.Arn}'}}\n"
        "  Topic: {Type: AWS::SNS::Topic}\n"
        "  Dlq: {Type: AWS::SQS::Queue}\n"
    )
    order = dependency_order(Template(Path("t.yaml"), body), ["Main", "Sub", "Topic", "Dlq"])
    assert order.index("Dlq") < order.index("Main") < order.index("Sub")
    assert order.index("Topic") < order.index("Sub")
