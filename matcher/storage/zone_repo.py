"""Subscriptions of the direct-train zone (高校人才直通车): table and repository.

A subscriber is a talent (by id) or a school (by name); a subscription filters by chains,
occupations (CSCO codes or code prefixes) and cities, and keeps a cursor: the id of the last
demand entry delivered. The table is declared on ``matcher.storage.store.Base``, so
``Store.create_schema`` creates it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from matcher.core.errors import NotFound
from matcher.storage.audit import write_audit
from matcher.storage.tables import SubscriptionRow, TalentRow, utc_now


def _as_dict(r: SubscriptionRow) -> dict[str, Any]:
    return {"id": r.id, "subscriber_kind": r.subscriber_kind, "talent_id": r.talent_id, "school": r.school,
            "label": r.label or "", "chains": list(r.chains or []), "occupations": list(r.occupations or []),
            "cities": list(r.cities or []), "fresh_only": r.fresh_only, "last_seen_id": r.last_seen_id,
            "created_at": r.created_at, "updated_at": r.updated_at}


class SubscriptionRepo:
    """Typed access to the subscriptions table; each call is one transaction."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def create(self, *, subscriber_kind: str, talent_id: int | None, school: str | None, label: str,
               chains: list[str], occupations: list[str], cities: list[str], fresh_only: bool,
               last_seen_id: int, actor: Any = None) -> dict[str, Any]:
        with self.store.session() as s:
            if talent_id is not None and s.get(TalentRow, talent_id) is None:
                raise NotFound(f"人才档案 {talent_id} 不存在")
            row = SubscriptionRow(subscriber_kind=subscriber_kind, talent_id=talent_id, school=school, label=label,
                                  chains=chains, occupations=occupations, cities=cities, fresh_only=fresh_only,
                                  last_seen_id=last_seen_id)
            s.add(row)
            s.flush()
            write_audit(s, actor, "create", "subscription", [row.id])
            return _as_dict(row)

    def get(self, sub_id: int) -> dict[str, Any]:
        with self.store.session() as s:
            row = s.get(SubscriptionRow, sub_id)
            if row is None:
                raise NotFound(f"订阅 {sub_id} 不存在")
            return _as_dict(row)

    def list(self, *, talent_id: int | None = None, school: str | None = None) -> list[dict[str, Any]]:
        with self.store.session() as s:
            q = select(SubscriptionRow).order_by(SubscriptionRow.id)
            if talent_id is not None:
                q = q.where(SubscriptionRow.talent_id == talent_id)
            if school is not None:
                q = q.where(SubscriptionRow.school == school)
            return [_as_dict(r) for r in s.scalars(q)]

    def delete(self, sub_id: int, actor: Any = None) -> None:
        with self.store.session() as s:
            row = s.get(SubscriptionRow, sub_id)
            if row is None:
                raise NotFound(f"订阅 {sub_id} 不存在")
            s.delete(row)
            write_audit(s, actor, "delete", "subscription", [sub_id])

    def advance(self, sub_id: int, cursor: int) -> dict[str, Any]:
        """Move the cursor forward to ``cursor`` (never back)."""
        with self.store.session() as s:
            row = s.get(SubscriptionRow, sub_id, with_for_update=True)
            if row is None:
                raise NotFound(f"订阅 {sub_id} 不存在")
            if cursor > row.last_seen_id:
                row.last_seen_id = cursor
                row.updated_at = utc_now()
            s.flush()
            return _as_dict(row)
