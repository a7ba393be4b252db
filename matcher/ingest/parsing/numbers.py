"""Numbers: Chinese numerals, integers with counting words, years."""

from __future__ import annotations

import math
import re
from datetime import date, datetime

from matcher.ingest.parsing.cells import BLANKS, normalized

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def parse_chinese_number(s: str) -> int | None:
    """A Chinese numeral from 零 to 九十九 (一, 十, 十五, 二十, 两 ...) as int, or None if not one."""
    s = s.strip()
    if not s:
        return None
    if s in _CN_DIGITS:
        return _CN_DIGITS[s]
    m = re.fullmatch(r"([一二两三四五六七八九])?十([一二三四五六七八九])?", s)
    if m:
        tens = _CN_DIGITS[m.group(1)] if m.group(1) else 1
        ones = _CN_DIGITS[m.group(2)] if m.group(2) else 0
        return tens * 10 + ones
    return None


CN_NUM_RE = r"[零〇一二两三四五六七八九十]+"


def to_number(token: str) -> float | None:
    """An Arabic or Chinese number as float, or None."""
    token = token.strip()
    try:
        return float(token)
    except ValueError:
        pass
    n = parse_chinese_number(token)
    return float(n) if n is not None else None


def round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


_INT_SUFFIX = re.compile(r"(人|名|个|位|届|年|岁|次|家)$")


def parse_int(value: object) -> int | None:
    """An integer: 3, 3.0, "3", "1,000", "５", "五", "5人", "10名"; blank/若干/不限 → None."""
    if isinstance(value, bool):
        raise ValueError("应为整数")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if not value.is_integer():
            raise ValueError("应为整数")
        return int(value)
    s = normalized(value).replace(" ", "")
    if s.lower() in BLANKS or s in {"若干", "不限", "待定", "无"}:
        return None
    s = _INT_SUFFIX.sub("", s)
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)
    if re.fullmatch(r"[+-]?\d+(\.0+)?", s):
        return int(float(s))
    n = parse_chinese_number(s)
    if n is not None:
        return n
    raise ValueError("应为整数")


def parse_year(value: object) -> int | None:
    """A year: 2025, "2025", "2025届", "2025年6月", "2025-06", a date or datetime; blank → None."""
    if isinstance(value, datetime | date):
        return value.year
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_int(value)
    s = normalized(value).replace(" ", "")
    if s.lower() in BLANKS:
        return None
    m = re.fullmatch(
        r"((?:19|20|21)\d\d)(?:届|年|级)?(?:[-/.年]\d{1,2}(?:月)?(?:[-/.]\d{1,2}日?)?)?(?:毕业|届)?",
        s,
    )
    if m:
        return int(m.group(1))
    raise ValueError("无法识别的年份，应如 2025 或 2025届")

