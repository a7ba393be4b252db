"""The fair's candidates scored in one batch are the candidates the pair-by-pair loop gave
(``MatchService.score_pair`` per pair): the same kept pairs with the same rounded scores, the
same counts of filtered, ineligible and below-threshold pairs, the same reasons per seeker."""

from __future__ import annotations

import json
import random
from collections import Counter

import numpy as np
import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.domain.schemas import DemandEntry, MatchFilters, TalentProfile
from matcher.fair import run as fair_run
from matcher.fair.engine import (
    FairCreate,
    FairRunOptions,
    PostIn,
    SeekerIn,
    WishIn,
    create_fair,
    get_fair,
)
from matcher.fair.solve import Pair


def reference_candidates(service, fair, options) -> fair_run.Candidates:
    """The candidates as the fair scored them before the batch scorer: one ``score_pair`` per pair."""
    seeker_ids = [s.talent_id for s in fair.seekers]
    post_ids = [p.demand_id for p in fair.posts]
    profiles = service.store.get_many("talent", seeker_ids)
    entries = service.store.get_many("demand", post_ids)
    cos = service.vectors("talent", seeker_ids) @ service.vectors("demand", post_ids).T
    mask = fair_run._nearest(cos, options)
    s_idx = {s: i for i, s in enumerate(seeker_ids)}
    p_idx = {p: j for j, p in enumerate(post_ids)}
    wishes = fair_run._Wishes.of(fair, s_idx, p_idx)
    for s, p in list(wishes.rank) + list(wishes.must):
        mask[s_idx[s], p_idx[p]] = True
    for s, p in wishes.exclude:
        mask[s_idx[s], p_idx[p]] = False
    bg = service.background("demand")
    filters = options.filters or MatchFilters()
    stats = {"candidate_pairs": 0, "scored_pairs": 0, "ineligible_pairs": 0, "below_min_pairs": 0,
             "filtered_pairs": 0}
    pairs, cosine, refused, best_below = [], {}, {}, {}
    for i, j in zip(*np.nonzero(mask), strict=True):
        s, p, c = seeker_ids[i], post_ids[j], float(cos[i, j])
        stats["candidate_pairs"] += 1
        profile, entry = profiles[s], entries[p]
        is_must = (s, p) in wishes.must
        if not service.passes_filters(entry, profile, filters, for_seeker=True):
            stats["filtered_pairs"] += 1
            refused.setdefault(s, Counter())["filtered"] += 1
            continue
        sc = service.score_pair(profile, entry, c, background=bg)
        stats["scored_pairs"] += 1
        if not sc.eligible and not is_must and not filters.include_ineligible:
            stats["ineligible_pairs"] += 1
            refused.setdefault(s, Counter())["ineligible"] += 1
        elif sc.score < options.min_score and not is_must:
            stats["below_min_pairs"] += 1
            refused.setdefault(s, Counter())["below"] += 1
            best_below[s] = max(best_below.get(s, 0.0), sc.score)
        else:
            pairs.append(Pair(s, p, round(sc.score, 6), round(sc.seeker, 6), round(sc.employer, 6),
                              wishes.rank.get((s, p)), is_must))
            cosine[(s, p)] = c
    return fair_run.Candidates(pairs, profiles, entries, cosine, stats, refused, best_below)


def _demo(name: str, n: int) -> list[dict]:
    with (PROJECT_ROOT / "data" / "demo" / name).open(encoding="utf-8") as f:
        return [json.loads(line) for _, line in zip(range(n), f, strict=False)]


