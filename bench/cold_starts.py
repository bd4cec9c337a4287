"""Cold starts: each function's handler module imported in fresh processes, beside a baseline.

A function's cold start is mostly the import of its handler module (settings, clients, its
routes, the link secret read from Secrets Manager). Each is imported in ``RUNS`` fresh Python
processes with the template's environment, against the bench's moto; the baseline process
imports only what every function needs anyway: boto3, Powertools' Logger, Tracer and event
handler, pydantic, and one boto3 client. Printed: min and median seconds, the ratios of the
medians (and of the minimums) to the baseline's, and the modules loaded. The same interpreter
and site-packages serve both, so the ratio is what our code adds (on Lambda the layer is on
``/opt/python``, with the bytecode ``make package`` compiles into it).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from couponflow.adapters.dynamodb import Table
from couponflow.domain.campaign import Campaign
from couponflow.store import campaigns

from bench.claims import _load

ROOT = Path(__file__).resolve().parent.parent
RUNS = 11
TARGETS = {"ClaimFunction": 1.1, "AuthorizerFunction": 1.1}  # on the storefront's path; others 1.2

BASELINE = """
import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
import pydantic
boto3.client("dynamodb")
"""

# Every function runs with X-Ray tracing on (the template's ``Tracing: Active``): Powertools'
# ``Tracer()`` loads the X-Ray SDK, a cost the baseline above leaves out; the traced baseline is the
# least a traced function loads (the SDK patching botocore, see ``couponflow/tracing.py``).
TRACED_BASELINE = BASELINE + 'Tracer(patch_modules=("botocore",))\nLogger()\n'

# The floor of a function as the conventions shape it: traced, with its settings a pydantic model.
# The baseline's ``import pydantic`` loads none of pydantic's model machinery (pydantic imports it
# lazily); the first model class any process builds loads and warms it, 0.03 to 0.05 s here.
FLOOR = (
    TRACED_BASELINE
    + "class Settings(pydantic.BaseModel):\n"
    + "    table_name: str = pydantic.Field(min_length=3)\n"
    + "Settings(table_name='table')\n"
)

# Every function pauses the garbage collector while its handler module loads and freezes what the
# load built (``couponflow/cold_start.py``); the baseline above does not, so its ratios include
# what the pause saves on the libraries' own objects. The baseline paused alike shows the rest.
PAUSED_BASELINE = "import gc\ngc.disable()\n" + BASELINE + "gc.freeze()\ngc.enable()\n"

MEASURE = """
import json, sys, time
started, cpu = time.perf_counter(), time.process_time()
exec(compile(sys.argv[1], "<start>", "exec"))
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "cpu": time.process_time() - cpu,
    "modules": len(sys.modules),
}))
"""


def _once(code: str, folder: Path, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, code],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{folder.name}: {done.stderr.strip().splitlines()[-1:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


Process = tuple[str, Path, dict[str, str]]  # the code to run, its folder, its environment


Timing = tuple[float, float, float, int]  # median wall s, median CPU s, min CPU s, modules


def _round_robin(processes: dict[str, Process]) -> dict[str, Timing]:
    """Each process started ``RUNS`` times in turns (one of each, then again), so a spell of load
    on this shared machine falls on all of them alike instead of on whichever ran during it.
    The CPU time the import took is what the ratios use: another process's load stretches the
    wall time of an import (it waits for a core) but hardly its CPU time."""
    found: dict[str, list[dict[str, float]]] = {name: [] for name in processes}
    for _ in range(RUNS):
        for name, (code, folder, env) in processes.items():
            found[name].append(_once(code, folder, env))
    return {
        name: (
            statistics.median(r["seconds"] for r in runs),
            statistics.median(r["cpu"] for r in runs),
            min(r["cpu"] for r in runs),
            int(runs[-1]["modules"]),
        )
        for name, runs in found.items()
    }


def _lambda_env(function: str, stack: Any = None) -> dict[str, str]:
    """A Lambda-like environment on the bench's moto: the function's variables from the
    template (none for a baseline), and the runtime's own variables. ``LAMBDA_TASK_ROOT`` is what
    puts X-Ray's SDK in its Lambda mode (the sampling decision comes with Lambda's trace header);
    without it the SDK builds a botocore client for centralized sampling at import, 0.1 to 0.15 s
    that no function pays on Lambda."""
    variables: dict[str, str] = {}
    task_root = ROOT
    if stack is not None:
        props = stack.resolved[function]["Properties"]
        variables = {k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()}
        task_root = ROOT / str(props["CodeUri"])
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "LAMBDA_TASK_ROOT": str(task_root),
        "_HANDLER": "app.lambda_handler",
        **variables,
    }


FIRST_REQUEST = "+ /campaigns routers"

# The import is not the whole of a cold start: a function makes its boto3 clients, builds the
# models a request validates and opens its connections on its first request, where the baseline
# made its one client at import. On the storefront's path that first request is a claim, timed
# here end to end (import, then one claim through the handler, its email queued) beside the
# baseline's import, one GetItem and one SQS send: the least a first claim does (its two clients
# and a call through each). The targets are of the import; this is what a storefront's
# first claim on a new execution environment costs in our process.
FIRST_CLAIM = "ClaimFunction + claim"
FIRST_GET = "baseline + two calls"

# Why the first claim, and not the import, is the figure to hold: the claim function behind a
# wrapper that imports it on the first request. Its import then measures nothing; its first
# claim does the same work as the claim function's. Timed beside them in the same run.
DEFERRED = "ClaimFunction deferred"
DEFERRED_CLAIM = "deferred + claim"
DEFERRED_APP = """
import importlib.util

