"""Fair runs as durable jobs: submitted to the database's job queue, run by a worker process
(``talentmatch worker``) or by a worker thread of the server (``TALENTMATCH_EMBEDDED_WORKER``).

Why the database and not Redis (arq/RQ/dramatiq) or procrastinate: the database is already the
one shared, backed-up truth on both SQLite (the embedded default) and PostgreSQL; a queue there
needs no new service or package, survives restarts with the data, and a job and what it writes
are in the same database. Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL. Throughput is a
few jobs a minute, far below what a table queue handles.

Concurrency: each worker runs one job at a time, so the number of workers (worker processes,
plus one thread per server process when embedded) caps concurrent runs; ``max_waiting_jobs``
caps the queue (503 beyond it).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from matcher.core.background import Background
from matcher.core.errors import TalentMatchError
from matcher.domain.auth import Principal
from matcher.domain.fair import FairRunOptions
from matcher.fair.create import fair_repo
from matcher.fair.run import run_fair
from matcher.service import MatchService
from matcher.storage.jobs_repo import Jobs, job_actor

__all__ = ["FAIR_RUN", "Handler", "Worker", "get_job", "job_counts", "submit_fair_run"]

log = logging.getLogger(__name__)
FAIR_RUN = "fair_run"
# the share of a run's progress each stage of run_fair stands for
STAGES = {"评分": (0.0, 0.75), "分配": (0.75, 0.85), "排期": (0.85, 0.9), "生成说明": (0.9, 1.0)}
HEARTBEAT_SECONDS = 5.0


def submit_fair_run(service: MatchService, fair_id: int, options: FairRunOptions | None,
                    actor: Principal | None = None) -> dict[str, Any]:
    """Queue a run of a fair (checked to exist first); returns the job."""
    fair_repo(service).get(fair_id)  # NotFound now, not in the worker
    options = (options or FairRunOptions()).model_copy(update={"save": True})
    return Jobs(service.store).enqueue(FAIR_RUN, {"fair_id": fair_id, "options": options.model_dump(mode="json")},
                                       actor, max_waiting=service.settings.max_waiting_jobs)


def get_job(service: MatchService, job_id: int) -> dict[str, Any]:
    return Jobs(service.store).get(job_id)


def job_counts(service: MatchService) -> dict[str, int]:
    """Jobs by state (``queued`` is the queue depth)."""
    return Jobs(service.store).depth()


# runs a claimed job: (worker, job, progress(fraction, message)) -> the result to store, or None
# when the handler ended the job itself (an import marks it done in its own write's transaction)
Handler = Callable[["Worker", dict[str, Any], Callable[[float, str], None]], dict[str, Any] | None]


def _fair_run(worker: Worker, job: dict[str, Any], beat: Callable[[float, str], None]) -> dict[str, Any]:
    shown = [0.0]

    def progress(stage: str, n: int, total: int) -> None:
        lo, hi = STAGES.get(stage, (shown[0], shown[0]))
        now = max(shown[0], lo + (hi - lo) * (n / total if total else 1.0))
        if now - shown[0] >= 0.01 or n == total:  # not a write per scored seeker
            shown[0] = now
            beat(now, f"{stage}：{n}/{total}")

    params = job["params"]
    options = FairRunOptions.model_validate(params["options"])
    result = run_fair(worker.service, int(params["fair_id"]), options, progress, actor=job_actor(job))
    return {"run_id": result.run_id, "fair_id": int(params["fair_id"])}


class Worker:
    """Claims queued jobs one at a time and runs them, beating while it works. ``handlers`` add
    kinds of job to the fair runs (``matcher.imports.jobs.HANDLERS``: file imports)."""

    def __init__(self, service: MatchService, name: str | None = None,
                 handlers: Mapping[str, Handler] | None = None) -> None:
        self.service = service
        self.handlers: dict[str, Handler] = {FAIR_RUN: _fair_run, **(handlers or {})}
        self.jobs = Jobs(service.store)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        settings = service.settings
        self.stale_after, self.max_attempts = settings.job_stale_seconds, settings.job_max_attempts

    def run_once(self) -> bool:
        """Recover stopped jobs, then run the oldest queued one; False when none was waiting."""
        if not self.jobs.pending():
            return False
        requeued, failed = self.jobs.recover(self.stale_after, self.max_attempts)
        if requeued or failed:
            log.warning("jobs whose worker stopped: %d queued again, %d failed", requeued, failed)
        job = self.jobs.claim(self.name, tuple(self.handlers))
        if job is None:
            return False
        self._run(job)
        return True

    def run_forever(self, stop: threading.Event, poll: float = 1.0) -> None:
        while not stop.is_set():
            try:
                if self.run_once():
                    continue
            except Exception as exc:  # the database away for a moment: try again
                log.warning("the job worker failed to poll (%s); retrying", type(exc).__name__)
            stop.wait(poll)

    def start_thread(self, poll: float = 1.0) -> Background:
        """Run jobs in a daemon thread until the returned handle is stopped (``stop()`` waits for
        the job in hand to end)."""
        return Background(self.run_forever, "job-worker", poll).start()

    def _run(self, job: dict[str, Any]) -> None:
        job_id = job["id"]
        done = threading.Event()

        def heartbeat() -> None:
            while not done.wait(HEARTBEAT_SECONDS):
                try:
                    self.jobs.beat(job_id, self.name)
                except Exception:  # a missed beat is retried next time
                    pass

        def beat(progress: float, message: str) -> None:
            self.jobs.beat(job_id, self.name, progress, message)

        threading.Thread(target=heartbeat, name=f"job-{job_id}-heartbeat", daemon=True).start()
        try:
            result = self.handlers[job["kind"]](self, job, beat)
            if result is not None:
                self.jobs.finish(job_id, self.name, result)
        except TalentMatchError as exc:
            self.jobs.fail(job_id, self.name, exc.detail)
        except Exception as exc:  # the job fails with a message; the log has the type and the stack
            log.error("job %s failed: %s", job_id, type(exc).__name__, exc_info=(type(exc), exc, exc.__traceback__))
            self.jobs.fail(job_id, self.name, "任务失败（内部错误）")
        finally:
            done.set()
