"""Running a fair: candidates from the core's two-sided scores, assignment, schedule, report; views of a run."""

from __future__ import annotations

import time as _time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.core.errors import InvalidInput
from matcher.core.gcpause import gc_paused
from matcher.domain.fair import (
    Assignment,
    FairDetail,
    FairReport,
    FairRunOptions,
    FairRunResult,
    Progress,
    Slot,
    UnmatchedSeeker,
    booth_warnings,
    format_clock,
    parse_clock,
)
from matcher.domain.schemas import (
    DemandEntry,
    MatchFilters,
    TalentProfile,
)
from matcher.fair.create import fair_repo
from matcher.fair.report import fair_report
from matcher.fair.schedule import ScheduleResult, schedule_interviews
from matcher.fair.solve import Instance, Pair, solve_optimal, solve_stable
from matcher.ranking.scorer import ScoredMany, closed_to_fresh

if TYPE_CHECKING:  # pragma: no cover
    from matcher.domain.auth import Principal
    from matcher.service import MatchService


# -- running a fair ----------------------------------------------------------------------------


@dataclass
class Candidates:
    """Scored acceptable pairs of a fair, with the loaded records and counts."""

    pairs: list[Pair]
    profiles: dict[int, TalentProfile]
    entries: dict[int, DemandEntry]
    cosine: dict[tuple[int, int], float]
    stats: dict[str, int]
    # per seeker: how many candidate posts were filtered, ineligible, below the threshold, and
    # the best score among those below it (why a seeker may get no interview)
    refused: dict[int, Counter] = field(default_factory=dict)
    best_below: dict[int, float] = field(default_factory=dict)
    # the scorer's components of every pair, aligned with ``pairs``, when the scorer gives them
    # (in process; the Ray scorer does not): an interview's reason reads them
    comp: dict[str, np.ndarray] = field(default_factory=dict)


PairScorer = Callable[[list[TalentProfile], list[DemandEntry], np.ndarray, np.ndarray, np.ndarray, float], ScoredMany]
"""Scores candidate pairs as :meth:`matcher.ranking.scorer.PairScorer.score_many` does
(``profiles, entries, seeker positions, post positions, cosines, background``): the service's
scorer in process (the default), or shards on Ray (:mod:`matcher.batch.fair`)."""


def score_candidates(service: MatchService, fair: FairDetail, options: FairRunOptions,
                     progress: Progress | None = None, *, background: float | None = None,
                     scorer: PairScorer | None = None, timings: dict[str, float] | None = None) -> Candidates:
    """Candidate pairs by cosine (top-N per seeker, top-M per post, wishes, must-see, minus
    excluded), scored by the core; ineligible and below-``min_score`` pairs dropped, except
    must-see pairs. ``timings`` gets the seconds of its steps (records, vectors, pairs, kept)."""
    t = _time.perf_counter()
    seeker_ids = [s.talent_id for s in fair.seekers]
    post_ids = [p.demand_id for p in fair.posts]
    # through the service's record cache: a later run of the process reads only what changed
    profiles = service.candidate_records("talent", seeker_ids)
    entries = service.candidate_records("demand", post_ids)
    seeker_ids = [i for i in seeker_ids if i in profiles]
    post_ids = [i for i in post_ids if i in entries]
    if not seeker_ids or not post_ids:
        raise InvalidInput("活动没有可匹配的岗位或求职者")
    t = _lap(timings, "scoring_records", t)
    vt = service.vectors("talent", seeker_ids)
    vd = service.vectors("demand", post_ids)
    cos = vt @ vd.T
    mask = _nearest(cos, options)
    s_idx = {s: i for i, s in enumerate(seeker_ids)}
    p_idx = {p: j for j, p in enumerate(post_ids)}
    wishes = _Wishes.of(fair, s_idx, p_idx)
    for s, p in list(wishes.rank) + list(wishes.must):
        mask[s_idx[s], p_idx[p]] = True
    for s, p in wishes.exclude:
        mask[s_idx[s], p_idx[p]] = False
    ii, jj = np.nonzero(mask)
    bg = service.background("demand") if background is None else background
    plist, elist = [profiles[s] for s in seeker_ids], [entries[p] for p in post_ids]
    filters = options.filters or MatchFilters()
    # for a seeker, the filters read only the post (``passes`` with ``for_seeker``)
    open_post = np.array([service.passes_filters(e, plist[0], filters, for_seeker=True) for e in elist], dtype=bool)
    keep = open_post[jj]
    if progress:
        progress("评分", 0, len(ii))
    t = _lap(timings, "scoring_vectors", t)
    score = scorer or service.scorer.score_many
    sc = score(plist, elist, ii[keep], jj[keep], cos[ii[keep], jj[keep]].astype(np.float64), bg)
    if progress:
        progress("评分", len(ii), len(ii))
    t = _lap(timings, "scoring_pairs", t)
    must = np.zeros(len(ii), dtype=bool)
    code = ii * len(post_ids) + jj  # ascending: np.nonzero's row-major order
    for s, p in wishes.must:
        must[np.searchsorted(code, s_idx[s] * len(post_ids) + p_idx[p])] = True
    cand = _kept(seeker_ids, post_ids, profiles, entries, (ii, jj, cos[ii, jj], must), keep, sc, wishes, options)
    _lap(timings, "scoring_kept", t)
    return cand


