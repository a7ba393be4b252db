"""§3 of the core benchmark: end-to-end latency through MatchService over synthetic entries."""

from __future__ import annotations

import cProfile
import gc
import io
import pstats
import random
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import JobCorpus
from bench.synthetic import SyntheticVectors
from bench.util import (
    ROOT,
    Accum,
    Timer,
    dir_bytes,
    log,
    patched,
    pct,
    rss_mb,
    trim_heap,
)

# --------------------------------------------------------------------------- 3. end to end


def bulk_insert_demands(store: Any, records: Sequence[Any]) -> None:
    """Write prepared demand records with one executemany per chunk (bench set-up only).

    Produces the same rows as ``Store.add`` (same column helpers), but without its per-row
    flush, which makes ``Store.add`` too slow to load 100,000 rows within the time budget.
    """
    from sqlalchemy import insert, select

    from matcher.storage.records import common_columns, demand_columns
    from matcher.storage.tables import DemandRow, EnterpriseRow

    names = sorted({r.model.enterprise_name for r in records if r.model.enterprise_name})
    with store.session() as s:
        have = dict(s.execute(select(EnterpriseRow.name, EnterpriseRow.id)).all())
        new = [n for n in names if n not in have]
        if new:
            s.execute(insert(EnterpriseRow), [{"name": n, "description": ""} for n in new])
            have = dict(s.execute(select(EnterpriseRow.name, EnterpriseRow.id)).all())
        rows = []
        for rec in records:
            m = rec.model.model_copy(update={"enterprise_id": have.get(rec.model.enterprise_name)})
            rows.append({**common_columns(m, rec.text, rec.text_hash, rec.province), **demand_columns(m)})
        s.execute(insert(DemandRow), rows)


def bulk_put_vectors(store: Any, model: str, items: dict[str, np.ndarray]) -> None:
    """Embedding-cache rows in one executemany (bench set-up only; SQLite ``OR IGNORE``)."""
    from sqlalchemy import insert

    from matcher.storage.tables import EmbeddingRow
    from matcher.storage.vectors import pack

    with store.session() as s:
        s.execute(insert(EmbeddingRow).prefix_with("OR IGNORE"),
                  [{"model": model, "text_hash": h, "dim": int(v.shape[0]), "vector": pack(v)}
                   for h, v in items.items()])


