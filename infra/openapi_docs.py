"""Write the API's OpenAPI document and its reference page from the code (`make openapi`).

    .venv/bin/python infra/openapi_docs.py           # writes docs/openapi.json, docs/api-reference.md
    .venv/bin/python infra/openapi_docs.py --check   # exits 1 naming the file that is out of date

The document is built by ``couponflow.api.openapi`` from the routes and their models; the
reference page is rendered from the document alone, so neither can drift from the code
(``tests/unit/test_openapi_document.py`` runs the check).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from couponflow.api import openapi

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "openapi.json"
REFERENCE = ROOT / "docs" / "api-reference.md"
METHODS = ("get", "post", "put", "patch", "delete")


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if schema.get("type") == "array":
        return f"array of {_type(schema.get('items', {}))}"
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _operation(path: str, method: str, op: dict[str, Any]) -> list[str]:
    who = "public" if op.get("security") == [] else "merchant key"
    lines = [f"### `{method.upper()} {path}`", "", f"{_cell(op.get('summary', ''))} ({who})", ""]
    if op.get("description") and op["description"] != op.get("summary"):
        lines += [op["description"].strip(), ""]
    params = op.get("parameters", [])
    if params:
        lines += ["| parameter | in | type | required |", "|---|---|---|---|"]
        for p in params:
            required = "yes" if p.get("required") else "no"
            lines.append(f"| `{p['name']}` | {p['in']} | {_cell(_type(p.get('schema', {})))} | {required} |")
        lines.append("")
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body:
        lines += [f"Body: {_type(body)}", ""]
    answers = []
    for code, answer in sorted(op.get("responses", {}).items()):
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        shape = f": {_type(schema)}" if schema and code < "400" else ""
        answers.append(f"`{code}`{shape}")
    lines += ["Answers: " + ", ".join(answers), ""]
    return lines


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    lines = [f"### {name}", ""]
    if schema.get("description"):
        lines += [_cell(schema["description"]), ""]
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        lines += ["| field | type | required | notes |", "|---|---|---|---|"]
        for field, spec in props.items():
            notes = spec.get("description", "")
            for key in ("minLength", "maxLength", "minimum", "maximum", "pattern", "default"):
                if key in spec:
                    notes += f" {key} `{spec[key]}`"
            needed = "yes" if field in required else "no"
            lines.append(f"| `{field}` | {_cell(_type(spec))} | {needed} | {_cell(notes)} |")
        lines.append("")
    elif "enum" in schema:
        lines += [_type(schema), ""]
    return lines


def reference(spec: dict[str, Any]) -> str:
    lines = [
        "# API reference",
        "",
        "Generated from [openapi.json](openapi.json) by `make openapi`; do not edit by hand. The",
        "running API serves the same document at `GET /openapi.json` and Swagger UI at `GET /docs`.",
        "",
        spec["info"].get("description", ""),
        "",
        "## Routes",
        "",
    ]
    for path, operations in spec["paths"].items():
        for method in METHODS:
            if method in operations:
                lines += _operation(path, method, operations[method])
    lines += ["## Schemas", ""]
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        lines += _schema(name, schema)
    return "\n".join(lines).rstrip() + "\n"


def outputs() -> dict[Path, str]:
    return {DOCUMENT: openapi.document_text(), REFERENCE: reference(json.loads(openapi.document_text()))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed file differs from the code")
    args = parser.parse_args()
    stale = []
    for path, text in outputs().items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.relative_to(ROOT))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"out of date with the code: {', '.join(map(str, stale))}; run `make openapi`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
