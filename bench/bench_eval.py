#!/usr/bin/env python
"""Ranking quality on the bundled labelled sets: the project against BM25 and dense baselines.

A measurement script, not a test. First the REAL job titles (``data/eval/real_titles_dev.jsonl``,
cross-validated by ``bench.bench_realtitles``, with BM25 alone and e5 alone in the same run);
then the synthetic sanity checks: it runs ``matcher.evaluation.harness`` (the code behind
``talentmatch eval``) with the real encoder on every rule-built set in ``data/eval/`` (built by
``scripts/build_eval_sets.py`` from CSCO 2022 and the MOHRSS announcements; see
``data/eval/README.md``), prints a markdown report on stdout and writes
``bench/results/eval-<date>.json`` / ``.md`` and ``eval-latest.*`` (``eval-quick-*`` for
``--quick``).

Usage::

    python -m bench.bench_eval                    # every set, e5 (~10-30 min on 2 cores)
    python -m bench.bench_eval --quick            # the first 150 queries of each set
    python -m bench.bench_eval --encoder fake     # plumbing check without a model

The dense-weight sweep of the occupation coder runs on the DEV split only; the held-out split
is reported with the shipped weight and never used to choose anything.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.util import git_rev, loadavg

ROOT = Path(__file__).resolve().parent.parent


T0 = time.perf_counter()
SWEEP = {"w0.2": 0.2, "w0.4": 0.4, "w0.5": 0.5, "w0.7": 0.7, "w0.8": 0.8}
SETS = [("occupations", "synthetic_occupations_dev.jsonl", "dev"),
        ("occupations", "synthetic_occupations_heldout.jsonl", "held-out"),
        ("match", "synthetic_match_dev.jsonl", "dev"), ("match", "synthetic_match_heldout.jsonl", "held-out")]


def log(msg: str) -> None:
    print(f"[bench-eval {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def progress(label: str, total: int):
    """A progress callback that logs every ~10%."""
    state = {"done": 0, "next": max(1, total // 10)}

    def step(n: int) -> None:
        state["done"] += n
        if state["done"] >= state["next"] or state["done"] == total:
            log(f"  {label}: {state['done']}/{total}")
            state["next"] += max(1, total // 10)
    return step


def run_sets(args: argparse.Namespace) -> dict[str, Any]:
    from matcher.core.settings import Settings
    from matcher.evaluation.harness import (
        corpus_settings,
        evaluate,
        evaluate_occupations,
        load_corpus,
        read_eval_file,
        validate_queries,
    )
    from matcher.wiring import build_service

    sets_dir = Path(args.sets)
    results: dict[str, Any] = {"sets": []}
    if not args.no_real:  # real titles first: cross-validated, with the baselines in the same run
        from bench.bench_realtitles import run_cv

        log("real_titles_dev.jsonl: 5-fold cross-validation …")
        results["realtitles"] = run_cv(args.encoder, Path(args.cache) if args.cache else None,
                                       ("stratified",) if args.quick else ("stratified", "grouped"))
    tmp = Path(tempfile.mkdtemp(prefix="tm-bench-eval-"))
    base = Settings(data_dir=tmp / "var", reference_dir=ROOT / "data", encoder=args.encoder)
    svc = None
    match_svc = None
    try:
        for task, name, split in SETS:
            if task == "match" and args.no_match:
                continue
            path = sets_dir / name
            queries, errors = read_eval_file(path)
            if args.quick:
                queries = queries[: args.quick_queries]
            log(f"{name}: {len(queries)} queries ({task}, {split}) …")
            if task == "occupations":
                svc = svc or build_service(base)
                service = svc
                t0 = time.perf_counter()
                if split == "dev":  # one pass: the shipped ranker, the baselines and the sweep
                    validate_queries(queries, task, taxonomy=service.taxonomy, errors=errors)
                    full = evaluate_occupations(service.coder, queries, weights=SWEEP, file=name,
                                                progress=progress(name, len(queries)))
                    report = full.model_copy(update={"rankers": full.rankers[:3]})
                    results["dev_sweep"] = {
                        "set": name, "weights": {**SWEEP, "talentmatch": service.coder.dense_weight,
                                                 "bm25": 0.0, "dense": 1.0},
                        "metrics": {r.name: r.metrics.model_dump() for r in full.rankers}}
                else:
                    report = evaluate(service, queries, task, errors=errors, file=name,
                                      progress=progress(name, len(queries)))
            else:
                if match_svc is None:
                    corpus = sets_dir / "synthetic_match_corpus.jsonl"
                    st = corpus_settings(Settings(reference_dir=ROOT / "data", encoder=args.encoder), corpus,
                                         Path(args.work_dir) if args.work_dir else None)
                    match_svc = build_service(st)
                    log(f"corpus {corpus.name} → {st.data_dir} …")
                    with_timer = time.perf_counter()
                    n_corpus = sum(1 for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip())
                    info = load_corpus(match_svc, corpus, progress=progress("corpus", n_corpus))
                    info["seconds"] = round(time.perf_counter() - with_timer, 1)
                    results["corpus"] = info
                    log(f"  corpus {'reused' if info['reused'] else 'imported'}: {info['entries']} entries "
                        f"in {info['seconds']}s")
                service = match_svc
                t0 = time.perf_counter()
                report = evaluate(service, queries, task, errors=errors, file=name,
                                  progress=progress(name, len(queries)))
            data = report.model_dump(mode="json")
            data.update(split=split, wall_s=round(time.perf_counter() - t0, 1),
                        loadavg=loadavg(), quick=bool(args.quick))
            results["sets"].append(data)
            best = report.rankers[0].metrics
            log(f"  {name}: talentmatch MRR@10 {best.mrr_at_10:.3f}, Acc@1 {best.acc_at_1:.3f} "
                f"({report.seconds:.0f}s)")
    finally:
        for s in (svc, match_svc):
            if s is not None:
                s.close()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return results


def markdown(res: dict[str, Any]) -> str:
    from matcher.evaluation.harness import METRIC_LABELS, METRICS

    meta = res["meta"]
    real = []
    if res.get("realtitles"):
        from bench.bench_realtitles import cv_markdown

        real = ["## Real job titles — occupation coding (dev set, cross-validated)", "",
                cv_markdown(res["realtitles"], level=3), "## Synthetic sanity checks", ""]
    lines = [f"# talentmatch ranking quality — {meta['date']}", "",
             f"Encoder {meta['encoder']}; machine {meta['cpus']} CPUs, Python {meta['python']}; commit "
             f"{meta.get('git')}; load average at start {meta['loadavg_start']}, end {meta.get('loadavg_end')}; "
             f"total {res.get('total_s', 0):.0f}s{' (quick: a prefix of each set)' if meta['quick'] else ''}.",
             "", *real, "Synthetic sets: `data/eval/` (see its README: built by rules from CSCO 2022 and "
             "MOHRSS texts; split by 小类; dev may be tuned on, held-out never). Metrics at cut-off 10, "
             "mean over queries; the interval is a bootstrap 95% CI of MRR@10; Δ is the paired "
             "difference to talentmatch with its 95% CI.", ""]
    if res.get("corpus"):
        c = res["corpus"]
        lines += [f"Match corpus: {c['entries']} demand entries (one per CSCO occupation), "
                  f"{'reused from' if c['reused'] else 'imported into'} its own work directory "
                  f"in {c.get('seconds')}s.", ""]
    for s in res["sets"]:
        lines += [f"## {s['file']} — {s['task']}, {s['split']} ({s['queries']} queries)", ""]
        head = "| ranker | " + " | ".join(METRIC_LABELS[m] for m in METRICS) + " | MRR@10 95% CI | Δ MRR@10 vs talentmatch |"
        lines += [head, "|---|" + "---:|" * (len(METRICS) + 2)]
        for r in s["rankers"]:
            ci = r["ci95"]["mrr_at_10"]
            d = r.get("delta_vs_project")
            delta = (f"{d['mrr_at_10']['mean']:+.3f} [{d['mrr_at_10']['ci95'][0]:+.3f}, {d['mrr_at_10']['ci95'][1]:+.3f}]"
                     if d else "–")
            lines.append(f"| {r['label']} | " + " | ".join(f"{r['metrics'][m]:.3f}" for m in METRICS)
                         + f" | [{ci[0]:.3f}, {ci[1]:.3f}] | {delta} |")
        types = list(s["rankers"][0]["by_type"])
        if types:
            lines += ["", "By query type (MRR@10 / Acc@1):", "",
                      "| type | n | " + " | ".join(r["name"] for r in s["rankers"]) + " |",
                      "|---|---:|" + "---:|" * len(s["rankers"])]
            for t in types:
                n = s["rankers"][0]["by_type"][t]["queries"]
                lines.append(f"| {t} | {n} | " + " | ".join(
                    f"{r['by_type'][t]['mrr_at_10']:.3f} / {r['by_type'][t]['acc_at_1']:.3f}" for r in s["rankers"]) + " |")
        lines += ["", f"Time: query encoding {s['encode_seconds']:.1f}s; ranking "
                  + ", ".join(f"{r['name']} {r['seconds']:.1f}s" for r in s["rankers"])
                  + f"; load average after {s.get('loadavg')}.", ""]
    sw = res.get("dev_sweep")
    if sw:
        lines += ["## Dense-weight sweep of the occupation coder (dev split only)", "",
                  "score = w · dense + (1 − w) · BM25 (both normalised per query); w = 0.6 ships.", "",
                  "| w | " + " | ".join(METRIC_LABELS[m] for m in METRICS) + " |",
                  "|---:|" + "---:|" * len(METRICS)]
        for name, w in sorted(sw["weights"].items(), key=lambda kv: kv[1]):
            m = sw["metrics"].get(name)
            if m:
                lines.append(f"| {w:g}{' (shipped)' if name == 'talentmatch' else ''} | "
                             + " | ".join(f"{m[k]:.3f}" for k in METRICS) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=str(ROOT / "data" / "eval"))
    ap.add_argument("--encoder", default="e5", help="encoder backend (e5 by default; fake for a plumbing check)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--quick", action="store_true", help="only the first --quick-queries of each set")
    ap.add_argument("--quick-queries", type=int, default=150)
    ap.add_argument("--no-match", action="store_true", help="skip the match sets (and the corpus import)")
    ap.add_argument("--work-dir", help="where the match corpus is imported (default var/eval/<corpus>-<hash>)")
    ap.add_argument("--no-real", action="store_true", help="skip the cross-validated real-title set")
    ap.add_argument("--cache", default=str(ROOT / "var" / "cache"), help="vector cache of the real-title run")
    args = ap.parse_args(argv)
    meta = {"date": dt.date.today().isoformat(), "started": dt.datetime.now().isoformat(timespec="seconds"),
            "git": git_rev(), "encoder": args.encoder, "quick": bool(args.quick),
            "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "loadavg_start": loadavg()}
    res: dict[str, Any] = {"meta": meta, **run_sets(args)}
    meta["loadavg_end"] = loadavg()
    encs = {s["encoder"] for s in res["sets"]}
    meta["encoder"] = ", ".join(sorted(encs)) or args.encoder
    res["total_s"] = round(time.perf_counter() - T0, 1)
    md = markdown(res)
    print(md)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    prefix = "eval-quick" if args.quick else "eval"
    if args.encoder != "e5":
        prefix += f"-{args.encoder}"
    for name in (f"{prefix}-{meta['date']}", f"{prefix}-latest"):
        (out / f"{name}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (out / f"{name}.md").write_text(md + "\n", encoding="utf-8")
    log(f"wrote {out}/{prefix}-{meta['date']}.json/.md and {prefix}-latest.* in {res['total_s']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
