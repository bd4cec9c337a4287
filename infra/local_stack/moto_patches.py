"""Patches to moto that the local stack needs to behave (and perform) like the real service.

``Query`` on a table's key reads one partition (moto walks and sorts the whole table); on an
index with a string key, moto is handed only the items whose index key matches.

Expressions: moto parsed every update expression twice per UpdateItem, deep-copied the tree
node by node, ran ten validators over it rebuilding dicts and asking abstract-class
``isinstance`` for every node, and parsed every condition twice; about 10 ms per UpdateItem.
Now a successful parse is remembered per expression string (and copied by unpickling), a
condition's parse per expression, names and values, the validators' per-class lookups once per
class, and the three structural checks once per expression, names and key attributes. Every
check still runs for anything not seen to pass before, failures are never remembered (an invalid
request fails again, the same way), and names and values are looked up per request as before.

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

DynamoDB requests are read with ``json.loads`` when moto's shape-walking parser would read them
the same way (no blob, no ``null``), and ``SendMessage`` builds a queue's attributes without
counting its messages (it reads one attribute of them).

SQS: ``ReceiveMessage`` checks each message's retention against the queue's period without
building all of the queue's attributes (counting its messages) for every message; a message's
visibility and delay are checked against ``time.time()`` (``_now_millis``).

SES v2: moto 5.x answers neither ``GetAccount`` nor ``SendBulkEmail``. ``GetAccount`` answers
with the account's sending quota (``SEND_QUOTA``: SES's default for an account out of the
sandbox, 14 messages per second and 50,000 a day; tests and the bench may change it).
``SendBulkEmail`` renders each entry the way SES does (the inline or stored template's
``{{placeholders}}`` filled from the entry's replacement data, the template's headers with the
entry's ``ReplacementHeaders`` over them) into a MIME message that moto records like any raw
send, and answers one ``SUCCESS`` with a message id per entry; the SES simulator takes each
entry as rendered here (``take_rendered``) instead of rendering it again. ``throttle_next_sends(n)``
makes the next ``n`` SES v2 sends fail as SES does over the maximum send rate.
"""

from __future__ import annotations

import base64
import copy
import functools
import html
import json
import pickle
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from moto import backends
from moto.core import responses as _core_responses
from moto.core import utils as core_utils
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time
from moto.dynamodb.comparisons import ConditionExpressionParser, get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.parsing import ast_nodes as _ast_nodes
from moto.dynamodb.parsing import expressions as _expressions
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords
from moto.dynamodb.responses import DynamoHandler, DynamoResult
from moto.ses.exceptions import SesError
from moto.ses.models import ses_backends
from moto.sesv2 import urls as sesv2_urls
from moto.sesv2.responses import SESV2Response
from moto.sqs import models as sqs_models

# moto's expression modules are untyped (``# type: ignore`` files): used as Any.
ast_nodes: Any = _ast_nodes
expressions: Any = _expressions
core_responses: Any = _core_responses

_applied = False
# The moto these patches were written and checked against (byte-identical answers over about
# 12,000 random requests); they reach into its internals, so another version is refused until
# someone has read the patches against it (``make lock`` moves the pin and runs the suite).
WRITTEN_FOR_MOTO = "5.2.5"


def check_moto_version(installed: str | None = None) -> None:
    """Refuse a moto other than the one the patches were written for, saying what to do."""
    from importlib.metadata import version  # noqa: PLC0415

    found = installed or version("moto")
    if found != WRITTEN_FOR_MOTO:
        raise RuntimeError(
            f"local_stack/moto_patches.py was written for moto {WRITTEN_FOR_MOTO}, but moto {found} is "
            "installed: install the pinned one (`make` does, from constraints.txt), or review each patch "
            "against the new moto and update WRITTEN_FOR_MOTO"
        )


_original_query = Table.query


def _partition_query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    """``Query`` on the table's own key reads only that partition; on an index, only the items
    whose index key can match.

    moto's ``Query`` walks (and sorts) every item of the table for each call, so a table of a
    hundred thousand items makes every query slow. DynamoDB reads one partition; so does this.
    On an index (string or binary key), moto is handed only the items whose index key attributes
    hold exactly the values asked for, in the order it sorts all items in: its own checks,
    sorting, paging and projection then run on them as before.
    """
    # moto passes index_name positionally, as the 8th argument after hash_key.
    index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
    if index_name:
        found = _index_candidates(self, kwargs.get("hash_key_conditions"))
        if found is None:
            return _original_query(self, hash_key, *args, **kwargs)
    elif hash_key is None:
        return _original_query(self, hash_key, *args, **kwargs)
    else:
        partition = self.items.get(hash_key)
        if partition is None:
            found = []
        elif self.range_key_attr:
            found = list(partition.values())
        else:
            found = [partition]
    self.all_items = lambda: found  # type: ignore[method-assign]  # requests are serialised (see moto_server)
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        del self.all_items


