"""Row errors in Chinese: pydantic's errors explained, values and names quoted short."""

from __future__ import annotations

import json
from typing import Any

from matcher.core.errors import RowError
from matcher.ingest.fields import REASON_CHARS
from matcher.ingest.parsing import (
    cell_text,
)
from matcher.ingest.safe_cells import EXCERPT_CHARS, excerpt

# ---------------------------------------------------------------------------------------------
# pydantic errors in Chinese
# ---------------------------------------------------------------------------------------------


# pydantic error types whose reason is a template over the error's context
_REASONS = {
    "missing": "必填，不能为空",
    "string_too_long": "过长（最多 {max_length} 个字符）",
    "too_long": "条目过多（最多 {max_length} 项）",
    "too_short": "条目过少（至少 {min_length} 项）",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "string_type": "应为文本",
    "list_type": "应为列表",
    "extra_forbidden": "未知字段",
}
# families of types (int_parsing, int_from_float …) by prefix
_PREFIX_REASONS = (
    ("int_", "应为整数"),
    ("float_", "应为数字"),
    ("bool_", "应为“是”或“否”"),
    ("date_", "应为日期，如 2026-01-31"),
    ("datetime_", "应为日期，如 2026-01-31"),
)


class _Context(dict):
    """An error's context for a template: a value it lacks reads as None."""

    def __missing__(self, key: str) -> None:
        return None


def zh_reason(err: dict[str, Any]) -> str:
    """A pydantic error as a short Chinese reason, for row errors and form fields."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = err.get("loc") or ()
    if kind in _REASONS:
        return _REASONS[kind].format_map(_Context(ctx))
    for prefix, reason in _PREFIX_REASONS:
        if kind.startswith(prefix):
            return reason
    if kind == "string_too_short":
        return (
            "不能为空"
            if ctx.get("min_length", 1) <= 1
            else f"过短（至少 {ctx['min_length']} 个字符）"
        )
    if kind == "string_pattern_mismatch":
        if loc and loc[0] == "occupation_code":
            return "职业编码格式应如 2-02-10-03"
        return "格式不正确"
    if kind in ("enum", "literal_error"):
        return f"取值无效，应为 {ctx.get('expected', '')}".strip()
    if kind == "value_error":
        msg = str(ctx.get("error") or err.get("msg", "")).removeprefix("Value error, ")
        if "salary_min" in msg:
            return "薪资下限不能大于上限"
        if "valid_from" in msg:
            return "有效期开始日期不能晚于截止日期"
        return msg
    return f"取值无效（{err.get('msg', '')}）"


def quoted_names(names: list[str], most: int = 5, unit: str = "列") -> str:
    """Names (headers, sheets, fields) for a message: a few, each cut short, and how many in all."""
    shown = "、".join(excerpt(n, 30) for n in names[:most])
    return shown + (f" 等 {len(names)} {unit}" if len(names) > most else "")


def shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = cell_text(value)
    return excerpt(text)



def shorten_errors(errors: list[RowError]) -> list[RowError]:
    """Row errors with their quoted parts cut short: field names and values to an excerpt, reasons
    to a few hundred characters (a safety net: values are cut where they are quoted, too)."""
    for e in errors:
        if e.value is not None and len(e.value) > EXCERPT_CHARS + 1:
            e.value = excerpt(e.value)
        if len(e.field) > EXCERPT_CHARS + 1:
            e.field = excerpt(e.field)
        if len(e.reason) > REASON_CHARS:
            e.reason = excerpt(e.reason, REASON_CHARS)
    return errors

