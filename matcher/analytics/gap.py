"""Supply–demand gap analysis (供需缺口分析) for a region and a year, and the fit rate (适配度).

What counts, stated here once and repeated in every result (``GapReport.definitions``):

- **Demand** (``demand="catalogue"``, the default): the open entries of the region's shortage
  catalogue(s) of that year (catalogues whose region is the region itself, not its cities).
  ``demand="posts"``: open enterprise posts (source ``post`` or ``fair``) whose workplace is in
  the region and whose validity overlaps the year. ``demand="all"``: both.
- **Supply**: active talent profiles located in the region or naming a city of it among their
  preferred cities. Consent to be shown is not needed: only counts leave this module.
- **Qualified**: a talent meets every hard requirement of an entry (``Scored.eligible``:
  education, titles and certificates under the equivalence rules, posts closed to fresh
  graduates) and the two-sided score is at least the threshold. Only the ``pool`` talents
  nearest to an entry by cosine are scored (the rest cannot reach a useful score); ``pool=None``
  scores every pair.
- **Met headcount**: the largest number of demanded places that qualified talents can fill
  when a place takes one talent and a talent fills at most one place of the group — a maximum
  flow (scipy). Chains and occupations are computed separately (a talent counts once per chain
  or per occupation); the overall figure counts a talent once in the whole region, so it is
  not the sum of the chains.
- **Fit rate** = met headcount ÷ demanded headcount, against the 85% target of the Shandong plan.
- **Missing skills**: required skills missing in near-miss pairs — a talent who meets the hard
  requirements and scores within ``near_margin`` below the threshold — of entries left short
  in the overall assignment.
- **Training**: for each 数字技术工程师 direction, the near-miss talents who would become
  qualified for a short entry if they learnt the missing skills of that direction (re-scored),
  and the extra met headcount they would bring (maximum flow again).
- **Salary reference** (工资价位): per occupation, quantiles of the offered monthly salary of the
  demand entries (the midpoint of a range, or the one bound given; 面议 is left out).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from matcher.analytics.cache import Build, Progress, report_cache
from matcher.analytics.flow import max_assignment, priority_assignment
from matcher.analytics.models import (
    DEFAULT_NEAR_MARGIN,
    DEFAULT_POOL,
    NO_CHAIN,
    NO_OCCUPATION,
    POST_SOURCES,
    TARGET_FIT_RATE,
    CatalogueRef,
    DemandScope,
    EntryGap,
    GapQuery,
    GapReport,
    GroupGap,
    MethodInfo,
    SkillGap,
    TrainingImpact,
    definitions,
)
from matcher.analytics.salary import SalaryQuery, SalaryReport, salary_reference
from matcher.core.errors import InvalidInput, NotFound
from matcher.core.localtime import local_time
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.ranking import learned
from matcher.ranking.features import DEFAULT_THRESHOLD
from matcher.ranking.scorer import Scored
from matcher.reference.regions import Regions, RegionScope, place_of, resolve_region
from matcher.service import MatchService
from matcher.storage import queries
from models.rerankers.base import Reranker

log = logging.getLogger(__name__)


# -- selection ----------------------------------------------------------------------------------


def _year_overlaps(entry: DemandEntry, year: int) -> bool:
    start, end = date(year, 1, 1), date(year, 12, 31)
    if entry.valid_from is not None and entry.valid_from > end:
        return False
    return entry.valid_until is None or entry.valid_until >= start


def _catalogues(service: MatchService, scope: RegionScope, year: int) -> list[dict[str, Any]]:
    out = []
    for c in service.store.list_catalogues():
        if c["year"] != year:
            continue
        try:
            if resolve_region(service.regions, c["region"]) == scope:
                out.append(c)
        except InvalidInput:
            continue
    return out


def _catalogue_entries(service: MatchService, catalogue_ids: Iterable[int]) -> list[DemandEntry]:
    entries: list[DemandEntry] = []
    for cid in catalogue_ids:
        offset = 0
        while True:
            page, total = service.store.list("demand", offset=offset, limit=1000, catalogue_id=cid, status="open")
            entries += page
            offset += len(page)
            if not page or offset >= total:
                break
    return entries


def _post_entries(service: MatchService, scope: RegionScope, year: int) -> list[DemandEntry]:
    ids = []
    with service.store.session() as s:
        for i, city in queries.open_entry_cities(s, POST_SOURCES):
            if scope.contains(place_of(service.regions, city)):
                ids.append(i)
    found = service.store.get_many("demand", ids)
    return [found[i] for i in sorted(found) if _year_overlaps(found[i], year)]


def select_demand(service: MatchService, scope: RegionScope, year: int, demand: DemandScope
                  ) -> tuple[list[DemandEntry], list[CatalogueRef]]:
    """The demand entries of a region and year (see the module docstring), by id."""
    cats = _catalogues(service, scope, year) if demand in ("catalogue", "all") else []
    if demand == "catalogue" and not cats:
        years = sorted({c["year"] for c in service.store.list_catalogues()
                        if _same_region(service.regions, c["region"], scope)})
        hint = f"；已有目录的年度：{'、'.join(map(str, years))}" if years else ""
        raise NotFound(f"{scope.name} 没有 {year} 年的急需紧缺人才目录{hint}；"
                       f"可改用 demand=posts 统计在招岗位")
    entries = _catalogue_entries(service, [c["id"] for c in cats])
    if demand in ("posts", "all"):
        entries += _post_entries(service, scope, year)
    entries.sort(key=lambda e: e.id or 0)
    refs = [CatalogueRef(id=c["id"], name=c["name"] or f"{c['region']}{c['year']}年目录", region=c["region"],
                         year=c["year"], entries=c["entries"]) for c in cats]
    return entries, refs


def _same_region(regions: Regions, name: str, scope: RegionScope) -> bool:
    try:
        return resolve_region(regions, name) == scope
    except InvalidInput:
        return False


def select_supply(service: MatchService, scope: RegionScope) -> list[TalentProfile]:
    """Active talents located in the region or preferring a city of it, by id."""
    ids = []
    with service.store.session() as s:
        for i, city, _, data in queries.active_talent_rows(s):
            cities = [city, *(data.get("preferred_cities") or [])]
            if any(scope.contains(place_of(service.regions, c)) for c in cities if c):
                ids.append(i)
    found = service.store.get_many("talent", ids)
    return [found[i] for i in sorted(found)]


# -- scoring -------------------------------------------------------------------------------------


@dataclass
class NearMiss:
    entry: int  # index into entries
    talent: int  # index into talents
    cos: float
    missing: list[str]  # required skills the talent lacks


@dataclass
class PairScores:
    """What scoring the candidate pairs produced."""

    qualified: list[list[int]]  # per entry: talent indexes, best score first
    scores: list[list[float]] = field(default_factory=list)  # their scores, same order
    near: list[NearMiss] = field(default_factory=list)
    pairs: int = 0


def _candidates(sims: np.ndarray, pool: int | None) -> np.ndarray:
    """Indexes of the ``pool`` largest similarities (all when pool is None or large)."""
    n = sims.shape[0]
    if pool is None or pool >= n:
        return np.arange(n)
    return np.argpartition(-sims, pool - 1)[:pool]


Measure = Callable[[Sequence[Scored]], np.ndarray]


def by_score(scs: Sequence[Scored]) -> np.ndarray:
    """What "qualified" compares with the threshold by default: the two-sided score."""
    return np.array([sc.score for sc in scs], dtype=np.float64)


def by_probability(model: Reranker) -> Measure:
    """... or, with a promoted calibrated outcome model, its probability of a positive outcome."""
    def measure(scs: Sequence[Scored]) -> np.ndarray:
        if not scs:
            return np.zeros(0)
        return model.predict_proba(learned.matrix([learned.feature_row(sc) for sc in scs]))
    return measure


def score_pairs(service: MatchService, entries: Sequence[DemandEntry], talents: Sequence[TalentProfile], *,
                threshold: float, pool: int | None, near_margin: float, background: float,
                measure: Measure = by_score, low: float | None = None,
                progress: Callable[[int, int], None] | None = None) -> PairScores:
    """Score each entry against its candidate talents; keep the qualified and the near misses
    (``measure`` of a pair at least ``threshold``, or at least ``low``: default threshold -
    near_margin). ``progress(entries done, entries)`` after each block of entries."""
    result = PairScores(qualified=[[] for _ in entries], scores=[[] for _ in entries])
    if not entries or not talents:
        return result
    ev = service.vectors("demand", [e.id for e in entries])
    tv = service.vectors("talent", [t.id for t in talents])
    low = threshold - near_margin if low is None else low
    rules = service.scorer.rules
    batch = measure is by_score  # the score alone decides: scored on arrays (PairScorer.score_many)
    for start in range(0, len(entries), 64):
        sims = ev[start:start + 64] @ tv.T
        block: list[tuple[int, int, float]] = []  # (entry index, talent index, cosine), in order
        for row, entry in enumerate(entries[start:start + 64]):
            hard = rules.requirements(entry)
            for j in _candidates(sims[row], pool):
                result.pairs += 1
                # a hard requirement unmet: the pair is not eligible (Scored.eligible), so neither
                # qualified nor a near miss; the full score would be thrown away
                if hard and not all(rules.meets(talents[j], r) for r in hard):
                    continue
                block.append((start + row, int(j), float(sims[row, j])))
        if batch:
            ei_, j_, cos_ = (np.array([b[k] for b in block]) for k in range(3))
            many = service.scorer.score_many(talents, entries, j_.astype(np.int64), ei_.astype(np.int64),
                                             cos_.astype(np.float64), background, target="talent")
            kept = [(b, float(v), None) for b, v, ok in zip(block, many.score.tolist(), many.eligible.tolist(),
                                                             strict=True) if ok]
        else:
            scs = [service.score_pair(talents[j], entries[ei], cos, target="talent", background=background)
                   for ei, j, cos in block]
            eligible = [(b, sc) for b, sc in zip(block, scs, strict=True) if sc.eligible]
            values = measure([sc for _, sc in eligible])
            kept = [(b, float(v), sc) for (b, sc), v in zip(eligible, values, strict=True)]
        scored: dict[int, list[tuple[float, int]]] = {}
        for (ei, j, cos), v, sc in kept:
            if v >= threshold:
                scored.setdefault(ei, []).append((-v, j))
            elif v >= low:
                entry = entries[ei]
                if sc is None:  # only near misses need the matched skills: scored one by one
                    sc = service.score_pair(talents[j], entry, cos, target="talent", background=background)
                missing = [s for s in entry.required_skills if s not in sc.matched]
                if missing:
                    result.near.append(NearMiss(ei, j, cos, missing))
        for ei, found in scored.items():
            ranked = sorted(found)
            result.qualified[ei] = [j for _, j in ranked]
            result.scores[ei] = [-s for s, _ in ranked]
        if progress is not None:
            progress(min(start + 64, len(entries)), len(entries))
    return result


# -- the report -----------------------------------------------------------------------------------


def _rate(met: int, headcount: int) -> float | None:
    return round(met / headcount, 4) if headcount else None


def _group(key: str, name: str, idx: Sequence[int], entries: Sequence[DemandEntry],
           qualified: Sequence[Sequence[int]], talent_ids: Sequence[int], top: list[str]) -> GroupGap:
    heads = [entries[i].headcount for i in idx]
    edges = [(k, talent_ids[j]) for k, i in enumerate(idx) for j in qualified[i]]
    met, _ = max_assignment(heads, edges)
    headcount = sum(heads)
    rate = _rate(met, headcount)
    return GroupGap(key=key, name=name, entries=len(idx), headcount=headcount,
                    qualified_talents=len({t for _, t in edges}), met=met, gap=headcount - met, fit_rate=rate,
                    meets_target=None if rate is None else rate >= TARGET_FIT_RATE, top_missing=top,
                    unsettled=sum(1 for i in idx if entries[i].occupation_code and not entries[i].occupation_settled))


def _skill_counts(near: Sequence[NearMiss], short: set[int], entries: Sequence[DemandEntry],
                  gaps: Sequence[int], service: MatchService) -> list[SkillGap]:
    pairs: Counter[str] = Counter()
    talents: dict[str, set[int]] = defaultdict(set)
    ents: dict[str, set[int]] = defaultdict(set)
    for nm in near:
        if nm.entry not in short:
            continue
        for s in nm.missing:
            pairs[s] += 1
            talents[s].add(nm.talent)
            ents[s].add(nm.entry)
    out = [SkillGap(skill=s, pairs=n, talents=len(talents[s]), entries=len(ents[s]),
                    headcount_gap=sum(gaps[i] for i in ents[s]), directions=service.vocab.directions_of(s))
           for s, n in pairs.items()]
    out.sort(key=lambda g: (-g.pairs, -g.talents, g.skill))
    return out


def _training(service: MatchService, near: Sequence[NearMiss], short: set[int], entries: Sequence[DemandEntry],
              talents: Sequence[TalentProfile], edges: list[tuple[int, int]], base_met: int,
              top_skills: Sequence[SkillGap], threshold: float, background: float,
              measure: Measure = by_score) -> list[TrainingImpact]:
    wanted = [g.skill for g in top_skills]
    directions: list[str] = []
    for g in top_skills:
        for d in g.directions:
            if d not in directions:
                directions.append(d)
    heads = [e.headcount for e in entries]
    out = []
    for d in directions:
        new_edges: set[tuple[int, int]] = set()
        for nm in near:
            if nm.entry not in short:
                continue
            add = [s for s in nm.missing if d in service.vocab.directions_of(s)]
            if not add:
                continue
            t = talents[nm.talent]
            trained = t.model_copy(update={"skills": [*t.skills, *add]})
            sc = service.score_pair(trained, entries[nm.entry], nm.cos, target="talent", background=background)
            if sc.eligible and measure([sc])[0] >= threshold:
                new_edges.add((nm.entry, int(t.id or 0)))
        met, _ = max_assignment(heads, [*edges, *new_edges]) if new_edges else (base_met, [])
        info = service.directions.get(d, {})
        out.append(TrainingImpact(direction=d, title=info.get("title") or f"数字技术工程师（{d}）",
                                  covers=[s for s in wanted if d in service.vocab.directions_of(s)],
                                  talents_qualified=len({t for _, t in new_edges}), extra_met=met - base_met))
    out.sort(key=lambda x: (-x.extra_met, -x.talents_qualified, x.direction))
    return out


@dataclass
class _Gaps:
    """The assignment of qualified talents to entries, and the report's tables built from it."""

    service: MatchService
    entries: Sequence[DemandEntry]
    scores: PairScores
    tids: list[int]  # talent ids by index
    edges: list[tuple[int, int]]  # (entry index, talent id) of every qualified pair
    met: int  # headcount met by the largest assignment
    per_entry: list[int]  # met per entry, by the priority assignment
    gaps: list[int]
    short: set[int]  # entries with a gap
    chains: dict[str, Any]

    @classmethod
    def of(cls, service: MatchService, entries: Sequence[DemandEntry], talents: Sequence[TalentProfile],
           scores: PairScores, chains: dict[str, Any]) -> _Gaps:
        tids = [int(t.id or 0) for t in talents]
        qualified = scores.qualified
        edges = [(i, tids[j]) for i in range(len(entries)) for j in qualified[i]]
        met, _ = max_assignment([e.headcount for e in entries], edges)
        _, per_entry = priority_assignment(
            [e.headcount for e in entries], [e.shortage_level for e in entries],
            [(i, tids[j], sc) for i in range(len(entries)) for j, sc in zip(qualified[i], scores.scores[i], strict=True)])
        gaps = [e.headcount - m for e, m in zip(entries, per_entry, strict=True)]
        short = {i for i, g in enumerate(gaps) if g > 0}
        return cls(service, entries, scores, tids, edges, met, per_entry, gaps, short, chains)

    def skills(self, idx: Iterable[int] | None = None) -> list[SkillGap]:
        """Missing skills of the short entries (among ``idx`` when given), most frequent first."""
        short = self.short if idx is None else set(idx) & self.short
        return _skill_counts(self.scores.near, short, self.entries, self.gaps, self.service)

    def chain_name(self, cid: str | None) -> str:
        return self.chains[cid].name if cid and cid in self.chains else (cid or NO_CHAIN)

    def groups(self, key: Callable[[DemandEntry], str], name: Callable[[str, list[int]], str]) -> list[GroupGap]:
        """One row per group of entries (by ``key``), the largest gap first."""
        by_key: dict[str, list[int]] = defaultdict(list)
        for i, e in enumerate(self.entries):
            by_key[key(e)].append(i)
        rows = [_group(k, name(k, idx), idx, self.entries, self.scores.qualified, self.tids,
                       [g.skill for g in self.skills(idx)[:3]]) for k, idx in by_key.items()]
        rows.sort(key=lambda g: (-g.gap, -g.headcount, g.key))
        return rows

    def overall(self, name: str, skills: Sequence[SkillGap]) -> GroupGap:
        headcount = sum(e.headcount for e in self.entries)
        rate = _rate(self.met, headcount)
        return GroupGap(key="all", name=f"{name}合计", entries=len(self.entries), headcount=headcount,
                        qualified_talents=len({t for _, t in self.edges}), met=self.met, gap=headcount - self.met,
                        fit_rate=rate, meets_target=None if rate is None else rate >= TARGET_FIT_RATE,
                        top_missing=[g.skill for g in skills[:3]])

    def entry_rows(self) -> list[EntryGap]:
        return [EntryGap(id=int(e.id or 0), title=e.title, source=e.source, chain_id=e.chain_id,
                         chain_name=self.chain_name(e.chain_id), occupation_code=e.occupation_code,
                         occupation_name=e.occupation_name or NO_OCCUPATION,
                         occupation_settled=e.occupation_code is None or e.occupation_settled,
                         shortage_level=e.shortage_level,
                         headcount=e.headcount, qualified=len(self.scores.qualified[i]), met=self.per_entry[i],
                         gap=self.gaps[i])
                for i, e in enumerate(self.entries)]