def _index_candidates(table: Table, conditions: list[tuple[str, Any]] | None) -> list[Any] | None:
    """The items whose attributes equal every index hash key condition, sorted as moto's
    ``all_items`` sorts (None: leave it to moto).

    Only for string and binary values, which moto compares by type and value as given (a number
    compares by its decimal value, so those are left to moto). An item this leaves out is one
    moto's own check would leave out; the order of the rest is theirs in moto's sorted list.
    """
    if not conditions or any(value.type not in ("S", "B") for _, value in conditions):
        return None
    found: list[Any] = []
    partitions: dict[Any, Any] = table.items
    for partition in partitions.values():
        for item in partition.values() if table.range_key_attr else [partition]:
            attrs = item.attrs
            for name, value in conditions:
                held = attrs.get(name)
                if held is None or held.type != value.type or held.value != value.value:
                    break
            else:
                found.append(item)
    found.sort(key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    return found


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
    body = json.dumps({k: v for k, v in result.items() if v is not None}, default=_blob_on_the_wire)
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, body


def _blob_on_the_wire(value: Any) -> str:
    """A blob (moto holds ``B`` and ``BS`` values as bytes) as DynamoDB's JSON carries it: base64."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not DynamoDB JSON")


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
# DynamoDB expressions: the same work as moto, without the overhead
# ---------------------------------------------------------------------------------------------

_original_update_expression_make = expressions.UpdateExpressionParser.make.__func__
_PARSED_EXPRESSIONS_MAX = 2048
_parsed_expressions: dict[str, Any] = {}  # update expression -> its parse (never handed out to change)
_pickled_parses: dict[int, bytes] = {}  # id(parse) -> the parse pickled, to copy it quickly
_parse_texts: dict[int, str] = {}  # id(parse) -> its expression


def _make_update_expression(cls: Any, expression: str) -> Any:
    """The parse of an update expression, shared by every request that sends the same string.

    Parsing depends on the string alone (names and values are looked up later, by the validator,
    on its own deep copy of the tree), and moto parses each UpdateItem twice. Only parses that
    succeed are cached: an invalid expression is parsed again, and raises again, every time.
    The cached tree is only read: moto's validator works on ``deepcopy`` of it (see
    ``_node_deepcopy``).
    """
    if cls is not expressions.UpdateExpressionParser:
        return _original_update_expression_make(cls, expression)
    parsed = _parsed_expressions.get(expression)
    if parsed is None:
        parsed = _original_update_expression_make(cls, expression)
        if len(_parsed_expressions) < _PARSED_EXPRESSIONS_MAX:
            try:
                pickled = pickle.dumps(parsed, protocol=pickle.HIGHEST_PROTOCOL)
            except (pickle.PicklingError, TypeError, AttributeError):  # not cached: moto's way
                return parsed
            _pickled_parses[id(parsed)] = pickled
            _parse_texts[id(parsed)] = expression
            _parsed_expressions[expression] = parsed
    return parsed


def _node_deepcopy(self: Any, memo: dict[int, Any]) -> Any:
    """``copy.deepcopy`` of an expression tree node, as deepcopy makes it, in a fraction of the time.

    moto deep-copies the parsed tree for every validation; the default protocol (``__reduce_ex__``
    and ``_reconstruct`` per node) was a fifth of UpdateItem's time. A cached parse is copied by
    unpickling it (pickle and deepcopy both rebuild these plain objects from ``__reduce_ex__``);
    any other node's state, its ``__dict__`` (``type``, ``children``, ``parent``), is copied the
    way deepcopy does, sharing the memo so parent links point into the copy; anything but a
    node, a list or an immutable scalar goes to ``copy.deepcopy`` itself.
    """
    pickled = _pickled_parses.get(id(self)) if not memo else None
    if pickled is not None:
        copied = pickle.loads(pickled)
        memo[id(self)] = copied
        return copied
    cls = self.__class__
    copied = cls.__new__(cls)
    memo[id(self)] = copied
    copied.__dict__.update({name: _deepcopy_value(value, memo) for name, value in self.__dict__.items()})
    return copied


_IMMUTABLE = (str, int, float, bool, type(None))


def _deepcopy_value(value: Any, memo: dict[int, Any]) -> Any:
    if type(value) in _IMMUTABLE:
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if type(value) is list:
        copied: list[Any] = []
        memo[id(value)] = copied
        copied.extend(_deepcopy_value(element, memo) for element in value)
        return copied
    return copy.deepcopy(value, memo)


_descends: dict[type, bool] = {}  # node class -> find_clauses looks into it


def _find_clauses(self: Any, clause_types: list[type]) -> list[Any]:
    """moto's ``Node.find_clauses`` with its two abstract-class ``isinstance`` checks per child
    remembered per class (the validators call it for every clause node, three times)."""
    clauses: list[Any] = []
    for child in self.children or []:
        child_type = type(child)
        if child_type in clause_types:
            clauses.append(child)
            continue
        descends = _descends.get(child_type)
        if descends is None:
            descends = _descends[child_type] = isinstance(
                child, (ast_nodes.Expression, ast_nodes.UpdateExpressionFunction)
            )
        if descends:
            clauses.extend(child.find_clauses(clause_types))
    return clauses


# The validator's first processors only check the tree as parsed (one clause of each kind, no
# overlapping paths, no key attribute updated): they raise or hand the tree back untouched.
_STRUCTURAL_CHECKS = (
    validators.ActionCountValidator,
    validators.OverlappingPathsValidator,
    validators.UpdateHashRangeKeyValidator,
)
_PASSED_CHECKS_MAX = 8192
_passed_checks: set[tuple[Any, ...]] = set()
_original_validator_init = validators.Validator.__init__


def _validator_init(self: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
    _original_validator_init(self, expression, *args, **kwargs)
    self._parsed_from = _parse_texts.get(id(expression))


def _validate(self: Any) -> Any:
    """moto's validation, without repeating the structural checks a cached parse has passed.

    Those checks (``_STRUCTURAL_CHECKS``) depend only on the tree as parsed, the attribute names
    and the table's key attributes, and leave the tree as it is; each is skipped only after it
    passed for the same expression, names and key attributes (a failure is never remembered, so
    it fails again every time). Every other processor runs as before, in moto's order.
    """
    n = self.node_to_validate
    parsed_from = getattr(self, "_parsed_from", None)
    pristine = parsed_from is not None  # the tree is still a copy of a cached parse
    for processor in self.processors:
        key = None
        if pristine and type(processor) in _STRUCTURAL_CHECKS:
            names = self.expression_attribute_names
            key = (
                type(processor),
                parsed_from,
                None if names is None else tuple(sorted(names.items())),
                tuple(self.table.table_key_attrs),
            )
            if key in _passed_checks:
                continue
        else:
            pristine = False
        n = processor.traverse(n)
        if key is not None:
            if len(_passed_checks) >= _PASSED_CHECKS_MAX:
                _passed_checks.clear()
            _passed_checks.add(key)
    return n


_CONDITIONS_MAX = 512
_conditions: OrderedDict[tuple[Any, ...], tuple[Any, list[str], list[str]]] = OrderedDict()
_original_condition_parse = ConditionExpressionParser.parse


def _condition_parse(self: ConditionExpressionParser) -> Any:
    """moto's parse of a condition (or filter) expression, remembered for the same expression,
    names and values: moto parses each conditional write's condition twice.

    The parse bakes the names and values in, so all three are the key. A parse is made from a
    private copy of the values (decoded from the key), so nothing a request later does to its own
    values can change a remembered parse; evaluating one (``Op.expr``) changes nothing in it.
    Failed parses are not remembered: an invalid expression fails again every time.
    """
    expression, names, values = (
        self.condition_expression,
        self.expression_attribute_names,
        self.expression_attribute_values,
    )
    if not expression:
        return _original_condition_parse(self)
    try:
        frozen_values = None if values is None else json.dumps(values, sort_keys=True)
        key = (expression, None if names is None else tuple(sorted(names.items())), frozen_values)
        hash(key)
    except TypeError:
        return _original_condition_parse(self)
    found = _conditions.get(key)
    if found is None:
        private = ConditionExpressionParser(
            expression, names, None if frozen_values is None else json.loads(frozen_values)
        )
        op = _original_condition_parse(private)
        found = (op, list(private.expr_attr_names_found), list(private.expr_attr_values_found))
        _conditions[key] = found
        if len(_conditions) > _CONDITIONS_MAX:
            _conditions.popitem(last=False)
    else:
        _conditions.move_to_end(key)
    op, names_found, values_found = found
    self.expr_attr_names_found.extend(names_found)
    self.expr_attr_values_found.extend(values_found)
    return op


_original_method_names_from_class = core_utils.method_names_from_class


@functools.cache
def _dynamodb_method_names() -> list[str]:
    return _original_method_names_from_class(DynamoHandler)


def _method_names_from_class(clazz: object) -> list[str]:
    """moto lists a handler's methods (``inspect.getmembers``) for every request; DynamoDB's
    handler has the same methods for the life of the process (patched before any request)."""
    if clazz is DynamoHandler:
        return _dynamodb_method_names()
    return _original_method_names_from_class(clazz)


_base_pre_processing = ast_nodes.DepthFirstTraverser.pre_processing_of_child
_base_nodes_to_be_processed = ast_nodes.DepthFirstTraverser.nodes_to_be_processed
_base_process = ast_nodes.DepthFirstTraverser.process
_original_traverse = ast_nodes.DepthFirstTraverser.traverse_node_recursively
# (processor class, node class) -> the processing map's key that handles it, or None
_dispatch: dict[tuple[type, type], Any] = {}
_is_node: dict[type, bool] = {}


def _handler_key(processor: Any, node: Any) -> Any:
    key = (type(processor), type(node))
    try:
        return _dispatch[key]
    except KeyError:
        handled = None
        if isinstance(node, processor.nodes_to_be_processed()):
            handled = next(k for k in processor._processing_map() if isinstance(node, k))
        _dispatch[key] = handled
        return handled


def _traverse_node_recursively(self: Any, node: Any, child_id: int = -1) -> Any:
    """moto's depth-first traversal of an expression tree, with its per-node lookups remembered.

    moto's validator runs ten processors over the tree, and for every node each one rebuilt its
    processing map (a dict of bound methods) twice and asked ``isinstance`` against abstract
    classes. Which map key handles a node depends only on the processor's class and the node's
    class (every ``_processing_map`` is a literal of classes), so that answer is remembered; the
    handler itself is taken from the processor's map as before, and nodes are processed and
    replaced exactly as moto does. Traversers that override the lookup keep moto's own code.
    """
    cls = type(self)
    if cls.nodes_to_be_processed is not _base_nodes_to_be_processed or cls.process is not _base_process:
        return _original_traverse(self, node, child_id)
    node_type = type(node)
    is_node = _is_node.get(node_type)
    if is_node is None:
        is_node = _is_node[node_type] = issubclass(node_type, ast_nodes.Node)
    if not is_node:
        return node
    parent_node = node.parent
    children = node.children
    if children is not None:
        pre_processing = cls.pre_processing_of_child is not _base_pre_processing
        for i, child_node in enumerate(children):
            if pre_processing:
                self.pre_processing_of_child(node, i)
            _traverse_node_recursively(self, child_node, i)
    handled = _handler_key(self, node)
    if handled is not None:
        node = self._processing_map()[handled](node)
        node.parent = parent_node
        if parent_node:
            parent_node.children[child_id] = node
    return node


class _KeywordList(list[str]):
    """DynamoDB's reserved words: still the list moto loads, with a set lookup for ``in``."""

    def __init__(self, words: list[str]) -> None:
        super().__init__(words)
        self._set = frozenset(words)

    def __contains__(self, word: object) -> bool:
        return word in self._set


