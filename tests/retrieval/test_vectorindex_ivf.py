"""The IVF index (the default at large sizes): training on the way in, adds and deletes before
and after training, persistence in both states, the approximate path, and the product's own
indexes forced onto it giving the rankings of exact search."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matcher.core.errors import IndexNotReady, InvalidInput
from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.retrieval.vectorindex import auto_nlist, create_index, faiss_ivf, load_index
from tests.conftest import demand, run_cli, talent

pytest.importorskip("faiss")

DIM = 16


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(rng: np.random.Generator, n: int, centres: int = 24, spread: float = 0.35) -> np.ndarray:
    """Unit vectors around `centres` random directions: data IVF lists can separate."""
    c = unit(rng, centres)
    x = c[rng.integers(0, centres, n)] + spread * rng.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(DIM)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def brute(ref: dict[int, np.ndarray], queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.array(sorted(ref), dtype=np.int64)
    vecs = np.stack([ref[i] for i in ids.tolist()])
    scores = queries @ vecs.T
    order = np.argsort(-scores, axis=1)[:, :k]
    return np.take_along_axis(scores, order, axis=1), ids[order]


def test_trains_at_train_at_and_keeps_every_vector_exact_when_all_lists_are_probed() -> None:
    rng = np.random.default_rng(11)
    index = create_index("faiss", DIM, "ivf", nlist=8, nprobe=8, train_at=300)
    ref: dict[int, np.ndarray] = {}
    first = unit(rng, 250)
    index.add(np.arange(250) * 3 + 1, first)
    ref.update(zip((np.arange(250) * 3 + 1).tolist(), first, strict=True))
    assert not index.trained  # type: ignore[attr-defined]
    queries = unit(rng, 20)
    exp_s, exp_i = brute(ref, queries, 7)
    s, i = index.search(queries, 7)
    np.testing.assert_array_equal(i, exp_i)
    np.testing.assert_allclose(s, exp_s, atol=1e-5)
    # 80 new ids and 20 upserts of old ones: 330 stored crosses train_at
    ids = np.concatenate([np.arange(20) * 3 + 1, 10_000 + np.arange(80)]).astype(np.int64)
    vecs = unit(rng, 100)
    index.add(ids, vecs)
    ref.update(zip(ids.tolist(), vecs, strict=True))
    assert index.trained and len(index) == 330  # type: ignore[attr-defined]
    assert set(index.ids().tolist()) == set(ref)
    np.testing.assert_allclose(index.get(ids[:20]), vecs[:20], atol=1e-6)
    exp_s, exp_i = brute(ref, queries, 7)
    s, i = index.search(queries, 7)
    np.testing.assert_array_equal(i, exp_i)
    np.testing.assert_allclose(s, exp_s, atol=1e-5)
    # deletes and upserts after training
    gone = ids[20:60]
    assert index.remove(gone) == 40
    for g in gone.tolist():
        ref.pop(g)
    more = unit(rng, 5)
    index.add([1, 4, 7, 50_000, 50_001], more)
    ref.update(zip([1, 4, 7, 50_000, 50_001], more, strict=True))
    exp_s, exp_i = brute(ref, queries, 7)
    s, i = index.search(queries, 7)
    np.testing.assert_array_equal(i, exp_i)
    assert len(index) == len(ref) == 292 and 50_001 in index and int(gone[0]) not in index


def test_settle_trains_only_with_39_vectors_per_list() -> None:
    rng = np.random.default_rng(12)
    index = create_index("faiss", DIM, "ivf", nlist=4, nprobe=4)
    assert index.train_at == 4 * faiss_ivf.TRAIN_POINTS_PER_LIST  # type: ignore[attr-defined]
    index.add(range(100), unit(rng, 100))
    index.settle()
    assert not index.trained  # type: ignore[attr-defined]
    index.add(range(100, 156), unit(rng, 56))  # 156 = 39 * 4, below train_at
    assert not index.trained  # type: ignore[attr-defined]
    index.settle()
    assert index.trained and len(index) == 156  # type: ignore[attr-defined]


def test_partial_probing_is_approximate_but_never_returns_deleted_or_disallowed_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(13)
    vecs = clustered(rng, 3000)
    ids = np.arange(3000, dtype=np.int64) * 5 + 2
    index = create_index("faiss", DIM, "ivf", nlist=16, nprobe=4, train_at=1000)
    index.add(ids, vecs)
    assert index.trained  # type: ignore[attr-defined]
    queries = clustered(rng, 50)
    ref = dict(zip(ids.tolist(), vecs, strict=True))
    _, exp_i = brute(ref, queries, 10)
    _, got = index.search(queries, 10)
    rec = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exp_i, got, strict=True)])
    assert 0.8 <= rec  # 4 of 16 lists on clustered data
    gone = ids[::3]
    index.remove(gone)
    _, got = index.search(np.concatenate([queries, vecs[::3]]), 10)
    assert not set(got.ravel().tolist()) & set(gone.tolist())
    # a large allowed set goes through a faiss IDSelector (forced here), a small one is scored exactly
    monkeypatch.setattr(faiss_ivf, "HNSW_EXACT_FILTER_MAX", 0)
    allowed = set(ids[1::3].tolist()[:500])
    _, got = index.search(queries, 10, allowed=allowed)
    assert set(got.ravel().tolist()) - {-1} <= allowed
    monkeypatch.setattr(faiss_ivf, "HNSW_EXACT_FILTER_MAX", 10_000)
    allowed_ids = np.array(sorted(allowed), dtype=np.int64)
    _, exp_i = brute({i: ref[i] for i in allowed_ids.tolist()}, queries, 10)
    _, got = index.search(queries, 10, allowed=allowed)
    np.testing.assert_array_equal(got, exp_i)


@pytest.mark.parametrize("n", [120, 600], ids=["untrained", "trained"])
def test_save_load_keeps_state_params_and_results(n: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(14)
    index = create_index("faiss", DIM, "ivf", nlist=8, nprobe=3, train_at=400)
    ids = np.arange(n, dtype=np.int64) + 100
    index.add(ids, clustered(rng, n))
    index.remove(ids[:10])
    queries = clustered(rng, 12)
    before = index.search(queries, 10)
    index.save(tmp_path, {"model": "m"})
    loaded, manifest = load_index(tmp_path)
    assert manifest["kind"] == "ivf"
    assert manifest["params"] == {"nlist": 8, "nprobe": 3, "train_at": 400, "projected_dim": 16 if n >= 400 else None}
    assert loaded.trained == index.trained == (n >= 400)  # type: ignore[attr-defined]
    assert (loaded.nlist, loaded.nprobe, loaded.train_at) == (8, 3, 400)  # type: ignore[attr-defined]
    assert len(loaded) == n - 10 and set(loaded.ids().tolist()) == set(ids[10:].tolist())
    after = loaded.search(queries, 10)
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)
    np.testing.assert_allclose(loaded.get(ids[10:15]), index.get(ids[10:15]), atol=1e-6)
    # the loaded index keeps working: adds (crossing train_at when untrained), upserts, deletes
    extra = np.arange(400, dtype=np.int64) + 10_000
    loaded.add(extra, clustered(rng, 400))
    loaded.add(ids[10:12], clustered(rng, 2))
    assert loaded.remove(ids[12:20]) == 8
    assert loaded.trained and len(loaded) == n - 10 + 400 - 8  # type: ignore[attr-defined]


def test_load_rejects_manifest_disagreeing_with_the_index(tmp_path: Path) -> None:
    rng = np.random.default_rng(15)
    index = create_index("faiss", DIM, "ivf", nlist=8, nprobe=8, train_at=100)
    index.add(range(200), unit(rng, 200))
    index.save(tmp_path, {})
    path = tmp_path / "manifest.json"
    good = json.loads(path.read_text())
    for params in ({"nlist": 16, "nprobe": 8, "train_at": 100}, {"nlist": 8, "nprobe": 0, "train_at": 100}):
        path.write_text(json.dumps({**good, "params": params}))
        with pytest.raises(IndexNotReady):
            load_index(tmp_path)
    path.write_text(json.dumps(good))
    assert len(load_index(tmp_path)[0]) == 200


def test_bad_parameters_and_auto_nlist() -> None:
    for kw in ({"nlist": 0}, {"nprobe": 0}, {"nlist": 64, "train_at": 10}, {"nlist": True}):
        with pytest.raises(InvalidInput):
            create_index("faiss", DIM, "ivf", **kw)
    assert create_index("faiss", DIM, "ivf", nlist=8, nprobe=50).nprobe == 8  # type: ignore[attr-defined]
    assert auto_nlist(10) == 16
    assert auto_nlist(200_000) == 2048
    assert auto_nlist(1_000_000) == 4096
    assert auto_nlist(10**9) == 8192


def test_low_rank_vectors_are_searched_in_their_subspace_and_rescored_exactly() -> None:
    """Vectors spanning 16 of 64 dimensions (like a low-rank encoder's): the lists hold 16, `get`
    and every returned score come from the stored 64-dimensional vectors."""
    rng = np.random.default_rng(17)
    basis = np.linalg.qr(rng.standard_normal((64, 16)))[0].astype(np.float32)  # orthonormal columns
    x = rng.standard_normal((1500, 16)).astype(np.float32) @ basis.T
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = np.arange(1500, dtype=np.int64) + 1
    index = create_index("faiss", 64, "ivf", nlist=8, nprobe=8, train_at=1000)
    index.add(ids, x)
    assert index.trained and index.projected_dim == 16  # type: ignore[attr-defined]
    queries = rng.standard_normal((20, 64)).astype(np.float32)  # full-rank queries
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exp_s, exp_i = brute(dict(zip(ids.tolist(), x, strict=True)), queries, 10)
    s, i = index.search(queries, 10)
    np.testing.assert_array_equal(i, exp_i)
    np.testing.assert_allclose(s, exp_s, atol=1e-5)
    np.testing.assert_array_equal(index.get(ids[:5]), x[:5])
    # full-rank vectors keep every dimension
    full = create_index("faiss", DIM, "ivf", nlist=4, nprobe=4, train_at=200)
    full.add(range(200), unit(rng, 200))
    assert full.projected_dim == DIM  # type: ignore[attr-defined]
    assert faiss_ivf.principal_basis(np.zeros((5, 8), dtype=np.float32)).shape == (8, 8)


def test_product_indexes_on_ivf_rank_like_exact_search(tmp_path: Path, db_url: str, fake_encoder) -> None:
    """Both sides forced onto IVF (all lists probed): the same rankings as exact flat indexes,
    through a bulk load (trained by settle), write-through adds and deletes, and a restart."""
    from matcher.wiring import build_service

    def service(kind: str, data: str):
        settings = Settings(data_dir=tmp_path / data, reference_dir=PROJECT_ROOT / "data", encoder="fake",
                            database_url=db_url, index_kind=kind, ivf_nlist=4, ivf_nprobe=4)
        return build_service(settings, encoder=fake_encoder)

    skills = ["Python", "Java", "Spark", "PLC", "焊接", "CAD", "数据分析", "机器学习", "电工", "SQL"]
    cities = ["淄博", "济南", "青岛"]
    rng = np.random.default_rng(16)
    writer = service("flat", "w")
    writer.add("talent", [talent(name=f"人{i}", phone=f"138{i:08d}", city=cities[i % 3],
                                 skills=list(rng.choice(skills, size=3, replace=False)))
                          for i in range(180)])  # 180 >= 39 * 4: the bulk load trains
    dids = writer.add("demand", [demand(title=t, required_skills=[s]) for t, s in
                                 (("数据工程师", "Spark"), ("电气技术员", "PLC"), ("焊工", "焊接"))])
    ivf, flat = service("ivf", "ivf"), service("flat", "flat")

    def same() -> None:
        for did in dids:
            got = [(m.id, round(m.score, 5)) for m in ivf.match_demand(did, top_k=20)]
            want = [(m.id, round(m.score, 5)) for m in flat.match_demand(did, top_k=20)]
            assert got == want and len(got) == 20

    side = ivf.ensure_index("talent")
    flat.ensure_index("talent")
    assert side.dense.kind == "ivf" and side.dense.trained  # type: ignore[attr-defined]
    same()
    new = ivf.add("talent", [talent(name=f"新{i}", phone=f"139{i:08d}", skills=["Spark", "PLC"]) for i in range(5)])
    ivf.delete("talent", new[0])
    flat.indexes.poll()
    assert len(side.dense) == 184
    same()
    ivf.close()
    again = service("ivf", "ivf")
    assert again.ensure_index("talent").dense.kind == "ivf" and len(again.ensure_index("talent").dense) == 184
    ivf = again
    same()
    for svc in (again, flat, writer):
        svc.close()


@pytest.mark.parametrize(("n", "kind", "nlist", "changes", "want"), [
    (199_999, "flat", None, {}, None),
    (200_000, "flat", None, {}, "ivf"),  # grew past the threshold
    (150_000, "ivf", 2048, {}, None),  # shrank, but not below half the threshold
    (99_999, "ivf", 2048, {}, "flat"),
    (1_000_000, "ivf", 2048, {}, "ivf"),  # the ideal list count doubled (4096): trained again
    (1_000_000, "ivf", 4096, {}, None),
    (1_000_000, "ivf", 2048, {"ivf_nlist": 2048}, None),  # lists named in the settings
    (1_000_000, "hnsw", None, {}, "ivf"),  # an index of the earlier default
    (500, "hnsw", None, {}, "flat"),
    (1_000_000, "flat", None, {"index_kind": "flat"}, None),  # a kind named in the settings is kept
    (1_000_000, "flat", None, {"index_backend": "numpy"}, None),
])
def test_the_kind_that_fits_a_sides_size(n, kind, nlist, changes, want):
    from matcher.retrieval.saved import kind_for_size

    assert auto_nlist(1_000_000) == 4096 and auto_nlist(200_000) == 2048
    assert kind_for_size(n, kind, nlist, Settings(**changes)) == want


def test_sync_moves_a_grown_side_to_ivf_from_its_stored_vectors(tmp_path: Path, db_url: str, fake_encoder,
                                                               monkeypatch, capsys) -> None:
    """A side that grew past the threshold by writes keeps its exact index until ``index sync``,
    which rebuilds it as IVF from the vectors it holds (nothing encoded again), saves it, and
    ranks as exact search does (all lists probed); ``index status`` says when the move is due."""
    from matcher.wiring import build_service

    def service(data: str, **kw):
        settings = Settings(data_dir=tmp_path / data, reference_dir=PROJECT_ROOT / "data", encoder="fake",
                            database_url=db_url, ivf_nlist=4, ivf_nprobe=4, **kw)
        return build_service(settings, encoder=fake_encoder)

    skills = ["Python", "Java", "Spark", "PLC", "焊接", "CAD", "数据分析", "机器学习", "电工", "SQL"]
    rng = np.random.default_rng(7)

    def people(start: int, count: int):
        return [talent(name=f"人{i}", phone=f"137{i:08d}", skills=list(rng.choice(skills, size=3, replace=False)))
                for i in range(start, start + count)]

    svc = service("grow", hnsw_threshold=100)
    svc.add("talent", people(0, 60))
    dids = svc.add("demand", [demand(title=t, required_skills=[s]) for t, s in
                              (("数据工程师", "Spark"), ("电气技术员", "PLC"), ("焊工", "焊接"))])
    assert svc.ensure_index("talent").dense.kind == "flat"
    svc.add("talent", people(60, 120))  # 180 vectors now, written through: still exact
    side = svc.ensure_index("talent")
    assert side.dense.kind == "flat" and len(side.dense) == 180
    svc.save_all()
    status = svc.indexes.saved_status()["talent"]
    assert (status["kind"], status["kind_for_size"], status["in_step"]) == ("flat", "ivf", True)
    before = {did: [(m.id, round(m.score, 5)) for m in svc.match_demand(did, top_k=20)] for did in dids}
    # the command says so (the same settings through the environment)
    for name, value in (("DATA_DIR", str(tmp_path / "grow")), ("DATABASE_URL", db_url), ("ENCODER", "fake"),
                        ("ENCODER_MODEL", str(fake_encoder.dim)), ("HNSW_THRESHOLD", "100"), ("IVF_NLIST", "4")):
        monkeypatch.setenv(f"TALENTMATCH_{name}", value)
    code, out, _ = run_cli(monkeypatch, capsys, "index", "status")
    assert code == 0 and "人才侧向量索引（180 条）宜由 flat 转为 ivf" in out and "index sync" in out

    def no_encoding(*_a, **_k):
        raise AssertionError("sync encoded a text again")

    monkeypatch.setattr(fake_encoder, "encode_passages", no_encoding)
    told: list[tuple] = []
    svc.sync("talent", moving=lambda *a: told.append(a))
    assert told == [("talent", "flat", "ivf", 180)]
    side = svc.ensure_index("talent")
    assert side.dense.kind == "ivf" and side.dense.trained and len(side.dense) == 180  # type: ignore[attr-defined]
    monkeypatch.undo()
    status = svc.indexes.saved_status()["talent"]
    assert (status["kind"], status["kind_for_size"], status["in_step"], status["problem"]) == ("ivf", None, True, None)
    for did in dids:
        assert [(m.id, round(m.score, 5)) for m in svc.match_demand(did, top_k=20)] == before[did]
    svc.close()
    again = service("grow", hnsw_threshold=100)
    assert again.ensure_index("talent").dense.kind == "ivf"
    for did in dids:
        assert [(m.id, round(m.score, 5)) for m in again.match_demand(did, top_k=20)] == before[did]
    again.close()
