"""The synthetic outcome simulator on the service's own rankings (fake encoder, small pool)."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.outcomes.features import weights_dict
from matcher.outcomes.synthetic import FEATURES, SimConfig, build_candidates, load_pool, simulate
from models.rerankers import COMPONENTS, WeightedReranker, time_split


@pytest.fixture
def pool(service):
    ids = load_pool(service, PROJECT_ROOT / "data" / "demo", 25, n_demands=150, seed=3)
    return service, ids


def test_candidates_are_the_service_ranking_with_exact_features(pool):
    svc, ids = pool
    assert len(ids) == 25
    cands = build_candidates(svc, ids, per_seeker=12, seed=3)
    assert len(cands) > 100 and set(cands.columns) == set(FEATURES)
    weighted = WeightedReranker(weights_dict(svc.weights))
    X = np.column_stack([cands.columns[c] for c in COMPONENTS])
    score = weighted.score(X)
    for s in np.unique(cands.seeker)[:5]:
        rows = np.flatnonzero(cands.seeker == s)
        matches = svc.match_talent(int(ids[s]), top_k=12)
        assert [m.id for m in matches] == cands.post[rows].tolist()
        # the recomputed score is the one the service showed (rounded to 4 places there)
        assert np.allclose([m.score for m in matches], score[rows], atol=5e-5)
        for m, r in zip(matches, rows, strict=True):
            assert m.components == {k: round(float(cands.columns[k][r]), 4) for k in COMPONENTS}
    assert ((0 <= cands.true_required) & (cands.true_required <= 1)).all()
    assert cands.ignores_major.any() and not cands.ignores_major.all()

    log = simulate(cands, SimConfig(seed=3, days=20, tail_days=25, shown=8))
    assert len(log.shown) > 0 and "viewed" in log.counts()
    train, heldout = time_split(log, 12, maturity_days=4)
    assert train.day.max() < 8 and heldout.day.min() >= 12
    assert set(log.shown.meta) >= {"seeker", "post", "explore", "truth_gain", "truth_p", "talent_id"}