def populate(svc: Any, n: int, *, corpus: JobCorpus, gen: SyntheticVectors, n_talents: int,
             store_add_rows: int = 2000) -> tuple[dict[str, Any], list[int]]:
    """Store N synthetic demand entries and ``n_talents`` consenting talents in a service's
    store, with their SYNTHETIC vectors pre-filled in the embedding cache (nothing is encoded).

    Returns the set-up timings and the talent ids. Shared by §3 and ``bench_api.py``.
    """
    from matcher.domain.schemas import DemandEntry, TalentProfile
    from models.encoders import text_hash

    log(f"e2e[{n:,}]: generating and storing {n:,} demand entries …")
    r = random.Random(n)
    arche = [r.randrange(len(corpus.archetypes)) for _ in range(n)]
    t_gen = t_prep = t_add = t_bulk = t_cache = t_cache_bulk = 0.0
    n_add = n_put = 0
    step = 5000
    for s in range(0, n, step):
        with Timer() as t:
            raw = [(a, corpus.demand(a, r)) for a in arche[s : s + step]]
            models = [DemandEntry.model_validate(d) for _, d in raw]
        t_gen += t.wall
        with Timer() as t:
            records = svc.preparer.prepare_many("demand", models)  # what service.add does before writing
        t_prep += t.wall
        # the first `store_add_rows` rows go through the public Store.add (measured), the rest
        # through an executemany with the same columns (Store.add flushes once per row)
        k = max(0, min(len(records), store_add_rows - n_add))
        if k:
            with Timer() as t:
                svc.store.add("demand", records[:k])
            t_add += t.wall
            n_add += k
        if k < len(records):
            with Timer() as t:
                bulk_insert_demands(svc.store, records[k:])
            t_bulk += t.wall
        vecs = gen.vectors(raw)
        uniq = {text_hash("p:" + rec.text): v for rec, v in zip(records, vecs, strict=True)}
        if n_put < store_add_rows:  # the public put_many_vectors for the first chunk (measured)
            with Timer() as t:
                svc.store.put_many_vectors(svc.cached.name, uniq)
            t_cache += t.wall
            n_put += len(uniq)
        else:
            with Timer() as t:
                bulk_put_vectors(svc.store, svc.cached.name, uniq)
            t_cache_bulk += t.wall
        if (s // step) % 4 == 3:
            log(f"  {s + len(records):,}/{n:,} stored")
    # talents for match_talent: stored through the same path, vectors pre-cached
    tr = random.Random(n + 1)
    t_arche = [tr.randrange(len(corpus.archetypes)) for _ in range(n_talents)]
    traw = [(a, corpus.talent(a, tr)) for a in t_arche]
    talents = [TalentProfile.model_validate(d) for _, d in traw]
    trecs = svc.preparer.prepare_many("talent", talents)
    tvecs = gen.talent_vectors(traw)
    svc.store.put_many_vectors(svc.cached.name, {text_hash("p:" + rec.text): v
                                                 for rec, v in zip(trecs, tvecs, strict=True)})
    talent_ids = svc.store.add("talent", trecs)
    populate_s = {"generate_models": round(t_gen, 2), "prepare_records": round(t_prep, 2),
                  "prepare_records_per_s": round(n / t_prep, 1) if t_prep else None,
                  "store_add": round(t_add, 2), "store_add_rows": n_add,
                  "store_add_rows_per_s": round(n_add / t_add, 1) if t_add else None,
                  "bulk_insert": round(t_bulk, 2), "bulk_insert_rows": n - n_add,
                  "bulk_insert_rows_per_s": round((n - n_add) / t_bulk, 1) if t_bulk else None,
                  "put_many_vectors": round(t_cache, 2), "put_many_vectors_rows": n_put,
                  "put_many_vectors_rows_per_s": round(n_put / t_cache, 1) if t_cache else None,
                  "bulk_vectors": round(t_cache_bulk, 2)}
    return populate_s, talent_ids


def bench_e2e(n: int, *, corpus: JobCorpus, gen: SyntheticVectors, encoder: Any, real_query_enc: bool,
              queries: list[str], qvecs: np.ndarray, n_talents: int, tmp: Path, restart_max: int,
              profile: bool, store_add_rows: int = 2000, api: dict[str, Any] | None = None) -> dict[str, Any]:
    import matcher.retrieval.vectorindex as vi
    from matcher.core.settings import Settings
    from matcher.core.textnorm import normalize_text
    from matcher.wiring import build_service

    out: dict[str, Any] = {"n": n}
    data_dir = tmp / f"e2e-{n}"
    settings = Settings(data_dir=data_dir, reference_dir=ROOT / "data")
    trim_heap()
    rss0 = rss_mb()
    svc = build_service(settings, encoder=encoder)
    tokenize = svc.tokenizer.tokenize  # the service's own tokenizer (its domain words registered)
    svc.load_chain_registries()
    out["settings"] = {"index_backend": settings.index_backend, "index_kind": settings.index_kind,
                       "hnsw_threshold": settings.hnsw_threshold, "hnsw_m": settings.hnsw_m,
                       "hnsw_ef_search": settings.hnsw_ef_search,
                       "candidate_pool": settings.candidate_pool, "fusion": settings.fusion}

    # -- populate: N demand entries, their (synthetic) vectors in the embedding cache --------
    out["populate_s"], talent_ids = populate(svc, n, corpus=corpus, gen=gen, n_talents=n_talents,
                                             store_add_rows=store_add_rows)
    db_file = data_dir / "talentmatch.db"
    out["db_mb"] = round(dir_bytes(data_dir) / 2**20, 1) if db_file.exists() else None
    ps = out["populate_s"]
    log(f"  Store.add {ps['store_add_rows']:,} rows {ps['store_add']:.1f}s, bulk {ps['bulk_insert_rows']:,} rows "
        f"{ps['bulk_insert']:.1f}s (prepare {ps['prepare_records']:.1f}s, "
        f"cache fill {ps['put_many_vectors'] + ps['bulk_vectors']:.1f}s)")

    # -- sync: build the indexes from the database with cached vectors -------------------
    log(f"e2e[{n:,}]: service.sync('demand') …")
    acc = Accum()
    encoded_before = svc.cached.encoded
    with patched(svc.tokenizer, "tokenize", acc.wrap("tokenize (jieba)", svc.tokenizer.tokenize)), \
            patched(svc.cached, "passages", acc.wrap("vector cache read", svc.cached.passages)), \
            patched(vi.VectorIndex, "add", acc.wrap("dense index add", vi.VectorIndex.add)), \
            patched(svc.indexes, "save", acc.wrap("save index", svc.indexes.save)), \
            patched(svc.store, "texts", acc.wrap("db read texts", svc.store.texts)), \
            patched(svc.store, "text_hashes", acc.wrap("db read hashes", svc.store.text_hashes)), \
            Timer() as t:
        counts = svc.sync("demand")
    side = svc.ensure_index("demand")
    trim_heap()
    parts = {k: round(v, 2) for k, v in acc.seconds.items()}
    parts["other"] = round(t.wall - sum(acc.seconds.values()), 2)
    out["sync"] = {"s": round(t.wall, 2), "cpu_s": round(t.cpu, 2), "indexed": counts.get("demand"),
                   "index_kind": side.dense.kind, "breakdown_s": parts,
                   "texts_encoded_during_sync": svc.cached.encoded - encoded_before,
                   "index_dir_mb": round(dir_bytes(settings.index_dir()) / 2**20, 1)}
    log(f"  sync {t.wall:.1f}s ({side.dense.kind}); breakdown {parts}")
    with Timer() as t:
        side.lexical.search(tokenize("数据分析 Python"), 10)
    out["first_bm25_build_s"] = round(t.wall, 2)
    out["rss_after_sync_mb"] = round(rss_mb(), 1)
    out["rss_delta_mb"] = round(rss_mb() - rss0, 1)
    log(f"  first BM25 build {t.wall:.1f}s; RSS +{out['rss_delta_mb']:.0f} MiB")

    # -- latencies ------------------------------------------------------------------------------
    pool = max(settings.candidate_pool, 10 * 5)
    log(f"e2e[{n:,}]: {len(queries)} queries (warm-up first) …")
    for q in queries[:5]:
        svc.match_text(q, "demands", top_k=10)
    for tid in talent_ids[:5]:
        svc.match_talent(tid, top_k=10)
    lat: dict[str, list[float]] = {k: [] for k in (
        "faiss", "tokenize", "bm25", "get_many", "match_text", "encode_in_match_text",
        "match_text_excl_encode", "match_talent")}
    enc_calls: list[tuple[float, float]] = []
    plain_query = svc.cached.query

    def timed_query(text: str) -> np.ndarray:  # the encode inside match_text, timed
        t1, c1 = time.perf_counter(), time.process_time()
        try:
            return plain_query(text)
        finally:
            enc_calls.append((time.perf_counter() - t1, time.process_time() - c1))

    # process CPU time of the single-threaded Python parts is robust to a busy machine
    cpu: dict[str, list[float]] = {"match_text_excl_encode": [], "get_many": [], "match_talent": []}
    results_n = []
    with patched(svc.cached, "query", timed_query):
        for q, v in zip(queries, qvecs, strict=True):
            t1, c1 = time.perf_counter(), time.process_time()
            res = svc.match_text(q, "demands", top_k=10)
            full, full_cpu = time.perf_counter() - t1, time.process_time() - c1
            lat["match_text"].append(full)
            lat["encode_in_match_text"].append(enc_calls[-1][0])
            lat["match_text_excl_encode"].append(full - enc_calls[-1][0])
            cpu["match_text_excl_encode"].append(full_cpu - enc_calls[-1][1])
            results_n.append(len(res))
            t1 = time.perf_counter()
            _, ids = side.dense.search(v[None, :].astype(np.float32), pool)
            lat["faiss"].append(time.perf_counter() - t1)
            t1 = time.perf_counter()
            toks = tokenize(normalize_text(q))
            lat["tokenize"].append(time.perf_counter() - t1)
            t1 = time.perf_counter()
            side.lexical.search(toks, pool)
            lat["bm25"].append(time.perf_counter() - t1)
            t1, c1 = time.perf_counter(), time.process_time()
            svc.store.get_many("demand", [int(i) for i in ids[0] if i >= 0])
            lat["get_many"].append(time.perf_counter() - t1)
            cpu["get_many"].append(time.process_time() - c1)
    for i in range(len(queries)):
        tid = talent_ids[i % len(talent_ids)]
        t1, c1 = time.perf_counter(), time.process_time()
        svc.match_talent(tid, top_k=10)
        lat["match_talent"].append(time.perf_counter() - t1)
        cpu["match_talent"].append(time.process_time() - c1)
    out["latency_ms"] = {k: pct(v) for k, v in lat.items()}
    out["cpu_ms"] = {k: pct(v) for k, v in cpu.items()}
    out["match_text_includes_real_query_encode"] = real_query_enc
    out["mean_results_per_query"] = round(float(np.mean(results_n)), 2)
    log(f"  match_text p50 {out['latency_ms']['match_text']['p50']:.1f} ms, "
        f"match_talent p50 {out['latency_ms']['match_talent']['p50']:.1f} ms")

    if profile:
        out["hotspots"] = profile_hot_path(svc, queries[:20], talent_ids[:20])

    svc.close()
    del svc, side
    gc.collect()

    # -- through the HTTP API: a server process and a load-generator process ---------------
    if api is not None:
        from bench.bench_api import run_api_bench

        try:
            out["api"] = run_api_bench(data_dir, encoder=encoder, queries=queries, talent_ids=talent_ids, **api)
        except Exception as exc:  # noqa: BLE001 - reported, the run continues
            traceback.print_exc()
            out["api"] = {"error": f"{type(exc).__name__}: {exc}"}
        gc.collect()

    # -- restart: a new service loading the saved index ----------------------------------
    if n <= restart_max:
        log(f"e2e[{n:,}]: restart (new MatchService, load saved index and BM25 token cache) …")
        svc2 = build_service(settings, encoder=encoder)
        with Timer() as t:
            side2 = svc2.ensure_index("demand")
        with Timer() as t2:
            side2.lexical.search(tokenize("数据分析"), 10)
        out["restart"] = {"measured": True, "ensure_index_s": round(t.wall, 2),
                          "first_bm25_build_s": round(t2.wall, 2),
                          "total_s": round(t.wall + t2.wall, 2)}
        svc2.store.close()
        del svc2, side2
    else:
        log(f"e2e[{n:,}]: restart estimated (load_index measured, tokenisation taken from sync) …")
        with Timer() as t:
            vi.load_index(settings.index_dir() / "demand")
        tok = acc.seconds.get("tokenize (jieba)", 0.0)
        out["restart"] = {"measured": False, "load_index_s": round(t.wall, 2),
                          "tokenize_s_from_sync": round(tok, 2),
                          "first_bm25_build_s": out["first_bm25_build_s"],
                          "total_s": round(t.wall + tok + out["first_bm25_build_s"], 2)}
    gc.collect()
    return out


def profile_hot_path(svc: Any, queries: list[str], talent_ids: list[int]) -> dict[str, Any]:
    """cProfile of match_text and match_talent: the most expensive project functions."""
    log("  profiling the match hot path (cProfile) …")
    out = {}
    for label, fn in (("match_text", lambda: [svc.match_text(q, "demands", top_k=10) for q in queries]),
                      ("match_talent", lambda: [svc.match_talent(t, top_k=10) for t in talent_ids])):
        prof = cProfile.Profile()
        prof.enable()
        fn()
        prof.disable()
        st = pstats.Stats(prof, stream=io.StringIO())
        total = max(st.total_tt, 1e-9)
        rows = []
        for (file, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
            rel = file.replace(str(ROOT) + "/", "")
            if rel.startswith(("matcher/", "models/")) or "site-packages" in file or func.startswith("<"):
                rows.append({"function": f"{rel.split('site-packages/')[-1]}:{line}({func})",
                             "calls": nc, "cum_share": round(ct / total, 3), "self_share": round(tt / total, 3)})
        project = sorted((r for r in rows if r["function"].startswith(("matcher/", "models/"))),
                         key=lambda r: -r["cum_share"])[:12]
        self_top = sorted(rows, key=lambda r: -r["self_share"])[:10]
        out[label] = {"calls_profiled": len(queries) if label == "match_text" else len(talent_ids),
                      "profiled_total_s": round(total, 3), "project_by_cumulative": project,
                      "top_self_time": self_top}
    return out