def _lap(timings: dict[str, float] | None, name: str, since: float) -> float:
    now = _time.perf_counter()
    if timings is not None:
        timings[name] = now - since
    return now


def _kept(seeker_ids: list[int], post_ids: list[int], profiles: dict[int, TalentProfile],
          entries: dict[int, DemandEntry], pairs: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
          keep: np.ndarray, sc: ScoredMany, wishes: _Wishes, options: FairRunOptions) -> Candidates:
    """The acceptable pairs of the candidates (``pairs``: seeker and post positions, cosines,
    must-see; ``keep``: those the filters let through, scored in order by ``sc``), and the
    counts of the others per seeker."""
    ii, jj, cos, must = pairs
    filters = options.filters or MatchFilters()
    score = np.zeros(len(ii))
    seeker, employer = np.zeros(len(ii)), np.zeros(len(ii))
    eligible = np.zeros(len(ii), dtype=bool)
    score[keep], seeker[keep], employer[keep], eligible[keep] = sc.score, sc.seeker, sc.employer, sc.eligible
    inel = keep & ~eligible & ~must & (not filters.include_ineligible)
    below = keep & ~inel & (score < options.min_score) & ~must
    kept = keep & ~inel & ~below
    n_s = len(seeker_ids)
    counts = {kind: np.bincount(ii[m], minlength=n_s) for kind, m in
              (("filtered", ~keep), ("ineligible", inel), ("below", below))}
    refused: dict[int, Counter] = {}
    for i in np.nonzero(counts["filtered"] + counts["ineligible"] + counts["below"])[0].tolist():
        refused[seeker_ids[i]] = Counter({k: int(c[i]) for k, c in counts.items() if c[i]})
    best = np.zeros(n_s)
    np.maximum.at(best, ii[below], score[below])
    best_below = {seeker_ids[i]: float(best[i]) for i in np.nonzero(counts["below"])[0].tolist()}
    stats = {"candidate_pairs": len(ii), "scored_pairs": int(keep.sum()), "ineligible_pairs": int(inel.sum()),
             "below_min_pairs": int(below.sum()), "filtered_pairs": int((~keep).sum())}
    k_idx = np.nonzero(kept)[0]
    s_of = np.asarray(seeker_ids, dtype=np.int64)[ii[k_idx]].tolist()
    p_of = np.asarray(post_ids, dtype=np.int64)[jj[k_idx]].tolist()
    keys = list(zip(s_of, p_of, strict=True))
    rank = wishes.rank
    ranks = [rank.get(key) for key in keys] if rank else [None] * len(keys)
    out = [Pair(*x) for x in zip(s_of, p_of, rounded(score[k_idx]), rounded(seeker[k_idx]),
                                 rounded(employer[k_idx]), ranks, must[k_idx].tolist(), strict=True)]
    cosine = dict(zip(keys, cos[k_idx].tolist(), strict=True))
    comp: dict[str, np.ndarray] = {}
    n_scored = int(keep.sum())
    if sc.comp and all(np.ndim(v) == 1 and len(v) == n_scored for v in sc.comp.values()):
        at = (np.cumsum(keep) - 1)[k_idx]  # the kept pairs' places among the scored ones
        comp = {name: np.asarray(v)[at] for name, v in sc.comp.items()}
    return Candidates(out, profiles, entries, cosine, stats, refused, best_below, comp)


def rounded(values: np.ndarray, digits: int = 6) -> list[float]:
    """``round(v, digits)`` of every value as Python floats, on arrays. Python rounds the exact
    binary value to the nearest decimal (ties to even) and reads that decimal back; ``rint(v *
    10**digits) / 10**digits`` is the same float (the division is correctly rounded) unless the
    product's own rounding moved it across a half: the values whose scaled fraction is within
    1e-6 of a half, or that are not finite or too large for exact integers, take Python's round."""
    values = np.asarray(values, dtype=np.float64)
    scale = 10.0 ** digits
    with np.errstate(invalid="ignore", over="ignore"):
        y = values * scale
        out = (np.rint(y) / scale).tolist()
        odd = ~(np.abs(y) < 2.0**52) | (np.abs(y - np.floor(y) - 0.5) < 1e-6)
    for k in np.nonzero(odd)[0].tolist():
        out[k] = round(float(values[k]), digits)
    return out


