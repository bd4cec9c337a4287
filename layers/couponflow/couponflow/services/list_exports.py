"""The list views as CSV: the customers tab, a campaign's customers and a send's recipients.

An export walks the list view's own pages (the same keys, indexes and filters) and writes each
row's fields as columns, up to ``INLINE_ROWS`` rows in one answer; a longer list ends with the
cursor to go on from (``next``), so a script fetches the rest the same way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

INLINE_ROWS = 5000
PAGE_ROWS = 200


class Page(Protocol):
    """A list view's page: its rows (pydantic models) and the cursor of the next one."""

    @property
    def items(self) -> Sequence[BaseModel]: ...

    @property
    def next(self) -> str | None: ...


@dataclass(frozen=True)
class Export:
    text: str
    rows: int
    next: str | None  # where the list goes on, when it held more than ``INLINE_ROWS``


def export(
    page: Callable[[int, str | None], Page], columns: list[str], *, after: str | None = None
) -> Export:
    """The rows of the pages ``page(limit, after)`` gives, from ``after`` on, as CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    rows, cursor = 0, after
    while rows < INLINE_ROWS:
        found = page(min(PAGE_ROWS, INLINE_ROWS - rows), cursor)
        for item in found.items:
            shown = item.model_dump(mode="json")
            writer.writerow([_cell(shown.get(name)) for name in columns])
        rows += len(found.items)
        cursor = found.next
        if cursor is None:
            break
    return Export(out.getvalue(), rows, cursor)


def columns_of(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)
