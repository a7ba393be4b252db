"""Parsers for the values people type into Chinese spreadsheets (学历, 薪资, 工作经验, 星级 ...).

Every parser is a pure function: it takes a raw cell (a string, or whatever a spreadsheet or a
JSON line holds: int, float, bool, datetime, list, None) and returns the parsed value, or raises
``ValueError`` whose message is a Chinese reason fit to show the user. Empty cells (``None``,
blank strings, dashes) parse to ``None`` (or the neutral value noted per function).
Traditional characters and full-width forms are accepted everywhere.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from pathlib import Path

from matcher.core.errors import InvalidInput
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import CertGrade, DigitalCert, Education, SkillLevel, TitleLevel

__all__ = [
    "cell_text",
    "is_blank",
    "parse_bool",
    "parse_cert_grade",
    "parse_chinese_number",
    "parse_date",
    "parse_digital_certs",
    "parse_education",
    "parse_experience",
    "parse_int",
    "parse_list",
    "parse_salary",
    "parse_shortage_level",
    "parse_skill_level",
    "parse_title_level",
    "parse_year",
]

# Cell contents that mean "nothing here".
_BLANKS = frozenset(
    {"", "-", "--", "—", "——", "–", "/", "\\", "n/a", "na", "null", "none", "nan", "暂无", "空"}
)
# Contents that mean "no requirement" in a requirement column.
_NO_REQUIREMENT = frozenset(
    {"不限", "无", "无要求", "没有要求", "无限制", "不作要求", "不做要求", "不需要"}
)

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


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


def _norm(value: object) -> str:
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
    return _norm(value).lower() in _BLANKS


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


_CN_NUM_RE = r"[零〇一二两三四五六七八九十]+"


def _number(token: str) -> float | None:
    """An Arabic or Chinese number as float, or None."""
    token = token.strip()
    try:
        return float(token)
    except ValueError:
        pass
    n = parse_chinese_number(token)
    return float(n) if n is not None else None


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _shown(value: object) -> str:
    text = cell_text(value)
    return text if len(text) <= 40 else text[:40] + "…"


# ---------------------------------------------------------------------------------------------
# education
# ---------------------------------------------------------------------------------------------

_EDUCATION = {
    "博士研究生": Education.DOCTOR,
    "博士": Education.DOCTOR,
    "博士生": Education.DOCTOR,
    "博士后": Education.DOCTOR,
    "phd": Education.DOCTOR,
    "doctor": Education.DOCTOR,
    "硕士研究生": Education.MASTER,
    "硕士": Education.MASTER,
    "硕士生": Education.MASTER,
    "研究生": Education.MASTER,
    "mba": Education.MASTER,
    "master": Education.MASTER,
    "大学本科": Education.BACHELOR,
    "本科": Education.BACHELOR,
    "学士": Education.BACHELOR,
    "本科生": Education.BACHELOR,
    "bachelor": Education.BACHELOR,
    "专科(高职)": Education.JUNIOR_COLLEGE,
    "大学专科": Education.JUNIOR_COLLEGE,
    "专科": Education.JUNIOR_COLLEGE,
    "大专": Education.JUNIOR_COLLEGE,
    "高职": Education.JUNIOR_COLLEGE,
    "高职高专": Education.JUNIOR_COLLEGE,
    "高专": Education.JUNIOR_COLLEGE,
    "高中": Education.SECONDARY,
    "中专": Education.SECONDARY,
    "中职": Education.SECONDARY,
    "技校": Education.SECONDARY,
    "技工学校": Education.SECONDARY,
    "职高": Education.SECONDARY,
    "高中/中专": Education.SECONDARY,
    "中专/高中": Education.SECONDARY,
    "高中/中专/技校": Education.SECONDARY,
    "中专/技校": Education.SECONDARY,
    "高中(中专)": Education.SECONDARY,
}
# Below the lowest level of the ladder: as a requirement this means "no requirement".
_BELOW_LADDER = frozenset({"初中", "小学", "初中及以下", "初中以下"})
_EDU_AFFIXES = re.compile(
    r"^(全日制|统招|普通|国家承认|第一学历)+|(\(含\)|含)?(及以上|或以上|以上)|学历|学位|毕业|文化程度|文化"
)


def parse_education(value: object) -> Education | None:
    """An education level; 不限/无/空 → None.

    Accepts 大学本科/本科/学士, 专科（高职）/大专/高职, 硕士研究生/研究生, 博士研究生, 高中/中专/中职/技校/职高,
    with 及以上/以上/或以上 and 学历 affixes. Several levels ("大专/本科") give the lowest, since a
    requirement names its minimum. 初中/小学 are below the ladder and give None (no requirement).
    """
    s = _norm(value).lower().replace(" ", "")
    if s in _BLANKS or s in _NO_REQUIREMENT or s in {"学历不限", "不限学历"}:
        return None
    if s in _EDUCATION:
        return _EDUCATION[s]
    core = _EDU_AFFIXES.sub("", s)
    if core in _BELOW_LADDER or s in _BELOW_LADDER:
        return None
    if core in _EDUCATION:
        return _EDUCATION[core]
    if core in _NO_REQUIREMENT or core == "":
        return None
    # "大专/本科", "本科、硕士", "本科或硕士": the lowest named level
    parts = [p for p in re.split(r"[/、,;|或]", core) if p]
    if len(parts) > 1 and all(p in _EDUCATION for p in parts):
        return min((_EDUCATION[p] for p in parts), key=lambda e: e.rank)
    # "本科(学士)", "专科（高职）" written differently: try outside, then inside the brackets
    m = re.fullmatch(r"(.+?)\((.+)\)", core)
    if m:
        for part in (m.group(1), m.group(2)):
            if part in _EDUCATION:
                return _EDUCATION[part]
    raise ValueError("无法识别的学历，应为 高中/中专、大专、本科、硕士、博士 或 不限")


# ---------------------------------------------------------------------------------------------
# shortage level (紧缺星级)
# ---------------------------------------------------------------------------------------------


def parse_shortage_level(value: object) -> int | None:
    """A 紧缺星级 from 1 to 5: "5星", "五星级", "★★★", "★★★☆☆", "3", 3.0; 无/—/空 → None."""
    if isinstance(value, bool):
        raise ValueError("紧缺星级应为 1-5 的整数或星号")
    s = _norm(value).replace(" ", "")
    if s.lower() in _BLANKS or s in _NO_REQUIREMENT:
        return None
    stars = s.count("★") + s.count("⭐") + s.count("*")
    if stars and re.fullmatch(r"[★⭐☆*]+", s):
        level: float | None = stars
    else:
        m = re.fullmatch(r"(\d+(?:\.0+)?|[一二三四五])(?:颗)?(?:星级|星)?", s)
        level = _number(m.group(1)) if m else None
    if level is None:
        raise ValueError("无法识别的紧缺星级，应为 1-5 星")
    if not float(level).is_integer() or not 1 <= level <= 5:
        raise ValueError("紧缺星级应在 1-5 之间")
    return int(level)


# ---------------------------------------------------------------------------------------------
# salary
# ---------------------------------------------------------------------------------------------

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
_WORKDAYS_PER_MONTH = 21.75  # 国家规定的月计薪天数
_NUM_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(万|w|千|k|元)?")


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
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and math.isnan(value):
            return (None, None)
        if value < 1000:
            raise ValueError("薪资数值过小，请注明单位，如 8k、1.2万、6000元/月")
        v = _round_half_up(float(value))
        return (v, v)
    s = _norm(value).lower().replace(" ", "")
    if s in _BLANKS or s in _SALARY_NONE:
        return (None, None)
    s = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", s)  # 6,000 → 6000
    s = s.replace("人民币", "").replace("rmb", "").replace("￥", "").replace("¥", "")
    s = s.replace("以内", "以下").replace("及以上", "以上").replace("及以下", "以下")

    months = 12.0
    m = re.search(r"[·*x×]?(\d{2})薪", s)
    if m:
        months = float(m.group(1))
        if not 12 <= months <= 24:
            raise ValueError(f"薪资中的薪数“{m.group(0)}”不合理（应为 12-24 薪）")
        s = s[: m.start()] + s[m.end() :]

    period = ""
    if re.search(r"年薪|/年|每年|元年|万年|一年|年收入", s):
        period = "year"
    elif re.search(r"月薪|/月|每月|元月|/mon", s):
        period = "month"
    elif re.search(r"日薪|/天|/日|每天|元天", s):
        period = "day"
    elif re.search(r"时薪|/小时|/时|每小时", s):
        period = "hour"
    s = re.sub(
        r"年薪|月薪|日薪|时薪|年收入|/年|/月|/天|/日|/小时|/时|/mon(th)?|每年|每月|每天|每小时|税前|税后|基本工资|底薪|综合|左右|约|薪资|工资|待遇|:",
        "",
        s,
    )

    lower_only = upper_only = False
    if re.search(r"以上|起|不低于|\+$|^≥|^>=|^>", s):
        lower_only = True
    elif re.search(r"以下|不超过|不高于|^≤|^<=|^<", s):
        upper_only = True
    s = re.sub(r"以上|以下|起|不低于|不超过|不高于|[+≥≤<>=]", "", s)

    s = s.replace("万元", "万")
    parts = [p for p in re.split(r"-|~|—|–|至|到", s) if p != ""]
    if not 1 <= len(parts) <= 2:
        raise ValueError("无法识别的薪资，应如 6000-9000元/月、8-12万元/年、面议")
    nums: list[tuple[float, str]] = []
    for part in parts:
        pm = _NUM_UNIT.fullmatch(part.rstrip("元"))
        if not pm:
            pm = _NUM_UNIT.fullmatch(part)
        if not pm:
            raise ValueError("无法识别的薪资，应如 6000-9000元/月、8-12万元/年、面议")
        nums.append((float(pm.group(1)), pm.group(2) or ""))
    # a unit written once at the end applies to both ends: "6-9k", "8-12万"
    last_unit = nums[-1][1]
    nums = [(n, u or (last_unit if last_unit != "元" else "")) for n, u in nums]
    amounts = [n * _UNIT_FACTORS[u] for n, u in nums]
    has_unit = any(u for _, u in nums)

    if not period:
        if (
            any(u in ("万", "w") for _, u in nums)
            and max(n for n, u in nums if u in ("万", "w")) >= 5
        ):
            period = "year"
        else:
            period = "month"
    if not has_unit and period == "month" and max(amounts) < 1000:
        raise ValueError("薪资数值过小，请注明单位，如 8k、1.2万、6000元/月")

    factor = {
        "year": 1 / 12,
        "month": months / 12,
        "day": _WORKDAYS_PER_MONTH * months / 12,
        "hour": _WORKDAYS_PER_MONTH * 8 * months / 12,
    }[period]
    monthly = [_round_half_up(a * factor) for a in amounts]
    if len(monthly) == 2:
        lo, hi = monthly
        if lo > hi:
            raise ValueError("薪资下限大于上限")
        if lower_only or upper_only:
            raise ValueError("薪资范围与“以上/以下”不能同时使用")
        return (lo, hi)
    (v,) = monthly
    if lower_only:
        return (v, None)
    if upper_only:
        return (None, v)
    return (v, v)


# ---------------------------------------------------------------------------------------------
# experience, booleans, lists, numbers, dates
# ---------------------------------------------------------------------------------------------

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
    s = _norm(value).lower().replace(" ", "")
    if s in _BLANKS or s in _EXPERIENCE_ZERO:
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
    num = r"(\d+(?:\.\d+)?|" + _CN_NUM_RE + r"|半)"
    unit = r"(个?月|年)?(半)?"
    m = re.fullmatch(num + unit + r"(?:(?:-|~|—|–|至|到)" + num + unit + r")?", s)
    amount = None
    if m:
        amount = 0.5 if m.group(1) == "半" else _number(m.group(1))
    if m is None or amount is None:
        raise ValueError("无法识别的工作经验，应如 3年以上、1-3年、半年、不限")
    unit_text = m.group(2) or m.group(5) or "年"
    if "月" in unit_text:
        amount = amount / 12
    elif m.group(3):
        amount += 0.5
    return float(round(amount, 2))


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
    s = _norm(value).lower().replace(" ", "")
    if s == "" or (s in _BLANKS and s not in _FALSE):
        return None
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError("应为“是”或“否”")


# Slashed terms that are one item, not two ("TCP/IP" is not "TCP" and "IP").
_SLASH_TERMS = re.compile(
    r"(?<![A-Za-z0-9+#])(TCP/IP|CI/CD|C/C\+\+|B/S|C/S|I/O|UI/UX|PL/SQL|A/B|GB/T)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_LIST_SEPARATORS = set("、,，;；|｜/／\n\r\t")
_SPLIT = re.compile("[" + re.escape("".join(sorted(_LIST_SEPARATORS))) + "]")
_OPEN = "(（[【{《"
_CLOSE = ")）]】}》"


def parse_list(value: object) -> list[str]:
    """A list of items separated by 、，,;；/｜| or line breaks (not inside brackets); items are
    stripped, empties and duplicates dropped, a trailing "等" removed. Words such as 及/和 are
    not separators. Known slashed terms (TCP/IP, C/C++, CI/CD, B/S ...) stay whole. Lists given
    as JSON arrays are accepted."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        items: list[str] = []
        for v in value:
            if isinstance(v, list | tuple | dict):
                raise ValueError("列表中的每一项应为文本")
            items.extend(parse_list(v))
        return _dedupe(items)
    text = cell_text(value)
    if is_blank(text):
        return []
    protected: list[str] = []

    def _protect(m: re.Match[str]) -> str:
        protected.append(m.group(0))
        return f"\x00{len(protected) - 1}\x00"

    text = _SLASH_TERMS.sub(_protect, text)
    if not any(ch in text for ch in _OPEN):
        items = _SPLIT.split(text)
    else:  # do not split inside brackets
        items = []
        depth = 0
        current: list[str] = []
        for ch in text:
            if ch in _OPEN:
                depth += 1
            elif ch in _CLOSE:
                depth = max(0, depth - 1)
            if ch in _LIST_SEPARATORS and depth == 0:
                items.append("".join(current))
                current = []
            else:
                current.append(ch)
        items.append("".join(current))
    out = []
    for item in items:
        if protected:
            item = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], item)
        item = item.strip().strip("。.")
        if item:
            out.append(item)
    if len(out) >= 2 and out[-1].endswith("等") and len(out[-1]) > 1:
        out[-1] = out[-1].removesuffix("等等").removesuffix("等").strip()
    return _dedupe([o for o in out if o and not is_blank(o)])


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


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
    s = _norm(value).replace(" ", "")
    if s.lower() in _BLANKS or s in {"若干", "不限", "待定", "无"}:
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
    s = _norm(value).replace(" ", "")
    if s.lower() in _BLANKS:
        return None
    m = re.fullmatch(
        r"((?:19|20|21)\d\d)(?:届|年|级)?(?:[-/.年]\d{1,2}(?:月)?(?:[-/.]\d{1,2}日?)?)?(?:毕业|届)?",
        s,
    )
    if m:
        return int(m.group(1))
    raise ValueError("无法识别的年份，应如 2025 或 2025届")


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
    s = _norm(value).replace(" ", "")
    if s.lower() in _BLANKS or s in _DATE_NONE:
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


