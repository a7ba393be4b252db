"""Lookups every repository runs in its session: a row by key or NotFound, equality filters."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.orm import Session

from matcher.core.errors import InvalidInput, NotFound

R = TypeVar("R")


def get_row(s: Session, row_cls: type[R], key: Any, label: str, **options: Any) -> R:
    """The row of ``row_cls`` with primary key ``key``; NotFound "<label> <key> 不存在" if none."""
    row = s.get(row_cls, key, **options)
    if row is None:
        raise NotFound(f"{label} {key} 不存在")
    return row


def equality_filters(row_cls: Any, filters: dict[str, Any], convert: Any = None) -> list[Any]:
    """``column == value`` for every given filter (None skips one); InvalidInput for an unknown
    column. ``convert(key, value)`` changes a value before comparing."""
    conds = []
    for key, value in filters.items():
        if value is None:
            continue
        col = getattr(row_cls, key, None)
        if col is None:
            raise InvalidInput(f"不支持的筛选字段：{key}")
        conds.append(col == (convert(key, value) if convert else value))
    return conds
