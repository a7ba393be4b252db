"""Batch jobs: runs, committed shards and the stored top-k of the nightly re-match (matcher.storage.batch_repo).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batch_runs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('job', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('shards', sa.Integer(), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batch_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_runs_job'), ['job'], unique=False)
        batch_op.create_index(batch_op.f('ix_batch_runs_status'), ['status'], unique=False)

    op.create_table('batch_shards',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=100), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['batch_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'shard')
    )
    op.create_table('batch_matches',
    sa.Column('run_id', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('query_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('seeker_score', sa.Float(), nullable=False),
    sa.Column('employer_score', sa.Float(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('shard', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['batch_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'side', 'query_id', 'rank')
    )
    with op.batch_alter_table('batch_matches', schema=None) as batch_op:
        batch_op.create_index('ix_batch_matches_lookup', ['side', 'query_id', 'run_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('batch_matches', schema=None) as batch_op:
        batch_op.drop_index('ix_batch_matches_lookup')
    op.drop_table('batch_matches')
    op.drop_table('batch_shards')
    with op.batch_alter_table('batch_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_runs_status'))
        batch_op.drop_index(batch_op.f('ix_batch_runs_job'))
    op.drop_table('batch_runs')
