"""Customer files, the pure part: reading a CSV or JSON Lines upload chunk by chunk into rows.

A file is read in byte ranges (chunks) cut at a line end, so an import can stop after any chunk
and resume from the recorded offset. A CSV chunk is cut only at a line end outside quotes, so a
quoted field may hold a line break. A CSV file starts with a header row naming its columns
(known names only, any order); a JSON Lines file holds one JSON object per line with the same
names as keys. Rows come out as plain mappings of column to raw value with their line number;
checking the values is the caller's (the same model as a single customer's create).

What makes the whole file unusable (no header, an unknown column in the header, a JSON array, an
unclosed quote, a line longer than a chunk) raises :class:`FileRejected`; what is wrong with one
row only makes that row invalid.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

COLUMNS = (
    "email",
    "phone",
    "first_name",
    "last_name",
    "name",
    "tags",
    "last_interaction_at",
    "marketing_consent",
)
FORMATS = {"csv": "text/csv", "json": "application/x-ndjson"}  # format -> upload Content-Type
EXTENSIONS = {"csv": "csv", "json": "jsonl"}
MAX_IMPORT_BYTES = 200 * 1024 * 1024
MAX_INVALID_SHOWN = 20


class FileRejected(ValueError):
    """The file cannot be imported at all; the message says why (the job fails with it)."""


@dataclass(frozen=True)
class RawRow:
    line: int  # line number in the file (the header is line 1 of a CSV file)
    values: Mapping[str, Any]


@dataclass(frozen=True)
class InvalidRow:
    line: int
    reason: str
    field: str | None = None

    def shown(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason, **({"field": self.field} if self.field else {})}


@dataclass(frozen=True)
class Chunk:
    rows: list[RawRow]
    invalid: list[InvalidRow]
    consumed: int  # bytes of the buffer used (up to and including its last complete line)
    lines: int  # lines in those bytes
    columns: list[str] | None = field(default=None)  # a CSV file's header, once read


def _cut(buffer: bytes, *, at_file_end: bool, quoted: bool, first_line: int) -> int:
    """Bytes up to the last line end (outside quotes for CSV); all of it at the end of the file."""
    if at_file_end:
        return len(buffer)
    end = -1
    if not quoted:
        end = buffer.rfind(b"\n")
    else:  # a line end counts when the quotes before it are balanced (an escaped "" is two)
        inside, position = False, -1
        for piece in buffer.split(b"\n")[:-1]:
            position += len(piece) + 1
            inside ^= piece.count(b'"') % 2 == 1
            if not inside:
                end = position
    if end < 0:
        problem = "a quoted field is not closed, or the line" if quoted else "the line"
        raise FileRejected(f"line {first_line}: {problem} is longer than a chunk of {len(buffer)} bytes")
    return end + 1


def _header(raw: list[str]) -> list[str]:
    columns = [c.strip().lstrip("\ufeff").strip().lower().replace(" ", "_") for c in raw]
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise FileRejected(
            f"unknown column '{unknown[0]}' in the header row; the columns are {', '.join(COLUMNS)}"
        )
    if len(set(columns)) != len(columns):
        raise FileRejected("the header row names a column twice")
    if "email" not in columns and "phone" not in columns:
        raise FileRejected("the header row needs an email or a phone column (a header row is required)")
    return columns


def read_csv_chunk(buffer: bytes, *, columns: list[str] | None, first_line: int, at_file_end: bool) -> Chunk:
    """The rows of ``buffer``; ``columns`` None means the header row is still to come."""
    consumed = _cut(buffer, at_file_end=at_file_end, quoted=True, first_line=first_line)
    text = buffer[:consumed].decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[RawRow] = []
    invalid: list[InvalidRow] = []
    before = 0
    for values in reader:
        line = first_line + before
        before = reader.line_num
        if not any(v.strip() for v in values):
            continue  # a blank line
        if columns is None:
            columns = _header(values)
            continue
        if len(values) != len(columns):
            reason = f"the row has {len(values)} values but the header has {len(columns)} columns"
            invalid.append(InvalidRow(line, reason))
            continue
        rows.append(RawRow(line, dict(zip(columns, values, strict=True))))
    if columns is None and at_file_end:
        raise FileRejected("the file is empty: a header row and at least one row are expected")
    return Chunk(rows, invalid, consumed, buffer[:consumed].count(b"\n"), columns)


def read_jsonl_chunk(buffer: bytes, *, first_line: int, at_file_start: bool, at_file_end: bool) -> Chunk:
    """The objects of ``buffer``, one per line; a line that is not a JSON object is an invalid row."""
    if at_file_start and buffer.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        raise FileRejected("the file is a JSON array: upload JSON Lines (one customer object per line)")
    consumed = _cut(buffer, at_file_end=at_file_end, quoted=False, first_line=first_line)
    rows: list[RawRow] = []
    invalid: list[InvalidRow] = []
    for n, raw in enumerate(buffer[:consumed].split(b"\n")):
        line = first_line + n
        text = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
        if not text:
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            invalid.append(InvalidRow(line, f"not valid JSON: {error.msg} at column {error.colno}"))
            continue
        if not isinstance(value, dict):
            invalid.append(InvalidRow(line, "not a JSON object"))
            continue
        unknown = [k for k in value if k not in COLUMNS]
        if unknown:
            invalid.append(InvalidRow(line, f"unknown column '{unknown[0]}'", unknown[0]))
            continue
        rows.append(RawRow(line, value))
    return Chunk(rows, invalid, consumed, buffer[:consumed].count(b"\n"))
