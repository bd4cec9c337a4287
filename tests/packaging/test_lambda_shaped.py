"""Every function starts the way Lambda starts it: in a fresh Python that has only boto3 (what
the Lambda runtime ships), the layer as ``make package`` builds it (for this machine's Python and
processor) on ``/opt/python``'s place, the function's zip as the task root, and the template's
environment. Tracing on (as deployed: ``Tracing: Active``) and off. The development virtualenv,
which has everything, is never on the path: a module the layer lacks fails here.

Each function is imported (its cold start: settings, clients, the link secret from Secrets
Manager, on this session's moto), the routers the merchant API and the claim function load on
first request are all loaded, and the authorizer is invoked once with a sample event.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from couponflow.api import merchant, public

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")


def _pinned(name: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(f"{name}=="):
            return line
    return name


@pytest.fixture(scope="module")
def lambda_like(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The layer and function zips for this machine, unpacked, and a Python with only boto3."""
    base = tmp_path_factory.mktemp("lambda")
    out = base / "package"
    built = subprocess.run(
        [sys.executable, "infra/package.py", "--out", str(out), "--for-this-machine"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    opt = base / "opt"
    with zipfile.ZipFile(out / "layer.zip") as layer:
        layer.extractall(opt)
    for function_zip in out.glob("*Function.zip"):
        with zipfile.ZipFile(function_zip) as code:
            code.extractall(base / "task" / function_zip.stem)
    venv = base / "runtime"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", *[_pinned(p) for p in RUNTIME_PACKAGES]],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return {"opt": opt, "task": base / "task", "python": venv / "bin" / "python"}


START = """
import gc, importlib, json, sys
# The collector's passes while the handler module loads, each with what of its imports had loaded:
# only its standard library's may come before ``couponflow/cold_start.py`` pauses the collector.
passes = []
watched = ("couponflow.cold_start", "aws_lambda_powertools", "boto3", "pydantic")
gc.callbacks.append(
    lambda phase, info: phase == "start" and passes.append([m for m in watched if m in sys.modules])
)
app = importlib.import_module("app")
print("collector", json.dumps({"passes": passes, "on": gc.isenabled(), "frozen": gc.get_freeze_count()}))
assert callable(app.lambda_handler), "no lambda_handler"
routes = getattr(app, "routes", None)
if routes is not None:  # routers loaded on first request (merchant API, claim function): each must load here
    maps = importlib.import_module(type(routes).__module__)
    paths = ["/" + prefix for prefix in getattr(maps, "ROUTERS_BY_PREFIX", {})]
    for path in paths + list(getattr(maps, "ROUTERS_BY_RESOURCE", {})):
        routes.include_for(path)
    print("routers", len(routes.loaded))
event = json.loads(sys.argv[1]) if len(sys.argv) > 1 else None
if event is not None:
    class Context:
        function_name = "fn"; memory_limit_in_mb = 512; aws_request_id = "r-1"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
        def get_remaining_time_in_millis(self): return 10_000
    print("RESULT", json.dumps(app.lambda_handler(event, Context())))
print("started", sorted(m for m in sys.modules if m.split(".")[0] in ("moto", "pytest", "yaml")))
xray = {".".join(m.split(".")[:3]) for m in sys.modules if m.startswith("aws_xray_sdk.ext.")}
print("xray patched", json.dumps(sorted(xray)))
"""

# What X-Ray's SDK may load with tracing on: the botocore and http.client patches and their
# helpers (``couponflow/tracing.py``), not the patchers of libraries no function uses.
XRAY_PATCHES = {
    "aws_xray_sdk.ext.botocore",
    "aws_xray_sdk.ext.httplib",
    "aws_xray_sdk.ext.boto_utils",
    "aws_xray_sdk.ext.util",
}


def _start(
    runtime: dict[str, Path], function: str, environment: dict[str, str], tracing: bool, event: Any = None
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": f"{runtime['task'] / function}:{runtime['opt'] / 'python'}",
        "PYTHONNOUSERSITE": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "LAMBDA_TASK_ROOT": str(runtime["task"] / function),  # X-Ray's SDK in its Lambda mode
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",  # no X-Ray daemon here; Lambda provides one
        "POWERTOOLS_TRACE_DISABLED": "false" if tracing else "true",
        **environment,
    }
    command = [str(runtime["python"]), "-c", START, *([json.dumps(event)] if event is not None else [])]
    return subprocess.run(
        command,
        cwd=runtime["task"] / function,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


FUNCTIONS = [
    "ClaimFunction",
    "MerchantApiFunction",
    "AuthorizerFunction",
    "MailerFunction",
    "SesEventsFunction",
    "ProviderSyncFunction",
    "HousekeepingFunction",
    "SendStarterFunction",
    "SendFanoutFunction",
    "SmsReceiptsFunction",
    "CodeImportFunction",
]


@pytest.mark.parametrize("tracing", [True, False], ids=["tracing-on", "tracing-off"])
def test_every_function_starts_with_only_boto3_and_the_packaged_layer(
    lambda_like: dict[str, Path], function_env: Callable[[str], dict[str, str]], tracing: bool
) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        started = dict(
            zip(
                FUNCTIONS,
                pool.map(lambda f: _start(lambda_like, f, function_env(f), tracing), FUNCTIONS),
                strict=True,
            )
        )
    failed = {f: r.stderr.strip().splitlines()[-3:] for f, r in started.items() if r.returncode != 0}
    assert not failed, failed
    assert all("started []" in r.stdout for r in started.values())  # nothing of the dev tools
    assert f"routers {len(merchant.BUILDERS)}" in started["MerchantApiFunction"].stdout
    assert f"routers {len(public.BUILDERS) + 1}" in started["ClaimFunction"].stdout  # + the claim's own
    for function, result in started.items():
        [collector] = [line for line in result.stdout.splitlines() if line.startswith("collector ")]
        after_import = json.loads(collector.removeprefix("collector "))
        # no collector pass walked the import's objects, which are kept out of every later pass
        assert not any(after_import["passes"]) and after_import["on"], (function, after_import)
        assert after_import["frozen"] > 20_000, (function, after_import)
        [patched] = [line for line in result.stdout.splitlines() if line.startswith("xray patched ")]
        loaded = set(json.loads(patched.removeprefix("xray patched ")))
        assert loaded <= XRAY_PATCHES, (function, loaded - XRAY_PATCHES)
        if tracing and function != "AuthorizerFunction":  # the authorizer has no tracer
            assert {"aws_xray_sdk.ext.botocore", "aws_xray_sdk.ext.httplib"} <= loaded, (function, loaded)


def test_the_authorizer_answers_a_sample_event_as_it_would_on_lambda(
    lambda_like: dict[str, Path], function_env: Callable[[str], dict[str, str]]
) -> None:
    event = json.loads((ROOT / "events" / "authorizer" / "token.json").read_text())
    result = _start(lambda_like, "AuthorizerFunction", function_env("AuthorizerFunction"), True, event)
    assert result.returncode == 0, result.stderr
    [answer] = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    policy = json.loads(answer.removeprefix("RESULT "))
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Deny", policy  # a key no one holds


def _imported_anywhere(package: Path) -> set[str]:
    """Every module a core module imports, at its top or inside a function (a dependency loaded
    on first use, which no function's start would load), less those only a type checker reads."""
    names: set[str] = set()
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text())
        typing_only = {
            id(node)
            for block in ast.walk(tree)
            if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
            for node in ast.walk(block)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return names


def test_every_module_the_core_imports_on_first_use_loads_from_the_packaged_layer(
    lambda_like: dict[str, Path],
) -> None:
    # Given every module the core package imports, lazily or not
    modules = sorted(_imported_anywhere(ROOT / "layers" / "couponflow" / "couponflow"))
    assert "disposable_email_domains" in modules and "couponflow.services.release" in modules

    # When a Python with only boto3 and the packaged layer imports each of them
    imported = subprocess.run(
        [
            str(lambda_like["python"]),
            "-c",
            "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)",
            *modules,
        ],
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(lambda_like["opt"] / "python"),
            "PYTHONNOUSERSITE": "1",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then none is missing (the function's first request that needs it would fail on Lambda)
    assert imported.returncode == 0, imported.stderr.strip().splitlines()[-3:]
