"""Invariants every resource in template.yaml must keep, checked on the parsed template.

The tests loop over what the template declares (functions, queues, tables, subscriptions,
routes), so a function or queue added later is held to the same rules without editing this file.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

import pytest
from cfn_model import (
    RESOURCE_STAR_ALLOWED_ACTIONS,
    ROOT,
    alarmed_queues,
    as_list,
    dead_letter_targets,
    events_of_type,
    function_properties,
    function_timeout,
    get_att,
    load_template,
    resources_of_type,
    sns_sqs_subscriptions,
    target,
)

TEMPLATE = load_template()
FUNCTIONS = function_properties(TEMPLATE)
SQS_EVENTS = [
    pytest.param(function_id, event, id=f"{function_id}.{event_id}")
    for function_id, props in FUNCTIONS.items()
    for event_id, event in events_of_type(props, "SQS")
]
TABLES = resources_of_type(TEMPLATE, "AWS::DynamoDB::Table")
# Every SES event type but `send`: SES's API answer already says `sent` (the mailer records it).
SES_EVENT_TYPES = {
    "delivery",
    "bounce",
    "complaint",
    "reject",
    "open",
    "click",
    "renderingFailure",
    "deliveryDelay",
}
# Powertools' DynamoDBPersistenceLayer writes its expiry into this attribute.
POWERTOOLS_IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"
# IAM actions with no resource-level permission, where `Resource: "*"` is the only option.
# Empty on purpose: nothing in the template needs one today. Add `action: reason` when it does.


# ---------------------------------------------------------------------------------------------
# Functions: logs, handler
# ---------------------------------------------------------------------------------------------


def test_the_template_declares_functions() -> None:
    assert FUNCTIONS, "no AWS::Serverless::Function found; the loops below would prove nothing"


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_every_function_has_its_own_log_group_with_retention(function_id: str) -> None:
    accepted_names = [
        {"Fn::Sub": f"/aws/lambda/${{{function_id}}}"},
        {"Fn::Join": ["", ["/aws/lambda/", {"Ref": function_id}]]},
    ]
    groups = [
        group["Properties"]
        for group in resources_of_type(TEMPLATE, "AWS::Logs::LogGroup").values()
        if group.get("Properties", {}).get("LogGroupName") in accepted_names
    ]

    assert len(groups) == 1, f"{function_id} needs exactly one log group named /aws/lambda/${{{function_id}}}"
    assert groups[0].get("RetentionInDays"), f"{function_id}'s log group keeps logs forever"


def _handler_definition(module: ast.Module, name: str) -> ast.AST | None:
    for node in module.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            return node
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return node
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return node
    return None


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
def test_every_handler_resolves_to_a_callable_defined_in_its_code_uri(function_id: str) -> None:
    props = FUNCTIONS[function_id]
    module_path, _, function_name = props["Handler"].rpartition(".")
    source = ROOT / props["CodeUri"] / (module_path.replace(".", "/") + ".py")

    assert source.is_file(), f"{function_id}: Handler {props['Handler']} but {source} does not exist"
    # Parsed, not imported: a handler may read its environment at import time.
    definition = _handler_definition(ast.parse(source.read_text(encoding="utf-8")), function_name)
    assert definition is not None, f"{function_id}: {source.name} defines no top-level {function_name}"
    if isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        arguments = definition.args
        assert len(arguments.posonlyargs + arguments.args) >= 2 or arguments.vararg, (
            f"{function_id}: {function_name} must accept (event, context)"
        )


# ---------------------------------------------------------------------------------------------
# Queues: partial batch failures, redrive, alarms, visibility timeout
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("function_id", "event"), SQS_EVENTS)
def test_every_sqs_event_reports_batch_item_failures(function_id: str, event: dict[str, Any]) -> None:
    assert event.get("FunctionResponseTypes") == ["ReportBatchItemFailures"]


@pytest.mark.parametrize(("function_id", "event"), SQS_EVENTS)
def test_every_consumed_queue_redrives_to_an_alarmed_dead_letter_queue(
    function_id: str, event: dict[str, Any]
) -> None:
    queue_id = target(event["Queue"])
    assert queue_id in TEMPLATE["Resources"], f"{function_id} consumes a queue outside the template"
    redrive = TEMPLATE["Resources"][queue_id]["Properties"].get("RedrivePolicy")

    assert redrive, f"{queue_id} has no RedrivePolicy"
    dlq_id = target(redrive["deadLetterTargetArn"])
    assert TEMPLATE["Resources"][dlq_id]["Type"] == "AWS::SQS::Queue"
    assert int(redrive["maxReceiveCount"]) >= 1
    assert dlq_id in alarmed_queues(TEMPLATE), f"{dlq_id} has no CloudWatch alarm"


@pytest.mark.parametrize(("function_id", "event"), SQS_EVENTS)
def test_every_consumed_queue_hides_messages_for_six_function_timeouts(
    function_id: str, event: dict[str, Any]
) -> None:
    queue_id = target(event["Queue"])
    visibility = int(TEMPLATE["Resources"][queue_id]["Properties"].get("VisibilityTimeout", 30))
    timeout = function_timeout(FUNCTIONS[function_id])  # Globals merged

    assert visibility >= 6 * timeout, f"{queue_id}: VisibilityTimeout {visibility} < 6 x {timeout}s"


@pytest.mark.parametrize("queue_id", sorted(resources_of_type(TEMPLATE, "AWS::SQS::Queue")))
def test_every_queue_is_a_dead_letter_queue_or_redrives_into_one(queue_id: str) -> None:
    props = TEMPLATE["Resources"][queue_id].get("Properties", {})

    assert queue_id in dead_letter_targets(TEMPLATE) or props.get("RedrivePolicy"), (
        f"{queue_id} neither has a dead-letter queue nor is one"
    )


def test_every_dead_letter_queue_has_an_alarm_that_notifies() -> None:
    dead_letter_queues = dead_letter_targets(TEMPLATE)

    assert dead_letter_queues
    missing = set(dead_letter_queues) - alarmed_queues(TEMPLATE)
    assert not missing, f"dead-letter queues without an alarm: {sorted(missing)}"


# ---------------------------------------------------------------------------------------------
# IAM
# ---------------------------------------------------------------------------------------------


def _identity_statements() -> list[tuple[str, dict[str, Any]]]:
    """Every identity-policy statement the template writes itself (not SAM's managed policies)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for function_id, props in FUNCTIONS.items():
        for policy in as_list(props.get("Policies")):
            if isinstance(policy, dict) and "Statement" in policy:
                found += [(function_id, s) for s in policy["Statement"]]
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for logical_id, resource in resources_of_type(TEMPLATE, kind).items():
            found += [(logical_id, s) for s in resource["Properties"]["PolicyDocument"]["Statement"]]
    for logical_id, role in resources_of_type(TEMPLATE, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            found += [(logical_id, s) for s in policy["PolicyDocument"]["Statement"]]
    return found


def test_functions_attach_no_managed_policies_by_name() -> None:
    named = [
        (function_id, policy)
        for function_id, props in FUNCTIONS.items()
        for policy in as_list(props.get("Policies"))
        if isinstance(policy, str)
    ]

    assert not named, f"broad managed policies: {named}"


@pytest.mark.parametrize(("owner", "statement"), _identity_statements())
def test_iam_statements_use_exact_actions_on_named_resources(owner: str, statement: dict[str, Any]) -> None:
    actions = as_list(statement.get("Action"))
    resources = as_list(statement.get("Resource"))

    assert "NotAction" not in statement and "NotResource" not in statement, owner
    assert actions and all("*" not in action for action in actions), f"{owner}: wildcard action {actions}"
    if "*" in resources:
        assert all(action in RESOURCE_STAR_ALLOWED_ACTIONS for action in actions), (
            f"{owner}: Resource '*' for {actions}"
        )


# ---------------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table_id", sorted(TABLES))
def test_every_table_is_on_demand_with_point_in_time_recovery(table_id: str) -> None:
    props = TABLES[table_id]["Properties"]

    assert props.get("BillingMode") == "PAY_PER_REQUEST"
    assert props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True


def _env_names_of_table(table_id: str) -> set[str]:
    return {
        name
        for props in [*FUNCTIONS.values(), TEMPLATE.get("Globals", {}).get("Function", {})]
        for name, value in props.get("Environment", {}).get("Variables", {}).items()
        if target(value) == table_id
    }


@pytest.mark.parametrize("table_id", sorted(TABLES))
def test_tables_whose_data_expires_have_time_to_live(table_id: str) -> None:
    # Message events expire after the retention setting; idempotency records after their window.
    names = {table_id.upper(), *_env_names_of_table(table_id)}
    is_events = any("EVENT" in name for name in names)
    is_idempotency = any("IDEMPOTENCY" in name for name in names)
    ttl = TABLES[table_id]["Properties"].get("TimeToLiveSpecification")

    if not (is_events or is_idempotency or ttl):
        pytest.skip(f"{table_id} keeps its data")
    assert ttl and ttl.get("Enabled") is True and ttl.get("AttributeName"), f"{table_id} needs TTL"
    if is_idempotency:
        assert ttl["AttributeName"] == POWERTOOLS_IDEMPOTENCY_TTL_ATTRIBUTE


# ---------------------------------------------------------------------------------------------
# SNS -> SQS, SES events
# ---------------------------------------------------------------------------------------------


def _queue_policy_allows(queue_id: str, topic_id: str) -> bool:
    for policy in resources_of_type(TEMPLATE, "AWS::SQS::QueuePolicy").values():
        props = policy["Properties"]
        if queue_id not in [target(queue) for queue in props["Queues"]]:
            continue
        for statement in props["PolicyDocument"]["Statement"]:
            conditions = statement.get("Condition", {})
            source_arns = [
                arn
                for operator in ("ArnEquals", "ArnLike", "StringEquals")
                for arn in as_list(conditions.get(operator, {}).get("aws:SourceArn"))
            ]
            if (
                statement.get("Effect") == "Allow"
                and statement.get("Principal") == {"Service": "sns.amazonaws.com"}
                and "sqs:SendMessage" in as_list(statement.get("Action"))
                and (queue_id, "Arn") in [get_att(r) for r in as_list(statement.get("Resource"))]
                and topic_id in [target(arn) for arn in source_arns]
            ):
                return True
    return False


SUBSCRIPTIONS = list(sns_sqs_subscriptions(TEMPLATE))


@pytest.mark.parametrize(("subscription_id", "topic_id", "queue_id"), SUBSCRIPTIONS)
def test_every_sns_to_sqs_subscription_has_a_queue_policy_for_that_topic(
    subscription_id: str, topic_id: str, queue_id: str
) -> None:
    assert _queue_policy_allows(queue_id, topic_id), f"{queue_id} does not let {topic_id} send to it"


@pytest.mark.parametrize(("subscription_id", "topic_id", "queue_id"), SUBSCRIPTIONS)
def test_every_sns_subscription_dead_letter_queue_accepts_the_topic(
    subscription_id: str, topic_id: str, queue_id: str
) -> None:
    resource = TEMPLATE["Resources"].get(subscription_id, {})
    redrive = resource.get("Properties", {}).get("RedrivePolicy")

    assert redrive, f"{subscription_id} drops messages SNS cannot deliver: add a RedrivePolicy"
    dlq_id = str(target(redrive["deadLetterTargetArn"]))
    assert _queue_policy_allows(dlq_id, topic_id), f"{dlq_id} does not let {topic_id} send to it"


def test_ses_configuration_set_publishes_every_event_type_to_a_topic_ses_may_publish_to() -> None:
    destinations = resources_of_type(TEMPLATE, "AWS::SES::ConfigurationSetEventDestination")
    config_sets = resources_of_type(TEMPLATE, "AWS::SES::ConfigurationSet")

    assert len(config_sets) == 1 and destinations
    for destination_id, destination in destinations.items():
        props = destination["Properties"]
        event_destination = props["EventDestination"]
        assert target(props["ConfigurationSetName"]) in config_sets
        assert event_destination.get("Enabled") is True, destination_id
        assert set(event_destination["MatchingEventTypes"]) >= SES_EVENT_TYPES, destination_id
        topic_id = target(event_destination["SnsDestination"]["TopicARN"])
        assert TEMPLATE["Resources"][topic_id]["Type"] == "AWS::SNS::Topic"
        assert any(
            topic_id in [target(t) for t in policy["Properties"]["Topics"]]
            and any(
                s.get("Principal") == {"Service": "ses.amazonaws.com"}
                and "sns:Publish" in as_list(s["Action"])
                for s in policy["Properties"]["PolicyDocument"]["Statement"]
            )
            for policy in resources_of_type(TEMPLATE, "AWS::SNS::TopicPolicy").values()
        ), f"no topic policy lets SES publish to {topic_id}"


def test_ses_events_topic_is_subscribed_by_the_queue_that_feeds_the_ses_events_function() -> None:
    destinations = resources_of_type(TEMPLATE, "AWS::SES::ConfigurationSetEventDestination").values()
    topics = {target(d["Properties"]["EventDestination"]["SnsDestination"]["TopicARN"]) for d in destinations}
    consumers = {
        target(event["Queue"]): function_id
        for function_id, props in FUNCTIONS.items()
        for _, event in events_of_type(props, "SQS")
    }

    for topic_id in topics:
        subscribed_queues = [queue for _, topic, queue in SUBSCRIPTIONS if topic == topic_id]
        assert subscribed_queues, f"nobody listens to {topic_id}"
        for queue_id in subscribed_queues:
            assert queue_id in consumers, f"{queue_id} receives SES events but no function consumes it"
            assert FUNCTIONS[consumers[queue_id]]["CodeUri"].rstrip("/").endswith("ses_events")


def test_every_function_sending_email_uses_the_configuration_set() -> None:
    (config_set_id,) = resources_of_type(TEMPLATE, "AWS::SES::ConfigurationSet")
    senders = [
        function_id
        for function_id, props in FUNCTIONS.items()
        for policy in as_list(props.get("Policies"))
        if isinstance(policy, dict)
        for statement in policy.get("Statement", [])
        if {"ses:SendEmail", "ses:SendRawEmail", "ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail"}
        & set(as_list(statement["Action"]))
    ]

    assert senders
    for function_id in senders:
        variables = FUNCTIONS[function_id]["Environment"]["Variables"]
        assert config_set_id in [target(v) for v in variables.values()], (
            f"{function_id} sends email without the configuration set, so its events are never seen"
        )


# ---------------------------------------------------------------------------------------------
# API
# ---------------------------------------------------------------------------------------------

APIS = resources_of_type(TEMPLATE, "AWS::Serverless::Api")
API_EVENTS = [
    pytest.param(function_id, event, id=f"{function_id}.{event_id}")
    for function_id, props in FUNCTIONS.items()
    for event_id, event in events_of_type(props, "Api")
]


@pytest.mark.parametrize(("function_id", "event"), API_EVENTS)
def test_every_route_is_on_a_declared_api_never_the_implicit_one(
    function_id: str, event: dict[str, Any]
) -> None:
    # A route without RestApiId lands on SAM's implicit ServerlessRestApi, which has no authorizer.
    assert target(event.get("RestApiId")) in APIS


DOCUMENTATION_PATHS = {"/openapi.json", "/docs"}  # the API's own description, open to all


@pytest.mark.parametrize(("function_id", "event"), API_EVENTS)
def test_public_routes_are_open_and_every_other_route_falls_to_the_api_key_authorizer(
    function_id: str, event: dict[str, Any]
) -> None:
    api_auth = APIS[str(target(event["RestApiId"]))]["Properties"]["Auth"]
    route_authorizer = event.get("Auth", {}).get("Authorizer")

    if event["Path"].startswith("/public/") or event["Path"] in DOCUMENTATION_PATHS:
        assert route_authorizer == "NONE"
    else:
        assert route_authorizer in (None, api_auth["DefaultAuthorizer"])
        assert api_auth["DefaultAuthorizer"] in api_auth["Authorizers"]
        assert target(api_auth["Authorizers"][api_auth["DefaultAuthorizer"]]["FunctionArn"]) in FUNCTIONS


def _route(method: str, path: str) -> tuple[str, str]:
    """A route with its parameters' names left out (the template says ``{sendId}``, the
    document ``{send_id}``; API Gateway matches the shape)."""
    return method.upper(), re.sub(r"\{[^}]+\}", "{}", path)


def test_every_route_of_the_openapi_document_is_an_api_gateway_route_and_back() -> None:
    # A route the resolver serves but the template does not declare answers 403 on AWS
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    served = {
        _route(method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "patch", "delete")
    }
    declared = {_route(event["Method"], event["Path"]) for _, event in (p.values for p in API_EVENTS)}

    assert served - declared == set()
    assert declared - served == {("GET", "/docs"), ("GET", "/openapi.json")}  # the document's own


def test_the_public_claim_route_exists_and_needs_no_authorizer() -> None:
    claims = [
        event
        for _, event in (p.values for p in API_EVENTS)
        if event["Path"].startswith("/public/")
        and event["Path"].endswith("/claims")
        and event["Method"] == "POST"
    ]

    assert len(claims) == 1
    assert claims[0]["Auth"]["Authorizer"] == "NONE"


@pytest.mark.parametrize("api_id", sorted(APIS))
def test_api_has_stage_throttling_and_cors(api_id: str) -> None:
    props = APIS[api_id]["Properties"]
    stage_wide = [
        s for s in props.get("MethodSettings", []) if s["ResourcePath"] == "/*" and s["HttpMethod"] == "*"
    ]
    cors = props.get("Cors", {})

    assert (
        stage_wide and stage_wide[0].get("ThrottlingRateLimit") and stage_wide[0].get("ThrottlingBurstLimit")
    )
    assert cors.get("AllowOrigin")
    allowed_headers = cors.get("AllowHeaders", "").strip("'").split(",")
    assert {"Content-Type", "Authorization"} <= set(allowed_headers)
    assert "OPTIONS" in cors.get("AllowMethods", "")


@pytest.mark.parametrize("api_id", sorted(APIS))
def test_api_gateway_error_responses_carry_cors_headers_so_browsers_can_read_them(api_id: str) -> None:
    # Errors API Gateway answers itself (401/403 from the authorizer, 429 throttling, 5XX) skip the
    # function and its CORS headers; without these a storefront sees an opaque CORS failure.
    responses = APIS[api_id]["Properties"].get("GatewayResponses", {})
    allowed_origin = APIS[api_id]["Properties"]["Cors"]["AllowOrigin"]

    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for response_type, response in responses.items():
        headers = response.get("ResponseParameters", {}).get("Headers", {})
        assert headers.get("Access-Control-Allow-Origin") == allowed_origin, response_type


ALARMS = resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")


def _alarms_on(namespace: str, metric: str) -> list[dict[str, Any]]:
    return [
        a["Properties"]
        for a in ALARMS.values()
        if a["Properties"].get("Namespace") == namespace and a["Properties"].get("MetricName") == metric
    ]


@pytest.mark.parametrize("function_id", sorted(FUNCTIONS))
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm_that_notifies(
    function_id: str, metric: str
) -> None:
    mine = [
        a for a in _alarms_on("AWS/Lambda", metric) if a["Dimensions"][0]["Value"] == {"Ref": function_id}
    ]
    assert len(mine) == 1, f"{function_id} has {len(mine)} {metric} alarms"
    assert mine[0]["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_api_5xx_and_every_tables_throttling_are_alarmed() -> None:
    assert _alarms_on("AWS/ApiGateway", "5XXError"), "no API 5xx alarm"
    throttled = {
        str(query["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"])
        for alarm in ALARMS.values()
        for query in alarm["Properties"].get("Metrics", [])
        if "MetricStat" in query and "Throttle" in query["MetricStat"]["Metric"]["MetricName"]
    }
    assert throttled == set(TABLES)


def test_the_operations_dashboard_is_valid_json_naming_every_function() -> None:
    import json

    body = resources_of_type(TEMPLATE, "AWS::CloudWatch::Dashboard")["OperationsDashboard"]["Properties"]
    text = body["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(text)
    assert dashboard["widgets"]
    assert all(f"${{{function_id}}}" in text for function_id in FUNCTIONS)


def test_the_reputation_alarm_watches_the_namespace_the_functions_publish_to() -> None:
    published = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    alarm = resources_of_type(TEMPLATE, "AWS::CloudWatch::Alarm")["ReputationPauseAlarm"]["Properties"]
    assert alarm["Namespace"] == published
    assert alarm["MetricName"] == "ReputationPauses"
    text = resources_of_type(TEMPLATE, "AWS::CloudWatch::Dashboard")["OperationsDashboard"]["Properties"]
    for name in ("Claims", "Messages", "Sends", "CodesLeft", "BounceRate", "ComplaintRate"):
        assert f'MetricName=\\"{name}\\"' in text["DashboardBody"]["Fn::Sub"]


def test_ses_sending_is_scoped_to_the_given_identity_and_the_created_one_signs_with_dkim() -> None:
    identity = resources_of_type(TEMPLATE, "AWS::SES::EmailIdentity")["SesEmailIdentity"]
    assert identity["Condition"] == "CreateSesIdentity"
    assert identity["Properties"]["DkimSigningAttributes"]["NextSigningKeyLength"] == "RSA_2048_BIT"
    for function_id, props in FUNCTIONS.items():
        for policy in as_list(props.get("Policies")):
            for statement in as_list((policy.get("Statement") if isinstance(policy, dict) else None) or []):
                if any(str(a).startswith("ses:Send") for a in as_list(statement.get("Action"))):
                    identities = [
                        r for r in as_list(statement["Resource"]) if "configuration-set" not in str(r)
                    ]
                    assert identities and all(
                        r.get("Fn::If", [None])[0] == "HasSesIdentity" for r in identities
                    ), function_id
