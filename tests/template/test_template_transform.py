"""The SAM translator accepts template.yaml, and its CloudFormation output has the expected shape."""

from __future__ import annotations

from typing import Any

from cfn_model import (
    RESOURCE_STAR_ALLOWED_ACTIONS,
    events_of_type,
    function_properties,
    resources_of_type,
    target,
)

# AWS managed policies that SAM attaches on its own. Each has `Resource: "*"`, which the
# template cannot scope; they are allowed here, and only here, for the stated reason.
SAM_MANAGED_POLICY_ALLOW_LIST = {
    # CloudWatch Logs for the function's own log group (SAM adds it to every function role).
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    # X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions (Tracing: Active).
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    # SAM adds it for every `Type: SQS` event; it lets the poller read any queue in the account.
    # Scoping it means replacing the SAM event with a hand-written EventSourceMapping + inline policy.
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}


def test_every_serverless_function_becomes_an_arm64_python312_lambda_with_the_core_layer(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    lambdas = resources_of_type(transformed, "AWS::Lambda::Function")
    layer_ids = set(resources_of_type(transformed, "AWS::Lambda::LayerVersion"))

    assert set(lambdas) == set(function_properties(template))
    for logical_id, function in lambdas.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.12", logical_id
        assert props["Architectures"] == ["arm64"], logical_id
        assert [target(layer) for layer in props["Layers"]] == sorted(layer_ids), logical_id


def test_every_sqs_event_becomes_a_mapping_that_reports_batch_item_failures(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    expected = {
        (function_id, target(event["Queue"]))
        for function_id, props in function_properties(template).items()
        for _, event in events_of_type(props, "SQS")
    }
    mappings = resources_of_type(transformed, "AWS::Lambda::EventSourceMapping").values()
    found = {
        (target(m["Properties"]["FunctionName"]), target(m["Properties"]["EventSourceArn"])): m["Properties"]
        for m in mappings
    }

    assert expected, "no SQS consumers in the template"
    assert set(found) == expected
    for key, props in found.items():
        assert props.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], key


def test_api_has_a_token_authorizer_backed_by_the_authorizer_function(transformed: dict[str, Any]) -> None:
    authorizers = resources_of_type(transformed, "AWS::ApiGateway::Authorizer")
    apis = resources_of_type(transformed, "AWS::ApiGateway::RestApi")
    assert len(apis) == 1
    (api,) = apis.values()

    security = api["Properties"]["Body"]["securityDefinitions"]
    # SAM puts Lambda authorizers into the OpenAPI body rather than as Authorizer resources.
    assert not authorizers
    assert set(security) == {"MerchantApiKeyAuthorizer"}
    authorizer = security["MerchantApiKeyAuthorizer"]
    assert authorizer["x-amazon-apigateway-authtype"] == "custom"
    assert authorizer["x-amazon-apigateway-authorizer"]["type"] == "token"
    assert authorizer["name"] == "Authorization"
    _, variables = authorizer["x-amazon-apigateway-authorizer"]["authorizerUri"]["Fn::Sub"]
    assert [target(arn) for arn in variables.values()] == ["AuthorizerFunction"]
    permissions = resources_of_type(transformed, "AWS::Lambda::Permission").values()
    assert any(
        target(p["Properties"]["FunctionName"]) == "AuthorizerFunction"
        and p["Properties"]["Principal"] == "apigateway.amazonaws.com"
        for p in permissions
    ), "API Gateway may not invoke the authorizer"


def test_every_api_method_but_public_ones_and_cors_preflight_requires_the_authorizer(
    transformed: dict[str, Any],
) -> None:
    (api,) = resources_of_type(transformed, "AWS::ApiGateway::RestApi").values()
    methods = [
        (path, method, operation)
        for path, operations in api["Properties"]["Body"]["paths"].items()
        for method, operation in operations.items()
        if method != "options"
    ]

    assert methods
    for path, method, operation in methods:
        public = path.startswith("/public/") or path in ("/openapi.json", "/docs")  # the API's description
        expected = [{"NONE": []}] if public else [{"MerchantApiKeyAuthorizer": []}]
        assert operation.get("security") == expected, f"{method.upper()} {path}"


def test_api_stage_is_throttled_and_logged(transformed: dict[str, Any]) -> None:
    (stage,) = resources_of_type(transformed, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]

    catch_all = [s for s in props["MethodSettings"] if s["ResourcePath"] == "/*" and s["HttpMethod"] == "*"]
    assert catch_all, "no stage-wide method settings"
    assert catch_all[0]["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
    assert catch_all[0]["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}
    assert props["AccessLogSetting"]["DestinationArn"]
    assert props["TracingEnabled"] is True


def test_generated_roles_use_exact_actions_on_named_resources(transformed: dict[str, Any]) -> None:
    roles = resources_of_type(transformed, "AWS::IAM::Role")
    assert roles
    for role_id, role in roles.items():
        props = role["Properties"]
        unexpected = set(props.get("ManagedPolicyArns", [])) - SAM_MANAGED_POLICY_ALLOW_LIST
        assert not unexpected, f"{role_id} attaches managed policies {unexpected}"
        for policy in props.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                resources = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                assert all("*" not in action for action in actions), f"{role_id}: {actions}"
                if "*" in resources:
                    assert all(a in RESOURCE_STAR_ALLOWED_ACTIONS for a in actions), (
                        f"{role_id}: Resource '*' for {actions}"
                    )
