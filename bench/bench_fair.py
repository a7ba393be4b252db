#!/usr/bin/env python
"""Job-fair benchmark: a fair of 5,000 seekers × 1,000 posts, end to end.

A measurement script, not a test: it never asserts on timings. It prints a markdown report on
stdout (progress on stderr) and writes ``bench/results/fair-<date>.json`` and ``.md``
(``fair-quick-<date>.*`` for ``--quick``).

Usage::

    python -m bench.bench_fair                 # 5,000 × 1,000, capacities 3–10, limit 3 (~3–6 min)
    python -m bench.bench_fair --quick         # 1,000 × 200 smoke run
    python -m bench.bench_fair --no-flow       # skip the slow networkx min-cost-flow comparison

What is real and what is synthetic:

- **records**: SYNTHETIC seekers and posts made by ``scripts/generate_demo.py``'s generators
  (the demo data's archetypes, skills, chains and cities), scaled to the asked sizes;
- **vectors**: the deterministic ``fake`` encoder (hashed character n-grams, 384 dims), so
  that no model runs; texts that share words get similar vectors, which is all the candidate
  step needs;
- **scoring, assignment, schedule, report, storage**: the REAL code (``MatchService.score_pair``
  on every candidate pair, ``matcher.fair.engine.run_fair``, an SQLite store).

Sections:

1. ``setup``: generate, store and index the records; create the fair (``create_fair``).
2. ``run``: ``run_fair`` in each mode; the time of every stage (load, scoring, optimal, stable,
   schedule, report, explain, save), the whole run, and the peak RSS of the process.
3. ``export``: the XLSX of a run.
4. ``solvers``: the exact optimum of the same candidate pairs by the HiGHS LP (the default),
   the MILP, networkx min-cost flow, and ``linear_sum_assignment``: exact on capacity-expanded
   slots only when every seeker limit is 1 (measured on that variant), and what naive
   expansion of both sides does when limits are 3 (on a sub-fair, since its dense matrix is
   Σlimits × Σcapacities).
5. ``topn``: on a sub-fair, the optimum over candidate pairs from top-N / top-M by cosine
   against the optimum over every pair, to choose the default N.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[bench {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return peak_rss_mb()


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


class Timer:
    def __enter__(self) -> Timer:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = round(time.perf_counter() - self.w0, 3)
        self.cpu = round(time.process_time() - self.c0, 3)


# --------------------------------------------------------------------------- data


def synthetic_records(n_seekers: int, n_posts: int, seed: int) -> tuple[list[Any], list[Any]]:
    """Open, valid demand entries and active talents from the demo generators, scaled."""
    from matcher.domain.schemas import DemandEntry, TalentProfile
    from scripts import generate_demo as g

    ref = g.load_refdata(ROOT / "data")
    g.check_archetypes(ref)
    from scripts import demo_records as recs  # the record makers read these sizes as module globals

    recs.N_ENTERPRISES = max(recs.N_ENTERPRISES, n_posts // 4)
    recs.MIN_DEMANDS = int(n_posts * 1.4) + 20
    recs.N_TALENTS = int(n_seekers * 1.15) + 20
    enterprises = g.make_enterprises(random.Random(seed), ref)
    demands = g.make_demands(random.Random(seed + 1), ref, enterprises)
    talents = g.make_talents(random.Random(seed + 2), ref)
    today = dt.date.today()
    entries = []
    for d in demands:
        d = {k: v for k, v in d.items() if k != "enterprise_id"}
        e = DemandEntry.model_validate(d)
        if e.status == "open" and (e.valid_until is None or e.valid_until >= today):
            entries.append(e)
    profiles = [p for p in (TalentProfile.model_validate(t) for t in talents) if p.status == "active"]
    if len(entries) < n_posts or len(profiles) < n_seekers:
        raise SystemExit(f"generator gave {len(entries)} posts / {len(profiles)} seekers, too few")
    return profiles[:n_seekers], entries[:n_posts]


# --------------------------------------------------------------------------- sections


def setup(n_seekers: int, n_posts: int, seed: int, data_dir: Path) -> dict[str, Any]:
    from matcher.core.settings import Settings
    from matcher.fair.engine import FairCreate, PostIn, SeekerIn, WishIn, create_fair
    from matcher.wiring import build_service
    from models.encoders import FakeEncoder

    out: dict[str, Any] = {}
    with Timer() as t:
        profiles, entries = synthetic_records(n_seekers, n_posts, seed)
    out["generate_s"] = t.wall
    log(f"generated {len(profiles)} seekers, {len(entries)} posts in {t.wall:.1f}s")
    settings = Settings(data_dir=data_dir, reference_dir=ROOT / "data", encoder="fake")
    svc = build_service(settings, encoder=FakeEncoder(384))
    with Timer() as t:
        dids = svc.add("demand", entries)
        tids = svc.add("talent", profiles)
        svc.ensure_index("demand")
    out["store_and_index_s"] = t.wall
    log(f"stored and indexed the records in {t.wall:.1f}s")
    rng = random.Random(seed)
    posts = [PostIn(demand_id=d, capacity=rng.randint(3, 10)) for d in dids]
    seekers = [SeekerIn(talent_id=t, limit=3) for t in tids]
    ext_t = {t: p.external_id for t, p in zip(tids, profiles, strict=True)}
    ext_d = {d: e.external_id for d, e in zip(dids, entries, strict=True)}
    wishes = []
    for t in rng.sample(tids, len(tids) // 5):  # a fifth of the seekers rank 1-3 posts
        for rank, d in enumerate(rng.sample(dids, rng.randint(1, 3)), start=1):
            wishes.append(WishIn(seeker=ext_t[t], post=ext_d[d], rank=rank))
    for _ in range(len(dids) // 10):
        wishes.append(WishIn(kind="must_see", seeker=ext_t[rng.choice(tids)], post=ext_d[rng.choice(dids)]))
        wishes.append(WishIn(kind="exclude", seeker=ext_t[rng.choice(tids)], post=ext_d[rng.choice(dids)]))
    # random must-see / exclude may collide on a pair: keep the first of each pair
    seen: set[tuple[str, str | None]] = set()
    wishes = [w for w in wishes if w.kind == "seeker" or not ((w.seeker, w.post) in seen or seen.add((w.seeker, w.post)))]
    # booths per enterprise; 10-minute interviews, as many slots as each booth's capacity
    fair = FairCreate(name=f"基准招聘会 {n_seekers}×{n_posts}", posts=posts, seekers=seekers, wishes=wishes,
                      slot_minutes=10)
    with Timer() as t:
        detail = create_fair(svc, fair)
    out.update(create_fair_s=t.wall, fair_id=detail.id, seekers=len(detail.seekers), posts=len(detail.posts),
               capacity=sum(p.capacity for p in detail.posts), booths=len(detail.booths),
               booth_slots=len(detail.slots), wishes=len(detail.wishes))
    log(f"created the fair in {t.wall:.1f}s: {out}")
    svc.close()
    return out


def run_modes(data_dir: Path, fair_id: int, min_score: float, top_n: int, post_top: int,
              out_dir: Path, executor: str = "local", workers: int | None = None,
              address: str | None = None) -> tuple[dict[str, Any], Any]:
    from matcher.core.settings import Settings
    from matcher.fair.engine import FairRunOptions, run_fair
    from matcher.fair.files import write_result
    from matcher.wiring import build_service
    from models.encoders import FakeEncoder

    settings = Settings(data_dir=data_dir, reference_dir=ROOT / "data", encoder="fake")
    results: dict[str, Any] = {}
    last = None
    for mode in ("optimal", "stable"):
        gc.collect()
        svc = build_service(settings, encoder=FakeEncoder(384))  # a fresh process state, as the CLI
        rss0 = rss_mb()
        kw: dict[str, Any] = {}
        if executor == "ray":
            from matcher.batch.fair import RayPairScorer

            kw["scorer"] = RayPairScorer(svc.settings, svc.weights, address=address, workers=workers)
        with Timer() as t:
            res = run_fair(svc, fair_id, FairRunOptions(mode=mode, min_score=min_score, top_n=top_n,
                                                        post_top=post_top), **kw)
        r = res.report
        results[mode] = {
            "wall_s": t.wall, "cpu_s": t.cpu, "stages_s": {**r.timings, "save": round(t.wall - r.timings["total"], 3)}, "rss_before_mb": round(rss0, 1),
            "rss_after_mb": round(rss_mb(), 1), "peak_rss_mb": round(peak_rss_mb(), 1),
            "candidate_pairs": r.candidate_pairs, "scored_pairs": r.scored_pairs,
            "ineligible_pairs": r.ineligible_pairs, "below_min_pairs": r.below_min_pairs,
            "kept_pairs": r.scored_pairs - r.ineligible_pairs - r.below_min_pairs,
            "us_per_scored_pair": round(r.timings["scoring"] / max(r.scored_pairs, 1) * 1e6, 1),
            "interviews": r.interviews, "total_fit": r.total_fit, "mean_fit": r.mean_fit,
            "seeker_share": r.seeker_share, "capacity_fill": r.capacity_fill, "scheduled": r.scheduled,
            "unscheduled": r.unscheduled, "schedule_repairs": r.schedule_repairs,
            "blocking_pairs": r.blocking_pairs, "optimal_total": r.optimal_total,
            "stable_total": r.stable_total, "welfare_gap": r.welfare_gap,
            "welfare_gap_share": r.welfare_gap_share, "must_see": [r.must_see_met, r.must_see_pairs],
            "first_wish_met": [r.first_wish_met, r.seekers_with_wishes], "load_avg": loadavg(),
        }
        log(f"run {mode}: {t.wall:.1f}s, stages {r.timings}")
        last = res
        if mode == "optimal":
            optimal_result = res
        svc.close()
    with Timer() as t:
        files = write_result(last, out_dir / "fair-bench-result.xlsx")
    results["export_xlsx"] = {"wall_s": t.wall, "bytes": files[0].stat().st_size, "rows": len(last.assignments)}
    files[0].unlink()
    return results, optimal_result


def ray_runs(data_dir: Path, fair_id: int, min_score: float, top_n: int, post_top: int, workers: list[int],
             address: str | None, local_result: Any) -> dict[str, Any]:
    """The optimal run with its pairs scored on Ray by each number of workers (a local Ray of
    that many CPUs unless ``address``): stages, Ray's start and scoring time, and whether the
    assignments equal the in-process run's."""
    from matcher.batch.fair import RayPairScorer
    from matcher.core.settings import Settings
    from matcher.fair.engine import FairRunOptions, run_fair
    from matcher.wiring import build_service
    from models.encoders import FakeEncoder

    settings = Settings(data_dir=data_dir, reference_dir=ROOT / "data", encoder="fake")
    out: dict[str, Any] = {}
    for w in workers:
        gc.collect()
        svc = build_service(settings, encoder=FakeEncoder(384))
        scorer = RayPairScorer(svc.settings, svc.weights, address=address, workers=w)
        with Timer() as t:
            res = run_fair(svc, fair_id, FairRunOptions(mode="optimal", min_score=min_score, top_n=top_n,
                                                        post_top=post_top, save=False), scorer=scorer)
        same = ([a.model_dump() for a in res.assignments] == [a.model_dump() for a in local_result.assignments])
        out[str(w)] = {"wall_s": t.wall, "stages_s": res.report.timings, "ray_s": scorer.timings,
                       "workers_used": scorer.used, "same_assignments_as_in_process": same, "load_avg": loadavg()}
        log(f"ray {w} workers: {t.wall:.1f}s, stages {res.report.timings}, ray {scorer.timings}, same {same}")
        svc.close()
    return out


