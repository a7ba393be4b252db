"""Every table of the database, on one declarative ``Base``: the only place that declares ORM rows.

Repositories (``records``, ``accounts``, ``organisations``, ``vectors``, ``fair_repo``, ``zone_repo``,
``chains_repo``, ``outcomes_repo``; ``store`` is their facade) read and write them; nothing outside
``matcher.storage`` names a row class.

No ``from __future__ import annotations`` here: SQLAlchemy reads each ``Mapped[...]`` annotation,
and string annotations must be evaluated first (twice the import time of this module).
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_aware(t: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they were stored in UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


# Tables whose ids are seen outside the row (URLs, foreign keys, the audit log, subscription cursors):
# on SQLite their ids are never reused after a delete (AUTOINCREMENT); PostgreSQL sequences never reuse.
NO_REUSE: dict[str, Any] = {"sqlite_autoincrement": True}


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class MetaRow(Base):
    __tablename__ = "tm_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ChainRow(Base):
    __tablename__ = "chains"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(50), index=True)
    registry_name: Mapped[str] = mapped_column("registry", String(50), index=True)
    keywords: Mapped[list[Any]] = mapped_column(JSON, default=list)
    parent_sector: Mapped[str | None] = mapped_column(String(100))


class EnterpriseRow(Base):
    __tablename__ = "enterprises"
    __table_args__ = NO_REUSE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    city: Mapped[str | None] = mapped_column(String(50))
    chain_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # as RecordColumns.version
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)


class CatalogueRow(Base):
    __tablename__ = "catalogues"
    __table_args__ = (UniqueConstraint("region", "year", "name"), NO_REUSE)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region: Mapped[str] = mapped_column(String(50), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    chain_registry: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class RecordColumns:
    """Columns shared by the two indexed sides."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(100))
    external_owner: Mapped[str | None] = mapped_column(String(64))  # see external_scope()
    status: Mapped[str] = mapped_column(String(16), index=True)
    city: Mapped[str | None] = mapped_column(String(50), index=True)
    province: Mapped[str | None] = mapped_column(String(50), index=True)
    education_rank: Mapped[int | None] = mapped_column(Integer)
    salary_min: Mapped[int | None] = mapped_column(Integer)
    salary_max: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64))
    # optimistic concurrency: 1 when created, +1 on every change (the API's ETag); the index
    # ix_<table>_id_version answers "the versions of these ids" (a kept record is current) without
    # reading the rows, whose version sits behind the large data and text columns
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)


class DemandRow(RecordColumns, Base):
    __tablename__ = "demand_entries"
    __table_args__ = (UniqueConstraint("external_owner", "external_id", name="uq_demand_entries_external"),
                      Index("ix_demand_entries_id_version", "id", "version"), NO_REUSE)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    catalogue_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalogues.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    occupation_code: Mapped[str | None] = mapped_column(String(16), index=True)
    chain_id: Mapped[str | None] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(16), index=True)
    fresh_graduates_ok: Mapped[bool] = mapped_column(Boolean, default=True)
    headcount: Mapped[int] = mapped_column(Integer, default=1)
    shortage_level: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[date | None] = mapped_column(Date)


class TalentRow(RecordColumns, Base):
    __tablename__ = "talents"
    __table_args__ = (UniqueConstraint("external_owner", "external_id", name="uq_talents_external"),
                      Index("ix_talents_id_version", "id", "version"), NO_REUSE)
    consent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    fresh_graduate: Mapped[bool] = mapped_column(Boolean, default=False)
    experience_years: Mapped[float] = mapped_column(Float, default=0.0)


class ChangeRow(Base):
    """A record written: one row per talent or demand entry created, changed or deleted, in the
    transaction of the write (see ``matcher.storage.changes``). Every server reads the rows after
    the last one it applied and brings its indexes up to date: a write by any process reaches
    them all."""

    __tablename__ = "change_log"
    __table_args__ = NO_REUSE
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)  # the record's version after the write; 0: deleted
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)