@functools.cache
def _moto_modules() -> tuple[str, ...]:
    return tuple(_original_list_of_moto_modules())


_original_list_of_moto_modules = backends.list_of_moto_modules


# ---------------------------------------------------------------------------------------------
# SQS: receiving from a busy queue
# ---------------------------------------------------------------------------------------------

_original_retention_check = sqs_models.SQSBackend.is_message_valid_based_on_retention_period


def _is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
    """moto's retention check on a message it hands out, reading only the retention period.

    moto read it through ``get_queue_attributes``, which builds every attribute of the queue
    three times, counting its messages each time, for each message received: receiving from a
    queue of a few thousand messages (a thousand-recipient send's SES events) cost seconds. The
    period is the queue's ``message_retention_period`` (an int, as moto stores it); anything
    else is left to moto's own check.
    """
    queue = self.get_queue(queue_name)
    retention_period = getattr(queue, "message_retention_period", None)
    if type(retention_period) is not int:
        return _original_retention_check(self, queue_name, message)
    retain_until = retention_period + message.sent_timestamp / 1000
    return not retain_until <= unix_time()


def _now_millis(dt: Any = None) -> float:
    """moto's ``unix_time_millis`` for SQS, without building two datetimes for "now".

    Every ``SendMessage`` builds the queue's attributes (to read ``ContentBasedDeduplication``),
    which counts its messages: each one's visibility and delay is checked against the clock, and
    moto's clock made two datetimes per check. A queue a few thousand messages deep (a flash
    sale's coupon emails, paced by SES's rate) made each send cost milliseconds of the process's
    one GIL. The same epoch milliseconds, from ``time.time()``.
    """
    return time.time() * 1000.0 if dt is None else core_utils.unix_time_millis(dt)


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


