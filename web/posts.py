"""Post cards for seekers: what a seeker needs to act on a ranked post (where, who, pay, until
when, what it asks), one card per catalogue line across years, and the desired city said
plainly when it has no post."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from matcher.domain.auth import Principal
from matcher.domain.schemas import DemandEntry, Match, MatchFilters, TalentProfile
from matcher.service import MatchService

ANONYMOUS = "目录岗位（不具名）"
NO_CITY_POSTS = "您期望的城市暂无岗位，以下为其他城市"
LOCAL_K = 10  # posts ranked in each desired city
RELEVANT_SHARE = 0.85  # a desired city's post leads the list when its 匹配度 is at least this share of the best


def open_to_fresh_graduates(entry: DemandEntry) -> bool:
    """A post a fresh graduate can take: it says so, and it asks for no years of experience."""
    return entry.fresh_graduates_ok and entry.min_experience_years < 1


@dataclass
class PostCard:
    match: Match
    entry: DemandEntry
    employer: str
    city: str
    district: str = ""
    salary: str = "面议"
    validity: str = ""
    requirements: list[str] = field(default_factory=list)
    in_desired_city: bool = False


def _salary(e: DemandEntry) -> str:
    lo, hi = e.salary_min, e.salary_max
    if lo and hi:
        return f"{lo:,}–{hi:,} 元/月"
    if lo:
        return f"{lo:,} 元/月起"
    if hi:
        return f"最高 {hi:,} 元/月"
    return "面议"


def _district(e: DemandEntry, city: str, enterprise_text: str) -> str:
    """The district or county of a post, when its texts name one inside its city."""
    short = city.removesuffix("市")
    if not short:
        return ""
    for text in (e.description, enterprise_text):
        m = re.search(rf"{re.escape(short)}市?([\u4e00-\u9fff]{{1,6}}?(?:区|县|县级市|新区|开发区))", text or "")
        if m:
            return m.group(1)
    return ""


def _requirements(e: DemandEntry) -> list[str]:
    out = []
    if e.education:
        out.append(f"{e.education.value}及以上")
    if e.min_experience_years >= 1:
        out.append(f"{e.min_experience_years:g} 年以上工作经验")
    elif open_to_fresh_graduates(e):
        out.append("接受应届毕业生")
    if e.majors:
        out.append("专业：" + "、".join(e.majors[:4]))
    if e.required_certificates:
        out.append("证书：" + "、".join(e.required_certificates[:3]))
    if e.required_title_level:
        out.append(f"职称：{e.required_title_level.value}及以上")
    if e.required_skill_level:
        out.append(f"技能等级：{e.required_skill_level.value}及以上")
    if e.headcount:
        out.append(f"招 {e.headcount} 人")
    return out


def _validity(e: DemandEntry, years: dict[int, int], today: date) -> str:
    if e.valid_until:
        left = (e.valid_until - today).days
        return f"有效期至 {e.valid_until.isoformat()}" + (f"（还剩 {left} 天）" if 0 <= left <= 30 else "")
    if e.source == "catalogue" and e.catalogue_id in years:
        return f"{years[e.catalogue_id]} 年急需紧缺目录"
    return "长期有效"


def _catalogue_line(e: DemandEntry) -> tuple[Any, ...] | None:
    """What makes two catalogue rows the same line in different years."""
    if e.source != "catalogue":
        return None
    return (e.title, e.chain_id, e.city, e.occupation_code)


def newest_lines(entries: dict[int, DemandEntry], order: list[int], years: dict[int, int]) -> list[int]:
    """``order`` with each catalogue line kept once: the row of the newest catalogue year, at the
    place of the line's best-ranked row."""
    newest: dict[tuple, int] = {}
    for i in order:
        key = _catalogue_line(entries[i])
        if key is None:
            continue
        kept = newest.get(key)
        if kept is None or years.get(entries[i].catalogue_id or 0, 0) > years.get(entries[kept].catalogue_id or 0, 0):
            newest[key] = i
    out, seen = [], set()
    for i in order:
        key = _catalogue_line(entries[i])
        if key is None:
            out.append(i)
        elif key not in seen:
            seen.add(key)
            out.append(newest[key])
    return out


