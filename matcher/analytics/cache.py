"""Reports kept in the process that computed them, until the data they were computed from changes,
and reports being computed in the background with their progress.

A report is stored under its parameters and the store's data version (``data_version``: the last
entry of the change log, written in the transaction of every talent or demand write by any
process, and a digest of the catalogues and chains). The version is read before the report is
computed, so a write during the computation makes the next call compute again.

One computation per (parameters, data version) at a time: a call that finds the same report
being computed waits for it (``get``) or is given its progress (``submit``, for pages and API
clients that poll) instead of starting another. Computations run in daemon threads
(``matcher.core.background``), at most ``MAX_RUNNING`` at once (the others wait, "排队中").

Why threads of the server process and not the database's job queue (``matcher.fair.jobs``): the
report is kept in the memory of a process, is thrown away at the next write, and a queued report
would wait behind a fair run of minutes in the single embedded worker. With several server
processes each computes a report at most once; the status is asked for by the report's
parameters (not by an id), so a poll that reaches another process starts or finds the
computation there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from weakref import WeakKeyDictionary

from matcher.core.background import Background
from matcher.core.errors import TalentMatchError
from matcher.service import MatchService
from matcher.storage.changes import data_version

T = TypeVar("T")
log = logging.getLogger(__name__)

MAX_REPORTS = 32
MAX_RUNNING = 2  # reports computed at once per process (each is a CPU-bound loop)
FAILED_KEPT = 60.0  # seconds a failure is shown to pollers before the next call tries again

Progress = Callable[[float, str], None]
State = Literal["queued", "running", "done", "failed"]


@dataclass
class Build(Generic[T]):
    """A report being computed (or just computed): what a progress page shows."""

    key: Hashable
    state: State = "queued"
    progress: float = 0.0
    stage: str = "排队中"
    started: float = field(default_factory=time.time)
    finished: float | None = None
    value: T | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    exc: BaseException | None = field(default=None, repr=False)  # raised again to a waiting caller

    def report(self, progress: float, stage: str) -> None:
        self.state = "running"
        self.progress = max(self.progress, min(1.0, progress))
        self.stage = stage

    @property
    def elapsed(self) -> float:
        return (self.finished or time.time()) - self.started


class ReportCache(Generic[T]):
    """The last ``size`` reports of one service, by (parameters, data version), and the reports
    being computed."""

    def __init__(self, size: int = MAX_REPORTS, running: int = MAX_RUNNING) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._builds: dict[Hashable, Build[T]] = {}
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(running)
        self.computed = 0  # reports computed (a miss), for tests and the benchmark
        self.served = 0  # reports served from the cache

    def _full(self, service: MatchService, key: Hashable) -> Hashable:
        with service.store.session() as s:
            return (key, data_version(s))

    def peek(self, service: MatchService, key: Hashable) -> T | None:
        """The report if it is kept for the current data, else None (nothing is started)."""
        full = self._full(service, key)
        with self._lock:
            return self._items.get(full)

    def get(self, service: MatchService, key: Hashable, compute: Callable[[Progress], T]) -> T:
        """The report, computed here unless kept or being computed (then its result is awaited)."""
        build, mine = self._find_or_add(service, key)
        if isinstance(build, _Kept):
            return build.value
        if mine:
            self._run(build, compute, service)
        build.done.wait()
        return self._result(build)

    def submit(self, service: MatchService, key: Hashable, compute: Callable[[Progress], T]) -> Build[T]:
        """The report's build without waiting: done with the value when kept, else the running
        one or one started now in a background thread. A failed build is returned once (for
        ``FAILED_KEPT`` seconds), then the next call starts again."""
        build, mine = self._find_or_add(service, key)
        if isinstance(build, _Kept):
            return Build(key=key, state="done", progress=1.0, stage="完成", value=build.value,
                         finished=time.time(), done=_SET)
        if mine:
            Background(lambda _stop: self._run(build, compute, service), "gap-report").start()
        return build

    def wait(self, build: Build[T], timeout: float | None = None) -> bool:
        """Wait for a build to end (tests, the benchmark); False on timeout."""
        return build.done.wait(timeout)

    def running(self) -> list[Build[T]]:
        """The builds not yet ended (tests wait for them before the data is dropped)."""
        with self._lock:
            return [b for b in self._builds.values() if not b.done.is_set()]

    def _find_or_add(self, service: MatchService, key: Hashable) -> tuple[Any, bool]:
        full = self._full(service, key)
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                self.served += 1
                return _Kept(self._items[full]), False
            build = self._builds.get(full)
            if build is not None and build.state == "failed" and time.time() - (build.finished or 0) > FAILED_KEPT:
                build = None
            if build is not None:
                return build, False
            build = self._builds[full] = Build(key=full)
            return build, True

    def _run(self, build: Build[T], compute: Callable[[Progress], T], service: MatchService) -> None:
        try:
            with self._slots:
                build.report(0.0, "开始计算")
                value = compute(build.report)
        except TalentMatchError as exc:
            self._end(build, None, exc.detail, exc)
        except Exception as exc:  # noqa: BLE001 - the poller is told; the waiting caller gets it again
            log.error("gap report failed: %s", type(exc).__name__, exc_info=(type(exc), exc, exc.__traceback__))
            self._end(build, None, "报告生成失败（内部错误）", exc)
        else:
            self._end(build, value, None)

    def _end(self, build: Build[T], value: T | None, error: str | None, exc: BaseException | None = None) -> None:
        full = build.key
        with self._lock:
            build.finished = time.time()
            if error is None:
                self.computed += 1
                self._items[full] = value  # type: ignore[assignment]
                self._items.move_to_end(full)
                # an older data version can never be asked for again: drop its reports and builds
                for k in [k for k in self._items if k[1] != full[1]]:  # type: ignore[index]
                    del self._items[k]
                for k in [k for k, b in self._builds.items() if k[1] != full[1] and b.done.is_set()]:  # type: ignore[index]
                    del self._builds[k]
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
                self._builds.pop(full, None)
                build.value, build.state, build.progress, build.stage = value, "done", 1.0, "完成"
            else:
                build.state, build.error, build.exc = "failed", error, exc
        build.done.set()

    def _result(self, build: Build[T]) -> T:
        if build.state == "failed":
            raise build.exc if build.exc is not None else RuntimeError(build.error)
        return build.value  # type: ignore[return-value]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._builds = {k: b for k, b in self._builds.items() if not b.done.is_set()}


@dataclass
class _Kept:
    value: Any


_SET = threading.Event()
_SET.set()

_caches: WeakKeyDictionary[MatchService, ReportCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


def report_cache(service: MatchService) -> ReportCache:
    """The report cache of a service (one per service object, gone with it)."""
    with _caches_lock:
        cache = _caches.get(service)
        if cache is None:
            cache = _caches[service] = ReportCache()
        return cache
