"""The graduates' direct-train zone (高校人才直通车 数字人才引才专区).

**Zone entries**: demand entries that are open, valid on the day (``valid_from`` ≤ day ≤
``valid_until``), open to fresh graduates, and by default enterprise or fair posts (catalogue
lines are not posts one can apply to; ``sources`` changes that).

**Ranking for a cohort** — a school, a major, a graduating class, or any combination: the
cohort is the active talent profiles of that school (same name), major (same name) and class
(graduation year; without a year, the fresh graduates). Entries are ranked by the two-sided
score of the cohort's aggregate profile: the normalised mean of the members' vectors for
semantic similarity, the skills, preferred cities, desired occupations and chains held by at
least ``SHARE`` of the members, the most common education and city, the median salary
expectation, no experience. Each ranked entry also says how many members qualify on their own
(hard requirements met and score ≥ threshold). A cohort with no stored member can still be
ranked by major alone (the major's text and the major requirement); a school or class alone
without members cannot.

**Subscriptions**: a talent or a school subscribes to chains, occupations (CSCO codes or code
prefixes) and cities; the feed returns zone entries created after the subscription's cursor
(entry ids grow with creation), oldest first, and the cursor moves only when the caller
acknowledges (``acknowledge``, or ``feed(..., advance=True)``). Entries that change after they
were delivered are not delivered again.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, model_validator

from matcher.core.errors import InvalidInput, NotFound
from matcher.core.textnorm import normalize_key, normalize_text
from matcher.domain.auth import Principal
from matcher.domain.schemas import (
    MAX_NAME,
    MAX_TITLE,
    ChainRef,
    DemandEntry,
    Education,
    Name,
    RecordId,
    Source,
    Tag,
    TalentProfile,
)
from matcher.domain.views import derived_model
from matcher.ranking.features import DEFAULT_THRESHOLD
from matcher.ranking.scorer import Scored
from matcher.reference.regions import place_of
from matcher.service import MatchService
from matcher.storage import queries
from matcher.storage.zone_repo import SubscriptionRepo

SHARE = 0.2  # a skill, city or wish held by this share of a cohort enters its aggregate profile
MAX_PROFILE_SKILLS = 30
MEMBER_POOL = 100  # entries scored per cohort member when counting who qualifies
DEFAULT_SOURCES: tuple[Source, ...] = ("post", "fair")

RANKING_DEFINITION = (
    "排序依据：把群体（学校、专业、届别）的人才档案合成一个画像——向量取成员向量的平均，技能、意向城市、意向职业和产业链取"
    f"至少 {SHARE:.0%} 成员具备的项，学历和所在城市取最常见的值，期望薪资取中位数——再按与单个求职者相同的双向匹配得分排序；"
    "满足画像硬性要求的岗位在前（也可改按成员合格人数排序）。“成员合格人数”为单独满足岗位硬性要求且得分"
    f"不低于阈值的成员人数（每位成员只对与其语义最接近的 {MEMBER_POOL} 个岗位评分）。"
    "专区岗位：状态为招聘中、在有效期内、面向应届毕业生且不要求工作经验的企业岗位和招聘会岗位。")


# -- models ---------------------------------------------------------------------------------------


class ZoneQuery(BaseModel):
    """Who the zone is ranked for, and which entries."""

    school: str | None = Field(default=None, max_length=100)
    major: str | None = Field(default=None, max_length=100)
    graduation_year: int | None = Field(default=None, ge=1950, le=2100)
    city: str | None = Field(default=None, max_length=50)
    chain: str | None = Field(default=None, max_length=100)
    occupation: str | None = Field(default=None, max_length=20, description="CSCO code or code prefix")
    sources: list[Source] = Field(default_factory=lambda: list(DEFAULT_SOURCES))
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=0, le=1)
    top_k: int = Field(default=20, ge=1, le=200)
    rank_by: Literal["profile", "members"] = Field(
        default="profile", description="the cohort profile's score, or the number of members who qualify")
    as_of: date | None = None


class CohortInfo(BaseModel):
    school: str | None
    major: str | None
    graduation_year: int | None
    members: int
    education: Education | None
    top_skills: list[str]
    city: str | None
    ranked_by: Literal["cohort", "major", "none"]


class ZoneEntry(BaseModel):
    id: int
    title: str
    enterprise_name: str | None
    city: str | None
    chain_id: str | None
    chain_name: str | None
    occupation_code: str | None
    occupation_name: str | None
    education: Education | None
    salary_min: int | None
    salary_max: int | None
    shortage_level: int | None
    valid_until: date | None
    score: float | None
    eligible: bool | None
    matched_skills: list[str] = Field(default_factory=list)
    missing_skills: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    members_qualified: int | None = None


class ZoneResult(BaseModel):
    as_of: date
    definition: str
    cohort: CohortInfo
    total: int = Field(description="zone entries passing the filters")
    entries: list[ZoneEntry]


class SubscriptionCreate(BaseModel):
    """A new subscription: exactly one of talent_id and school."""

    talent_id: RecordId | None = None
    school: str | None = Field(default=None, max_length=MAX_NAME)
    label: str = Field(default="", max_length=MAX_TITLE)
    chains: list[ChainRef] = Field(default_factory=list, max_length=50)
    occupations: list[Name] = Field(default_factory=list, max_length=50)
    cities: list[Tag] = Field(default_factory=list, max_length=50)
    fresh_only: bool = True
    start: Literal["now", "beginning"] = Field(default="now", description="deliver entries created after "
                                               "subscribing (now) or every current zone entry too (beginning)")

    @model_validator(mode="after")
    def _one_subscriber(self) -> SubscriptionCreate:
        if (self.talent_id is None) == (not (self.school or "").strip()):
            raise ValueError("talent_id 与 school 必须且只能填写一个")
        return self


class Subscription(BaseModel):
    id: int
    subscriber_kind: Literal["talent", "school"]
    talent_id: int | None
    school: str | None
    label: str
    chains: list[str]
    occupations: list[str]
    cities: list[str]
    fresh_only: bool
    last_seen_id: int
    created_at: datetime
    updated_at: datetime


class FeedItem(ZoneEntry):
    created_at: datetime | None = None


class Feed(BaseModel):
    subscription: Subscription
    items: list[FeedItem]
    cursor: int = Field(description="acknowledge this to move past the items")
    more: bool = Field(description="more new entries wait beyond the limit")


# -- zone entries ---------------------------------------------------------------------------------


def _occupation_prefix(service: MatchService, value: str) -> str:
    value = value.strip()
    if value in service.taxonomy.by_code or any(code.startswith(value) for code in service.taxonomy.by_code):
        return value
    found = [o for o in service.taxonomy.search(value, 5) if o.name == value]
    if found:
        return found[0].code
    raise InvalidInput(f"未知职业：{value}（请填写 CSCO 2022 职业编码、编码前缀或职业名称）", [{"field": "occupations"}])


def _city(service: MatchService, value: str) -> str:
    place = place_of(service.regions, value)
    if place is None or place.city is None:
        raise InvalidInput(f"未知城市：{value}", [{"field": "cities"}])
    return place.city


def _valid_on(e: DemandEntry, day: date) -> bool:
    return (e.valid_from is None or e.valid_from <= day) and (e.valid_until is None or e.valid_until >= day)


def _zone_rows(service: MatchService, *, sources: Sequence[str], fresh_only: bool, after_id: int = 0,
               day: date, batch: int = 500):
    """Zone entries in id order, in batches (id > after_id), as (entry, created_at)."""
    for rows in queries.open_entry_batches(service.store.session, sources=sources, fresh_only=fresh_only,
                                           after_id=after_id, day=day, batch=batch):
        found = service.store.get_many("demand", [i for i, _ in rows])
        for i, created in rows:
            e = found.get(i)
            # a post that asks for years of experience is not open to fresh graduates, whatever it says
            if e is not None and _valid_on(e, day) and not (fresh_only and e.min_experience_years >= 1):
                yield e, created


def _matches(service: MatchService, e: DemandEntry, chains: set[str], occupations: Sequence[str], cities: set[str]) -> bool:
    if chains and e.chain_id not in chains:
        return False
    if occupations and not any((e.occupation_code or "").startswith(p) for p in occupations):
        return False
    if cities:
        place = place_of(service.regions, e.city)
        if place is None or place.city not in cities:
            return False
    return True


# -- cohorts --------------------------------------------------------------------------------------


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and normalize_key(a) == normalize_key(b)  # type: ignore[arg-type]


def cohort_members(service: MatchService, *, school: str | None, major: str | None,
                   graduation_year: int | None) -> list[TalentProfile]:
    """Active talents of a school / major / graduating class (fresh graduates without a year)."""
    ids = []
    with service.store.session() as s:
        for i, _, fresh, data in queries.active_talent_rows(s):
            if school and not _same(data.get("school"), school):
                continue
            if major and not _same(data.get("major"), major):
                continue
            if graduation_year is not None:
                if data.get("graduation_year") != graduation_year:
                    continue
            elif not fresh:
                continue
            ids.append(i)
    found = service.store.get_many("talent", ids)
    return [found[i] for i in sorted(found)]


def _frequent(lists: Sequence[Sequence[str]], n: int, limit: int | None = None) -> list[str]:
    counts = Counter(x for items in lists for x in dict.fromkeys(items))
    need = max(1, int(np.ceil(SHARE * n)))
    out = [x for x, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= need]
    return out[:limit] if limit else out


def aggregate_profile(members: Sequence[TalentProfile], major: str | None = None) -> TalentProfile:
    """One profile standing for a cohort (see the module docstring)."""
    n = len(members)
    edus = Counter(m.education for m in members if m.education is not None)
    cities = Counter(m.city for m in members if m.city)
    salaries = [m.salary_min for m in members if m.salary_min is not None]
    majors = Counter(m.major for m in members if m.major)
    return TalentProfile(
        education=edus.most_common(1)[0][0] if edus else None,
        major=major or (majors.most_common(1)[0][0] if majors else None),
        fresh_graduate=True,
        skills=_frequent([m.skills for m in members], n, MAX_PROFILE_SKILLS),
        city=cities.most_common(1)[0][0] if cities else None,
        preferred_cities=_frequent([m.preferred_cities for m in members], n, 10),
        desired_occupations=_frequent([m.desired_occupations for m in members], n, 10),
        desired_chains=_frequent([m.desired_chains for m in members], n, 10),
        salary_min=int(statistics.median(salaries)) if salaries else None,
        experience_years=0.0,
    )


def _chain_id(service: MatchService, value: str | None) -> str | None:
    return service.resolve_chain(value) if value else None


def graduate_zone(service: MatchService, query: ZoneQuery) -> ZoneResult:
    """Zone entries ranked for a school, major or graduating class (newest first without one)."""
    from matcher.domain.texts import talent_text

    day = query.as_of or date.today()
    chain = _chain_id(service, query.chain)
    occ = [_occupation_prefix(service, query.occupation)] if query.occupation else []
    cities = {_city(service, query.city)} if query.city else set()
    entries = [e for e, _ in _zone_rows(service, sources=query.sources, fresh_only=True, day=day)
               if _matches(service, e, {chain} if chain else set(), occ, cities)]
    school = normalize_text(query.school or "") or None
    major = normalize_text(query.major or "") or None
    cohort_given = bool(school or major or query.graduation_year)
    members = cohort_members(service, school=school, major=major,
                             graduation_year=query.graduation_year) if cohort_given else []
    if cohort_given and not members and not major:
        who = "".join(x for x in (school, f"{query.graduation_year}届" if query.graduation_year else None) if x)
        raise NotFound(f"库中没有{who}毕业生的档案，无法形成群体画像；可改按专业（major）排序")
    ranked_by: Literal["cohort", "major", "none"] = "cohort" if members else ("major" if major else "none")
    profile = aggregate_profile(members, major) if members else TalentProfile(major=major, fresh_graduate=True)
    info = CohortInfo(school=school, major=major, graduation_year=query.graduation_year, members=len(members),
                      education=profile.education, top_skills=profile.skills[:10], city=profile.city,
                      ranked_by=ranked_by)
    if ranked_by == "none" or not entries:
        shown = sorted(entries, key=lambda e: -(e.id or 0))[: query.top_k]
        return ZoneResult(as_of=day, definition=RANKING_DEFINITION, cohort=info, total=len(entries),
                          entries=[_zone_entry(service, e) for e in shown])
    ev = service.vectors("demand", [e.id for e in entries])
    bg = service.background("demand")
    if members:
        mv = service.vectors("talent", [m.id for m in members])
        vec = mv.mean(axis=0)
    else:
        vec = service.cached.passages([talent_text(profile, service.taxonomy.name)])[0]
    vec = vec / (np.linalg.norm(vec) or 1.0)
    cos = ev @ vec
    scored = [service.score_pair(profile, e, float(c), target="demand", background=bg)
              for e, c in zip(entries, cos, strict=True)]
    counts = (members_qualified(service, members, mv, entries, ev, query.threshold, bg)
              if members else np.zeros(len(entries), dtype=int))
    order = sorted(range(len(entries)), key=lambda i: (
        (-int(counts[i]),) if query.rank_by == "members" else ()) + scored[i].sort_key())
    out = []
    for i in order[: query.top_k]:
        item = _zone_entry(service, entries[i], scored[i])
        item.members_qualified = int(counts[i]) if members else None
        out.append(item)
    return ZoneResult(as_of=day, definition=RANKING_DEFINITION, cohort=info, total=len(entries), entries=out)


def members_qualified(service: MatchService, members: Sequence[TalentProfile], mv: np.ndarray,
                      entries: Sequence[DemandEntry], ev: np.ndarray, threshold: float, background: float,
                      pool: int = MEMBER_POOL) -> np.ndarray:
    """Per entry, the members who qualify on their own (hard requirements met, score ≥
    threshold); each member is scored against its ``pool`` nearest entries by cosine."""
    counts = np.zeros(len(entries), dtype=int)
    sims = mv @ ev.T
    k = min(pool, len(entries))
    for r, m in enumerate(members):
        cand = np.arange(len(entries)) if k == len(entries) else np.argpartition(-sims[r], k - 1)[:k]
        for j in cand:
            sc = service.score_pair(m, entries[j], float(sims[r, j]), target="demand", background=background)
            if sc.eligible and sc.score >= threshold:
                counts[j] += 1
    return counts


def _zone_entry(service: MatchService, e: DemandEntry, sc: Scored | None = None, cls: type[ZoneEntry] = ZoneEntry,
                **extra: Any) -> Any:
    chains = service.chains()
    m = service.to_match(sc) if sc is not None else None
    return cls(
        id=int(e.id or 0), title=e.title, enterprise_name=e.enterprise_name, city=e.city, chain_id=e.chain_id,
        chain_name=chains[e.chain_id].name if e.chain_id in chains else None, occupation_code=e.occupation_code,
        occupation_name=e.occupation_name, education=e.education, salary_min=e.salary_min,
        salary_max=e.salary_max, shortage_level=e.shortage_level, valid_until=e.valid_until,
        score=m.score if m else None, eligible=m.eligible if m else None,
        matched_skills=m.explanation.matched_skills if m else [],
        missing_skills=m.explanation.missing_skills if m else [],
        reasons=m.explanation.reasons if m else [], **extra)


# -- subscriptions --------------------------------------------------------------------------------


def _max_entry_id(service: MatchService) -> int:
    with service.store.session() as s:
        return queries.max_entry_id(s)


def create_subscription(service: MatchService, req: SubscriptionCreate, actor: Principal | None = None) -> Subscription:
    """Validate the filters (chains, occupations, cities resolved) and store a subscription
    (audited in the same transaction)."""
    chains = list(dict.fromkeys(service.resolve_chain(c) for c in req.chains if c.strip()))
    occupations = list(dict.fromkeys(_occupation_prefix(service, o) for o in req.occupations if o.strip()))
    cities = list(dict.fromkeys(_city(service, c) for c in req.cities if c.strip()))
    school = normalize_text(req.school or "") or None
    row = SubscriptionRepo(service.store).create(
        subscriber_kind="talent" if req.talent_id is not None else "school", talent_id=req.talent_id,
        school=school, label=req.label, chains=chains, occupations=occupations, cities=cities,
        fresh_only=req.fresh_only, last_seen_id=_max_entry_id(service) if req.start == "now" else 0, actor=actor)
    return Subscription.model_validate(row)


def list_subscriptions(service: MatchService, *, talent_id: int | None = None, school: str | None = None
                       ) -> list[Subscription]:
    school = normalize_text(school) if school else None
    return [Subscription.model_validate(r) for r in SubscriptionRepo(service.store).list(talent_id=talent_id,
                                                                                         school=school)]


def get_subscription(service: MatchService, sub_id: int) -> Subscription:
    return Subscription.model_validate(SubscriptionRepo(service.store).get(sub_id))


def delete_subscription(service: MatchService, sub_id: int, actor: Principal | None = None) -> None:
    SubscriptionRepo(service.store).delete(sub_id, actor=actor)


def acknowledge(service: MatchService, sub_id: int, cursor: int) -> Subscription:
    """Move a subscription's cursor forward to ``cursor`` (the ``cursor`` of a feed)."""
    if cursor < 0 or cursor > _max_entry_id(service):
        raise InvalidInput(f"游标 {cursor} 无效：应在 0 到最新条目编号之间", [{"field": "cursor"}])
    return Subscription.model_validate(SubscriptionRepo(service.store).advance(sub_id, cursor))