class JobRow(Base):
    """A long task (a fair run) queued for a worker process (``matcher.storage.jobs_repo``)."""

    __tablename__ = "jobs"
    __table_args__ = NO_REUSE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), index=True)  # queued | running | done | failed
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    actor_key_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    worker: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the uploaded file an import job reads (cleared when the job ends); loaded only when asked for
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class ApiKeyRow(Base):
    """An API key: only its public prefix and the hash of the whole key are stored."""

    __tablename__ = "api_keys"
    __table_args__ = NO_REUSE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="SET NULL"))
    talent_id: Mapped[int | None] = mapped_column(ForeignKey("talents.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSessionRow(Base):
    """A signed-in browser: the cookie holds a random token, the table only its hash."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Who changed or viewed what, when. Written in the transaction of the change it records."""

    __tablename__ = "audit_log"
    __table_args__ = NO_REUSE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    actor_key_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(16), index=True)
    resource: Mapped[str] = mapped_column(String(32), index=True)
    resource_id: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EmbeddingRow(Base):
    __tablename__ = "embeddings"
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)



# -- job fairs ----------------------------------------------------------------------------------



class FairRow(Base):
    __tablename__ = "fairs"
    __table_args__ = NO_REUSE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date | None] = mapped_column(Date)
    venue: Mapped[str | None] = mapped_column(String(200))
    start_time: Mapped[str] = mapped_column(String(5), default="09:00")
    slot_minutes: Mapped[int] = mapped_column(Integer, default=20)
    slots_per_booth: Mapped[int | None] = mapped_column(Integer)
    default_limit: Mapped[int] = mapped_column(Integer, default=3)
    default_capacity: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class FairPostRow(Base):
    __tablename__ = "fair_posts"
    __table_args__ = (UniqueConstraint("fair_id", "demand_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demand_entries.id", ondelete="CASCADE"), index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    booth: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer)


