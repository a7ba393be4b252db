"""Precomputed matches of batch jobs (``talentmatch batch rematch``): runs, committed shards, rows.

A run (``batch_runs``) is split into shards. A worker writes a shard's top-k rows
(``batch_matches``) and the shard's completion mark (``batch_shards``) in ONE transaction, so a
killed job leaves only whole shards behind and a restart skips exactly the committed ones.
Writing a shard twice (a retried task whose first attempt committed) is a no-op.

A re-match's profile shard also writes, in the same transaction, its nearest profiles per post
(``batch_partials``, migration 0009): the per-post pass merges them and the run deletes them
when it ends.

The tables are declared in :mod:`matcher.storage.tables` (migrations 0007, 0009).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matcher.core.errors import NotFound
from matcher.storage.engine import Database
from matcher.storage.records import BATCH
from matcher.storage.tables import (
    BatchMatchRow,
    BatchPartialRow,
    BatchRunRow,
    BatchShardRow,
    DemandRow,
    EmbeddingRow,
    TalentRow,
    as_aware,
    utc_now,
)

__all__ = ["BatchMatchRow", "BatchPartialRow", "BatchRepo", "BatchRunRow", "BatchShardRow", "MatchRow", "RunInfo",
           "records_watermark"]


@dataclass(frozen=True)
class MatchRow:
    """A precomputed match as a worker hands it over (and as it is read back)."""

    side: str
    query_id: int
    rank: int
    other_id: int
    score: float
    seeker_score: float
    employer_score: float
    eligible: bool


@dataclass(frozen=True)
class RunInfo:
    id: str
    job: str
    status: str
    params: dict[str, Any]
    fingerprint: str
    shards: int
    done_shards: int
    rows: int
    stats: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "created_at": self.created_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None}


def records_watermark(s: Session) -> dict[str, Any]:
    """Counts and the latest change time of both record tables: with the text hashes, what a
    run's data fingerprint covers (a change to a field outside the text moves ``updated_at``)."""
    out: dict[str, Any] = {}
    for name, row in (("talent", TalentRow), ("demand", DemandRow)):
        n, latest = s.execute(select(func.count(row.id), func.max(row.updated_at))).one()
        out[name] = [int(n), as_aware(latest).isoformat() if latest is not None else None]
    return out


