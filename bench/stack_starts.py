"""How long ``make run``'s local stack takes to be ready: on its own, and with a CPU-heavy
process beside it (issue 13's targets: under 10 s idle, under 30 s loaded). Ready means the
ready file is written: tables, queues, topic, bucket and schedules made in moto, every function's
first worker up, the gateway listening."""

from __future__ import annotations

import multiprocessing
import time
from statistics import median

from bench.claims import local_stack


def _busy(stop_at: float) -> None:
    while time.monotonic() < stop_at:
        sum(i * i for i in range(10_000))


def _ready_seconds() -> float:
    started = time.monotonic()
    with local_stack():
        return time.monotonic() - started


def bench_stack_starts(runs: int) -> None:
    idle = [_ready_seconds() for _ in range(runs)]
    loaded = []
    for _ in range(runs):
        hog = multiprocessing.Process(target=_busy, args=(time.monotonic() + 120,), daemon=True)
        hog.start()
        try:
            loaded.append(_ready_seconds())
        finally:
            hog.terminate()
            hog.join()
    print(f"local stack ready (python -m local_stack, {runs} starts each; min / median s):")
    print(f"  on its own              {min(idle):6.1f} / {median(idle):6.1f}   (target under 10 s)")
    print(f"  beside a CPU-heavy one  {min(loaded):6.1f} / {median(loaded):6.1f}   (target under 30 s)")
