"""`python -m local_stack`: run template.yaml locally on moto (see `--help`)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from local_stack import faults
from local_stack.stack import DEFAULT_STACK_NAME, LocalStack


def _parameter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected Key=Value, got {text!r}")
    return key, value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack",
        description="Provision template.yaml into an embedded moto and run its functions locally.",
    )
    parser.add_argument("--template", default="template.yaml", help="SAM template (default: %(default)s)")
    parser.add_argument(
        "--api-port", type=int, default=3000, help="gateway port, 0 = any free (default: %(default)s)"
    )
    parser.add_argument(
        "--moto-port", type=int, default=4566, help="moto port, 0 = any free (default: %(default)s)"
    )
    parser.add_argument(
        "--parameter",
        action="append",
        type=_parameter,
        default=[],
        metavar="Key=Value",
        help="override a template parameter (repeatable)",
    )
    parser.add_argument(
        "--stack-name", default=DEFAULT_STACK_NAME, help="prefix of physical names (default: %(default)s)"
    )
    parser.add_argument(
        "--max-concurrency", type=int, default=4, help="workers per function at most (default: %(default)s)"
    )
    parser.add_argument(
        "--retry-delay",
        type=float,
        default=1.0,
        help="seconds before a failed SQS record is visible again (default: %(default)s; SQS would wait the"
        " queue's VisibilityTimeout)",
    )
    parser.add_argument("--log-dir", help="also write each function's output to <dir>/<LogicalId>.log")
    parser.add_argument(
        "--ready-file", help="write a JSON {api_url, moto_url, merchant_id, api_key, resources} when up"
    )
    parser.add_argument(
        "--clock-offset", type=float, default=0.0, help="shift the scheduler's clock by N seconds"
    )
    chaos = parser.add_argument_group("fault injection (off by default; see local_stack/faults.py)")
    chaos.add_argument(
        "--faults",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of the functions' AWS calls that fail as AWS fails, 0..1 (e.g. 0.1)",
    )
    chaos.add_argument(
        "--fault-services",
        default="",
        metavar="LIST",
        help=f"only these services (comma-separated: {','.join(faults.SERVICES)})",
    )
    chaos.add_argument(
        "--fault-kinds",
        default="",
        metavar="LIST",
        help=f"only these faults (comma-separated: {','.join(faults.KINDS)})",
    )
    chaos.add_argument("--fault-seed", type=int, help="seed of the faults' random draws")
    chaos.add_argument(
        "--fault-log", help="append every injected fault as a JSON line (default: <log-dir>/faults.jsonl)"
    )
    parser.add_argument(
        "--no-iam",
        action="store_true",
        help="do not check the functions' AWS calls against their roles in the template",
    )
    parser.add_argument("--no-seed", action="store_true", help="do not create the demo merchant")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="debug logging of the local stack itself"
    )
    args = parser.parse_args(argv)
    try:
        args.fault_plan = fault_plan(args)
    except ValueError as error:
        parser.error(str(error))
    return args


def fault_plan(args: argparse.Namespace) -> faults.FaultPlan | None:
    """The fault plan the flags ask for; None when faults are off."""
    if not args.faults:
        return None
    log_path = args.fault_log or (str(Path(args.log_dir) / "faults.jsonl") if args.log_dir else None)
    return faults.FaultPlan(
        rate=args.faults,
        services=faults.parse_selection(args.fault_services, faults.SERVICES),
        kinds=faults.parse_selection(args.fault_kinds, faults.KINDS) or frozenset(faults.KINDS),
        seed=args.fault_seed,
        log_path=log_path,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="local_stack | %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.monotonic()
    stack = LocalStack(
        Path(args.template),
        api_port=args.api_port,
        moto_port=args.moto_port,
        stack_name=args.stack_name,
        parameters=dict(args.parameter),
        max_concurrency=args.max_concurrency,
        retry_delay=args.retry_delay,
        log_dir=args.log_dir,
        seed_demo_merchant=not args.no_seed,
        clock_offset=args.clock_offset,
        faults=args.fault_plan,
        enforce_iam=not args.no_iam,
    )
    try:
        stack.start()
        print(stack.banner(), flush=True)
        logging.getLogger("local_stack").info("up in %.1f s", time.monotonic() - started)
        if args.ready_file:
            stack.write_ready_file(args.ready_file)
        while not stop.wait(0.5):
            pass
    finally:
        print("local_stack | stopping", file=sys.stderr, flush=True)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