def feed(service: MatchService, sub_id: int, *, limit: int = 100, advance: bool = False, as_of: date | None = None,
         threshold: float = DEFAULT_THRESHOLD) -> Feed:
    """New zone entries of a subscription since its cursor, oldest first. A talent subscriber
    gets each entry's score for them; a school subscriber how many of its fresh graduates
    qualify on their own."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit 必须在 1 到 1000 之间", [{"field": "limit"}])
    sub = get_subscription(service, sub_id)
    day = as_of or date.today()
    picked: list[tuple[DemandEntry, datetime]] = []
    more = False
    cursor = sub.last_seen_id  # past every zone entry looked at, matching or not
    for e, created in _zone_rows(service, sources=DEFAULT_SOURCES, fresh_only=sub.fresh_only,
                                 after_id=sub.last_seen_id, day=day):
        if not _matches(service, e, set(sub.chains), sub.occupations, set(sub.cities)):
            cursor = int(e.id or 0)
            continue
        if len(picked) == limit:
            more = True
            break
        picked.append((e, created))
        cursor = int(e.id or 0)
    items = _feed_items(service, sub, picked, threshold)
    if advance and cursor > sub.last_seen_id:
        sub = Subscription.model_validate(SubscriptionRepo(service.store).advance(sub_id, cursor))
    return Feed(subscription=sub, items=items, cursor=cursor, more=more)


def _feed_items(service: MatchService, sub: Subscription, picked: Sequence[tuple[DemandEntry, datetime]],
                threshold: float) -> list[FeedItem]:
    if not picked:
        return []
    entries = [e for e, _ in picked]
    created = {int(e.id or 0): c for e, c in picked}
    if sub.talent_id is not None:
        profile = service.store.get("talent", sub.talent_id)
        tv = service.vectors("talent", [sub.talent_id])[0]
        ev = service.vectors("demand", [e.id for e in entries])
        bg = service.background("demand")
        return [_zone_entry(service, e, service.score_pair(profile, e, float(c), target="demand", background=bg),
                            FeedItem, created_at=created[int(e.id or 0)]) for e, c in zip(entries, ev @ tv, strict=True)]
    members = cohort_members(service, school=sub.school, major=None, graduation_year=None)
    counts = None
    if members:
        mv = service.vectors("talent", [m.id for m in members])
        ev = service.vectors("demand", [e.id for e in entries])
        # every delivered entry is scored for every member (no pool): the counts are exact
        counts = members_qualified(service, members, mv, entries, ev, threshold, service.background("demand"),
                                   pool=len(entries))
    out = []
    for k, e in enumerate(entries):
        item = _zone_entry(service, e, None, FeedItem, created_at=created[int(e.id or 0)])
        item.members_qualified = int(counts[k]) if counts is not None else None
        out.append(item)
    return out


# the library's model without its one-subscriber rule: for a seeker the server fills talent_id
SubscriptionIn = derived_model("SubscriptionIn", SubscriptionCreate, set(),
                          doc="A subscription: a seeker subscribes for themself; staff may subscribe a "
                              "school or a talent.")
