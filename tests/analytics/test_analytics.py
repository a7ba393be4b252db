"""Gap analysis on small hand-built stores: every number checked exactly."""

from __future__ import annotations

from datetime import date

import pytest

from matcher.analytics.gap import (
    GapQuery,
    SalaryQuery,
    gap_report,
    max_assignment,
    priority_assignment,
    salary_reference,
    salary_report,
)
from matcher.core.errors import InvalidInput, NotFound
from matcher.domain.schemas import Catalogue
from matcher.reference.regions import place_of, resolve_region
from tests.conftest import demand, talent

BIGDATA = "2-02-38-03"  # 大数据工程技术人员
AUTOMATION = "2-02-07-07"  # 自动控制工程技术人员


def add_catalogue(service, region: str, year: int, entries, name: str | None = None) -> list[int]:
    rows = [(n + 2, e.model_copy(update={"source": "catalogue"})) for n, e in enumerate(entries)]
    res = service.import_rows("catalogue", rows, [], catalogue=Catalogue(region=region, year=year, name=name))
    return res["ids"]


@pytest.fixture
def zibo(service):
    """A 淄博市 2025 catalogue of three entries and five talents, three of them in the supply.

    Hard requirements decide who qualifies (the tests use threshold 0):
    E1 大数据开发 (本科, 2 places, 3★), E2 数据分析 (硕士, 1 place, no stars),
    E3 PLC (大专, not for fresh graduates, 2 years, 3 places, 5★).
    T1 本科 in 淄博; T2 硕士 in 济南 preferring 淄博; T3 大专 fresh graduate in 淄博;
    T4 本科 in 青岛 (not in the supply); T5 博士 in 淄博 but inactive (not in the supply).
    """
    ids = add_catalogue(service, "淄博市", 2025, [
        demand(title="大数据开发工程师", enterprise_name=None, chain_id="zb-data", occupation_code=BIGDATA,
               education="本科", headcount=2, shortage_level=3, required_skills=["Python", "Spark"],
               salary_min=8000, salary_max=12000, city="淄博市张店区"),
        demand(title="数据分析师", enterprise_name=None, chain_id="zb-data", occupation_code=BIGDATA,
               education="硕士", headcount=1, required_skills=["SQL"], salary_min=10000, salary_max=14000),
        demand(title="PLC电气工程师", enterprise_name=None, chain_id="zb-smart-equipment",
               occupation_code=AUTOMATION, education="大专", headcount=3, shortage_level=5,
               fresh_graduates_ok=False, min_experience_years=2, required_skills=["PLC编程"]),
    ], name="淄博市2025年目录")
    tids = service.add("talent", [
        talent(name="T1", education="本科", city="淄博", experience_years=3),
        talent(name="T2", education="硕士", city="济南", preferred_cities=["淄博"], experience_years=4),
        talent(name="T3", education="大专", city="淄博", fresh_graduate=True),
        talent(name="T4", education="本科", city="青岛"),
        talent(name="T5", education="博士", city="淄博", status="inactive"),
    ])
    return ids, tids


def test_places_and_regions(service):
    assert place_of(service.regions, "淄博市临淄区").city == "淄博市"
    assert place_of(service.regions, "淄博高新区").city == "淄博市"
    assert place_of(service.regions, "山东省淄博市").city == "淄博市"
    assert place_of(service.regions, "火星") is None
    assert resolve_region(service.regions, "淄博").name == "淄博市"
    prov = resolve_region(service.regions, "山东")
    assert (prov.name, prov.level) == ("山东省", "province")
    with pytest.raises(InvalidInput, match="未知地区"):
        resolve_region(service.regions, "火星")


def test_max_assignment_counts_a_talent_once():
    # two entries of 2 and 1 places; talent 7 qualifies for both, talent 8 only for the first
    total, per = max_assignment([2, 1], [(0, 7), (1, 7), (0, 8)])
    assert total == 2 and sum(per) == 2 and per[0] <= 2 and per[1] <= 1
    total, per = max_assignment([3], [(0, 1), (0, 2)])
    assert (total, per) == (2, [2])
    assert max_assignment([1, 1], []) == (0, [0, 0])


