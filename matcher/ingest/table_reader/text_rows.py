"""CSV and JSON Lines, checked against the limits in a first pass before any row is used."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

from matcher.core.errors import InvalidInput
from matcher.ingest.table_reader.limits import (
    HEADER_ROOM,
    PayloadTooLarge,
    ReadLimits,
    check_width,
    decode_text,
    is_blank_text,
    too_long,
    too_many_rows,
    too_wide,
    where,
)

_CSV_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def _csv_lines(text: str) -> Iterator[str]:
    """Lines as ``open(newline="")`` gives them to the csv module (ends kept; \\r, \\n or \\r\\n),
    one at a time."""
    for m in _CSV_LINE.finditer(text):
        yield m.group()


def _lines(text: str) -> Iterator[str]:
    """The lines of a text with their line ends, without holding a list of them all."""
    start, n = 0, len(text)
    while start < n:
        end = text.find("\n", start)
        if end == -1:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


# ---------------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------------


def _delimiter(text: str) -> str:
    end = text.find("\n")
    first_line = text if end == -1 else text[:end]
    return max((",", "\t", ";"), key=lambda d: (first_line.count(d), d == ","))



def csv_rows(data: bytes, limits: ReadLimits, label: str = "") -> Iterator[tuple[int, list[object]]]:
    """(row number, cells) of a CSV file, after a first pass has checked every limit."""
    text = decode_text(data)
    delimiter = _delimiter(text)
    if csv.field_size_limit() < limits.cell_chars + 1:
        csv.field_size_limit(limits.cell_chars + 1)
    reader = csv.reader(_csv_lines(text), delimiter=delimiter)
    count = 0
    try:
        for number, row in enumerate(reader, start=1):
            if not row:
                continue
            if max(map(len, row)) > limits.cell_chars:
                col = next(i for i, c in enumerate(row) if len(c) > limits.cell_chars) + 1
                raise too_long(limits, label, number, col)
            if len(row) > limits.columns:
                check_width(row, limits, label, number)
            if not all(is_blank_text(c) for c in row):
                count += 1
                if count > limits.rows + HEADER_ROOM:
                    raise too_many_rows(limits, label)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise PayloadTooLarge(f"{where(label)}第 {reader.line_num} 行附近有单元格超过 "
                                  f"{limits.cell_chars} 个字符的上限") from None
        raise InvalidInput(f"{where(label)}CSV 格式错误（第 {reader.line_num} 行附近）：{exc}") from None
    return _csv_checked(text, delimiter, limits)


def _csv_checked(text: str, delimiter: str, limits: ReadLimits) -> Iterator[tuple[int, list[object]]]:
    for number, row in enumerate(csv.reader(_csv_lines(text), delimiter=delimiter), start=1):
        yield number, (row[:limits.columns] if len(row) > limits.columns else list(row))


# ---------------------------------------------------------------------------------------------
# JSON Lines
# ---------------------------------------------------------------------------------------------


def jsonl_lines(data: bytes, limits: ReadLimits, label: str = "") -> Iterator[tuple[int, str]]:
    """(line number, stripped line) of every non-blank line, after counting and measuring them."""
    text = decode_text(data)
    count = 0
    for number, line in enumerate(_lines(text), start=1):
        if len(line) > limits.line_chars:
            raise PayloadTooLarge(f"{where(label)}第 {number} 行过长（超过 {limits.line_chars} 个字符）")
        if line.strip():
            count += 1
            if count > limits.rows:
                raise too_many_rows(limits, label)
    return _jsonl_checked(text)


def _jsonl_checked(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(_lines(text), start=1):
        line = line.strip()
        if line:
            yield number, line


def check_record(obj: object, number: int, limits: ReadLimits, label: str = "") -> None:
    """A parsed JSON line: at most ``columns`` fields, no text longer than a cell."""
    if not isinstance(obj, dict):
        return
    if len(obj) > limits.columns:
        raise too_wide(limits, label, number)

    def texts(value: object, depth: int = 0) -> Iterable[str]:
        if isinstance(value, str):
            yield value
        elif depth < 3 and isinstance(value, list | tuple):
            for v in value:
                yield from texts(v, depth + 1)
        elif depth < 3 and isinstance(value, dict):
            for k, v in value.items():
                yield str(k)
                yield from texts(v, depth + 1)

    for key, value in obj.items():
        for text in (str(key), *texts(value)):
            if len(text) > limits.cell_chars:
                raise too_long(limits, label, number)

