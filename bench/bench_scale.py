#!/usr/bin/env python
"""Scale benchmark of the batch re-match on Ray: 1 vs 2 workers on this machine, plus the
index-memory plan for 10^7 × 384 (IVF-PQ with exact re-scoring), measured.

A measurement script, not a test: it never asserts on timings. It prints a markdown report on
stdout (progress on stderr) and writes ``bench/results/scale-latest.{json,md}`` (and a dated
copy; ``--quick`` writes ``scale-quick-*``).

Usage::

    python -m bench.bench_scale                     # 100,000 profiles × 10,000 posts (see --help)
    python -m bench.bench_scale --quick             # 3,000 × 600 smoke run
    python -m bench.bench_scale --talents 20000 --posts 2000 --ivf-n 200000

What is real and what is synthetic:

- **records**: the SYNTHETIC demo data (``data/demo``): up to ``--distinct`` profiles and every
  post are stored through the service (occupation coding, encoding, indexing), then the
  searchable rows of each side are copied in the database up to ``--talents`` / ``--posts``
  (the copies have their own ids; a copy's top-k costs what its original's does);
- **vectors**: the deterministic ``fake`` encoder (384 dims), so no model runs;
- **re-match**: the REAL job (``matcher.batch.rematch``) on a local Ray of 1, then 2 workers,
  over an SQLite file; the same run in process (``--local`` path) for reference;
- **index plan**: faiss IVF-PQ over synthetic vectors shaped by the demo data's real e5
  vectors (centres plus covariance-shaped noise), recall@10 after exact re-scoring against
  exact search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.util import ROOT, fmt, git_rev, loadavg, log, rss_mb

RESULTS = ROOT / "bench" / "results"


# --------------------------------------------------------------------------- memory sampling


class RssSampler:
    """Peak resident memory of this process and of every Ray ``ShardWorker`` process, sampled."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.driver_peak = 0.0
        self.worker_peak: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.driver_peak = max(self.driver_peak, rss_mb())
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    if not (entry / "cmdline").read_bytes().startswith(b"ray::ShardWorker"):
                        continue
                    for line in (entry / "status").read_text().splitlines():
                        if line.startswith("VmRSS:"):
                            pid = int(entry.name)
                            self.worker_peak[pid] = max(self.worker_peak.get(pid, 0.0), int(line.split()[1]) / 1024)
                except OSError:
                    continue
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- setup


def setup(data_dir: Path, talents: int, posts: int, distinct: int, seed: int) -> tuple[Any, dict[str, Any]]:
    """The demo data's records (up to ``distinct`` profiles) stored through the service, then
    the searchable rows of each side copied in the database up to the asked counts."""
    from sqlalchemy import func, insert, select

    from matcher.core.settings import Settings
    from matcher.domain.schemas import DemandEntry, TalentProfile
    from matcher.retrieval.indexes import SEARCHABLE
    from matcher.storage.tables import DemandRow, TalentRow
    from matcher.wiring import build_service

    out: dict[str, Any] = {}
    demo = ROOT / "data" / "demo"

    def rows(name: str, n: int) -> list[dict[str, Any]]:
        return [json.loads(x) for x in (demo / name).read_text(encoding="utf-8").splitlines()[:n] if x.strip()]

    entries = [DemandEntry.model_validate({k: v for k, v in r.items() if k != "enterprise_id"})
               for r in rows("demands.jsonl", posts)]
    profiles = [TalentProfile.model_validate(r) for r in rows("talents.jsonl", min(distinct, talents))]
    settings = Settings(data_dir=data_dir, reference_dir=ROOT / "data", encoder="fake", encoder_model="384")
    svc = build_service(settings)
    t0 = time.perf_counter()
    for start in range(0, len(entries), 1000):
        svc.add("demand", entries[start : start + 1000])
    for start in range(0, len(profiles), 1000):
        svc.add("talent", profiles[start : start + 1000])
    out["store_distinct_s"] = round(time.perf_counter() - t0, 2)
    out["distinct_talents"], out["distinct_posts"] = len(profiles), len(entries)
    log(f"stored {len(profiles)} profiles and {len(entries)} posts in {out['store_distinct_s']}s")
    t0 = time.perf_counter()
    for row_cls, kind, target in ((TalentRow, "talent", talents), (DemandRow, "demand", posts)):
        columns = [c for c in row_cls.__table__.columns if c.name != "id"]
        searchable = row_cls.status == SEARCHABLE[kind]
        while True:
            with svc.store.session() as s:
                have = s.scalar(select(func.count(row_cls.id)).where(searchable))
                if have >= target or have == 0:
                    break
                src = select(*columns).where(searchable).order_by(row_cls.id).limit(min(target - have, have, 20_000))
                batch = [dict(r._mapping) | {"external_id": None, "external_owner": None} for r in s.execute(src)]
                s.execute(insert(row_cls), batch)
    out["copy_s"] = round(time.perf_counter() - t0, 2)
    out["talents"] = len(svc.store.text_hashes("talent", status=SEARCHABLE["talent"]))
    out["posts"] = len(svc.store.text_hashes("demand", status=SEARCHABLE["demand"]))
    log(f"copied rows up to {out['talents']} active profiles, {out['posts']} open posts in {out['copy_s']}s")
    t0 = time.perf_counter()
    svc.ensure_index("talent")
    svc.ensure_index("demand")
    out["index_s"] = round(time.perf_counter() - t0, 2)
    log(f"indexed both sides in {out['index_s']}s")
    return svc, out


