#!/usr/bin/env python
"""Issue 17, "HNSW recall@10 at 10^6": approximate index configurations compared on the HNSW
row's data (static-e5 vectors of generated postings, 500 seeker queries).

For each configuration: build time, index size (bytes written by ``faiss.write_index``, about its
memory), and for each search setting recall@10 with ties, recall@10 by id and queries/s of one
search thread (one query per call, as a request handler sends them). Recall with ties: a returned
vector counts when its exact similarity reaches the exact 10th best less 1e-5 (past 50,000 the
postings repeat with a number appended, so the exact top 10 is often a tie among copies).

Vectors, ground truth and built indexes are cached in ``--cache`` (default ``var/ann``), so a
configuration is built once; a cached build keeps the build time measured when it was built.

    nice -n 5 python -m bench.bench_ann --n 1000000 --configs ivf2048,ivf4096
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from bench.util import git_rev, loadavg

ROOT = Path(__file__).resolve().parent.parent
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[bench-ann {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


# name -> (what, builder(vecs, faiss) -> index, [(label, set search params(index), pool)])
# pool > 10: the index returns `pool` candidates, re-scored exactly from the stored vectors.


def _hnsw(m: int, ef_c: int, sq8: bool = False) -> Callable[[np.ndarray, Any], Any]:
    def build(vecs: np.ndarray, faiss: Any) -> Any:
        d = vecs.shape[1]
        if sq8:
            index = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT)
            index.train(np.ascontiguousarray(vecs[:: max(1, len(vecs) // 100_000)]))
        else:
            index = faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_c
        for s in range(0, len(vecs), 100_000):
            index.add(np.ascontiguousarray(vecs[s : s + 100_000]))
        return index
    return build


def _ivf(nlist: int, train: int, pq: int = 0) -> Callable[[np.ndarray, Any], Any]:
    def build(vecs: np.ndarray, faiss: Any) -> Any:
        d = vecs.shape[1]
        quantizer = faiss.IndexFlatIP(d)
        if pq:
            index = faiss.IndexIVFPQ(quantizer, d, nlist, pq, 8, faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.own_fields = True
        quantizer.this.disown()
        rng = np.random.default_rng(0)
        sample = np.ascontiguousarray(vecs[np.sort(rng.choice(len(vecs), size=min(train, len(vecs)), replace=False))])
        index.train(sample)
        for s in range(0, len(vecs), 100_000):
            index.add(np.ascontiguousarray(vecs[s : s + 100_000]))
        return index
    return build


def _ivf_pca(nlist: int, sq8: bool) -> Callable[[np.ndarray, Any], Any]:
    """IVF over the principal subspace (uncentred: inner products are kept), as the product's
    ``ivf`` index: a ``LinearTransform`` in front of IVF-Flat or IVF-SQ8."""
    def build(vecs: np.ndarray, faiss: Any) -> Any:
        from matcher.retrieval.vectorindex.faiss_ivf import principal_basis

        rng = np.random.default_rng(0)
        sample = np.ascontiguousarray(vecs[np.sort(rng.choice(len(vecs), size=min(40 * nlist, len(vecs)), replace=False))])
        basis = principal_basis(sample)  # (dim, d)
        d_in, d = basis.shape
        lt = faiss.LinearTransform(d_in, d, False)
        faiss.copy_array_to_vector(np.ascontiguousarray(basis.T).ravel(), lt.A)
        lt.is_trained = True
        quantizer = faiss.IndexFlatIP(d)
        if sq8:
            ivf = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                faiss.METRIC_INNER_PRODUCT, False)
        else:
            ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.own_fields = True
        quantizer.this.disown()
        index = faiss.IndexPreTransform(lt, ivf)
        index.own_fields = True
        lt.this.disown()
        ivf.this.disown()
        index.train(sample)
        for s in range(0, len(vecs), 100_000):
            index.add(np.ascontiguousarray(vecs[s : s + 100_000]))
        return index
    return build


def _ef(ef: int) -> Callable[[Any], None]:
    def set_(index: Any) -> None:
        index.hnsw.efSearch = ef
    return set_


def _nprobe(nprobe: int) -> Callable[[Any], None]:
    def set_(index: Any) -> None:
        import faiss

        faiss.extract_index_ivf(index).nprobe = nprobe
    return set_


CONFIGS: dict[str, tuple[str, Callable[[np.ndarray, Any], Any], list[tuple[str, Callable[[Any], None], int]]]] = {
    "hnsw32": ("HNSW M=32 efConstruction 200 (the setting of today)", _hnsw(32, 200),
               [(f"efSearch {ef}", _ef(ef), 10) for ef in (256, 512)]),
    "hnsw48": ("HNSW M=48 efConstruction 300", _hnsw(48, 300),
               [(f"efSearch {ef}", _ef(ef), 10) for ef in (128, 256, 384)]),
    "hnsw64": ("HNSW M=64 efConstruction 400", _hnsw(64, 400),
               [(f"efSearch {ef}", _ef(ef), 10) for ef in (128, 256, 384)]),
    "hnsw32sq8": ("HNSW M=32 efConstruction 200 over SQ8 codes, exact re-score", _hnsw(32, 200, sq8=True),
                  [(f"efSearch {ef}, pool {p}", _ef(ef), p) for ef, p in ((256, 50), (256, 100), (512, 100))]),
    "ivf1024": ("IVF1024,Flat trained on 100k", _ivf(1024, 100_000),
                [(f"nprobe {p}", _nprobe(p), 10) for p in (8, 16, 32, 64)]),
    "ivf2048": ("IVF2048,Flat trained on 100k", _ivf(2048, 100_000),
                [(f"nprobe {p}", _nprobe(p), 10) for p in (16, 32, 64, 128)]),
    "ivf4096": ("IVF4096,Flat trained on 200k", _ivf(4096, 200_000),
                [(f"nprobe {p}", _nprobe(p), 10) for p in (16, 32, 64, 128)]),
    "ivf8192": ("IVF8192,Flat trained on 300k", _ivf(8192, 300_000),
                [(f"nprobe {p}", _nprobe(p), 10) for p in (32, 64, 128)]),
    "ivf4096pca": ("IVF4096,Flat over the principal subspace (120 of 384 dims for static-e5), exact re-score",
                   _ivf_pca(4096, sq8=False),
                   [(f"nprobe {p}, pool 50", _nprobe(p), 50) for p in (32, 64, 96, 128)]),
    "ivf4096pcasq8": ("IVF4096,SQ8 over the principal subspace, exact re-score (the product's ivf at 10^6)",
                      _ivf_pca(4096, sq8=True),
                      [(f"nprobe {p}, pool 50", _nprobe(p), 50) for p in (64, 96, 128, 192)]),
    "ivf4096pq48": ("IVF4096,PQ48 trained on 200k, exact re-score", _ivf(4096, 200_000, pq=48),
                    [(f"nprobe {p}, pool {pool}", _nprobe(p), pool) for p, pool in ((32, 100), (64, 100))]),
}


def ground_truth(vecs: np.ndarray, queries: np.ndarray, cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-10 ids and the exact 10th similarity of every query (cached)."""
    path = cache / f"ann-truth-{len(vecs)}.npz"
    if path.exists():
        got = np.load(path)
        return got["ids"], got["kth"]
    import faiss

    scores = np.full((len(queries), 10), -np.inf, np.float32)
    ids = np.full((len(queries), 10), -1, np.int64)
    for s in range(0, len(vecs), 200_000):  # blockwise: the mmap'd vectors never load whole twice
        block = np.ascontiguousarray(vecs[s : s + 200_000])
        flat = faiss.IndexFlatIP(block.shape[1])
        flat.add(block)
        bs, bi = flat.search(queries, 10)
        both_s, both_i = np.hstack([scores, bs]), np.hstack([ids, bi + s])
        order = np.argsort(-both_s, axis=1, kind="stable")[:, :10]
        scores, ids = np.take_along_axis(both_s, order, 1), np.take_along_axis(both_i, order, 1)
    np.savez(path, ids=ids, kth=scores[:, 9])
    return ids, scores[:, 9]


