"""The audit log: one row per changed or viewed record, written in the change's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from matcher.domain.auth import OPERATOR, Principal
from matcher.storage.lookup import equality_filters
from matcher.storage.tables import AuditRow


def write_audit(s: Session, actor: Principal | None, action: str, resource: str, ids: Sequence[Any],
                detail: dict[str, Any] | None = None) -> None:
    """Audit rows for ``ids`` in the session ``s`` (committed, or rolled back, with the change)."""
    actor = actor or OPERATOR
    if not ids:
        return
    base = {"actor_key_id": actor.key_id, "actor_role": str(actor.role), "actor_label": actor.label,
            "action": action, "resource": resource, "detail": detail or {}}
    # one multi-row INSERT (an import audits every record it writes), not an ORM object per row
    s.execute(insert(AuditRow.__table__), [{**base, "resource_id": str(i)} for i in ids])


def audit_page(s: Session, *, offset: int = 0, limit: int = 50, **filters: Any) -> tuple[list[dict[str, Any]], int]:
    """A page of the audit log, newest first, and the total count; filters by equality on columns."""
    conds = equality_filters(AuditRow, filters, lambda key, value: str(value) if key == "resource_id" else value)
    total = s.scalar(select(func.count()).select_from(AuditRow).where(*conds)) or 0
    q = select(AuditRow).where(*conds).order_by(AuditRow.id.desc()).offset(offset).limit(limit)
    items = [{"id": r.id, "at": r.at.isoformat(), "actor_key_id": r.actor_key_id,
              "actor_role": r.actor_role, "actor_label": r.actor_label, "action": r.action,
              "resource": r.resource, "resource_id": r.resource_id, "detail": r.detail or {}}
             for r in s.scalars(q)]
    return items, total