def _nearest(cos: np.ndarray, options: FairRunOptions) -> np.ndarray:
    """The pairs among each seeker's ``top_n`` posts and each post's ``post_top`` seekers by cosine."""
    n_s, n_p = cos.shape
    mask = np.zeros((n_s, n_p), dtype=bool)
    neg = -cos
    if options.top_n >= n_p:
        mask[:] = True
    else:
        mask[np.arange(n_s)[:, None], np.argpartition(neg, options.top_n - 1, axis=1)[:, : options.top_n]] = True
    if options.post_top:
        if options.post_top >= n_s:
            mask[:] = True
        else:
            # each post's column as a contiguous row: the same selection as along axis 0 (numpy
            # partitions every column as a copied 1-D lane), without striding through memory
            top = np.argpartition(np.ascontiguousarray(neg.T), options.post_top - 1, axis=1)[:, : options.post_top]
            mask[top, np.arange(n_p)[:, None]] = True
    return mask


@dataclass
class _Wishes:
    """A fair's wishes among its loaded seekers and posts, by (talent id, demand id)."""

    rank: dict[tuple[int, int], int]  # a seeker's wish and its rank
    must: set[tuple[int, int]]  # an enterprise's must-see
    exclude: set[tuple[int, int]]  # an enterprise's exclusion

    @classmethod
    def of(cls, fair: FairDetail, seekers: dict[int, int], posts: dict[int, int]) -> _Wishes:
        wishes = cls({}, set(), set())
        for w in fair.wishes:
            if w.talent_id not in seekers or w.demand_id not in posts:
                continue
            key = (w.talent_id, w.demand_id)
            if w.kind == "seeker":
                wishes.rank[key] = w.rank or 1
            elif w.kind == "must_see":
                wishes.must.add(key)
            else:
                wishes.exclude.add(key)
        return wishes


def _reason(service: MatchService, profile: TalentProfile, entry: DemandEntry, pair: Pair,
            cos: float, background: float, comp: dict[str, float] | None = None) -> str:
    """An interview's reason: wishes, the first reasons of the pair's explanation, its unmet
    requirements and missing skills (the parts of ``service.to_match``'s explanation it quotes,
    without building the rest). ``comp``: the pair's components from the batch scorer, the
    floats ``score_pair`` gives (tests/ranking/test_score_many.py); without them the pair is
    scored again."""
    explainer = service.explainer
    if comp is None:
        sc = service.score_pair(profile, entry, cos, background=background)
        comp, matched, missing = sc.comp, sc.matched, sc.missing
        unmet_reqs, unmet_fresh, experience_known = sc.unmet, sc.unmet_fresh, sc.experience_known
    else:  # what PairScorer.score adds to the components for a full pair
        skills = service.scorer.coverage(profile, entry)
        matched, missing = skills.matched, skills.missing + skills.pref_missing
        unmet_reqs = service.scorer.rules.unmet(profile, entry)
        unmet_fresh, experience_known = closed_to_fresh(profile, entry), True
    parts = []
    if pair.wish_rank:
        parts.append(f"求职者第 {pair.wish_rank} 志愿")
    if pair.must_see:
        parts.append("企业指定必面")
    parts += explainer.reasons(profile, entry, matched, comp, experience_known=experience_known)[:3]
    unmet = explainer.unmet_messages(unmet_reqs[:2])
    if unmet_fresh and len(unmet) < 2:
        unmet.append(explainer.fresh_message(entry))
    parts += unmet
    if missing:
        parts.append("欠缺技能：" + "、".join(missing[:5]))
    return "；".join(parts)



class _Timer:
    """Seconds per phase of a run, and in all."""

    def __init__(self) -> None:
        self.t0 = self.t = _time.perf_counter()
        self.timings: dict[str, float] = {}

    def start(self) -> None:
        self.t = _time.perf_counter()

    def stop(self, phase: str) -> None:
        self.timings[phase] = _time.perf_counter() - self.t

    def rounded(self) -> dict[str, float]:
        self.timings["total"] = _time.perf_counter() - self.t0
        return {k: round(v, 3) for k, v in self.timings.items()}


