"""The embedded local stack: moto + provisioning + workers + gateway + pollers + schedules."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import urlsplit

from local_stack import iam
from local_stack.async_invoke import AsyncInvoker, async_invoke_configs
from local_stack.console_site import ConsoleSite, html_of
from local_stack.dynamodb_process import DynamoDBProcess
from local_stack.faults import FaultPlan
from local_stack.gateway import Gateway, build_apis
from local_stack.moto_server import (
    TAPPED_SERVICE,
    MotoServer,
    aws_env,
    default_region,
    local_client,
    publish_to_topic,
)
from local_stack.pollers import SqsPoller, sqs_event_sources
from local_stack.provision import Provisioned, Provisioner, queue_url_from_arn
from local_stack.schedules import Clock, Scheduler, rate_schedules
from local_stack.ses_simulator import Engagement, SesSimulator
from local_stack.sms_simulator import SmsSimulator, log_subscriptions
from local_stack.template import ACCOUNT_ID, API_ID, Resolver, Template
from local_stack.workers import FunctionPool, FunctionSpec, InvocationResult, LogSink, stop_pools

CONSOLE_ROOT = Path(__file__).resolve().parents[2] / "console"  # the merchant console's files
OUTBOX_SHOWN = 200

log = logging.getLogger(__name__)

DEFAULT_STACK_NAME = "couponflow-local"
MERCHANT_TABLE = "CouponflowTable"
# Template parameters the local stack sets (when the template declares them) unless overridden:
# the fake email providers of tests and demos listen on http://127.0.0.1.
LOCAL_PARAMETERS = {"AllowPrivateProviderHosts": "true"}


# The bodies of the banner's "Try it" commands (an end-to-end test posts them as they are).
TRY_CAMPAIGN = {"name": "Spring sale", "subject": "Your coupon", "codes": ["SPRING-001", "SPRING-002"]}
TRY_CODES = {"codes": ["SPRING-003", "SPRING-004"]}
TRY_CLAIM = {"email": "success@simulator.amazonses.com"}


def _forget_core_clients() -> None:
    """Clear the core package's cached boto3 clients in this process (seeding runs it here)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("couponflow.adapters."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


