"""A function's cold start without the garbage collector's passes over what its imports build.

Importing a handler module builds about 95,000 objects that live as long as the execution
environment: modules, classes, functions, pydantic's schemas and validators, botocore's service
models. CPython's cyclic collector runs a pass every 700 net allocations, and each pass walks
the objects of its generation: during one import, about 130 young passes, a dozen middle ones
and a full one, 30 to 45 ms of a 0.25 s import on the bench's machine, spent finding that
almost nothing built at import is garbage (about 700 objects of the 95,000).

So every handler module imports this module first, which pauses the collector, and calls
``finished()`` last, which moves everything the cold start built into the collector's permanent
generation (``gc.freeze``), never walked again, and resumes collecting: what requests allocate
is collected as before. The few hundred unreachable objects of the import are kept for the
environment's life instead of being found (a full pass to find them costs as much again), a few
hundred kilobytes at most. Nothing is moved to the first request: a request's passes walk only
what was allocated after the freeze.

A process that imports a handler module a second time (the tests reload them) imports this
module from its cache, so nothing is paused again, and ``finished()`` does nothing. Only handler
modules import it: a core module that did would pause the collector of whatever imported it
(a test checks that none does).

Routers loaded on a first request (``api/on_first_request.py``) load with the collector on. A
pause there cannot end in a freeze (the request's own objects are among what it allocated), and
without one it only moves the passes: measured, the merchant API's `/campaigns` routers cost
the same CPU paused or not once the request goes on allocating.
"""

from __future__ import annotations

import gc

_paused = gc.isenabled()
gc.disable()


def finished() -> None:
    """The handler module is loaded: keep what it built out of every later pass, and collect
    again from here on."""
    global _paused  # noqa: PLW0603 - one flag per process, as the collector's state is
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
