"""The gap report is kept per process until any write: counted computations, no timing."""

from __future__ import annotations

import pytest

import matcher.analytics.gap as gap
from matcher.analytics.cache import report_cache
from matcher.analytics.gap import GapQuery, gap_report
from matcher.domain.schemas import IndustryChain
from tests.analytics.test_analytics import zibo  # noqa: F401  (fixture)
from tests.conftest import talent

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
