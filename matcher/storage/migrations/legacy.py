"""What releases before migrations did at every start, run once by ``db upgrade`` on such a
database before it is stamped with the baseline revision."""

from __future__ import annotations

from sqlalchemy import String, cast, exists, inspect, text, update
from sqlalchemy.engine import Connection

from matcher.storage.records import LEGACY_SCOPE, STAFF_SCOPE
from matcher.storage.tables import AuditRow, DemandRow, TalentRow

__all__ = ["add_external_owner"]


def add_external_owner(c: Connection) -> None:
    """Bring a database made before external ids had owners up to date (additive: a column,
    a backfill and an index; create_all does not add columns to existing tables).

    Existing external ids go to the staff numbering, except those of records that a seeker
    or an enterprise created or changed (by the audit log): they may have set the id
    themselves, so they are marked unverified and no import matches them until staff set the
    id again. On PostgreSQL the old database-wide uniqueness is replaced by uniqueness per
    owner; SQLite cannot drop it without rebuilding the table, so there an external id stays
    unique across owners (a clash is a plain 409)."""
    for row_cls, resource in ((TalentRow, "talent"), (DemandRow, "demand")):
        table = row_cls.__tablename__
        if "external_owner" in {col["name"] for col in inspect(c).get_columns(table)}:
            continue
        c.execute(text(f"ALTER TABLE {table} ADD COLUMN external_owner VARCHAR(64)"))
        if c.dialect.name == "postgresql":
            c.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_external_id_key"))
        touched = exists().where(
            AuditRow.resource == resource, AuditRow.resource_id == cast(row_cls.id, String),
            AuditRow.action.in_(("create", "update")), AuditRow.actor_role.in_(("seeker", "enterprise")))
        pending = (row_cls.external_id.is_not(None), row_cls.external_owner.is_(None))
        ids = row_cls.__table__.c  # core statements: only the columns named here are written
        c.execute(update(row_cls.__table__).where(*pending, ~touched).values({ids.external_owner: STAFF_SCOPE}))
        c.execute(update(row_cls.__table__).where(*pending).values({ids.external_owner: LEGACY_SCOPE}))
        c.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{table}_external "
                       f"ON {table} (external_owner, external_id)"))