def solvers(data_dir: Path, fair_id: int, min_score: float, top_n: int, post_top: int,
            with_flow: bool) -> dict[str, Any]:
    from scipy.optimize import Bounds, LinearConstraint, milp

    from matcher.core.settings import Settings
    from matcher.fair import engine as F
    from matcher.fair.engine import FairRunOptions, Instance, get_fair, score_candidates
    from matcher.wiring import build_service
    from models.encoders import FakeEncoder

    settings = Settings(data_dir=data_dir, reference_dir=ROOT / "data", encoder="fake")
    svc = build_service(settings, encoder=FakeEncoder(384))
    fair = get_fair(svc, fair_id)
    cand = score_candidates(svc, fair, FairRunOptions(min_score=min_score, top_n=top_n, post_top=post_top))
    inst = Instance({s.talent_id: s.limit for s in fair.seekers}, {p.demand_id: p.capacity for p in fair.posts},
                    cand.pairs)
    out: dict[str, Any] = {"pairs": len(inst.pairs), "seekers": len(inst.limits), "posts": len(inst.capacities)}

    def timed(label: str, fn: Any, inst_: Instance) -> None:
        gc.collect()
        with Timer() as t:
            m = fn(inst_)
        F.check_feasible(inst_, m)
        out[label] = {"wall_s": t.wall, "total": round(F.total_fit(m), 4), "interviews": len(m)}
        log(f"solver {label}: {t.wall:.2f}s total {out[label]['total']}")

    timed("lp_highs_dual_simplex", lambda i: F.solve_optimal(i, "lp"), inst)

    def milp_solve(i: Instance) -> list[Any]:
        from matcher.fair.solve import _incidence, _weights

        a, b, _, _ = _incidence(i)
        w = _weights(i)
        res = milp(-w, constraints=LinearConstraint(a, -np.inf, b), bounds=Bounds(0, 1), integrality=np.ones(len(w)))
        return [p for p, v in zip(i.pairs, res.x, strict=True) if v > 0.5]

    timed("milp_highs", milp_solve, inst)
    if with_flow:
        timed("min_cost_flow_networkx", lambda i: F.solve_optimal(i, "flow"), inst)
    unit = Instance(dict.fromkeys(inst.limits, 1), inst.capacities, inst.pairs)
    cells = len(unit.limits) * sum(unit.capacities.values())
    out["unit_limit_variant"] = {"matrix_cells": cells, "matrix_mb": round(cells * 8 / 2**20, 1)}
    timed("unit_lp", lambda i: F.solve_optimal(i, "lp"), unit)
    timed("unit_linear_sum_assignment", lambda i: F.solve_optimal(i, "assignment"), unit)
    svc.close()
    return out


