"""Tables of learning from outcomes: what was shown (``impressions``) and what happened to a
shown pair afterwards (``outcome_events``). Declared on the one ``Base`` of
``matcher.storage.tables`` (imported by ``matcher.storage.engine`` so that every schema has them).

Ids of talents and entries carry no foreign keys: both tables are a history, kept when a record
is deleted (as ``fair_assignments`` is).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from matcher.storage.tables import Base, utc_now


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
