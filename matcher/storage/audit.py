"""The audit log: one row per changed or viewed record, written in the change's own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from matcher.domain.auth import OPERATOR, Principal
from matcher.storage.tables import AuditRow


def write_audit(s: Session, actor: Principal | None, action: str, resource: str, ids: Sequence[Any],
                detail: dict[str, Any] | None = None) -> None:
    """Audit rows for ``ids`` in the session ``s`` (committed, or rolled back, with the change)."""
    actor = actor or OPERATOR
    for i in ids:
        s.add(AuditRow(actor_key_id=actor.key_id, actor_role=str(actor.role), actor_label=actor.label,
                       action=action, resource=resource, resource_id=str(i), detail=detail or {}))
