#!/usr/bin/env python
"""Learning from STORED outcomes: the path ``talentmatch outcomes simulate`` → ``model train`` →
``model evaluate`` → ``model promote`` takes, end to end through the database, and what serving
with a promoted model costs.

A measurement script, not a test (no timing is asserted). Steps, in a temporary data directory
(SQLite, fake encoder):

1. ``simulate_into_store``: SYNTHETIC seekers (``--seekers`` × ``--per-seeker`` random pairs,
   ``matcher.outcomes.synthetic``) stored as impressions and events flagged ``synthetic``;
2. ``train_model`` for ``logistic`` and ``hgb`` (time split: the last 30% of the impressions
   held out, 10 days of maturity), ``evaluate_model`` of each against ``weighted`` (nDCG@10 on
   inverse-propensity gains, MAP, AUC, 95% bootstrap intervals), ``promote_model`` of the first
   that beats it;
3. serving: ``match_talent`` latency (median of ``--repeats``) over 40 posts for one seeker with
   ``weighted`` and with the promoted model (order, probabilities and reasons included), and the
   cost of recording the impressions of one served list.

Writes ``bench/results/outcomes-<date>.{json,md}`` and ``outcomes-latest.*``.

Usage::

    python -m bench.bench_outcomes                 # 2,600 seekers × 40 (~3 min on 2 cores)
    python -m bench.bench_outcomes --seekers 600   # quicker
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bench.bench_core import git_rev, loadavg  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[bench-outcomes {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def _ci(m: dict[str, Any]) -> str:
    lo, hi = m["ci95"]
    return f"{m['mean']:+.4f} [{lo:+.4f}, {hi:+.4f}]"


def _val(m: dict[str, Any]) -> str:
    lo, hi = m["ci95"]
    return f"{m['mean']:.4f} [{lo:.4f}, {hi:.4f}]"


def run(args: argparse.Namespace) -> dict[str, Any]:
    from matcher.core.settings import Settings
    from matcher.domain.auth import Principal, Role
    from matcher.domain.schemas import Enterprise
    from matcher.outcomes import training as T
    from matcher.wiring import build_service
    from models.encoders import FakeEncoder
    from tests.conftest import demand, talent

    tmp = Path(tempfile.mkdtemp(prefix="tm-bench-outcomes-"))
    res: dict[str, Any] = {"seekers": args.seekers, "per_seeker": args.per_seeker, "seed": args.seed}
    try:
        svc = build_service(Settings(data_dir=tmp / "var", reference_dir=ROOT / "data", encoder="fake",
                                     index_backend="numpy"), encoder=FakeEncoder(128))
        t = time.perf_counter()
        sim = T.simulate_into_store(svc, seekers=args.seekers, per_seeker=args.per_seeker, seed=args.seed)
        res["simulate"] = {**{k: sim[k] for k in ("impressions", "events", "by_kind")},
                           "seconds": round(time.perf_counter() - t, 2)}
        log(f"simulated {sim['impressions']} impressions, {sim['events']} events")
        res["models"] = {}
        promoted = None
        for kind in ("logistic", "hgb"):
            t = time.perf_counter()
            info = T.train_model(svc, kind=kind, seed=args.seed)
            train_s = time.perf_counter() - t
            t = time.perf_counter()
            rep = T.evaluate_model(svc, info["model"], resamples=args.resamples, seed=args.seed)
            res["models"][kind] = {"id": info["model"], "train_seconds": round(train_s, 2),
                                   "evaluate_seconds": round(time.perf_counter() - t, 2),
                                   "split": {k: info[k] for k in ("cutoff", "train_rows", "heldout_rows",
                                                                  "position_bias_eta") if k in info},
                                   "baseline": rep["baseline"], "gains": rep["gains"], "metrics": rep["metrics"],
                                   "reliability": {k: rep["reliability"][k] for k in ("ece", "brier", "base_rate",
                                                                                      "rows")}}
            log(f"{kind}: Δ nDCG@10 {_ci(rep['metrics']['vs_baseline'][info['model']]['ndcg_at_10'])}")
            if promoted is None:
                try:
                    T.promote_model(svc, info["model"], resamples=args.resamples, seed=args.seed)
                    promoted = info["model"]
                except Exception as exc:  # a refusal is a result too
                    res["models"][kind]["promote_refused"] = str(exc)
        res["promoted"] = promoted
        # serving: one seeker, 40 posts
        ent = svc.store.add_enterprise(Enterprise(name="基准测试企业", city="淄博市"))
        titles = ["大数据开发工程师", "数据分析师", "Python开发工程师", "PLC电气工程师", "数据仓库工程师"]
        svc.add("demand", [demand(title=f"{titles[i % 5]}{i}", enterprise_id=ent.id, enterprise_name=None,
                                  city=["淄博", "济南", "青岛"][i % 3]) for i in range(40)])
        [tid] = svc.add("talent", [talent(experience_years=5, salary_min=8000, salary_max=12000)])
        who = Principal(role=Role.SEEKER, key_id=None, talent_id=tid)

        def median_ms(fn: Any) -> float:
            fn()
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t) * 1000)
            return round(statistics.median(times), 2)

        serving = {"with_model": median_ms(lambda: svc.match_talent(tid, 20)),
                   "with_model_and_impressions": median_ms(lambda: svc.match_talent(tid, 20, shown_to=who))}
        (tmp / "var" / "models" / "registry.json").rename(tmp / "var" / "models" / "registry.off")
        serving["weighted"] = median_ms(lambda: svc.match_talent(tid, 20))
        serving["weighted_and_impressions"] = median_ms(lambda: svc.match_talent(tid, 20, shown_to=who))
        res["serving_ms"] = serving
        svc.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def markdown(res: dict[str, Any]) -> str:
    lines = [f"# Learning from stored outcomes ({res['date']}, git {res['git']})", "",
             f"SYNTHETIC outcomes: {res['seekers']} simulated seekers × {res['per_seeker']} random pairs, seed "
             f"{res['seed']}; {res['simulate']['impressions']} impressions and {res['simulate']['events']} events "
             f"stored ({res['simulate']['seconds']} s). Load {res['loadavg']}.", "",
             "Δ = model − baseline (the ranker current when the model was evaluated), paired bootstrap 95% "
             "intervals over lists; nDCG@10 on inverse-propensity gains (the promotion criterion), MAP and AUC on "
             "the logged labels (biased toward the ranking that was served, `weighted`).", "",
             "| model | baseline | train rows | held-out rows | nDCG@10 model | nDCG@10 baseline | Δ nDCG@10 | Δ MAP | Δ AUC | AUC model | ECE |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, m in res["models"].items():
        met, mid = m["metrics"], m["id"]
        vs = met["vs_baseline"][mid]
        lines.append(f"| {kind} | {m['baseline']} | {m['split']['train_rows']} | {m['split']['heldout_rows']} | "
                     f"{_val(met['rankers'][mid]['ndcg_at_10'])} | {_val(met['rankers'][m['baseline']]['ndcg_at_10'])} | "
                     f"{_ci(vs['ndcg_at_10'])} | {_ci(vs['map'])} | {_ci(vs['auc'])} | "
                     f"{_val(met['rankers'][mid]['auc'])} | {m['reliability']['ece']:.4f} |")
    lines += ["", f"Promoted: `{res['promoted']}`.", "",
              "Serving one seeker's list of 20 (median ms, fake encoder, numpy index; the machine was shared): " + ", ".join(f"{k} {v}" for k, v in res["serving_ms"].items()),
              ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seekers", type=int, default=2600)
    ap.add_argument("--per-seeker", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = ap.parse_args()
    res = run(args)
    res.update(date=dt.date.today().isoformat(), git=git_rev(), loadavg=loadavg())
    md = markdown(res)
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in (f"outcomes-{res['date']}", "outcomes-latest"):
        (args.out / f"{name}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        (args.out / f"{name}.md").write_text(md, encoding="utf-8")


if __name__ == "__main__":
    main()