def test_priority_assignment_fills_urgent_entries_first():
    # one talent, two entries: the 5-star one gets it whatever the scores
    assert priority_assignment([1, 1], [2, 5], [(0, 9, 0.9), (1, 9, 0.6)]) == (1, [0, 1])
    # equal stars: the better score wins
    assert priority_assignment([1, 1], [3, 3], [(0, 9, 0.6), (1, 9, 0.9)]) == (1, [0, 1])
    # the total stays maximal: talent 1 only fits entry 0, so talent 2 goes to the urgent entry 1
    assert priority_assignment([1, 1], [1, 5], [(0, 1, 0.5), (0, 2, 0.9), (1, 2, 0.5)]) == (2, [1, 1])


def test_gap_report_numbers(service, zibo):
    e_ids, t_ids = zibo
    r = gap_report(service, GapQuery(region="淄博", year=2025, threshold=0.0))
    assert (r.region, r.region_level, r.year, r.demand_scope) == ("淄博市", "city", 2025, "catalogue")
    assert [c.name for c in r.catalogues] == ["淄博市2025年目录"]
    assert (r.supply, r.supply_fresh) == (3, 1)  # T1, T2, T3; T3 is a fresh graduate
    o = r.overall
    # qualified: E1 {T1, T2}, E2 {T2}, E3 {T1, T2} (T3 is 大专 and a fresh graduate)
    assert (o.entries, o.headcount, o.qualified_talents, o.met, o.gap) == (3, 6, 2, 2, 4)
    assert o.fit_rate == 0.3333 and o.meets_target is False
    chains = {c.key: c for c in r.chains}
    assert (chains["zb-data"].headcount, chains["zb-data"].met, chains["zb-data"].fit_rate) == (3, 2, 0.6667)
    assert chains["zb-data"].name == "大数据与人工智能"
    smart = chains["zb-smart-equipment"]
    assert (smart.headcount, smart.qualified_talents, smart.met, smart.gap, smart.fit_rate) == (3, 2, 2, 1, 0.6667)
    occ = {g.key: g for g in r.occupations}
    assert (occ[BIGDATA].entries, occ[BIGDATA].headcount, occ[BIGDATA].met) == (2, 3, 2)
    assert occ[BIGDATA].name == "大数据工程技术人员"
    assert (occ[AUTOMATION].headcount, occ[AUTOMATION].met) == (3, 2)
    # the overall assignment fills the 5-star PLC post first
    per = {e.title: (e.qualified, e.met, e.gap) for e in r.entries}
    assert per == {"大数据开发工程师": (2, 0, 2), "数据分析师": (1, 0, 1), "PLC电气工程师": (2, 2, 1)}
    assert sum(e.met for e in r.entries) == o.met
    assert r.method.pairs_scored == 9  # 3 entries x 3 talents
    assert "0.0" not in r.definitions["fit_rate"] and "阈值 0" in r.definitions["fit_rate"]
    # salary of 大数据工程技术人员: midpoints 10000 and 12000
    sal = {s.occupation_code: s for s in r.salary}
    s = sal[BIGDATA]
    assert (s.entries, s.headcount, s.p10, s.p25, s.p50, s.p75, s.p90, s.mean) == (
        2, 3, 10200, 10500, 11000, 11500, 11800, 11000)
    assert AUTOMATION not in sal  # 面议: no salary given
    assert r.entries[0].id == e_ids[0]


def test_catalogue_city_is_normalised(service, zibo):
    e_ids, _ = zibo
    assert service.get("demand", e_ids[0]).city == "淄博市"


def test_threshold_is_inclusive(service):
    add_catalogue(service, "淄博市", 2025, [demand(title="Python开发工程师", enterprise_name=None,
                                                   occupation_code="2-02-10-03", required_skills=["Python"])])
    service.add("talent", [talent(name="A", skills=["Python", "Django"])])
    base = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=0.0))
    # the pair's score, as the report computes it
    entry = service.store.list("demand")[0][0]
    prof = service.store.list("talent")[0][0]
    cos = float(service.vectors("demand", [entry.id])[0] @ service.vectors("talent", [prof.id])[0])
    score = service.score_pair(prof, entry, cos, target="talent", background=service.background("talent")).score
    at = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=score))
    above = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=min(1.0, score + 1e-6)))
    assert (base.overall.met, at.overall.met, above.overall.met) == (1, 1, 0)
    assert above.overall.fit_rate == 0.0