def naive_expansion(inst_pairs: list[Any], limits: dict[int, int], caps: dict[int, int]) -> dict[str, Any]:
    """linear_sum_assignment on both sides expanded (seeker copies × post copies): fast to
    write, wrong for limits > 1, since copies of one seeker may take copies of one post."""
    from scipy.optimize import linear_sum_assignment

    from matcher.fair import engine as F

    seekers, posts = sorted(limits), sorted(caps)
    soff = np.cumsum([0] + [limits[s] for s in seekers])
    poff = np.cumsum([0] + [caps[p] for p in posts])
    si = {s: i for i, s in enumerate(seekers)}
    pj = {p: j for j, p in enumerate(posts)}
    w = np.zeros((int(soff[-1]), int(poff[-1])))
    for p in inst_pairs:
        i, j = si[p.seeker], pj[p.post]
        w[soff[i] : soff[i + 1], poff[j] : poff[j + 1]] = p.score
    with Timer() as t:
        r, c = linear_sum_assignment(w, maximize=True)
    keep = w[r, c] > 0
    rows = np.searchsorted(soff, r[keep], side="right") - 1
    cols = np.searchsorted(poff, c[keep], side="right") - 1
    got = list(zip(rows.tolist(), cols.tolist(), strict=True))
    exact = F.solve_optimal(F.Instance(limits, caps, inst_pairs), "lp")
    return {"wall_s": t.wall, "matrix": list(w.shape), "matrix_mb": round(w.nbytes / 2**20, 1),
            "assignments": len(got), "duplicate_pairs": len(got) - len(set(got)),
            "total_with_duplicates": round(float(w[r, c].sum()), 4), "exact_total": round(F.total_fit(exact), 4)}