@dataclass(frozen=True)
class RenderedEntry:
    """One ``SendBulkEmail`` entry as SES sends it: its recipients, the MIME message, and the
    rendered text and HTML bodies (so the SES simulator finds their links without parsing MIME)."""

    destinations: list[str]
    data: bytes
    parts: tuple[str, ...]


# Entries SES accepted, by message id, until the SES simulator's tap takes them (it sees the
# request right after moto answers it): each entry is rendered once. Bounded, as nothing takes
# them when no simulator listens.
_RENDERED: OrderedDict[str, RenderedEntry] = OrderedDict()
_RENDERED_KEPT = 1024
_rendered_lock = threading.Lock()


def take_rendered(message_id: str) -> RenderedEntry | None:
    """The entry SES accepted as ``message_id``, rendered when it was sent (once; else None)."""
    with _rendered_lock:
        return _RENDERED.pop(message_id, None)


def _keep_rendered(message_id: str, rendered: RenderedEntry) -> None:
    with _rendered_lock:
        _RENDERED[message_id] = rendered
        while len(_RENDERED) > _RENDERED_KEPT:
            _RENDERED.popitem(last=False)


def render_entry(request: dict[str, Any], index: int, content: dict[str, str] | None = None) -> RenderedEntry:
    """Entry ``index`` of a ``SendBulkEmail`` request as SES would send it."""
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
    text = None if content.get("Text") is None else render_handlebars(content["Text"], data)
    body = None if content.get("Html") is None else render_handlebars(content["Html"], data)
    if text is not None:
        message.set_content(text)
        if body is not None:
            message.add_alternative(body, subtype="html")
    elif body is not None:
        message.set_content(body, subtype="html")
    return RenderedEntry(
        destinations=[*to, *cc, *(destination.get("BccAddresses") or [])],
        data=message.as_bytes(),
        parts=tuple(part for part in (text, body) if part is not None),
    )


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
        rendered = render_entry(request, index, content)
        bcc = list((entries[index].get("Destination") or {}).get("BccAddresses") or [])
        try:  # moto takes To and Cc from the rendered headers
            sent = core.send_raw_email(
                source=request.get("FromEmailAddress"),
                destinations=bcc,
                raw_data=rendered.data.decode("utf-8"),
            )
        except SesError as error:
            if error.code == "MessageRejected":
                raise _SesV2Error("MessageRejected", str(error.message)) from error
            results.append({"Status": "INVALID_PARAMETER", "Error": str(error.message)})
            continue
        _keep_rendered(sent.id, rendered)
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


