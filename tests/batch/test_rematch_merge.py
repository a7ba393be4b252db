"""The per-post side of the re-match as a merge of per-shard top lists: the same pools, scores,
order and ties as taking each post's nearest profiles over ALL profiles (the broadcast
algorithm it replaces), whatever the shard sizes."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.batch.partials import Floors, exact_cos, merge_order, quantize, shard_top
from matcher.batch.rematch import (
    RematchParams,
    broadcast_post_lists,
    candidate_order,
    make_plan,
    rematch,
)
from matcher.domain.schemas import TalentProfile
from matcher.storage.batch_repo import BatchRepo
from tests.batch.conftest import demo_rows, load_demo_subset


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_exact_cosines_do_not_depend_on_blocking_or_orientation():
    rng = np.random.default_rng(3)
    fposts, fprofiles = _unit(rng, 70, 384), _unit(rng, 260, 384)
    posts, profiles = quantize(fposts), quantize(fprofiles)
    whole = exact_cos(posts, profiles)
    for size in (1, 7, 25, 100):
        blocks = np.concatenate([exact_cos(profiles[s : s + size], posts).T for s in range(0, 260, size)], axis=1)
        assert np.array_equal(blocks, whole)  # bit for bit
    assert np.array_equal(exact_cos(posts, profiles, chunk=13), whole)
    assert np.array_equal(exact_cos(posts[5:6], profiles)[0], whole[5])
    # and they are the cosines (the rounding of the components is below 2^-22)
    assert np.abs(whole - fposts @ fprofiles.T).max() < 2e-5


def test_quantize_refuses_vectors_that_are_not_normalised():
    from matcher.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="归一化"):
        quantize(np.full((2, 4), 0.9, dtype=np.float32) * 2)


def _merged_pools(cos: np.ndarray, ids: np.ndarray, pool: int, size: int, order: list[int]) -> list[list[int]]:
    """Each post's pool from per-shard top lists (shards committed in ``order``, each pruned
    by the floors of those committed before it), merged."""
    shards = [(s, min(s + size, len(ids))) for s in range(0, len(ids), size)]
    floors = Floors(cos.shape[0], pool)
    got: dict[int, list[tuple[int, float]]] = {p: [] for p in range(cos.shape[0])}
    for k in order:
        a, b = shards[k]
        rows, cols = shard_top(cos[:, a:b], pool, floors.values(), chunk=5)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            got[r].append((int(ids[a + c]), float(cos[r, a + c])))
        floors.add(rows, cos[rows, a + cols])
    out = []
    for p in range(cos.shape[0]):
        oids = np.array([o for o, _ in got[p]], dtype=np.int64)
        vals = np.array([v for _, v in got[p]], dtype=np.float64)
        out.append(oids[merge_order(oids, vals, pool)].tolist())
    return out


@pytest.mark.parametrize("size", [1, 3, 4, 5, 9, 40])
def test_merged_pools_are_the_global_pools_with_ties_cut_at_shard_boundaries(size):
    """Cosines from a few levels only (ties everywhere, across and inside shards, at every
    pool's cut); shards smaller and larger than the pool; shards committed in order, reversed
    and shuffled (the floors differ): every merged pool is the pool over all profiles."""
    rng = np.random.default_rng(size)
    n_posts, n_profiles, pool = 12, 40, 5
    cos = rng.choice(np.array([0.1, 0.3, 0.5, 0.7], dtype=np.float32), size=(n_posts, n_profiles))
    cos[0, :] = 0.5  # one post ties with every profile
    cos[1, 3:9] = 0.9  # another's pool is one tie cut across shards
    ids = np.arange(n_profiles, dtype=np.int64) * 3 + 10  # sorted, not positions
    want = [ids[candidate_order(cos[p], ids, pool)].tolist() for p in range(n_posts)]
    assert want[0] == ids[:pool].tolist() and want[1] == ids[3:8].tolist()
    n_shards = -(-n_profiles // size)
    for order in (list(range(n_shards)), list(range(n_shards))[::-1], rng.permutation(n_shards).tolist()):
        assert _merged_pools(cos, ids, pool, size, order) == want


def test_floors_are_each_posts_pool_th_best_so_far():
    floors = Floors(3, 2)
    assert np.isneginf(floors.values()).all()
    floors.add(np.array([0, 0, 1]), np.array([0.5, 0.2, 0.4], dtype=np.float32))
    assert floors.values().tolist()[:2] == [pytest.approx(0.2), -np.inf]
    floors.add(np.array([0, 1, 1, 1]), np.array([0.3, 0.1, 0.6, 0.4], dtype=np.float32))
    assert floors.values()[:2].tolist() == pytest.approx([0.3, 0.4])


@pytest.fixture
def with_ties(loaded):
    """The demo subset plus two copies of each of six profiles (same text, so the same vector):
    added last, they land in other shards than their originals, tied with them."""
    rows = demo_rows("talents.jsonl", 6)
    for k in (1, 2):
        loaded.add("talent", [TalentProfile.model_validate({**r, "external_id": f"{r['external_id']}-copy{k}"})
                              for r in rows])
    return loaded


def test_merged_post_lists_equal_the_broadcast_algorithm(with_ties):
    svc = with_ties
    texts = svc.store.texts("talent")
    assert len(set(texts.values())) < len(texts)  # the copies share their originals' texts
    repo = BatchRepo(svc.store)
    pool = 6
    expected = {qid: [(r.other_id, r.score, r.seeker_score, r.employer_score, r.eligible) for r in rows]
                for qid, rows in broadcast_post_lists(svc, RematchParams(top_k=4, pool=pool, shard_size=5)).items()}
    # some post's pool is cut inside a tie whose profiles sit in different shards
    plan = make_plan(svc, RematchParams(top_k=4, pool=pool, shard_size=5))
    profiles = quantize(svc.vectors("talent", plan.ids["talent"].tolist()))
    cos = exact_cos(plan.posts, profiles)
    cut_in_tie = [j for j in range(len(cos)) if np.sort(cos[j])[::-1][pool - 1] == np.sort(cos[j])[::-1][pool]]
    assert cut_in_tie
    lists, entries = {}, {}
    # shards smaller than the pool, larger, and one shard; floors primed by a sample or not
    for size, prime in ((1, 0), (5, 0), (5, 10), (13, 10_000), (200, 0)):
        params = RematchParams(top_k=4, pool=pool, shard_size=size)
        info = rematch(svc, params, prime=prime)
        entries[size, prime] = info.stats["partial_entries"]
        assert info.stats["partial_entries"] > 0 and repo.partial_count(info.id) == 0
        stored = repo.all_matches(info.id)
        got = {qid: [(r.other_id, r.score, r.seeker_score, r.employer_score, r.eligible) for r in rows]
               for (side, qid), rows in stored.items() if side == "demand"}
        assert got == expected, size
        lists[size, prime] = stored
    # the per-profile lists do not depend on the shard size either (the cosines are exact)
    assert all(v == lists[1, 0] for v in lists.values())
    # the floors prune: later shards keep only what can still enter a pool
    posts = len(expected)
    assert entries[1, 0] < posts * len(svc.store.texts("talent"))  # fewer than every pair
    assert entries[5, 10] < entries[5, 0]


def test_a_sample_primes_the_floors_without_counting_a_pair_twice():
    floors = Floors(2, 2)
    floors.prime(0, np.array([[0.1, 0.9, 0.5], [0.2, 0.2, 0.2]], dtype=np.float32))
    assert floors.values().tolist() == pytest.approx([0.5, 0.2])
    floors.add(np.array([0, 0]), np.array([0.9, 0.5], dtype=np.float32))  # the same pairs, committed
    assert floors.values().tolist() == pytest.approx([0.5, 0.2])  # not 0.9
    floors.add(np.array([0, 0]), np.array([0.7, 0.8], dtype=np.float32))
    assert floors.values().tolist() == pytest.approx([0.8, 0.2])


def test_the_plan_does_not_load_the_profile_index(batch_settings):
    """A driver that has not loaded an index does not load it for the plan (the profile index
    is the profile matrix): the saved manifest of the same records gives the service's
    background; without a current manifest the service's index is used."""
    from matcher.wiring import build_service

    svc = build_service(batch_settings)
    load_demo_subset(svc, talents=30, demands=20)
    svc.indexes.sync()  # saved, as an API process saves them
    want = {side: svc.background(side) for side in ("talent", "demand")}
    svc.close()
    again = build_service(batch_settings)
    try:
        plan = make_plan(again, RematchParams(top_k=3, pool=10, shard_size=50))
        assert plan.background == want
        assert not again.indexes._sides  # neither side was loaded
        again.add("talent", [TalentProfile.model_validate({**demo_rows("talents.jsonl", 31)[30]})])
        plan = make_plan(again, RematchParams(top_k=3, pool=10, shard_size=50))
        assert "talent" in again.indexes._sides  # the saved one is stale: the service's own
        assert plan.background["talent"] == again.background("talent")
    finally:
        again.close()