def topn_sweep(data_dir: Path, fair_id: int, min_score: float, n_seekers: int) -> dict[str, Any]:
    """On a sub-fair (the first ``n_seekers`` seekers, every post, capacities scaled by the
    same factor so that competition stays as in the full fair): the optimum over top-N /
    top-M candidates against the optimum over every pair."""
    from matcher.core.settings import Settings
    from matcher.fair.engine import (
        FairDetail,
        FairRunOptions,
        Instance,
        get_fair,
        score_candidates,
        solve_optimal,
        total_fit,
    )
    from matcher.wiring import build_service
    from models.encoders import FakeEncoder

    settings = Settings(data_dir=data_dir, reference_dir=ROOT / "data", encoder="fake")
    svc = build_service(settings, encoder=FakeEncoder(384))
    full = get_fair(svc, fair_id)
    factor = n_seekers / len(full.seekers)
    dump = full.model_dump()
    posts = [{**p, "capacity": max(1, round(p["capacity"] * factor))} for p in dump["posts"]]
    sub = FairDetail.model_validate({**dump, "seekers": dump["seekers"][:n_seekers], "posts": posts, "wishes": []})
    limits = {s.talent_id: s.limit for s in sub.seekers}
    caps = {p.demand_id: p.capacity for p in sub.posts}
    out: dict[str, Any] = {"seekers": len(limits), "posts": len(caps), "capacity": sum(caps.values())}
    log(f"topn: scoring every pair of {len(limits)} x {len(caps)}")
    with Timer() as t:
        every = score_candidates(svc, sub, FairRunOptions(min_score=min_score, top_n=len(caps), post_top=0))
    opt = solve_optimal(Instance(limits, caps, every.pairs))
    best = total_fit(opt)
    out["all_pairs"] = {"pairs": len(every.pairs), "scored": every.stats["scored_pairs"], "total": round(best, 4),
                        "seekers_covered": len({p.seeker for p in opt}), "scoring_s": t.wall}
    log(f"topn: all {len(every.pairs)} kept pairs, optimum {best:.2f}")
    for top_n, post_top in ((10, 0), (20, 0), (20, 20), (40, 0), (40, 20), (80, 20), (160, 20)):
        with Timer() as t:
            cand = score_candidates(svc, sub, FairRunOptions(min_score=min_score, top_n=top_n, post_top=post_top))
        m = solve_optimal(Instance(limits, caps, cand.pairs))
        out[f"top{top_n}_post{post_top}"] = {
            "scored": cand.stats["scored_pairs"], "kept": len(cand.pairs), "total": round(total_fit(m), 4),
            "share_of_optimum": round(total_fit(m) / best, 4) if best else None,
            "seekers_covered": len({p.seeker for p in m}), "scoring_s": t.wall}
        log(f"topn {top_n}/{post_top}: {out[f'top{top_n}_post{post_top}']}")
    n_naive = min(len(limits), 400)
    sub_limits = dict(list(limits.items())[:n_naive])
    sub_pairs = [p for p in every.pairs if p.seeker in sub_limits]
    out["naive_lsa_expansion"] = naive_expansion(sub_pairs, sub_limits, caps)
    svc.close()
    return out


