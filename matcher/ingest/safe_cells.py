"""Cells that leave this service as spreadsheets, and values quoted back in error messages.

**Formula injection** (OWASP "CSV injection"). Names, schools, post titles and enterprise names
are typed by seekers and enterprises. A spreadsheet program runs a cell that starts with
``= + - @`` (or with a tab or carriage return before one) as a formula: ``=HYPERLINK(...)``
leaks data when clicked, ``=cmd|' /C calc'!A0`` starts a program through DDE. Every export goes
through this module:

- **XLSX**: a text cell is always written as a string (``t="inlineStr"``), never as an ``<f>``
  formula (openpyxl otherwise turns any string starting with ``=`` into a formula), and a text
  cell starting with a risky character also gets the quote-prefix style, so that Excel keeps it
  text when the cell is edited. The text itself is unchanged. Characters XML cannot hold
  (C0 controls other than tab, newline and carriage return) are dropped.
- **CSV**: a text cell starting with a risky character gets a leading ``'`` (the OWASP
  recommendation); a spreadsheet shows it as text.

Numbers stay numbers in both (a negative number is a number, not text). JSON exports are left
as they are: JSON is read by programs, not evaluated by spreadsheets, and changing the values
would corrupt the data.

**Echoed values.** ``excerpt`` shortens a value quoted back in an error message or a row error,
so that a bad 20 MB cell is never sent back whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "EXCERPT_CHARS",
    "RISKY_PREFIXES",
    "csv_cell",
    "csv_row",
    "excerpt",
    "is_risky",
    "xlsx_cell",
    "xlsx_value",
    "xlsx_write_rows",
]

RISKY_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXCERPT_CHARS = 50

# the characters openpyxl refuses (IllegalCharacterError): XML 1.0 cannot hold them
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def is_risky(value: object) -> bool:
    """Whether a spreadsheet would read this value as a formula."""
    return isinstance(value, str) and value.startswith(RISKY_PREFIXES)


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: risky text gets a leading ``'``; everything else is unchanged."""
    return "'" + value if is_risky(value) else value


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_cell(v) for v in values]


def xlsx_value(value: Any) -> Any:
    """A value openpyxl can write: text without the characters XML cannot hold."""
    if isinstance(value, str) and _ILLEGAL_XML.search(value):
        return _ILLEGAL_XML.sub("", value)
    return value


def xlsx_cell(ws: Any, value: Any, *, font: Any = None) -> Any:
    """A write-only cell whose text is stored as a string, never as a formula."""
    from openpyxl.cell import WriteOnlyCell

    value = xlsx_value(value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl made "=..." a formula ("f"): store it as text
        if is_risky(value):
            cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def xlsx_write_rows(ws: Any, rows: Iterable[Sequence[Any]], *, font: Any = None) -> None:
    """Append rows to a worksheet (write-only or not) with every text cell stored as text."""
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    if isinstance(ws, WriteOnlyWorksheet):
        for row in rows:
            ws.append([xlsx_cell(ws, v, font=font) for v in row])
        return
    for row in rows:
        ws.append([xlsx_value(v) for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if is_risky(cell.value):
                    cell.quotePrefix = True
            if font is not None:
                cell.font = font


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A value as short text for a message: at most ``limit`` characters, then "…"."""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit] + "…"
