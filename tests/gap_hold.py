"""Gap-report computations held open by a test: each starts, reports a stage, says so and waits
until the test releases it (shared by the analytics, API and page tests of the background report)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import matcher.analytics.gap as gap

WAIT = 120  # seconds a test waits for a background computation before failing (not a timing check)


def hold_gap_reports(monkeypatch, fraction: float, stage: str) -> Iterator[tuple[threading.Event, threading.Event, list[str]]]:
    """Patch ``compute_gap_report`` so each computation reports ``(fraction, stage)``, sets
    ``started`` and waits for ``release``; yields ``(started, release, regions computed)``."""
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []
    real = gap.compute_gap_report

    def spy(service, query, *args, **kw):
        calls.append(query.region)
        kw["progress"](fraction, stage)
        started.set()
        assert release.wait(WAIT), "the test never released the computation"
        return real(service, query, *args, **kw)

    monkeypatch.setattr(gap, "compute_gap_report", spy)
    yield started, release, calls
    release.set()
