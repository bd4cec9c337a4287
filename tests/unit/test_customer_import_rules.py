"""Reading customer files chunk by chunk (pure): where a chunk may end, the header, line numbers,
JSON Lines, and what rejects a whole file."""

from __future__ import annotations

import pytest
from couponflow.domain.customer_import import FileRejected, read_csv_chunk, read_jsonl_chunk


def _read_all(data: bytes, size: int) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """The whole file read in chunks of ``size`` bytes, as the import job does."""
    rows, invalid, offset, columns, lines = [], [], 0, None, 0
    while True:
        buffer = data[offset : offset + size]
        at_end = offset + len(buffer) >= len(data)
        chunk = read_csv_chunk(buffer, columns=columns, first_line=lines + 1, at_file_end=at_end)
        rows += [(r.line, dict(r.values)) for r in chunk.rows]
        invalid += [(r.line, r.reason) for r in chunk.invalid]
        offset, columns, lines = offset + chunk.consumed, chunk.columns, lines + chunk.lines
        if at_end:
            return rows, invalid


CSV = (
    b"Email,First Name,tags\r\n"
    b'a@example.com,"Ann, the ""first""",x;y\r\n'
    b"\r\n"
    b'b@example.com,"Bob\non two lines",z\r\n'
    b"c@example.com,Cy\r\n"
)


@pytest.mark.parametrize("size", [45, 50, 64, 1024])  # the longest row is 42 bytes
def test_chunks_end_only_at_line_ends_outside_quotes_and_lines_are_numbered_across_chunks(size):
    rows, invalid = _read_all(CSV, size)

    assert rows == [
        (2, {"email": "a@example.com", "first_name": 'Ann, the "first"', "tags": "x;y"}),
        (4, {"email": "b@example.com", "first_name": "Bob\non two lines", "tags": "z"}),
    ]
    assert invalid == [(6, "the row has 2 values but the header has 3 columns")]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"email,shoe_size\n", "unknown column 'shoe_size'"),
        (b"email,email\n", "names a column twice"),
        (b"name,tags\n", "needs an email or a phone column"),
        (b"\n\n", "the file is empty"),
    ],
)
def test_a_bad_header_rejects_the_file(data, reason):
    with pytest.raises(FileRejected, match=reason):
        read_csv_chunk(data, columns=None, first_line=1, at_file_end=True)


def test_an_unclosed_quote_or_a_line_longer_than_a_chunk_rejects_the_file():
    with pytest.raises(FileRejected, match="line 2: a quoted field is not closed"):
        read_csv_chunk(
            b'a@example.com,"Ann\nmore\nmore', columns=["email", "name"], first_line=2, at_file_end=False
        )


def test_json_lines_rows_and_invalid_lines_and_a_json_array_is_refused():
    data = b'{"email": "a@example.com"}\n\n{"email": 1, "x": 2}\n[1]\n{bad\n{"phone": "+14155550100"}'
    chunk = read_jsonl_chunk(data, first_line=1, at_file_start=True, at_file_end=True)

    assert [(r.line, dict(r.values)) for r in chunk.rows] == [
        (1, {"email": "a@example.com"}),
        (6, {"phone": "+14155550100"}),
    ]
    assert [(r.line, r.reason[:16], r.field) for r in chunk.invalid] == [
        (3, "unknown column '", "x"),
        (4, "not a JSON objec", None),
        (5, "not valid JSON: ", None),
    ]
    with pytest.raises(FileRejected, match="JSON array"):
        read_jsonl_chunk(b' [{"email": "a@example.com"}]', first_line=1, at_file_start=True, at_file_end=True)
