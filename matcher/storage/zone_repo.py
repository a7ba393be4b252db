"""Subscriptions of the direct-train zone (高校人才直通车): table and repository.

A subscriber is a talent (by id) or a school (by name); a subscription filters by chains,
occupations (CSCO codes or code prefixes) and cities, and keeps a cursor: the id of the last
demand entry delivered. ``Subscriptions`` works in the caller's session (its unit of work);
``SubscriptionRepo`` opens one per call.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.storage.audit import write_audit
from matcher.storage.lookup import get_row
from matcher.storage.tables import SubscriptionRow, TalentRow, utc_now


def _as_dict(r: SubscriptionRow) -> dict[str, Any]:
    return {"id": r.id, "subscriber_kind": r.subscriber_kind, "talent_id": r.talent_id, "school": r.school,
            "label": r.label or "", "chains": list(r.chains or []), "occupations": list(r.occupations or []),
            "cities": list(r.cities or []), "fresh_only": r.fresh_only, "last_seen_id": r.last_seen_id,
            "created_at": r.created_at, "updated_at": r.updated_at}


class Subscriptions:
    """The subscriptions table in the caller's session."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def create(self, *, subscriber_kind: str, talent_id: int | None, school: str | None, label: str,
               chains: list[str], occupations: list[str], cities: list[str], fresh_only: bool,
               last_seen_id: int, actor: Any = None) -> dict[str, Any]:
        s = self.s
        if talent_id is not None:
            get_row(s, TalentRow, talent_id, "人才档案")
        row = SubscriptionRow(subscriber_kind=subscriber_kind, talent_id=talent_id, school=school, label=label,
                              chains=chains, occupations=occupations, cities=cities, fresh_only=fresh_only,
                              last_seen_id=last_seen_id)
        s.add(row)
        s.flush()
        write_audit(s, actor, "create", "subscription", [row.id])
        return _as_dict(row)

    def get(self, sub_id: int) -> dict[str, Any]:
        return _as_dict(get_row(self.s, SubscriptionRow, sub_id, "订阅"))

    def list(self, *, talent_id: int | None = None, school: str | None = None) -> list[dict[str, Any]]:
        q = select(SubscriptionRow).order_by(SubscriptionRow.id)
        if talent_id is not None:
            q = q.where(SubscriptionRow.talent_id == talent_id)
        if school is not None:
            q = q.where(SubscriptionRow.school == school)
        return [_as_dict(r) for r in self.s.scalars(q)]

    def delete(self, sub_id: int, actor: Any = None) -> None:
        self.s.delete(get_row(self.s, SubscriptionRow, sub_id, "订阅"))
        write_audit(self.s, actor, "delete", "subscription", [sub_id])

    def advance(self, sub_id: int, cursor: int) -> dict[str, Any]:
        """Move the cursor forward to ``cursor`` (never back)."""
        row = get_row(self.s, SubscriptionRow, sub_id, "订阅", with_for_update=True)
        if cursor > row.last_seen_id:
            row.last_seen_id = cursor
            row.updated_at = utc_now()
        self.s.flush()
        return _as_dict(row)


class SubscriptionRepo:
    """Typed access to the subscriptions table; each call is one transaction."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def create(self, **fields: Any) -> dict[str, Any]:
        with self.store.session() as s:
            return Subscriptions(s).create(**fields)

    def get(self, sub_id: int) -> dict[str, Any]:
        with self.store.session() as s:
            return Subscriptions(s).get(sub_id)

    def list(self, *, talent_id: int | None = None, school: str | None = None) -> list[dict[str, Any]]:
        with self.store.session() as s:
            return Subscriptions(s).list(talent_id=talent_id, school=school)

    def delete(self, sub_id: int, actor: Any = None) -> None:
        with self.store.session() as s:
            Subscriptions(s).delete(sub_id, actor)

    def advance(self, sub_id: int, cursor: int) -> dict[str, Any]:
        """Move the cursor forward to ``cursor`` (never back)."""
        with self.store.session() as s:
            return Subscriptions(s).advance(sub_id, cursor)