def run_fair(service: MatchService, fair_id: int, options: FairRunOptions | None = None,
             progress: Progress | None = None, *, actor: Principal | None = None,
             scorer: PairScorer | None = None) -> FairRunResult:
    """Match a fair: candidates, both modes (the report compares them), the schedule of the
    chosen mode, the report; stored as a run unless ``options.save`` is false. ``scorer``
    scores the candidate pairs (default: in process; :mod:`matcher.batch.fair` on Ray)."""
    with gc_paused():  # a run allocates many small acyclic objects: see matcher.core.gcpause
        return _run_fair(service, fair_id, options or FairRunOptions(), progress, actor, scorer)


def _run_fair(service: MatchService, fair_id: int, options: FairRunOptions, progress: Progress | None,
              actor: Principal | None, scorer: PairScorer | None) -> FairRunResult:
    timer = _Timer()
    repo = fair_repo(service)
    fair = repo.get(fair_id)
    bg = service.background("demand")
    timer.stop("load")

    timer.start()
    steps: dict[str, float] = {}
    cand = score_candidates(service, fair, options, progress, background=bg, scorer=scorer, timings=steps)
    timer.stop("scoring")
    timer.timings.update(steps)
    inst = Instance({s.talent_id: s.limit for s in fair.seekers if s.talent_id in cand.profiles},
                    {p.demand_id: p.capacity for p in fair.posts if p.demand_id in cand.entries},
                    cand.pairs)
    optimal, stable = _solve(inst, options, progress, timer)
    chosen = optimal if options.mode == "optimal" else stable

    timer.start()
    booth_of = {p.demand_id: p.booth for p in fair.posts}
    slots: dict[str, list[Slot]] = defaultdict(list)
    for s in fair.slots:
        slots[s.booth].append(Slot(parse_clock(s.start), parse_clock(s.end)))
    sched = schedule_interviews(chosen, booth_of, slots)
    timer.stop("schedule")

    timer.start()
    chains = service.chains()
    report = _report(fair, options, inst, (chosen, optimal, stable), sched, slots, cand, chains)
    timer.stop("report")

    timer.start()
    assignments = _assignments(service, chosen, booth_of, sched, cand, chains, bg, progress)
    timer.stop("explain")
    report.timings = timer.rounded()
    report.unmatched = without_interview(fair, options, inst, chosen, cand)
    result = FairRunResult(fair_id=fair.id, fair_name=fair.name, options=options, report=report,
                           assignments=assignments, created_at=datetime.now().astimezone())
    if options.save:
        result.run_id = repo.save_run(result, actor=actor)
    return result


def _solve(inst: Instance, options: FairRunOptions, progress: Progress | None,
           timer: _Timer) -> tuple[list[Pair], list[Pair]]:
    """The optimal and the stable assignment."""
    if progress:
        progress("分配", 0, 2)
    timer.start()
    optimal = solve_optimal(inst, options.solver)
    timer.stop("optimal")
    if progress:
        progress("分配", 1, 2)
    timer.start()
    stable = solve_stable(inst)
    timer.stop("stable")
    if progress:
        progress("分配", 2, 2)
    return optimal, stable


def without_interview(fair: FairDetail, options: FairRunOptions, inst: Instance, chosen: list[Pair],
                      cand: Candidates) -> list[UnmatchedSeeker]:
    """Every registered seeker who got no interview, with the reason a reader can act on."""
    placed = {p.seeker for p in chosen}
    acceptable = Counter(p.seeker for p in inst.pairs)
    out = []
    for s in fair.seekers:
        if s.talent_id in placed:
            continue
        profile = cand.profiles.get(s.talent_id)
        refused = cand.refused.get(s.talent_id, Counter())
        if profile is None:
            reason = "人才档案已停用或不存在，未参与匹配"
        elif acceptable[s.talent_id]:
            reason = (f"有 {acceptable[s.talent_id]} 个可安排的岗位，但这些岗位的面试名额已给了匹配度更高的求职者"
                      "（可增加岗位面试名额或展位时段）")
        elif refused["below"]:
            best = cand.best_below.get(s.talent_id, 0.0)
            reason = (f"候选岗位的匹配度都低于最低匹配度 {options.min_score * 100:.0f}%"
                      f"（最高 {best * 100:.0f}%）")
        elif refused["ineligible"]:
            reason = f"{refused['ineligible']} 个候选岗位的硬性条件（学历、证书、工作年限、应届限制等）都未满足"
        elif refused["filtered"]:
            reason = "候选岗位都被本次匹配的筛选条件排除"
        else:
            reason = "没有候选岗位（与各岗位的相似度都不在前列，或被企业排除）"
        out.append(UnmatchedSeeker(talent_id=s.talent_id, name=profile.name if profile else None,
                                   school=profile.school if profile else None,
                                   fresh_graduate=bool(profile and profile.fresh_graduate), reason=reason))
    return out


