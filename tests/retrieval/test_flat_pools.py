"""Reused dense searches (``VectorIndex.search_reusing``, ``FaissFlatIndex.pools``): a stored
record's next search answers from what the last one proved, and gives exactly what the full
IndexFlatIP scan gives (same ids, float32 scores and order), whatever was added, replaced or
removed in between; where the pool cannot prove it, the index searches as usual."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

faiss = pytest.importorskip("faiss")

from matcher.core.errors import InvalidInput  # noqa: E402
from matcher.retrieval.vectorindex import faiss_flat  # noqa: E402
from matcher.retrieval.vectorindex.faiss_flat import FaissFlatIndex  # noqa: E402
from matcher.retrieval.vectorindex.numpy_flat import NumpyFlatIndex  # noqa: E402
from tests.retrieval.flat_helpers import DIM, pair, unit  # noqa: E402


def add_both(two: FaissFlatIndex, exact: FaissFlatIndex, ids: np.ndarray, vectors: np.ndarray) -> None:
    for idx in (two, exact):
        idx.add(ids, vectors)


def check(two: FaissFlatIndex, exact: FaissFlatIndex, q: np.ndarray, k: int, pool) -> object:
    """search_reusing(q, k, pool) equals the exact scan; returns the pool to keep."""
    s, i, kept = two.search_reusing(q, k, pool)
    es, ei = exact.search(q[None, :], k)
    np.testing.assert_array_equal(i, ei)
    np.testing.assert_array_equal(s, es)
    return kept


def proof_scores(exact: FaissFlatIndex, q: np.ndarray, pool, k: int, added: list[int]) -> tuple[float, float]:
    """The ``k``-th and ``k+1``-th scores of the query over the pool's ids still stored and the
    ids added since (float64, from the exact index's vectors)."""
    cand = np.unique(np.concatenate([pool.ids.astype(np.int64), np.asarray(added, dtype=np.int64)]))
    stored = set(exact.ids().tolist())
    vecs = np.stack([exact._index.reconstruct(int(i)) for i in cand.tolist() if i in stored])
    top = np.sort(vecs.astype(np.float64) @ q.astype(np.float64))[::-1]
    return float(top[k - 1]), float(top[k])


@pytest.fixture
def data() -> tuple[FaissFlatIndex, FaissFlatIndex, np.ndarray, np.ndarray, np.random.Generator]:
    rng = np.random.default_rng(7)
    ids = rng.choice(10**9, 4000, replace=False).astype(np.int64)
    two, exact = pair(ids, unit(rng, 4000))
    return two, exact, ids, unit(rng, 25), rng


@pytest.mark.parametrize("made_by", ["search", "batch"])
def test_pools_answer_exactly_through_adds_replacements_and_removals(data, made_by: str) -> None:
    two, exact, ids, queries, rng = data
    if made_by == "search":
        pools = [check(two, exact, q, 60, None) for q in queries]
    else:
        pools = two.pools(queries, 60)
    assert all(p is not None for p in pools)
    before = two.stats()
    for q, p in zip(queries, pools, strict=True):
        assert check(two, exact, q, 60, p) is p  # proved from the pool: kept as it is
        check(two, exact, q, 10, p)  # a smaller k from the same pool
    assert two.stats()["pooled"] - before["pooled"] == 2 * len(queries)
    assert two.stats()["two_stage"] == before["two_stage"]  # nothing scanned

    # new vectors close to the queries (they enter the top of their lists), some of each pool's
    # candidates removed, others replaced by new vectors, some ids outside the pools replaced
    new_ids = np.arange(2 * 10**9, 2 * 10**9 + len(queries))
    near = queries + 0.05 * rng.standard_normal(queries.shape).astype(np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    gone = np.unique(np.concatenate([p.ids[:4].astype(np.int64) for p in pools[::2]]))
    moved = np.setdiff1d(np.unique(np.concatenate([p.ids[4:7].astype(np.int64) for p in pools[1::2]])), gone)
    elsewhere = np.setdiff1d(ids, np.concatenate([p.ids.astype(np.int64) for p in pools]))[:50]
    for idx in (two, exact):
        idx.add(new_ids, near)
        idx.remove(gone)
        idx.add(moved, unit(np.random.default_rng(3), len(moved)))
        idx.add(elsewhere, queries[np.arange(50) % len(queries)])  # now the best match of a query
    before = two.stats()
    proved = 0
    for q, p in zip(queries, pools, strict=True):
        # the pool answers exactly when its proof holds (the 60th score of its ids still stored
        # and the ids added since is above its bound, and not tied with the 61st): removing a
        # pool's best candidates can take that away, and so can a tie at the 60th (ids added
        # with equal vectors); then the index searches again (the answer is exact either way)
        kth, next_ = proof_scores(exact, q, p, 60, two._log[p.mark :])
        kept = check(two, exact, q, 60, p) is p
        if abs(kth - p.bound) > 1e-5 and (kth == next_ or kth - next_ > 1e-5):  # clear of rounding
            assert kept == (kth > p.bound and kth != next_)
        proved += kept
    assert two.stats()["pooled"] - before["pooled"] == proved
    assert proved >= len(queries) * 3 // 4  # most pools still prove their answer
    top = [two.search_reusing(q, 1, p)[1][0, 0] for q, p in zip(queries, pools, strict=True)]
    assert set(top) <= set(new_ids.tolist()) | set(elsewhere.tolist())


def test_a_pool_serves_only_its_own_query_and_index(data) -> None:
    two, exact, ids, queries, _ = data
    pool = check(two, exact, queries[0], 50, None)
    before = two.stats()
    # another vector: searched as usual (and given its own pool)
    other = check(two, exact, queries[1], 50, pool)
    assert other is not pool and two.stats()["pooled"] == before["pooled"]
    assert two.stats()["two_stage"] == before["two_stage"] + 1
    # the same vectors in another index object: the pool is not its own
    twin, _ = pair(ids, two.get(ids))
    s, i, made = twin.search_reusing(queries[0], 50, pool)
    assert made is not pool and twin.stats()["pooled"] == 0
    np.testing.assert_array_equal(i, exact.search(queries[0][None, :], 50)[1])


@pytest.mark.parametrize(("limit", "value", "added", "counted"),
                         [("POOL_MAX_ADDED", 3, 4, 1), ("ADD_LOG_MAX", 5, 6, 0)])
def test_a_pool_is_not_used_past_the_add_limits(data, monkeypatch: pytest.MonkeyPatch, limit: str, value: int,
                                                added: int, counted: int) -> None:
    """More vectors added since the pool than POOL_MAX_ADDED (a fallback), or the add log started
    again past ADD_LOG_MAX (its pools are not looked at): searched as usual, a new pool returned."""
    two, exact, _, queries, rng = data
    pool = check(two, exact, queries[0], 50, None)
    monkeypatch.setattr(faiss_flat, limit, value)
    add_both(two, exact, np.arange(3 * 10**9, 3 * 10**9 + added), unit(rng, added))
    before = two.stats()
    made = check(two, exact, queries[0], 50, pool)
    assert made is not None and made is not pool and two.stats()["pooled"] == before["pooled"]
    assert two.stats()["pool_fallback"] == before["pool_fallback"] + counted
    assert check(two, exact, queries[0], 50, made) is made


def test_falls_back_when_too_few_candidates_are_left(data) -> None:
    two, exact, _, queries, _ = data
    pool = check(two, exact, queries[0], 50, None)
    for idx in (two, exact):
        idx.remove(pool.ids[:-40].astype(np.int64))
    before = two.stats()
    check(two, exact, queries[0], 50, pool)
    assert two.stats()["pool_fallback"] == before["pool_fallback"] + 1


def test_no_pools_where_the_index_scans_in_one_stage(data) -> None:
    _, exact, ids, queries, rng = data
    assert exact.pools(queries, 10) == [None] * len(queries)
    s, i, made = exact.search_reusing(queries[0], 10, None)
    assert made is None
    small = FaissFlatIndex(DIM)  # under two_stage_min
    small.add(ids[:100], unit(rng, 100))
    assert small.search_reusing(queries[0], 10, None)[2] is None and small.pools(queries, 10)[0] is None
    numpy_index = NumpyFlatIndex(DIM)
    numpy_index.add(ids[:100], small.get(ids[:100]))
    s, i, made = numpy_index.search_reusing(queries[0], 10, None)
    assert made is None and numpy_index.pools(queries, 10) == [None] * len(queries)
    np.testing.assert_array_equal(i, small.search(queries[0][None, :], 10)[1])
    with pytest.raises(InvalidInput):
        exact.search_reusing(queries[:2], 10, None)
    with pytest.raises(InvalidInput):
        exact.search_reusing(queries[0], 0, None)


def test_pools_of_a_real_encoder_prove_their_lists(tmp_path: Path) -> None:
    """Vectors of one encoder sit close together (cosines of 0.8-0.95 to everything): the
    bounds still prove the lists, from a search and from a batch."""
    from bench.bench_speed import ann_vectors

    vecs, queries = ann_vectors(6000, tmp_path)
    ids = np.arange(1, 6001)
    two, exact = pair(ids, np.ascontiguousarray(vecs))
    queries = np.ascontiguousarray(queries[:30], dtype=np.float32)
    from_search = [check(two, exact, q, 200, None) for q in queries]
    from_batch = two.pools(queries, 200)
    before = two.stats()
    for q, a, b in zip(queries, from_search, from_batch, strict=True):
        check(two, exact, q, 200, a)
        check(two, exact, q, 200, b)
    assert two.stats()["pooled"] - before["pooled"] >= 0.9 * 2 * len(queries)


def test_a_stored_record_reuses_its_search_and_stays_exact(tmp_path: Path, fake_encoder) -> None:
    """Through the service: a talent's second ranking (result cache off) reuses its dense search,
    a new post that suits it best is in its list at once, the lists are those of a service that
    keeps no pools; a server's warm-up makes the pools of the stored talents in batches."""
    from matcher.core.settings import PROJECT_ROOT, Settings
    from matcher.wiring import build_service
    from tests.conftest import demand, talent

    def service(cap: int):
        return build_service(Settings(data_dir=tmp_path / f"var{cap}", reference_dir=PROJECT_ROOT / "data",
                                      encoder="fake", candidate_pool=10, result_cache_size=0,
                                      dense_pool_cache=cap), encoder=fake_encoder)

    skills = ["Python", "Spark", "Java", "SQL", "Linux", "Go", "Kafka", "Flink"]
    posts = [demand(title=f"{skills[i % 8]}工程师{i}", required_skills=[skills[i % 8], skills[(i * 3) % 8]],
                    city=["淄博", "济南", "青岛"][i % 3]) for i in range(150)]
    people = [talent(name=f"人{i}", phone=f"136{i:08d}", skills=[skills[i % 8], skills[(i + 1) % 8]])
              for i in range(12)]
    pooled, plain = service(100), service(0)

    def settled(svc) -> None:  # BM25 rebuilt now: both services rank on the same lexical index
        side = svc.ensure_index("demand")
        side.lexical.wait(60)
        side.lexical.refresh()

    for svc in (pooled, plain):
        tids = svc.add("talent", people)
        svc.add("demand", posts)
        svc.ensure_index("demand").dense.two_stage_min = 0
        settled(svc)
    dense = pooled.ensure_index("demand").dense
    first = [[(m.id, m.score) for m in pooled.match_talent(t, top_k=5)] for t in tids]
    assert first == [[(m.id, m.score) for m in plain.match_talent(t, top_k=5)] for t in tids]
    assert len(pooled.ensure_index("demand").pools) == len(tids)
    again = dense.stats()["pooled"]
    assert [[(m.id, m.score) for m in pooled.match_talent(t, top_k=5)] for t in tids] == first
    assert dense.stats()["pooled"] == again + len(tids)
    # a post written after the pools were made: ranked with them
    news = [svc.add("demand", [demand(title="Python Spark 数据工程师", required_skills=["Python", "Spark"])])[0]
            for svc in (pooled, plain)]
    new = news[0]
    assert news == [new, new]
    for svc in (pooled, plain):
        settled(svc)
    after = [[(m.id, m.score) for m in pooled.match_talent(t, top_k=5)] for t in tids]
    assert after == [[(m.id, m.score) for m in plain.match_talent(t, top_k=5)] for t in tids]
    assert any(new in [i for i, _ in lst] for lst in after)
    assert dense.stats()["pooled"] == again + 2 * len(tids)
    # the warm-up (a server's, after start): pools of every stored talent, in batches
    pooled.ensure_index("demand").pools.clear()
    assert pooled.indexes.warm_pools(batch=5) == len(tids)
    before = dense.stats()["pooled"]
    assert [[(m.id, m.score) for m in pooled.match_talent(t, top_k=5)] for t in tids] == after
    assert dense.stats()["pooled"] == before + len(tids)
    # the cap holds: the least recently used pools go
    pooled.settings.dense_pool_cache = 4
    pooled.match_talent(tids[0], top_k=5)
    assert len(pooled.ensure_index("demand").pools) == 4
    for svc in (pooled, plain):
        svc.close()


def test_every_vector_outside_a_pool_scores_under_its_bound(data) -> None:
    """The invariant the proof rests on, checked against every stored vector's exact score: the
    bound is above all of them outside the pool, and no looser than the approximation needs."""
    two, exact, ids, queries, _ = data
    n = len(ids)
    for made_by, pools in (("search", [two.search_reusing(q, 50, None)[2] for q in queries]),
                           ("batch", two.pools(queries, 50))):
        for q, p in zip(queries, pools, strict=True):
            scores, found = exact.search(q[None, :], n)
            inside = np.isin(found[0], p.ids.astype(np.int64))
            assert inside.sum() == len(p.ids) == faiss_flat.candidates(50, n)
            assert scores[0][~inside].max() <= p.bound, made_by
            assert p.bound - scores[0][inside].min() < 0.01, made_by
