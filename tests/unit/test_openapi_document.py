"""The OpenAPI document: built from the code, committed as docs/openapi.json, and honest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from couponflow.api import openapi

ROOT = Path(__file__).resolve().parents[2]
# Names of the key design (store/keys.py) and bookkeeping no client may see.
STORAGE_NAMES = re.compile(r"^(pk|sk|gsi\d+(pk|sk)|status_rank|pool_version|event_order|lease_\w+)$")


def test_the_committed_document_and_reference_match_the_code():
    check = subprocess.run(
        [sys.executable, "infra/openapi_docs.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_every_route_has_a_summary_security_and_the_error_shape():
    spec = openapi.document()
    assert spec["openapi"] == "3.1.0"
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"], (method, path)
            assert operation["security"] == ([] if path.startswith("/public/") else [{"merchantKey": []}])
            for code in ("400", "422"):
                shape = operation["responses"][code]["content"]["application/json"]["schema"]
                assert shape == {"$ref": "#/components/schemas/Error"}, (method, path, code)


def _names(schema: Any, schemas: dict[str, Any], seen: set[str]) -> set[str]:
    """Every property name reachable from ``schema``."""
    found: set[str] = set()
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                found |= _names(schemas[name], schemas, seen)
        found |= set(schema.get("properties", {}))
        for value in schema.values():
            found |= _names(value, schemas, seen)
    elif isinstance(schema, list):
        for value in schema:
            found |= _names(value, schemas, seen)
    return found


def test_no_answer_schema_names_a_storage_key():
    spec = openapi.document()
    schemas = spec["components"]["schemas"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                for content in answer.get("content", {}).values():
                    leaked = {n for n in _names(content["schema"], schemas, set()) if STORAGE_NAMES.match(n)}
                    assert not leaked, (method, path, code, leaked)