# ---------------------------------------------------------------------------------------------
# titles, skill grades, digital certificates
# ---------------------------------------------------------------------------------------------

_TITLES: dict[str, TitleLevel] = {
    # 初级 (员级 and 助理级)
    "初级": TitleLevel.JUNIOR,
    "员级": TitleLevel.JUNIOR,
    "助理级": TitleLevel.JUNIOR,
    "技术员": TitleLevel.JUNIOR,
    "助理工程师": TitleLevel.JUNIOR,
    "助工": TitleLevel.JUNIOR,
    "助理讲师": TitleLevel.JUNIOR,
    "助教": TitleLevel.JUNIOR,
    "会计员": TitleLevel.JUNIOR,
    "助理会计师": TitleLevel.JUNIOR,
    "经济员": TitleLevel.JUNIOR,
    "助理经济师": TitleLevel.JUNIOR,
    "统计员": TitleLevel.JUNIOR,
    "助理统计师": TitleLevel.JUNIOR,
    "实习研究员": TitleLevel.JUNIOR,
    "医师": TitleLevel.JUNIOR,
    # 中级
    "中级": TitleLevel.INTERMEDIATE,
    "工程师": TitleLevel.INTERMEDIATE,
    "中级工程师": TitleLevel.INTERMEDIATE,
    "讲师": TitleLevel.INTERMEDIATE,
    "会计师": TitleLevel.INTERMEDIATE,
    "经济师": TitleLevel.INTERMEDIATE,
    "统计师": TitleLevel.INTERMEDIATE,
    "助理研究员": TitleLevel.INTERMEDIATE,
    "主治医师": TitleLevel.INTERMEDIATE,
    # 副高级
    "副高": TitleLevel.DEPUTY_SENIOR,
    "副高级": TitleLevel.DEPUTY_SENIOR,
    "高级": TitleLevel.DEPUTY_SENIOR,
    "高级工程师": TitleLevel.DEPUTY_SENIOR,
    "高工": TitleLevel.DEPUTY_SENIOR,
    "副教授": TitleLevel.DEPUTY_SENIOR,
    "副研究员": TitleLevel.DEPUTY_SENIOR,
    "高级讲师": TitleLevel.DEPUTY_SENIOR,
    "高级会计师": TitleLevel.DEPUTY_SENIOR,
    "高级经济师": TitleLevel.DEPUTY_SENIOR,
    "高级统计师": TitleLevel.DEPUTY_SENIOR,
    "副主任医师": TitleLevel.DEPUTY_SENIOR,
    # 正高级
    "正高": TitleLevel.SENIOR,
    "正高级": TitleLevel.SENIOR,
    "正高级工程师": TitleLevel.SENIOR,
    "教授级高级工程师": TitleLevel.SENIOR,
    "教授级高工": TitleLevel.SENIOR,
    "教授": TitleLevel.SENIOR,
    "研究员": TitleLevel.SENIOR,
    "主任医师": TitleLevel.SENIOR,
    "正高级会计师": TitleLevel.SENIOR,
    "正高级经济师": TitleLevel.SENIOR,
}
_TITLE_AFFIXES = re.compile(
    r"(专业技术)?(职称|职务|资格|任职资格|证书)|(及以上|或以上|以上)|^具有|^具备|^持有|^取得"
)


