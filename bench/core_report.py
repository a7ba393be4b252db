"""The markdown report of the core benchmark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.util import fmt

# --------------------------------------------------------------------------- report


def markdown(res: dict[str, Any]) -> str:
    L: list[str] = []
    meta = res["meta"]
    L.append(f"# talentmatch core benchmark — {meta['date']}")
    L.append("")
    L.append(f"Machine: {meta['cpus']} CPUs ({meta['cpu_model']}), {meta['mem_gb']} GiB, Python "
             f"{meta['python']}, faiss {meta['faiss']}, OMP_NUM_THREADS={meta['omp_num_threads']}; "
             f"commit {meta['git']}; mode {'quick' if meta['quick'] else 'full'}; "
             f"total {res.get('total_s', 0):.0f}s.")
    la = meta.get("loadavg_samples", [])
    if la:
        peak = max(x[1][0] for x in la)
        L.append(f"Load average (1 min) during the run: start {la[0][1][0]}, peak {peak}, "
                 f"end {la[-1][1][0]}" + (" — **the machine was busy: timings are inflated and "
                                          "noisy**" if peak > meta["cpus"] * 0.75 else "") + ".")
    L.append("")
    enc = res.get("encode")
    if enc:
        L.append("## 1. Encoders (real models, real Chinese job texts)")
        L.append("")
        L.append(f"Texts: {enc['texts_source']}; mean {enc['mean_chars']:.0f} characters. "
                 f"Batch = up to {enc['batch_texts']} texts via `encode_passages` in calls of "
                 f"{enc['batch_size']}; single = up to {enc['single_calls']} calls of "
                 "`encode_queries([text])` on the same texts. Median over repeats; runs are "
                 "time-boxed, the counts used are in the table (texts × repeats).")
        L.append("")
        L.append("| encoder | load s | batch texts/s | batch CPU ms/text | batch texts×rep | single texts/s | single p50 ms | single p99 ms | single calls×rep | note |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for key, e in enc["encoders"].items():
            if e.get("error"):
                L.append(f"| {key} | – | – | – | – | – | – | – | – | not measured: {e['error']} |")
                continue
            e.setdefault("load_s", None)
            b, s = e["batch"], e["single"]
            L.append(f"| {e['name']} | {fmt(e['load_s'])} | {fmt(b['texts_per_s'], 2)} | {fmt(b['cpu_ms_per_text'])} | "
                     f"{b['texts']}×{b['repeats']} | {fmt(s['texts_per_s'], 2)} | {fmt(s['latency_ms'].get('p50'))} | "
                     f"{fmt(s['latency_ms'].get('p99'))} | {s['calls']}×{s['repeats']} | {e.get('note', '')} |")
        L.append("")
    vs = res.get("synthetic_vectors")
    if vs:
        L.append("## 2. Vector indexes (SYNTHETIC vectors, dim 384)")
        L.append("")
        L.append(f"Vectors: {vs['method']}")
        st = vs.get("stats", {})
        if st:
            L.append(f"Realism check — mean cosine of random pairs: real {st['real_mean_pair_cos']}, "
                     f"synthetic {st['synthetic_mean_pair_cos']}; median nearest-neighbour cosine: real "
                     f"{st['real_median_1nn_cos']} (among {st['real_texts']} texts), synthetic "
                     f"{st['synthetic_median_1nn_cos_same_count']} (among as many), "
                     f"{st['synthetic_median_1nn_cos_in_4000']} (among 4000).")
        L.append(f"Queries: {vs['queries']}.")
        L.append("")
    idx = res.get("index")
    if idx:
        L.append("| N | index | build s (median) | builds | build CPU s | vectors/s | serialized MiB | bytes/vector | RSS Δ MiB | search p50 ms (k=10) | search p99 ms | recall@10 |")
        L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in idx:
            name = "faiss flat (exact)" if r["kind"] == "flat" else (
                f"faiss HNSW M={r['params']['M']} efC={r['params']['efConstruction']} efS={res['config']['hnsw_ef_search']}")
            L.append(f"| {r['n']:,} | {name} | {fmt(r['build_s'], 2)} | {r.get('build_repeats', 1)} | "
                     f"{fmt(r['build_cpu_s'], 2)} | {fmt(r['vectors_per_s'], 0)} | "
                     f"{fmt(r['serialized_mb'])} | {fmt(r.get('bytes_per_vector'), 0)} | {fmt(r['rss_delta_mb'])} | "
                     f"{fmt(r['search_ms_k10']['p50'], 3)} | {fmt(r['search_ms_k10']['p99'], 3)} | {r['recall_at_10']:.3f} |")
        L.append("")
        L.append("HNSW recall@10 vs efSearch (single-query search, k=10):")
        L.append("")
        L.append("| N | efSearch | recall@10 | p50 ms | p99 ms |")
        L.append("|---:|---:|---:|---:|---:|")
        for r in idx:
            for s in r.get("ef_sweep", []):
                L.append(f"| {r['n']:,} | {s['ef_search']} | {s['recall_at_10']:.3f} | "
                         f"{fmt(s['search_ms_k10']['p50'], 3)} | {fmt(s['search_ms_k10']['p99'], 3)} |")
        L.append("")
    e2e = res.get("e2e")
    if e2e:
        L.append("## 3. End to end through `MatchService` (SQLite, synthetic entries and vectors)")
        L.append("")
        L.append(res["e2e_note"])
        L.append("")
        cols = [f"N={r['n']:,}" for r in e2e]
        L.append("| setup (seconds) | " + " | ".join(cols) + " |")
        L.append("|---|" + "---:|" * len(cols))

        def row(label: str, get: Callable[[dict[str, Any]], Any], nd: int = 1) -> None:
            vals = []
            for r in e2e:
                try:
                    vals.append(fmt(get(r), nd))
                except (KeyError, TypeError):
                    vals.append("–")
            L.append(f"| {label} | " + " | ".join(vals) + " |")

        row("index kind chosen (auto)", lambda r: r["sync"]["index_kind"])
        row("prepare records (`RecordPreparer.prepare_many`), records/s", lambda r: r["populate_s"]["prepare_records_per_s"], 0)
        row("`Store.add` (first rows), rows/s", lambda r: r["populate_s"]["store_add_rows_per_s"], 0)
        row("bulk executemany (remaining rows), rows/s", lambda r: r["populate_s"]["bulk_insert_rows_per_s"], 0)
        row("`put_many_vectors` (first chunk), rows/s", lambda r: r["populate_s"]["put_many_vectors_rows_per_s"], 0)
        row("**sync from DB (cached vectors)**", lambda r: r["sync"]["s"])
        for part in ("tokenize (jieba)", "vector cache read", "dense index add", "save index",
                     "db read texts", "db read hashes", "other"):
            row(f"  ↳ {part}", lambda r, p=part: r["sync"]["breakdown_s"].get(p))
        row("first BM25 build (bm25s index over N docs)", lambda r: r["first_bm25_build_s"], 2)
        row("restart: load saved index + BM25 token cache + BM25 build", lambda r: r["restart"]["total_s"])
        row("  ↳ measured (yes) / estimated (no)", lambda r: "yes" if r["restart"]["measured"] else "no")
        row("texts encoded during sync", lambda r: r["sync"]["texts_encoded_during_sync"], 0)
        row("process RSS after sync + BM25 build, MiB", lambda r: r["rss_after_sync_mb"], 0)
        row("  ↳ growth since the service was created, MiB", lambda r: r["rss_delta_mb"], 0)
        row("index files, MiB", lambda r: r["sync"]["index_dir_mb"])
        row("SQLite files, MiB", lambda r: r["db_mb"])
        L.append("")
        L.append("| latency, ms (p50 / p99) | " + " | ".join(cols) + " |")
        L.append("|---|" + "---:|" * len(cols))
        enc_lat = res.get("query_encode_ms", {})
        labels = [
            ("(a) e5 query encode, 1 text", None),
            ("(b) FAISS search alone (k=pool)", "faiss"),
            ("(c1) jieba tokenise query", "tokenize"),
            ("(c2) BM25 search alone (k=pool)", "bm25"),
            ("(–) store.get_many(pool ids)", "get_many"),
            ("**(d) match_text full**", "match_text"),
            ("  ↳ its e5 query encode", "encode_in_match_text"),
            ("  ↳ everything else (retrieval, fetch, scoring)", "match_text_excl_encode"),
            ("**match_talent full**", "match_talent"),
        ]
        for label, key in labels:
            vals = []
            for r in e2e:
                d = enc_lat if key is None else r["latency_ms"].get(key, {})
                vals.append(f"{fmt(d.get('p50'))} / {fmt(d.get('p99'))}" if d else "–")
            L.append(f"| {label} | " + " | ".join(vals) + " |")
        for label, key in (("CPU: match_text minus encode", "match_text_excl_encode"),
                           ("CPU: store.get_many(pool ids)", "get_many"),
                           ("CPU: match_talent", "match_talent")):
            vals = []
            for r in e2e:
                d = r.get("cpu_ms", {}).get(key, {})
                vals.append(f"{fmt(d.get('p50'))} / {fmt(d.get('p99'))}" if d else "–")
            L.append(f"| {label} | " + " | ".join(vals) + " |")
        L.append("")
        L.append("CPU rows: process CPU time of the same calls (single-threaded Python, so close to "
                 "the wall time an idle machine would show).")
        L.append("")
        hot = next((r["hotspots"] for r in reversed(e2e) if r.get("hotspots")), None)
        if hot:
            n_hot = next(r["n"] for r in reversed(e2e) if r.get("hotspots"))
            L.append(f"### Hot path profile at N={n_hot:,} (cProfile, share of profiled time)")
            L.append("")
            for label, h in hot.items():
                L.append(f"`{label}` ({h['calls_profiled']} calls, {h['profiled_total_s']}s under the profiler), "
                         "project functions by cumulative share:")
                L.append("")
                L.append("| function | calls | cumulative | self |")
                L.append("|---|---:|---:|---:|")
                for r in h["project_by_cumulative"][:8]:
                    L.append(f"| `{r['function']}` | {r['calls']} | {r['cum_share']:.0%} | {r['self_share']:.0%} |")
                L.append("")
    for r in e2e or []:
        api = r.get("api")
        if not api:
            continue
        if api.get("error"):
            L.append(f"## 4. Through the HTTP API at N={r['n']:,}: not measured ({api['error']})")
            L.append("")
            continue
        from bench.bench_api import markdown as api_markdown

        L.append(api_markdown(api, f"4. Through the HTTP API at N={r['n']:,}").replace("### ", "## ", 1))
    if res.get("notes"):
        L.append("## Notes")
        L.append("")
        for n in res["notes"]:
            L.append(f"- {n}")
        L.append("")
    return "\n".join(L)