# --------------------------------------------------------------------------- report


def markdown(res: dict[str, Any]) -> str:
    s, runs = res["setup"], res["run"]
    lines = [f"# Fair benchmark — {res['date']}", "",
             f"{s['seekers']:,} seekers × {s['posts']:,} posts (capacities 3–10, Σ {s['capacity']:,}; limit 3), "
             f"{s['booths']} booths, {s['wishes']} wishes; min_score {res['params']['min_score']}, "
             f"top-N {res['params']['top_n']}, post top-M {res['params']['post_top']}. "
             f"Machine: {res['machine']['cpus']} CPUs, load average at start {res['machine']['load_avg_start']}. "
             "Records are synthetic (demo generators), vectors from the `fake` encoder; scoring, "
             "assignment, schedule and storage are the real code.", "",
             "## One run (`run_fair`)", "",
             "| stage | optimal run (s) | stable run (s) |", "|---|---:|---:|"]
    for k in runs["optimal"]["stages_s"]:
        lines.append(f"| {k} | {runs['optimal']['stages_s'][k]:.2f} | {runs['stable']['stages_s'].get(k, 0):.2f} |")
    o = runs["optimal"]
    lines += [f"| wall (whole `run_fair`) | {o['wall_s']:.2f} | {runs['stable']['wall_s']:.2f} |", "",
              "Every run solves both modes (the report compares them); `optimal` and `stable` rows are the two solvers, "
              "`scoring` is loading the records, vectors + cosine + top-N + the two-sided score of every "
              "candidate (`PairScorer.score_many` since the batch scorer; `score_pair` pair by pair before), "
              "`explain` builds the "
              "Chinese reason of every interview; `total` is the run before storing it, the wall time "
              "includes storing the run and its assignments. The first run's `optimal` includes importing "
              "scipy.optimize.", "",
              f"- candidate pairs {o['candidate_pairs']:,}; scored {o['scored_pairs']:,} "
              f"({o['us_per_scored_pair']} µs per pair, all of scoring); ineligible {o['ineligible_pairs']:,}; "
              f"below min_score {o['below_min_pairs']:,}; kept {o['kept_pairs']:,}",
              f"- peak RSS {o['peak_rss_mb']:.0f} MB (process, after the optimal run: {o['rss_after_mb']:.0f} MB)",
              f"- optimal: {o['interviews']:,} interviews, total fit {o['total_fit']:.1f}, "
              f"seekers with an interview {o['seeker_share'] * 100:.1f}%, capacity filled {o['capacity_fill'] * 100:.1f}%, "
              f"blocking pairs {o['blocking_pairs']:,}",
              f"- stable: {runs['stable']['interviews']:,} interviews, total fit {runs['stable']['total_fit']:.1f}, "
              f"blocking pairs {runs['stable']['blocking_pairs']}; welfare gap {o['welfare_gap']:.2f} "
              f"({o['welfare_gap_share'] * 100:.2f}%)",
              f"- schedule: {o['scheduled']:,} placed, {o['unscheduled']} unscheduled, {o['schedule_repairs']} path repairs",
              f"- XLSX export: {runs['export_xlsx']['wall_s']:.2f} s, {runs['export_xlsx']['bytes'] / 1e6:.1f} MB, "
              f"{runs['export_xlsx']['rows']:,} rows", ""]
    ray = res.get("ray")
    if ray:
        lines += ["## Scoring on Ray (optimal run, local Ray started for the run)", "",
                  "| workers | whole run (s) | scoring stage (s) | of which Ray start + actors ready (s) | "
                  "scoring the shards (s) | shards | same assignments as in process | load average |",
                  "|---:|---:|---:|---:|---:|---:|---|---|"]
        for w, v in ray.items():
            lines.append(f"| {w} | {v['wall_s']:.2f} | {v['stages_s']['scoring']:.2f} | {v['ray_s'].get('connect', 0):.2f} | "
                         f"{v['ray_s'].get('score', 0):.2f} | {v['ray_s'].get('shards', 0)} | "
                         f"{v['same_assignments_as_in_process']} | {v['load_avg']} |")
        lines.append("")
    sv = res.get("solvers")
    if sv:
        lines += ["## Exact optimum of the same candidates", "",
                  f"{sv['pairs']:,} pairs, {sv['seekers']:,} seekers, {sv['posts']:,} posts.", "",
                  "| solver | time (s) | total fit | interviews |", "|---|---:|---:|---:|"]
        for k, v in sv.items():
            if isinstance(v, dict) and "wall_s" in v:
                lines.append(f"| {k} | {v['wall_s']:.2f} | {v['total']:.4f} | {v['interviews']:,} |")
        u = sv["unit_limit_variant"]
        lines += ["", f"`unit_*`: the same pairs with every seeker limit set to 1, where "
                  f"`linear_sum_assignment` on capacity-expanded post slots is exact (dense matrix "
                  f"{u['matrix_cells']:,} cells, {u['matrix_mb']:.0f} MB).", ""]
    tn = res.get("topn")
    if tn:
        lines += [f"## Top-N candidates vs every pair (sub-fair {tn['seekers']:,} seekers × {tn['posts']:,} posts, "
                  f"capacities scaled to Σ {tn['capacity']:,})", "",
                  "| candidates | scored | kept | total fit | share of optimum | seekers covered | scoring (s) |",
                  "|---|---:|---:|---:|---:|---:|---:|",
                  f"| every pair | {tn['all_pairs']['scored']:,} | {tn['all_pairs']['pairs']:,} | "
                  f"{tn['all_pairs']['total']:.2f} | 100% | {tn['all_pairs']['seekers_covered']:,} | "
                  f"{tn['all_pairs']['scoring_s']:.1f} |"]
        for k, v in tn.items():
            if k.startswith("top"):
                lines.append(f"| {k} | {v['scored']:,} | {v['kept']:,} | {v['total']:.2f} | "
                             f"{v['share_of_optimum'] * 100:.2f}% | {v['seekers_covered']:,} | {v['scoring_s']:.1f} |")
        nv = tn["naive_lsa_expansion"]
        lines += ["", f"Naive `linear_sum_assignment` with both sides expanded (limit 3; the sub-fair's first "
                  f"{nv['matrix'][0] // 3} seekers): matrix "
                  f"{nv['matrix'][0]:,} × {nv['matrix'][1]:,} ({nv['matrix_mb']:.0f} MB), {nv['wall_s']:.2f} s, "
                  f"{nv['duplicate_pairs']} of {nv['assignments']} assignments repeat a (seeker, post) pair "
                  f"(its total {nv['total_with_duplicates']:.2f} vs the true optimum {nv['exact_total']:.2f}): "
                  "not a valid answer when limits and capacities both exceed 1.", ""]
    return "\n".join(lines) + "\n"