# --------------------------------------------------------------------------- runs


def run_rematch(svc: Any, params: Any, executor: str, workers: int) -> dict[str, Any]:
    from matcher.batch.rematch import make_plan, rematch

    t0 = time.perf_counter()
    plan = make_plan(svc, params)
    plan_s = time.perf_counter() - t0
    del plan
    la0 = loadavg()
    with RssSampler() as mem:
        t0 = time.perf_counter()
        info = rematch(svc, params, executor=executor, workers=workers)
        wall = time.perf_counter() - t0
    queries = info.stats["talents"] * ("talent" in params.sides) + info.stats["demands"] * ("demand" in params.sides)
    scored = info.stats["talents"] * min(params.pool, info.stats["demands"]) * ("talent" in params.sides) + \
        info.stats["demands"] * min(params.pool, info.stats["talents"]) * ("demand" in params.sides)
    out = {"executor": executor, "workers": workers, "run_id": info.id, "wall_s": round(wall, 2),
           "plan_s": round(plan_s, 2), "shard_pass_s": info.stats["last_pass_seconds"], "shards": info.shards,
           "rows": info.rows, "queries": queries, "pairs_scored": scored,
           "queries_per_s": round(queries / wall, 1), "pairs_per_s": round(scored / wall, 1),
           "driver_peak_rss_mb": round(mem.driver_peak, 1),
           "worker_peak_rss_mb": sorted(round(v, 1) for v in mem.worker_peak.values()),
           "loadavg_before": la0, "loadavg_after": loadavg()}
    log(f"{executor} ×{workers}: {out['wall_s']}s, {out['queries_per_s']} queries/s, {out['pairs_per_s']} pairs/s")
    return out


# --------------------------------------------------------------------------- index plan