_app = None


def lambda_handler(event, context):
    global _app
    if _app is None:
        spec = importlib.util.spec_from_file_location("claim_app", {path!r})
        _app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_app)
    return _app.lambda_handler(event, context)
"""
CLAIM_EVENT = ROOT / "events" / "claim" / "post_claim.json"
CLAIM_CODE = """
import json, uuid
import app

class Context:
    function_name = "ClaimFunction"; memory_limit_in_mb = 512; aws_request_id = "cold-start"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ClaimFunction"
    def get_remaining_time_in_millis(self): return 10_000

event = json.loads(EVENT)
event["body"] = json.dumps({"email": f"cold-{uuid.uuid4().hex[:12]}@example.com"})
answer = app.lambda_handler(event, Context())
assert answer["statusCode"] == 201, answer
"""


def _first_claim_processes(stack: Any, base_env: dict[str, str], deferred: Path) -> dict[str, Process]:
    """The claim event's campaign with a code for each claim, and the processes timed: the
    baseline's calls, the claim function's first claim, and the deferred wrapper (written into
    ``deferred``) imported and claiming."""
    event = json.loads(CLAIM_EVENT.read_text())
    merchant, campaign_id = event["pathParameters"]["merchantId"], event["pathParameters"]["campaignId"]
    table_name = stack.physical["CouponflowTable"]
    _campaign_with_codes(table_name, merchant, campaign_id, 2 * RUNS)
    claim = f"EVENT = {json.dumps(event)!r}\n" + CLAIM_CODE
    claim_env = _lambda_env("ClaimFunction", stack)
    queue_url = claim_env["MAIL_QUEUE_URL"]
    get_item = BASELINE.replace('boto3.client("dynamodb")', 'client = boto3.client("dynamodb")') + (
        f"client.get_item(TableName={table_name!r}, Key={{'pk': {{'S': 'cold'}}, 'sk': {{'S': 'start'}}}})\n"
        f"boto3.client('sqs').send_message(QueueUrl={queue_url!r}, MessageBody='{{}}')\n"
    )
    folder = ROOT / str(stack.resolved["ClaimFunction"]["Properties"]["CodeUri"])
    (deferred / "app.py").write_text(DEFERRED_APP.format(path=str(folder / "app.py")))
    return {
        FIRST_GET: (get_item, ROOT, base_env),
        FIRST_CLAIM: (claim, folder, claim_env),
        DEFERRED: ("import app", deferred, claim_env),
        DEFERRED_CLAIM: (claim, deferred, claim_env),
    }


def _campaign_with_codes(table_name: str, merchant: str, campaign_id: str, codes: int) -> None:
    table = Table(table_name)
    campaign = Campaign(merchant, campaign_id, "Cold starts", "Your coupon", "email")
    campaigns.create(table, campaign, datetime.now(UTC).isoformat())
    _load(table, merchant, campaign_id, [f"COLD-{i:04d}" for i in range(codes)])


def bench_cold_starts(stack: Any) -> None:
    base_env = _lambda_env("baseline")
    processes: dict[str, Process] = {
        "baseline": (BASELINE, ROOT, base_env),
        "traced": (TRACED_BASELINE, ROOT, base_env),
        "floor": (FLOOR, ROOT, base_env),
        "paused": (PAUSED_BASELINE, ROOT, base_env),
    }
    for logical_id, definition in sorted(stack.resolved.items()):
        if definition.get("Type") == "AWS::Serverless::Function":
            folder = ROOT / str(definition["Properties"]["CodeUri"])
            processes[logical_id] = ("import app", folder, _lambda_env(logical_id, stack))
            if logical_id == "MerchantApiFunction":
                # It loads a request's routers on that first request (``api/merchant.py``): its
                # import leaves them out, so it is timed again with its largest prefix's routers.
                first = "import app\napp.routes.include_for('/campaigns/c-1')"
                processes[FIRST_REQUEST] = (first, folder, _lambda_env(logical_id, stack))
    with tempfile.TemporaryDirectory() as deferred:
        processes.update(_first_claim_processes(stack, base_env, Path(deferred)))
        timed = _round_robin(processes)
    base_cpu, base_low = timed["baseline"][1], timed["baseline"][2]
    floor_cpu, paused_cpu = timed["floor"][1], timed["paused"][1]
    print(
        f"cold starts (import of the handler module, {RUNS} fresh processes each, in turns; "
        "median wall s, median / min CPU s; the ratio is of the CPU medians, which other load on "
        "this shared machine moves least, and in brackets of the minimums, which it moves less):"
    )
    for name, label, note in (
        ("baseline", "baseline", ""),
        (
            "traced",
            "baseline + Tracer",
            " (X-Ray's SDK patching botocore: all but the authorizer)",
        ),
        ("floor", "+ one pydantic model", " (the floor: a traced function with its settings model)"),
        ("paused", "baseline, gc paused", " (the collector paused while it loads, as every function's)"),
    ):
        wall, cpu, low, modules = timed.pop(name)
        print(
            f"  {label:<22} {wall:6.3f}  {cpu:6.3f} / {low:6.3f}   {cpu / base_cpu:.2f}x "
            f"({low / base_low:.2f}x)   {modules} modules{note}"
        )
    first_get, first_claim = timed.pop(FIRST_GET), timed.pop(FIRST_CLAIM)
    deferred_import, deferred_claim = timed.pop(DEFERRED), timed.pop(DEFERRED_CLAIM)
    for logical_id, (wall, cpu, low, modules) in timed.items():
        target = TARGETS.get(logical_id, 1.2)
        label = f"  {logical_id}" if logical_id == FIRST_REQUEST else logical_id  # under the merchant API
        ratio = cpu / base_cpu
        verdict = "ok" if ratio <= target else "over"
        print(
            f"  {label:<22} {wall:6.3f}  {cpu:6.3f} / {low:6.3f}   {ratio:.2f}x ({low / base_low:.2f}x; "
            f"target {target}x: {verdict}; {cpu / floor_cpu:.2f}x the floor, "
            f"{cpu / paused_cpu:.2f}x the paused baseline)   {modules} modules"
        )
    print(
        "  a storefront's first claim on a new execution environment (import, then one claim through "
        "the handler: its clients, models and connections made, its email queued), beside the "
        "baseline's import, one GetItem and one SQS send (a claim's two clients, each called once):"
    )
    for label, (wall, cpu, low, modules) in ((FIRST_GET, first_get), (FIRST_CLAIM, first_claim)):
        print(
            f"  {label:<22} {wall:6.3f}  {cpu:6.3f} / {low:6.3f}   {cpu / first_get[1]:.2f}x "
            f"({low / first_get[2]:.2f}x)   {modules} modules"
        )
    print(
        "  the claim function behind a wrapper that imports it on the first request: its import "
        f"{deferred_import[1] / base_cpu:.2f}x the baseline, its first claim "
        f"{deferred_claim[1] / first_get[1]:.2f}x ({first_claim[1] / first_get[1]:.2f}x without the "
        "wrapper): an import target is met by moving work, a first claim only by doing less"
    )


def bench_layer_bytecode(stack: Any, function: str = "ClaimFunction") -> None:
    """One function imported Lambda-shaped (a Python with only boto3, the packaged layer for this
    machine as ``/opt/python``), from the layer with its bytecode and from a copy without it."""
    import shutil  # noqa: PLC0415
    import zipfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        subprocess.run(
            [sys.executable, "infra/package.py", "--out", str(base / "package"), "--for-this-machine"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=900,
        )
        with zipfile.ZipFile(base / "package" / "layer.zip") as layer:
            layer.extractall(base / "opt")
        with zipfile.ZipFile(base / "package" / f"{function}.zip") as code:
            code.extractall(base / "task")
        shutil.copytree(base / "opt", base / "opt-source-only", ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run([sys.executable, "-m", "venv", str(base / "runtime")], check=True, timeout=300)
        boto3 = next(
            line for line in (ROOT / "constraints.txt").read_text().splitlines() if line.startswith("boto3==")
        )
        subprocess.run(
            [str(base / "runtime" / "bin" / "pip"), "install", "--quiet", boto3], check=True, timeout=600
        )
        env = {
            **_lambda_env(function, stack),
            "LAMBDA_TASK_ROOT": str(base / "task"),
            "PYTHONDONTWRITEBYTECODE": "1",  # as on Lambda, whose /opt cannot be written
            "PYTHONNOUSERSITE": "1",
        }
        print(f"{function} imported Lambda-shaped, {RUNS} fresh processes (min / median s):")
        for label, opt in (
            ("layer with bytecode", base / "opt"),
            ("layer without", base / "opt-source-only"),
        ):
            found = []
            for _ in range(RUNS):
                done = subprocess.run(
                    [str(base / "runtime" / "bin" / "python"), "-c", MEASURE, "import app"],
                    cwd=base / "task",
                    env={**env, "PYTHONPATH": f"{base / 'task'}:{opt / 'python'}"},
                    capture_output=True,
                    text=True,
                    timeout=120,
                    check=True,
                )
                found.append(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])
            print(f"  {label:<22} {min(found):6.3f} / {statistics.median(found):6.3f}")