def _code_version() -> str:
    """The commit of the matcher package measured (its checkout's HEAD), "+dirty" if edited."""
    import subprocess

    import matcher

    where = Path(matcher.__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(where), "status", "--porcelain", "matcher"], capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{where.name}@{head}{'+dirty' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seekers", type=int, default=5000)
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="1,000 × 200")
    ap.add_argument("--seed", type=int, default=20261121)
    ap.add_argument("--min-score", type=float, default=0.3)
    ap.add_argument("--top-n", type=int, default=40)
    ap.add_argument("--post-top", type=int, default=20)
    ap.add_argument("--no-flow", action="store_true", help="skip networkx min-cost flow (slow)")
    ap.add_argument("--no-topn", action="store_true")
    ap.add_argument("--topn-seekers", type=int, default=1000, help="seekers of the top-N sub-fair (every post)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    ap.add_argument("--runs-only", action="store_true", help="only setup and the two runs (no solvers, no top-N)")
    ap.add_argument("--executor", choices=("local", "ray"), default="local", help="where the pairs are scored")
    ap.add_argument("--workers", type=int, default=None, help="Ray workers (local Ray of this many CPUs)")
    ap.add_argument("--ray-address", default=None, help="join this Ray cluster (default: a local one)")
    ap.add_argument("--tag", default="", help="suffix of the result files' name (fair-<date>-<tag>)")
    ap.add_argument("--ray-workers", type=int, nargs="*", default=[],
                    help="also run the optimal mode with its pairs scored on Ray by each of these worker counts")
    args = ap.parse_args(argv)
    if args.quick:
        args.seekers, args.posts = 1000, 200
    res: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "params": {"seekers": args.seekers, "posts": args.posts, "seed": args.seed, "min_score": args.min_score,
                   "top_n": args.top_n, "post_top": args.post_top, "executor": args.executor,
                   "workers": args.workers, "code": _code_version()},
        "machine": {"cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
                    "load_avg_start": loadavg()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fair-bench-") as tmp:
        data_dir = Path(tmp) / "var"
        res["setup"] = setup(args.seekers, args.posts, args.seed, data_dir)
        fair_id = res["setup"]["fair_id"]
        res["run"], last = run_modes(data_dir, fair_id, args.min_score, args.top_n, args.post_top, args.out,
                                     args.executor, args.workers, args.ray_address)
        if args.ray_workers:
            res["ray"] = ray_runs(data_dir, fair_id, args.min_score, args.top_n, args.post_top, args.ray_workers,
                                  args.ray_address, last)
        if not args.runs_only:
            res["solvers"] = solvers(data_dir, fair_id, args.min_score, args.top_n, args.post_top, not args.no_flow)
        if not args.no_topn and not args.runs_only:
            res["topn"] = topn_sweep(data_dir, fair_id, args.min_score, min(args.seekers, args.topn_seekers))
    res["machine"]["load_avg_end"] = loadavg()
    res["peak_rss_mb"] = round(peak_rss_mb(), 1)
    md = markdown(res)
    stem = f"fair-{'quick-' if args.quick else ''}{res['date']}{'-' + args.tag if args.tag else ''}"
    (args.out / f"{stem}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(md, encoding="utf-8")
    sys.stdout.write(md)
    log(f"wrote {args.out / stem}.json and .md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
