"""One contract suite run over every vector index backend and kind."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from matcher.core.errors import IndexNotReady, InvalidInput
from matcher.retrieval import vectorindex
from matcher.retrieval.vectorindex import (
    VectorIndex,
    choose_kind,
    create_index,
    faiss_hnsw,
    load_index,
)
from matcher.retrieval.vectorindex import base as vectorindex_base

# "flat-2s": the faiss flat index with its two-stage search on at every size (from 4,096 otherwise)
CASES = [("numpy", "flat"), ("faiss", "flat"), ("faiss", "flat-2s"), ("faiss", "hnsw"), ("faiss", "ivf")]
DIM = 32

Factory = Callable[..., VectorIndex]


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    """`n` random unit vectors."""
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(
    vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product, computed independently of any backend."""
    scores = queries @ vectors.T
    order = np.argsort(-scores, axis=1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), ids[order]


def recall(expected: np.ndarray, got: np.ndarray) -> float:
    """Mean overlap of the result id sets, row by row."""
    k = expected.shape[1]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(expected, got, strict=True)]))


@pytest.fixture(params=CASES, ids=[f"{b}-{k}" for b, k in CASES])
def make(request: pytest.FixtureRequest) -> Factory:
    """A factory of empty indexes of the parametrised backend/kind (HNSW tuned for test speed)."""
    backend, kind = request.param
    if backend == "faiss":
        pytest.importorskip("faiss")

    def factory(dim: int = DIM) -> VectorIndex:
        if kind == "flat-2s":
            from matcher.retrieval.vectorindex.faiss_flat import FaissFlatIndex

            return FaissFlatIndex(dim, two_stage_min=0)
        if kind == "hnsw":
            return create_index(backend, dim, kind, hnsw_m=16, ef_construction=64, ef_search=128)
        if kind == "ivf":
            # forced on at test sizes: 8 lists trained after 100 vectors, all lists probed, so
            # every search is exact (the approximate path has tests of its own below)
            return create_index(backend, dim, kind, nlist=8, nprobe=8, train_at=100)
        return create_index(backend, dim, kind)

    return factory


