"""The collector pauses while a handler module loads and keeps what it built out of later passes
(``couponflow/cold_start.py``). Each case runs in a fresh process: the collector is the process's."""

from __future__ import annotations

import json
import subprocess
import sys


def _in_fresh_process(code: str) -> dict[str, object]:
    command = [sys.executable, "-c", code]
    ran = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert ran.returncode == 0, ran.stderr
    found: dict[str, object] = json.loads(ran.stdout.splitlines()[-1])
    return found


def test_the_collector_pauses_on_import_and_resumes_with_what_was_built_frozen() -> None:
    found = _in_fresh_process(
        "import gc, json\n"
        "import couponflow.cold_start\n"
        "paused = not gc.isenabled()\n"
        "built = [[object()] for _ in range(5000)]  # what a handler module's imports would build\n"
        "couponflow.cold_start.finished()\n"
        "print(json.dumps({'paused': paused, 'on': gc.isenabled(), 'frozen': gc.get_freeze_count()}))"
    )

    assert found["paused"] is True
    assert found["on"] is True
    assert isinstance(found["frozen"], int) and found["frozen"] > 5000


def test_a_second_finish_and_a_second_handler_import_change_nothing() -> None:
    # Given a cold start finished, as when the tests load a handler module again
    found = _in_fresh_process(
        "import gc, importlib, json\n"
        "import couponflow.cold_start\n"
        "couponflow.cold_start.finished()\n"
        "frozen = gc.get_freeze_count()\n"
        "importlib.import_module('couponflow.cold_start')  # from the cache: nothing paused\n"
        "still_on = gc.isenabled()\n"
        "later = [[object()] for _ in range(5000)]  # a request's objects\n"
        "couponflow.cold_start.finished()\n"
        "more = gc.get_freeze_count() - frozen\n"
        "print(json.dumps({'still_on': still_on, 'on': gc.isenabled(), 'more': more}))"
    )

    assert found == {"still_on": True, "on": True, "more": 0}  # a request's objects are collected as ever


def test_a_collector_switched_off_before_the_cold_start_stays_off() -> None:
    found = _in_fresh_process(
        "import gc, json\n"
        "gc.disable()\n"
        "import couponflow.cold_start\n"
        "couponflow.cold_start.finished()\n"
        "print(json.dumps({'on': gc.isenabled(), 'frozen': gc.get_freeze_count()}))"
    )

    assert found == {"on": False, "frozen": 0}


def test_no_core_module_imports_the_pause_so_nothing_but_a_handler_module_pauses_the_collector() -> None:
    # The bench, the tests and the local stack import the core without a handler module's
    # ``finished()``: had a core module imported ``cold_start``, their collector would stay off.
    found = _in_fresh_process(
        "import gc, importlib, json, pkgutil, sys\n"
        "import couponflow\n"
        "names = [m.name for m in pkgutil.walk_packages(couponflow.__path__, 'couponflow.')]\n"
        "for name in names:\n"
        "    if name != 'couponflow.cold_start': importlib.import_module(name)\n"
        "paused = 'couponflow.cold_start' in sys.modules\n"
        "print(json.dumps({'on': gc.isenabled(), 'paused': paused, 'modules': len(names)}))"
    )

    assert found["on"] is True and found["paused"] is False
    assert isinstance(found["modules"], int) and found["modules"] > 100
