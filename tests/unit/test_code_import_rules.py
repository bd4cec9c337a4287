"""Reading CSV chunks and generating codes: pure rules."""

from __future__ import annotations

import pytest
from couponflow.domain.code_import import GenerationError, check_generation, generate, read_chunk


def test_a_chunk_stops_at_its_last_line_end_so_the_next_one_starts_on_a_row():
    chunk = read_chunk(b"AAA-1\nBBB-2\nCCC-", at_file_start=False, at_file_end=False)
    assert (chunk.codes, chunk.consumed) == (["AAA-1", "BBB-2"], 12)


def test_the_last_chunk_reads_a_final_row_without_a_line_end():
    chunk = read_chunk(b"CCC-3", at_file_start=False, at_file_end=True)
    assert (chunk.codes, chunk.consumed) == (["CCC-3"], 5)


def test_first_column_quotes_bom_and_crlf_are_handled_and_a_header_is_skipped():
    data = '\ufeffCode,amount\r\n"AAA-1",10\r\n  BBB-2  \r\n'.encode()
    chunk = read_chunk(data, at_file_start=True, at_file_end=True)
    assert (chunk.codes, chunk.invalid) == (["AAA-1", "BBB-2"], 0)


def test_a_header_word_after_the_first_row_is_a_code_and_bad_rows_are_invalid():
    chunk = read_chunk(b"code\nno spaces allowed\nab\n", at_file_start=False, at_file_end=True)
    assert (chunk.codes, chunk.invalid) == (["code"], 2)


def test_generation_is_deterministic_per_seed_and_index_and_uses_only_the_alphabet():
    first = list(generate("seed", 0, 50, length=8, alphabet="ABC123", prefix="P-"))
    again = list(generate("seed", 10, 5, length=8, alphabet="ABC123", prefix="P-"))
    assert again == first[10:15]
    assert all(c.startswith("P-") and len(c) == 10 and set(c[2:]) <= set("ABC123") for c in first)
    assert len(set(first)) == 50
    assert list(generate("other", 0, 50, length=8, alphabet="ABC123", prefix="P-")) != first


@pytest.mark.parametrize(
    ("count", "length", "alphabet", "prefix", "field"),
    [
        (1000, 4, "AB", "", "length"),  # 16 possible codes
        (10, 8, "AAB", "", "alphabet"),
        (10, 64, "AB", "X", "length"),  # 65 characters
    ],
)
def test_generation_requests_that_cannot_work_name_the_field(count, length, alphabet, prefix, field):
    with pytest.raises(GenerationError) as raised:
        check_generation(count, length, alphabet, prefix)
    assert raised.value.field == field


def test_a_roomy_generation_request_passes():
    check_generation(1_000_000, 10, "ABCDEFGHJKLMNPQRSTUVWXYZ23456789", "BF-")
