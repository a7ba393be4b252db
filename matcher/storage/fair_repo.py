"""The fair repository: ``Fairs`` in a session, ``FairRepo`` one unit of work per call.

A fair references stored demand entries and talent profiles; deleting one of those records
removes it from its fairs (``ON DELETE CASCADE``). Runs keep a snapshot of what they assigned
(names, titles, scores, slots), so an old run can be exported after the records changed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session

from matcher.domain.fair import (
    Assignment,
    BoothInfo,
    BoothSlot,
    FairDetail,
    FairPost,
    FairReport,
    FairRunOptions,
    FairRunResult,
    FairRunSummary,
    FairSeeker,
    FairSettings,
    FairSummary,
    FairWish,
    Slot,
    booth_warnings,
    parse_clock,
)
from matcher.storage.audit import write_audit
from matcher.storage.lookup import get_row
from matcher.storage.store import Store
from matcher.storage.tables import (
    DemandRow,
    EnterpriseRow,
    FairAssignmentRow,
    FairPostRow,
    FairRow,
    FairRunRow,
    FairSeekerRow,
    FairSlotRow,
    FairWishRow,
    TalentRow,
)

__all__ = ["FairRepo", "Fairs"]


_SETTINGS = ("name", "held_on", "venue", "start_time", "slot_minutes", "slots_per_booth",
             "default_limit", "default_capacity")
_ASSIGNMENT_COLUMNS = ("talent_id", "demand_id", "seeker_name", "school", "fresh_graduate", "post_title",
                       "enterprise", "chain_id", "chain_name", "score", "seeker_score", "employer_score", "wish_rank",
                       "must_see", "reason", "booth", "unscheduled_reason")


class Fairs:
    """Fairs and their runs in the caller's session (its unit of work)."""

    def __init__(self, s: Session) -> None:
        self.s = s

    # -- writing a fair ------------------------------------------------------------------------

    def insert(self, settings: FairSettings, *, posts: Sequence[tuple[int, int, str]],
               seekers: Sequence[tuple[int, int]], wishes: Sequence[tuple[str, int, int, int | None]],
               slots: Sequence[tuple[str, str, str]]) -> int:
        """Add a fair: posts (demand id, capacity, booth), seekers (talent id, limit), wishes
        (kind, talent id, demand id, rank), slots (booth, start, end); returns the fair id."""
        s = self.s
        row = FairRow(**{k: getattr(settings, k) for k in _SETTINGS})
        s.add(row)
        s.flush()
        s.add_all(FairPostRow(fair_id=row.id, demand_id=d, capacity=c, booth=b, position=n)
                  for n, (d, c, b) in enumerate(posts))
        s.add_all(FairSeekerRow(fair_id=row.id, talent_id=t, interview_limit=lim, position=n)
                  for n, (t, lim) in enumerate(seekers))
        s.add_all(FairWishRow(fair_id=row.id, kind=k, talent_id=t, demand_id=d, rank=r)
                  for k, t, d, r in wishes)
        s.add_all(FairSlotRow(fair_id=row.id, booth=b, starts=a, ends=e) for b, a, e in slots)
        s.flush()
        return row.id

    def delete(self, fair_id: int, actor: Any = None) -> None:
        s = self.s
        row = get_row(s, FairRow, fair_id, "招聘活动")
        run_ids = list(s.scalars(select(FairRunRow.id).where(FairRunRow.fair_id == fair_id)))
        # explicit deletes: PostgreSQL and SQLite both cascade, but a SQLite connection
        # without PRAGMA foreign_keys would not
        if run_ids:
            s.execute(delete(FairAssignmentRow).where(FairAssignmentRow.run_id.in_(run_ids)))
        for table in (FairRunRow, FairSlotRow, FairWishRow, FairSeekerRow, FairPostRow):
            s.execute(delete(table).where(table.fair_id == fair_id))
        s.delete(row)
        write_audit(s, actor, "delete", "fair", [fair_id])

    # -- reading fairs -------------------------------------------------------------------------

    def summaries(self) -> list[FairSummary]:
        s = self.s
        counts: dict[str, dict[int, int]] = {}
        for label, table in (("posts", FairPostRow), ("seekers", FairSeekerRow), ("runs", FairRunRow)):
            q = select(table.fair_id, func.count()).group_by(table.fair_id)
            counts[label] = {f: n for f, n in s.execute(q)}
        return [FairSummary(id=r.id, name=r.name, held_on=r.held_on, venue=r.venue,
                            posts=counts["posts"].get(r.id, 0), seekers=counts["seekers"].get(r.id, 0),
                            runs=counts["runs"].get(r.id, 0), created_at=r.created_at)
                for r in s.scalars(select(FairRow).order_by(FairRow.id.desc()))]

    def _posts(self, fair_id: int) -> list[FairPost]:
        q = (select(FairPostRow.demand_id, FairPostRow.capacity, FairPostRow.booth, DemandRow.title,
                    EnterpriseRow.name)
             .join(DemandRow, DemandRow.id == FairPostRow.demand_id)
             .outerjoin(EnterpriseRow, EnterpriseRow.id == DemandRow.enterprise_id)
             .where(FairPostRow.fair_id == fair_id).order_by(FairPostRow.position))
        return [FairPost(demand_id=d, capacity=c, booth=b, title=t, enterprise=e) for d, c, b, t, e in self.s.execute(q)]

    def _seekers(self, fair_id: int) -> list[FairSeeker]:
        # the name alone out of the profile's JSON, in the database (not every profile decoded)
        q = (select(FairSeekerRow.talent_id, FairSeekerRow.interview_limit, TalentRow.data["name"].as_string())
             .join(TalentRow, TalentRow.id == FairSeekerRow.talent_id)
             .where(FairSeekerRow.fair_id == fair_id).order_by(FairSeekerRow.position))
        return [FairSeeker(talent_id=t, limit=lim, name=name) for t, lim, name in self.s.execute(q)]

    def _wishes(self, fair_id: int) -> list[FairWish]:
        q = (select(FairWishRow.kind, FairWishRow.talent_id, FairWishRow.demand_id, FairWishRow.rank)
             .where(FairWishRow.fair_id == fair_id)
             .order_by(FairWishRow.kind, FairWishRow.talent_id, FairWishRow.rank, FairWishRow.id))
        return [FairWish(kind=k, talent_id=t, demand_id=d, rank=r) for k, t, d, r in self.s.execute(q)]

    def _slots(self, fair_id: int) -> list[BoothSlot]:
        q = (select(FairSlotRow.booth, FairSlotRow.starts, FairSlotRow.ends).where(FairSlotRow.fair_id == fair_id)
             .order_by(FairSlotRow.booth, FairSlotRow.starts))
        return [BoothSlot(booth=b, start=a, end=e) for b, a, e in self.s.execute(q)]

    def get(self, fair_id: int) -> FairDetail:
        row = get_row(self.s, FairRow, fair_id, "招聘活动")
        posts, slots = self._posts(fair_id), self._slots(fair_id)
        capacity, by_booth = _booth_loads(posts, slots)
        return FairDetail(id=fair_id, created_at=row.created_at, posts=posts, seekers=self._seekers(fair_id),
                          wishes=self._wishes(fair_id), slots=slots, booths=_booths(capacity, posts, by_booth),
                          warnings=booth_warnings(dict(capacity), by_booth),
                          **{k: getattr(row, k) for k in _SETTINGS})

    # -- runs ----------------------------------------------------------------------------------

    def save_run(self, result: FairRunResult, actor: Any = None) -> int:
        """Store a run with its assignments; returns the run id."""
        s = self.s
        get_row(s, FairRow, result.fair_id, "招聘活动")
        row = FairRunRow(fair_id=result.fair_id, mode=result.options.mode,
                         options=result.options.model_dump(mode="json"),
                         report=result.report.model_dump(mode="json"),
                         **({"created_at": result.created_at} if result.created_at else {}))
        s.add(row)
        s.flush()
        # one executemany INSERT in the run's transaction, not an ORM object per interview
        if result.assignments:
            s.execute(insert(FairAssignmentRow.__table__), [
                {"run_id": row.id, "position": n, "starts": a.start, "ends": a.end,
                 **{k: getattr(a, k) for k in _ASSIGNMENT_COLUMNS}}
                for n, a in enumerate(result.assignments)])
        write_audit(s, actor, "create", "fair_run", [row.id], {"fair_id": result.fair_id, "mode": result.options.mode})
        return row.id

    def get_run(self, run_id: int) -> FairRunResult:
        s = self.s
        row = get_row(s, FairRunRow, run_id, "匹配结果")
        fair = s.get(FairRow, row.fair_id)
        assignments = [
            Assignment(start=a.starts, end=a.ends, **{k: getattr(a, k) for k in _ASSIGNMENT_COLUMNS})
            for a in s.scalars(select(FairAssignmentRow).where(FairAssignmentRow.run_id == run_id)
                               .order_by(FairAssignmentRow.position))]
        return FairRunResult(run_id=row.id, fair_id=row.fair_id, fair_name=fair.name if fair else "",
                             created_at=row.created_at, options=FairRunOptions.model_validate(row.options),
                             report=FairReport.model_validate(row.report), assignments=assignments)

    def runs(self, fair_id: int) -> list[FairRunSummary]:
        get_row(self.s, FairRow, fair_id, "招聘活动")
        q = select(FairRunRow).where(FairRunRow.fair_id == fair_id).order_by(FairRunRow.id)
        return [FairRunSummary.from_report(run_id=r.id, fair_id=r.fair_id, mode=r.mode,  # type: ignore[arg-type]
                                           created_at=r.created_at, report=r.report or {})
                for r in self.s.scalars(q)]