def parse_title_level(value: object) -> TitleLevel | None:
    """A 职称 grade: 初级/中级/副高级/正高级; tolerates "中级职称", "中级以上" (→ 中级), "副高",
    and common title names: 助理工程师 → 初级, 工程师/讲师 → 中级, 高级工程师/副教授 → 副高级,
    正高级工程师/教授级高工/教授/研究员 → 正高级. A bare "高级" or "高级职称" is read as 副高级 (the
    lowest 高级 grade). 不限/无/空 → None."""
    s = _norm(value).replace(" ", "")
    if s.lower() in _BLANKS or s in _NO_REQUIREMENT:
        return None
    if s in _TITLES:
        return _TITLES[s]
    if "技师" in s or s.endswith("级工") or "学徒" in s:
        raise ValueError("这是技能等级，不是职称；职称应为 初级、中级、副高级 或 正高级")
    core = _TITLE_AFFIXES.sub("", s).strip("()")
    if core in _TITLES:
        return _TITLES[core]
    if core in _NO_REQUIREMENT or core == "":
        return None
    for key, level in (
        ("正高", TitleLevel.SENIOR),
        ("教授级", TitleLevel.SENIOR),
        ("副高", TitleLevel.DEPUTY_SENIOR),
        ("高级", TitleLevel.DEPUTY_SENIOR),
        ("中级", TitleLevel.INTERMEDIATE),
        ("初级", TitleLevel.JUNIOR),
    ):
        if core.startswith(key):
            return level
    raise ValueError("无法识别的职称，应为 初级、中级、副高级 或 正高级")


