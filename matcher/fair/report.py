"""The report of a fair run: totals, shares, blocking pairs, the welfare gap, distributions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from matcher.domain.fair import BlockingPair, FairReport, GroupStat, Mode
from matcher.fair.schedule import ScheduleResult
from matcher.fair.solve import Instance, Pair, blocking_pairs, total_fit

if TYPE_CHECKING:  # pragma: no cover
    pass



# =============================================================================================
# report
# =============================================================================================


def _group_stats(groups_of_seeker: dict[int, str], matching: Sequence[Pair],
                 group_of_pair: Callable[[Pair], str] | None = None, *, limit: int = 50) -> list[GroupStat]:
    """Interviews and covered seekers per group; by seeker group, or by a pair's group (chain)."""
    if group_of_pair is None:
        seekers_in: Counter[str] = Counter(groups_of_seeker.values())
        interviews: Counter[str] = Counter(groups_of_seeker[p.seeker] for p in matching)
        covered: Counter[str] = Counter(groups_of_seeker[s] for s in {p.seeker for p in matching})
    else:
        interviews = Counter(group_of_pair(p) for p in matching)
        covered = Counter(g for g, _ in {(group_of_pair(p), p.seeker) for p in matching})
        seekers_in = covered
    rows = [GroupStat(group=g, seekers=seekers_in[g], seekers_with_interview=covered[g],
                      interviews=interviews[g],
                      share=round(covered[g] / seekers_in[g], 4) if seekers_in[g] else 0.0)
            for g in set(seekers_in) | set(interviews)]
    rows.sort(key=lambda r: (-r.interviews, -r.seekers, r.group))
    if len(rows) > limit:
        rest = rows[limit - 1 :]
        seekers_rest = sum(r.seekers for r in rest)
        covered_rest = sum(r.seekers_with_interview for r in rest)
        rows = rows[: limit - 1] + [GroupStat(
            group=f"其他（{len(rest)} 组）", seekers=seekers_rest, seekers_with_interview=covered_rest,
            interviews=sum(r.interviews for r in rest),
            share=round(covered_rest / seekers_rest, 4) if seekers_rest else 0.0)]
    return rows


def fair_report(inst: Instance, chosen: Sequence[Pair], optimal: Sequence[Pair], stable: Sequence[Pair],
                sched: ScheduleResult, *, mode: Mode, solver: str, min_score: float,
                booth_slot_count: int, school_of: dict[int, str], fresh_of: dict[int, bool],
                chain_of_post: dict[int, str], stats: dict[str, int] | None = None,
                first_wishes: dict[int, int] | None = None, warnings: Sequence[str] = ()) -> FairReport:
    """The numbers of a run; ``optimal`` and ``stable`` are both modes' matchings;
    ``first_wishes``: seeker → first wished post (default: from the pairs' wish ranks)."""
    stats = stats or {}
    n_seekers, capacity = len(inst.limits), sum(inst.capacities.values())
    covered = {p.seeker for p in chosen}
    opt_t, st_t = total_fit(optimal), total_fit(stable)
    blocking = blocking_pairs(inst, chosen)
    opt_b = blocking if mode == "optimal" else blocking_pairs(inst, optimal)
    st_b = blocking if mode == "stable" else blocking_pairs(inst, stable)
    first_wish = first_wishes if first_wishes is not None else {
        p.seeker: p.post for p in inst.pairs if p.wish_rank == 1}
    chosen_keys = {(p.seeker, p.post) for p in chosen}
    must = [p for p in inst.pairs if p.must_see]
    examples = sorted(blocking, key=lambda p: (-p.score, p.seeker, p.post))[:20]
    fresh_group = {s: ("应届毕业生" if f else "非应届") for s, f in fresh_of.items()}
    return FairReport(
        mode=mode, solver=solver, min_score=min_score, seekers=n_seekers, posts=len(inst.capacities),
        capacity=capacity, booth_slots=booth_slot_count,
        candidate_pairs=stats.get("candidate_pairs", len(inst.pairs)),
        scored_pairs=stats.get("scored_pairs", len(inst.pairs)),
        ineligible_pairs=stats.get("ineligible_pairs", 0), below_min_pairs=stats.get("below_min_pairs", 0),
        interviews=len(chosen), total_fit=round(total_fit(chosen), 4),
        mean_fit=round(total_fit(chosen) / len(chosen), 4) if chosen else 0.0,
        seekers_with_interview=len(covered),
        seeker_share=round(len(covered) / n_seekers, 4) if n_seekers else 0.0,
        capacity_fill=round(len(chosen) / capacity, 4) if capacity else 0.0,
        scheduled=len(sched.placed), unscheduled=len(sched.unscheduled),
        slot_fill=round(len(sched.placed) / booth_slot_count, 4) if booth_slot_count else 0.0,
        blocking_pairs=len(blocking),
        blocking_examples=[BlockingPair(talent_id=p.seeker, demand_id=p.post, score=round(p.score, 4),
                                        seeker_score=round(p.seeker_score, 4),
                                        employer_score=round(p.employer_score, 4)) for p in examples],
        optimal_total=round(opt_t, 4), stable_total=round(st_t, 4),
        optimal_interviews=len(optimal), stable_interviews=len(stable),
        optimal_blocking_pairs=len(opt_b), stable_blocking_pairs=len(st_b),
        welfare_gap=round(opt_t - st_t, 4), welfare_gap_share=round((opt_t - st_t) / opt_t, 4) if opt_t else 0.0,
        must_see_pairs=len(must), must_see_met=sum(1 for p in must if (p.seeker, p.post) in chosen_keys),
        seekers_with_wishes=len(first_wish),
        first_wish_met=sum(1 for s, post in first_wish.items() if (s, post) in chosen_keys),
        schedule_repairs=sched.repairs,
        by_chain=_group_stats({}, chosen, lambda p: chain_of_post.get(p.post) or "未标注产业链"),
        by_school=_group_stats({s: school_of.get(s) or "未填写学校" for s in inst.limits}, chosen),
        by_fresh=_group_stats({s: fresh_group.get(s, "非应届") for s in inst.limits}, chosen),
        warnings=list(warnings),
    )