def exact(index: VectorIndex) -> bool:
    """Whether `index` must return exactly the brute-force results (flat, or IVF probing every list)."""
    return index.kind == "flat" or (index.kind == "ivf" and index.nprobe >= index.nlist)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2,000 random unit vectors with sparse int64 ids, and 50 queries."""
    rng = np.random.default_rng(7)
    vectors = unit(rng, 2000)
    ids = (np.arange(2000, dtype=np.int64) * 7 + 3) * 1_000_003
    return ids, vectors, unit(rng, 50)


def test_search_returns_nearest_by_cosine(make: Factory, corpus) -> None:
    ids, vectors, queries = corpus
    index = make()
    index.add(ids, vectors)
    assert len(index) == 2000
    scores, found = index.search(queries, 10)
    assert scores.shape == found.shape == (50, 10)
    assert scores.dtype == np.float32 and found.dtype == np.int64
    exp_scores, exp_ids = brute_force(vectors, ids, queries, 10)
    assert np.all(np.diff(scores, axis=1) <= 1e-6), "results must be sorted best first"
    if exact(index):
        np.testing.assert_array_equal(found, exp_ids)
        np.testing.assert_allclose(scores, exp_scores, atol=1e-5)
    else:
        assert recall(exp_ids, found) >= 0.95
    # a stored vector finds itself with cosine 1
    s, i = index.search(vectors[:5], 1)
    assert i[:, 0].tolist() == ids[:5].tolist()
    np.testing.assert_allclose(s[:, 0], 1.0, atol=1e-5)


def test_single_query_vector_is_accepted(make: Factory) -> None:
    rng = np.random.default_rng(1)
    vectors = unit(rng, 10)
    index = make()
    index.add(range(10), vectors)
    scores, found = index.search(vectors[3], 2)
    assert found.shape == (1, 2) and found[0, 0] == 3


def test_upsert_replaces(make: Factory) -> None:
    rng = np.random.default_rng(2)
    old, new, other = unit(rng, 3)
    index = make()
    index.add([1, 2], np.stack([old, other]))
    index.add([1], new[None, :])
    assert len(index) == 2
    np.testing.assert_allclose(index.get([1])[0], new, atol=1e-6)
    scores, found = index.search(new[None, :], 2)
    assert found[0, 0] == 1 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    scores, found = index.search(old[None, :], 2)
    row = dict(zip(found[0].tolist(), scores[0].tolist(), strict=True))
    assert row[1] == pytest.approx(float(old @ new), abs=1e-5)
    assert sorted(index.ids().tolist()) == [1, 2]


def test_remove_hides_ids(make: Factory, corpus) -> None:
    ids, vectors, queries = corpus
    ids, vectors = ids[:400], vectors[:400]
    index = make()
    index.add(ids, vectors)
    gone = ids[::2]
    assert index.remove(np.concatenate([gone, [999_999_999_999]])) == len(gone)
    assert index.remove(gone) == 0
    assert index.remove([]) == 0
    assert len(index) == 200
    assert all(int(i) not in index for i in gone)
    _, found = index.search(np.concatenate([queries, vectors[::2]]), 20)
    assert not set(found.ravel().tolist()) & set(gone.tolist())
    kept = ids[1::2]
    assert set(found.ravel().tolist()) - {-1} <= set(kept.tolist())
    exp_scores, exp_ids = brute_force(vectors[1::2], kept, queries, 10)
    scores, found = index.search(queries, 10)
    if exact(index):
        np.testing.assert_array_equal(found, exp_ids)
    else:
        assert recall(exp_ids, found) >= 0.95


def test_allowed_filter(make: Factory, corpus) -> None:
    ids, vectors, queries = corpus
    index = make()
    index.add(ids[:500], vectors[:500])
    allowed_idx = np.arange(0, 500, 9)
    allowed = set(ids[allowed_idx].tolist()) | {123, 456}  # unknown ids are ignored
    scores, found = index.search(queries, 5, allowed=allowed)
    assert set(found.ravel().tolist()) <= allowed
    exp_scores, exp_ids = brute_force(vectors[allowed_idx], ids[allowed_idx], queries, 5)
    np.testing.assert_array_equal(found, exp_ids)
    np.testing.assert_allclose(scores, exp_scores, atol=1e-5)
    # fewer allowed than k pads; empty or all-unknown allowed gives no results
    scores, found = index.search(queries[:2], 5, allowed={int(ids[0]), int(ids[1])})
    assert (found[:, 2:] == -1).all() and np.isneginf(scores[:, 2:]).all()
    assert set(found[:, :2].ravel().tolist()) == {int(ids[0]), int(ids[1])}
    for empty in (set(), {10**15}):
        scores, found = index.search(queries[:2], 3, allowed=empty)
        assert (found == -1).all() and np.isneginf(scores).all()


def test_hnsw_graph_filter_path(monkeypatch: pytest.MonkeyPatch, corpus) -> None:
    """Large `allowed` sets and tombstones go through faiss IDSelectors rather than exact scoring."""
    pytest.importorskip("faiss")
    monkeypatch.setattr(faiss_hnsw, "HNSW_EXACT_FILTER_MAX", 0)
    ids, vectors, queries = corpus
    index = create_index("faiss", DIM, "hnsw", hnsw_m=16, ef_construction=64)
    index.add(ids[:1000], vectors[:1000])
    index.remove(ids[:100])  # tombstones below the compaction threshold
    assert index.tombstones == 100  # type: ignore[attr-defined]
    allowed_idx = np.arange(100, 1000, 2)
    scores, found = index.search(queries, 10, allowed=ids[allowed_idx].tolist())
    assert set(found.ravel().tolist()) <= set(ids[allowed_idx].tolist())
    _, exp_ids = brute_force(vectors[allowed_idx], ids[allowed_idx], queries, 10)
    assert recall(exp_ids, found) >= 0.95
    _, found = index.search(queries, 10)
    assert not set(found.ravel().tolist()) & set(ids[:100].tolist())


def test_k_larger_than_size_pads(make: Factory) -> None:
    rng = np.random.default_rng(3)
    index = make()
    scores, found = index.search(unit(rng, 2), 4)
    assert (found == -1).all() and np.isneginf(scores).all() and found.shape == (2, 4)
    index.add([10, 20, 30], unit(rng, 3))
    scores, found = index.search(unit(rng, 2), 8)
    assert found.shape == (2, 8)
    assert (found[:, 3:] == -1).all() and np.isneginf(scores[:, 3:]).all()
    assert sorted(found[0, :3].tolist()) == [10, 20, 30]
    assert np.isfinite(scores[:, :3]).all()


def test_get_ids_len_contains(make: Factory) -> None:
    rng = np.random.default_rng(4)
    vectors = unit(rng, 6)
    index = make()
    assert len(index) == 0 and index.ids().size == 0
    index.add(np.array([5, 3, 9, 1, 7, 2], dtype=np.int64), vectors)
    assert len(index) == 6
    assert sorted(index.ids().tolist()) == [1, 2, 3, 5, 7, 9]
    assert index.ids().dtype == np.int64
    assert 9 in index and np.int64(3) in index
    assert 4 not in index and "x" not in index and None not in index
    got = index.get([9, 5])
    assert got.shape == (2, DIM) and got.dtype == np.float32
    np.testing.assert_allclose(got, vectors[[2, 0]], atol=1e-6)
    assert index.get([]).shape == (0, DIM)
    with pytest.raises(KeyError):
        index.get([9, 4])


def test_save_load_round_trip(make: Factory, corpus, tmp_path: Path) -> None:
    ids, vectors, queries = corpus
    index = make()
    index.add(ids[:600], vectors[:600])
    index.remove(ids[:50])  # HNSW keeps these as tombstones
    index.add(ids[50:60], vectors[600:610])  # upserts
    before = index.search(queries, 10)
    index.save(tmp_path, {"model": "fake-encoder", "fingerprint": "abc", "count": -1})
    loaded, manifest = load_index(tmp_path)
    assert type(loaded) is type(index)
    assert (loaded.kind, loaded.dim, len(loaded)) == (index.kind, DIM, 550)
    assert manifest["model"] == "fake-encoder" and manifest["fingerprint"] == "abc"
    assert manifest["backend"] == index.backend and manifest["kind"] == index.kind
    assert manifest["dim"] == DIM and manifest["count"] == 550
    assert manifest["format_version"] == vectorindex.FORMAT_VERSION
    after = loaded.search(queries, 10)
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)
    np.testing.assert_array_equal(np.sort(loaded.ids()), np.sort(index.ids()))
    np.testing.assert_allclose(loaded.get(ids[50:60]), vectors[600:610], atol=1e-6)
    # the loaded index stays fully usable
    loaded.add(ids[:5], vectors[:5])
    loaded.remove(ids[100:110])
    assert len(loaded) == 545
    # a second save replaces the first and leaves no stale data files behind
    loaded.save(tmp_path, {"model": "fake-encoder"})
    names = {p.name for p in tmp_path.iterdir()}
    manifest2 = json.loads((tmp_path / "manifest.json").read_text())
    assert names == {"manifest.json"} | {f["name"] for f in manifest2["files"].values()}
    again, _ = load_index(tmp_path, expect={"model": "fake-encoder", "dim": DIM})
    assert len(again) == 545
    with pytest.raises(IndexNotReady):
        load_index(tmp_path, expect={"model": "another-model"})


def test_interrupted_save_keeps_previous_index(
    make: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    index = make()
    index.add([1, 2, 3], unit(rng, 3))
    index.save(tmp_path, {})
    index.add([4], unit(rng, 1))
    real_replace = os.replace

    def failing_replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if Path(dst).name == "manifest.json":
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(vectorindex_base.os, "replace", failing_replace)
    with pytest.raises(KeyboardInterrupt):
        index.save(tmp_path, {})
    monkeypatch.setattr(vectorindex_base.os, "replace", real_replace)
    loaded, manifest = load_index(tmp_path)
    assert len(loaded) == 3 and manifest["count"] == 3
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_broken_saves_raise_index_not_ready(make: Factory, tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    with pytest.raises(IndexNotReady):
        load_index(tmp_path / "nowhere")
    index = make()
    index.add(range(20), unit(rng, 20))
    index.save(tmp_path, {"model": "m"})
    manifest_path = tmp_path / "manifest.json"
    good = manifest_path.read_text()
    data_files = [tmp_path / f["name"] for f in json.loads(good)["files"].values()]

    manifest_path.write_text(good[: len(good) // 2])  # truncated JSON
    with pytest.raises(IndexNotReady):
        load_index(tmp_path)
    manifest_path.write_text("[1, 2]")
    with pytest.raises(IndexNotReady):
        load_index(tmp_path)
    for key, value in (("count", 21), ("dim", DIM + 1), ("format_version", 99), ("backend", "x")):
        broken = json.loads(good)
        broken[key] = value
        manifest_path.write_text(json.dumps(broken))
        with pytest.raises(IndexNotReady):
            load_index(tmp_path)
    broken = json.loads(good)
    del broken["kind"]
    manifest_path.write_text(json.dumps(broken))
    with pytest.raises(IndexNotReady):
        load_index(tmp_path)

    manifest_path.write_text(good)
    load_index(tmp_path)  # intact again
    target = data_files[0]
    raw = bytearray(target.read_bytes())
    raw[-1] ^= 0xFF  # corrupt one byte
    target.write_bytes(bytes(raw))
    with pytest.raises(IndexNotReady):
        load_index(tmp_path)
    target.write_bytes(bytes(raw[:-10]))  # truncated
    with pytest.raises(IndexNotReady):
        load_index(tmp_path)
    target.unlink()  # missing
    with pytest.raises(IndexNotReady):
        load_index(tmp_path)


def test_bad_input_raises_invalid_input(make: Factory) -> None:
    rng = np.random.default_rng(8)
    index = make()
    good = unit(rng, 2)
    nan = good.copy()
    nan[0, 0] = np.nan
    bad_calls: list[Callable[[], object]] = [
        lambda: index.add([1, 2], unit(rng, 2, DIM + 1)),  # wrong dim
        lambda: index.add([1, 2], nan),  # non-finite
        lambda: index.add([1, 2, 3], good),  # mismatched lengths
        lambda: index.add([1, 1], good),  # duplicate ids in one call
        lambda: index.add([1, 2], good * 3),  # not L2-normalised
        lambda: index.add([-1, 2], good),  # negative id
        lambda: index.add([1.5, 2], good),  # non-integer id
        lambda: index.add(["a", "b"], good),  # non-numeric id
        lambda: index.add([1, 2], np.ones((2, 3, DIM), dtype=np.float32)),  # wrong rank
        lambda: index.search(unit(rng, 1, DIM - 1), 3),  # query of wrong dim
        lambda: index.search(nan, 3),  # non-finite query
        lambda: index.search(good, 0),  # k < 1
        lambda: index.search(good, 2.5),  # non-integer k
        lambda: index.search(good, 2, allowed={-3}),  # bad allowed id
    ]
    for call in bad_calls:
        with pytest.raises(InvalidInput):
            call()
    assert len(index) == 0
    index.add([1, 2], good.astype(np.float64))  # float64 input is accepted and converted
    index.add([], np.empty((0, DIM), dtype=np.float32))  # empty add is a no-op
    assert len(index) == 2


def test_random_cycles_agree_with_reference(make: Factory) -> None:
    rng = np.random.default_rng(9)
    dim = 16
    index = make(dim)
    reference: dict[int, np.ndarray] = {}
    universe = np.arange(1, 400, dtype=np.int64) * 11
    total_recall: list[float] = []
    for _ in range(40):
        n_up = int(rng.integers(1, 40))
        up = rng.choice(universe, size=n_up, replace=False)
        vecs = unit(rng, n_up, dim)
        index.add(up, vecs)
        reference.update(zip(up.tolist(), vecs, strict=True))
        n_rm = int(rng.integers(0, 30))
        rm = rng.choice(universe, size=n_rm, replace=False)
        expected_removed = sum(int(i) in reference for i in rm)
        assert index.remove(rm) == expected_removed
        for i in rm.tolist():
            reference.pop(i, None)

        assert len(index) == len(reference)
        assert set(index.ids().tolist()) == set(reference)
        ref_ids = np.array(sorted(reference), dtype=np.int64)
        ref_vecs = np.stack([reference[i] for i in ref_ids.tolist()])
        np.testing.assert_allclose(index.get(ref_ids), ref_vecs, atol=1e-6)
        queries = unit(rng, 8, dim)
        k = 5
        exp_scores, exp_ids = brute_force(ref_vecs, ref_ids, queries, k)
        scores, found = index.search(queries, k)
        if exact(index):
            np.testing.assert_array_equal(found, exp_ids)
            np.testing.assert_allclose(scores, exp_scores, atol=1e-5)
        else:
            total_recall.append(recall(exp_ids, found))
            assert index.tombstones <= 0.25 * (len(index) + index.tombstones) + 1  # type: ignore[attr-defined]
    if total_recall:
        assert np.mean(total_recall) >= 0.98


def test_registry_and_choose_kind() -> None:
    with pytest.raises(ValueError, match="faiss.*numpy"):
        create_index("annoy", 8)
    with pytest.raises(ValueError, match="flat"):
        create_index("numpy", 8, "hnsw")
    with pytest.raises(ValueError):
        create_index("numpy", 8, "ivf")
    with pytest.raises(InvalidInput):
        create_index("numpy", 0)
    index = create_index("numpy", 8)
    assert (index.backend, index.kind, index.dim) == ("numpy", "flat", 8)
    with pytest.raises(ValueError, match="ivf"):
        create_index("numpy", 8, "ivf")
    assert choose_kind(10, "auto", 100) == "flat"
    assert choose_kind(100, "auto", 100) == "ivf"
    assert choose_kind(10**6, "flat", 100) == "flat"
    assert choose_kind(1, "hnsw", 100) == "hnsw"
    assert choose_kind(1, "ivf", 100) == "ivf"
    with pytest.raises(ValueError):
        choose_kind(1, "annoy", 100)


def test_concurrent_adds_and_searches(make: Factory) -> None:
    index = make(8)
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for step in range(20):
                index.add([seed * 1000 + step], unit(rng, 1, 8))
                index.search(unit(rng, 2, 8), 3)
                if step % 4 == 3:
                    index.remove([seed * 1000 + step - 1])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(index) == 45 and len(set(index.ids().tolist())) == 45


def test_search_threads_hold_for_the_block_only():
    faiss = pytest.importorskip("faiss")
    from matcher.retrieval.vectorindex import search_threads

    faiss.omp_set_num_threads(3)
    try:
        with search_threads(1):
            assert faiss.omp_get_max_threads() == 1
        assert faiss.omp_get_max_threads() == 3
        with search_threads(0):  # 0: faiss's own number
            assert faiss.omp_get_max_threads() == 3
    finally:
        faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))