_SKILL_LEVELS: dict[str, SkillLevel] = {
    "学徒工": SkillLevel.APPRENTICE,
    "学徒": SkillLevel.APPRENTICE,
    "初级工": SkillLevel.GRADE5,
    "初级": SkillLevel.GRADE5,
    "五级": SkillLevel.GRADE5,
    "5级": SkillLevel.GRADE5,
    "中级工": SkillLevel.GRADE4,
    "中级": SkillLevel.GRADE4,
    "四级": SkillLevel.GRADE4,
    "4级": SkillLevel.GRADE4,
    "高级工": SkillLevel.GRADE3,
    "高级": SkillLevel.GRADE3,
    "三级": SkillLevel.GRADE3,
    "3级": SkillLevel.GRADE3,
    "技师": SkillLevel.TECHNICIAN,
    "二级": SkillLevel.TECHNICIAN,
    "2级": SkillLevel.TECHNICIAN,
    "高级技师": SkillLevel.SENIOR_TECHNICIAN,
    "一级": SkillLevel.SENIOR_TECHNICIAN,
    "1级": SkillLevel.SENIOR_TECHNICIAN,
    "特级技师": SkillLevel.SPECIAL_TECHNICIAN,
    "首席技师": SkillLevel.CHIEF_TECHNICIAN,
}
_SKILL_AFFIXES = re.compile(r"国家|职业技能等级|职业资格|技能等级|证书|及以上|或以上|以上|^技能")