def recall_with_ties(found: list[np.ndarray], vecs: np.ndarray, queries: np.ndarray, kth: np.ndarray) -> float:
    return float(np.mean([min(10, int(np.sum(vecs[np.sort(f)] @ q >= k - 1e-5))) / 10 if len(f) else 0.0
                          for f, q, k in zip(found, queries, kth, strict=True)]))


def recall_by_id(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)]))


def measure(name: str, vecs: np.ndarray, queries: np.ndarray, truth: np.ndarray, kth: np.ndarray,
            cache: Path) -> dict[str, Any]:
    import faiss

    what, builder, searches = CONFIGS[name]
    n = len(vecs)
    path, meta_path = cache / f"ann-{name}-{n}.faiss", cache / f"ann-{name}-{n}.json"
    if path.exists() and meta_path.exists():
        index = faiss.read_index(str(path))
        meta = json.loads(meta_path.read_text())
        log(f"{name}: loaded (built earlier in {meta['build_s']:.0f}s)")
    else:
        faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))
        load0 = loadavg()
        t0, c0 = time.perf_counter(), time.process_time()
        index = builder(vecs, faiss)
        build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
        faiss.write_index(index, str(path))
        meta = {"build_s": round(build, 1), "build_cpu_s": round(build_cpu, 1), "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "load_at_build": [load0, loadavg()], "threads": len(os.sched_getaffinity(0))}
        meta_path.write_text(json.dumps(meta))
        log(f"{name}: built in {build:.0f}s")
    meta["index_bytes"] = path.stat().st_size
    faiss.omp_set_num_threads(1)  # one search thread, as a request handler sees it
    rows = []
    for label, set_params, pool in searches:
        set_params(index)
        for q in queries[:20]:  # warm-up
            index.search(q[None, :], pool)
        load0 = loadavg()
        t0, c0 = time.perf_counter(), time.process_time()
        found = []
        for q in queries:
            _, ids = index.search(q[None, :], pool)
            ids = ids[0][ids[0] >= 0]
            if pool > 10:  # exact re-score of the pool from the stored (flat) vectors
                ids = np.sort(ids)
                ids = ids[np.argsort(-(vecs[ids] @ q))[:10]]
            found.append(ids[:10])
        qps = len(queries) / (time.perf_counter() - t0)
        qps_cpu = len(queries) / max(time.process_time() - c0, 1e-9)
        rows.append({"search": label, "pool": pool, "recall_at_10": round(recall_with_ties(found, vecs, queries, kth), 4),
                     "id_recall_at_10": round(recall_by_id(found, truth), 4), "qps_1_thread": round(qps),
                     "qps_cpu": round(qps_cpu),
                     "load": [load0, loadavg()]})
        log(f"{name} {label}: recall {rows[-1]['recall_at_10']} (by id {rows[-1]['id_recall_at_10']}) at {qps:.0f} q/s "
            f"({qps_cpu:.0f} per CPU second)")
    faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))
    return {"config": name, "what": what, **meta, "searches": rows}