class FairSeekerRow(Base):
    __tablename__ = "fair_seekers"
    __table_args__ = (UniqueConstraint("fair_id", "talent_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    talent_id: Mapped[int] = mapped_column(ForeignKey("talents.id", ondelete="CASCADE"), index=True)
    interview_limit: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)


class FairWishRow(Base):
    __tablename__ = "fair_wishes"
    __table_args__ = (UniqueConstraint("fair_id", "talent_id", "demand_id", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    talent_id: Mapped[int] = mapped_column(ForeignKey("talents.id", ondelete="CASCADE"))
    demand_id: Mapped[int] = mapped_column(ForeignKey("demand_entries.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int | None] = mapped_column(Integer)


class FairSlotRow(Base):
    __tablename__ = "fair_slots"
    __table_args__ = (UniqueConstraint("fair_id", "booth", "starts"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    booth: Mapped[str] = mapped_column(String(50))
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str] = mapped_column(String(5))


class FairRunRow(Base):
    __tablename__ = "fair_runs"
    __table_args__ = NO_REUSE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fair_id: Mapped[int] = mapped_column(ForeignKey("fairs.id", ondelete="CASCADE"), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class FairAssignmentRow(Base):
    """One interview of a run; ids without foreign keys, since a run is a historical record."""

    __tablename__ = "fair_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("fair_runs.id", ondelete="CASCADE"), index=True)
    talent_id: Mapped[int] = mapped_column(Integer)
    demand_id: Mapped[int] = mapped_column(Integer)
    seeker_name: Mapped[str | None] = mapped_column(String(100))
    school: Mapped[str | None] = mapped_column(String(100))
    fresh_graduate: Mapped[bool] = mapped_column(Boolean, default=False)
    post_title: Mapped[str] = mapped_column(String(200))
    enterprise: Mapped[str | None] = mapped_column(String(200))
    chain_id: Mapped[str | None] = mapped_column(String(64))
    chain_name: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    seeker_score: Mapped[float] = mapped_column(Float)
    employer_score: Mapped[float] = mapped_column(Float)
    wish_rank: Mapped[int | None] = mapped_column(Integer)
    must_see: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    booth: Mapped[str] = mapped_column(String(50))
    starts: Mapped[str | None] = mapped_column(String(5))
    ends: Mapped[str | None] = mapped_column(String(5))
    unscheduled_reason: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)



# -- the graduates' zone -------------------------------------------------------------------------



class SubscriptionRow(Base):
    __tablename__ = "zone_subscriptions"
    __table_args__ = NO_REUSE
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_kind: Mapped[str] = mapped_column(String(16), index=True)  # talent | school
    talent_id: Mapped[int | None] = mapped_column(ForeignKey("talents.id", ondelete="CASCADE"), index=True)
    school: Mapped[str | None] = mapped_column(String(100), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    chains: Mapped[list[Any]] = mapped_column(JSON, default=list)
    occupations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fresh_only: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_id: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, onupdate=utc_now)


# -- learning from outcomes: what was shown and what happened to a shown pair afterwards --------
# Ids of talents and entries carry no foreign keys: both tables are a history, kept when a record
# is deleted (as fair_assignments is).


class ImpressionRow(Base):
    """One (talent, demand entry) pair shown to someone, at a rank of one served list."""

    __tablename__ = "impressions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    talent_id: Mapped[int] = mapped_column(Integer, index=True)
    demand_id: Mapped[int] = mapped_column(Integer, index=True)
    side: Mapped[str] = mapped_column(String(16))  # demand: posts shown to a seeker; talent: candidates to an employer
    list_id: Mapped[str] = mapped_column(String(40), index=True)  # one served ranking
    rank: Mapped[int] = mapped_column(Integer)  # 1-based
    score: Mapped[float] = mapped_column(Float)  # the ranking score it was shown with
    model: Mapped[str] = mapped_column(String(128))  # "weighted" or a model id
    features: Mapped[dict[str, Any]] = mapped_column(JSON)  # the pair's features when shown
    randomised: Mapped[bool] = mapped_column(Boolean, default=False)  # shown in random order (exploration)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # simulator, not a person
    actor_key_id: Mapped[int | None] = mapped_column(Integer)
    actor_role: Mapped[str] = mapped_column(String(16))
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)


class OutcomeEventRow(Base):
    """Something that happened to a pair: a seeker's, an enterprise's or a fair's outcome, with
    the snapshot (features, rank, model) of the pair's latest impression before it."""

    __tablename__ = "outcome_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    talent_id: Mapped[int] = mapped_column(Integer, index=True)
    demand_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))  # seeker | enterprise | fair | import | synthetic
    actor_key_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    impression_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the latest impression, if any
    rank: Mapped[int | None] = mapped_column(Integer)
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    model: Mapped[str | None] = mapped_column(String(128))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # fair id, note, import row


# -- batch jobs (matcher.storage.batch_repo) ---------------------------------------------------


class BatchRunRow(Base):
    """One batch job: its parameters, the fingerprint of the data it started from, its shards."""

    __tablename__ = "batch_runs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job: Mapped[str] = mapped_column(String(16), index=True)  # rematch
    status: Mapped[str] = mapped_column(String(16), index=True)  # running | done
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fingerprint: Mapped[str] = mapped_column(String(64))
    shards: Mapped[int] = mapped_column(Integer)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BatchShardRow(Base):
    """A committed shard: written in the transaction of its rows."""

    __tablename__ = "batch_shards"
    run_id: Mapped[str] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(100), default="")
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class BatchMatchRow(Base):
    """One precomputed match: the ``rank``-th best record of the other side for ``query_id``
    (``side`` is the query's side: ``talent`` rows list posts, ``demand`` rows list talents)."""

    __tablename__ = "batch_matches"
    __table_args__ = (Index("ix_batch_matches_lookup", "side", "query_id", "run_id"),)
    run_id: Mapped[str] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"), primary_key=True)
    side: Mapped[str] = mapped_column(String(8), primary_key=True)
    query_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    other_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    seeker_score: Mapped[float] = mapped_column(Float)
    employer_score: Mapped[float] = mapped_column(Float)
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    shard: Mapped[int] = mapped_column(Integer)


class BatchPartialRow(Base):
    """A re-match's per-shard candidate of a post (``matcher.batch.partials``): profile
    ``other_id`` is among the ``pool`` nearest to post ``query_id`` within profile shard
    ``shard`` (written in that shard's transaction); merged per post into the post's candidate
    pool, then deleted when the run ends."""

    __tablename__ = "batch_partials"
    run_id: Mapped[str] = mapped_column(ForeignKey("batch_runs.id", ondelete="CASCADE"), primary_key=True)
    query_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    other_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cos: Mapped[float] = mapped_column(Float)
    shard: Mapped[int] = mapped_column(Integer)