def _keyed(service: MatchService, query: GapQuery) -> tuple[tuple, Callable[[Progress], GapReport]]:
    """The report's cache key and its computation (an unknown region is refused here, at once)."""
    scope = resolve_region(service.regions, query.region)
    model_id, model = service.active_model() if query.ranker == "auto" else ("weighted", None)
    key = ("gap", scope.name, scope.level, query.model_copy(update={"region": scope.name}).model_dump_json(),
           model_id)
    return key, lambda progress: compute_gap_report(service, query, scope, model_id, model, progress=progress)


def gap_report(service: MatchService, query: GapQuery) -> GapReport:
    """The supply–demand gap of a region and year (definitions in the module docstring).

    Kept in this process per (region, parameters, ranker) until any process writes a talent, a
    demand entry, a catalogue or a chain (``matcher.analytics.cache``); ``generated_at`` tells
    when it was computed. A call that finds the same report being computed waits for it."""
    key, compute = _keyed(service, query)
    return report_cache(service).get(service, key, compute)


def submit_gap_report(service: MatchService, query: GapQuery) -> Build[GapReport]:
    """The report without waiting: ``state`` "done" with ``value`` when kept, else the
    computation in progress (started now in the background if none is), with its ``progress``
    (0–1) and ``stage``; ask again with the same query to follow it."""
    key, compute = _keyed(service, query)
    return report_cache(service).submit(service, key, compute)