def test_missing_skills_and_training(service):
    """A near miss: the talent lacks Spark, Hive and Kafka (大数据); learning them qualifies him."""
    add_catalogue(service, "淄博市", 2025, [
        demand(title="大数据开发工程师", enterprise_name=None, occupation_code=BIGDATA, headcount=2,
               required_skills=["Python", "Spark", "Hive", "Kafka"])])
    service.add("talent", [talent(name="B", skills=["Python"])])
    entry = service.store.list("demand")[0][0]
    prof = service.store.list("talent")[0][0]
    bg = service.background("talent")
    cos = float(service.vectors("demand", [entry.id])[0] @ service.vectors("talent", [prof.id])[0])
    before = service.score_pair(prof, entry, cos, target="talent", background=bg).score
    trained = prof.model_copy(update={"skills": ["Python", "Spark", "Hive", "Kafka"]})
    after = service.score_pair(trained, entry, cos, target="talent", background=bg).score
    assert after > before
    threshold = round((before + after) / 2, 6)
    r = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=threshold,
                                     near_margin=threshold - before + 0.01))
    assert (r.overall.headcount, r.overall.met, r.overall.gap) == (2, 0, 2)
    assert [(s.skill, s.pairs, s.talents, s.entries, s.headcount_gap) for s in r.missing_skills] == [
        ("Hive", 1, 1, 1, 2), ("Kafka", 1, 1, 1, 2), ("Spark", 1, 1, 1, 2)]
    assert all(s.directions == ["大数据"] for s in r.missing_skills)
    assert [(t.direction, t.covers, t.talents_qualified, t.extra_met) for t in r.training] == [
        ("大数据", ["Hive", "Kafka", "Spark"], 1, 1)]
    assert r.training[0].title == "数字技术工程师（大数据工程技术人员）"
    # outside the margin the pair is no near miss: no skills, no training
    far = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=threshold, near_margin=0.0))
    assert far.missing_skills == [] and far.training == []


def test_pool_limits_scored_pairs(service, zibo):
    full = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=0.0, pool=None))
    small = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=0.0, pool=1))
    assert full.method.pairs_scored == 9 and small.method.pairs_scored == 3
    assert full.overall.met == 2 and small.overall.met <= 2


def test_demand_scopes(service, zibo):
    service.add("demand", [
        demand(title="嵌入式工程师", city="淄博", occupation_code="2-02-10-03", headcount=4,
               valid_from=date(2025, 3, 1), valid_until=date(2025, 12, 31)),
        demand(title="测试工程师", city="淄博市高青县", occupation_code="2-02-10-03", headcount=1,
               valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31)),  # not valid in 2025
        demand(title="运维工程师", city="济南", occupation_code="2-02-10-03", headcount=5),  # not in 淄博
        demand(title="已关闭岗位", city="淄博", occupation_code="2-02-10-03", status="closed"),
    ])
    posts = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=0.0, demand="posts"))
    assert [e.title for e in posts.entries] == ["嵌入式工程师"] and posts.catalogues == []
    both = gap_report(service, GapQuery(region="淄博市", year=2025, threshold=0.0, demand="all"))
    assert (both.overall.entries, both.overall.headcount) == (4, 10)
    in_2026 = gap_report(service, GapQuery(region="淄博市", year=2026, threshold=0.0, demand="posts"))
    assert [e.title for e in in_2026.entries] == ["测试工程师"]
    province = gap_report(service, GapQuery(region="山东省", year=2026, threshold=0.0, demand="posts"))
    assert sorted(e.title for e in province.entries) == ["测试工程师", "运维工程师"]
    assert province.region_level == "province"


def test_missing_catalogue_and_empty_demand(service, zibo):
    with pytest.raises(NotFound, match="没有 2024 年的急需紧缺人才目录；已有目录的年度：2025"):
        gap_report(service, GapQuery(region="淄博市", year=2024))
    empty = gap_report(service, GapQuery(region="青岛市", year=2025, demand="posts"))
    assert (empty.overall.headcount, empty.overall.fit_rate, empty.overall.meets_target) == (0, None, None)
    assert empty.supply == 1  # T4


def test_salary_report_and_quantiles(service, zibo):
    rep = salary_report(service, SalaryQuery(region="淄博市", year=2025))
    assert rep.entries == 3 and [s.occupation_code for s in rep.occupations] == [BIGDATA]
    assert "面议不计" in rep.definition
    assert salary_reference([]) == []
    one = salary_reference([demand(salary_min=6000, occupation_code=BIGDATA)])  # only a lower bound
    assert (one[0].p10, one[0].p50, one[0].p90, one[0].mean) == (6000, 6000, 6000, 6000)


