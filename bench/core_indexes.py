"""§2 of the core benchmark: index build time, memory, search latency and HNSW recall."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.util import DIM, Timer, dir_bytes, log, pct, rss_mb, trim_heap

# --------------------------------------------------------------------------- 2. indexes


REPEAT_BUILDS_UP_TO = {"flat": 100_000, "hnsw": 10_000}  # larger builds run once


def bench_indexes(vecs: np.ndarray, queries: np.ndarray, sizes: list[int], *, m: int,
                  ef_search: int, ef_sweep: list[int], tmp: Path, repeats: int = 3,
                  hnsw_max: int | None = None) -> list[dict[str, Any]]:
    """Build, memory, search latency and recall of faiss flat and HNSW at each size.

    Builds are repeated ``repeats`` times up to ``REPEAT_BUILDS_UP_TO`` (median reported);
    HNSW is skipped above ``hnsw_max`` (if given).
    """
    from matcher.retrieval.vectorindex import create_index

    rows = []
    for n in sizes:
        x = vecs[:n]
        ids = np.arange(1, n + 1, dtype=np.int64)
        truth = None
        for kind in ("flat", "hnsw"):
            if kind == "hnsw" and hnsw_max is not None and n > hnsw_max:
                log(f"index: hnsw over {n:,} vectors skipped (--hnsw-max {hnsw_max:,})")
                continue
            reps = repeats if n <= REPEAT_BUILDS_UP_TO[kind] else 1
            runs: list[tuple[float, float, float]] = []
            for rep in range(reps):
                idx = None
                trim_heap()
                log(f"index: {kind} build over {n:,} vectors ({rep + 1}/{reps}) …")
                r0 = rss_mb()
                idx = create_index("faiss", DIM, kind, hnsw_m=m, ef_search=ef_search)
                with Timer() as t:
                    idx.add(ids, x)
                runs.append((t.wall, t.cpu, rss_mb() - r0))
                log(f"  built in {t.wall:.1f}s (cpu {t.cpu:.1f}s)")
                if rep + 1 < reps:
                    del idx
            assert idx is not None
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            d = tmp / f"idx-{kind}-{n}"
            with Timer() as ts:
                idx.save(d)
            size = dir_bytes(d)
            row: dict[str, Any] = {
                "n": n, "kind": kind, "params": ({"M": m, "efConstruction": idx.ef_construction}
                                                 if kind == "hnsw" else {}),
                "build_s": round(wall, 3), "build_cpu_s": round(cpu, 3), "build_repeats": reps,
                "build_runs_s": [round(r[0], 3) for r in runs],
                "vectors_per_s": round(n / wall, 1),
                "rss_delta_mb": round(runs[-1][2], 1), "serialized_mb": round(size / 2**20, 2),
                "bytes_per_vector": round(size / n, 1),
                "raw_vectors_mb": round(x.nbytes / 2**20, 2), "save_s": round(ts.wall, 3),
            }
            log(f"  median build {wall:.1f}s over {reps} run(s), {size / 2**20:.1f} MiB on disk")
            if kind == "flat":
                _, truth = idx.search(queries, 10)
                lat = []
                for q in queries:
                    t1 = time.perf_counter()
                    idx.search(q[None, :], 10)
                    lat.append(time.perf_counter() - t1)
                row["search_ms_k10"] = pct(lat)
                row["recall_at_10"] = 1.0
            else:
                sweep = []
                for ef in sorted(set(ef_sweep) | {ef_search}):
                    idx.ef_search = ef
                    lat, hits = [], 0
                    for qi, q in enumerate(queries):
                        t1 = time.perf_counter()
                        _, got = idx.search(q[None, :], 10)
                        lat.append(time.perf_counter() - t1)
                        hits += len(set(got[0].tolist()) & set(truth[qi].tolist()))
                    sweep.append({"ef_search": ef, "recall_at_10": round(hits / (10 * len(queries)), 4),
                                  "search_ms_k10": pct(lat)})
                idx.ef_search = ef_search
                row["ef_sweep"] = sweep
                default = next(s for s in sweep if s["ef_search"] == ef_search)
                row["recall_at_10"] = default["recall_at_10"]
                row["search_ms_k10"] = default["search_ms_k10"]
                log(f"  recall@10 at efSearch={ef_search}: {row['recall_at_10']:.4f}")
            rows.append(row)
            del idx
    return rows
