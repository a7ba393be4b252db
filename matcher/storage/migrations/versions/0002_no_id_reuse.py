"""No id reuse on SQLite: AUTOINCREMENT on the tables whose ids are seen outside the row.

SQLite reuses the highest deleted rowid without it (a deleted demand entry's id went to another
enterprise's new entry). The tables are rebuilt (Alembic batch mode: copy, drop, rename) with
their rows, ids, indexes and constraints; foreign keys are off during the migration (see
matcher.storage.migrations) so the rebuild cascades nothing. PostgreSQL sequences never reuse
ids: nothing to do there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("enterprises", "catalogues", "demand_entries", "talents", "api_keys", "audit_log", "fairs",
          "fair_runs", "zone_subscriptions")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
