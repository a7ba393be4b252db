"""The exact (flat) dense index: two-stage search over a compact fp16 copy vs the full
IndexFlatIP scan, in this process on one OpenMP thread, on the same index object.

Datasets: the static-e5 vectors of generated postings (`bench_speed.ann_vectors`, cached in
/work/var/ann; 10^5 is a slice of the 10^6) with their 500 seeker queries, and the saved 10^5
demand index of the route store (read only) queried by the stored talent vectors. For every
query the two-stage result (ids, float32 scores, order) is checked identical to the full scan.
Reports CPU ms and wall ms per query (process_time / perf_counter), queries/s, fallbacks, memory.

    PYTHONPATH=$PWD python bench/bench_flat.py [--sizes 100000 1000000] [--ks 200 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _time(index: Any, queries: np.ndarray, k: int, reps: int) -> tuple[float, float, list]:
    out = []
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(reps):
        for i in range(len(queries)):
            out.append(index.search(queries[i : i + 1], k))
    c1, w1 = time.process_time(), time.perf_counter()
    n = reps * len(queries)
    return (c1 - c0) / n * 1e3, (w1 - w0) / n * 1e3, out[: len(queries)]


def run(name: str, two: Any, queries: np.ndarray, ks: list[int], reps: int) -> list[dict]:
    from matcher.retrieval.vectorindex.faiss_flat import FaissFlatIndex

    exact = FaissFlatIndex(two.dim, two_stage=False, _index=two._index)  # the same faiss index
    rows = []
    for k in ks:
        for q in queries[:3]:  # warm both
            exact.search(q[None, :], k)
            two.search(q[None, :], k)
        before = two.stats()
        # A/B back to back, twice, alternating, to even out the shared machine's load
        e1 = _time(exact, queries, k, reps)
        t1 = _time(two, queries, k, reps)
        e2 = _time(exact, queries, k, reps)
        t2 = _time(two, queries, k, reps)
        after = two.stats()
        diffs = 0
        for (es, ei), (ts, ti) in zip(e1[2], t1[2], strict=True):
            if not (np.array_equal(es, ts) and np.array_equal(ei, ti)):
                diffs += 1
        nq = (after["two_stage"] - before["two_stage"]) or 1
        fb_bound = after["fallback_bound"] - before["fallback_bound"]
        fb_tie = after["fallback_tie"] - before["fallback_tie"]
        ecpu, ewall = (e1[0] + e2[0]) / 2, (e1[1] + e2[1]) / 2
        tcpu, twall = (t1[0] + t2[0]) / 2, (t1[1] + t2[1]) / 2
        mem = two.memory_bytes()
        rows.append({
            "data": name, "n": len(two), "k": k, "queries": len(queries),
            "exact_cpu_ms": round(ecpu, 3), "exact_wall_ms": round(ewall, 3),
            "two_stage_cpu_ms": round(tcpu, 3), "two_stage_wall_ms": round(twall, 3),
            "exact_qps_cpu": round(1000 / ecpu, 1), "two_stage_qps_cpu": round(1000 / tcpu, 1),
            "speedup_cpu": round(ecpu / tcpu, 2),
            "fallback_bound_pct": round(100 * fb_bound / nq, 2), "fallback_tie_pct": round(100 * fb_tie / nq, 2),
            "results_differing": diffs,
            "vectors_mb": round(mem["vectors"] / 2**20, 1), "compact_mb": round(mem["compact"] / 2**20, 1),
        })
        print(" | ".join(f"{k_}={v}" for k_, v in rows[-1].items()), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--ks", type=int, nargs="+", default=[200, 10])
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--ann", type=Path, default=Path("/work/var/ann"))
    ap.add_argument("--store", type=Path, default=Path("/work/var/route-store"))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()

    import faiss

    from bench.bench_speed import ann_vectors
    from matcher.retrieval.vectorindex import load_index
    from matcher.retrieval.vectorindex.faiss_flat import FaissFlatIndex

    faiss.omp_set_num_threads(1)
    rows: list[dict] = []
    builds: dict[str, float] = {}
    vecs, queries = ann_vectors(max(args.sizes), args.ann)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    for n in args.sizes:
        index = FaissFlatIndex(vecs.shape[1], two_stage=False)
        index.add(np.arange(n), np.ascontiguousarray(vecs[:n]))
        t = time.perf_counter()
        index = FaissFlatIndex(vecs.shape[1], _index=index._index)  # builds the compact copy
        builds[f"postings-{n}"] = round(time.perf_counter() - t, 3)
        rows += run("static-e5 postings", index, queries, args.ks, args.reps)
        del index
    if (args.store / "indexes" / "demand" / "manifest.json").exists():
        t = time.perf_counter()
        demand, _ = load_index(args.store / "indexes" / "demand")  # an old saved flat index
        builds["route-store load"] = round(time.perf_counter() - t, 3)
        talent, _ = load_index(args.store / "indexes" / "talent")
        tids = np.sort(talent.ids())[:: max(1, len(talent) // 500)][:500]
        tq = np.ascontiguousarray(talent.get(tids), dtype=np.float32)
        rows += run("route-store demand, talent queries", demand, tq, args.ks, args.reps)
    stamp = dt.date.today().isoformat()
    meta = {"date": stamp, "cpus": os.cpu_count(), "load": os.getloadavg(), "omp_threads": 1,
            "compact_build_s": builds, "rows": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"flat-{stamp}.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    cols = ["data", "n", "k", "exact_cpu_ms", "two_stage_cpu_ms", "speedup_cpu", "exact_wall_ms",
            "two_stage_wall_ms", "fallback_bound_pct", "fallback_tie_pct", "results_differing",
            "vectors_mb", "compact_mb"]
    lines = [f"# Flat index: two-stage (fp16 scan + exact re-score + bound) vs full IndexFlatIP ({stamp})", "",
             f"One OpenMP thread, in process, one query per search; load average at the end {os.getloadavg()[0]:.2f} "
             f"on {os.cpu_count()} cores (shared). Compact copy build/load: {builds}.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    (args.out / f"flat-{stamp}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