def _booth_loads(posts: Sequence[FairPost], slots: Sequence[BoothSlot]) -> tuple[Counter[str], dict[str, list[Slot]]]:
    """The interview capacity of every booth, and its slots."""
    capacity: Counter[str] = Counter()
    for p in posts:
        capacity[p.booth] += p.capacity
    by_booth: dict[str, list[Slot]] = defaultdict(list)
    for sl in slots:
        by_booth[sl.booth].append(Slot(parse_clock(sl.start), parse_clock(sl.end)))
    return capacity, by_booth


def _booths(capacity: Counter[str], posts: Sequence[FairPost], by_booth: dict[str, list[Slot]]) -> list[BoothInfo]:
    n_posts = Counter(p.booth for p in posts)
    out = []
    for b in sorted(set(capacity) | set(by_booth)):
        slots = sorted(by_booth[b])
        out.append(BoothInfo(booth=b, posts=n_posts[b], capacity=capacity[b], slots=len(by_booth[b]),
                             first_start=slots[0].label.split("-")[0] if slots else None,
                             last_end=slots[-1].label.split("-")[1] if slots else None))
    return out


class FairRepo:
    """Fairs and their runs in the store: every method is one unit of work, but ``insert``, which
    runs in the caller's (see ``MatchService.add_records_with``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def insert(s: Session, settings: FairSettings, *, posts: Sequence[tuple[int, int, str]],
               seekers: Sequence[tuple[int, int]], wishes: Sequence[tuple[str, int, int, int | None]],
               slots: Sequence[tuple[str, str, str]]) -> int:
        """Add a fair inside the caller's transaction (see ``Fairs.insert``); returns the fair id."""
        return Fairs(s).insert(settings, posts=posts, seekers=seekers, wishes=wishes, slots=slots)

    def ids_by_external(self, kind: str, external_ids: Sequence[str], scope: str) -> dict[str, int]:
        """Stored ids of demand entries (``demand``) or talents (``talent``) by external id, in
        the numbering ``scope`` only (see matcher.storage.records.external_scope)."""
        return self.store.taken_external_ids(kind, external_ids, scope)

    def delete(self, fair_id: int, actor: Any = None) -> None:
        with self.store.session() as s:
            Fairs(s).delete(fair_id, actor)

    def list(self) -> list[FairSummary]:
        with self.store.session() as s:
            return Fairs(s).summaries()

    def get(self, fair_id: int) -> FairDetail:
        with self.store.session() as s:
            return Fairs(s).get(fair_id)

    def save_run(self, result: FairRunResult, actor: Any = None) -> int:
        """Store a run with its assignments (one transaction); returns the run id."""
        with self.store.session() as s:
            return Fairs(s).save_run(result, actor)

    def get_run(self, run_id: int) -> FairRunResult:
        with self.store.session() as s:
            return Fairs(s).get_run(run_id)

    def list_runs(self, fair_id: int) -> list[FairRunSummary]:
        with self.store.session() as s:
            return Fairs(s).runs(fair_id)