class BatchRepo:
    """Batch runs and their rows, one unit of work per call (workers on any machine call it)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def watermark(self) -> dict[str, Any]:
        with self.db.session() as s:
            return records_watermark(s)

    def cached_hashes(self, model: str, hashes: Sequence[str]) -> set[str]:
        """The hashes among ``hashes`` whose vector of ``model`` is cached (reads no vector)."""
        found: set[str] = set()
        hashes = list(hashes)
        with self.db.session() as s:
            for start in range(0, len(hashes), BATCH):
                chunk = hashes[start : start + BATCH]
                found.update(s.scalars(select(EmbeddingRow.text_hash).where(
                    EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(chunk))))
        return found

    def create_run(self, job: str, params: dict[str, Any], fingerprint: str, shards: int) -> str:
        run_id = uuid.uuid4().hex
        with self.db.session() as s:
            s.add(BatchRunRow(id=run_id, job=job, status="running", params=params, fingerprint=fingerprint,
                              shards=shards, stats={}))
        return run_id

    def run(self, run_id: str) -> RunInfo:
        with self.db.session() as s:
            row = s.get(BatchRunRow, run_id)
            if row is None:
                raise NotFound(f"批处理任务 {run_id} 不存在")
            done, rows = s.execute(select(func.count(BatchShardRow.shard), func.coalesce(func.sum(BatchShardRow.rows), 0))
                                   .where(BatchShardRow.run_id == run_id)).one()
            return RunInfo(row.id, row.job, row.status, dict(row.params), row.fingerprint, row.shards, int(done),
                           int(rows), dict(row.stats or {}), as_aware(row.created_at),
                           as_aware(row.finished_at) if row.finished_at else None)

    def runs(self, job: str | None = None, limit: int = 20) -> list[RunInfo]:
        with self.db.session() as s:
            q = select(BatchRunRow.id).order_by(BatchRunRow.created_at.desc()).limit(limit)
            if job:
                q = q.where(BatchRunRow.job == job)
            ids = list(s.scalars(q))
        return [self.run(i) for i in ids]

    def latest_done(self, job: str = "rematch") -> RunInfo | None:
        with self.db.session() as s:
            run_id = s.scalars(select(BatchRunRow.id).where(BatchRunRow.job == job, BatchRunRow.status == "done")
                               .order_by(BatchRunRow.finished_at.desc()).limit(1)).first()
        return self.run(run_id) if run_id else None

    def done_shards(self, run_id: str) -> set[int]:
        with self.db.session() as s:
            return set(s.scalars(select(BatchShardRow.shard).where(BatchShardRow.run_id == run_id)))

    def commit_shard(self, run_id: str, shard: int, rows: Sequence[MatchRow], worker: str = "",
                     partials: Sequence[tuple[int, int, float]] = ()) -> bool:
        """Write a shard's rows, its partial list entries ((post id, profile id, cosine)) and its
        completion mark in one transaction; False (and nothing written) if the shard was already
        committed. Bad rows raise, and nothing is written."""
        try:
            with self.db.session() as s:
                if s.get(BatchShardRow, (run_id, shard)) is not None:
                    return False
                s.add(BatchShardRow(run_id=run_id, shard=shard, rows=len(rows), worker=worker[:100]))
                s.flush()  # the mark first: a concurrent second writer fails here, before its rows
                if rows:
                    s.execute(insert(BatchMatchRow), [{**r.__dict__, "run_id": run_id, "shard": shard} for r in rows])
                for start in range(0, len(partials), 50_000):
                    s.execute(insert(BatchPartialRow), [
                        {"run_id": run_id, "query_id": q, "other_id": o, "cos": c, "shard": shard}
                        for q, o, c in partials[start : start + 50_000]])
        except IntegrityError:
            if shard in self.done_shards(run_id):  # another attempt committed it meanwhile
                return False
            raise
        return True

    def finish_run(self, run_id: str, stats: dict[str, Any]) -> None:
        with self.db.session() as s:
            row = s.get(BatchRunRow, run_id)
            if row is None:
                raise NotFound(f"批处理任务 {run_id} 不存在")
            row.status, row.stats, row.finished_at = "done", stats, utc_now()

    def partials(self, run_id: str, query_ids: Sequence[int]) -> dict[int, list[tuple[int, float]]]:
        """The partial list entries of posts ``query_ids``: post id -> [(profile id, cosine)]."""
        out: dict[int, list[tuple[int, float]]] = defaultdict(list)
        query_ids = list(query_ids)
        with self.db.session() as s:
            for start in range(0, len(query_ids), BATCH):
                q = select(BatchPartialRow.query_id, BatchPartialRow.other_id, BatchPartialRow.cos).where(
                    BatchPartialRow.run_id == run_id, BatchPartialRow.query_id.in_(query_ids[start : start + BATCH]))
                for qid, oid, cos in s.execute(q):
                    out[int(qid)].append((int(oid), float(cos)))
        return dict(out)

    def partial_count(self, run_id: str) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(BatchPartialRow)
                                .where(BatchPartialRow.run_id == run_id)) or 0)

    def delete_partials(self, run_id: str) -> None:
        with self.db.session() as s:
            s.execute(delete(BatchPartialRow).where(BatchPartialRow.run_id == run_id))

    def delete_run(self, run_id: str) -> None:
        with self.db.session() as s:
            s.execute(delete(BatchPartialRow).where(BatchPartialRow.run_id == run_id))
            s.execute(delete(BatchMatchRow).where(BatchMatchRow.run_id == run_id))
            s.execute(delete(BatchShardRow).where(BatchShardRow.run_id == run_id))
            s.execute(delete(BatchRunRow).where(BatchRunRow.id == run_id))

    def matches(self, run_id: str, side: str, query_id: int) -> list[MatchRow]:
        """The stored top-k of one record, best first."""
        with self.db.session() as s:
            q = (select(BatchMatchRow).where(BatchMatchRow.run_id == run_id, BatchMatchRow.side == side,
                                             BatchMatchRow.query_id == query_id).order_by(BatchMatchRow.rank))
            return [_row(r) for r in s.scalars(q)]

    def all_matches(self, run_id: str) -> dict[tuple[str, int], list[MatchRow]]:
        """Every stored top-k of a run by (side, query id), best first."""
        out: dict[tuple[str, int], list[MatchRow]] = defaultdict(list)
        with self.db.session() as s:
            q = (select(BatchMatchRow).where(BatchMatchRow.run_id == run_id)
                 .order_by(BatchMatchRow.side, BatchMatchRow.query_id, BatchMatchRow.rank))
            for r in s.scalars(q):
                out[(r.side, r.query_id)].append(_row(r))
        return dict(out)

    def shard_rows(self, run_id: str) -> dict[int, tuple[int, int]]:
        """Per committed shard: (rows it declared, rows stored)."""
        with self.db.session() as s:
            declared = dict(s.execute(select(BatchShardRow.shard, BatchShardRow.rows)
                                      .where(BatchShardRow.run_id == run_id)).all())
            stored = dict(s.execute(select(BatchMatchRow.shard, func.count())
                                    .where(BatchMatchRow.run_id == run_id).group_by(BatchMatchRow.shard)).all())
        return {k: (int(v), int(stored.get(k, 0))) for k, v in declared.items()} | {
            k: (0, int(v)) for k, v in stored.items() if k not in declared}


def _row(r: BatchMatchRow) -> MatchRow:
    return MatchRow(r.side, r.query_id, r.rank, r.other_id, r.score, r.seeker_score, r.employer_score, r.eligible)
