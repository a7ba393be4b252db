"""Free-text match queries read what they state (issue 16): years ("三年Java经验"), education
("应届硕士"), cities ("想在济南工作"); and a short query ("会计") keeps a semantic score."""

from __future__ import annotations

import pytest

from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.domain.schemas import Education, TalentProfile
from matcher.ingest.parsing.requirements import stated_in_text
from matcher.reference.regions import load_regions
from tests.conftest import demand


def test_what_a_query_states() -> None:
    regions = load_regions(PROJECT_ROOT / "data" / "cn_regions.csv")
    s = stated_in_text("三年Java经验，想在济南工作", regions)
    assert (s.years, s.education, s.cities) == (3, None, ["济南市"])
    assert s.fields == {"experience", "location"}
    s = stated_in_text("应届硕士", regions)
    assert (s.years, s.education, s.fresh_graduate, s.cities) == (0, Education.MASTER, True, [])
    assert s.fields == {"experience", "education", "fresh"}
    assert stated_in_text("中山大学毕业，会计", regions).cities == []
    assert stated_in_text("会计", regions).fields == frozenset()


def test_seeker_text_reads_years_and_city(service) -> None:
    svc = service
    posts = [demand(title="Java开发工程师", city="济南市", min_experience_years=3, required_skills=["Java"]),
             demand(title="Java开发工程师", city="济南市", min_experience_years=5, required_skills=["Java"]),
             demand(title="Java开发工程师", city="淄博市", min_experience_years=3, required_skills=["Java"])]
    svc.import_rows("demands", [(i + 2, p) for i, p in enumerate(posts)], [])
    res = svc.match_text("三年Java经验，想在济南工作", "demands", 10)
    by = {m.id: m for m in res}
    assert set(by) == {1, 2, 3}
    assert by[1].components["experience"] == 1.0 and by[2].components["experience"] == pytest.approx(0.6)
    assert by[1].components["location"] == 1.0 and by[3].components["location"] < 1.0
    assert res[0].id == 1  # the right years in the right city
    reasons = [r for m in res for r in m.explanation.reasons]
    assert not any("工作经验 0 年" in r for r in reasons)
    assert "工作经验 3 年，岗位要求 5 年" in by[2].explanation.reasons
    # a fresh graduate's wish does not pass a post closed to fresh graduates that wants years
    svc.import_rows("demands", [(9, demand(title="Java开发工程师", city="济南市", min_experience_years=3,
                                           required_skills=["Java"], fresh_graduates_ok=False))], [])
    closed = svc.store.list("demand", limit=10)[0][-1].id
    assert closed not in [m.id for m in svc.match_text("应届生，会Java，想在济南工作", "demands", 10)]
    assert closed in [m.id for m in svc.match_text("三年Java经验，想在济南工作", "demands", 10)]
    # a wish that states no years says nothing of experience
    res = svc.match_text("Java开发", "demands", 10)
    assert not any("工作经验" in r for m in res for r in m.explanation.reasons)


def test_employer_text_reads_education(service) -> None:
    svc = service
    people = [TalentProfile(name="郑同学", phone="13812345601", education="大专", major="计算机应用技术",
                            skills=["Python"], fresh_graduate=True, summary="2026届大专应届毕业生，会Python编程", consent=True),
              TalentProfile(name="冯同学", phone="13812345602", education="硕士", major="计算机技术",
                            skills=["Python"], fresh_graduate=True, summary="2026届应届硕士研究生，会Python编程", consent=True)]
    svc.import_rows("talents", [(i + 2, p) for i, p in enumerate(people)], [])
    res = svc.match_text("应届硕士 Python", "talents", 10, filters=None)
    assert res and res[0].title == "冯同学"
    assert all(m.title != "郑同学" or not m.eligible for m in res)


# -- a short query with the real encoder --------------------------------------------------------

POOL = [
    ("王会计", "本科", "会计学", ["用友", "金蝶", "Excel高级应用"], "5年制造业企业会计工作经验，负责总账、成本核算与纳税申报，持中级会计师证。"),
    ("李出纳", "大专", "财务管理", ["Excel高级应用"], "2年出纳工作经验，负责现金与银行日记账。"),
    ("张开发", "本科", "计算机科学与技术", ["Java", "Spring Boot"], "3年Java后端开发经验，熟悉Spring Boot与微服务。"),
    ("赵焊工", "高中/中专", "焊接技术与自动化", [], "持焊工证，8年压力容器焊接经验。"),
    ("钱销售", "大专", "市场营销", ["CRM"], "4年白酒销售业务经验，负责区域客户开发。"),
    ("孙护士", "大专", "护理", [], "3年三甲医院护理工作经验，持护士执业证书。"),
    ("周设计", "本科", "机械设计制造及其自动化", ["SolidWorks"], "机械设计工程师，熟悉减速机结构设计。"),
    ("吴分析", "硕士", "统计学", ["Python", "SQL"], "统计学专业，熟悉数据分析与建模。"),
]


@pytest.mark.slow
@pytest.mark.integration
def test_short_query_keeps_its_semantic_score(tmp_path) -> None:
    """"会计" gave every candidate semantic 0 (the passage background clipped the query's
    cosines) and the accountant came 6th among seven ties."""
    from matcher.wiring import build_service

    svc = build_service(Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="e5"))
    try:
        rows = [(i + 2, TalentProfile(name=n, phone=f"138123456{i:02d}", education=e, major=m, skills=s,
                                      summary=t, city="济南市", consent=True))
                for i, (n, e, m, s, t) in enumerate(POOL)]
        svc.import_rows("talents", rows, [])
        res = svc.match_text("会计", "talents", 8)
        assert res[0].title == "王会计"
        assert res[0].components["semantic"] > 0.2
        assert len({round(m.score, 4) for m in res}) > 2  # no wall of ties
        res = svc.match_text("Java后端开发", "talents", 8)
        assert res[0].title == "张开发" and res[0].components["semantic"] > 0.2
    finally:
        svc.close()
