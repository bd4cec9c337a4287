"""Load a SAM/CloudFormation template and resolve its intrinsic functions.

Covers what the local stack needs: the YAML short tags, SAM ``Globals`` merge for functions and
APIs, ``Parameters`` (defaults and overrides), ``Conditions`` and the intrinsics ``Ref``,
``Fn::GetAtt``, ``Fn::Sub`` (both forms), ``Fn::If``, ``Fn::Not``, ``Fn::Equals``, ``Fn::And``,
``Fn::Or``, ``Fn::Join``, ``Fn::Select``, ``Fn::Split``, ``Fn::FindInMap``, ``Fn::Base64``,
``Fn::GetAZs``, ``AWS::NoValue`` and the pseudo parameters.
"""

from __future__ import annotations

import base64
import copy
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"
API_ID = "local"

_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    "GetAtt": "Fn::GetAtt",
    "Sub": "Fn::Sub",
    "If": "Fn::If",
    "Not": "Fn::Not",
    "Equals": "Fn::Equals",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Join": "Fn::Join",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "FindInMap": "Fn::FindInMap",
    "Base64": "Fn::Base64",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Cidr": "Fn::Cidr",
    "Transform": "Fn::Transform",
}


class TemplateError(Exception):
    """The template cannot be loaded or an intrinsic cannot be resolved."""


