"""Baseline: the schema of release 0.2 (commit bf19d79), as create_all made it.

A database made by that release (tm_meta.schema_version = 1, no alembic_version) is stamped
with this revision by `talentmatch db upgrade` (see matcher.storage.migrations).

Revision ID: 0001
Revises: -
Create Date: 2026-11-30 08:41:19.700468
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_key_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('resource', sa.String(length=32), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_log_action'), 'audit_log', ['action'], unique=False)
    op.create_index(op.f('ix_audit_log_actor_key_id'), 'audit_log', ['actor_key_id'], unique=False)
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_index(op.f('ix_audit_log_resource'), 'audit_log', ['resource'], unique=False)
    op.create_index(op.f('ix_audit_log_resource_id'), 'audit_log', ['resource_id'], unique=False)
    op.create_table('catalogues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region', sa.String(length=50), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('chain_registry', sa.String(length=50), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('region', 'year', 'name')
    )
    op.create_index(op.f('ix_catalogues_region'), 'catalogues', ['region'], unique=False)
    op.create_index(op.f('ix_catalogues_year'), 'catalogues', ['year'], unique=False)
    op.create_table('chains',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('region', sa.String(length=50), nullable=False),
    sa.Column('registry', sa.String(length=50), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('parent_sector', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_chains_region'), 'chains', ['region'], unique=False)
    op.create_index(op.f('ix_chains_registry'), 'chains', ['registry'], unique=False)
    op.create_table('embeddings',
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('model', 'text_hash')
    )
    op.create_table('enterprises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('city', sa.String(length=50), nullable=True),
    sa.Column('chain_id', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('fairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('venue', sa.String(length=200), nullable=True),
    sa.Column('start_time', sa.String(length=5), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('slots_per_booth', sa.Integer(), nullable=True),
    sa.Column('default_limit', sa.Integer(), nullable=False),
    sa.Column('default_capacity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('talents',
    sa.Column('consent', sa.Boolean(), nullable=False),
    sa.Column('fresh_graduate', sa.Boolean(), nullable=False),
    sa.Column('experience_years', sa.Float(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('external_owner', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=50), nullable=True),
    sa.Column('province', sa.String(length=50), nullable=True),
    sa.Column('education_rank', sa.Integer(), nullable=True),
    sa.Column('salary_min', sa.Integer(), nullable=True),
    sa.Column('salary_max', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('external_owner', 'external_id', name='uq_talents_external')
    )
    op.create_index(op.f('ix_talents_city'), 'talents', ['city'], unique=False)
    op.create_index(op.f('ix_talents_consent'), 'talents', ['consent'], unique=False)
    op.create_index(op.f('ix_talents_province'), 'talents', ['province'], unique=False)
    op.create_index(op.f('ix_talents_status'), 'talents', ['status'], unique=False)
    op.create_table('tm_meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('talent_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['talent_id'], ['talents.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('prefix')
    )
    op.create_table('demand_entries',
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('catalogue_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('occupation_code', sa.String(length=16), nullable=True),
    sa.Column('chain_id', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('fresh_graduates_ok', sa.Boolean(), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('shortage_level', sa.Integer(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('external_owner', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=50), nullable=True),
    sa.Column('province', sa.String(length=50), nullable=True),
    sa.Column('education_rank', sa.Integer(), nullable=True),
    sa.Column('salary_min', sa.Integer(), nullable=True),
    sa.Column('salary_max', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogues.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('external_owner', 'external_id', name='uq_demand_entries_external')
    )
    op.create_index(op.f('ix_demand_entries_catalogue_id'), 'demand_entries', ['catalogue_id'], unique=False)
    op.create_index(op.f('ix_demand_entries_chain_id'), 'demand_entries', ['chain_id'], unique=False)
    op.create_index(op.f('ix_demand_entries_city'), 'demand_entries', ['city'], unique=False)
    op.create_index(op.f('ix_demand_entries_enterprise_id'), 'demand_entries', ['enterprise_id'], unique=False)
    op.create_index(op.f('ix_demand_entries_occupation_code'), 'demand_entries', ['occupation_code'], unique=False)
    op.create_index(op.f('ix_demand_entries_province'), 'demand_entries', ['province'], unique=False)
    op.create_index(op.f('ix_demand_entries_source'), 'demand_entries', ['source'], unique=False)
    op.create_index(op.f('ix_demand_entries_status'), 'demand_entries', ['status'], unique=False)
    op.create_table('fair_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fair_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_fair_runs_fair_id'), 'fair_runs', ['fair_id'], unique=False)
    op.create_table('fair_seekers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fair_id', sa.Integer(), nullable=False),
    sa.Column('talent_id', sa.Integer(), nullable=False),
    sa.Column('interview_limit', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['talent_id'], ['talents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fair_id', 'talent_id')
    )
    op.create_index(op.f('ix_fair_seekers_fair_id'), 'fair_seekers', ['fair_id'], unique=False)
    op.create_index(op.f('ix_fair_seekers_talent_id'), 'fair_seekers', ['talent_id'], unique=False)
    op.create_table('fair_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fair_id', sa.Integer(), nullable=False),
    sa.Column('booth', sa.String(length=50), nullable=False),
    sa.Column('starts', sa.String(length=5), nullable=False),
    sa.Column('ends', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fair_id', 'booth', 'starts')
    )
    op.create_index(op.f('ix_fair_slots_fair_id'), 'fair_slots', ['fair_id'], unique=False)
    op.create_table('zone_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_kind', sa.String(length=16), nullable=False),
    sa.Column('talent_id', sa.Integer(), nullable=True),
    sa.Column('school', sa.String(length=100), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('chains', sa.JSON(), nullable=False),
    sa.Column('occupations', sa.JSON(), nullable=False),
    sa.Column('cities', sa.JSON(), nullable=False),
    sa.Column('fresh_only', sa.Boolean(), nullable=False),
    sa.Column('last_seen_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['talent_id'], ['talents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_zone_subscriptions_school'), 'zone_subscriptions', ['school'], unique=False)
    op.create_index(op.f('ix_zone_subscriptions_subscriber_kind'), 'zone_subscriptions', ['subscriber_kind'], unique=False)
    op.create_index(op.f('ix_zone_subscriptions_talent_id'), 'zone_subscriptions', ['talent_id'], unique=False)
    op.create_table('fair_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('talent_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('seeker_name', sa.String(length=100), nullable=True),
    sa.Column('school', sa.String(length=100), nullable=True),
    sa.Column('fresh_graduate', sa.Boolean(), nullable=False),
    sa.Column('post_title', sa.String(length=200), nullable=False),
    sa.Column('enterprise', sa.String(length=200), nullable=True),
    sa.Column('chain_id', sa.String(length=64), nullable=True),
    sa.Column('chain_name', sa.String(length=100), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('seeker_score', sa.Float(), nullable=False),
    sa.Column('employer_score', sa.Float(), nullable=False),
    sa.Column('wish_rank', sa.Integer(), nullable=True),
    sa.Column('must_see', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('booth', sa.String(length=50), nullable=False),
    sa.Column('starts', sa.String(length=5), nullable=True),
    sa.Column('ends', sa.String(length=5), nullable=True),
    sa.Column('unscheduled_reason', sa.String(length=200), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['fair_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_fair_assignments_run_id'), 'fair_assignments', ['run_id'], unique=False)
    op.create_table('fair_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fair_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booth', sa.String(length=50), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['demand_id'], ['demand_entries.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fair_id', 'demand_id')
    )
    op.create_index(op.f('ix_fair_posts_demand_id'), 'fair_posts', ['demand_id'], unique=False)
    op.create_index(op.f('ix_fair_posts_fair_id'), 'fair_posts', ['fair_id'], unique=False)
    op.create_table('fair_wishes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('fair_id', sa.Integer(), nullable=False),
    sa.Column('talent_id', sa.Integer(), nullable=False),
    sa.Column('demand_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['demand_id'], ['demand_entries.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fair_id'], ['fairs.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['talent_id'], ['talents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fair_id', 'talent_id', 'demand_id', 'kind')
    )
    op.create_index(op.f('ix_fair_wishes_fair_id'), 'fair_wishes', ['fair_id'], unique=False)
    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('csrf', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['key_id'], ['api_keys.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_web_sessions_key_id'), 'web_sessions', ['key_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_sessions_key_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index(op.f('ix_fair_wishes_fair_id'), table_name='fair_wishes')
    op.drop_table('fair_wishes')
    op.drop_index(op.f('ix_fair_posts_fair_id'), table_name='fair_posts')
    op.drop_index(op.f('ix_fair_posts_demand_id'), table_name='fair_posts')
    op.drop_table('fair_posts')
    op.drop_index(op.f('ix_fair_assignments_run_id'), table_name='fair_assignments')
    op.drop_table('fair_assignments')
    op.drop_index(op.f('ix_zone_subscriptions_talent_id'), table_name='zone_subscriptions')
    op.drop_index(op.f('ix_zone_subscriptions_subscriber_kind'), table_name='zone_subscriptions')
    op.drop_index(op.f('ix_zone_subscriptions_school'), table_name='zone_subscriptions')
    op.drop_table('zone_subscriptions')
    op.drop_index(op.f('ix_fair_slots_fair_id'), table_name='fair_slots')
    op.drop_table('fair_slots')
    op.drop_index(op.f('ix_fair_seekers_talent_id'), table_name='fair_seekers')
    op.drop_index(op.f('ix_fair_seekers_fair_id'), table_name='fair_seekers')
    op.drop_table('fair_seekers')
    op.drop_index(op.f('ix_fair_runs_fair_id'), table_name='fair_runs')
    op.drop_table('fair_runs')
    op.drop_index(op.f('ix_demand_entries_status'), table_name='demand_entries')
    op.drop_index(op.f('ix_demand_entries_source'), table_name='demand_entries')
    op.drop_index(op.f('ix_demand_entries_province'), table_name='demand_entries')
    op.drop_index(op.f('ix_demand_entries_occupation_code'), table_name='demand_entries')
    op.drop_index(op.f('ix_demand_entries_enterprise_id'), table_name='demand_entries')
    op.drop_index(op.f('ix_demand_entries_city'), table_name='demand_entries')
    op.drop_index(op.f('ix_demand_entries_chain_id'), table_name='demand_entries')
    op.drop_index(op.f('ix_demand_entries_catalogue_id'), table_name='demand_entries')
    op.drop_table('demand_entries')
    op.drop_table('api_keys')
    op.drop_table('tm_meta')
    op.drop_index(op.f('ix_talents_status'), table_name='talents')
    op.drop_index(op.f('ix_talents_province'), table_name='talents')
    op.drop_index(op.f('ix_talents_consent'), table_name='talents')
    op.drop_index(op.f('ix_talents_city'), table_name='talents')
    op.drop_table('talents')
    op.drop_table('fairs')
    op.drop_table('enterprises')
    op.drop_table('embeddings')
    op.drop_index(op.f('ix_chains_registry'), table_name='chains')
    op.drop_index(op.f('ix_chains_region'), table_name='chains')
    op.drop_table('chains')
    op.drop_index(op.f('ix_catalogues_year'), table_name='catalogues')
    op.drop_index(op.f('ix_catalogues_region'), table_name='catalogues')
    op.drop_table('catalogues')
    op.drop_index(op.f('ix_audit_log_resource_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_resource'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_actor_key_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_action'), table_name='audit_log')
    op.drop_table('audit_log')
