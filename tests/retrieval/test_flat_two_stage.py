"""The faiss flat index's two-stage search (fp16 scan, exact re-score, proof) returns exactly
what the full IndexFlatIP scan returns: same ids, same float32 scores, same order."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

faiss = pytest.importorskip("faiss")

from matcher.retrieval.vectorindex import create_index, load_index  # noqa: E402
from matcher.retrieval.vectorindex.faiss_flat import FaissFlatIndex  # noqa: E402
from tests.retrieval.flat_helpers import DIM, pair, unit  # noqa: E402


def same(two: FaissFlatIndex, exact: FaissFlatIndex, queries: np.ndarray, ks, *, rows: bool = True) -> None:
    """Every query, one at a time (the route's shape) and as one batch, gives identical results."""
    for k in ks:
        if rows:
            for q in queries:
                ts, ti = two.search(q[None, :], k)
                es, ei = exact.search(q[None, :], k)
                np.testing.assert_array_equal(ti, ei)
                np.testing.assert_array_equal(ts, es)
        ts, ti = two.search(queries, k)
        es, ei = exact.search(queries, k)
        np.testing.assert_array_equal(ti, ei)
        np.testing.assert_array_equal(ts, es)


def test_random_data_proved_and_identical() -> None:
    rng = np.random.default_rng(1)
    ids = rng.choice(10**9, 3000, replace=False).astype(np.int64)
    two, exact = pair(ids, unit(rng, 3000))
    queries = unit(rng, 40)
    same(two, exact, queries, (1, 10, 200, 1000, 2935, 2936, 3000, 5000))
    stats = two.stats()
    assert stats["proved"] > 0 and stats["two_stage"] > 0
    # batches of a few rows take the two-stage path too; longer ones the exact scan
    same(two, exact, unit(rng, 7), (10,), rows=False)
    same(two, exact, unit(rng, 50), (10,), rows=False)


def test_near_ties_duplicates_and_bound_fallback() -> None:
    """Vectors within float noise of each other: the bound cannot separate them, the search
    falls back to the full scan, and results stay identical."""
    rng = np.random.default_rng(2)
    base = unit(rng, 5)
    noise = rng.standard_normal((2000, DIM)).astype(np.float32) * 1e-5
    vecs = base[rng.integers(0, 5, 2000)] + noise
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    two, exact = pair(np.arange(2000), vecs)
    same(two, exact, np.vstack([base, unit(rng, 10)]), (1, 10, 100, 300))
    assert two.stats()["fallback_bound"] > 0


def test_duplicates_across_the_boundary_fall_back_on_ties() -> None:
    """Exact duplicates straddling the k-th place: which of them a full scan keeps depends on
    its heap, so the two-stage search hands those queries to it."""
    rng = np.random.default_rng(3)
    base = unit(rng, 8)
    vecs = np.vstack([base[rng.integers(0, 8, 1500)], unit(rng, 1500)])
    order = rng.permutation(len(vecs))
    two, exact = pair(order.astype(np.int64) * 3 + 1, vecs[order])
    same(two, exact, np.vstack([base, unit(rng, 10)]), (1, 5, 37, 100, 250))
    assert two.stats()["fallback_tie"] > 0


def test_non_unit_queries_and_tolerated_norms() -> None:
    rng = np.random.default_rng(4)
    vecs = unit(rng, 2500) * rng.uniform(0.9995, 1.0005, (2500, 1)).astype(np.float32)
    two, exact = pair(np.arange(2500), vecs)
    queries = unit(rng, 12) * np.array([1e-3, 0.01, 0.5, 1, 2, 10, 1e3, 1, 1, 1, 1, 1], np.float32)[:, None]
    queries[-1] = 0.0
    queries[-2, : DIM // 2] = 0.0
    same(two, exact, queries, (1, 50, 200))


def test_removes_upserts_and_readds() -> None:
    rng = np.random.default_rng(5)
    vecs = unit(rng, 3000)
    two, exact = pair(np.arange(3000), vecs)
    for idx in (two, exact):
        idx.remove(np.arange(0, 3000, 3))
        idx.add(np.arange(1, 600, 3), unit(np.random.default_rng(6), 200))  # upserts
        idx.add(np.arange(0, 300, 3), vecs[:100])  # re-adds
    assert len(two) == len(exact) and two._compact.ntotal == len(two)
    # the compact copy still mirrors the float32 vectors slot by slot
    n = len(two)
    np.testing.assert_allclose(two._compact.reconstruct_n(0, n), two._flat.reconstruct_n(0, n), atol=1e-3)
    same(two, exact, unit(rng, 20), (1, 10, 200))
    np.testing.assert_array_equal(two.get(np.arange(1, 600, 3)), exact.get(np.arange(1, 600, 3)))


def test_filtered_search_identical() -> None:
    rng = np.random.default_rng(7)
    two, exact = pair(np.arange(3000), unit(rng, 3000))
    allowed = rng.choice(3000, 400, replace=False)
    q = unit(rng, 5)
    for k in (1, 10, 200, 500):
        a = two.search(q, k, allowed=allowed)
        b = exact.search(q, k, allowed=allowed)
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[0], b[0])


def test_save_load_keeps_two_stage_and_results(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    two, exact = pair(np.arange(3000) * 5, unit(rng, 3000))
    two.save(tmp_path / "a")
    loaded, manifest = load_index(tmp_path / "a")
    assert isinstance(loaded, FaissFlatIndex) and loaded.two_stage
    assert manifest["params"]["two_stage"] is True
    loaded.two_stage_min = 0
    same(loaded, exact, unit(rng, 20), (1, 10, 200))
    assert loaded.stats()["proved"] > 0
    # saved with it off, it loads off
    off = FaissFlatIndex(DIM, two_stage=False)
    off.add([1, 2], unit(rng, 2))
    off.save(tmp_path / "b")
    assert not load_index(tmp_path / "b")[0].two_stage


def test_old_saved_flat_index_loads(tmp_path: Path) -> None:
    """A flat index saved before the two-stage search (no params in its manifest) loads, builds
    its compact copy from the float32 vectors, and searches identically."""
    rng = np.random.default_rng(9)
    vecs = unit(rng, 3000)
    raw = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    raw.add_with_ids(vecs, np.arange(3000, dtype=np.int64) + 10)
    old = FaissFlatIndex(DIM, two_stage=False, _index=raw)
    old.save(tmp_path)
    manifest_path = tmp_path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["params"] = {}
    manifest_path.write_text(json.dumps(manifest))
    loaded, _ = load_index(tmp_path)
    assert loaded.two_stage and loaded._compact.ntotal == 3000
    loaded.two_stage_min = 0
    same(loaded, old, unit(rng, 10), (1, 200))
    assert loaded.stats()["proved"] > 0


def test_setting_turns_it_off_and_memory_is_reported() -> None:
    off = create_index("faiss", DIM, "flat", flat_two_stage=False)
    on = create_index("faiss", DIM, "flat")
    vecs = unit(np.random.default_rng(10), 100)
    for idx in (off, on):
        idx.add(np.arange(100), vecs)
    assert off.memory_bytes()["compact"] == 0  # type: ignore[attr-defined]
    mem = on.memory_bytes()  # type: ignore[attr-defined]
    assert mem["compact"] == mem["vectors"] // 2  # fp16: half the float32 bytes


def test_settings_field_exists() -> None:
    from matcher.core.settings import Settings

    assert Settings.model_fields["flat_two_stage"].default is True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    groups=st.integers(1, 30),
    k=st.integers(1, 450),
    dup=st.floats(0.0, 1.0),
    scale=st.sampled_from([1e-6, 1e-3, 0.1]),
)
def test_hypothesis_identical(seed: int, n: int, groups: int, k: int, dup: float, scale: float) -> None:
    """Mixtures of exact duplicates and clusters of near-duplicates, any k."""
    rng = np.random.default_rng(seed)
    base = unit(rng, groups, 8)
    vecs = base[rng.integers(0, groups, n)] + rng.standard_normal((n, 8)).astype(np.float32) * scale
    keep = rng.random(n) < dup
    vecs[keep] = base[rng.integers(0, groups, int(keep.sum()))]
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    two = FaissFlatIndex(8, two_stage_min=0)
    exact = FaissFlatIndex(8, two_stage=False)
    ids = rng.choice(10**6, n, replace=False)
    for idx in (two, exact):
        idx.add(ids, vecs)
        idx.remove(ids[: n // 5])
    qs = np.vstack([base[:3], unit(rng, 3, 8)])
    same(two, exact, qs, (k,))


def test_a_loaded_index_searches_as_the_settings_say(tmp_path: Path, fake_encoder) -> None:
    """``FLAT_TWO_STAGE`` decides for a saved index too: saved with the two stages and loaded with
    the setting off, it scans in full (no compact copy kept), and back; the lists are the same."""
    from matcher.core.settings import PROJECT_ROOT, Settings
    from matcher.wiring import build_service
    from tests.conftest import demand, talent

    def service(on: bool):
        return build_service(Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data",
                                      encoder="fake", flat_two_stage=on), encoder=fake_encoder)

    first = service(True)
    first.add("talent", [talent(name=f"人{i}", phone=f"136{i:08d}", skills=["Python", "Spark"][: 1 + i % 2])
                         for i in range(30)])
    [did] = first.add("demand", [demand(title="数据工程师", required_skills=["Spark"])])
    dense = first.ensure_index("talent").dense
    assert isinstance(dense, FaissFlatIndex) and dense.two_stage and dense._compact is not None
    want = [(m.id, m.score) for m in first.match_demand(did, top_k=10)]
    first.save_all()
    first.close()
    for on in (False, True):
        svc = service(on)
        dense = svc.ensure_index("talent").dense
        assert isinstance(dense, FaissFlatIndex) and dense.two_stage is on
        assert (dense._compact is not None) is on
        assert [(m.id, m.score) for m in svc.match_demand(did, top_k=10)] == want
        svc.save_all()
        svc.close()
