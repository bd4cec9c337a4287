"""What the pipeline's functions load at their cold start, each in a fresh process.

None loads the merchant API's models (some eighty classes serving the merchant API's routes); the
code import function's list exports write the list views' rows, so it alone loads the views'
models. The mailer loads what every batch needs; giving a dropped email's code back (the claims
store) loads with the first drop."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = sorted(
    p.parent.name for p in (ROOT / "functions").glob("*/app.py") if p.parent.name != "merchant_api"
)
MERCHANT_MODELS = {"couponflow.models.api", "couponflow.models.views"}
EXPORTS_ROWS = {"code_import": {"couponflow.models.views"}}  # the list exports' rows


def _loaded_by(modules: list[str]) -> set[str]:
    """The core package's modules a fresh process holds after importing ``modules``."""
    listed = (
        "import importlib, json, sys\n"
        "for m in sys.argv[1:]: importlib.import_module(m)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('couponflow'))))"
    )
    started = subprocess.run(
        [sys.executable, "-c", listed, *modules], capture_output=True, text=True, timeout=120, check=False
    )
    assert started.returncode == 0, started.stderr
    return set(json.loads(started.stdout.splitlines()[-1]))


def _core_imports(app: Path) -> list[str]:
    tree = ast.parse(app.read_text())
    return sorted(
        {
            node.module
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("couponflow")
        }
    )


@pytest.mark.parametrize("function", PIPELINE)
def test_a_pipeline_function_loads_none_of_the_merchant_apis_models(function: str) -> None:
    loaded = _loaded_by(_core_imports(ROOT / "functions" / function / "app.py"))

    assert loaded & MERCHANT_MODELS == EXPORTS_ROWS.get(function, set())


def test_importing_the_mailer_loads_neither_the_release_nor_the_claims_store() -> None:
    loaded = _loaded_by(["couponflow.services.mailer"])

    assert "couponflow.services.link_signer" in loaded  # every batch signs its coupon links
    assert loaded.isdisjoint(
        {"couponflow.services.release", "couponflow.store.claims", "couponflow.store.claim_progress"}
    )
