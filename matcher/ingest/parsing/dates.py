"""Dates, as typed or as Excel serials."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

from matcher.ingest.parsing.cells import BLANKS, normalized

_EXCEL_EPOCH = date(1899, 12, 30)
_DATE_NONE = frozenset({"长期", "长期有效", "不限", "无", "永久", "无期限"})


def parse_date(value: object) -> date | None:
    """A date: 2026-01-31, 2026/1/31, 2026.1.31, 2026年1月31日, 20260131, an Excel serial
    (46053) or a date/datetime; blank/长期/长期有效 → None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError("应为日期，如 2026-01-31")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return None
        return _from_serial(float(value), value)
    s = normalized(value).replace(" ", "")
    if s.lower() in BLANKS or s in _DATE_NONE:
        return None
    m = re.fullmatch(
        r"(\d{4})(?:[-/.年])(\d{1,2})(?:[-/.月])(\d{1,2})日?(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?",
        s,
    )
    if not m:
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", s)
    if m:
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise ValueError("日期不存在") from None
    if re.fullmatch(r"\d{5}(\.\d+)?", s):
        return _from_serial(float(s), value)
    raise ValueError("无法识别的日期，应如 2026-01-31 或 2026年1月31日")


def _from_serial(serial: float, raw: object) -> date:
    if not 1 <= serial < 2_958_466:
        raise ValueError("无法识别的日期，应如 2026-01-31")
    return _EXCEL_EPOCH + timedelta(days=int(serial))

