#!/usr/bin/env python
"""``make bench``: every benchmark in one run, on one machine, and one summary.

Runs, one after another and each in its own process (so one step's memory or failure does not
touch the next):

1. ``bench_eval.py``  — ranking quality on ``data/eval/`` (project vs BM25 vs dense);
2. ``bench_core.py``  — encoders, index builds up to 10^6 vectors (exact vs HNSW, memory,
   recall), end-to-end latency in process at 10^4/10^5 and through the HTTP API with a load
   generator in a separate process at 10^5;
3. ``bench_fair.py``  — job-fair batch matching at 5,000 × 1,000 (the hook: run when the
   script exists; skipped with a note otherwise);
4. ``bench_speed.py`` — issue 17's table: the issue's figure and this run's, row by row
   (static first-stage encoder vs e5 on real titles, imports, CLI, BM25 after a write, HNSW).

Each step writes its own ``bench/results/<step>-<date>.{json,md}``; this script then writes
``summary-<date>.md`` / ``.json`` and ``summary-latest.*`` with the headline numbers and each
step's exit code, wall time and load average. It never asserts on timings.

Usage::

    python -m bench.run_all                 # the full run (hours on a busy 2-core machine)
    python -m bench.run_all --quick         # every step in its smoke mode (~10 min)
    python -m bench.run_all --skip fair --core-args "--index-sizes 10000,100000"
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.util import git_rev, loadavg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


STEPS = ("eval", "core", "fair", "speed")
T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[run_all {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def step_command(step: str, args: argparse.Namespace, out: Path) -> list[str] | None:
    """The command of one step, or None when its script is absent (the fair hook)."""
    script = BENCH / f"bench_{step}.py"
    if not script.exists():
        return None
    cmd = [sys.executable, "-m", f"bench.bench_{step}", "--out", str(out)]
    if args.quick:
        cmd.append("--quick")
    cmd += shlex.split(getattr(args, f"{step}_args") or "")
    return cmd


def run_step(step: str, cmd: list[str], logs: Path) -> dict[str, Any]:
    """Run one step; its report is in its results files, its progress (stderr) in ``logs``."""
    log(f"{step}: {' '.join(cmd[1:])}")
    la0 = loadavg()
    t0 = time.perf_counter()
    log_path = logs / f"{step}.log"
    with log_path.open("w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=fh, check=False)
    wall = time.perf_counter() - t0
    log(f"{step}: exit {proc.returncode} after {wall:.0f}s (progress log {log_path})")
    return {"command": cmd[1:], "exit_code": proc.returncode, "wall_s": round(wall, 1),
            "loadavg_start": la0, "loadavg_end": loadavg(), "log": str(log_path)}


def latest(out: Path, prefix: str, date: str) -> dict[str, Any] | None:
    """The step's result of today (``<prefix>-<date>.json``), else its ``-latest`` file."""
    for name in (f"{prefix}-{date}.json", f"{prefix}-latest.json"):
        path = out / name
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    return None


# --------------------------------------------------------------------------- summary


def _f(x: Any, nd: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}" if abs(x) < 1000 else f"{x:,.0f}"
    return str(x)


def summarise_eval(ev: dict[str, Any]) -> list[str]:
    lines = ["## Ranking quality (`bench_eval.py`)", "",
             f"Encoder {ev['meta']['encoder']}. Dev sets may be tuned on; held-out sets never are. "
             "Cut-off 10; mean over queries.", "",
             "| set | split | queries | ranker | Acc@1 | Recall@10 | MRR@10 | nDCG@10 |",
             "|---|---|---:|---|---:|---:|---:|---:|"]
    for s in ev["sets"]:
        for r in s["rankers"]:
            m = r["metrics"]
            lines.append(f"| {s['file']} | {s['split']} | {s['queries']} | {r['name']} | {m['acc_at_1']:.3f} | "
                         f"{m['recall_at_10']:.3f} | {m['mrr_at_10']:.3f} | {m['ndcg_at_10']:.3f} |")
    return lines + [""]


