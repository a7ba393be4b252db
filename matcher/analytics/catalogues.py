"""Shortage catalogues (急需紧缺人才目录): listing, skills of 任职能力要求, and comparing two years.

A catalogue has a region and a year; its entries are demand entries with source ``catalogue``.
Two years of one region are compared entry by entry. Entries are paired across the years by
``MATCH_RULE`` (below, also returned with every comparison): first by occupation code + title +
chain, then by title + chain (the occupation code may have been coded differently), then by
occupation code + chain when exactly one entry on each side is left with that pair (a renamed
post). Several entries with the same key pair in the order of their ids. Unpaired entries of
the later year are new, of the earlier year removed; a pair is changed when its title (renamed
posts), shortage level, headcount or any requirement differs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from matcher.core.errors import InvalidInput, NotFound
from matcher.core.textnorm import normalize_key
from matcher.domain.schemas import DemandEntry
from matcher.service import MatchService

MATCH_RULE = ("条目配对规则：先按“职业编码 + 岗位名称 + 所属产业链”完全相同配对；其余按“岗位名称 + 所属产业链”配对"
              "（职业编码可能不同）；再其余按“职业编码 + 所属产业链”配对，但仅当两年各只剩一条（视为岗位更名）。"
              "键相同的多条按编号顺序依次配对。后一年未配对的为新增，前一年未配对的为移除；"
              "配对后岗位名称、紧缺星级、需求人数或任职要求（学历、专业、技能、经验、证书、薪酬、地点、是否面向应届生）有变化的为变更。")

# -- listing ------------------------------------------------------------------------------------


class CatalogueInfo(BaseModel):
    id: int
    region: str
    year: int
    name: str
    chain_registry: str | None
    entries: int


def list_catalogues(service: MatchService, region: str | None = None) -> list[CatalogueInfo]:
    """The stored catalogues, by region and year; ``region`` keeps those of one region."""
    from matcher.reference.regions import resolve_region

    scope = resolve_region(service.regions, region) if region else None
    out = []
    for c in service.store.list_catalogues():
        try:
            canonical = resolve_region(service.regions, c["region"]).name
        except InvalidInput:
            canonical = c["region"]
        if scope is not None and canonical != scope.name:
            continue
        out.append((canonical, CatalogueInfo(id=c["id"], region=c["region"], year=c["year"], name=c["name"] or "",
                                             chain_registry=c["chain_registry"], entries=c["entries"])))
    out.sort(key=lambda rc: (rc[0], rc[1].year, rc[1].id))
    return [c for _, c in out]


# -- comparison ---------------------------------------------------------------------------------


class EntryRef(BaseModel):
    id: int
    title: str
    chain_id: str | None
    chain_name: str
    occupation_code: str | None
    occupation_name: str | None
    shortage_level: int | None
    headcount: int


class FieldChange(BaseModel):
    field: str
    label: str
    before: str
    after: str
    direction: str | None = Field(default=None, description="up | down for numbers")


class ChangedEntry(BaseModel):
    before: EntryRef
    after: EntryRef
    matched_by: str = Field(description="code+title+chain | title+chain | code+chain")
    changes: list[FieldChange]


class ChainDelta(BaseModel):
    chain_id: str | None
    chain_name: str
    entries_from: int
    entries_to: int
    headcount_from: int
    headcount_to: int
    added: int
    removed: int
    changed: int


class ComparisonSummary(BaseModel):
    entries_from: int
    entries_to: int
    headcount_from: int
    headcount_to: int
    added: int
    removed: int
    changed: int
    unchanged: int
    shortage_up: int
    shortage_down: int
    headcount_up: int
    headcount_down: int


class CatalogueComparison(BaseModel):
    region: str
    year_from: int
    year_to: int
    rule: str = MATCH_RULE
    catalogues_from: list[CatalogueInfo]
    catalogues_to: list[CatalogueInfo]
    summary: ComparisonSummary
    added: list[EntryRef]
    removed: list[EntryRef]
    changed: list[ChangedEntry]
    by_chain: list[ChainDelta]


def _fmt_list(values: Sequence[str]) -> str:
    return "、".join(sorted(values)) or "—"


def _fmt_opt(value: Any) -> str:
    if value is None:
        return "—"
    return getattr(value, "value", None) or (f"{value:g}" if isinstance(value, float) else str(value))


def _salary(e: DemandEntry) -> str:
    if e.salary_min is None and e.salary_max is None:
        return "面议"
    if e.salary_min is not None and e.salary_max is not None:
        return f"{e.salary_min}-{e.salary_max}元/月"
    return f"{e.salary_min or e.salary_max}元/月"


# (field, Chinese label, display, comparison key); numbers get a direction
_FIELDS: list[tuple[str, str, Callable[[DemandEntry], str], Callable[[DemandEntry], Any]]] = [
    ("title", "岗位名称", lambda e: e.title, lambda e: normalize_key(e.title)),
    ("shortage_level", "紧缺星级", lambda e: _fmt_opt(e.shortage_level), lambda e: e.shortage_level or 0),
    ("headcount", "需求人数", lambda e: str(e.headcount), lambda e: e.headcount),
    ("education", "学历要求", lambda e: _fmt_opt(e.education), lambda e: e.education.rank if e.education else -1),
    ("majors", "专业要求", lambda e: _fmt_list(e.majors), lambda e: sorted(e.majors)),
    ("required_skills", "必备技能", lambda e: _fmt_list(e.required_skills), lambda e: sorted(e.required_skills)),
    ("preferred_skills", "优先技能", lambda e: _fmt_list(e.preferred_skills), lambda e: sorted(e.preferred_skills)),
    ("min_experience_years", "工作经验（年）", lambda e: f"{e.min_experience_years:g}", lambda e: e.min_experience_years),
    ("required_certificates", "证书要求", lambda e: _fmt_list(e.required_certificates),
     lambda e: sorted(e.required_certificates)),
    ("required_title_level", "职称要求", lambda e: _fmt_opt(e.required_title_level),
     lambda e: e.required_title_level.rank if e.required_title_level else -1),
    ("required_skill_level", "技能等级要求", lambda e: _fmt_opt(e.required_skill_level),
     lambda e: e.required_skill_level.rank if e.required_skill_level else -1),
    ("salary", "薪酬待遇", _salary, lambda e: (e.salary_min or 0, e.salary_max or 0)),
    ("city", "工作地点", lambda e: e.city or "—", lambda e: e.city or ""),
    ("fresh_graduates_ok", "面向应届生", lambda e: "是" if e.fresh_graduates_ok else "否",
     lambda e: e.fresh_graduates_ok),
]
_NUMERIC = {"shortage_level", "headcount", "education", "min_experience_years", "required_title_level",
            "required_skill_level", "salary"}


def entry_changes(before: DemandEntry, after: DemandEntry) -> list[FieldChange]:
    """The fields that differ between two entries, with their Chinese labels and directions."""
    out = []
    for name, label, show, key in _FIELDS:
        a, b = key(before), key(after)
        if a == b:
            continue
        direction = None
        if name in _NUMERIC:
            direction = "up" if b > a else "down"
        out.append(FieldChange(field=name, label=label, before=show(before), after=show(after), direction=direction))
    return out


def _title_key(e: DemandEntry) -> str:
    return normalize_key(e.title)


_STAGES: list[tuple[str, Callable[[DemandEntry], tuple], bool]] = [
    ("code+title+chain", lambda e: (e.occupation_code, _title_key(e), e.chain_id), False),
    ("title+chain", lambda e: (_title_key(e), e.chain_id), False),
    ("code+chain", lambda e: (e.occupation_code, e.chain_id), True),
]


def pair_entries(old: Sequence[DemandEntry], new: Sequence[DemandEntry]
                 ) -> tuple[list[tuple[DemandEntry, DemandEntry, str]], list[DemandEntry], list[DemandEntry]]:
    """(pairs with the stage that paired them, removed, added) under ``MATCH_RULE``."""
    left = sorted(old, key=lambda e: e.id or 0)
    right = sorted(new, key=lambda e: e.id or 0)
    pairs: list[tuple[DemandEntry, DemandEntry, str]] = []
    for stage, key, unique_only in _STAGES:
        groups_l: dict[tuple, list[DemandEntry]] = defaultdict(list)
        groups_r: dict[tuple, list[DemandEntry]] = defaultdict(list)
        for e in left:
            groups_l[key(e)].append(e)
        for e in right:
            groups_r[key(e)].append(e)
        used: set[int] = set()
        for k, ls in groups_l.items():
            rs = groups_r.get(k, [])
            if not rs or (k[0] is None and stage == "code+chain"):
                continue
            if unique_only and (len(ls) != 1 or len(rs) != 1):
                continue
            for a, b in zip(ls, rs, strict=False):
                pairs.append((a, b, stage))
                used.add(id(a))
                used.add(id(b))
        left = [e for e in left if id(e) not in used]
        right = [e for e in right if id(e) not in used]
    pairs.sort(key=lambda p: p[1].id or 0)
    return pairs, left, right


def _entries_of(service: MatchService, catalogues: Sequence[CatalogueInfo]) -> list[DemandEntry]:
    out: list[DemandEntry] = []
    for c in catalogues:
        out += service.store.get_catalogue(c.id).entries
    return out


def compare_catalogues(service: MatchService, region: str, year_from: int, year_to: int) -> CatalogueComparison:
    """New, removed and changed entries between two years' catalogues of one region."""
    from matcher.reference.regions import resolve_region

    if year_from == year_to:
        raise InvalidInput("比较的两个年度不能相同", [{"field": "year_to"}])
    scope = resolve_region(service.regions, region)
    cats = list_catalogues(service, scope.name)
    years = sorted({c.year for c in cats})
    by_year = {y: [c for c in cats if c.year == y] for y in (year_from, year_to)}
    for y, found in by_year.items():
        if not found:
            hint = f"；已有目录的年度：{'、'.join(map(str, years))}" if years else "；该地区还没有导入任何目录"
            raise NotFound(f"{scope.name} 没有 {y} 年的急需紧缺人才目录{hint}")
    old, new = _entries_of(service, by_year[year_from]), _entries_of(service, by_year[year_to])
    pairs, removed, added = pair_entries(old, new)
    chains = service.chains()

    def ref(e: DemandEntry) -> EntryRef:
        name = chains[e.chain_id].name if e.chain_id in chains else (e.chain_id or "（未归链）")
        return EntryRef(id=int(e.id or 0), title=e.title, chain_id=e.chain_id, chain_name=name,
                        occupation_code=e.occupation_code, occupation_name=e.occupation_name,
                        shortage_level=e.shortage_level, headcount=e.headcount)

    changed = []
    unchanged = 0
    for a, b, stage in pairs:
        diff = entry_changes(a, b)
        if diff:
            changed.append(ChangedEntry(before=ref(a), after=ref(b), matched_by=stage, changes=diff))
        else:
            unchanged += 1

    def moved(field: str, way: str) -> int:
        return sum(1 for c in changed for f in c.changes if f.field == field and f.direction == way)

    summary = ComparisonSummary(
        entries_from=len(old), entries_to=len(new), headcount_from=sum(e.headcount for e in old),
        headcount_to=sum(e.headcount for e in new), added=len(added), removed=len(removed), changed=len(changed),
        unchanged=unchanged, shortage_up=moved("shortage_level", "up"), shortage_down=moved("shortage_level", "down"),
        headcount_up=moved("headcount", "up"), headcount_down=moved("headcount", "down"))
    return CatalogueComparison(
        region=scope.name, year_from=year_from, year_to=year_to, catalogues_from=by_year[year_from],
        catalogues_to=by_year[year_to], summary=summary, added=[ref(e) for e in added],
        removed=[ref(e) for e in removed], changed=changed,
        by_chain=_by_chain(old, new, added, removed, changed, ref))


def _by_chain(old: Sequence[DemandEntry], new: Sequence[DemandEntry], added: Sequence[DemandEntry],
              removed: Sequence[DemandEntry], changed: Sequence[ChangedEntry],
              ref: Callable[[DemandEntry], EntryRef]) -> list[ChainDelta]:
    rows: dict[str | None, ChainDelta] = {}

    def row(e: DemandEntry) -> ChainDelta:
        r = ref(e)
        if e.chain_id not in rows:
            rows[e.chain_id] = ChainDelta(chain_id=e.chain_id, chain_name=r.chain_name, entries_from=0, entries_to=0,
                                          headcount_from=0, headcount_to=0, added=0, removed=0, changed=0)
        return rows[e.chain_id]

    for e in old:
        r = row(e)
        r.entries_from += 1
        r.headcount_from += e.headcount
    for e in new:
        r = row(e)
        r.entries_to += 1
        r.headcount_to += e.headcount
    for e in added:
        row(e).added += 1
    for e in removed:
        row(e).removed += 1
    for c in changed:
        rows[c.after.chain_id].changed += 1
    return sorted(rows.values(), key=lambda r: (-(r.headcount_to - r.headcount_from), r.chain_name))
