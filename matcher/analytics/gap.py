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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from matcher.core.errors import InvalidInput, NotFound
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.ranking.features import DEFAULT_THRESHOLD
from matcher.reference.regions import Regions, RegionScope, place_of, resolve_region

log = logging.getLogger(__name__)

TARGET_FIT_RATE = 0.85  # 山东省方案：企业需求与人才适配度达到 85% 以上
DEFAULT_POOL = 200
DEFAULT_NEAR_MARGIN = 0.15
POST_SOURCES = ("post", "fair")
NO_CHAIN = "（未归链）"
NO_OCCUPATION = "（未编码）"

DemandScope = Literal["catalogue", "posts", "all"]


# -- definitions (printed next to the numbers) ------------------------------------------------


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def definitions(threshold: float, scope: DemandScope, near_margin: float, pool: int | None) -> dict[str, str]:
    """The Chinese definitions of every number of a gap report, with its parameters filled in."""
    demand = {
        "catalogue": "该地区该年度急需紧缺人才目录中的有效条目（目录所属地区须为该地区本身）",
        "posts": "工作地点在该地区、有效期与该年度有交集的在招岗位（企业发布或招聘会岗位）",
        "all": "该地区该年度急需紧缺人才目录中的有效条目，加上工作地点在该地区、有效期与该年度有交集的在招岗位",
    }[scope]
    pool_text = "全部人才" if pool is None else f"与岗位语义最接近的 {pool} 名人才"
    return {
        "demand": f"需求：{demand}；需求人数按各条目的需求人数合计。",
        "supply": "供给：状态为有效、所在城市在该地区或意向城市包含该地区城市的人才档案。",
        "qualified": (f"合格人才：满足岗位全部硬性要求（学历、职称/技能等级/证书、是否面向应届生），"
                      f"且双向匹配得分 ≥ {threshold:g}；每个岗位只对{pool_text}计算得分。"),
        "met": ("可满足人数：把合格人才分配到岗位（每个岗位最多分配其需求人数，每位人才在同一统计范围内只计一次）"
                "所能填满的最多人数（最大流）。各产业链、各职业分别计算；总体中每位人才在全地区只计一次，"
                "因此总体不等于各产业链之和。单个岗位的可满足人数取总体分配中的一种：在所有最大分配中优先满足紧缺星级高的岗位，"
                "其次优先得分高的人岗对（最小费用最大流）。"),
        "fit_rate": (f"适配度 = 可满足人数 ÷ 需求人数（合格阈值 {threshold:g}）；"
                     f"目标：{_pct(TARGET_FIT_RATE)}（山东省方案：企业需求与人才适配度达到 {_pct(TARGET_FIT_RATE)} 以上）。"),
        "gap": "缺口 = 需求人数 − 可满足人数。",
        "missing_skills": (f"欠缺技能：在总体分配后仍有缺口的岗位上，满足硬性要求、得分低于阈值但不低于 "
                           f"{max(threshold - near_margin, 0):g} 的“接近合格”人才所欠缺的必备技能，按人岗对次数排序。"),
        "training": ("培训方向：接近合格的人才若补齐某一数字技术工程师培训方向所覆盖的欠缺技能后重新评分，"
                     "成为某个缺口岗位合格人才的人数，以及由此新增的可满足人数（重新求最大流）。"),
        "salary": "工资价位：按职业统计需求条目的月薪（元/月；区间取中点，只有一端时取该值，面议不计）的分位数。",
    }


# -- places ---------------------------------------------------------------------------------


# -- result models ----------------------------------------------------------------------------


class GapQuery(BaseModel):
    """Parameters of a gap report."""

    region: str = Field(min_length=1, max_length=50)
    year: int = Field(ge=2000, le=2100)
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0, le=1)
    demand: DemandScope = "catalogue"
    pool: int | None = Field(default=DEFAULT_POOL, ge=1, le=100_000,
                             description="talents scored per entry (nearest by cosine); null scores all")
    near_margin: float = Field(default=DEFAULT_NEAR_MARGIN, ge=0, le=1)
    top_skills: int = Field(default=15, ge=1, le=100)