def parse_skill_level(value: object) -> SkillLevel | None:
    """A 新八级工 skill grade: 学徒工, 初级工 (五级), 中级工 (四级), 高级工 (三级), 技师 (二级),
    高级技师 (一级), 特级技师, 首席技师; "初级/中级/高级" alone mean 初级工/中级工/高级工; affixes
    such as 职业资格, 证书, 及以上 are dropped ("国家职业资格二级" → 技师). 不限/无/空 → None."""
    s = _norm(value).replace(" ", "")
    if s.lower() in _BLANKS or s in _NO_REQUIREMENT:
        return None
    if s in _SKILL_LEVELS:
        return _SKILL_LEVELS[s]
    core = _SKILL_AFFIXES.sub("", s)
    if core.startswith("(") and core.endswith(")"):
        core = core[1:-1]
    core = (
        re.sub(r"^(五|四|三|二|一|\d)级(?:/|\()?(.+?)\)?$", r"\2", core)
        if core not in _SKILL_LEVELS
        else core
    )
    if core in _SKILL_LEVELS:
        return _SKILL_LEVELS[core]
    m = re.fullmatch(r"(.+?)\((.+)\)", core)
    if m:
        for part in (m.group(1), m.group(2)):
            if part in _SKILL_LEVELS:
                return _SKILL_LEVELS[part]
    if core in _NO_REQUIREMENT or core == "":
        return None
    raise ValueError(
        "无法识别的技能等级，应为 学徒工、初级工、中级工、高级工、技师、高级技师、特级技师 或 首席技师"
    )


