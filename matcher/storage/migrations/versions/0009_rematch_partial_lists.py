"""Re-match partial lists: each profile shard's nearest profiles per post (batch_partials),
merged per post into the post's candidate pool, deleted when the run ends.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_partials",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("query_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("cos", sa.Float(), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["batch_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "query_id", "other_id"),
    )


def downgrade() -> None:
    op.drop_table("batch_partials")