class GroupGap(BaseModel):
    """The numbers of one chain, one occupation, or the whole region."""

    key: str = Field(description="chain id, occupation code, 'all'; '' for entries without one")
    name: str
    entries: int
    headcount: int
    qualified_talents: int = Field(description="distinct talents qualified for at least one entry")
    met: int
    gap: int
    fit_rate: float | None = Field(description="met / headcount, 4 decimals; null without demand")
    meets_target: bool | None
    top_missing: list[str] = Field(default_factory=list)


class EntryGap(BaseModel):
    id: int
    title: str
    source: str
    chain_id: str | None
    chain_name: str
    occupation_code: str | None
    occupation_name: str
    shortage_level: int | None
    headcount: int
    qualified: int = Field(description="talents qualified for this entry")
    met: int = Field(description="places filled in the overall assignment")
    gap: int


class SkillGap(BaseModel):
    skill: str
    pairs: int = Field(description="near-miss (talent, entry) pairs missing the skill")
    talents: int = Field(description="distinct near-miss talents missing it")
    entries: int = Field(description="distinct short entries requiring it")
    headcount_gap: int = Field(description="unmet headcount of those entries")
    directions: list[str]


class TrainingImpact(BaseModel):
    direction: str
    title: str
    covers: list[str] = Field(description="missing skills of the list that the direction teaches")
    talents_qualified: int = Field(description="near-miss talents who would qualify for a short entry")
    extra_met: int = Field(description="extra met headcount in the overall assignment")


class SalaryStat(BaseModel):
    occupation_code: str | None
    occupation_name: str
    entries: int = Field(description="entries with a salary")
    headcount: int
    p10: int
    p25: int
    p50: int
    p75: int
    p90: int
    mean: int


class CatalogueRef(BaseModel):
    id: int
    name: str
    region: str
    year: int
    entries: int


class MethodInfo(BaseModel):
    encoder: str
    background: float
    pool: int | None
    pairs_scored: int
    near_margin: float


class GapReport(BaseModel):
    """A region's supply–demand gap for a year; every number of the HTML report comes from here."""

    region: str
    region_level: Literal["city", "province"]
    year: int
    generated_at: str
    threshold: float
    target: float = TARGET_FIT_RATE
    demand_scope: DemandScope
    definitions: dict[str, str]
    catalogues: list[CatalogueRef]
    supply: int = Field(description="talents counted as the region's supply")
    supply_fresh: int = Field(description="of which fresh graduates")
    overall: GroupGap
    chains: list[GroupGap]
    occupations: list[GroupGap]
    entries: list[EntryGap]
    missing_skills: list[SkillGap]
    training: list[TrainingImpact]
    salary: list[SalaryStat]
    method: MethodInfo


# -- selection ----------------------------------------------------------------------------------


def _year_overlaps(entry: DemandEntry, year: int) -> bool:
    start, end = date(year, 1, 1), date(year, 12, 31)
    if entry.valid_from is not None and entry.valid_from > end:
        return False
    return entry.valid_until is None or entry.valid_until >= start


def _catalogues(service: Any, scope: RegionScope, year: int) -> list[dict[str, Any]]:
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


def _catalogue_entries(service: Any, catalogue_ids: Iterable[int]) -> list[DemandEntry]:
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


def _post_entries(service: Any, scope: RegionScope, year: int) -> list[DemandEntry]:
    from sqlalchemy import select

    from matcher.storage.store import DemandRow

    ids = []
    with service.store.session() as s:
        q = select(DemandRow.id, DemandRow.city).where(DemandRow.source.in_(POST_SOURCES),
                                                        DemandRow.status == "open")
        for i, city in s.execute(q):
            if scope.contains(place_of(service.regions, city)):
                ids.append(i)
    found = service.store.get_many("demand", ids)
    return [found[i] for i in sorted(found) if _year_overlaps(found[i], year)]


