"""Narrow reads that the feature packages (analytics, zone) run over the record tables: ids with
the few columns they filter on, in batches, so that only the matching records are loaded whole."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from matcher.storage.tables import DemandRow, TalentRow


def open_entry_batches(s_factory: Any, *, sources: Sequence[str], fresh_only: bool, after_id: int,
                       day: date, batch: int = 500) -> Iterator[list[tuple[int, datetime]]]:
    """(id, created_at) of open entries of these sources valid on ``day``, with id > after_id, in
    id order, a batch at a time (``s_factory`` opens a session per batch)."""
    last = after_id
    while True:
        with s_factory() as s:
            q = (select(DemandRow.id, DemandRow.created_at)
                 .where(DemandRow.id > last, DemandRow.status == "open", DemandRow.source.in_(list(sources)),
                        or_(DemandRow.valid_until.is_(None), DemandRow.valid_until >= day))
                 .order_by(DemandRow.id).limit(batch))
            if fresh_only:
                q = q.where(DemandRow.fresh_graduates_ok.is_(True))
            rows = [(int(i), created) for i, created in s.execute(q)]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def max_entry_id(s: Session) -> int:
    return int(s.scalar(select(func.max(DemandRow.id))) or 0)


def open_entry_cities(s: Session, sources: Sequence[str]) -> Iterator[tuple[int, str | None]]:
    """(id, city) of every open entry of these sources."""
    q = select(DemandRow.id, DemandRow.city).where(DemandRow.source.in_(list(sources)), DemandRow.status == "open")
    yield from s.execute(q)


def active_talent_rows(s: Session) -> Iterator[tuple[int, str | None, bool, dict[str, Any]]]:
    """(id, city, fresh graduate, profile data) of every active talent, streamed."""
    q = select(TalentRow.id, TalentRow.city, TalentRow.fresh_graduate, TalentRow.data).where(
        TalentRow.status == "active")
    for i, city, fresh, data in s.execute(q).yield_per(2000):
        yield i, city, fresh, data or {}
