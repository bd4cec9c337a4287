"""Patches to moto that the local stack needs to behave (and perform) like the real service.

``Query`` on a table's key reads one partition (moto walks and sorts the whole table).

Answers of DynamoDB's item operations are written with ``json.dumps``: moto's generic response
serializer walks botocore's shape model for every attribute of every item, which took 20 s of
CPU for one Query page of 3,000 customers. Those answers are already DynamoDB JSON.

DynamoDB requests are served one at a time, in any moto of the process: moto checks a condition
and writes without a lock, so two concurrent conditional writes on one item could both pass;
DynamoDB applies writes to an item one at a time (and transactions atomically).

``TransactWriteItems``: moto deep-copies every table a transaction touches so it can roll back,
which makes each transaction cost time in proportion to the table's size (127 ms per claim on a
table of a few thousand items). DynamoDB's semantics are simpler: every condition is checked,
then either all writes apply or none do. Because DynamoDB requests are served one at a time (above),
we can do exactly that: evaluate all conditions
first, and only then write, remembering just the touched items to restore should a write fail
validation part-way.

SES v2: moto 5.x answers neither ``GetAccount`` nor ``SendBulkEmail``. ``GetAccount`` answers
with the account's sending quota (``SEND_QUOTA``: SES's default for an account out of the
sandbox, 14 messages per second and 50,000 a day; tests and the bench may change it).
``SendBulkEmail`` renders each entry the way SES does (the inline or stored template's
``{{placeholders}}`` filled from the entry's replacement data, the template's headers with the
entry's ``ReplacementHeaders`` over them) into a MIME message that moto records like any raw
send, and answers one ``SUCCESS`` with a message id per entry. ``throttle_next_sends(n)``
makes the next ``n`` SES v2 sends fail as SES does over the maximum send rate.
"""

from __future__ import annotations

import copy
import html
import json
import re
import threading
from email.message import EmailMessage
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.ses.exceptions import SesError
from moto.ses.models import ses_backends
from moto.sesv2 import urls as sesv2_urls
from moto.sesv2.responses import SESV2Response

_applied = False
_original_query = Table.query


def _partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """``Query`` on the table's own key reads only that partition.

    moto's ``Query`` walks (and sorts) every item of the table for each call, so a table of a
    hundred thousand items makes every query slow. DynamoDB reads one partition; so does this.
    Index queries are left to moto.
    """
    # moto passes index_name positionally, as the 8th argument after hash_key.
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name or hash_key is None:
        return _original_query(self, hash_key, *args, **kwargs)
    partition = self.items.get(hash_key)
    if partition is None:
        found: list[Any] = []
    elif self.range_key_attr:
        found = list(partition.values())
    else:
        found = [partition]
    self.all_items = lambda: found  # type: ignore[method-assign]  # requests are serialised (see moto_server)
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


# Operations whose answers hold only items, keys, counts and capacity: plain DynamoDB JSON.
_ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_original_execute_result = DynamoResult.execute_result


def _execute_result(self: DynamoResult, context: Any) -> Any:
    """An item operation's answer is its DynamoDB JSON as it is (moto's serializer is slow)."""
    result = self.result
    if str(context.operation_model.name) not in _ITEM_OPERATIONS or not isinstance(result, dict):
        return _original_execute_result(self, context)
    body = json.dumps({k: v for k, v in result.items() if v is not None})
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, body


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    plan: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = []
    errors: list[Any] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        key = _key_of(self, op_type, op)
        marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
        if marker in seen:
            raise MultipleTransactionsException()
        seen.add(marker)
        current = self.get_item(op["TableName"], key)
        condition = op.get("ConditionExpression")
        if condition is not None and not get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        ).expr(current):
            old = None
            if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                old = current.to_json()["Attributes"]
            errors.append(("ConditionalCheckFailed", str(ConditionalCheckFailed(item=old).message), old))
            continue
        errors.append((None, None, None))
        plan.append((op_type, op, key, copy.deepcopy(current)))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    done: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for op_type, op, key, before in plan:
            names, values = (
                op.get("ExpressionAttributeNames") or {},
                op.get("ExpressionAttributeValues") or {},
            )
            if op_type == "Put":
                self.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                self.delete_item(op["TableName"], key)
            elif op_type == "Update":
                self.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            done.append((op["TableName"], key, before))
    except Exception:
        for table_name, key, before in reversed(done):
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        raise


