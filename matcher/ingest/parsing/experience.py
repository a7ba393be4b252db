"""Years of work experience."""

from __future__ import annotations

import math
import re

from matcher.ingest.parsing.cells import BLANKS, normalized
from matcher.ingest.parsing.numbers import CN_NUM_RE, to_number

_EXPERIENCE_ZERO = frozenset(
    {
        "不限",
        "经验不限",
        "无",
        "无经验",
        "无要求",
        "无经验要求",
        "应届",
        "应届生",
        "应届毕业生",
        "应届生可",
        "接受应届生",
        "在校生",
        "实习生",
        "0",
    }
)


def parse_experience(value: object) -> float:
    """Years of experience, the lower bound of what is written: "3年以上" → 3, "1-3年" → 1,
    "半年" → 0.5, "五年" → 5, "1年半" → 1.5, "6个月" → 0.5; 不限/应届/无/空 → 0; "3年以下" → 0."""
    if isinstance(value, bool):
        raise ValueError("工作经验应为年数，如 3年以上、1-3年、不限")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return 0.0
        if value < 0:
            raise ValueError("工作经验不能为负数")
        return float(value)
    s = normalized(value).lower().replace(" ", "")
    if s in BLANKS or s in _EXPERIENCE_ZERO:
        return 0.0
    s = re.sub(
        r"^(相关工作经验|工作经验|经验|工作|从业|相关)+|(相关|工作经验|经验|工作|从业)+$", "", s
    )
    s = s.replace("及以上", "以上").replace("或以上", "以上").replace("以内", "以下")
    if s in _EXPERIENCE_ZERO or s == "":
        return 0.0
    if re.search(r"以下|不超过|^<|^≤", s):
        return 0.0
    s = re.sub(r"以上|\+|^≥|^>=|^>|不少于|至少", "", s)
    num = r"(\d+(?:\.\d+)?|" + CN_NUM_RE + r"|半)"
    unit = r"(个?月|年)?(半)?"
    m = re.fullmatch(num + unit + r"(?:(?:-|~|—|–|至|到)" + num + unit + r")?", s)
    amount = None
    if m:
        amount = 0.5 if m.group(1) == "半" else to_number(m.group(1))
    if m is None or amount is None:
        raise ValueError("无法识别的工作经验，应如 3年以上、1-3年、半年、不限")
    unit_text = m.group(2) or m.group(5) or "年"
    if "月" in unit_text:
        amount = amount / 12
    elif m.group(3):
        amount += 0.5
    return float(round(amount, 2))