def markdown(res: dict[str, Any]) -> str:
    lines = [f"# Approximate index configurations at {res['n']:,} vectors — {res['date']}", "",
             f"Commit {res['commit']}; {res['cpus']} CPUs shared with other work (load averages beside each "
             "figure). Data: static-e5 vectors of generated postings, 500 seeker queries; one search thread, one "
             "query per call; q/s per CPU second (queries / process CPU time) is what an idle core would give. Recall@10 with ties (a hit when its exact similarity reaches the exact 10th best − 1e-5) "
             "and by id. Size: bytes written by faiss.write_index (about the index's memory; 10^6 × 384 float32 "
             "vectors alone are 1.54 GB).", "",
             "| config | search | recall@10 (ties) | by id | q/s | q/s per CPU s | build s (CPU s; load) | size MB | load while searching |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for c in res["configs"]:
        for s in c["searches"]:
            lines.append(f"| {c['what']} | {s['search']}{' + exact re-score' if s['pool'] > 10 else ''} | "
                         f"{s['recall_at_10']:.3f} | {s['id_recall_at_10']:.3f} | {s['qps_1_thread']} | {s['qps_cpu']} | "
                         f"{c['build_s']:.0f} ({c.get('build_cpu_s', 0):.0f}; {c['load_at_build'][0][0]}) | "
                         f"{c['index_bytes'] / 1e6:.0f} | "
                         f"{s['load'][0][0]} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from bench.bench_speed import ann_vectors

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--configs", default="ivf2048,ivf4096", help=f"comma-separated, of: {', '.join(CONFIGS)}")
    p.add_argument("--cache", type=Path, default=ROOT / "var" / "ann")
    p.add_argument("--out", type=Path, default=None, help="write the results as <out>.json and <out>.md")
    args = p.parse_args(argv)
    names = [c for c in args.configs.split(",") if c]
    unknown = set(names) - set(CONFIGS)
    if unknown:
        raise SystemExit(f"unknown configs {sorted(unknown)}; choose from {', '.join(CONFIGS)}")
    args.cache.mkdir(parents=True, exist_ok=True)
    vecs, queries = ann_vectors(args.n, args.cache)
    log(f"{len(vecs):,} vectors, {len(queries)} queries")
    truth, kth = ground_truth(vecs, queries, args.cache)
    log("ground truth ready")
    vecs = np.load(args.cache / f"ann-vecs-{args.n}.npy", mmap_mode="r")
    res: dict[str, Any] = {"date": dt.date.today().isoformat(), "commit": git_rev(), "n": args.n,
                           "cpus": len(os.sched_getaffinity(0)), "load_start": loadavg(), "configs": []}
    for name in names:
        res["configs"].append(measure(name, vecs, queries, truth, kth, args.cache))
    res["load_end"] = loadavg()
    md = markdown(res)
    if args.out:
        args.out.with_suffix(".json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        args.out.with_suffix(".md").write_text(md, encoding="utf-8")
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
