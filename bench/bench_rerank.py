#!/usr/bin/env python
"""Learning from outcomes, on SYNTHETIC outcomes: a learned re-ranker against ``weighted``.

A measurement script, not a test. Steps:

1. the demo demand entries and a random draw of demo talent profiles go into a fresh service
   (fake encoder by default) in a temporary directory; each seeker's top ``--per-seeker`` posts
   as the service ranks them, with every pair's 13 components from ``MatchService.score_pair``;
2. ``matcher.outcomes.synthetic`` simulates seekers and recruiters with hidden preferences that
   differ from the hand-set weights, over ``--days`` days (plus a tail for late outcomes);
3. time split at ``--cutoff``: train on sessions before ``cutoff - maturity`` with the labels
   known at the cut-off, hold out the sessions from the cut-off on, labelled with everything
   that followed; position bias (theta(p) = p^-eta) is estimated on the randomised sessions of
   the training window only;
4. the registry (``models.rerankers.registry``, in a temporary directory) trains a ``logistic``
   and an ``hgb`` model and tries to promote each (logistic first), each against the current
   ranker on the held-out window;
5. prints a markdown report and writes ``bench/results/rerank-<date>.json`` / ``.md`` /
   ``-reliability.svg`` and ``rerank-latest.*`` (``rerank-quick-*`` for ``--quick``).

nDCG@10 is reported four ways, because logged labels favour the ranking that was served when
they were logged (here ``weighted``): on inverse-propensity gains (the registry's promotion
criterion), on the logged gains as they are, on the randomised sessions only, and against the
simulator's hidden expected gain (an oracle that only a simulation has).

Usage::

    python -m bench.bench_rerank                  # all 2,600 demo seekers × 40 posts (~6 min on 2 cores)
    python -m bench.bench_rerank --quick          # 300 seekers (~1 min)
    python -m bench.bench_rerank --candidates var/rerank-candidates.npz   # reuse step 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from bench.bench_core import git_rev, loadavg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[bench-rerank {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def candidates(args: argparse.Namespace):
    from matcher.core.settings import Settings
    from matcher.outcomes.synthetic import Candidates, build_candidates, load_pool
    from matcher.service import MatchService

    if args.candidates and Path(args.candidates).exists():
        log(f"candidates from {args.candidates}")
        sidecar = Path(args.candidates).with_suffix(".json")
        info = json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.exists() else {}
        return Candidates.load(Path(args.candidates)), {**info, "reused": str(args.candidates)}
    tmp = Path(tempfile.mkdtemp(prefix="tm-bench-rerank-"))
    settings = Settings(data_dir=tmp / "var", reference_dir=ROOT / "data", encoder=args.encoder,
                        index_backend="numpy", candidate_pool=max(100, 2 * args.per_seeker))
    svc = MatchService(settings)
    try:
        t0 = time.perf_counter()
        ids = load_pool(svc, ROOT / "data" / "demo", args.seekers, seed=args.seed)
        info: dict[str, Any] = {"talents": len(ids), "demands": svc.store.count("demand"),
                                "import_s": round(time.perf_counter() - t0, 1), "encoder": svc.encoder.name}
        log(f"imported {info['demands']} demand entries and {len(ids)} talents in {info['import_s']}s")
        t0 = time.perf_counter()
        done = {"n": 0}

        def step(n: int) -> None:
            done["n"] += n
            if done["n"] % max(1, len(ids) // 10) == 0:
                log(f"  ranked {done['n']}/{len(ids)} seekers")

        cands = build_candidates(svc, ids, per_seeker=args.per_seeker, seed=args.seed, progress=step)
        info["rank_s"] = round(time.perf_counter() - t0, 1)
        info["pairs"] = len(cands)
    finally:
        svc.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.candidates:
        Path(args.candidates).parent.mkdir(parents=True, exist_ok=True)
        cands.save(Path(args.candidates))
        Path(args.candidates).with_suffix(".json").write_text(json.dumps(info), encoding="utf-8")
    return cands, info


def run(args: argparse.Namespace) -> dict[str, Any]:
    from matcher.core.settings import Weights
    from matcher.outcomes.features import weights_dict
    from matcher.outcomes.synthetic import SimConfig, simulate
    from models.errors import PromotionRefused
    from models.rerankers import WeightedReranker, calibration_report, compare_rankers, time_split
    from models.rerankers import registry as reg
    from models.rerankers.artifacts import load_model
    from models.rerankers.evaluation import debiased
    from models.rerankers.learned import KINDS
    from models.rerankers.metrics import reliability
    from models.rerankers.propensity import fit_position_bias, propensity

    res: dict[str, Any] = {}
    cands, res["candidates"] = candidates(args)
    cfg = SimConfig(seed=args.seed, days=args.days, tail_days=args.tail_days, shown=args.shown, explore=args.explore)
    t0 = time.perf_counter()
    events = simulate(cands, cfg)
    shown = events.shown
    res["simulation"] = {"config": cfg.__dict__, "shown_pairs": len(shown), "sessions": int(len(np.unique(shown.query))),
                         "randomised_sessions": int(len(np.unique(shown.query[shown.meta["explore"]]))),
                         "events": events.counts(), "seconds": round(time.perf_counter() - t0, 1)}
    log(f"simulated {len(shown)} shown pairs, {res['simulation']['sessions']} sessions: {events.counts()}")

    train, heldout = time_split(events, args.cutoff, maturity_days=args.maturity, end=cfg.end)
    rand = shown.meta["explore"] & (shown.day < args.cutoff)
    bias = fit_position_bias(shown.columns["position"][rand], events.happened("viewed", args.cutoff)[rand])
    heldout.meta["propensity"] = propensity(heldout.columns["position"], bias["eta"])
    res["split"] = {"cutoff_day": args.cutoff, "maturity_days": args.maturity, "train": train.window(),
                    "heldout": heldout.window(), "train_positive_rate": float(train.positive.mean()),
                    "heldout_positive_rate": float(heldout.positive.mean()),
                    "heldout_grades": {str(g): int(n) for g, n in enumerate(np.bincount(heldout.grade, minlength=4))},
                    "position_bias": {"eta": bias["eta"], "randomised_rows": bias["rows"], "clicks": bias["clicks"]}}
    log(f"train {len(train)} rows, held-out {len(heldout)} rows; position bias eta {bias['eta']:.3f}")

    weights = weights_dict(Weights())
    root = Path(tempfile.mkdtemp(prefix="tm-rerank-registry-"))
    models: dict[str, Any] = {}
    res["models"], res["promotion"] = {}, []
    try:
        for kind in KINDS:
            t0 = time.perf_counter()
            model_id = reg.train(root, train, kind=kind, seed=args.seed, labels_until=args.cutoff,
                                 note="synthetic outcomes (bench_rerank)")
            manifest = reg.read_manifest(root / "models" / model_id)
            models[kind] = load_model(root / "models" / model_id, manifest["feature_names"])
            res["models"][kind] = {"id": model_id, "train_s": round(time.perf_counter() - t0, 1), "manifest": manifest}
            log(f"trained {model_id} in {res['models'][kind]['train_s']}s")
        for kind in ("logistic", "hgb"):  # each promotion is judged against the current model at that point
            model_id = res["models"][kind]["id"]
            try:
                report = reg.promote(root, model_id, heldout, weights=weights, resamples=args.resamples, seed=args.seed)
                step = {"model": kind, "promoted": True, "baseline": report["baseline"]}
            except PromotionRefused as exc:
                report = json.loads((root / "models" / model_id / "evaluation.json").read_text(encoding="utf-8"))
                step = {"model": kind, "promoted": False, "baseline": report["baseline"], "message": str(exc)}
            step["delta"] = report["metrics"]["vs_baseline"][model_id]["ndcg_at_10"]
            step["baseline"] = next((k for k in KINDS if res["models"][k]["id"] == step["baseline"]), step["baseline"])
            res["promotion"].append(step)
            log(f"promotion of {kind}: {step}")
        res["current"] = next((k for k in KINDS if res["models"][k]["id"] == reg.current(root)), "weighted")
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rankers = {**models, "weighted": WeightedReranker(weights)}
    opts = {"baseline": "weighted", "resamples": args.resamples, "seed": args.seed}
    views: dict[str, Any] = {}
    log("inverse-propensity view …")
    gains, _ = debiased(heldout)
    views["ips"] = compare_rankers(rankers, heldout, gains=gains, normalise="window", with_auc=False, **opts)
    log("logged-label view …")
    views["logged"] = compare_rankers(rankers, heldout, **opts)
    log("randomised-session view …")
    views["randomised"] = compare_rankers(rankers, heldout.subset(heldout.meta["explore"]), **opts)
    log("oracle views …")
    views["oracle"] = compare_rankers(rankers, heldout, gains=heldout.meta["truth_gain"], with_auc=False, **opts)
    views["oracle_window"] = compare_rankers(rankers, heldout, gains=heldout.meta["truth_gain"], with_auc=False,
                                             normalise="window", **opts)
    res["views"] = views

    res["calibration"] = {}
    for kind, model in models.items():
        X = heldout.matrix(model.feature_names)
        p_first = model.predict_proba(X, 1.0)
        res["calibration"][kind] = {
            "calibrated": calibration_report(model, heldout),
            "uncalibrated": reliability(model.raw_proba(X, heldout.columns["position"]), heldout.positive),
            "vs_hidden_truth": {
                "mean_abs_error": float(np.mean(np.abs(p_first - heldout.meta["truth_p"]))),
                "correlation": float(np.corrcoef(p_first, heldout.meta["truth_p"])[0, 1]),
                "note": "P(positive | shown first) against the simulator's hidden P(interview | looked at)"}}
    model = models["logistic"]
    # explanation of one pair: the best-scored held-out pair of the first session with a hire
    X = heldout.matrix(model.feature_names)
    hired = np.flatnonzero(heldout.grade == 3)
    if len(hired):
        q = heldout.query[hired[0]]
        rows = np.flatnonzero(heldout.query == q)
        best = rows[int(np.argmax(model.score(X[rows])))]
        res["explanation_example"] = {
            "session": int(q), "features": {n: float(X[best, j]) for j, n in enumerate(model.feature_names)},
            "p_positive_if_first": float(model.predict_proba(X[best:best + 1])[0]),
            "model": model.kind, "top_contributions": model.top_contributions(X[best], 4),
            "weighted_top_contributions": rankers["weighted"].top_contributions(
                heldout.matrix(rankers["weighted"].feature_names)[best], 4)}
    return res


def _fmt(m: dict[str, Any]) -> str:
    return f"{m['mean']:.4f} [{m['ci95'][0]:.4f}, {m['ci95'][1]:.4f}]"


def _dfmt(m: dict[str, Any]) -> str:
    return f"{m['mean']:+.4f} [{m['ci95'][0]:+.4f}, {m['ci95'][1]:+.4f}]"


VIEW_LABELS = {
    "ips": "held-out, inverse-propensity gains (promotion criterion)",
    "logged": "held-out, logged gains as they are (favour the served ranking)",
    "randomised": "held-out randomised sessions only, logged gains",
    "oracle": "held-out, the simulator's hidden expected gain (oracle)",
    "oracle_window": "the same oracle, normalised by the window's mean ideal (the estimand of the first row)",
}


def markdown(res: dict[str, Any]) -> str:
    meta, sim, split = res["meta"], res["simulation"], res["split"]
    c = res["candidates"]
    lines = [f"# Re-ranking from outcomes — SYNTHETIC outcomes — {meta['date']}", "",
             f"Commit {meta.get('git')}; {meta['cpus']} CPUs, Python {meta['python']}; load average at start "
             f"{meta['loadavg_start']}, end {meta.get('loadavg_end')}; total {res['total_s']:.0f}s. "
             f"Command: `{meta['command']}`.", "",
             "**Every outcome here is simulated** (`matcher/outcomes/synthetic.py`): seekers and recruiters act by "
             "hidden preferences that differ from the hand-set weights (salary weighs more with experience, "
             "half of the enterprises ignore majors, stated skills are noisy, occupation and location matter "
             "more to seekers), with position bias. These numbers show the pipeline works and what it can "
             "recover from such data; they say nothing about real seekers.", "",
             "## Data", "",
             f"- Candidates: {c.get('talents', '?')} demo talents × their top {meta['per_seeker']} of "
             f"{c.get('demands', '?')} demo demand entries as the service ranks them (encoder {c.get('encoder', '?')}), "
             f"{c.get('pairs', '?')} pairs, features from `MatchService.score_pair`"
             + (f" (built in {c['import_s']} s + {c['rank_s']} s{'; reused from ' + c['reused'] if c.get('reused') else ''})"
                if "rank_s" in c else "") + ".",
             f"- Simulation: {sim['sessions']} sessions ({sim['randomised_sessions']} shown in random order) over "
             f"{sim['config']['days']} days + {sim['config']['tail_days']} days for late outcomes, "
             f"{sim['shown_pairs']} shown pairs; events: "
             + ", ".join(f"{k} {v}" for k, v in sorted(sim["events"].items(), key=lambda kv: -kv[1])) + ".",
             f"- Split at day {split['cutoff_day']}: training = sessions of days {split['train'].get('first_day', 0):g}–"
             f"{split['train'].get('last_day', 0):g} ({split['train']['rows']} pairs, {split['train']['queries']} sessions; "
             f"the last {split['maturity_days']} days before the cut-off left out as immature), labels as known at the "
             f"cut-off; held-out = sessions of days {split['heldout'].get('first_day', 0):g}–{split['heldout'].get('last_day', 0):g} "
             f"({split['heldout']['rows']} pairs, {split['heldout']['queries']} sessions), labels at the end.",
             f"- Positive outcome (grade ≥ 1) rate: training {split['train_positive_rate']:.3%}, held-out "
             f"{split['heldout_positive_rate']:.3%}; held-out grades {split['heldout_grades']}.",
             f"- Position bias fitted on the training window's randomised sessions: θ(p) = p^−{split['position_bias']['eta']:.3f} "
             f"(the simulator uses p^−{sim['config']['position_decay']}).", "",
             "## Ranking quality (learned vs weighted)", "",
             "Each cell: mean [bootstrap 95% interval over sessions]; Δ: paired difference model − weighted. "
             "nDCG@10 with graded gains 2^grade − 1 (hired 7, interviewed/offered 3, applied 1); with inverse-"
             "propensity gains it is normalised by the window's mean ideal DCG (per-session normalisation would "
             "cancel the weights). MAP and AUC on whether the outcome was positive.", "",
             "| view | sessions | nDCG@10 weighted | nDCG@10 logistic | Δ logistic | nDCG@10 hgb | Δ hgb |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, view in res["views"].items():
        r, d = view["rankers"], view["vs_baseline"]
        n = r["weighted"]["ndcg_at_10"]["n"]
        lines.append(f"| {VIEW_LABELS[name]} | {n} | {_fmt(r['weighted']['ndcg_at_10'])} | "
                     + " | ".join(f"{_fmt(r[k]['ndcg_at_10'])} | {_dfmt(d[k]['ndcg_at_10'])}" for k in ("logistic", "hgb"))
                     + " |")
    lines += ["", "MAP and AUC (whether the outcome was positive; logged labels, which favour the served ranking, "
              "and the randomised sessions):", "",
              "| view | metric | weighted | logistic | Δ logistic | hgb | Δ hgb |", "|---|---|---:|---:|---:|---:|---:|"]
    for name in ("logged", "randomised"):
        r, d = res["views"][name]["rankers"], res["views"][name]["vs_baseline"]
        for metric, label in (("map", "MAP"), ("auc", "AUC")):
            lines.append(f"| {name} | {label} | {_fmt(r['weighted'][metric])} | "
                         + " | ".join(f"{_fmt(r[k][metric])} | {_dfmt(d[k][metric])}" for k in ("logistic", "hgb")) + " |")
    lines += [""]
    lines += ["## Registry", "", "Both models trained on the training window; promotion tried for logistic, then hgb, each "
              "against the current ranker at that point (nDCG@10 on inverse-propensity gains, paired bootstrap "
              "95% interval must be above 0).", ""]
    for step in res["promotion"]:
        verdict = "promoted" if step["promoted"] else "refused"
        d = step["delta"]
        lines.append(f"- {step['model']} vs {step['baseline']}: Δ nDCG@10 {d['mean']:+.4f} "
                     f"[{d['ci95'][0]:+.5f}, {d['ci95'][1]:+.5f}] → **{verdict}**")
    lines += ["", f"Current after the run: **{res['current']}**.", ""]
    for kind, info in res["models"].items():
        m = info["manifest"]
        lines.append(f"- `{kind}` manifest: features {m['feature_names']} (+ training-only `position`), libraries "
                     f"{m['libraries']}, training window {m['training_window']}, {m['fit'].get('iterations')} iterations, "
                     f"calibration slice {m['metrics'].get('calibration_slice')}; trained in {info['train_s']}s.")
    coefs = res["models"]["logistic"]["manifest"].get("coefficients")
    if coefs:
        lines += ["", "Logistic weights (log-odds per unit of each component) for a graduate and at ten years "
                  "(the simulator's seekers weigh salary more with experience):", "",
                  "| component | graduate | ten years |", "|---|---:|---:|"]
        for k in coefs["graduate"]:
            lines.append(f"| {k} | {coefs['graduate'][k]:.3f} | {coefs['ten_years'][k]:.3f} |")
        lines.append(f"| log(position) | {coefs['log_position']:.3f} | |")
    lines.append("")
    lines += ["## Calibration (held-out, at the positions shown)", "",
              "Isotonic map fitted on the last 20% of the training window's sessions. The uncalibrated models were "
              f"fitted with gain weights, so they over-predict. Diagram: `{meta['svg']}`.", "",
              "| model | ECE | Brier | log loss | uncalibrated ECE | uncalibrated Brier | MAE vs hidden P |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, cal in res["calibration"].items():
        c_, u = cal["calibrated"], cal["uncalibrated"]
        lines.append(f"| {kind} | {c_['ece']:.4f} | {c_['brier']:.4f} | {c_['log_loss']:.4f} | {u['ece']:.4f} | "
                     f"{u['brier']:.4f} | {cal['vs_hidden_truth']['mean_abs_error']:.4f} |")
    lines += ["", "Reliability bins of logistic:", "", "| bin | pairs | mean predicted | observed |", "|---|---:|---:|---:|"]
    for b in res["calibration"]["logistic"]["calibrated"]["bins"]:
        if b["count"]:
            lines.append(f"| {b['lo']:.1f}–{b['hi']:.1f} | {b['count']} | {b['mean_predicted']:.4f} | {b['observed']:.4f} |")
    ex = res.get("explanation_example")
    if ex:
        lines += ["", "## What moved one pair's score", "",
                  f"Session {ex['session']}'s top pair by {ex['model']} (P(positive | shown first) = {ex['p_positive_if_first']:.3f}): "
                  "occlusion deltas (log-odds vs the training median) "
                  + ", ".join(f"{n} {v:+.3f}" for n, v in ex["top_contributions"])
                  + "; weighted's largest terms " + ", ".join(f"{n} {v:.3f}" for n, v in ex["weighted_top_contributions"]) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seekers", type=int, default=2600)
    ap.add_argument("--per-seeker", type=int, default=40)
    ap.add_argument("--shown", type=int, default=20)
    ap.add_argument("--days", type=int, default=56)
    ap.add_argument("--tail-days", type=int, default=28)
    ap.add_argument("--cutoff", type=float, default=38)
    ap.add_argument("--maturity", type=float, default=10)
    ap.add_argument("--explore", type=float, default=0.15)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--encoder", default="fake", help="encoder of the service that ranks the candidates")
    ap.add_argument("--candidates", help="an .npz to save step 1 to, or reuse it from if it exists")
    ap.add_argument("--quick", action="store_true", help="300 seekers, 300 resamples")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args(argv)
    if args.quick:
        args.seekers, args.resamples = min(args.seekers, 300), min(args.resamples, 300)
    date = dt.date.today().isoformat()
    prefix = "rerank-quick" if args.quick else "rerank"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"date": date, "started": dt.datetime.now().isoformat(timespec="seconds"), "git": git_rev(),
            "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
            "loadavg_start": loadavg(), "per_seeker": args.per_seeker, "args": vars(args),
            "command": "python -m bench.bench_rerank " + " ".join(argv if argv is not None else sys.argv[1:]),
            "svg": f"bench/results/{prefix}-{date}-reliability.svg"}
    res: dict[str, Any] = {"meta": meta, **run(args)}
    meta["loadavg_end"] = loadavg()
    res["total_s"] = round(time.perf_counter() - T0, 1)
    from models.rerankers.artifacts import finite
    from models.rerankers.plots import reliability_svg

    cal = res["calibration"]
    svg = reliability_svg({"logistic 校准后": cal["logistic"]["calibrated"], "hgb 校准后": cal["hgb"]["calibrated"],
                           "logistic 未校准": cal["logistic"]["uncalibrated"]},
                          title="可靠性图：留出窗口（合成数据）")
    md = markdown(res)
    print(md)
    for name in (f"{prefix}-{date}", f"{prefix}-latest"):
        (out / f"{name}.json").write_text(json.dumps(finite(res), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (out / f"{name}.md").write_text(md, encoding="utf-8")
        (out / f"{name}-reliability.svg").write_text(svg, encoding="utf-8")
    log(f"wrote {out}/{prefix}-{date}.json/.md/-reliability.svg and {prefix}-latest.* in {res['total_s']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