_CERT_GRADES = {
    "初级": CertGrade.JUNIOR,
    "初": CertGrade.JUNIOR,
    "中级": CertGrade.INTERMEDIATE,
    "中": CertGrade.INTERMEDIATE,
    "高级": CertGrade.SENIOR,
    "高": CertGrade.SENIOR,
}


def parse_cert_grade(value: object) -> CertGrade | None:
    """A 数字技术工程师 certificate grade: 初级/中级/高级, tolerating "中级证书", "中级及以上",
    "专业技术等级（中级）"; 不限/无/空 → None."""
    s = _norm(value).replace(" ", "")
    if s.lower() in _BLANKS or s in _NO_REQUIREMENT:
        return None
    core = re.sub(r"数字技术工程师|专业技术等级|等级|证书|及以上|或以上|以上|[()]", "", s)
    if core in _CERT_GRADES:
        return _CERT_GRADES[core]
    raise ValueError("无法识别的证书等级，应为 初级、中级 或 高级")


_CERT_NOISE = re.compile(
    r"数字技术工程师|专业技术等级证书|专业技术等级|培育项目|证书|工程技术人员|方向|[-:()\[\]【】]"
)
_GRADE_RE = re.compile(r"(初|中|高)级")


def parse_digital_certs(value: object) -> list[DigitalCert]:
    """数字技术工程师 certificates: "数字技术工程师（大数据）中级；人工智能初级" →
    [大数据/中级, 人工智能/初级]. Items are split like :func:`parse_list`; each needs a grade
    (初级/中级/高级) and a direction; "大数据工程技术人员（中级）" gives direction 大数据.
    JSON input may also give objects {"direction": ..., "grade": ...}."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, list | tuple):
        certs: list[DigitalCert] = []
        for item in value:
            if isinstance(item, DigitalCert):
                certs.append(item)
            elif isinstance(item, dict):
                direction = normalize_text(cell_text(item.get("direction")))
                grade = parse_cert_grade(item.get("grade"))
                if not direction or grade is None:
                    raise ValueError("数字技术工程师证书应包含方向（direction）和等级（grade）")
                certs.append(DigitalCert(direction=direction, grade=grade))
            else:
                certs.extend(parse_digital_certs(item))
        return _dedupe_certs(certs)
    certs = []
    for item in parse_list(normalize_text(cell_text(value))):
        grades = _GRADE_RE.findall(item)
        if not grades:
            raise ValueError(f"数字技术工程师证书“{_shown(item)}”缺少等级（初级、中级或高级）")
        if len(set(grades)) > 1:
            raise ValueError(f"数字技术工程师证书“{_shown(item)}”含有多个等级，请分开填写")
        direction = _CERT_NOISE.sub(" ", _GRADE_RE.sub(" ", item))
        direction = re.sub(r"\s+", "", direction).strip("·.,")
        if not direction:
            raise ValueError(f"数字技术工程师证书“{_shown(item)}”缺少方向（如 大数据、人工智能）")
        if len(direction) > 40:
            raise ValueError(f"数字技术工程师证书方向过长“{_shown(direction)}”")
        certs.append(DigitalCert(direction=direction, grade=_CERT_GRADES[grades[0] + "级"]))
    return _dedupe_certs(certs)


def _dedupe_certs(certs: list[DigitalCert]) -> list[DigitalCert]:
    seen: set[tuple[str, str]] = set()
    out: list[DigitalCert] = []
    for cert in certs:
        key = (cert.direction, cert.grade.value)
        if key not in seen:
            seen.add(key)
            out.append(cert)
    return out


def read_utf8(path: Path | str, what: str = "文件") -> str:
    """A UTF-8 text file (a BOM is allowed), or InvalidInput saying what is wrong; ``-`` reads stdin."""
    import sys

    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{what}不存在：{path}") from None
    except IsADirectoryError:
        raise InvalidInput(f"这是一个目录，不是{what}：{path}") from None
    except OSError as exc:
        raise InvalidInput(f"无法读取{what}：{Path(path).name}（{exc.strerror or exc}）") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {Path(path).name} 不是 UTF-8 编码的文本") from None


def read_json_file(path: Path | str, what: str = "JSON 文件") -> object:
    """The JSON value of a UTF-8 file, or InvalidInput with the line and column of a syntax error."""
    import json

    try:
        return json.loads(read_utf8(path, what))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what}不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）") from None
