"""Outcome events and impressions: what was shown to whom, and what happened to a shown pair.

``Outcomes`` works in the caller's session (its unit of work); ``OutcomeRepo`` opens one per
call. An event takes its snapshot (features, rank, model) from the pair's latest impression at
or before the event; without one it keeps the features the caller computed (rank unknown).
Every event written is audited (``outcome`` resource) in its own transaction; impressions are a
log of served lists, like the list itself, and are not audited one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from matcher.core.errors import NotFound
from matcher.domain.auth import OPERATOR, Principal
from matcher.storage.audit import write_audit
from matcher.storage.tables import (
    FairAssignmentRow,
    FairRunRow,
    ImpressionRow,
    OutcomeEventRow,
    as_aware,
    utc_now,
)

RESOURCE = "outcome"


@dataclass(frozen=True)
class Shown:
    """One shown pair of a served list (input of ``add_impressions``)."""

    talent_id: int
    demand_id: int
    rank: int
    score: float
    features: dict[str, float]


@dataclass(frozen=True)
class NewEvent:
    """One event to record (input of ``add_events``). ``features``: the pair's features now,
    kept only when the pair has no impression to take a snapshot from."""

    talent_id: int
    demand_id: int
    kind: str
    source: str
    at: datetime | None = None
    detail: dict[str, Any] | None = None
    features: dict[str, float] | None = None


def event_dict(r: OutcomeEventRow) -> dict[str, Any]:
    return {"id": r.id, "talent_id": r.talent_id, "demand_id": r.demand_id, "kind": r.kind, "source": r.source,
            "actor_role": r.actor_role, "actor_key_id": r.actor_key_id, "at": as_aware(r.at),
            "impression_id": r.impression_id, "rank": r.rank, "features": r.features, "model": r.model,
            "synthetic": r.synthetic, "detail": r.detail or {}}


class Outcomes:
    """The two tables in the caller's session."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def add_impressions(self, side: str, list_id: str, shown: Sequence[Shown], model: str,
                        actor: Principal | None, *, at: datetime | None = None) -> list[int]:
        actor = actor or OPERATOR
        rows = [ImpressionRow(talent_id=x.talent_id, demand_id=x.demand_id, side=side, list_id=list_id,
                              rank=x.rank, score=float(x.score), model=model, features=dict(x.features),
                              actor_key_id=actor.key_id, actor_role=str(actor.role), shown_at=at or utc_now())
                 for x in shown]
        self.s.add_all(rows)
        self.s.flush()
        return [r.id for r in rows]

    def latest_impression(self, talent_id: int, demand_id: int, before: datetime | None = None) -> ImpressionRow | None:
        q = select(ImpressionRow).where(ImpressionRow.talent_id == talent_id, ImpressionRow.demand_id == demand_id,
                                        ImpressionRow.synthetic.is_(False))  # a person's event, a person's list
        if before is not None:
            q = q.where(ImpressionRow.shown_at <= before)
        return self.s.scalars(q.order_by(ImpressionRow.shown_at.desc(), ImpressionRow.id.desc()).limit(1)).first()

    def add_events(self, events: Sequence[NewEvent], actor: Principal | None) -> list[dict[str, Any]]:
        """Record events (all in the caller's transaction), each with its snapshot; audited."""
        actor = actor or OPERATOR
        out = []
        for e in events:
            at = e.at or utc_now()
            imp = self.latest_impression(e.talent_id, e.demand_id, at)
            row = OutcomeEventRow(
                talent_id=e.talent_id, demand_id=e.demand_id, kind=e.kind, source=e.source,
                actor_key_id=actor.key_id, actor_role=str(actor.role), actor_label=actor.label, at=at,
                impression_id=imp.id if imp else None, rank=imp.rank if imp else None,
                features=dict(imp.features) if imp else (dict(e.features) if e.features else None),
                model=imp.model if imp else None, synthetic=False, detail=dict(e.detail or {}))
            self.s.add(row)
            self.s.flush()
            write_audit(self.s, actor, "create", RESOURCE, [row.id],
                        {"kind": e.kind, "talent_id": e.talent_id, "demand_id": e.demand_id, "source": e.source})
            out.append(event_dict(row))
        return out

    def events(self, *, talent_id: int | None = None, demand_id: int | None = None,
               demand_ids: Sequence[int] | None = None, kind: str | None = None, synthetic: bool | None = None,
               offset: int = 0, limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        """A page of events, newest first, and the total count."""
        conds = []
        if talent_id is not None:
            conds.append(OutcomeEventRow.talent_id == talent_id)
        if demand_id is not None:
            conds.append(OutcomeEventRow.demand_id == demand_id)
        if demand_ids is not None:
            conds.append(OutcomeEventRow.demand_id.in_(list(demand_ids) or [-1]))
        if kind is not None:
            conds.append(OutcomeEventRow.kind == kind)
        if synthetic is not None:
            conds.append(OutcomeEventRow.synthetic == synthetic)
        where = and_(True, *conds)
        total = self.s.scalar(select(func.count()).select_from(OutcomeEventRow).where(where)) or 0
        q = (select(OutcomeEventRow).where(where).order_by(OutcomeEventRow.at.desc(), OutcomeEventRow.id.desc())
             .offset(offset).limit(limit))
        return [event_dict(r) for r in self.s.scalars(q)], total

    def counts(self) -> dict[str, Any]:
        """Impressions and events, real and synthetic, and events by kind."""
        out: dict[str, Any] = {}
        for name, cls in (("impressions", ImpressionRow), ("events", OutcomeEventRow)):
            rows = self.s.execute(select(cls.synthetic, func.count()).group_by(cls.synthetic)).all()
            by = {bool(k): int(n) for k, n in rows}
            out[name] = {"real": by.get(False, 0), "synthetic": by.get(True, 0)}
        kinds = self.s.execute(select(OutcomeEventRow.kind, OutcomeEventRow.synthetic, func.count())
                               .group_by(OutcomeEventRow.kind, OutcomeEventRow.synthetic)).all()
        out["by_kind"] = {}
        for kind, synth, n in kinds:
            out["by_kind"].setdefault(kind, {"real": 0, "synthetic": 0})["synthetic" if synth else "real"] = int(n)
        return out

    def add_synthetic(self, impressions: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]],
                      actor: Principal | None) -> tuple[int, int]:
        """Bulk insert of SIMULATED impressions and events (``synthetic`` set on every row).
        ``events[i]["impression"]`` is an index into ``impressions``. Audited as one write."""
        actor = actor or OPERATOR
        if not impressions:
            return 0, 0
        base = {"synthetic": True, "actor_key_id": actor.key_id, "actor_role": str(actor.role)}
        ids = list(self.s.scalars(
            insert(ImpressionRow).returning(ImpressionRow.id, sort_by_parameter_order=True),
            [{**r, **base} for r in impressions]))
        rows = []
        for e in events:
            imp = impressions[e["impression"]]
            rows.append({"talent_id": imp["talent_id"], "demand_id": imp["demand_id"], "kind": e["kind"],
                         "source": "synthetic", "actor_label": "模拟数据", "at": e["at"],
                         "impression_id": ids[e["impression"]], "rank": imp["rank"], "features": imp["features"],
                         "model": imp["model"], "detail": {}, **base})
        if rows:
            self.s.execute(insert(OutcomeEventRow), rows)
        write_audit(self.s, actor, "create", RESOURCE, ["synthetic"],
                    {"synthetic": True, "impressions": len(ids), "events": len(rows)})
        return len(ids), len(rows)

    def delete_synthetic(self, actor: Principal | None) -> tuple[int, int]:
        from sqlalchemy import delete

        n_ev = self.s.execute(delete(OutcomeEventRow).where(OutcomeEventRow.synthetic.is_(True))).rowcount
        n_imp = self.s.execute(delete(ImpressionRow).where(ImpressionRow.synthetic.is_(True))).rowcount
        write_audit(self.s, actor, "delete", RESOURCE, ["synthetic"], {"impressions": n_imp, "events": n_ev})
        return n_imp, n_ev

    def fair_run(self, run_id: int) -> tuple[datetime, list[dict[str, Any]]]:
        """(when, interviews) of a fair run: each assigned pair with its wish rank, must-see flag
        and position in the run's result."""
        run = self.s.get(FairRunRow, run_id)
        if run is None:
            raise NotFound(f"匹配结果 {run_id} 不存在")
        rows = self.s.scalars(select(FairAssignmentRow).where(FairAssignmentRow.run_id == run_id)
                              .order_by(FairAssignmentRow.position, FairAssignmentRow.id))
        return as_aware(run.created_at), [{"talent_id": r.talent_id, "demand_id": r.demand_id, "score": r.score,
                                           "wish_rank": r.wish_rank, "must_see": r.must_see, "position": r.position}
                                          for r in rows]

    def has_list(self, prefix: str) -> bool:
        return self.s.scalars(select(ImpressionRow.id).where(ImpressionRow.list_id.startswith(prefix, autoescape=True))
                              .limit(1)).first() is not None

    def training_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Every impression (id order) and every event linked to one: what a model learns from."""
        imps = [{"id": r.id, "list_id": r.list_id, "shown_at": as_aware(r.shown_at), "rank": r.rank,
                 "features": r.features, "randomised": r.randomised, "synthetic": r.synthetic,
                 "talent_id": r.talent_id, "demand_id": r.demand_id}
                for r in self.s.scalars(select(ImpressionRow).order_by(ImpressionRow.id))]
        evs = [{"impression_id": i, "at": as_aware(at), "kind": k, "synthetic": syn}
               for i, at, k, syn in self.s.execute(
                   select(OutcomeEventRow.impression_id, OutcomeEventRow.at, OutcomeEventRow.kind,
                          OutcomeEventRow.synthetic)
                   .where(OutcomeEventRow.impression_id.is_not(None)).order_by(OutcomeEventRow.id))]
        return imps, evs


class OutcomeRepo:
    """Typed access to the outcome tables; each call is one transaction."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def add_impressions(self, side: str, list_id: str, shown: Sequence[Shown], model: str,
                        actor: Principal | None) -> list[int]:
        if not shown:
            return []
        with self.store.session() as s:
            return Outcomes(s).add_impressions(side, list_id, shown, model, actor)

    def add_events(self, events: Sequence[NewEvent], actor: Principal | None) -> list[dict[str, Any]]:
        with self.store.session() as s:
            return Outcomes(s).add_events(events, actor)

    def has_impression(self, talent_id: int, demand_id: int) -> bool:
        with self.store.session() as s:
            return Outcomes(s).latest_impression(talent_id, demand_id) is not None

    def events(self, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        with self.store.session() as s:
            return Outcomes(s).events(**filters)

    def counts(self) -> dict[str, Any]:
        with self.store.session() as s:
            return Outcomes(s).counts()

    def add_synthetic(self, impressions: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]],
                      actor: Principal | None = None) -> tuple[int, int]:
        with self.store.session() as s:
            return Outcomes(s).add_synthetic(impressions, events, actor)

    def delete_synthetic(self, actor: Principal | None = None) -> tuple[int, int]:
        with self.store.session() as s:
            return Outcomes(s).delete_synthetic(actor)

    def training_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with self.store.session() as s:
            return Outcomes(s).training_rows()
