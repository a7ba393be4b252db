"""Cells: their text, blank markers, and yes/no answers."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import lru_cache

from matcher.core.textnorm import normalize_text

# Cell contents that mean "nothing here".
BLANKS = frozenset(
    {"", "-", "--", "—", "——", "–", "/", "\\", "n/a", "na", "null", "none", "nan", "暂无", "空"}
)
# Contents that mean "no requirement" in a requirement column.
NO_REQUIREMENT = frozenset(
    {"不限", "无", "无要求", "没有要求", "无限制", "不作要求", "不做要求", "不需要"}
)


def cell_text(value: object) -> str:
    """The text of a raw cell: ``None`` → "", integral floats without ".0", dates as ISO, stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def normalized(value: object) -> str:
    """Normalised text (NFKC, Simplified, collapsed spaces) of a cell."""
    return normalize_text(cell_text(value))


def is_blank(value: object) -> bool:
    """Whether a cell is empty (None, whitespace, a lone dash or slash, "暂无", NaN)."""
    if value is None:
        return True
    if isinstance(value, list | tuple | dict):
        return len(value) == 0
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return True
        if len(stripped) > 4:  # every blank marker is short
            return False
        return _short_blank(stripped)
    return normalized(value).lower() in BLANKS


@lru_cache(maxsize=16384)
def _short_blank(text: str) -> bool:
    """Whether a short stripped text is a blank marker (cached: a file repeats its short cells)."""
    return normalize_text(text).lower() in BLANKS



_TRUE = frozenset(
    {
        "是",
        "y",
        "yes",
        "true",
        "t",
        "1",
        "同意",
        "有",
        "√",
        "✓",
        "✔",
        "对",
        "允许",
        "接受",
        "可以",
        "可",
        "授权",
        "已授权",
        "愿意",
        "on",
        "公开",
        "同意公开",
    }
)
_FALSE = frozenset(
    {
        "否",
        "n",
        "no",
        "false",
        "f",
        "0",
        "不同意",
        "无",
        "×",
        "✗",
        "✘",
        "x",
        "不允许",
        "不接受",
        "不可以",
        "不可",
        "不授权",
        "未授权",
        "不愿意",
        "off",
        "没有",
        "不公开",
        "不同意公开",
    }
)


def parse_bool(value: object) -> bool | None:
    """是/否, Y/N, yes/no, true/false, 1/0, 同意/不同意, 有/无, √/×; blank → None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        if value in (0, 1):
            return bool(value)
        raise ValueError("应为“是”或“否”")
    s = normalized(value).lower().replace(" ", "")
    if s == "" or (s in BLANKS and s not in _FALSE):
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError("应为“是”或“否”")


