"""A record's ranking on arrays reads its candidates' keys and the features of their key pairs
from what earlier rankings worked out (``matcher.ranking.keyed.KeyMemo``): every ranking must
still give the floats pair-by-pair scoring gives, whatever the memo holds from the rankings
before it: other talents over the same entry objects, records replaced by changed copies,
records that died, a memo that filled up, threads ranking at once."""

from __future__ import annotations

import gc
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.core.settings import PROJECT_ROOT, Weights
from matcher.ranking import keyed
from matcher.ranking.scorer import PairScorer
from matcher.reference.bundle import ReferenceData
from tests.ranking.test_score_many import _entry_strategy, _profile_strategy, demo, scorer


def fresh_scorer() -> PairScorer:
    return PairScorer.for_reference(ReferenceData.load(PROJECT_ROOT / "data"), Weights())


def assert_ranked_as_pairs(sc: PairScorer, query, target: str, others: list, cos: np.ndarray, bg: float) -> None:
    """``rank_many``'s scores and eligibility, and its order, are pair-by-pair scoring's."""
    ranked = sc.rank_many(query, target, list(zip(others, cos.tolist(), strict=True)), bg)
    for k, (other, c) in enumerate(zip(others, cos.tolist(), strict=True)):
        profile, entry = (query, other) if target == "demand" else (other, query)
        one = sc.score(profile, entry, c, bg, target=target)
        assert (ranked.score[k], ranked.eligible[k]) == (one.score, one.eligible), k
        # a shown pair is made from the arrays: every field as pair-by-pair scoring gives it
        assert ranked.pair(k) == one, k
    want = sorted(range(len(others)), key=lambda k: (not ranked.eligible[k], -ranked.score[k], int(others[k].id or 0)))
    assert ranked.order == want


def test_rankings_of_many_talents_over_the_same_entries_score_as_pairs() -> None:
    """The memo's codes and values, kept from each talent's ranking, serve the next talents."""
    sc = fresh_scorer()
    profiles, entries = demo()
    rng = np.random.default_rng(5)
    for i in rng.choice(len(profiles), 40, replace=False).tolist():
        picked = [entries[j] for j in rng.permutation(len(entries))[:150].tolist()]
        assert_ranked_as_pairs(sc, profiles[i], "demand", picked, rng.uniform(0, 1, len(picked)), 0.3)
    stats = sc._keyed.stats()
    assert 0 < stats["demand_rows"] <= len(entries) and stats["values"] > 0
    # the other direction: an entry's candidate talents
    for j in rng.choice(len(entries), 20, replace=False).tolist():
        picked = [profiles[i] for i in rng.permutation(len(profiles))[:150].tolist()]
        assert_ranked_as_pairs(sc, entries[j], "talent", picked, rng.uniform(0, 1, len(picked)), 0.3)
    assert sc._keyed.stats()["talent_rows"] > 0


def test_a_changed_copy_of_a_ranked_entry_is_keyed_anew() -> None:
    """The record cache replaces a changed record with a new model: its keys are read from it,
    not taken from the model it replaced."""
    sc = fresh_scorer()
    profiles, entries = demo()
    talent = next(p for p in profiles if p.city and p.major)
    entry = entries[0].model_copy(update={"city": talent.city, "majors": [talent.major],
                                          "salary_min": 1000, "salary_max": 2000})
    before = sc.rank_many(talent, "demand", [(entry, 0.5)], 0.3)
    moved = entry.model_copy(update={"city": "火星", "majors": ["无名专业"], "salary_min": 90000, "salary_max": 99000})
    after = sc.rank_many(talent, "demand", [(moved, 0.5)], 0.3)
    one = sc.score(talent, moved, 0.5, 0.3, target="demand")
    assert after.score[0] == one.score and after.score[0] != before.score[0]
    for name in ("location", "major", "salary"):
        assert one.comp[name] != sc.score(talent, entry, 0.5, 0.3, target="demand").comp[name], name


def test_the_rows_of_records_that_died_are_dropped() -> None:
    sc = fresh_scorer()
    profiles, entries = demo()
    copies = [e.model_copy() for e in entries[:100]]
    sc.rank_many(profiles[0], "demand", [(e, 0.5) for e in copies], 0.3)
    assert sc._keyed.stats()["demand_rows"] == 100
    del copies
    gc.collect()
    assert sc._keyed.stats()["demand_rows"] == 0


def test_a_full_memo_starts_again_and_still_scores_as_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyed, "MAX_CODES", 6)
    monkeypatch.setattr(keyed, "MAX_VALUES", 5)
    sc = fresh_scorer()
    profiles, entries = demo()
    rng = np.random.default_rng(9)
    first = sc._keyed._gen
    for i in rng.choice(len(profiles), 12, replace=False).tolist():
        picked = [entries[j] for j in rng.permutation(len(entries))[:60].tolist()]
        assert_ranked_as_pairs(sc, profiles[i], "demand", picked, rng.uniform(0, 1, len(picked)), 0.3)
    assert sc._keyed._gen is not first


def test_threads_ranking_at_once_score_as_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads share the memo (a small one, so generations turn over while they rank): each
    ranking is the one a scorer of its own gives."""
    monkeypatch.setattr(keyed, "MAX_CODES", 64)
    monkeypatch.setattr(keyed, "MAX_VALUES", 200)
    profiles, entries = demo()
    rng = np.random.default_rng(13)
    jobs = [(profiles[i], [entries[j] for j in rng.permutation(len(entries))[:120].tolist()], rng.uniform(0, 1, 120))
            for i in rng.choice(len(profiles), 32, replace=False).tolist()]
    alone = [fresh_scorer().rank_many(p, "demand", list(zip(es, c.tolist(), strict=True)), 0.3).score
             for p, es, c in jobs]
    shared = fresh_scorer()
    got: dict[int, list[float]] = {}
    errors: list[BaseException] = []

    def work(start: int) -> None:
        try:
            for n in range(start, len(jobs), 4):
                for _ in range(3):
                    p, es, c = jobs[n]
                    score = shared.rank_many(p, "demand", list(zip(es, c.tolist(), strict=True)), 0.3).score
                    assert got.setdefault(n, score) == score
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [got[n] for n in range(len(jobs))] == alone


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles=st.lists(_profile_strategy(), min_size=1, max_size=8),
       entries=st.lists(_entry_strategy(), min_size=1, max_size=12),
       reuse=st.booleans(), bg=st.sampled_from([0.0, 0.3, 1.0]), target=st.sampled_from(["demand", "talent"]),
       data=st.data())
def test_recombined_records_rank_as_pairs(profiles, entries, reuse, bg, target, data) -> None:
    """One scorer for every example (its memo holds the earlier examples' records and values);
    ``reuse``: the demo's own records join the candidates, as a record cache's would."""
    if target == "demand":
        others = entries + (list(demo()[1][:20]) if reuse else [])
    else:
        others = [p.model_copy(update={"id": n + 1}) for n, p in enumerate(profiles)]
        others += list(demo()[0][:20]) if reuse else []
    cos = np.array(data.draw(st.lists(st.floats(-1, 1, width=32), min_size=len(others), max_size=len(others))))
    query = profiles[0] if target == "demand" else entries[0]
    assert_ranked_as_pairs(scorer(), query, target, others, cos, bg)
