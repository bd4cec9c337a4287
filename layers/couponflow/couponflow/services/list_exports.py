"""The list views as CSV: the customers tab, a campaign's customers and a send's recipients.

An export walks the list view's own pages (the same keys, indexes and filters) and writes each
row's fields as columns, up to ``INLINE_ROWS`` rows in one answer; a longer list ends with the
cursor to go on from (``next``), so a script fetches the rest the same way. A list of any length
is an export job instead (``services/export_jobs.py``), written a part at a time (``part``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel

from couponflow.adapters.dynamodb import Table
from couponflow.domain.list_views import CampaignRowStatus
from couponflow.domain.send_tracker import TrackerStatus
from couponflow.models.views import CampaignCustomerRow, CustomerRow, RecipientRow
from couponflow.services import lists

INLINE_ROWS = 5000
PAGE_ROWS = 200


class Page(Protocol):
    """A list view's page: its rows (pydantic models) and the cursor of the next one."""

    @property
    def items(self) -> Sequence[BaseModel]: ...

    @property
    def next(self) -> str | None: ...


@dataclass(frozen=True)
class Source:
    """A list view to export: its pages (``page(limit, after)``), its columns, a file name."""

    page: Callable[[int, str | None], Page]
    columns: list[str]
    name: str


class View(StrEnum):
    CUSTOMERS = "customers"
    CAMPAIGN_CUSTOMERS = "campaign_customers"
    SEND_RECIPIENTS = "send_recipients"


def source(table: Table, merchant_id: str, view: View, filters: Mapping[str, str | None]) -> Source:
    """The list view ``view`` with its ``filters`` (as its route takes them) as an export source."""
    status = filters.get("status")
    if view is View.CUSTOMERS:
        q = filters.get("q")
        return Source(
            lambda limit, after: lists.customers(
                table, merchant_id, status=status, q=q, limit=limit, after=after
            ),
            columns_of(CustomerRow),
            "customers",
        )
    if view is View.CAMPAIGN_CUSTOMERS:
        campaign_id, row_status = str(filters["campaign_id"]), CampaignRowStatus(status) if status else None
        return Source(
            lambda limit, after: lists.campaign_customers(
                table, merchant_id, campaign_id, status=row_status, limit=limit, after=after
            ),
            columns_of(CampaignCustomerRow),
            f"{campaign_id}-customers",
        )
    send_id, tracker = str(filters["send_id"]), TrackerStatus(status) if status else None
    return Source(
        lambda limit, after: lists.recipients(
            table, merchant_id, send_id, status=tracker, limit=limit, after=after
        ),
        columns_of(RecipientRow),
        f"{send_id}-recipients",
    )


@dataclass(frozen=True)
class Export:
    text: str
    rows: int
    next: str | None  # where the list goes on, when it held more than ``INLINE_ROWS``


def export(source: Source, *, after: str | None = None) -> Export:
    """The rows of ``source`` from ``after`` on, as CSV with its header, up to ``INLINE_ROWS``."""
    return _written(source, after, header=True, row_cap=INLINE_ROWS)


def part(source: Source, *, after: str | None, header: bool, min_bytes: int) -> Export:
    """The rows of ``source`` from ``after`` on, as CSV, until at least ``min_bytes`` bytes are
    written or the list ends (``next`` None): one part of an export job's file."""
    return _written(source, after, header=header, min_bytes=min_bytes)


def _written(
    source: Source,
    after: str | None,
    *,
    header: bool,
    row_cap: int | None = None,
    min_bytes: int | None = None,
) -> Export:
    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text, lineterminator="\r\n")
    if header:
        writer.writerow(source.columns)
    rows, cursor = 0, after
    while True:
        found = source.page(PAGE_ROWS if row_cap is None else min(PAGE_ROWS, row_cap - rows), cursor)
        for item in found.items:
            shown = item.model_dump(mode="json")
            writer.writerow([_cell(shown.get(name)) for name in source.columns])
        rows += len(found.items)
        cursor = found.next
        capped = row_cap is not None and rows >= row_cap
        if cursor is None or capped or (min_bytes is not None and out.tell() >= min_bytes):
            return Export(out.getvalue().decode("utf-8"), rows, cursor)


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
