"""Salaries: a range in 元/月, from whatever period, unit and pay months are written."""

from __future__ import annotations

import math
import re

from matcher.ingest.parsing.cells import BLANKS, normalized
from matcher.ingest.parsing.numbers import round_half_up

_SALARY_NONE = frozenset(
    {
        "面议",
        "薪资面议",
        "薪酬面议",
        "待遇面议",
        "工资面议",
        "协商",
        "双方协商",
        "面谈",
        "不限",
        "无",
        "按国家规定",
        "按公司规定",
    }
)
_UNIT_FACTORS = {"万": 10_000.0, "w": 10_000.0, "千": 1_000.0, "k": 1_000.0, "元": 1.0, "": 1.0}
# variable pay written after the stated amount: "5000元/月+提成", "6-8k+绩效+年终奖"
_EXTRAS = re.compile(r"[+＋加]高?(提成|绩效|奖金|分红|补贴|补助|津贴|年终奖|加班费|五险一金|社保|食宿|包吃住)"
                     r"([+＋、,，及和]?(提成|绩效|奖金|分红|补贴|补助|津贴|年终奖|加班费|五险一金|社保|食宿|包吃住))*")
_WORKDAYS_PER_MONTH = 21.75  # 国家规定的月计薪天数
_NUM_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(万|w|千|k|元)?")
_TOO_SMALL = "薪资数值过小，请注明单位，如 8k、1.2万、6000元/月"
_UNREADABLE = "无法识别的薪资，应如 6000-9000元/月、8-12万元/年、面议"
# the period a salary is paid for, by the words that name it (the first that matches wins)
_PERIODS = (
    ("year", r"年薪|/年|每年|元年|万年|一年|年收入"),
    ("month", r"月薪|/月|每月|元月|/mon"),
    ("day", r"日薪|/天|/日|每天|元天"),
    ("hour", r"时薪|/小时|/时|每小时"),
)
_NOISE = (
    r"年薪|月薪|日薪|时薪|年收入|/年|/月|/天|/日|/小时|/时|/mon(th)?|每年|每月|每天|每小时|税前|税后|基本工资|底薪|保底"
    r"|综合|左右|约|薪资|工资|待遇|:"
)


def parse_salary(value: object) -> tuple[int | None, int | None]:
    """A salary range in 元/月 as (min, max), rounded half up; 面议/空 → (None, None).

    Everything is expressed as the monthly equivalent of the yearly total:
    "8-12万元/年" → (6667, 10000); "年薪20万" → (16667, 16667); "6000-9000元/月"; "6k-9k";
    "1.2万/月"; "6K~9K·13薪" → monthly × 13 / 12 = (6500, 9750); "10000元以上" → (10000, None);
    "5000以下" → (None, 5000); "200元/天" → × 21.75. A bare number in 万 without a period is read
    as yearly when it reaches 5万 (e.g. "8-12万"), else as monthly ("1.2万"). A bare number below
    1000 without a unit is refused as ambiguous.
    """
    if isinstance(value, bool):
        raise ValueError("薪资应为金额或范围，如 6000-9000元/月、8-12万元/年")
    if isinstance(value, int | float):
        return _salary_number(value)
    s = normalized(value).lower().replace(" ", "")
    if s in BLANKS or s in _SALARY_NONE:
        return (None, None)
    months, s = _pay_months(_plain(s))
    period, s = _period(s)
    bound, s = _bound(s)
    nums = _amounts(s)
    amounts = [n * _UNIT_FACTORS[u] for n, u in nums]
    period = period or _unnamed_period(nums)
    if not any(u for _, u in nums) and period in ("month", "year") and max(amounts) < 1000:
        raise ValueError(_TOO_SMALL)
    factor = {
        "year": 1 / 12,
        "month": months / 12,
        "day": _WORKDAYS_PER_MONTH * months / 12,
        "hour": _WORKDAYS_PER_MONTH * 8 * months / 12,
    }[period]
    return _salary_range([round_half_up(a * factor) for a in amounts], bound)