def _report(fair: FairDetail, options: FairRunOptions, inst: Instance, modes: tuple[list[Pair], list[Pair], list[Pair]],
            sched: ScheduleResult, slots: dict[str, list[Slot]], cand: Candidates, chains: dict[str, Any]) -> FairReport:
    """The run's report: ``modes`` are the chosen, the optimal and the stable assignment."""
    chosen, optimal, stable = modes
    booth_capacity: Counter[str] = Counter()
    for p in fair.posts:
        booth_capacity[p.booth] += p.capacity
    return fair_report(
        inst, chosen, optimal, stable, sched, mode=options.mode,
        solver=("lp" if options.solver == "auto" else options.solver) if options.mode == "optimal" else "deferred-acceptance",
        min_score=options.min_score, booth_slot_count=len(fair.slots),
        school_of={s: (m.school or "") for s, m in cand.profiles.items()},
        fresh_of={s: m.fresh_graduate for s, m in cand.profiles.items()},
        chain_of_post={p: (chains[e.chain_id].name if e.chain_id in chains else (e.chain_id or ""))
                       for p, e in cand.entries.items()},
        stats=cand.stats, warnings=booth_warnings(dict(booth_capacity), slots),
        first_wishes={w.talent_id: w.demand_id for w in fair.wishes
                      if w.kind == "seeker" and w.rank == 1 and w.talent_id in inst.limits})


def _assignments(service: MatchService, chosen: list[Pair], booth_of: dict[int, str], sched: ScheduleResult,
                 cand: Candidates, chains: dict[str, Any], bg: float, progress: Progress | None) -> list[Assignment]:
    """The assigned interviews by booth and slot, each with its names, scores and reason."""
    names = service.store.enterprise_names(
        [e.enterprise_id for e in cand.entries.values() if e.enterprise_id])
    assignments = []
    ordered = sorted(chosen, key=lambda p: (booth_of[p.post], sched.placed.get((p.seeker, p.post), Slot(10**6, 10**6)),
                                            p.post, p.seeker))
    comps: list[dict[str, float] | None] = [None] * len(ordered)
    if cand.comp and ordered:
        pos = {(p.seeker, p.post): k for k, p in enumerate(cand.pairs)}
        at = np.array([pos[(p.seeker, p.post)] for p in ordered], dtype=np.int64)
        columns = {name: v[at].tolist() for name, v in cand.comp.items()}
        comps = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    for n, pair in enumerate(ordered):
        profile, entry = cand.profiles[pair.seeker], cand.entries[pair.post]
        slot = sched.placed.get((pair.seeker, pair.post))
        assignments.append(Assignment(
            talent_id=pair.seeker, demand_id=pair.post, seeker_name=profile.name, school=profile.school,
            fresh_graduate=profile.fresh_graduate, post_title=entry.title,
            enterprise=entry.enterprise_name or names.get(entry.enterprise_id or -1),
            chain_id=entry.chain_id, chain_name=chains[entry.chain_id].name if entry.chain_id in chains else None,
            score=round(pair.score, 4), seeker_score=round(pair.seeker_score, 4),
            employer_score=round(pair.employer_score, 4), wish_rank=pair.wish_rank, must_see=pair.must_see,
            reason=_reason(service, profile, entry, pair, cand.cosine[(pair.seeker, pair.post)], bg, comps[n]),
            booth=booth_of[pair.post], start=format_clock(slot.start) if slot else None,
            end=format_clock(slot.end) if slot else None,
            unscheduled_reason=sched.unscheduled.get((pair.seeker, pair.post))))
        if progress and (n % 500 == 0 or n == len(ordered) - 1):
            progress("生成说明", n + 1, len(ordered))
    return assignments


# -- views of a run ----------------------------------------------------------------------------


def _slot_sort(a: Assignment) -> tuple:
    return (a.start is None, a.start or "", a.end or "")


def booth_schedule(result: FairRunResult) -> list[Assignment]:
    """Assignments by booth, then time (unscheduled last)."""
    return sorted(result.assignments, key=lambda a: (a.booth, *_slot_sort(a), a.demand_id, a.talent_id))


def seeker_schedule(result: FairRunResult) -> list[Assignment]:
    """Assignments by seeker, then time (unscheduled last)."""
    return sorted(result.assignments, key=lambda a: (a.talent_id, *_slot_sort(a), a.booth, a.demand_id))