# ---------------------------------------------------------------------------------------------
# SES v2: GetAccount and SendBulkEmail
# ---------------------------------------------------------------------------------------------

SEND_QUOTA: dict[str, float] = {"Max24HourSend": 50000.0, "MaxSendRate": 14.0}
_throttle_lock = threading.Lock()
_throttled_sends = 0


class _SesV2Error(JsonRESTError):
    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(error_type, message)
        self.code = status


def throttle_next_sends(count: int) -> None:
    """The next ``count`` SES v2 sends answer ``TooManyRequestsException`` (0 stops it)."""
    global _throttled_sends  # noqa: PLW0603
    with _throttle_lock:
        _throttled_sends = count


def _take_throttle() -> bool:
    global _throttled_sends  # noqa: PLW0603
    with _throttle_lock:
        if _throttled_sends <= 0:
            return False
        _throttled_sends -= 1
        return True


_HANDLEBARS = re.compile(r"\\\{\{|\{\{\{\s*([\w.]+)\s*\}\}\}|\{\{\s*([\w.]+)\s*\}\}")


def render_handlebars(template: str, data: dict[str, Any]) -> str:
    """The part of SES's Handlebars our templates use: ``{{{raw}}}``, ``{{escaped}}``, ``\\{{``."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "\\{{":
            return "{{"
        raw, escaped = match.group(1), match.group(2)
        value = data.get(raw or escaped, "")
        text = "" if value is None else str(value)
        return text if raw else html.escape(text, quote=True).replace("`", "&#x60;").replace("=", "&#x3D;")

    return _HANDLEBARS.sub(one, template)


def _stored_template(request: dict[str, Any], account_id: str, region: str) -> dict[str, str]:
    template = (request.get("DefaultContent") or {}).get("Template") or {}
    if "TemplateContent" in template:
        return dict(template["TemplateContent"])
    name = template.get("TemplateName") or str(template.get("TemplateArn", "")).rpartition("/")[2]
    stored = ses_backends[account_id][region].templates.get(name)
    if stored is None:
        raise _SesV2Error("NotFoundException", f"Template {name} does not exist")
    return {
        "Subject": stored.get("subject_part", ""),
        "Text": stored.get("text_part", ""),
        "Html": stored.get("html_part", ""),
    }


def render_bulk_entry(
    request: dict[str, Any], index: int, content: dict[str, str] | None = None
) -> tuple[list[str], bytes]:
    """Entry ``index`` of a ``SendBulkEmail`` request as SES would send it: (destinations, MIME)."""
    template = (request.get("DefaultContent") or {}).get("Template") or {}
    entry = request["BulkEmailEntries"][index]
    content = content if content is not None else dict(template.get("TemplateContent") or {})
    replacement = (entry.get("ReplacementEmailContent") or {}).get("ReplacementTemplate") or {}
    data = json.loads(replacement.get("ReplacementTemplateData") or template.get("TemplateData") or "{}")
    headers = {h["Name"].lower(): (h["Name"], h["Value"]) for h in template.get("Headers") or []}
    headers.update(
        {h["Name"].lower(): (h["Name"], h["Value"]) for h in entry.get("ReplacementHeaders") or []}
    )
    destination = entry.get("Destination") or {}
    to, cc = list(destination.get("ToAddresses") or []), list(destination.get("CcAddresses") or [])
    message = EmailMessage()
    message["From"] = request.get("FromEmailAddress", "")
    if to:
        message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = render_handlebars(content.get("Subject", ""), data)
    for name, value in headers.values():
        message[name] = value
    text, body = content.get("Text"), content.get("Html")
    if text is not None:
        message.set_content(render_handlebars(text, data))
        if body is not None:
            message.add_alternative(render_handlebars(body, data), subtype="html")
    elif body is not None:
        message.set_content(render_handlebars(body, data), subtype="html")
    return [*to, *cc, *(destination.get("BccAddresses") or [])], message.as_bytes()


def _send_bulk_email(self: Any) -> str:
    if _take_throttle():
        raise _SesV2Error("TooManyRequestsException", "Maximum sending rate exceeded.", 429)
    request = json.loads(self.body or "{}")
    entries = request.get("BulkEmailEntries") or []
    if not 1 <= len(entries) <= 50:
        raise _SesV2Error("BadRequestException", "BulkEmailEntries must hold 1 to 50 entries")
    content = _stored_template(request, self.current_account, self.region)
    core = self.sesv2_backend.core_backend
    results = []
    for index in range(len(entries)):
        _, data = render_bulk_entry(request, index, content)
        bcc = list((entries[index].get("Destination") or {}).get("BccAddresses") or [])
        try:  # moto takes To and Cc from the rendered headers
            sent = core.send_raw_email(
                source=request.get("FromEmailAddress"), destinations=bcc, raw_data=data.decode("utf-8")
            )
        except SesError as error:
            if error.code == "MessageRejected":
                raise _SesV2Error("MessageRejected", str(error.message)) from error
            results.append({"Status": "INVALID_PARAMETER", "Error": str(error.message)})
            continue
        results.append({"Status": "SUCCESS", "MessageId": sent.id})
    return json.dumps({"BulkEmailEntryResults": results})


def _send_email_v2(self: Any) -> str:
    if _take_throttle():
        raise _SesV2Error("TooManyRequestsException", "Maximum sending rate exceeded.", 429)
    return _original_send_email_v2(self)  # type: ignore[no-any-return]


def _get_account(self: Any) -> str:
    core = self.sesv2_backend.core_backend
    quota = {**SEND_QUOTA, "SentLast24Hours": float(core.sent_message_count)}
    return json.dumps(
        {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": True,
            "SendQuota": quota,
            "SendingEnabled": True,
            "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
        }
    )


_original_send_email_v2: Any = None
_original_dynamodb_call_action = DynamoHandler.call_action
_dynamodb_lock = threading.Lock()


def _serialised_dynamodb_call(self: Any) -> Any:
    """One DynamoDB request at a time: moto checks a condition and writes without a lock, so two
    concurrent conditional writes on one item could both pass; DynamoDB applies them in turn."""
    with _dynamodb_lock:
        return _original_dynamodb_call_action(self)


def apply() -> None:
    """Install the patches (idempotent); call before moto serves any request."""
    global _applied, _original_send_email_v2  # noqa: PLW0603
    if _applied:
        return
    _original_send_email_v2 = SESV2Response.send_email
    # moto's catch-all ``/v2/.*`` route does not reach these two paths in server mode
    sesv2_urls.url_paths["{0}/v2/email/account$"] = SESV2Response.dispatch
    sesv2_urls.url_paths["{0}/v2/email/outbound-bulk-emails$"] = SESV2Response.dispatch
    SESV2Response.send_email = _send_email_v2  # type: ignore[method-assign]
    SESV2Response.send_bulk_email = _send_bulk_email  # type: ignore[attr-defined]
    SESV2Response.get_account = _get_account  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    DynamoHandler.call_action = _serialised_dynamodb_call  # type: ignore[method-assign]
    Table.query = _partition_query  # type: ignore[method-assign]
    DynamoResult.execute_result = _execute_result  # type: ignore[method-assign,assignment]
    _applied = True
