"""Code loading at scale, the pure part: reading a CSV file chunk by chunk and generating codes.

A CSV upload is read in byte ranges (chunks) cut at line ends, so an import can stop after any
chunk and resume from the recorded offset. A row's code is its first column; rows that are not
a valid code are counted ``invalid``; a header row at the top of the file is skipped.

Generated codes are derived from a per-job random seed (SHA-256 of seed and index, mapped onto
the alphabet by rejection sampling, so every symbol is equally likely): resuming a generation
chunk produces the very same codes, which the import recognises as its own.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$"
_CODE = re.compile(CODE_PATTERN)
_HEADERS = frozenset({"code", "codes", "coupon", "coupon_code", "coupon code", "promo_code"})
MAX_CODES_PER_IMPORT = 1_000_000
MAX_IMPORT_BYTES = 80 * 1024 * 1024  # 1,000,000 rows of the longest code, quoted, plus a header


def is_valid_code(value: str) -> bool:
    return bool(_CODE.match(value))


@dataclass(frozen=True)
class Chunk:
    codes: list[str]  # valid codes in file order (duplicates within the chunk kept)
    invalid: int
    consumed: int  # bytes of the buffer this chunk used (up to and including its last line end)


def read_chunk(buffer: bytes, *, at_file_start: bool, at_file_end: bool) -> Chunk:
    """The rows of ``buffer`` up to its last complete line (all of it at the end of the file)."""
    if at_file_end:
        consumed = len(buffer)
    else:
        last = buffer.rfind(b"\n")
        consumed = last + 1 if last >= 0 else len(buffer)  # a line longer than a chunk: invalid
    codes: list[str] = []
    invalid = 0
    for n, raw in enumerate(buffer[:consumed].splitlines()):
        line = raw.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
        if not line:
            continue
        value = line.split(",", 1)[0].strip().strip('"').strip()
        if at_file_start and n == 0 and value.lower() in _HEADERS:
            continue  # a header row, not a code
        if is_valid_code(value):
            codes.append(value)
        else:
            invalid += 1
    return Chunk(codes=codes, invalid=invalid, consumed=consumed)


class GenerationError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_generation(count: int, length: int, alphabet: str, prefix: str) -> None:
    """Refuse a request whose codes would be invalid, or too few to draw ``count`` of them safely."""
    if len(set(alphabet)) != len(alphabet):
        raise GenerationError("alphabet repeats a character", "alphabet")
    if not is_valid_code(prefix + alphabet[0] * length):
        raise GenerationError("prefix plus length must make a 3-64 character code", "length")
    # at least 1000 possible codes per code asked for, so random draws rarely collide
    if length * math.log10(len(alphabet)) < math.log10(count) + 3:
        raise GenerationError(f"{len(alphabet)}^{length} codes is too few for {count} unique codes", "length")


def generate(seed: str, start: int, count: int, *, length: int, alphabet: str, prefix: str) -> Iterator[str]:
    """Codes number ``start`` .. ``start + count - 1`` of the job with ``seed``."""
    limit = 256 - 256 % len(alphabet)
    for index in range(start, start + count):
        chars: list[str] = []
        block = 0
        while len(chars) < length:
            digest = hashlib.sha256(f"{seed}:{index}:{block}".encode()).digest()
            chars.extend(alphabet[b % len(alphabet)] for b in digest if b < limit)
            block += 1
        yield prefix + "".join(chars[:length])