def select_demand(service: Any, scope: RegionScope, year: int, demand: DemandScope
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


def select_supply(service: Any, scope: RegionScope) -> list[TalentProfile]:
    """Active talents located in the region or preferring a city of it, by id."""
    from sqlalchemy import select

    from matcher.storage.store import TalentRow

    ids = []
    with service.store.session() as s:
        q = select(TalentRow.id, TalentRow.city, TalentRow.data).where(TalentRow.status == "active")
        for i, city, data in s.execute(q).yield_per(2000):
            cities = [city, *((data or {}).get("preferred_cities") or [])]
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


def score_pairs(service: Any, entries: Sequence[DemandEntry], talents: Sequence[TalentProfile], *,
                threshold: float, pool: int | None, near_margin: float, background: float) -> PairScores:
    """Score each entry against its candidate talents; keep the qualified and the near misses."""
    result = PairScores(qualified=[[] for _ in entries], scores=[[] for _ in entries])
    if not entries or not talents:
        return result
    ev = service.vectors("demand", [e.id for e in entries])
    tv = service.vectors("talent", [t.id for t in talents])
    low = threshold - near_margin
    for start in range(0, len(entries), 64):
        sims = ev[start:start + 64] @ tv.T
        for row, entry in enumerate(entries[start:start + 64]):
            ei = start + row
            scored = []
            for j in _candidates(sims[row], pool):
                cos = float(sims[row, j])
                sc = service.score_pair(talents[j], entry, cos, target="talent", background=background)
                result.pairs += 1
                if not sc.eligible:
                    continue
                if sc.score >= threshold:
                    scored.append((-sc.score, int(j)))
                elif sc.score >= low:
                    missing = [s for s in entry.required_skills if s not in sc.matched]
                    if missing:
                        result.near.append(NearMiss(ei, int(j), cos, missing))
            ranked = sorted(scored)
            result.qualified[ei] = [j for _, j in ranked]
            result.scores[ei] = [-s for s, _ in ranked]
    return result


# -- assignment ----------------------------------------------------------------------------------


def max_assignment(headcounts: Sequence[int], edges: Iterable[tuple[int, int]]) -> tuple[int, list[int]]:
    """Most places filled when entry i takes up to headcounts[i] talents and a talent fills one
    place: (total, places filled per entry). ``edges`` are (entry index, talent id) pairs."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    n_e = len(headcounts)
    pairs = sorted(set(edges))
    if not pairs or n_e == 0:
        return 0, [0] * n_e
    tal = {t: k for k, t in enumerate(sorted({t for _, t in pairs}))}
    n_t = len(tal)
    source, sink = 0, n_e + n_t + 1
    rows, cols, caps = [], [], []
    for i, h in enumerate(headcounts):
        rows.append(source)
        cols.append(1 + i)
        caps.append(int(h))
    for i, t in pairs:
        rows.append(1 + i)
        cols.append(1 + n_e + tal[t])
        caps.append(1)
    for k in range(n_t):
        rows.append(1 + n_e + k)
        cols.append(sink)
        caps.append(1)
    n = n_e + n_t + 2
    graph = csr_matrix((np.array(caps, dtype=np.int32), (rows, cols)), shape=(n, n))
    res = maximum_flow(graph, source, sink, method="dinic")
    flow = res.flow.tocsr()
    per_entry = [int(flow[source, 1 + i]) for i in range(n_e)]
    return int(res.flow_value), per_entry


def priority_assignment(headcounts: Sequence[int], levels: Sequence[int | None],
                        edges: Iterable[tuple[int, int, float]]) -> tuple[int, list[int]]:
    """A maximum assignment that, among all maximum ones, fills entries of higher 紧缺星级
    first and then prefers higher scores (minimum-cost maximum flow, networkx): (total, places
    filled per entry). ``edges`` are (entry index, talent id, score)."""
    import networkx as nx

    edges = list(edges)
    n_e = len(headcounts)
    if not edges:
        return 0, [0] * n_e
    g = nx.DiGraph()
    for i, (h, lvl) in enumerate(zip(headcounts, levels, strict=True)):
        g.add_edge("s", ("e", i), capacity=int(h), weight=(5 - (lvl or 0)) * 1000)
    for i, t, score in edges:
        g.add_edge(("e", i), ("t", t), capacity=1, weight=int(round((1 - score) * 100)))
        g.add_edge(("t", t), "z", capacity=1, weight=0)
    flow = nx.max_flow_min_cost(g, "s", "z")
    per_entry = [int(flow["s"].get(("e", i), 0)) for i in range(n_e)]
    return sum(per_entry), per_entry


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
                    meets_target=None if rate is None else rate >= TARGET_FIT_RATE, top_missing=top)


def _skill_counts(near: Sequence[NearMiss], short: set[int], entries: Sequence[DemandEntry],
                  gaps: Sequence[int], service: Any) -> list[SkillGap]:
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


def _training(service: Any, near: Sequence[NearMiss], short: set[int], entries: Sequence[DemandEntry],
              talents: Sequence[TalentProfile], edges: list[tuple[int, int]], base_met: int,
              top_skills: Sequence[SkillGap], threshold: float, background: float) -> list[TrainingImpact]:
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
            if sc.eligible and sc.score >= threshold:
                new_edges.add((nm.entry, int(t.id or 0)))
        met, _ = max_assignment(heads, [*edges, *new_edges]) if new_edges else (base_met, [])
        info = service.directions.get(d, {})
        out.append(TrainingImpact(direction=d, title=info.get("title") or f"数字技术工程师（{d}）",
                                  covers=[s for s in wanted if d in service.vocab.directions_of(s)],
                                  talents_qualified=len({t for _, t in new_edges}), extra_met=met - base_met))
    out.sort(key=lambda x: (-x.extra_met, -x.talents_qualified, x.direction))
    return out


def salary_reference(entries: Sequence[DemandEntry], taxonomy: Any = None) -> list[SalaryStat]:
    """Quantiles of offered monthly salaries per occupation (one observation per entry)."""
    by_occ: dict[str | None, list[DemandEntry]] = defaultdict(list)
    for e in entries:
        if e.salary_min is not None or e.salary_max is not None:
            by_occ[e.occupation_code].append(e)
    out = []
    for code, items in by_occ.items():
        values = np.array([_offered(e) for e in items], dtype=float)
        q = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
        name = (items[0].occupation_name or (taxonomy.name(code) if taxonomy and code else None)
                or NO_OCCUPATION)
        out.append(SalaryStat(occupation_code=code, occupation_name=name, entries=len(items),
                              headcount=sum(e.headcount for e in items), p10=round(q[0]), p25=round(q[1]),
                              p50=round(q[2]), p75=round(q[3]), p90=round(q[4]), mean=round(values.mean())))
    out.sort(key=lambda s: (-s.entries, -s.headcount, s.occupation_code or ""))
    return out


def _offered(e: DemandEntry) -> float:
    if e.salary_min is not None and e.salary_max is not None:
        return (e.salary_min + e.salary_max) / 2
    return float(e.salary_min if e.salary_min is not None else e.salary_max)  # type: ignore[arg-type]


def gap_report(service: Any, query: GapQuery) -> GapReport:
    """The supply–demand gap of a region and year (definitions in the module docstring)."""
    scope = resolve_region(service.regions, query.region)
    entries, catalogues = select_demand(service, scope, query.year, query.demand)
    talents = select_supply(service, scope)
    background = service.background("talent") if talents else 0.0
    scores = score_pairs(service, entries, talents, threshold=query.threshold, pool=query.pool,
                         near_margin=query.near_margin, background=background)
    tids = [int(t.id or 0) for t in talents]
    qualified = scores.qualified
    edges = [(i, tids[j]) for i in range(len(entries)) for j in qualified[i]]
    met, _ = max_assignment([e.headcount for e in entries], edges)
    _, per_entry = priority_assignment(
        [e.headcount for e in entries], [e.shortage_level for e in entries],
        [(i, tids[j], sc) for i in range(len(entries)) for j, sc in zip(qualified[i], scores.scores[i], strict=True)])
    gaps = [e.headcount - m for e, m in zip(entries, per_entry, strict=True)]
    short = {i for i, g in enumerate(gaps) if g > 0}
    skills = _skill_counts(scores.near, short, entries, gaps, service)
    top_skills = skills[: query.top_skills]
    chains = service.chains()

    def chain_name(cid: str | None) -> str:
        return chains[cid].name if cid and cid in chains else (cid or NO_CHAIN)

    def top_of(idx: Sequence[int]) -> list[str]:
        sub = set(idx) & short
        return [g.skill for g in _skill_counts(scores.near, sub, entries, gaps, service)[:3]]

    by_chain: dict[str, list[int]] = defaultdict(list)
    by_occ: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(entries):
        by_chain[e.chain_id or ""].append(i)
        by_occ[e.occupation_code or ""].append(i)
    chain_rows = [_group(k, chain_name(k or None), idx, entries, qualified, tids, top_of(idx))
                  for k, idx in by_chain.items()]
    occ_rows = [_group(k, entries[idx[0]].occupation_name or NO_OCCUPATION, idx, entries, qualified, tids,
                       top_of(idx)) for k, idx in by_occ.items()]
    for rows in (chain_rows, occ_rows):
        rows.sort(key=lambda g: (-g.gap, -g.headcount, g.key))
    headcount = sum(e.headcount for e in entries)
    rate = _rate(met, headcount)
    overall = GroupGap(key="all", name=f"{scope.name}合计", entries=len(entries), headcount=headcount,
                       qualified_talents=len({t for _, t in edges}), met=met, gap=headcount - met, fit_rate=rate,
                       meets_target=None if rate is None else rate >= TARGET_FIT_RATE,
                       top_missing=[g.skill for g in skills[:3]])
    entry_rows = [EntryGap(id=int(e.id or 0), title=e.title, source=e.source, chain_id=e.chain_id,
                           chain_name=chain_name(e.chain_id), occupation_code=e.occupation_code,
                           occupation_name=e.occupation_name or NO_OCCUPATION, shortage_level=e.shortage_level,
                           headcount=e.headcount, qualified=len(qualified[i]), met=per_entry[i], gap=gaps[i])
                  for i, e in enumerate(entries)]
    training = _training(service, scores.near, short, entries, talents, edges, met, top_skills,
                         query.threshold, background)
    return GapReport(
        region=scope.name, region_level=scope.level, year=query.year,
        generated_at=datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M"),
        threshold=query.threshold, demand_scope=query.demand,
        definitions=definitions(query.threshold, query.demand, query.near_margin, query.pool),
        catalogues=catalogues, supply=len(talents), supply_fresh=sum(1 for t in talents if t.fresh_graduate),
        overall=overall, chains=chain_rows, occupations=occ_rows, entries=entry_rows,
        missing_skills=top_skills, training=training,
        salary=salary_reference(entries, service.taxonomy),
        method=MethodInfo(encoder=service.encoder.name, background=round(background, 4), pool=query.pool,
                          pairs_scored=scores.pairs, near_margin=query.near_margin))


class SalaryQuery(BaseModel):
    region: str = Field(min_length=1, max_length=50)
    year: int = Field(ge=2000, le=2100)
    demand: DemandScope = "all"


class SalaryReport(BaseModel):
    region: str
    year: int
    demand_scope: DemandScope
    definition: str
    entries: int
    occupations: list[SalaryStat]


def salary_report(service: Any, query: SalaryQuery) -> SalaryReport:
    """工资价位 of a region and year: salary quantiles per occupation of the demand entries."""
    scope = resolve_region(service.regions, query.region)
    entries, _ = select_demand(service, scope, query.year, query.demand)
    defs = definitions(DEFAULT_THRESHOLD, query.demand, DEFAULT_NEAR_MARGIN, DEFAULT_POOL)
    return SalaryReport(region=scope.name, year=query.year, demand_scope=query.demand,
                        definition=defs["demand"] + defs["salary"], entries=len(entries),
                        occupations=salary_reference(entries, service.taxonomy))
