"""Jobs stored in the database: queued by the API or the pages, claimed and run by worker
processes (``talentmatch worker``, or a thread of the server), on SQLite and PostgreSQL alike.

A claim takes the oldest queued job in a transaction that holds it (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so workers never wait on each other; SQLite's write lock serialises claims). A running
job's worker writes a heartbeat; a job whose heartbeat stops (the worker was killed) is queued again
and runs from the start, up to ``max_attempts`` times, then fails with a message. A job's own writes
(a fair run's result) are one transaction at its end, so a killed job leaves nothing half-written.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from matcher.core.errors import NotFound, QueueFull
from matcher.domain.auth import Principal, Role
from matcher.storage.engine import Database
from matcher.storage.tables import JobRow, as_aware, utc_now

__all__ = ["Jobs", "job_actor", "job_dict"]


def job_dict(r: JobRow) -> dict[str, Any]:
    def at(t: Any) -> str | None:
        return as_aware(t).isoformat() if t is not None else None

    return {"id": r.id, "kind": r.kind, "params": r.params, "state": r.state, "progress": r.progress,
            "message": r.message, "result": r.result, "error": r.error, "attempts": r.attempts,
            "actor_key_id": r.actor_key_id, "actor_role": r.actor_role, "actor_label": r.actor_label,
            "created_at": at(r.created_at), "started_at": at(r.started_at), "finished_at": at(r.finished_at)}


def job_actor(job: dict[str, Any]) -> Principal | None:
    """Who queued a job (its writes are audited as theirs)."""
    try:
        return Principal(role=Role(job["actor_role"]), key_id=job["actor_key_id"], label=job["actor_label"])
    except ValueError:
        return None


class Jobs:
    """The job queue of a database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(self, kind: str, params: dict[str, Any], actor: Principal | None = None, *,
                max_waiting: int = 20, payload: bytes | None = None) -> dict[str, Any]:
        with self.db.session(write=True) as s:
            waiting = s.scalar(select(func.count()).select_from(JobRow).where(JobRow.state == "queued")) or 0
            if waiting >= max_waiting:
                raise QueueFull(f"已有 {waiting} 个任务在排队，请稍后再提交")
            row = JobRow(kind=kind, params=params, state="queued", message="排队中", payload=payload,
                         actor_key_id=actor.key_id if actor else None,
                         actor_role=str(actor.role) if actor else "", actor_label=(actor.label if actor else "")[:200])
            s.add(row)
            s.flush()
            return job_dict(row)

    def get(self, job_id: int) -> dict[str, Any]:
        with self.db.session() as s:
            row = s.get(JobRow, job_id)
            if row is None:
                raise NotFound(f"任务 {job_id} 不存在")
            return job_dict(row)

    def payload(self, job_id: int) -> bytes | None:
        """The file a job was queued with (None once the job has ended)."""
        with self.db.session() as s:
            return s.scalar(select(JobRow.payload).where(JobRow.id == job_id))

    def depth(self) -> dict[str, int]:
        with self.db.session() as s:
            return {state: n for state, n in s.execute(select(JobRow.state, func.count()).group_by(JobRow.state))}

    def pending(self) -> bool:
        """Whether any job is queued or running (a cheap read before a worker takes the write lock)."""
        with self.db.session() as s:
            q = select(JobRow.id).where(JobRow.state.in_(("queued", "running"))).limit(1)
            return s.scalar(q) is not None

    def claim(self, worker: str, kinds: tuple[str, ...]) -> dict[str, Any] | None:
        """The oldest queued job of ``kinds``, now running under ``worker``; None if none waits."""
        with self.db.session(write=True) as s:
            q = (select(JobRow).where(JobRow.state == "queued", JobRow.kind.in_(kinds)).order_by(JobRow.id).limit(1)
                 .with_for_update(skip_locked=True))
            row = s.scalars(q).first()
            if row is None:
                return None
            now = utc_now()
            row.state, row.worker, row.attempts = "running", worker, row.attempts + 1
            row.started_at = row.heartbeat_at = now
            row.message = "运行中"
            s.flush()
            return job_dict(row)

    def _mine(self, job_id: int, worker: str) -> Any:
        return update(JobRow).where(JobRow.id == job_id, JobRow.worker == worker, JobRow.state == "running")

    def beat(self, job_id: int, worker: str, progress: float | None = None, message: str | None = None) -> bool:
        """A heartbeat (and progress); False when the job is no longer this worker's."""
        values: dict[str, Any] = {"heartbeat_at": utc_now()}
        if progress is not None:
            values["progress"] = max(0.0, min(1.0, progress))
        if message is not None:
            values["message"] = message[:200]
        with self.db.session(write=True) as s:
            return bool(s.execute(self._mine(job_id, worker).values(values)).rowcount)  # type: ignore[attr-defined]

    def finish(self, job_id: int, worker: str, result: dict[str, Any]) -> bool:
        with self.db.session(write=True) as s:
            return self.finish_in(s, job_id, worker, result)

    def finish_in(self, s: Session, job_id: int, worker: str, result: dict[str, Any]) -> bool:
        done = s.execute(self._mine(job_id, worker).values(
            state="done", progress=1.0, message="完成", result=result, payload=None, finished_at=utc_now()))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def committed_in(self, s: Session, job_id: int, worker: str, result: dict[str, Any]) -> bool:
        """Record, in the caller's transaction (the job's own write), that the job's write is made:
        a worker that runs the job again after this worker stopped finishes it without writing
        again. False when the job is no longer this worker's."""
        done = s.execute(self._mine(job_id, worker).values(
            result={**result, "committed": True}, message="已写入", payload=None))
        return bool(done.rowcount)  # type: ignore[attr-defined]

    def fail(self, job_id: int, worker: str, error: str, result: dict[str, Any] | None = None) -> bool:
        with self.db.session(write=True) as s:
            done = s.execute(self._mine(job_id, worker).values(
                state="failed", message=error[:200], error=error[:500], result=result, payload=None,
                finished_at=utc_now()))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def recover(self, stale_after: float, max_attempts: int) -> tuple[int, int]:
        """Running jobs whose heartbeat stopped ``stale_after`` seconds ago: queued again, or failed
        after ``max_attempts``. Returns (requeued, failed)."""
        cutoff = utc_now() - timedelta(seconds=stale_after)
        stale = (JobRow.state == "running", JobRow.heartbeat_at < cutoff)
        with self.db.session(write=True) as s:
            failed = s.execute(update(JobRow).where(*stale, JobRow.attempts >= max_attempts).values(
                state="failed", error="工作进程多次中断，任务已停止；可重新提交", message="失败：工作进程多次中断",
                payload=None, finished_at=utc_now())).rowcount  # type: ignore[attr-defined]
            requeued = s.execute(update(JobRow).where(*stale).values(
                state="queued", worker=None, message="工作进程中断，重新排队")).rowcount  # type: ignore[attr-defined]
            return int(requeued or 0), int(failed or 0)
