"""§1 of the core benchmark: encoder throughput, batch and one at a time."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from bench.util import Timer, chunks, log, pct

# --------------------------------------------------------------------------- 1. encoders


def load_encoder(name: str) -> tuple[Any | None, float, str | None]:
    from matcher.retrieval.encoders import build_encoder as create_encoder

    log(f"loading encoder {name} …")
    with Timer() as t:
        try:
            enc = create_encoder(name)
        except Exception as exc:  # noqa: BLE001 - reported, the run continues without it
            msg = f"{type(exc).__name__}: {getattr(exc, 'detail', None) or exc}"
            log(f"  could not load {name}: {msg}")
            return None, 0.0, msg
    log(f"  loaded {getattr(enc, 'name', name)} (dim {enc.dim}) in {t.wall:.1f}s")
    return enc, t.wall, None


def bench_encoder(enc: Any, texts: list[str], queries: list[str], *, batch_size: int,
                  repeats: int, budget_s: float) -> tuple[dict[str, Any], np.ndarray]:
    """Batch and single-text throughput of one encoder; returns results and the batch vectors.

    Time-boxed so a slow or busy machine cannot stall the run: 60% of ``budget_s`` for the
    batch runs, 40% for the single-text runs. The first run stops after the chunk (or call)
    that crosses its share; later repeats encode the same number of texts and are skipped when
    the budget is spent. The counts actually used are reported.
    """
    enc.encode_passages(texts[:2])  # warm-up (lazy init, first allocations)
    batch_budget, single_budget = 0.6 * budget_s, 0.4 * budget_s
    batch_runs, cpu_runs, vecs, n_batch = [], [], None, len(texts)
    spent = 0.0
    for r in range(repeats):
        out, done = [], 0
        with Timer() as t:
            for c in chunks(texts[:n_batch], batch_size):
                out.append(enc.encode_passages(list(c)))
                done += len(c)
                if r == 0 and time.perf_counter() - t.w0 > batch_budget / repeats and done < n_batch:
                    break
        n_batch = done
        spent += t.wall
        batch_runs.append(done / t.wall)
        cpu_runs.append(t.cpu / done)
        vecs = np.concatenate(out) if vecs is None else vecs
        log(f"  batch repeat {r + 1}/{repeats}: {done} texts in {t.wall:.1f}s "
            f"({batch_runs[-1]:.2f} texts/s)")
        if spent + t.wall > batch_budget and r + 1 < repeats:
            log(f"  skipping further batch repeats (budget {batch_budget:.0f}s)")
            break
    single_runs, per_call, n_single = [], [], len(queries)
    spent = 0.0
    for r in range(repeats):
        calls: list[float] = []
        with Timer() as t:
            for q in queries[:n_single]:
                t1 = time.perf_counter()
                enc.encode_queries([q])
                calls.append(time.perf_counter() - t1)
                if r == 0 and time.perf_counter() - t.w0 > single_budget / repeats and len(calls) < n_single:
                    break
        n_single = len(calls)
        spent += t.wall
        single_runs.append(n_single / t.wall)
        per_call.extend(calls)
        log(f"  single repeat {r + 1}/{repeats}: {n_single} calls in {t.wall:.1f}s")
        if spent + t.wall > single_budget and r + 1 < repeats:
            break
    res = {
        "name": enc.name, "dim": enc.dim,
        "batch": {"texts": n_batch, "batch_size": batch_size, "repeats": len(batch_runs),
                  "texts_per_s": round(statistics.median(batch_runs), 2),
                  "runs_texts_per_s": [round(x, 2) for x in batch_runs],
                  "cpu_ms_per_text": round(1000 * statistics.median(cpu_runs), 2)},
        "single": {"calls": n_single, "repeats": len(single_runs),
                   "texts_per_s": round(statistics.median(single_runs), 2),
                   "runs_texts_per_s": [round(x, 2) for x in single_runs],
                   "latency_ms": pct(per_call)},
    }
    assert vecs is not None
    return res, vecs.astype(np.float32)