# ---------------------------------------------------------------------------------------------
# DynamoDB and SQS requests: read without walking botocore's shapes where that changes nothing
# ---------------------------------------------------------------------------------------------

_original_parse_parameters = core_responses.BaseResponse.parse_parameters
# Only a blob (``B``, ``BS``) or a ``null`` makes moto's parse differ from the JSON as sent.
_PARSE_CHANGES = re.compile(rb'"BS?"\s*:|\bnull\b')


def _dynamodb_parse_parameters(self: Any, request: Any) -> None:
    """A DynamoDB request's parameters as ``json.loads`` reads its body, unless moto's parse differs.

    moto's request parser walks botocore's shape model over every attribute value of every item
    (a twelfth of the local stack's time under claims); for the item operations' shapes (no
    timestamps) that walk only decodes blobs (base64 to bytes) and drops ``null`` members, and a
    body with neither is read as it is. Any other operation or body (or one that is not a JSON
    object) goes to moto's parser.
    """
    body = request.data
    if body and self._get_action() in _ITEM_OPERATIONS and not _PARSE_CHANGES.search(body):
        try:
            params = json.loads(body)
        except ValueError:
            params = None
        if type(params) is dict:
            self.params = params
            return
    _original_parse_parameters(self, request)


_COUNTS = frozenset(
    {
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesDelayed",
        "ApproximateNumberOfMessagesNotVisible",
    }
)
_sending = threading.local()
_original_send_message = sqs_models.SQSBackend.send_message


