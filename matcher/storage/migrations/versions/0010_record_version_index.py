"""The versions of a set of records read from an index on (id, version), not from the rows: a
ranking checks its ~200 candidates' versions against the records it keeps on every call, and a
row's version sits behind its large data and text columns (on SQLite, in overflow pages).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLES = ("demand_entries", "talents")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_id_version", table, ["id", "version"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_id_version", table_name=table)