def test_with_a_calibrated_model_the_threshold_is_a_probability(service, zibo):
    """A promoted calibrated outcome model turns "qualified" into a stated probability of a
    positive outcome, and the report names the model; ``ranker="weighted"`` keeps the score."""
    import numpy as np

    from matcher.analytics.gap import by_probability
    from matcher.analytics.report import render_gap_html
    from matcher.outcomes.training import promote_model, simulate_into_store, train_model

    e_ids, t_ids = zibo
    simulate_into_store(service, seekers=600)
    model_id = train_model(service)["model"]
    promote_model(service, model_id, resamples=200)
    _, model = service.active_model()
    # every eligible pair's probability, as the report must compute it
    entries = [service.get("demand", i) for i in e_ids]
    supply = [service.get("talent", i) for i in t_ids[:3]]
    bg = service.background("talent")
    probs = {}
    for e in entries:
        for t in supply:
            cos = float(service.vectors("demand", [e.id])[0] @ service.vectors("talent", [t.id])[0])
            sc = service.score_pair(t, e, cos, target="talent", background=bg)
            if sc.eligible:
                probs[(e.id, t.id)] = float(by_probability(model)([sc])[0])
    assert len(probs) == 5 and len(set(probs.values())) > 1  # E1 {T1, T2}, E2 {T2}, E3 {T1, T2}
    cut = float(np.median(list(probs.values())))
    r = gap_report(service, GapQuery(region="淄博", year=2025, probability_threshold=cut))
    assert (r.threshold_kind, r.threshold, r.ranker, r.method.ranker) == ("probability", cut, model_id, model_id)
    expected = {e.title: sum(1 for (eid, _), p in probs.items() if eid == e.id and p >= cut) for e in entries}
    assert {e.title: e.qualified for e in r.entries} == expected
    assert "正向结果概率" in r.definitions["qualified"] and model_id in r.definitions["qualified"]
    assert f"概率 {cut:g}，模型 {model_id}" in r.definitions["fit_rate"]
    html = render_gap_html(r)
    assert model_id in html and "正向结果概率" in html
    low = gap_report(service, GapQuery(region="淄博", year=2025, probability_threshold=min(probs.values())))
    assert low.overall.met == 2  # every eligible pair qualifies: the numbers of threshold 0 by score
    by_score = gap_report(service, GapQuery(region="淄博", year=2025, threshold=0.0, ranker="weighted"))
    assert (by_score.threshold_kind, by_score.ranker, by_score.overall.met) == ("score", "weighted", 2)
    assert "双向匹配得分" in by_score.definitions["qualified"]


def test_batched_scoring_equals_pair_by_pair(service, zibo):
    """The report's pair scoring on arrays (PairScorer.score_many, the default measure) keeps the
    same qualified talents, scores, near misses and pair count as scoring each pair with
    ``score_pair`` (the path a learned measure takes), at several thresholds."""
    from matcher.analytics.gap import by_score, score_pairs

    service.add("talent", [
        talent(name=f"X{i}", education=["大专", "本科", "硕士", None][i % 4], city=["淄博", "济南", None][i % 3],
               skills=[["Python"], ["SQL", "Spark"], [], ["PLC编程", "Python"]][i % 4],
               fresh_graduate=i % 5 == 0, experience_years=float(i % 6), major=["计算机科学与技术", None][i % 2])
        for i in range(24)])
    entries = [e for e, _ in [service.store.list("demand")]][0]
    talents = service.store.list("talent")[0]
    bg = service.background("talent")
    seen_qualified = seen_near = False
    for threshold in (0.0, 0.35, 0.5, 0.7):
        fast = score_pairs(service, entries, talents, threshold=threshold, pool=None, near_margin=0.2,
                           background=bg)
        slow = score_pairs(service, entries, talents, threshold=threshold, pool=None, near_margin=0.2,
                           background=bg, measure=lambda scs: by_score(scs))
        assert fast.pairs == slow.pairs == len(entries) * len(talents)
        assert fast.qualified == slow.qualified and fast.scores == slow.scores
        assert fast.near == slow.near
        seen_qualified |= any(fast.qualified)
        seen_near |= bool(fast.near)
    assert seen_qualified and seen_near  # the comparison covered both kinds of outcome