@functools.cache
def _attribute_name(attribute: str) -> str:
    return str(core_utils.camelcase_to_underscores(attribute))


def _queue_attributes(self: Any) -> dict[str, Any]:
    """moto's ``Queue.attributes``, without counting the queue's messages inside ``SendMessage``.

    ``SendMessage`` builds them all to read ``ContentBasedDeduplication``: counting a queue's
    messages three times and converting twenty names from camel case, per message sent. The
    same dict, names converted once, and the three counts left out while this thread sends.
    """
    skip_counts = getattr(_sending, "active", False)
    result: dict[str, Any] = {}
    names = list(self.BASE_ATTRIBUTES)
    if self.fifo_queue:
        names += self.FIFO_ATTRIBUTES
    if self.kms_master_key_id:
        names += self.KMS_ATTRIBUTES
    for attribute in names:
        if skip_counts and attribute in _COUNTS:
            continue
        result[attribute] = getattr(self, _attribute_name(attribute))
    if self.policy:
        result["Policy"] = self.policy
    if self.redrive_policy:
        result["RedrivePolicy"] = json.dumps(self.redrive_policy)
    for key, value in result.items():
        if isinstance(value, bool):
            result[key] = str(value).lower()
    return result


def _send_message(self: Any, *args: Any, **kwargs: Any) -> Any:
    _sending.active = True
    try:
        return _original_send_message(self, *args, **kwargs)
    finally:
        _sending.active = False


_original_send_email_v2: Any = None
_original_dynamodb_call_action = DynamoHandler.call_action
_dynamodb_lock = threading.Lock()
# Held while moto serves a DynamoDB request; anything in the process that reads moto's tables
# directly (the bench's unit pricing) takes it too, or it races moto's own writes.
DYNAMODB_LOCK = _dynamodb_lock


def _serialised_dynamodb_call(self: Any) -> Any:
    """One DynamoDB request at a time: moto checks a condition and writes without a lock, so two
    concurrent conditional writes on one item could both pass; DynamoDB applies them in turn."""
    with _dynamodb_lock:
        return _original_dynamodb_call_action(self)


def apply() -> None:
    """Install the patches (idempotent); call before moto serves any request."""
    global _applied, _original_send_email_v2  # noqa: PLW0603
    check_moto_version()
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
    expressions.UpdateExpressionParser.make = classmethod(_make_update_expression)
    ast_nodes.Node.__deepcopy__ = _node_deepcopy
    ast_nodes.Node.find_clauses = _find_clauses
    ast_nodes.DepthFirstTraverser.traverse_node_recursively = _traverse_node_recursively
    validators.Validator.__init__ = _validator_init  # type: ignore[method-assign]
    validators.Validator.validate = _validate  # type: ignore[method-assign]
    ConditionExpressionParser.parse = _condition_parse  # type: ignore[method-assign]
    core_responses.method_names_from_class = _method_names_from_class
    ReservedKeywords.KEYWORDS = _KeywordList(ReservedKeywords.get_reserved_keywords())
    # moto lists its own package directory (a stat per service) to route every request
    backends.list_of_moto_modules = _moto_modules
    sqs_models.SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        _is_message_valid_based_on_retention_period
    )
    sqs_models.unix_time_millis = _now_millis  # type: ignore[attr-defined]
    DynamoHandler.parse_parameters = _dynamodb_parse_parameters  # type: ignore[method-assign]
    sqs_models.Queue.attributes = property(_queue_attributes)  # type: ignore[assignment,method-assign]
    sqs_models.SQSBackend.send_message = _send_message  # type: ignore[method-assign]
    _applied = True
