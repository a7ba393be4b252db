"""The batch scorer (``PairScorer.score_many``) gives the very floats ``PairScorer.score`` gives
pair by pair: on the demo records, and on records whose fields hypothesis recombines and
perturbs (hard requirements, fresh graduates, skills named only in a summary, unknown majors,
cities and salaries)."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.core.settings import PROJECT_ROOT, Weights
from matcher.domain.schemas import (
    CertGrade,
    DemandEntry,
    DigitalCert,
    Education,
    SkillLevel,
    TalentProfile,
    TitleLevel,
)
from matcher.ranking.scorer import PairScorer
from matcher.reference.bundle import ReferenceData

DEMO = PROJECT_ROOT / "data" / "demo"
COMPONENTS = ("semantic", "required_skills", "preferred_skills", "education", "major", "experience",
              "certificates", "skill_use", "salary", "location", "occupation", "chain", "shortage")


@lru_cache(maxsize=1)
def scorer() -> PairScorer:
    return PairScorer.for_reference(ReferenceData.load(PROJECT_ROOT / "data"), Weights())


def _jsonl(name: str, n: int) -> list[dict]:
    out = []
    with (DEMO / name).open(encoding="utf-8") as f:
        for line in f:
            out.append(json.loads(line))
            if len(out) >= n:
                break
    return out


@lru_cache(maxsize=1)
def demo() -> tuple[list[TalentProfile], list[DemandEntry]]:
    talents = [TalentProfile.model_validate(t) for t in _jsonl("talents.jsonl", 300)]
    entries = [DemandEntry.model_validate({k: v for k, v in d.items() if k != "enterprise_id"})
               for d in _jsonl("demands.jsonl", 300)]
    return talents, entries


def assert_same(sc: PairScorer, profiles: list[TalentProfile], entries: list[DemandEntry], si: np.ndarray,
                ej: np.ndarray, cos: np.ndarray, bg: float, target: str = "demand") -> None:
    many = sc.score_many(profiles, entries, si, ej, cos, bg, target=target)
    for k, (i, j, c) in enumerate(zip(si.tolist(), ej.tolist(), cos.tolist(), strict=True)):
        one = sc.score(profiles[i], entries[j], c, bg, target=target)
        assert many.eligible[k] == one.eligible, (k, one.unmet, one.unmet_fresh)
        for name in COMPONENTS:
            assert many.comp[name][k] == one.comp[name], (name, k)
        assert (many.score[k], many.seeker[k], many.employer[k]) == (one.score, one.seeker, one.employer), k


@pytest.mark.parametrize("target", ["demand", "talent"])
def test_demo_pairs_score_alike(target: str) -> None:
    profiles, entries = demo()
    rng = np.random.default_rng(7)
    si = rng.integers(0, len(profiles), 4000)
    ej = rng.integers(0, len(entries), 4000)
    cos = rng.uniform(-0.2, 1.0, 4000)
    assert_same(scorer(), profiles, entries, si, ej, cos, 0.31, target)
    many = scorer().score_many(profiles, entries, si, ej, cos, 0.31)
    # the sample covers what the fair tells apart
    assert 0 < many.eligible.sum() < len(si)
    assert len(np.unique(many.comp["required_skills"])) > 5


@pytest.mark.parametrize("target", ["demand", "talent"])
def test_the_pairs_of_one_talent_score_alike(target: str) -> None:
    """A seeker's ranking (one talent, its candidate entries): the skills it holds are counted
    without the matrices of many talents, to the same floats; also for skills named only in its
    summary."""
    profiles, entries = demo()
    rng = np.random.default_rng(11)
    for i in rng.choice(len(profiles), 25, replace=False).tolist():
        named = profiles[i].model_copy(update={"summary": profiles[i].summary + "熟悉" + "、".join(
            s for e in entries[i : i + 3] for s in e.required_skills[:1])})
        for p in (profiles[i], named):
            ej = rng.permutation(len(entries))[:200]
            assert_same(scorer(), [p], entries, np.zeros(len(ej), dtype=np.int64), ej, rng.uniform(0, 1, len(ej)),
                        0.3, target)


def test_no_pairs() -> None:
    profiles, entries = demo()
    many = scorer().score_many(profiles, entries, np.zeros(0, int), np.zeros(0, int), np.zeros(0), 0.3)
    assert many.score.shape == (0,) and many.eligible.dtype == bool




def _profile_strategy() -> st.SearchStrategy[TalentProfile]:
    profiles, entries = demo()
    skills = sorted({s for e in entries for s in e.required_skills + e.preferred_skills} | {"Java", "焊接", "PLC"})
    majors = sorted({p.major for p in profiles if p.major} | {"计算机科学与技术", "机械", "无名专业"})
    cities = sorted({p.city for p in profiles if p.city} | {e.city for e in entries if e.city} | {"火星"})
    certs = sorted({c for e in entries for c in e.required_certificates} | {"电工证", "焊工证"})
    codes = sorted({e.occupation_code for e in entries if e.occupation_code})
    chains = sorted({e.chain_id for e in entries if e.chain_id})

    @st.composite
    def make(draw: st.DrawFn) -> TalentProfile:
        base = draw(st.sampled_from(profiles))
        smin = draw(st.none() | st.integers(0, 30000))
        named = draw(st.lists(st.sampled_from(skills), max_size=3))
        return base.model_copy(update={
            "education": draw(st.none() | st.sampled_from(list(Education))),
            "major": draw(st.none() | st.sampled_from(majors)),
            "fresh_graduate": draw(st.booleans()),
            "experience_years": draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.5, 10.0])),
            "skills": draw(st.lists(st.sampled_from(skills), max_size=6, unique=True)),
            "summary": draw(st.sampled_from(["", base.summary])) + "".join(named),
            "certificates": draw(st.lists(st.sampled_from(certs), max_size=2, unique=True)),
            "title_level": draw(st.none() | st.sampled_from(list(TitleLevel))),
            "skill_level": draw(st.none() | st.sampled_from(list(SkillLevel))),
            "digital_certs": draw(st.lists(st.builds(DigitalCert, direction=st.sampled_from(["大数据", "人工智能"]),
                                                     grade=st.sampled_from(list(CertGrade))), max_size=1)),
            "city": draw(st.none() | st.sampled_from(cities)),
            "preferred_cities": draw(st.lists(st.sampled_from(cities), max_size=2, unique=True)),
            "desired_occupations": draw(st.lists(st.sampled_from(codes + ["程序员"]), max_size=2, unique=True)),
            "desired_chains": draw(st.lists(st.sampled_from(chains), max_size=2, unique=True)),
            "salary_min": smin,
            "salary_max": draw(st.none() | st.integers(smin or 0, 40000)),
        })

    return make()


def _entry_strategy() -> st.SearchStrategy[DemandEntry]:
    profiles, entries = demo()
    skills = sorted({s for e in entries for s in e.required_skills} | {s for p in profiles for s in p.skills})
    majors = sorted({m for e in entries for m in e.majors} | {"计算机类", "工学", "不限", "化工"})
    certs = sorted({c for e in entries for c in e.required_certificates}
                   | {"中级以上职称", "数字技术工程师（大数据）中级", "高级工", "电工证"})

    @st.composite
    def make(draw: st.DrawFn) -> DemandEntry:
        base = draw(st.sampled_from(entries))
        smin = draw(st.none() | st.integers(0, 30000))
        return base.model_copy(update={
            "education": draw(st.none() | st.sampled_from(list(Education))),
            "majors": draw(st.lists(st.sampled_from(majors), max_size=3, unique=True)),
            "required_skills": draw(st.lists(st.sampled_from(skills), max_size=5, unique=True)),
            "preferred_skills": draw(st.lists(st.sampled_from(skills), max_size=3, unique=True)),
            "required_certificates": draw(st.lists(st.sampled_from(certs), max_size=2, unique=True)),
            "required_title_level": draw(st.none() | st.sampled_from(list(TitleLevel))),
            "required_skill_level": draw(st.none() | st.sampled_from(list(SkillLevel))),
            "min_experience_years": draw(st.sampled_from([0.0, 0.5, 1.0, 3.0, 5.0])),
            "fresh_graduates_ok": draw(st.booleans()),
            "shortage_level": draw(st.none() | st.integers(1, 5)),
            "salary_min": smin,
            "salary_max": draw(st.none() | st.integers(smin or 0, 40000)),
        })

    return make()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles=st.lists(_profile_strategy(), min_size=1, max_size=8).flatmap(
           lambda ps: st.sampled_from([ps, ps[:1]])),  # one talent: a seeker's ranking
       entries=st.lists(_entry_strategy(), min_size=1, max_size=8),
       bg=st.sampled_from([0.0, 0.25, 0.6, 1.0]), target=st.sampled_from(["demand", "talent"]), data=st.data())
def test_recombined_pairs_score_alike(profiles, entries, bg, target, data) -> None:
    n = data.draw(st.integers(1, 40))
    si = np.array(data.draw(st.lists(st.integers(0, len(profiles) - 1), min_size=n, max_size=n)), dtype=np.int64)
    ej = np.array(data.draw(st.lists(st.integers(0, len(entries) - 1), min_size=n, max_size=n)), dtype=np.int64)
    cos = np.array(data.draw(st.lists(st.floats(-1, 1, width=32), min_size=n, max_size=n)), dtype=np.float64)
    assert_same(scorer(), profiles, entries, si, ej, cos, bg, target)