@pytest.fixture
def demo_fair(service):
    """60 demo seekers (some made fresh graduates) × 25 demo posts (some closed to them), with
    wishes, must-see and exclusions."""
    rng = random.Random(5)
    entries = [DemandEntry.model_validate({k: v for k, v in d.items() if k != "enterprise_id"}
                                          | {"valid_until": None, "status": "open"})
               for d in _demo("demands.jsonl", 25)]
    for e in entries[::3]:
        e.fresh_graduates_ok, e.min_experience_years = False, 2.0
    talents = [TalentProfile.model_validate(t | {"status": "active"}) for t in _demo("talents.jsonl", 60)]
    for t in talents[::4]:
        t.fresh_graduate, t.experience_years = True, 0.0
    posts = [PostIn(entry=e, capacity=rng.randint(1, 4), booth=f"B{n % 6}") for n, e in enumerate(entries)]
    seekers = [SeekerIn(profile=t) for t in talents]
    wishes = [WishIn(seeker=talents[i].external_id, post=entries[(i * 7) % 25].external_id, rank=1)
              for i in range(0, 60, 5)]
    wishes += [WishIn(kind="must_see", seeker=talents[i].external_id, post=entries[i % 25].external_id)
               for i in (1, 2, 3)]
    wishes += [WishIn(kind="exclude", seeker=talents[i].external_id, post=entries[(i + 1) % 25].external_id)
               for i in (10, 11)]
    fair = FairCreate(name="批量评分对照", posts=posts, seekers=seekers, wishes=wishes, slot_minutes=10)
    return get_fair(service, create_fair(service, fair).id)


@pytest.mark.parametrize("options", [
    FairRunOptions(min_score=0.3, top_n=8, post_top=5),
    FairRunOptions(min_score=0.0, top_n=25, post_top=0),
    FairRunOptions(min_score=0.5, top_n=10, filters=MatchFilters(include_ineligible=True)),
    FairRunOptions(min_score=0.2, top_n=10, filters=MatchFilters(fresh_graduates_only=True)),
    FairRunOptions(min_score=0.2, top_n=10, filters=MatchFilters(education="大专")),
], ids=["default", "every-pair", "ineligible-kept", "fresh-only", "education-filter"])
def test_batch_candidates_equal_the_pair_by_pair_loop(service, demo_fair, options) -> None:
    want = reference_candidates(service, demo_fair, options)
    got = fair_run.score_candidates(service, demo_fair, options)
    assert got.pairs == want.pairs
    assert got.cosine == want.cosine
    assert got.stats == want.stats
    assert got.refused == want.refused
    assert got.best_below == want.best_below
    # the sample exercises what the fair tells apart
    if options.filters is None:
        assert want.stats["ineligible_pairs"] > 0 and any(p.must_see for p in want.pairs)


def reference_reason(service, profile, entry, pair, cos, background) -> str:
    """An interview's reason as the fair wrote it from the full ``to_match`` explanation."""
    m = service.to_match(service.score_pair(profile, entry, cos, background=background))
    parts = []
    if pair.wish_rank:
        parts.append(f"求职者第 {pair.wish_rank} 志愿")
    if pair.must_see:
        parts.append("企业指定必面")
    parts += m.explanation.reasons[:3]
    if m.explanation.unmet_requirements:
        parts += m.explanation.unmet_requirements[:2]
    if m.explanation.missing_skills:
        parts.append("欠缺技能：" + "、".join(m.explanation.missing_skills[:5]))
    return "；".join(parts)


def test_reasons_equal_those_of_the_full_explanation(service, demo_fair) -> None:
    options = FairRunOptions(min_score=0.0, top_n=25, filters=MatchFilters(include_ineligible=True))
    cand = fair_run.score_candidates(service, demo_fair, options)
    bg = service.background("demand")
    seen = Counter()
    for pair in cand.pairs:
        profile, entry = cand.profiles[pair.seeker], cand.entries[pair.post]
        cos = cand.cosine[(pair.seeker, pair.post)]
        got = fair_run._reason(service, profile, entry, pair, cos, bg)
        assert got == reference_reason(service, profile, entry, pair, cos, bg)
        seen.update(k for k in ("未满足", "应届", "欠缺技能", "志愿", "必面") if k in got)
    assert all(seen[k] for k in ("未满足", "应届", "欠缺技能", "志愿", "必面")), seen