def _desired_cities(s: MatchService, profile: TalentProfile) -> list[str]:
    cities = profile.preferred_cities or ([profile.city] if profile.city else [])
    return [c for c in (s.reference.regions.city(c) for c in cities) if c]


def post_cards(s: MatchService, matches: list[Match], *, limit: int = 20, fresh_only: bool = False,
               desired: list[str] | None = None) -> list[PostCard]:
    """Cards for ranked matches (best first): one per catalogue line, the newest year."""
    entries = s.candidate_records("demand", [m.id for m in matches])  # kept models, not changed here
    by_id = {m.id: m for m in matches if m.id in entries}
    years = {c["id"]: c["year"] for c in s.catalogues.list()}
    order = [m.id for m in matches if m.id in entries]
    if fresh_only:
        order = [i for i in order if open_to_fresh_graduates(entries[i])]
    ids = newest_lines(entries, order, years)[:limit]
    ent_ids = [entries[i].enterprise_id for i in ids if entries[i].enterprise_id]
    names = s.store.enterprise_names(ent_ids) if ent_ids else {}
    texts = {}
    for eid in set(ent_ids):
        try:
            texts[eid] = s.enterprises.get(eid).description
        except Exception:  # noqa: BLE001 - a card without a district is still a card
            texts[eid] = ""
    today = date.today()
    wanted = set(desired or [])
    cards = []
    for i in ids:
        e = entries[i]
        m = by_id[i]
        employer = e.enterprise_name or names.get(e.enterprise_id or -1) or (ANONYMOUS if e.source == "catalogue" else "")
        city = s.reference.regions.city(e.city) or e.city or "地点未注明"
        cards.append(PostCard(match=m, entry=e, employer=employer, city=city,
                              district=_district(e, city, texts.get(e.enterprise_id or -1, "")),
                              salary=_salary(e), validity=_validity(e, years, today), requirements=_requirements(e),
                              in_desired_city=city in wanted))
    return cards


def seeker_posts(s: MatchService, talent_id: int, filters: MatchFilters, *, limit: int = 20,
                 fresh_only: bool = False, shown_to: Principal | None = None) -> tuple[list[PostCard], str | None]:
    """Ranked post cards for a seeker, and the note shown above them. Without a city filter, the
    posts in the seeker's desired cities that fit (see RELEVANT_SHARE) come first; when there are
    none, the note says so and the list is of other cities. ``shown_to``: the overall ranking is
    recorded as an impression of that seeker (the snapshot later outcome events refer to)."""
    profile = s.get("talent", talent_id)
    desired = _desired_cities(s, profile)
    extra = limit // 2  # room for catalogue lines of several years and posts asking for experience
    if filters.city or not desired:
        matches = s.match_talent(talent_id, limit + extra, filters, shown_to=shown_to, profile=profile)
        return post_cards(s, matches, limit=limit, fresh_only=fresh_only, desired=desired), None
    # the overall list and the best posts of each desired city (also those below the overall
    # top), from one ranking of the seeker's candidates
    others, *by_city = s.match_talent_views(
        talent_id, [(limit + extra, filters)] + [(LOCAL_K, filters.model_copy(update={"city": c})) for c in desired[:5]],
        shown_to=shown_to, profile=profile)
    best = max((m.score for m in others), default=0.0)
    local: list[Match] = [m for ms in by_city for m in ms]
    # a post in a desired city comes first when it fits about as well as the best elsewhere; a
    # post there that fits badly (a PCB layout post for a UI designer) is no answer to the wish
    local = sorted({m.id: m for m in local if m.score >= RELEVANT_SHARE * best}.values(), key=lambda m: -m.score)
    seen = {m.id for m in local}
    cards = post_cards(s, local + [m for m in others if m.id not in seen], limit=limit, fresh_only=fresh_only,
                       desired=desired)
    note = None if local else NO_CITY_POSTS
    return cards, note
