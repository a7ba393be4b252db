"""Matching a file's column headers to fields: the one header matcher of every import.

A header is compared by its key (``header_key``: normalised, lower-cased, without notes in
brackets, marks or spaces), so "岗位名称（必填）", "岗位名称:" and "岗位 名称" are one header.
A mapping file's own columns and ignore list are looked up first, by the header as written and
by its key (``ExplicitColumns``); then a table of known aliases (``HeaderTable``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache

from matcher.core.errors import InvalidInput
from matcher.core.textnorm import normalize_text

# a unit in a header's brackets: 薪酬（元/月）, 年薪（万元）
UNIT_HINT = re.compile(r"[(（【\[]([^)）】\]]*(?:元|万|千|k|K|/年|/月)[^)）】\]]*)[)）】\]]")
NOT_LISTED = object()  # ExplicitColumns.target: the mapping file does not name this header
MAX_HEADER_SCAN = 5  # title rows tolerated above the header

Row = tuple[int, list[object]]


@lru_cache(maxsize=8192)  # every line of a JSON Lines file repeats its keys
def header_key(header: str) -> str:
    """A header's comparison key: normalised, lower-cased, without notes in brackets, marks, spaces."""
    text = normalize_text(header).lower()
    text = re.sub(r"[(\[【][^)\]】]*[)\]】]", "", text)
    text = re.sub(r"/(年|月|天|日|小时)$", "", text.strip())  # a unit's period after it: 薪酬（万元）/年
    return re.sub(r"[\s*:：#]+", "", text)


# the period a salary header names, in or outside its brackets: 年薪（万元）, 薪酬（万元）/年
_HEADER_PERIODS = (("/年", re.compile(r"年薪|年收入|/年|每年|年均|年度")),
                   ("/月", re.compile(r"月薪|月收入|/月|每月|月均")))


def unit_hint(header: str) -> str | None:
    """The unit a header states, with the period it names: "元/月", "万元/年" (年薪均值（万元）),
    "/年" (年薪, no unit); None when it states neither. The header's unit and period win over
    the guess a bare number would get ("4.8" under 年薪（万元） is 4.8万元/年, not 4.8万/月)."""
    text = normalize_text(header)
    m = UNIT_HINT.search(text)
    unit = m.group(1).strip() if m else ""
    if "/" in unit:
        return unit
    period = next((p for p, pattern in _HEADER_PERIODS if pattern.search(text)), "")
    return (unit + period) or None


class HeaderTable:
    """Known aliases of fields (and headers known to carry nothing), matched by ``header_key``."""

    def __init__(self, aliases: Mapping[str, Iterable[str]], ignored: Iterable[str] = (), *,
                 field_names: bool = False) -> None:
        """``field_names``: a field's own name is one of its aliases."""
        self._by_key: dict[str, str] = {}
        for target, names in aliases.items():
            for name in ((target, *names) if field_names else tuple(names)):
                self._by_key.setdefault(header_key(name), target)
        self._ignored = frozenset(header_key(h) for h in ignored)

    def field_of(self, header: str) -> str | None:
        return self._by_key.get(header_key(header))

    def ignores(self, header: str) -> bool:
        return header_key(header) in self._ignored


class ExplicitColumns:
    """A mapping file's ``columns`` (header -> field, or None to skip) and ``ignore`` list."""

    def __init__(self, columns: Mapping[str, str | None], ignore: Iterable[str] = ()) -> None:
        self._targets: dict[str, str | None] = {}
        for header, target in columns.items():
            self._targets.setdefault(header.strip(), target)
            self._targets.setdefault(header_key(header), target)
        self._ignored = frozenset({h.strip() for h in ignore} | {header_key(h) for h in ignore})

    def target(self, header: str) -> object:
        """The field the mapping names for a header, None when it maps the header to nothing, or
        ``NOT_LISTED``."""
        for k in (header.strip(), header_key(header)):
            if k in self._targets:
                return self._targets[k]
        return NOT_LISTED

    def ignores(self, header: str) -> bool:
        return header.strip() in self._ignored or header_key(header) in self._ignored


def find_header(rows: Iterator[Row], header_row: int | None, cell_blank: Callable[[object], bool],
                where: str = "") -> tuple[Row | None, list[Row]]:
    """The header of a table and the rows read past it that come after it.

    The header is row ``header_row`` when given (InvalidInput when that row is blank), else the
    first row with two or more filled cells among the first ``MAX_HEADER_SCAN`` non-blank rows
    (else the first of them); None for an empty table. ``where`` prefixes the message."""
    pending: list[Row] = []
    for number, values in rows:
        if all(cell_blank(v) for v in values):
            continue
        if header_row is not None:
            if number < header_row:
                continue
            if number == header_row:
                return (number, values), []
            raise InvalidInput(f"{where}表头行（第 {header_row} 行）为空")
        pending.append((number, values))
        if _filled(values, cell_blank) >= 2 or len(pending) >= MAX_HEADER_SCAN:
            break
    if not pending:
        return None, []
    chosen = next((i for i, (_, v) in enumerate(pending) if _filled(v, cell_blank) >= 2), 0)
    return pending[chosen], pending[chosen + 1 :]


def _filled(values: list[object], cell_blank: Callable[[object], bool]) -> int:
    return sum(1 for v in values if not cell_blank(v))
