"""Parsing one cell for its target field (status words, codes, salaries with a unit from the header, lists)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from matcher.core.textnorm import normalize_text
from matcher.ingest.fields import ImportKind
from matcher.ingest.parsing import (
    cell_text,
    is_blank,
    parse_bool,
    parse_date,
    parse_digital_certs,
    parse_education,
    parse_experience,
    parse_int,
    parse_list,
    parse_salary,
    parse_shortage_level,
    parse_skill_level,
    parse_title_level,
    parse_year,
)
from matcher.ingest.parsing.salary import names_period

# ---------------------------------------------------------------------------------------------
# value parsing per field
# ---------------------------------------------------------------------------------------------

_STATUS = {
    "open": "open",
    "招聘中": "open",
    "开放": "open",
    "有效": "open",
    "进行中": "open",
    "在招": "open",
    "closed": "closed",
    "关闭": "closed",
    "已关闭": "closed",
    "已结束": "closed",
    "结束": "closed",
    "已招满": "closed",
    "draft": "draft",
    "草稿": "draft",
}
_TALENT_STATUS = {
    "active": "active",
    "有效": "active",
    "在库": "active",
    "正常": "active",
    "求职中": "active",
    "inactive": "inactive",
    "无效": "inactive",
    "停用": "inactive",
    "已就业": "inactive",
    "暂停": "inactive",
}
_SOURCE = {
    "post": "post",
    "岗位发布": "post",
    "企业发布": "post",
    "发布": "post",
    "catalogue": "catalogue",
    "目录": "catalogue",
    "紧缺目录": "catalogue",
    "需求目录": "catalogue",
    "fair": "fair",
    "招聘会": "fair",
    "双选会": "fair",
}


def _choice(table: dict[str, str], label: str) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        s = normalize_text(cell_text(value)).lower()
        if is_blank(s):
            return None
        if s in table:
            return table[s]
        options = "、".join(sorted({k for k in table if not k.isascii()}))
        raise ValueError(f"无法识别的{label}“{cell_text(value)}”，应为 {options}")

    return parse


def _parse_text(value: object) -> str | None:
    if isinstance(value, list | tuple | dict):
        raise ValueError("应为文本，不能是列表或对象")
    text = cell_text(value)
    return None if is_blank(text) else text


def _parse_code(value: object) -> str | None:
    text = _parse_text(value)
    return normalize_text(text).replace(" ", "") if text else None


def _salary_low(value: object) -> int | None:
    lo, hi = parse_salary(value)
    return lo if lo is not None else hi


def _salary_high(value: object) -> int | None:
    lo, hi = parse_salary(value)
    return hi if hi is not None else lo


def _strict_int(value: object) -> int | None:
    return parse_int(value)


_LIST_FIELDS = frozenset(
    {
        "skills",
        "certificates",
        "preferred_cities",
        "desired_occupations",
        "desired_chains",
        "majors",
        "required_skills",
        "preferred_skills",
        "required_certificates",
    }
)
_PARSERS: dict[str, Callable[[object], Any]] = {
    "education": parse_education,
    "title_level": parse_title_level,
    "required_title_level": parse_title_level,
    "skill_level": parse_skill_level,
    "required_skill_level": parse_skill_level,
    "digital_certs": parse_digital_certs,
    "experience_years": parse_experience,
    "min_experience_years": parse_experience,
    "graduation_year": parse_year,
    "shortage_level": parse_shortage_level,
    "headcount": _strict_int,
    "id": _strict_int,
    "enterprise_id": _strict_int,
    "catalogue_id": _strict_int,
    "salary_min": _salary_low,
    "salary_max": _salary_high,
    "valid_from": parse_date,
    "valid_until": parse_date,
    "fresh_graduate": parse_bool,
    "consent": parse_bool,
    "fresh_graduates_ok": parse_bool,
    "source": _choice(_SOURCE, "来源"),
    "occupation_code": _parse_code,
}
for _name in _LIST_FIELDS:
    _PARSERS[_name] = parse_list


def parser_for(target: str, kind: ImportKind) -> Callable[[object], Any]:
    if target == "status":
        return _choice(_TALENT_STATUS if kind == "talents" else _STATUS, "状态")
    return _PARSERS.get(target, _parse_text)


_BARE_AMOUNT = re.compile(r"[\d.,\s\-~～至到—–]+(以上|以下)?")


def with_unit_hint(raw: object, hint: str | None) -> object:
    """A salary cell with what the header states and the cell does not: its unit and period
    ("8-12" + "万元/年"; "4.8" under 年薪均值（万元） → "4.8万元/年"), or its period alone when
    the cell writes a unit but no period ("4.8万" under 年薪 → "4.8万/年")."""
    if not hint or raw is None or isinstance(raw, bool):
        return raw
    text = cell_text(raw)
    if _BARE_AMOUNT.fullmatch(text):
        m = re.fullmatch(r"(.*?)(以上|以下)?", text)
        assert m is not None
        return f"{m.group(1)}{hint}{m.group(2) or ''}"
    period = hint[hint.index("/"):] if "/" in hint else ""
    if period and not names_period(text) and re.search(r"\d", text):
        m = re.fullmatch(r"(.*?)(以上|以下)?", text)
        assert m is not None
        return f"{m.group(1)}{period}{m.group(2) or ''}"
    return raw
