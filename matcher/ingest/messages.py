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


def zh_reason(err: dict[str, Any]) -> str:
    """A pydantic error as a short Chinese reason, for row errors and form fields."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = err.get("loc") or ()
    if kind == "missing":
        return "必填，不能为空"
    if kind == "string_too_short":
        return (
            "不能为空"
            if ctx.get("min_length", 1) <= 1
            else f"过短（至少 {ctx['min_length']} 个字符）"
        )
    if kind == "string_too_long":
        return f"过长（最多 {ctx.get('max_length')} 个字符）"
    if kind == "too_long":
        return f"条目过多（最多 {ctx.get('max_length')} 项）"
    if kind == "too_short":
        return f"条目过少（至少 {ctx.get('min_length')} 项）"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "greater_than":
        return f"应大于 {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if kind == "less_than":
        return f"应小于 {ctx.get('lt')}"
    if kind == "string_pattern_mismatch":
        if loc and loc[0] == "occupation_code":
            return "职业编码格式应如 2-02-10-03"
        return "格式不正确"
    if kind.startswith("int_"):
        return "应为整数"
    if kind.startswith("float_"):
        return "应为数字"
    if kind.startswith("bool_"):
        return "应为“是”或“否”"
    if kind.startswith("date_") or kind.startswith("datetime_"):
        return "应为日期，如 2026-01-31"
    if kind in ("enum", "literal_error"):
        return f"取值无效，应为 {ctx.get('expected', '')}".strip()
    if kind == "string_type":
        return "应为文本"
    if kind == "list_type":
        return "应为列表"
    if kind == "extra_forbidden":
        return "未知字段"
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