def summarise_core(core: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    enc = (core.get("encode") or {}).get("encoders", {})
    if enc:
        lines += ["## Encoders (`bench_core.py` §1, median over repeats)", "",
                  "| encoder | batch texts/s | single texts/s | single p50 ms | single p99 ms |",
                  "|---|---:|---:|---:|---:|"]
        for key, e in enc.items():
            if e.get("error"):
                lines.append(f"| {key} | – | – | – | – ({e['error'][:60]}) |")
                continue
            lat = e["single"]["latency_ms"]
            lines.append(f"| {e['name']} | {_f(e['batch']['texts_per_s'], 2)} | {_f(e['single']['texts_per_s'], 2)} | "
                         f"{_f(lat.get('p50'), 1)} | {_f(lat.get('p99'), 1)} |")
        lines.append("")
    idx = core.get("index")
    if idx:
        lines += ["## Vector indexes (`bench_core.py` §2, synthetic vectors, dim 384)", "",
                  "| N | index | build s | serialized MiB | bytes/vector | search p50 ms | recall@10 |",
                  "|---:|---|---:|---:|---:|---:|---:|"]
        for r in idx:
            lines.append(f"| {r['n']:,} | {r['kind']} | {_f(r['build_s'], 2)} | {_f(r['serialized_mb'], 1)} | "
                         f"{_f(r.get('bytes_per_vector'), 0)} | {_f(r['search_ms_k10']['p50'])} | {r['recall_at_10']:.3f} |")
        lines.append("")
    e2e = core.get("e2e") or []
    if e2e:
        lines += ["## End to end in process (`bench_core.py` §3, synthetic entries)", "",
                  "| N | index | match_text p50 / p99 ms | match_talent p50 / p99 ms | sync s | restart s |",
                  "|---:|---|---:|---:|---:|---:|"]
        for r in e2e:
            lt, lk = r["latency_ms"]["match_text"], r["latency_ms"]["match_talent"]
            lines.append(f"| {r['n']:,} | {r['sync']['index_kind']} | {_f(lt['p50'], 1)} / {_f(lt['p99'], 1)} | "
                         f"{_f(lk['p50'], 1)} / {_f(lk['p99'], 1)} | {_f(r['sync']['s'], 1)} | "
                         f"{_f(r['restart']['total_s'], 1)} |")
        lines.append("")
    for r in e2e:
        api = r.get("api")
        if not api:
            continue
        lines += [f"## Through the HTTP API at N={r['n']:,} (`bench_api.py`, load generator in another process)", ""]
        if api.get("error"):
            lines += [f"Not measured: {api['error']}", ""]
            continue
        lines += ["| route | concurrency | p50 ms | p99 ms | req/s | bare p50 ms | API / bare |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, run in api["runs"].items():
            bare = api["bare"]["text_encode_plus_search_ms" if name.startswith("match_text") else "talent_search_ms"]
            lat = run["latency_ms"]
            lines.append(f"| `{run['route']}` | {run['concurrency']} | {_f(lat.get('p50'), 1)} | "
                         f"{_f(lat.get('p99'), 1)} | {_f(run['throughput_rps'], 1)} | {_f(bare.get('p50'), 2)} | "
                         f"{api['ratio_p50'].get(name, '–')}× |")
        lines.append("")
    return lines


def summarise_fair(fair: dict[str, Any]) -> list[str]:
    s, runs = fair.get("setup", {}), fair.get("run", {})
    lines = ["## Job-fair batch matching (`bench_fair.py`)", ""]
    if not runs:
        return lines + ["No run in the results file.", ""]
    lines += [f"{s.get('seekers', '?'):,} seekers × {s.get('posts', '?'):,} posts.", "",
              "| mode | run_fair wall s | scored pairs | interviews | total fit | seekers with an interview |",
              "|---|---:|---:|---:|---:|---:|"]
    for mode in ("optimal", "stable"):
        r = runs.get(mode)
        if r:
            lines.append(f"| {mode} | {_f(r['wall_s'], 1)} | {r['scored_pairs']:,} | {r['interviews']:,} | "
                         f"{_f(r['total_fit'], 1)} | {r['seeker_share'] * 100:.1f}% |")
    return lines + [""]


def summary(res: dict[str, Any], out: Path) -> str:
    date = res["date"]
    q = "-quick" if res["quick"] else ""
    lines = [f"# talentmatch benchmarks — {date}", "",
             f"One run of `bench/run_all.py`{' --quick' if res['quick'] else ''} on {res['cpus']} CPUs; commit "
             f"{res.get('git')}; total {res['total_s']:.0f}s; load average {res['loadavg_start']} → "
             f"{res['loadavg_end']}. Full reports: `eval{q}-{date}.md`, `core{q}-{date}.md`, "
             f"`fair{q}-{date}.md` in this folder.", "",
             "| step | exit | wall s | load avg (1 min) start → end |", "|---|---:|---:|---|"]
    for step, r in res["steps"].items():
        if r.get("skipped"):
            lines.append(f"| {step} | – | – | skipped: {r['skipped']} |")
        else:
            lines.append(f"| {step} | {r['exit_code']} | {r['wall_s']:.0f} | "
                         f"{r['loadavg_start'][:1]} → {r['loadavg_end'][:1]} |")
    lines.append("")
    if res["loadavg_peak"] > res["cpus"] * 0.75:
        lines += [f"**The machine was busy during the run (load average up to {res['loadavg_peak']}): "
                  "timings are inflated; compare runs only on quiet machines.**", ""]
    ev = latest(out, f"eval{q}", date) if "eval" in res["steps"] else None
    core = latest(out, f"core{q}", date) if "core" in res["steps"] else None
    fair = latest(out, f"fair{q}", date) if "fair" in res["steps"] else None
    speed = out / "speed-latest.md" if "speed" in res["steps"] and "exit_code" in res["steps"]["speed"] else None
    if speed is not None and speed.exists():
        lines += ["## Speed at real volumes (`bench_speed.py`, issue 17)", "",
                  *speed.read_text(encoding="utf-8").splitlines()[2:], ""]
    for data, fn in ((ev, summarise_eval), (core, summarise_core), (fair, summarise_fair)):
        if data:
            try:
                lines += fn(data)
            except (KeyError, TypeError) as exc:  # a step's format changed: say so, keep the rest
                lines += [f"(could not summarise a step: {type(exc).__name__} {exc})", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="every step in its smoke mode")
    ap.add_argument("--skip", default="", help=f"comma-separated steps to skip ({', '.join(STEPS)})")
    ap.add_argument("--out", type=Path, default=BENCH / "results")
    for step in STEPS:
        ap.add_argument(f"--{step}-args", default="", help=f"extra arguments for bench_{step}.py")
    args = ap.parse_args(argv)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    logs = Path(tempfile.mkdtemp(prefix="talentmatch-bench-logs-"))  # progress logs stay out of the repo
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    res: dict[str, Any] = {"date": dt.date.today().isoformat(), "quick": args.quick, "git": git_rev(),
                           "cpus": len(os.sched_getaffinity(0)), "loadavg_start": loadavg(), "steps": {}}
    peak = res["loadavg_start"][0] if res["loadavg_start"] else 0.0
    for step in STEPS:
        if step in skip:
            res["steps"][step] = {"skipped": "--skip"}
            continue
        cmd = step_command(step, args, out)
        if cmd is None:
            note = f"bench/bench_{step}.py does not exist yet (hook left in run_all.py)"
            log(f"{step}: skipped, {note}")
            res["steps"][step] = {"skipped": note}
            continue
        res["steps"][step] = run_step(step, cmd, logs)
        peak = max([peak, *res["steps"][step]["loadavg_end"][:1]])
    res["loadavg_end"] = loadavg()
    res["loadavg_peak"] = peak
    res["total_s"] = round(time.perf_counter() - T0, 1)
    md = summary(res, out)
    prefix = "summary-quick" if args.quick else "summary"
    for name in (f"{prefix}-{res['date']}", f"{prefix}-latest"):
        (out / f"{name}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        (out / f"{name}.md").write_text(md + "\n", encoding="utf-8")
    print(md)
    log(f"wrote {out}/{prefix}-{res['date']}.md and {prefix}-latest.md")
    return 0 if all(r.get("exit_code", 0) == 0 for r in res["steps"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