class LocalStack:
    """Run a SAM template locally. Use as a context manager, or call start() / stop().

    Attributes once started: ``api_url`` (stage base URL), ``moto_url``, ``dynamodb_url`` (DynamoDB's
    own moto process, see ``dynamodb_process.py``; ``moto_url`` forwards to it), ``merchant_id``,
    ``api_key`` (None if the demo merchant could not be seeded), ``resources`` (logical id ->
    physical id), ``simulator`` (the SES mailbox simulator), ``sms_simulator`` (SNS's SMS
    delivery status logs), ``clock`` (shift ``clock.offset`` to make schedules due).
    """

    def __init__(
        self,
        template_path: str | Path = "template.yaml",
        *,
        api_port: int = 0,
        moto_port: int = 0,
        stack_name: str = DEFAULT_STACK_NAME,
        parameters: dict[str, str] | None = None,
        max_concurrency: int = 4,
        retry_delay: float = 1.0,
        log_dir: str | Path | None = None,
        log_stream: TextIO | None = sys.stdout,
        seed_demo_merchant: bool = True,
        merchant_table: str = MERCHANT_TABLE,
        seed: Callable[[str], tuple[str, str]] | None = None,
        clock_offset: float = 0.0,
        region: str | None = None,
        faults: FaultPlan | None = None,
        environment: dict[str, str] | None = None,
        enforce_iam: bool = True,
        dynamodb_process: bool = True,
    ) -> None:
        self.template_path = Path(template_path)
        self.api_port = api_port
        self.moto_port = moto_port
        self.stack_name = stack_name
        self.parameters = dict(parameters or {})
        self.max_concurrency = max_concurrency
        self.retry_delay = retry_delay
        self.seed_demo_merchant = seed_demo_merchant
        self.merchant_table = merchant_table
        self.seed = seed
        self.region = region or default_region()
        self.clock = Clock(clock_offset)
        self.faults = faults
        # variables set on every function over the template's (drills shorten grace periods)
        self.environment = dict(environment or {})
        # each function's AWS calls are checked against its role in the template (local_stack/iam.py)
        self.enforce_iam = enforce_iam
        # DynamoDB served by a moto in a process of its own (dynamodb_process.py); off, by this
        # process's moto (whose tables an in-process reader, like the bench's meter, can see)
        self.dynamodb_process = DynamoDBProcess() if dynamodb_process else None
        self.sink = LogSink(log_stream, log_dir)
        self.merchant_id: str | None = None
        self.api_key: str | None = None
        self.resources: dict[str, str] = {}
        self.provisioned: Provisioned | None = None
        self.pools: dict[str, FunctionPool] = {}
        self.function_names: dict[str, str] = {}
        self.simulator: SesSimulator | None = None
        self.sms_simulator: SmsSimulator | None = None
        self.moto: MotoServer | None = None
        self.gateway: Gateway | None = None
        self._pollers: list[SqsPoller] = []
        self._scheduler: Scheduler | None = None
        self._started = False

    # -- public ---------------------------------------------------------------------------------

    @property
    def moto_url(self) -> str:
        assert self.moto is not None, "not started"
        return self.moto.url

    @property
    def dynamodb_url(self) -> str:
        """Where the functions reach DynamoDB: its own process, or this process's moto."""
        return self.dynamodb_process.url if self.dynamodb_process is not None else self.moto_url

    @property
    def api_url(self) -> str:
        assert self.gateway is not None, "not started"
        return self.gateway.stage_url()

    def client(self, service: str) -> Any:
        """A boto3 client for the local moto (DynamoDB's straight to its process)."""
        return local_client(
            service, self.dynamodb_url if service == "dynamodb" else self.moto_url, self.region
        )

    def invoke(self, function: str, event: Any) -> InvocationResult:
        """Invoke a function by logical id (or physical name), synchronously."""
        logical_id = function if function in self.pools else self.function_names.get(function, function)
        return self.pools[logical_id].invoke(event)

    def simulate_engagement(
        self, ses_message_id: str, recipient: str, kind: Engagement, link: str | None = None
    ) -> bool:
        assert self.simulator is not None, "not started"
        return self.simulator.engagement(ses_message_id, recipient, kind, link)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- start ----------------------------------------------------------------------------------

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._started = True
        if self.dynamodb_process is not None:
            self.dynamodb_process.start()  # it starts while this process reads the template
        self.gateway = Gateway(self.api_port, self.region)
        template = Template.load(self.template_path)
        parameters = {k: v for k, v in LOCAL_PARAMETERS.items() if k in template.parameters}
        parameters.update(self.parameters)
        execute_api = re.compile(
            r"https://" + re.escape(API_ID) + r"\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?"
        )
        base_url = self.gateway.base_url
        resolver = Resolver(
            template,
            parameter_overrides=parameters,
            region=self.region,
            account_id=ACCOUNT_ID,
            stack_name=self.stack_name,
            string_hook=lambda text: execute_api.sub(base_url, text),
        )
        dynamodb_url = self.dynamodb_process.wait_ready() if self.dynamodb_process is not None else None
        self.moto = MotoServer(self.moto_port, tap=self._tap, dynamodb_url=dynamodb_url)
        self.moto.start()
        self.provisioned = Provisioner(template, resolver, self.moto_url, self.region).provision()
        self.resources = dict(self.provisioned.physical)
        for lid in self.provisioned.skipped:
            log.debug("skipped %s (%s): no local meaning", lid, self.provisioned.skipped[lid])

        specs = self._function_specs(template, self.provisioned)
        for spec in specs:
            pool = FunctionPool(spec, self.sink, self.max_concurrency)
            pool.start()
            self.pools[spec.logical_id] = pool
            self.function_names[spec.name] = spec.logical_id

        if self.seed_demo_merchant:
            self._seed()

        self.simulator = SesSimulator(
            publish=publish_to_topic,
            configuration_sets=self.provisioned.configuration_sets,
            region=self.region,
            render_subject=self._render_subject,
        )
        self.simulator.start()

        waits = [threading.Thread(target=pool.wait_ready) for pool in self.pools.values()]
        for thread in waits:
            thread.start()
        for thread in waits:
            thread.join()
        for pool in self.pools.values():
            for worker in pool._workers:
                if worker.init_error:
                    log.error(
                        "%s failed to init: %s", pool.spec.logical_id, worker.init_error["errorMessage"]
                    )

        arns = {spec.arn: spec.logical_id for spec in specs}
        self._start_sms_simulator(sqs=self.client("sqs"), function_arns={v: k for k, v in arns.items()})
        self.gateway.configure(build_apis(self.provisioned.resolved, arns), self.invoke)
        self.gateway.on_request = self._link_followed
        stage = urlsplit(self.gateway.stage_url()).path or "/"
        self.gateway.site = ConsoleSite(CONSOLE_ROOT, stage, self._outbox, self._email_body)
        self.gateway.start()

        sqs = self.client("sqs")
        for source in sqs_event_sources(self.provisioned.resolved):
            if not source.enabled:
                continue
            poller = SqsPoller(
                source,
                self.invoke,
                sqs_client=self.client("sqs"),
                endpoint_url=self.moto_url,
                region=self.region,
                retry_delay=self.retry_delay,
            )
            poller.start()
            self._pollers.append(poller)
        invoker = AsyncInvoker(
            self.invoke,
            configs=async_invoke_configs(self.provisioned.resolved),
            function_arns={v: k for k, v in arns.items()},
            send_to_queue=lambda arn, body: sqs.send_message(
                QueueUrl=queue_url_from_arn(arn, self.moto_url), MessageBody=body
            ),
            retry_delay=self.retry_delay,
            what="a scheduled event",
        )
        self._scheduler = Scheduler(
            invoke=self.invoke,
            invoke_async=invoker,
            function_arns=arns,
            rates=rate_schedules(self.provisioned.resolved),
            scheduler_client=self.client("scheduler"),
            sqs_client=sqs,
            endpoint_url=self.moto_url,
            region=self.region,
            account_id=ACCOUNT_ID,
            clock=self.clock,
        )
        self._scheduler.start()

    def _function_specs(self, template: Template, provisioned: Provisioned) -> list[FunctionSpec]:
        specs = []
        for lid, res in provisioned.of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            runtime = str(props.get("Runtime", ""))
            if runtime and not runtime.startswith("python"):
                log.warning("skipping %s: runtime %s is not Python", lid, runtime)
                continue
            code_uri = props.get("CodeUri")
            if not isinstance(code_uri, str):
                log.warning("skipping %s: CodeUri %r is not a local directory", lid, code_uri)
                continue
            name = provisioned.physical[lid]
            memory = int(props.get("MemorySize", 128))
            variables = {
                k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()
            }
            environment = {
                **aws_env(self.moto_url, self.region, self.dynamodb_url),
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime or 'python3.12'}",
                "LAMBDA_TASK_ROOT": str((template.directory / code_uri).resolve()),
                "_HANDLER": str(props["Handler"]),
                "TZ": ":UTC",
                # There is no X-Ray daemon locally (what `sam local` does too); the template wins.
                "POWERTOOLS_TRACE_DISABLED": "true",
                **variables,
                **self.environment,
            }
            specs.append(
                FunctionSpec(
                    logical_id=lid,
                    name=name,
                    code_dir=str((template.directory / code_uri).resolve()),
                    handler=str(props["Handler"]),
                    timeout=float(props.get("Timeout", 3)),
                    memory_mb=memory,
                    environment=environment,
                    region=self.region,
                    account_id=ACCOUNT_ID,
                    faults=self.faults.as_dict() if self.faults else None,
                    role=iam.role_of(lid, props, account_id=ACCOUNT_ID).as_dict()
                    if self.enforce_iam
                    else None,
                )
            )
        return specs

    def _start_sms_simulator(self, *, sqs: Any, function_arns: dict[str, str]) -> None:
        """SNS's SMS delivery status logs, to the functions the template subscribes to them."""
        assert self.provisioned is not None and self.moto is not None
        logs = self.client("logs")
        streams: set[tuple[str, str]] = set()

        def write_log(group: str, stream: str, events: list[dict[str, Any]]) -> None:
            if (group, stream) not in streams:  # SNS creates its groups and streams itself
                for create, kwargs in (
                    (logs.create_log_group, {"logGroupName": group}),
                    (logs.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
                ):
                    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                        create(**kwargs)
                streams.add((group, stream))
            logs.put_log_events(
                logGroupName=group,
                logStreamName=stream,
                logEvents=[{"timestamp": e["timestamp"], "message": e["message"]} for e in events],
            )

        moto_url = self.moto_url
        self.sms_simulator = SmsSimulator(
            self.invoke,
            subscriptions=log_subscriptions(self.provisioned.resolved),
            invoke_configs=async_invoke_configs(self.provisioned.resolved),
            function_arns=function_arns,
            send_to_queue=lambda arn, body: sqs.send_message(
                QueueUrl=queue_url_from_arn(arn, moto_url), MessageBody=body
            ),
            write_log=write_log,
            region=self.region,
            account_id=ACCOUNT_ID,
            retry_delay=self.retry_delay,
        )
        self.sms_simulator.start()

    def _link_followed(self, method: str, raw_path: str) -> None:
        """A GET of a link from an email the SES simulator saw publishes its Open and Click."""
        if method == "GET" and self.simulator is not None:
            self.simulator.link_followed(urlsplit(raw_path).path)

    def _tap(self, environ: dict[str, Any], *args: Any) -> None:
        if environ.get(TAPPED_SERVICE) == "sns":
            if self.sms_simulator is not None:
                self.sms_simulator.tap(environ, *args)
        elif self.simulator is not None:
            self.simulator.tap(environ, *args)

    def _outbox(self) -> list[dict[str, Any]]:
        """What the local SES and SNS accepted, newest first (the console's outbox)."""
        items: list[dict[str, Any]] = []
        if self.simulator is not None:
            for m in list(self.simulator.messages.values()):
                items.append(
                    {
                        "id": m.message_id,
                        "channel": "email",
                        "to": ", ".join(m.to),
                        "subject": m.subject,
                        "at": datetime.fromtimestamp(m.timestamp, UTC).isoformat(),
                        "has_body": bool(m.raw or m.template),
                    }
                )
        if self.sms_simulator is not None:
            for t in list(self.sms_simulator.texts.values()):
                items.append(
                    {
                        "id": t.message_id,
                        "channel": "sms",
                        "to": t.phone,
                        "text": t.message,
                        "at": datetime.fromtimestamp(t.timestamp, UTC).isoformat(),
                        "has_body": False,
                    }
                )
        return sorted(items, key=lambda i: i["at"], reverse=True)[:OUTBOX_SHOWN]

    def _email_body(self, message_id: str) -> bytes | None:
        message = self.simulator.messages.get(message_id) if self.simulator is not None else None
        if message is None:
            return None
        if message.raw:
            return html_of(message.raw)
        if message.template:
            name, data = message.template
            parts = self.client("ses").get_template(TemplateName=name)["Template"]
            values = json.loads(data or "{}")
            html = str(parts.get("HtmlPart") or parts.get("TextPart") or "")
            return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(values.get(m.group(1), "")), html).encode()
        return None

    def _render_subject(self, template_name: str, data: str) -> str:
        subject = str(self.client("ses").get_template(TemplateName=template_name)["Template"]["SubjectPart"])
        values = json.loads(data or "{}")
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(values.get(m.group(1), "")), subject)

    def _seed(self) -> None:
        table = self.resources.get(self.merchant_table)
        if table is None:
            log.warning("no %s in the template: demo merchant not seeded", self.merchant_table)
            return
        env = aws_env(self.moto_url, self.region, self.dynamodb_url)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        _forget_core_clients()  # a cached client of an earlier stack in this process points elsewhere
        try:
            seed = self.seed
            if seed is None:
                from couponflow.services.merchants import create_demo_merchant  # noqa: PLC0415

                seed = create_demo_merchant
            self.merchant_id, self.api_key = seed(table)
        finally:
            _forget_core_clients()  # and this stack's must not outlive it in this process
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    # -- stop -----------------------------------------------------------------------------------

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        for poller in self._pollers:
            poller.stop()
        if self._scheduler is not None:
            self._scheduler.stop()
        if self.gateway is not None:
            self.gateway.stop()
        for poller in self._pollers:
            poller.join()
        if self.sms_simulator is not None:
            self.sms_simulator.stop()
        stop_pools(list(self.pools.values()))
        if self.simulator is not None:
            self.simulator.stop()
        if self.moto is not None:
            try:
                self.moto.reset()
            except OSError as exc:
                log.debug("moto reset failed: %s", exc)
            self.moto.stop()
        if self.dynamodb_process is not None:
            self.dynamodb_process.stop()
        self.sink.close()

    def set_faults(self, on: bool) -> None:
        """Turn the fault plan's injection on or off (it needs a ``switch_path``)."""
        assert self.faults is not None and self.faults.switch_path, "no switchable fault plan"
        switch = Path(self.faults.switch_path)
        if on:
            switch.touch()
        else:
            switch.unlink(missing_ok=True)

    # -- reporting ------------------------------------------------------------------------------

    def ready_info(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "moto_url": self.moto_url,
            "dynamodb_url": self.dynamodb_url,
            "merchant_id": self.merchant_id,
            "api_key": self.api_key,
            "resources": self.resources,
        }

    def write_ready_file(self, path: str | Path) -> None:
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(self.ready_info(), indent=2))
        tmp.replace(target)

    @property
    def console_url(self) -> str:
        assert self.gateway is not None, "not started"
        return f"{self.gateway.base_url}/console/"

    def banner(self) -> str:
        api = self.api_url
        key = self.api_key or "<api-key>"
        merchant = self.merchant_id or "<merchant-id>"
        assert self.provisioned is not None
        kinds = {
            "AWS::DynamoDB::Table": "table",
            "AWS::SQS::Queue": "queue",
            "AWS::SNS::Topic": "topic",
            "AWS::SES::ConfigurationSet": "SES configuration set",
            "AWS::S3::Bucket": "bucket",
        }
        lines = [
            "",
            "Couponflow local stack is up",
            f"  console     {self.console_url}   (sign in with the API key below)",
            f"  API key     {key}",
            f"  API         {api}   (Swagger UI: {api}/docs)",
            f"  moto        {self.moto_url}   (AWS_ENDPOINT_URL={self.moto_url} AWS_ACCESS_KEY_ID=testing"
            f" AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={self.region})",
            *(
                [f"  DynamoDB    {self.dynamodb_url}   (its own process; {self.moto_url} forwards to it)"]
                if self.dynamodb_process is not None
                else []
            ),
        ]
        for lid, res in self.provisioned.resolved.items():
            if res["Type"] in kinds:
                physical = self.resources[lid].rsplit("/", 1)[-1]
                lines.append(f"  {kinds[res['Type']]:<11} {lid}: {physical}")
        lines += [
            f"  functions   {', '.join(self.pools)}",
            "  IAM         each function's calls checked against its role in the template"
            if self.enforce_iam
            else "  IAM         not checked (--no-iam)",
            *(
                [
                    f"  faults      {self.faults.rate:.0%} of the functions' AWS calls fail"
                    + (f" (log: {self.faults.log_path})" if self.faults.log_path else "")
                ]
                if self.faults
                else []
            ),
            f"  merchant    {merchant}",
            "",
            "Try it:",
            f"  curl -s -X POST {api}/campaigns -H 'Authorization: Bearer {key}' "
            f"-H 'Content-Type: application/json' -d '{json.dumps(TRY_CAMPAIGN)}'",
            f"  curl -s -X POST {api}/campaigns/<campaignId>/codes -H 'Authorization: Bearer {key}' "
            f"-H 'Content-Type: application/json' -d '{json.dumps(TRY_CODES)}'",
            f"  curl -s -X POST {api}/public/merchants/{merchant}/campaigns/<campaignId>/claims "
            f"-H 'Content-Type: application/json' -d '{json.dumps(TRY_CLAIM)}'",
            f"  curl -s {api}/customers/<customerId> -H 'Authorization: Bearer {key}'",
            "",
            "Ctrl-C stops everything.",
            "",
        ]
        return "\n".join(lines)