def _quiet(_fraction: float, _stage: str) -> None:
    return None


def compute_gap_report(service: MatchService, query: GapQuery, scope: RegionScope, model_id: str,
                       model: Reranker | None, progress: Progress | None = None) -> GapReport:
    """The gap report computed afresh (``gap_report`` is the cached entry point); ``progress``
    (fraction, stage in Chinese) is told as it goes."""
    say = progress or _quiet
    say(0.01, "读取需求与人才")
    entries, catalogues = select_demand(service, scope, query.year, query.demand)
    talents = select_supply(service, scope)
    say(0.05, f"读取向量（{len(entries)} 条需求，{len(talents)} 名人才）")
    background = service.background("talent") if talents else 0.0
    if model is not None and model.calibrated:  # "qualified" is a stated probability of a positive outcome
        measure, threshold, low, kind = (by_probability(model), query.probability_threshold,
                                         query.probability_threshold / 2, "probability")
    else:
        model_id, measure, threshold, low, kind = "weighted", by_score, query.threshold, None, "score"
    scores = score_pairs(service, entries, talents, threshold=threshold, pool=query.pool,
                         near_margin=query.near_margin, background=background, measure=measure, low=low,
                         progress=lambda n, total: say(0.08 + 0.72 * n / total, f"人岗评分：{n}/{total} 条需求"))
    say(0.8, "计算可满足人数（最大流分配）")
    gaps = _Gaps.of(service, entries, talents, scores, service.chains())
    skills = gaps.skills()
    top_skills = skills[: query.top_skills]
    chain_rows = gaps.groups(lambda e: e.chain_id or "", lambda k, _idx: gaps.chain_name(k or None))
    occ_rows = gaps.groups(lambda e: e.occupation_code or "",
                           lambda _k, idx: entries[idx[0]].occupation_name or NO_OCCUPATION)
    say(0.9, "测算培训方向")
    training = _training(service, scores.near, gaps.short, entries, talents, gaps.edges, gaps.met, top_skills,
                         threshold, background, measure)
    say(0.99, "生成报告")
    return GapReport(
        region=scope.name, region_level=scope.level, year=query.year,
        generated_at=local_time(datetime.now(UTC)) + "（北京时间）",
        threshold=threshold, threshold_kind=kind, ranker=model_id, demand_scope=query.demand,
        definitions=definitions(threshold, query.demand, query.near_margin, query.pool,
                                model_id if kind == "probability" else None),
        catalogues=catalogues, supply=len(talents), supply_fresh=sum(1 for t in talents if t.fresh_graduate),
        overall=gaps.overall(scope.name, skills), chains=chain_rows, occupations=occ_rows,
        entries=gaps.entry_rows(), missing_skills=top_skills, training=training,
        salary=salary_reference(entries, service.taxonomy),
        method=MethodInfo(encoder=service.encoder.name, background=round(background, 4), pool=query.pool,
                          pairs_scored=scores.pairs, near_margin=query.near_margin, ranker=model_id))


def salary_report(service: MatchService, query: SalaryQuery) -> SalaryReport:
    """工资价位 of a region and year: salary quantiles per occupation of the demand entries."""
    scope = resolve_region(service.regions, query.region)
    entries, _ = select_demand(service, scope, query.year, query.demand)
    defs = definitions(DEFAULT_THRESHOLD, query.demand, DEFAULT_NEAR_MARGIN, DEFAULT_POOL)
    return SalaryReport(region=scope.name, year=query.year, demand_scope=query.demand,
                        definition=defs["demand"] + defs["salary"], entries=len(entries),
                        occupations=salary_reference(entries, service.taxonomy))