def names_period(text: str) -> bool:
    """Whether a salary text names the period it is paid for (年薪, /月, 每天 ...)."""
    s = normalized(text).lower().replace(" ", "")
    return any(re.search(pattern, s) for _, pattern in _PERIODS)


def _salary_number(value: int | float) -> tuple[int | None, int | None]:
    """A number typed as a monthly salary (元)."""
    if isinstance(value, float) and math.isnan(value):
        return (None, None)
    if value < 1000:
        raise ValueError(_TOO_SMALL)
    v = round_half_up(float(value))
    return (v, v)


def _plain(s: str) -> str:
    """Without thousands separators and currency words; 以内/及以上/及以下 spelt one way."""
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)  # 6,000 → 6000
    s = s.replace("人民币", "").replace("rmb", "").replace("￥", "").replace("¥", "")
    s = _EXTRAS.sub("", s)  # "5000元/月+提成": the stated pay, without the variable part
    return s.replace("以内", "以下").replace("及以上", "以上").replace("及以下", "以下")


def _pay_months(s: str) -> tuple[float, str]:
    """The months paid a year ("13薪"; 12 when not written), and the text without them."""
    m = re.search(r"[·*x×]?(\d{2})薪", s)
    if not m:
        return 12.0, s
    months = float(m.group(1))
    if not 12 <= months <= 24:
        raise ValueError(f"薪资中的薪数“{m.group(0)}”不合理（应为 12-24 薪）")
    return months, s[: m.start()] + s[m.end() :]


def _period(s: str) -> tuple[str, str]:
    """The period named ("" when none), and the text without period and other salary words."""
    period = next((name for name, pattern in _PERIODS if re.search(pattern, s)), "")
    return period, re.sub(_NOISE, "", s)


def _bound(s: str) -> tuple[str, str]:
    """"lower" (以上, 起 …), "upper" (以下, 不超过 …) or "", and the text without those words."""
    if re.search(r"以上|起|不低于|\+$|^≥|^>=|^>", s):
        bound = "lower"
    elif re.search(r"以下|不超过|不高于|^≤|^<=|^<", s):
        bound = "upper"
    else:
        bound = ""
    return bound, re.sub(r"以上|以下|起|不低于|不超过|不高于|[+≥≤<>=]", "", s)


def _amounts(s: str) -> list[tuple[float, str]]:
    """The one or two (number, unit) of a range; a unit written once at the end applies to both
    ends: "6-9k", "8-12万"."""
    s = s.replace("万元", "万")
    parts = [p for p in re.split(r"-|~|—|–|至|到", s) if p != ""]
    if not 1 <= len(parts) <= 2:
        raise ValueError(_UNREADABLE)
    nums: list[tuple[float, str]] = []
    for part in parts:
        pm = _NUM_UNIT.fullmatch(part.rstrip("元")) or _NUM_UNIT.fullmatch(part)
        if not pm:
            raise ValueError(_UNREADABLE)
        nums.append((float(pm.group(1)), pm.group(2) or ""))
    last_unit = nums[-1][1]
    return [(n, u or (last_unit if last_unit != "元" else "")) for n, u in nums]


def _unnamed_period(nums: list[tuple[float, str]]) -> str:
    """No period written: yearly when an amount in 万 reaches 5万, else monthly."""
    tens_of_thousands = [n for n, u in nums if u in ("万", "w")]
    return "year" if tens_of_thousands and max(tens_of_thousands) >= 5 else "month"


def _salary_range(monthly: list[int], bound: str) -> tuple[int | None, int | None]:
    if len(monthly) == 2:
        lo, hi = monthly
        if lo > hi:
            raise ValueError("薪资下限大于上限")
        if bound:
            raise ValueError("薪资范围与“以上/以下”不能同时使用")
        return (lo, hi)
    (v,) = monthly
    if bound == "lower":
        return (v, None)
    if bound == "upper":
        return (None, v)
    return (v, v)
