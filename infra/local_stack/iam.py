"""IAM on the local stack: each function's AWS calls checked against the role the template gives it.

moto answers every call whatever the caller may do; AWS refuses a call its role does not allow,
and on AWS that refusal lands the work in a dead-letter queue. So every worker process checks
each AWS call its function makes (the same botocore wrapper as ``faults.py``) against the
statements of the function's ``Policies`` in ``template.yaml``, resolved by the local stack
(``!Sub``, ``!GetAtt``, ``!Ref`` become the ARNs of the provisioned resources), and a call no
statement allows fails with AWS's ``AccessDenied`` error for that service, naming the action and
the resource, before it reaches moto.

What is evaluated, and how:

- the call's IAM action (``dynamodb:Query``; SES v2 is ``ses:``; ``SendMessageBatch`` is
  ``sqs:SendMessage``; ``HeadObject`` is ``s3:GetObject``; ``ListObjectsV2`` is
  ``s3:ListBucket``; the parts of a multipart upload are ``s3:PutObject``);
- every resource the call touches, as the ARN AWS evaluates: a table, and ``/index/<name>`` for
  a query on an index; each table of a batch or a transaction; a queue from its URL; an S3
  object or bucket; a secret (by ARN, or ``secret:<name>-??????`` by name); a schedule; for SES
  sending, the sender's identity and the configuration set; ``*`` where AWS names none (SES
  ``GetAccount``, SNS ``Publish`` to a phone number);
- ``Allow`` statements only (the template has no ``Deny``): an action and a resource must both
  match one statement, with ``*`` and ``?`` wildcards as IAM has them;
- conditions: ``StringEquals`` / ``StringLike`` on ``s3:prefix`` are evaluated; a condition on a
  key the local stack cannot know is taken as met (logged once), so it never denies wrongly;
- SAM's managed policy templates (``DynamoDBCrudPolicy: {...}``) are not expanded: a function
  using one is left unchecked, with a warning. The template uses inline statements only.

Calls a function does not make itself (Lambda reading its SQS event source, writing its logs)
are not checked: they are the service's, under the role's managed policies.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# boto3 service name -> IAM namespace, where they differ
_NAMESPACE = {"sesv2": "ses"}
# (service, operation) -> IAM action name, where it is not the operation's name
_ACTION = {
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadBucket"): "ListBucket",
    # a multipart upload is authorized as s3:PutObject (AWS's "Actions, resources, and condition
    # keys for Amazon S3"); aborting and listing parts have actions of their own
    ("s3", "CreateMultipartUpload"): "PutObject",
    ("s3", "UploadPart"): "PutObject",
    ("s3", "CompleteMultipartUpload"): "PutObject",
    ("s3", "ListParts"): "ListMultipartUploadParts",
}
# What a denied call raises, by service: (error code, HTTP status), as AWS answers
_DENIED = {
    "dynamodb": ("AccessDeniedException", 400),
    "sqs": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "s3": ("AccessDenied", 403),
    "sesv2": ("AccessDeniedException", 403),
    "ses": ("AccessDenied", 403),
    "secretsmanager": ("AccessDeniedException", 400),
    "scheduler": ("AccessDeniedException", 403),
}


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def allows(self, action: str, resource: str, context: dict[str, str]) -> bool:
        return (
            any(_matches(pattern, action, case=False) for pattern in self.actions)
            and any(_matches(pattern, resource) for pattern in self.resources)
            and self._conditions_met(context)
        )

    def _conditions_met(self, context: dict[str, str]) -> bool:
        for operator, pairs in self.conditions.items():
            for key, wanted in pairs.items():
                values = wanted if isinstance(wanted, list) else [wanted]
                if key not in context:
                    if key not in _UNKNOWN_KEYS_WARNED:
                        _UNKNOWN_KEYS_WARNED.add(key)
                        log.info("IAM condition key %s is not evaluated locally: taken as met", key)
                    continue
                if operator == "StringEquals" and context[key] not in values:
                    return False
                if operator == "StringLike" and not any(_matches(v, context[key]) for v in values):
                    return False
        return True


_UNKNOWN_KEYS_WARNED: set[str] = set()


def _matches(pattern: str, value: str, *, case: bool = True) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern)


@dataclass(frozen=True)
class Role:
    """A function's permissions: its policy statements, or None when they cannot be evaluated."""

    function: str
    role_arn: str
    statements: tuple[Statement, ...] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "role_arn": self.role_arn,
            "statements": None
            if self.statements is None
            else [
                {"actions": list(s.actions), "resources": list(s.resources), "conditions": s.conditions}
                for s in self.statements
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Role:
        raw = data.get("statements")
        statements = (
            None
            if raw is None
            else tuple(
                Statement(tuple(s["actions"]), tuple(s["resources"]), dict(s.get("conditions") or {}))
                for s in raw
            )
        )
        return cls(data["function"], data["role_arn"], statements)

    def denial(self, action: str, resources: list[str], context: dict[str, str]) -> str | None:
        """None when every resource is allowed; else the resource refused."""
        if self.statements is None:
            return None
        for resource in resources:
            if not any(s.allows(action, resource, context) for s in self.statements):
                return resource
        return None

    def refused(self, requests: list[tuple[str, str]], context: dict[str, str]) -> tuple[str, str] | None:
        """The first (action, resource) of ``requests`` no statement allows, or None."""
        for action, resource in requests:
            if self.denial(action, [resource], context) is not None:
                return action, resource
        return None


def role_of(function: str, properties: dict[str, Any], *, account_id: str) -> Role:
    """The role the template gives a function (its resolved ``Policies``)."""
    role_arn = f"arn:aws:iam::{account_id}:role/{function}Role"
    statements: list[Statement] = []
    for policy in properties.get("Policies") or []:
        if not isinstance(policy, dict) or "Statement" not in policy:
            log.warning(
                "%s: policy %r is not an inline statement list; its calls are not checked", function, policy
            )
            return Role(function, role_arn, None)
        for raw in policy["Statement"]:
            if raw.get("Effect", "Allow") != "Allow":
                log.warning(
                    "%s: Deny statements are not evaluated locally; its calls are not checked", function
                )
                return Role(function, role_arn, None)
            statements.append(
                Statement(
                    tuple(_listed(raw.get("Action"))),
                    tuple(_listed(raw.get("Resource"))),
                    dict(raw.get("Condition") or {}),
                )
            )
    return Role(function, role_arn, tuple(statements))


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


# ---------------------------------------------------------------------------------------------
# What a call asks for
# ---------------------------------------------------------------------------------------------


def action_of(service: str, operation: str) -> str:
    return f"{_NAMESPACE.get(service, service)}:{_ACTION.get((service, operation), operation)}"


# A transaction is authorized item by item, each with the action of its kind (AWS has no
# ``dynamodb:TransactWriteItems`` action).
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}


