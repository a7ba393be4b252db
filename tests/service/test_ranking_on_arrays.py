"""A stored record's ranking scores its candidates on arrays (``PairScorer.top_many``): the
lists must be the very ones the pair-by-pair path (``scored`` then ``top``) gives — the same
records, order, scores and reasons — with filters, ineligible pairs and ties."""

from __future__ import annotations

import pytest

from matcher.domain.schemas import MatchFilters
from matcher.ranking.scorer import PairScorer, top
from tests.conftest import demand, talent

TITLES = ["大数据开发工程师", "数据分析师", "PLC电气工程师", "Java后端开发", "焊工", "会计"]
SKILLS = [["Python", "Spark"], ["SQL"], ["PLC编程"], ["Java", "Spring"], ["焊接"], []]


def pair_by_pair(self, query, target, candidates, background, *, top_k, min_score, include_ineligible=False):
    scored = self.scored(query, target, ((c, cos, None) for c, cos in candidates), background,
                         include_ineligible=include_ineligible)
    return top(scored, top_k, min_score)


@pytest.fixture
def populated(service):
    service.add("demand", [
        demand(title=TITLES[i % 6], required_skills=SKILLS[i % 6], city=["淄博", "济南", "青岛"][i % 3],
               education=["大专", "本科", "硕士", None][i % 4], fresh_graduates_ok=i % 3 != 0,
               min_experience_years=float(i % 4), majors=[["计算机类"], [], ["机械类"]][i % 3],
               salary_min=5000 + 500 * (i % 5), salary_max=9000 + 500 * (i % 5))
        for i in range(30)])
    service.add("talent", [
        talent(name=f"T{i}", skills=SKILLS[(i + 1) % 6] + SKILLS[i % 6][:1], city=["淄博", "济南", None][i % 3],
               education=["大专", "本科", "硕士", None][i % 4], fresh_graduate=i % 4 == 0,
               experience_years=float(i % 5), major=["计算机科学与技术", "机械设计制造及其自动化", None][i % 3])
        for i in range(25)])
    return service


def lists(service, kind: str, ids, filters: MatchFilters) -> list:
    out = []
    for rid in ids:
        rec = service.store.get(kind, rid)
        found = (service.match_profile(rec, top_k=8, filters=filters) if kind == "talent"
                 else service.match_entry(rec, top_k=8, filters=filters))
        out.append([(m.model_dump(mode="json")) for m in found])
    return out


@pytest.mark.parametrize("filters", [MatchFilters(), MatchFilters(include_ineligible=True), MatchFilters(city="淄博")])
def test_array_ranking_equals_pair_by_pair(populated, monkeypatch, filters):
    talents = [t.id for t in populated.store.list("talent", limit=100)[0]]
    entries = [e.id for e in populated.store.list("demand", limit=100)[0]]
    fast = lists(populated, "talent", talents, filters) + lists(populated, "demand", entries, filters)
    monkeypatch.setattr(PairScorer, "top_many", pair_by_pair)
    slow = lists(populated, "talent", talents, filters) + lists(populated, "demand", entries, filters)
    assert fast == slow
    assert sum(map(len, fast)) > 0