def test_reasons_from_the_batch_components_equal_those_of_score_pair(service, demo_fair) -> None:
    """The run explains its interviews from ``Candidates.comp`` (the batch scorer's components)
    instead of scoring each pair again: the same reasons, word for word."""
    options = FairRunOptions(min_score=0.0, top_n=25, filters=MatchFilters(include_ineligible=True))
    cand = fair_run.score_candidates(service, demo_fair, options)
    assert set(cand.comp) >= {"semantic", "education", "major", "location", "salary", "occupation", "chain",
                              "experience"}
    assert all(len(v) == len(cand.pairs) for v in cand.comp.values())
    bg = service.background("demand")
    seen = Counter()
    for k, pair in enumerate(cand.pairs):
        profile, entry = cand.profiles[pair.seeker], cand.entries[pair.post]
        cos = cand.cosine[(pair.seeker, pair.post)]
        comp = {name: float(v[k]) for name, v in cand.comp.items()}
        got = fair_run._reason(service, profile, entry, pair, cos, bg, comp)
        assert got == reference_reason(service, profile, entry, pair, cos, bg)
        seen.update(w for w in ("未满足", "应届", "欠缺技能", "志愿", "必面", "学历符合", "专业对口") if w in got)
    assert all(seen[w] for w in ("未满足", "应届", "欠缺技能", "志愿", "必面", "学历符合")), seen


def test_assignments_without_the_components_are_the_same(service, demo_fair) -> None:
    """A scorer that gives no components (the Ray scorer) gets the same assignments: the reasons
    are then written from ``score_pair``."""
    options = FairRunOptions(min_score=0.2, top_n=10)
    plain = fair_run.run_fair(service, demo_fair.id, options.model_copy(update={"save": False}))

    def no_components(*args):
        sc = service.scorer.score_many(*args)
        return fair_run.ScoredMany(sc.score, sc.seeker, sc.employer, sc.eligible, {})

    bare = fair_run.run_fair(service, demo_fair.id, options.model_copy(update={"save": False}),
                             scorer=no_components)
    assert bare.assignments == plain.assignments and len(plain.assignments) > 10


def test_rounded_equals_pythons_round() -> None:
    """``rounded`` (on arrays) gives the floats ``round(v, 6)`` gives, halves and their
    neighbours, negative zero, infinities and huge values included."""
    rng = np.random.default_rng(11)
    halves = (np.arange(1, 50_001) + 0.5) / 1e6
    values = np.concatenate([
        rng.random(200_000), rng.uniform(-1e3, 1e3, 50_000), rng.normal(size=20_000) * 1e-6,
        halves, np.nextafter(halves, 0), np.nextafter(halves, 1), (np.arange(50_000) + 0.5) / 1e4,
        np.array([0.0, -0.0, 0.5, 1.0, -2.5e-7, 2.5e-7, 1e16, -1e300, np.inf, -np.inf, 5e-324])])
    got = fair_run.rounded(values)
    want = [round(v, 6) for v in values.tolist()]
    assert all(type(g) is float for g in got)
    assert [(g, np.copysign(1, g)) for g in got] == [(w, np.copysign(1, w)) for w in want]
    assert np.isnan(fair_run.rounded(np.array([np.nan]))[0])
    for digits in (0, 2, 4):
        assert fair_run.rounded(values[:5000], digits) == [round(v, digits) for v in values[:5000].tolist()]


def test_nearest_picks_what_partitioning_along_each_axis_picks() -> None:
    """Each post's top seekers come from its column made contiguous: the very pairs
    ``argpartition(-cos, axis=0)`` picks, ties included."""
    rng = np.random.default_rng(3)
    for shape, ties in (((400, 90), None), ((400, 90), 4), ((30, 500), 2), ((5, 3), None)):
        cos = rng.uniform(-1, 1, size=shape).astype(np.float32)
        if ties:
            cos = np.round(cos * ties) / ties
        for top_n, post_top in ((8, 5), (1, 1), (3, 0), (shape[1], 2), (2, shape[0])):
            n_s, n_p = shape
            want = np.zeros(shape, dtype=bool)
            if top_n >= n_p:
                want[:] = True
            else:
                want[np.arange(n_s)[:, None], np.argpartition(-cos, top_n - 1, axis=1)[:, :top_n]] = True
            if post_top >= n_s:
                want[:] = True
            elif post_top:
                want[np.argpartition(-cos, post_top - 1, axis=0)[:post_top, :], np.arange(n_p)[None, :]] = True
            got = fair_run._nearest(cos, FairRunOptions(top_n=top_n, post_top=post_top))
            assert np.array_equal(got, want), (shape, ties, top_n, post_top)