def requests_of(
    service: str, operation: str, params: dict[str, Any], *, region: str, account_id: str
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """The (action, resource ARN) pairs one call is authorized on, and its condition keys."""
    if service == "dynamodb" and operation in ("TransactWriteItems", "TransactGetItems"):
        pairs = []
        for item in params.get("TransactItems", []):
            kind, body = next(iter(item.items()))
            table = str(body["TableName"])
            arn = (
                table if table.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account_id}:table/{table}"
            )
            pairs.append((_TRANSACT_ACTIONS[kind], arn))
        return list(dict.fromkeys(pairs)), {}
    resources, context = resources_of(service, operation, params, region=region, account_id=account_id)
    action = action_of(service, operation)
    return [(action, resource) for resource in resources], context


def resources_of(
    service: str, operation: str, params: dict[str, Any], *, region: str, account_id: str
) -> tuple[list[str], dict[str, str]]:
    """The ARNs one call touches, and the condition keys it sets (``s3:prefix``)."""
    arn = f"{region}:{account_id}"
    if service == "dynamodb":
        return _dynamodb_resources(operation, params, arn), {}
    if service == "sqs" and "QueueUrl" in params:
        name = urlsplit(str(params["QueueUrl"])).path.rstrip("/").rsplit("/", 1)[-1]
        return [f"arn:aws:sqs:{arn}:{name}"], {}
    if service == "sns":
        return [str(params.get("TopicArn") or params.get("TargetArn") or "*")], {}
    if service == "s3":
        bucket = str(params.get("Bucket", ""))
        if "Key" in params:
            return [f"arn:aws:s3:::{bucket}/{params['Key']}"], {}
        return [f"arn:aws:s3:::{bucket}"], (
            {"s3:prefix": str(params["Prefix"])} if "Prefix" in params else {}
        )
    if service == "secretsmanager":
        secret = str(params.get("SecretId") or params.get("Name") or "")
        if secret.startswith("arn:"):
            return [secret], {}
        return [f"arn:aws:secretsmanager:{arn}:secret:{secret}-??????"], {}
    if service == "scheduler" and "Name" in params:
        group = params.get("GroupName") or "default"
        return [f"arn:aws:scheduler:{arn}:schedule/{group}/{params['Name']}"], {}
    if service in ("sesv2", "ses") and operation.startswith("Send"):
        return _ses_resources(params, arn), {}
    return ["*"], {}