def index_plan(n: int, queries: int, seed: int) -> dict[str, Any]:
    """IVF-PQ (48 bytes a vector) with exact re-scoring of the top candidates, against exact
    search, on vectors shaped by the demo data's real e5 vectors."""
    import faiss

    with np.load(ROOT / "data" / "demo" / "vectors-e5-small-q4.npz") as d:
        bases = d["vectors"].astype(np.float32)
    bases /= np.linalg.norm(bases, axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    centred = bases - bases.mean(0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    proj = ((s / np.sqrt(len(bases) - 1))[:, None] * vt).astype(np.float32)

    def sample(m: int) -> np.ndarray:
        x = bases[rng.integers(0, len(bases), m)] + 0.6 * (rng.standard_normal((m, len(proj)), dtype=np.float32) @ proj)
        return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)

    xb, xq = sample(n), sample(queries)
    dim = xb.shape[1]
    flat = faiss.IndexFlatIP(dim)
    flat.add(xb)
    _, truth = flat.search(xq, 10)
    nlist = min(1024, int(4 * np.sqrt(n)))
    m = 48
    out: dict[str, Any] = {"n": n, "queries": queries, "dim": dim, "nlist": nlist, "pq_m": m, "pq_bits": 8,
                           "bytes_per_vector_pq": m, "rows": []}
    t0 = time.perf_counter()
    quant = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFPQ(quant, dim, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
    ivf.train(xb[rng.choice(n, min(n, 30 * nlist), replace=False)])
    ivf.add(xb)
    out["build_s"] = round(time.perf_counter() - t0, 1)
    for nprobe in (8, 32, 64):
        ivf.nprobe = nprobe
        for depth in (10, 100, 400):
            t0 = time.perf_counter()
            _, cand = ivf.search(xq, depth)
            search_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            rescored = []
            for q, c in zip(xq, cand, strict=True):
                c = c[c >= 0]
                sc = xb[c] @ q  # exact re-scoring with the full vectors
                rescored.append(c[np.argsort(-sc)[:10]])
            rescore_s = time.perf_counter() - t0
            recall = float(np.mean([len(set(r.tolist()) & set(t.tolist())) / 10 for r, t in zip(rescored, truth, strict=True)]))
            out["rows"].append({"nprobe": nprobe, "candidates": depth, "recall_at_10": round(recall, 4),
                                "search_ms_per_query": round(1000 * search_s / queries, 3),
                                "rescore_ms_per_query": round(1000 * rescore_s / queries, 3)})
            log(f"IVF-PQ nprobe={nprobe} candidates={depth}: recall@10 {recall:.3f}")
    return out


# --------------------------------------------------------------------------- report


def gemm_gflops() -> float:
    """Measured float32 matrix-product rate of this machine (the cosine step's kernel)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2000, 384), dtype=np.float32)
    b = rng.standard_normal((10000, 384), dtype=np.float32)
    a @ b.T
    t0 = time.perf_counter()
    for _ in range(3):
        a @ b.T
    return 3 * 2 * 2000 * 10000 * 384 / (time.perf_counter() - t0) / 1e9


def estimate(result: dict[str, Any]) -> dict[str, Any]:
    """The 10-node, 10^7-profile estimate from the measured per-worker rates."""
    runs = {r["workers"]: r for r in result["runs"] if r["executor"] == "ray"}
    if 1 not in runs:
        return {}
    one = runs[1]
    per_worker_pairs = one["pairs_scored"] / one["shard_pass_s"]  # includes Ray start and actor set-up
    profiles, posts, pool, top_k = 10_000_000, 1_000_000, result["config"]["pool"], result["config"]["top_k"]
    nodes, cores = 10, 16
    pairs = profiles * pool + posts * pool
    flop = 2 * 2 * profiles * posts * 384  # the cosine matrix, once per side as implemented
    gflops = result["gemm_gflops_per_process"]
    return {"profiles": profiles, "posts": posts, "pool": pool, "nodes": nodes, "cores_per_node": cores,
            "measured_pairs_per_s_per_worker": round(per_worker_pairs, 1), "pairs": pairs,
            "scoring_hours": round(pairs / (per_worker_pairs * nodes * cores) / 3600, 2),
            "cosine_pflop": round(flop / 1e15, 1), "gemm_gflops_per_process": round(gflops, 1),
            "cosine_hours": round(flop / (gflops * 1e9 * nodes * cores / 2) / 3600, 2),
            "vectors_gb": {"profiles": round(profiles * 384 * 4 / 1e9, 1), "posts": round(posts * 384 * 4 / 1e9, 2)},
            "rows_written": (profiles + posts) * top_k}


def markdown(result: dict[str, Any]) -> str:
    c, s = result["config"], result["setup"]
    lines = [f"# Scale benchmark: batch re-match on Ray ({result['date']})", "",
             f"Machine: {result['machine']['cpus']} CPUs (shared with other work: load averages below), "
             f"Python {result['machine']['python']}, git {result['git']}.", "",
             f"Data: {s['talents']} active profiles × {s['posts']} open posts (SYNTHETIC; {c['distinct']} distinct "
             f"profiles and {s['distinct_posts']} posts of the demo data stored through the service, copied in the database); fake encoder, "
             f"384 dims; SQLite file. Job: top-{c['top_k']} both ways, {c['pool']} candidates by cosine per "
             f"record, shards of {c['shard_size']}.", "",
             f"Setup: store {s['distinct_talents']} + {s['distinct_posts']} distinct records {s['store_distinct_s']} s, copy "
             f"{s['copy_s']} s, index {s['index_s']} s.", "",
             "| run | workers | wall s | plan s | shards | rows | queries/s | pairs scored/s | driver peak RSS MiB | worker peak RSS MiB | load avg before → after |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        lines.append(f"| {r['executor']} | {r['workers']} | {r['wall_s']} | {r['plan_s']} | {r['shards']} | {r['rows']} | "
                     f"{fmt(r['queries_per_s'])} | {fmt(r['pairs_per_s'])} | {r['driver_peak_rss_mb']} | "
                     f"{', '.join(str(x) for x in r['worker_peak_rss_mb']) or '—'} | {r['loadavg_before'][0]} → {r['loadavg_after'][0]} |")
    ray_runs = {r["workers"]: r for r in result["runs"] if r["executor"] == "ray"}
    if 1 in ray_runs and 2 in ray_runs:
        lines += ["", f"Speed-up 1 → 2 workers (wall): {ray_runs[1]['wall_s'] / ray_runs[2]['wall_s']:.2f}× "
                      f"(shard pass only: {ray_runs[1]['shard_pass_s'] / ray_runs[2]['shard_pass_s']:.2f}×)."]
    identical = result.get("identical_results")
    if identical is not None:
        lines += ["", f"Stored top-k identical across the runs: **{identical}**."]
    ip = result.get("index_plan")
    if ip:
        lines += ["", f"## Index plan: IVF-PQ with exact re-scoring ({ip['n']} vectors, {ip['queries']} queries)", "",
                  f"nlist {ip['nlist']}, PQ {ip['pq_m']}×8 bits = {ip['bytes_per_vector_pq']} bytes a vector "
                  f"(float32: {ip['dim'] * 4}); build {ip['build_s']} s. Recall@10 against exact inner-product search "
                  "after re-scoring the candidates with the full vectors:", "",
                  "| nprobe | candidates re-scored | recall@10 | search ms/query | re-score ms/query |", "|---|---|---|---|---|"]
        for r in ip["rows"]:
            lines.append(f"| {r['nprobe']} | {r['candidates']} | {r['recall_at_10']} | {r['search_ms_per_query']} | "
                         f"{r['rescore_ms_per_query']} |")
    est = result.get("estimate")
    if est:
        stages = {"scoring": est["scoring_hours"], "cosine candidates (exact products)": est["cosine_hours"]}
        bound = max(stages, key=stages.get)
        lines += ["", f"## Estimate: {est['nodes']} nodes × {est['cores_per_node']} cores, 10^7 profiles × 10^6 posts", "",
                  "From the rates measured above, scaled linearly (shards are independent; the database and the "
                  "network are the shared parts). Both rates were measured on this shared machine under the load "
                  "shown (several processes per core), so a dedicated core does better: read the hours as upper "
                  "bounds.", "",
                  f"- Scoring: {est['pairs']:.2e} scored pairs (both ways, {est['pool']} candidates each) at "
                  f"{fmt(est['measured_pairs_per_s_per_worker'])} pairs/s per worker × "
                  f"{est['nodes'] * est['cores_per_node']} workers ≈ {est['scoring_hours']} h.",
                  f"- Cosine candidates: exact products are {est['cosine_pflop']} PFLOP (profiles × posts × 384 × 2, "
                  f"once per side); at the measured {est['gemm_gflops_per_process']} GFLOP/s per 2-core process ≈ "
                  f"{est['cosine_hours']} h on {est['nodes'] * est['cores_per_node']} cores.",
                  f"- **What bounds it: {bound}** ({max(stages.values())} h). Exact products grow as profiles × posts "
                  "while scoring grows as (profiles + posts) × pool, so past ~10^5 posts the candidate step should "
                  "search an IVF-PQ index (below: 100 candidates re-scored exactly keep recall@10 ≈ 0.99) instead "
                  "of multiplying every pair; with 10^5 posts the products take a tenth of the time above.",
                  f"- Writes: {est['rows_written']:.1e} rows (≈ 60 bytes each, ≈ {est['rows_written'] * 60 / 1e9:.0f} GB "
                  "with indexes ×2) in one bulk insert per shard; PostgreSQL takes ~10^5 rows/s per writer, so "
                  "160 writers are bounded by the server's WAL, roughly 10–30 min, overlapping the scoring.",
                  f"- Memory per worker: the post matrix ({est['vectors_gb']['posts']} GB float32) read-only from "
                  "the node's object store (shared by the node's workers), the post records (≈ 1 KB each as "
                  "Python objects: ≈ 1 GB), one shard of profiles. The per-post side as implemented also "
                  f"broadcasts the profile matrix ({est['vectors_gb']['profiles']} GB): at 10^7 it should be "
                  "replaced by per-shard top lists per post merged in a second pass (or IVF-PQ: 10^7 × 48 B = "
                  "0.5 GB of codes, plus the full vectors on disk for re-scoring).",
                  "- Network: the broadcast matrices once per node (1.5 GB posts; + 15.4 GB profiles as "
                  "implemented), each shard's records from PostgreSQL (≈ 2 KB a record: 20 GB in all), the rows "
                  "back (≈ 7 GB)."]
        lines += ["", "The IVF-PQ vectors are synthetic (real e5 demo vectors as centres plus covariance-shaped "
                      "noise): neighbours cluster more than real postings may, so measure again on real vectors "
                      "before choosing nlist and nprobe."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--talents", type=int, default=100_000)
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--distinct", type=int, default=2_600, help="profiles stored through the service before copying")
    ap.add_argument("--pool", type=int, default=20)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--shard-size", type=int, default=2_000)
    ap.add_argument("--ivf-n", type=int, default=100_000, help="vectors of the IVF-PQ recall measurement (0: skip)")
    ap.add_argument("--no-local", action="store_true", help="skip the in-process reference run")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--report-only", type=Path, help="re-render the report of a saved result JSON (no measuring)")
    a = ap.parse_args(argv)
    if a.report_only:
        result = json.loads(a.report_only.read_text(encoding="utf-8"))
        result["estimate"] = estimate(result)
        md = markdown(result)
        print(md)
        a.report_only.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        a.report_only.with_suffix(".md").write_text(md, encoding="utf-8")
        return 0
    if a.quick:
        a.talents, a.posts, a.distinct, a.shard_size, a.ivf_n = 3_000, 600, 1_000, 500, 10_000
    from matcher.batch.rematch import RematchParams
    from matcher.storage.batch_repo import BatchRepo

    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(), "git": git_rev(),
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "config": {"talents": a.talents, "posts": a.posts, "distinct": a.distinct, "pool": a.pool, "top_k": a.top_k,
                   "shard_size": a.shard_size, "quick": a.quick}, "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        svc, result["setup"] = setup(Path(tmp), a.talents, a.posts, a.distinct, a.seed)
        params = RematchParams(top_k=a.top_k, pool=a.pool, shard_size=a.shard_size)
        for workers in (1, 2):
            result["runs"].append(run_rematch(svc, params, "ray", workers))
        if not a.no_local:
            result["runs"].append(run_rematch(svc, params, "local", 1))
        repo = BatchRepo(svc.store)
        first = repo.all_matches(result["runs"][0]["run_id"])
        result["identical_results"] = all(repo.all_matches(r["run_id"]) == first for r in result["runs"][1:])
        svc.close()
    if a.ivf_n:
        result["index_plan"] = index_plan(a.ivf_n, 500, a.seed)
    result["gemm_gflops_per_process"] = round(gemm_gflops(), 1)
    result["estimate"] = estimate(result)
    md = markdown(result)
    print(md)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "scale-quick" if a.quick else "scale"
    for name in (f"{stem}-{result['date']}", f"{stem}-latest"):
        (RESULTS / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        (RESULTS / f"{name}.md").write_text(md, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