class _Loader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _SHORT_TAGS.get(tag_suffix)
    if name is None:
        raise TemplateError(f"unknown CloudFormation tag !{tag_suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_Loader.add_multi_constructor("!", _construct_tag)


def load_yaml(text: str) -> dict[str, Any]:
    """Parse template text (YAML or JSON) with the CloudFormation short tags."""
    data = yaml.load(text, Loader=_Loader)
    if not isinstance(data, dict):
        raise TemplateError("template is not a mapping")
    return data


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM Globals rules: maps merge (local wins), lists concatenate (globals first), scalars override."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        if len(local_value) == 1 and next(iter(local_value)).startswith(("Fn::", "Ref")):
            return copy.deepcopy(local_value)
        merged = copy.deepcopy(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return copy.deepcopy(global_value) + copy.deepcopy(local_value)
    return copy.deepcopy(local_value)


_GLOBAL_SECTIONS = {
    "Function": "AWS::Serverless::Function",
    "Api": "AWS::Serverless::Api",
    "HttpApi": "AWS::Serverless::HttpApi",
    "SimpleTable": "AWS::Serverless::SimpleTable",
    "StateMachine": "AWS::Serverless::StateMachine",
}


@dataclass
class Template:
    """A loaded template with SAM Globals already merged into each resource's Properties."""

    path: Path
    body: dict[str, Any]

    @classmethod
    def load(cls, path: str | Path) -> Template:
        path = Path(path).resolve()
        body = load_yaml(path.read_text())
        body.setdefault("Resources", {})
        glob = body.get("Globals") or {}
        for section, rtype in _GLOBAL_SECTIONS.items():
            defaults = glob.get(section)
            if not defaults:
                continue
            for resource in body["Resources"].values():
                if resource.get("Type") == rtype:
                    resource["Properties"] = _merge_globals(defaults, resource.get("Properties") or {})
        return cls(path=path, body=body)

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.body["Resources"]
        return resources

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Parameters") or {})

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.body.get("Conditions") or {})

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {lid: r for lid, r in self.resources.items() if r.get("Type") in types}


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Any = _NoValue()

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def references(node: Any) -> set[str]:
    """Logical ids and parameter names a template fragment refers to (Ref, GetAtt, Sub, DependsOn)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key == "Ref" and isinstance(arg, str):
                    found.add(arg)
                    return
                if key == "Fn::GetAtt":
                    target = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
                    found.add(str(target))
                    return
                if key == "Fn::Sub":
                    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                    for name in _SUB_VAR.findall(text):
                        if not name.startswith("!") and name not in variables:
                            found.add(name.split(".", 1)[0])
                    walk(variables)
                    return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(node)
    return {name for name in found if not name.startswith("AWS::")}


@dataclass
class Resolver:
    """Resolves intrinsics against parameters, conditions and the physical values of resources.

    ``refs`` maps a logical id to what ``Ref`` returns; ``attrs`` maps a logical id to its
    ``Fn::GetAtt`` attributes. ``string_hook`` post-processes every resolved string (used to
    point execute-api URLs at the local gateway).
    """

    template: Template
    parameter_overrides: Mapping[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = ACCOUNT_ID
    stack_name: str = "couponflow-local"
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    string_hook: Callable[[str], str] | None = None
    _params: dict[str, Any] = field(default_factory=dict, init=False)
    _conditions: dict[str, bool] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        declared = self.template.parameters
        unknown = set(self.parameter_overrides) - set(declared)
        if unknown:
            raise TemplateError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        for name, spec in declared.items():
            if name in self.parameter_overrides:
                value: Any = self.parameter_overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default; pass --parameter {name}=...")
            ptype = str(spec.get("Type", "String"))
            if ptype.startswith("List<") or ptype == "CommaDelimitedList":
                value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
            elif isinstance(value, bool):
                value = str(value).lower()
            else:
                value = str(value)
            allowed = spec.get("AllowedValues")
            if allowed is not None and value not in [str(a) for a in allowed]:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
            self._params[name] = value
        for name in self.template.conditions:
            self.condition(name)

    # -- public -------------------------------------------------------------------------------

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._params)

    @property
    def pseudo(self) -> dict[str, Any]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/"
                "00000000-0000-0000-0000-000000000000"
            ),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            conditions = self.template.conditions
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = False  # guards against cycles
            self._conditions[name] = bool(self._eval_condition(conditions[name]))
        return self._conditions[name]

    def resource_enabled(self, logical_id: str) -> bool:
        cond = self.template.resources[logical_id].get("Condition")
        return True if cond is None else self.condition(cond)

    def resolve(self, node: Any) -> Any:
        """Resolve every intrinsic in ``node``; ``AWS::NoValue`` removes the key / list item."""
        value = self._resolve(node)
        return None if value is NO_VALUE else value

    # -- internals ----------------------------------------------------------------------------

    def _eval_condition(self, node: Any) -> Any:
        if isinstance(node, dict) and len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Fn::Equals":
                left, right = (self._eval_condition(a) for a in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._eval_condition(arg[0])
            if key == "Fn::And":
                return all(self._eval_condition(a) for a in arg)
            if key == "Fn::Or":
                return any(self._eval_condition(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return self._resolve(node)

    def _resolve(self, node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, arg),) = node.items()
                handler = self._handlers().get(key)
                if handler is not None:
                    return handler(arg)
            out: dict[str, Any] = {}
            for key, value in node.items():
                resolved = self._resolve(value)
                if resolved is not NO_VALUE:
                    out[key] = resolved
            return out
        if isinstance(node, list):
            return [v for v in (self._resolve(item) for item in node) if v is not NO_VALUE]
        if isinstance(node, str) and self.string_hook is not None:
            return self.string_hook(node)
        return node

    def _handlers(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Not": lambda a: not self._eval_condition(a[0]),
            "Fn::Equals": lambda a: self._eval_condition({"Fn::Equals": a}),
            "Fn::And": lambda a: self._eval_condition({"Fn::And": a}),
            "Fn::Or": lambda a: self._eval_condition({"Fn::Or": a}),
            "Condition": self.condition,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda a: base64.b64encode(str(self._resolve(a)).encode()).decode(),
            "Fn::GetAZs": lambda _a: [f"{self.region}{z}" for z in "abc"],
        }

    def _hook(self, value: Any) -> Any:
        if isinstance(value, str) and self.string_hook is not None:
            return self.string_hook(value)
        return value

    def _ref(self, name: Any) -> Any:
        name = self._resolve(name)
        if name in self._params:
            return self._params[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.refs:
            return self._hook(self.refs[name])
        if name in self.template.resources:
            raise TemplateError(f"Ref {name}: resource not provisioned (yet)")
        raise TemplateError(f"Ref to unknown name {name}")

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        logical_id, attribute = (self._resolve(a) for a in arg)
        if logical_id not in self.template.resources:
            raise TemplateError(f"Fn::GetAtt to unknown resource {logical_id}")
        attributes = self.attrs.get(logical_id)
        if attributes is None:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: resource not provisioned (yet)")
        if attribute not in attributes:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: attribute not known locally")
        return self._hook(attributes[attribute])

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, variables = arg[0], {k: self._resolve(v) for k, v in arg[1].items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.template.resources:
                return str(self._get_att(name.split(".", 1)))
            value = self._ref(name)
            if isinstance(value, list):
                raise TemplateError(f"Fn::Sub ${{{name}}} is a list")
            return str(value)

        return str(self._hook(_SUB_VAR.sub(replace, text)))

    def _if(self, arg: Any) -> Any:
        cond, when_true, when_false = arg
        return self._resolve(when_true if self.condition(cond) else when_false)

    def _join(self, arg: Any) -> str:
        delimiter, items = arg
        values = self._resolve(items)
        return str(self._hook(str(delimiter).join(str(v) for v in _as_list(values))))

    def _select(self, arg: Any) -> Any:
        index, items = arg
        return _as_list(self._resolve(items))[int(self._resolve(index))]

    def _split(self, arg: Any) -> list[str]:
        delimiter, source = arg
        return str(self._resolve(source)).split(str(delimiter))

    def _find_in_map(self, arg: Any) -> Any:
        name, top, second = (self._resolve(a) for a in arg)
        try:
            return self.template.body["Mappings"][name][top][second]
        except KeyError as exc:
            raise TemplateError(f"Fn::FindInMap {name}/{top}/{second} not found") from exc


def function_events(
    resolved: Mapping[str, Mapping[str, Any]], *types: str
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """The events of the template's functions whose ``Type`` is one of ``types``, in template
    order: (the function's logical id, the event's name, its type, its properties)."""
    for lid, res in resolved.items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for name, event in (res["Properties"].get("Events") or {}).items():
            if event.get("Type") in types:
                yield lid, name, str(event["Type"]), dict(event.get("Properties") or {})


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    raise TemplateError(f"expected a list, got {value!r}")


def dependency_order(template: Template, logical_ids: Iterable[str]) -> list[str]:
    """Order logical ids so that every resource comes after the resources it refers to."""
    wanted = list(logical_ids)
    wanted_set = set(wanted)
    deps: dict[str, set[str]] = {}
    for lid in wanted:
        resource = template.resources[lid]
        found = references(resource.get("Properties") or {})
        depends_on = resource.get("DependsOn") or []
        found |= set([depends_on] if isinstance(depends_on, str) else depends_on)
        deps[lid] = {d for d in found if d in wanted_set and d != lid}
    ordered: list[str] = []
    state: dict[str, int] = {}

    def visit(lid: str) -> None:
        if state.get(lid) == 2:
            return
        if state.get(lid) == 1:
            raise TemplateError(f"circular dependency involving {lid}")
        state[lid] = 1
        for dep in sorted(deps[lid]):
            visit(dep)
        state[lid] = 2
        ordered.append(lid)

    for lid in wanted:
        visit(lid)
    return ordered