def _dynamodb_resources(operation: str, params: dict[str, Any], arn: str) -> list[str]:
    def table(name: str) -> str:
        return name if name.startswith("arn:") else f"arn:aws:dynamodb:{arn}:table/{name}"

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [table(name) for name in params.get("RequestItems", {})]
    if "TableName" not in params:
        return ["*"]
    base = table(str(params["TableName"]))
    return [f"{base}/index/{params['IndexName']}" if params.get("IndexName") else base]


def _ses_resources(params: dict[str, Any], arn: str) -> list[str]:
    sender = str(params.get("FromEmailAddress") or params.get("Source") or "")
    address = re.sub(r".*<([^>]+)>.*", r"\1", sender)
    domain = address.rpartition("@")[2]
    found = [f"arn:aws:ses:{arn}:identity/{domain}"] if domain else []
    configuration_set = params.get("ConfigurationSetName")
    if configuration_set:
        found.append(f"arn:aws:ses:{arn}:configuration-set/{configuration_set}")
    return found or ["*"]


def denied_error(service: str, operation: str, role: Role, action: str, resource: str) -> dict[str, Any]:
    """AWS's answer to a call no statement allows (what botocore hands a ``ClientError``)."""
    code, status = _DENIED.get(service, ("AccessDenied", 403))
    account, role_name = role.role_arn.split(":")[4], role.role_arn.rsplit("/", 1)[-1]
    caller = f"arn:aws:sts::{account}:assumed-role/{role_name}/{role.function}"
    message = (
        f"User: {caller} is not authorized to perform: {action} on resource: {resource} because no "
        f"identity-based policy allows the {action} action (checked by the local stack against "
        "template.yaml)"
    )
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


_acting: ContextVar[Role | None] = ContextVar("local_stack_iam_role", default=None)
_process_role: list[Role] = []  # a worker's one function
_installed: list[bool] = []


def install(role: Role | None = None, *, region: str, account_id: str) -> None:
    """Check the AWS calls this process makes: every call when ``role`` is given (a worker
    serves one function), else only those made ``acting_as`` a role (tests that run handlers
    in-process)."""
    if role is not None:
        _process_role[:] = [role]
    if _installed:
        return
    _installed.append(True)
    from botocore.client import BaseClient  # noqa: PLC0415 - workers import botocore anyway

    checked = BaseClient._make_api_call  # type: ignore[attr-defined]

    def authorized_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        role = _acting.get() or (_process_role[0] if _process_role else None)
        if role is None:
            return checked(self, operation_name, api_params)
        service = self.meta.service_model.service_name
        requests, context = requests_of(
            service, operation_name, api_params, region=region, account_id=account_id
        )
        refused = role.refused(requests, context)
        if refused is not None:
            action, resource = refused
            response = denied_error(service, operation_name, role, action, resource)
            log.warning("AccessDenied: %s %s on %s", role.function, action, resource)
            raise self.exceptions.from_code(response["Error"]["Code"])(response, operation_name)
        return checked(self, operation_name, api_params)

    BaseClient._make_api_call = authorized_call  # type: ignore[attr-defined]


@contextmanager
def acting_as(role: Role) -> Iterator[None]:
    """Check the calls made inside the block (in this thread) against ``role``."""
    token = _acting.set(role)
    try:
        yield
    finally:
        _acting.reset(token)
