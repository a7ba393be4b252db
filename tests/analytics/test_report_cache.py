"""The gap report is kept per process until any write: counted computations, no timing."""

from __future__ import annotations

import threading

import pytest

import matcher.analytics.gap as gap
from matcher.analytics.cache import report_cache
from matcher.analytics.gap import GapQuery, gap_report, submit_gap_report
from matcher.domain.schemas import IndustryChain
from tests.analytics.test_analytics import zibo  # noqa: F401  (fixture)
from tests.conftest import talent
from tests.gap_hold import WAIT, hold_gap_reports

Q = GapQuery(region="淄博市", year=2025, threshold=0.0)


@pytest.fixture
def computations(monkeypatch):
    """How many times the report was really computed."""
    calls: list[str] = []
    real = gap.compute_gap_report

    def spy(service, query, *args, **kw):
        calls.append(query.region)
        return real(service, query, *args, **kw)

    monkeypatch.setattr(gap, "compute_gap_report", spy)
    return calls


def test_second_call_is_served_from_the_cache(service, zibo, computations):  # noqa: F811
    first = gap_report(service, Q)
    second = gap_report(service, Q)
    assert len(computations) == 1
    assert second is first
    # the same region by another name is the same report
    assert gap_report(service, Q.model_copy(update={"region": "淄博"})) is first
    assert len(computations) == 1
    cache = report_cache(service)
    assert (cache.computed, cache.served) == (1, 2)


def test_other_parameters_are_other_reports(service, zibo, computations):  # noqa: F811
    a = gap_report(service, Q)
    b = gap_report(service, Q.model_copy(update={"threshold": 0.99}))
    c = gap_report(service, Q.model_copy(update={"ranker": "weighted"}))
    assert len(computations) == 3
    assert b.threshold == 0.99 and a.threshold == 0.0
    assert c.ranker == "weighted"
    assert gap_report(service, Q.model_copy(update={"threshold": 0.99})) is b
    assert len(computations) == 3


def test_a_talent_write_makes_the_next_call_recompute(service, zibo, computations):  # noqa: F811
    before = gap_report(service, Q)
    assert before.supply == 3
    service.add("talent", [talent(name="T6", education="本科", city="淄博")])
    after = gap_report(service, Q)
    assert len(computations) == 2
    assert after.supply == 4
    assert gap_report(service, Q) is after
    assert len(computations) == 2


def test_a_write_by_another_process_is_seen(service, settings, fake_encoder, zibo, computations):  # noqa: F811
    from matcher.wiring import build_service

    before = gap_report(service, Q)
    other = build_service(settings, encoder=fake_encoder)  # another server on the same database
    try:
        tid = zibo[1][0]
        other.delete("talent", tid)
    finally:
        other.close()
    after = gap_report(service, Q)
    assert len(computations) == 2
    assert after.supply == before.supply - 1


def test_catalogue_and_chain_changes_invalidate(service, zibo, computations):  # noqa: F811
    from tests.analytics.test_analytics import add_catalogue
    from tests.conftest import demand

    gap_report(service, Q)
    # a catalogue of another region: the demand log grows, so the report is computed again
    add_catalogue(service, "青岛市", 2025, [demand(title="运维工程师", enterprise_name=None)], name="青岛目录")
    gap_report(service, Q)
    assert len(computations) == 2
    # chains are not in the change log: their content is part of the data version
    service.store.replace_registry("测试链", [IndustryChain(id="t-1", name="测试产业链", region="淄博市")])
    gap_report(service, Q)
    assert len(computations) == 3
    gap_report(service, Q)
    assert len(computations) == 3


# -- computed in the background, once -------------------------------------------------------------


@pytest.fixture
def held(monkeypatch):
    """Computations that start, say so, and wait until the test lets them finish."""
    yield from hold_gap_reports(monkeypatch, 0.5, "人岗评分：测试")


def test_submit_starts_one_background_computation_and_reports_its_progress(service, zibo, held):  # noqa: F811
    started, release, calls = held
    first = submit_gap_report(service, Q)
    assert first.state in ("queued", "running") and first.value is None
    assert started.wait(WAIT)
    again = submit_gap_report(service, Q.model_copy(update={"region": "淄博"}))  # same report, other name
    assert again is first and again.state == "running"
    assert (again.progress, again.stage) == (0.5, "人岗评分：测试")
    release.set()
    assert report_cache(service).wait(first, WAIT)
    done = submit_gap_report(service, Q)
    assert done.state == "done" and done.progress == 1.0 and done.value is not None
    assert done.value is gap_report(service, Q)  # the blocking call is served the same report
    assert calls == ["淄博市"]
    assert report_cache(service).computed == 1


def test_concurrent_callers_share_one_computation(service, zibo, held):  # noqa: F811
    started, release, calls = held
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(gap_report(service, Q))) for _ in range(4)]
    threads[0].start()
    assert started.wait(WAIT)  # the first caller computes; the others arrive while it does
    for t in threads[1:]:
        t.start()
    polled = [submit_gap_report(service, Q) for _ in range(3)]
    assert all(p.state == "running" for p in polled)
    release.set()
    for t in threads:
        t.join(WAIT)
    assert len(got) == 4 and all(r is got[0] for r in got)
    assert calls == ["淄博市"]


def test_the_progress_goes_forward_to_the_end(service, zibo):  # noqa: F811
    seen: list[tuple[float, str]] = []
    from matcher.reference.regions import resolve_region

    gap.compute_gap_report(service, Q, resolve_region(service.regions, "淄博市"), "weighted", None,
                           progress=lambda f, s: seen.append((f, s)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and 0 < fractions[0] and fractions[-1] < 1
    stages = " ".join(s for _, s in seen)
    assert "人岗评分：3/3 条需求" in stages and "最大流" in stages and "培训" in stages


def test_a_write_during_the_computation_makes_the_next_call_compute_again(service, zibo, held):  # noqa: F811
    started, release, calls = held
    first = submit_gap_report(service, Q)
    assert started.wait(WAIT)
    service.add("talent", [talent(name="T6", education="本科", city="淄博")])
    release.set()
    assert report_cache(service).wait(first, WAIT)
    assert first.state == "done"  # kept under the data version read when it was asked for
    later = submit_gap_report(service, Q)
    assert later is not first  # a new computation (it may already be done: nothing holds it)
    assert report_cache(service).wait(later, WAIT)
    assert later.value.supply == 4 and calls == ["淄博市", "淄博市"]


def test_a_failed_computation_is_told_to_pollers_and_raised_to_waiters(service, zibo):  # noqa: F811
    from matcher.core.errors import NotFound

    query = Q.model_copy(update={"year": 2031})  # no catalogue of that year
    build = submit_gap_report(service, query)
    assert report_cache(service).wait(build, WAIT)
    assert build.state == "failed" and "没有 2031 年" in build.error
    assert submit_gap_report(service, query) is build  # told again, not recomputed at once
    with pytest.raises(NotFound):
        gap_report(service, query)
