"""Resolving a fair's posts, seekers, wishes and slots against the pool, every problem collected."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from matcher.core.errors import InvalidInput, RowError
from matcher.domain.fair import (
    JSON_SECTIONS,
    FairCreate,
    FairSettings,
    SheetRowError,
    Slot,
    SlotIn,
    WishIn,
    parse_clock,
)
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.ingest.safe_cells import excerpt

if TYPE_CHECKING:  # pragma: no cover
    from matcher.service import MatchService
    from matcher.storage.fair_repo import FairRepo
    from matcher.storage.records import StoredRecord

Wish = tuple[str, int, int, int | None]  # kind, seeker index, post index, rank


@dataclass
class Item:
    """A post or seeker being created: its origin, the stored id or the new record."""

    origin: tuple[str, int]
    stored_id: int | None = None
    record: StoredRecord | None = None
    model: Any = None  # DemandEntry / TalentProfile: stored, prepared, or as given when failed
    amount: int = 0  # capacity or limit
    booth: str = ""
    failed: bool = False  # has an error (already reported); wishes naming it are not reported again


# the column a reader looks for, by the field the resolver checks (never the field's code name)
_COLUMN_NAMES = {"seeker": "求职者", "post": "岗位", "enterprise": "企业", "kind": "类型", "rank": "顺序",
                 "booth": "展位", "start": "开始时间", "end": "结束时间", "period": "时段",
                 "demand_id": "需求ID", "talent_id": "人才ID", "enterprise_id": "企业", "external_id": "编号",
                 "posts": "岗位表", "seekers": "求职者表", "capacity": "面试名额", "limit": "面试上限"}


def column_name(fld: str) -> str:
    """The Chinese column name of a field of a fair file (a record field by its usual header)."""
    from matcher.ingest.fields import BUILTIN_HEADERS

    if fld in _COLUMN_NAMES:
        return _COLUMN_NAMES[fld]
    return BUILTIN_HEADERS[fld][0] if fld in BUILTIN_HEADERS else fld


class Errors:
    def __init__(self) -> None:
        self.items: list[SheetRowError] = []

    def add(self, origin: tuple[str, int] | None, fld: str, reason: str, value: object = None) -> None:
        sheet, row = origin or ("", 0)
        shown = None if value is None else excerpt(str(value))
        # a sheet's column by its Chinese name; a JSON body's (the API) by its field name
        shown_field = fld if sheet in JSON_SECTIONS else column_name(fld)
        self.items.append(SheetRowError(row=row, field=shown_field, reason=reason, value=shown,
                                        sheet=sheet))

    def sorted(self) -> list[RowError]:
        order = {name: n for n, name in enumerate(dict.fromkeys(e.sheet for e in self.items))}
        return sorted(self.items, key=lambda e: (order[e.sheet], e.row))


def _origin(obj: Any, section: str, index: int) -> tuple[str, int]:
    return obj._origin or (section, index + 1)


def _place(origin: tuple[str, int]) -> str:
    """Where an item came from, as a user reads it."""
    sheet, row = origin
    return f"{sheet} 第 {row} 项" if sheet in JSON_SECTIONS else f"“{sheet}”第 {row} 行"


_SIDES = {
    "demand": ("demand_id", "entry", "capacity", "岗位"),
    "talent": ("talent_id", "profile", "limit", "求职者"),
}



@dataclass
class Resolved:
    """A fair's items, resolved: posts and seekers (stored or new), wishes by index, every booth's slots."""

    posts: list[Item]
    seekers: list[Item]
    wishes: list[Wish]
    slots: dict[str, list[Slot]]


def resolve_fair(service: MatchService, repo: FairRepo, fair: FairCreate, scope: str, errors: Errors,
                 warnings: list[str]) -> Resolved:
    """Every item of a fair; external ids are looked up in the numbering ``scope``."""
    posts = resolve_side(service, repo, "demand", fair.posts, "posts", errors, fair.default_capacity, scope,
                         warnings)
    seekers = resolve_side(service, repo, "talent", fair.seekers, "seekers", errors, fair.default_limit, scope,
                           warnings)
    enterprise = enterprise_of(service, posts)
    for k, it in enumerate(posts):
        if not it.booth:
            it.booth = (enterprise[id(it)] or f"岗位{k + 1}")[:50]
    wishes = resolve_wishes(fair.wishes, posts, seekers, enterprise, errors)
    booth_capacity: dict[str, int] = Counter()
    for it in posts:
        booth_capacity[it.booth] += it.amount
    slots = resolve_slots(fair, fair.slots, dict(booth_capacity), errors)
    return Resolved(posts, seekers, wishes, slots)


# -- posts and seekers ---------------------------------------------------------------------------


def resolve_side(service: MatchService, repo: FairRepo, kind: Literal["demand", "talent"],
                 items_in: Sequence[Any], section: str, errors: Errors, default_amount: int,
                 scope: str, warnings: list[str]) -> list[Item]:
    """Posts or seekers: existing records by id or external id, or new records prepared.

    External ids are looked up in the importer's own numbering (``scope``) only. A row that
    reuses a stored record by external id but names another person (name, phone or ID number
    differ) or another post (title, enterprise) is reported in ``warnings``."""
    side = _Side(service, kind, errors)
    known_ext = repo.ids_by_external(kind, [e for x in items_in if (e := side.external(x))], scope)
    items, new, reused = side.items(items_in, section, default_amount, known_ext)
    side.check_stored(items)
    warnings += _merge_warnings(service, kind, [(it, ext, given) for it, ext, given in reused
                                                if not it.failed and it.model is not None])
    if new:
        side.prepare(new)
    side.check_repeats(items)
    for it in items:
        if it.model is None:  # a stored id that does not exist: a placeholder for wish lookups
            it.model = DemandEntry(title="-") if kind == "demand" else TalentProfile()
    return items


class _Side:
    """The steps of resolving the posts (``demand``) or the seekers (``talent``) of a fair."""

    def __init__(self, service: MatchService, kind: Literal["demand", "talent"], errors: Errors) -> None:
        self.service, self.kind, self.errors = service, kind, errors
        self.id_attr, self.model_attr, self.amount_attr, self.label = _SIDES[kind]

    def external(self, x: Any) -> str | None:
        model = getattr(x, self.model_attr)
        return x.external_id or (model.external_id if model is not None else None)

    def items(self, items_in: Sequence[Any], section: str, default_amount: int, known_ext: dict[str, int]
              ) -> tuple[list[Item], list[Item], list[tuple[Item, str, Any]]]:
        """Every item; the new ones; the reused ones with their external id and the row's own data."""
        items: list[Item] = []
        new: list[Item] = []
        reused: list[tuple[Item, str, Any]] = []
        for i, x in enumerate(items_in):
            it = Item(origin=_origin(x, section, i), amount=getattr(x, self.amount_attr) or default_amount,
                      booth=(getattr(x, "booth", None) or "").strip())
            items.append(it)
            model, ext = getattr(x, self.model_attr), self.external(x)
            if getattr(x, self.id_attr) is not None:
                it.stored_id = getattr(x, self.id_attr)
            elif ext and ext in known_ext:
                it.stored_id = known_ext[ext]  # the record is already stored: reuse it
                if model is not None:
                    reused.append((it, ext, model))
            elif model is not None:
                it.model = model.model_copy(update=self._updates(x, model))
                new.append(it)
            else:
                it.failed = True
                it.model = (DemandEntry(title="-", external_id=ext) if self.kind == "demand"
                            else TalentProfile(external_id=ext))
                self.errors.add(it.origin, "external_id",
                                f"找不到外部编号为“{ext}”的{self.label}，且该行没有可新建{self.label}的信息", ext)
        return items, new, reused

    def _updates(self, x: Any, model: Any) -> dict[str, Any]:
        updates: dict[str, Any] = {}
        if self.kind == "demand":
            updates["source"] = "fair"
            if model.enterprise_name:
                updates["enterprise_id"] = None  # a file's enterprise ids are foreign: the name wins
        if x.external_id and not model.external_id:
            updates["external_id"] = x.external_id
        return updates

    def check_stored(self, items: list[Item]) -> None:
        """Load the stored records; those missing, closed or inactive fail."""
        stored = self.service.store.get_many(self.kind, [it.stored_id for it in items if it.stored_id is not None])
        for it in items:
            if it.stored_id is None:
                continue
            m = stored.get(it.stored_id)
            it.model = m
            if m is None:
                it.failed = True
                self.errors.add(it.origin, self.id_attr, f"{self.label} {it.stored_id} 不存在", it.stored_id)
            elif self.kind == "demand" and m.status != "open":
                it.failed = True
                self.errors.add(it.origin, self.id_attr, f"岗位 {it.stored_id} 未在招聘（状态：{m.status}）",
                                it.stored_id)
            elif self.kind == "talent" and m.status != "active":
                it.failed = True
                self.errors.add(it.origin, self.id_attr, f"人才档案 {it.stored_id} 已停用", it.stored_id)

    def prepare(self, new: list[Item]) -> None:
        """Prepare the new records (their enterprises must exist); those that fail are reported."""
        if self.kind == "demand":
            known = self.service.store.enterprise_names([it.model.enterprise_id for it in new
                                                         if it.model.enterprise_id])
            for it in new:
                if it.model.enterprise_id is not None and it.model.enterprise_id not in known:
                    it.failed = True
                    self.errors.add(it.origin, "enterprise_id", f"企业 {it.model.enterprise_id} 不存在",
                                    it.model.enterprise_id)
        for it, rec in zip(new, self.service.prepare_records(self.kind, [it.model for it in new]), strict=True):
            if isinstance(rec, InvalidInput):
                it.failed = True
                fld = rec.errors[0].get("field", "-") if rec.errors else "-"
                self.errors.add(it.origin, fld, rec.detail)
            elif not it.failed:
                it.record, it.model = rec, rec.model

    def check_repeats(self, items: list[Item]) -> None:
        """The same record twice, and new records sharing an external id."""
        seen: dict[tuple[str, Any], tuple[str, int]] = {}
        for it in items:
            if it.model is None:
                continue
            if it.stored_id is not None:
                key: tuple[str, Any] | None = ("id", it.stored_id)
            else:
                key = ("ext", it.model.external_id) if it.model.external_id else None
            if key is None:
                continue
            if key in seen:
                it.failed = True
                self.errors.add(it.origin, self.id_attr if key[0] == "id" else "external_id",
                                f"{self.label}重复（与{_place(seen[key])}相同）", key[1])
            else:
                seen[key] = it.origin


def _digits(text: str | None) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def _merge_warnings(service: MatchService, kind: str, reused: Sequence[tuple[Item, str, Any]]) -> list[str]:
    """Rows whose external id found a stored record that looks like someone (or something) else:
    the fields that differ are named, their stored values are not shown."""
    names = service.store.enterprise_names([it.model.enterprise_id for it, _, _ in reused
                                            if kind == "demand" and it.model.enterprise_id])
    out = []
    for it, ext, given in reused:
        stored = it.model
        if kind == "talent":
            checks = [("姓名", given.name, stored.name, str.strip),
                      ("电话", given.phone, stored.phone, _digits),
                      ("身份证号", given.national_id, stored.national_id, str.upper)]
        else:
            checks = [("岗位名称", given.title, stored.title, str.strip),
                      ("企业", given.enterprise_name, names.get(stored.enterprise_id), str.strip)]
        differ = [what for what, a, b, norm in checks if a and b and norm(a) != norm(b)]
        if differ:
            what = "人才档案" if kind == "talent" else "岗位"
            out.append(f"{_place(it.origin)}：编号“{ext}”对应已有{what} {it.stored_id}，但本行的"
                       f"{'、'.join(differ)}与之不同；已按编号复用该{what}，本行其余信息未采用。"
                       f"如为不同的{'人' if kind == 'talent' else '岗位'}，请改用新编号")
    return out


def enterprise_of(service: MatchService, posts: Sequence[Item]) -> dict[int, str | None]:
    names = service.store.enterprise_names(
        [it.model.enterprise_id for it in posts if it.model.enterprise_id])
    return {id(it): it.model.enterprise_name or names.get(it.model.enterprise_id) for it in posts}



# -- wishes --------------------------------------------------------------------------------------


def _lookup(items: Sequence[Item], keys: Callable[[Item], Iterable[str]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for k, it in enumerate(items):
        for key in dict.fromkeys(keys(it)):
            if key:
                out[key].append(k)
    return out


class _WishTargets:
    """The seeker and posts a wish names, looked up among the fair's items."""

    def __init__(self, posts: list[Item], seekers: list[Item], enterprise: dict[int, str | None]) -> None:
        self.posts, self.seekers = posts, seekers
        self.s_ext = _lookup(seekers, lambda it: [it.model.external_id or ""])
        self.s_id = _lookup(seekers, lambda it: [str(it.stored_id or "")])
        self.s_name = _lookup(seekers, lambda it: [it.model.name or ""])
        self.p_ext = _lookup(posts, lambda it: [it.model.external_id or ""])
        self.p_id = _lookup(posts, lambda it: [str(it.stored_id or "")])
        self.p_title = _lookup(posts, lambda it: [it.model.title])
        self.p_ent = _lookup(posts, lambda it: [enterprise[id(it)] or ""])

    @staticmethod
    def _one(ref: str, tables: Sequence[dict[str, list[int]]]) -> list[int]:
        for table in tables:
            if ref in table:
                return table[ref]
        return []

    def of(self, w: WishIn, origin: tuple[str, int], errors: Errors) -> tuple[int, list[int]] | None:
        """(seeker index, post indexes) of a wish; None when it names nothing usable (reported,
        unless the seeker's or the post's own row already is)."""
        posts = self.posts
        ss = self._one(w.seeker, [self.s_ext, self.s_id, self.s_name])
        if not ss:
            errors.add(origin, "seeker", "找不到该求职者（应为本次活动求职者的编号、人才ID或姓名）", w.seeker)
            return None
        if len(ss) > 1:
            errors.add(origin, "seeker", f"对应 {len(ss)} 位求职者，请改用编号或人才ID", w.seeker)
            return None
        if self.seekers[ss[0]].failed:
            return None  # the seeker's own row is already reported
        within = self.p_ent.get(w.enterprise, []) if w.enterprise else list(range(len(posts)))
        if w.enterprise and not within:
            errors.add(origin, "enterprise", "本次活动中没有该企业的岗位", w.enterprise)
            return None
        if w.post:
            pp = [k for k in self._one(w.post, [self.p_ext, self.p_id, self.p_title]) if k in set(within)]
            if not pp:
                errors.add(origin, "post", "找不到该岗位（应为本次活动岗位的编号、需求ID或岗位名称）", w.post)
                return None
        else:
            pp = within
        if any(posts[k].failed for k in pp):
            if all(posts[k].failed for k in pp) or w.kind != "exclude":
                return None  # the post's own row is already reported
            pp = [k for k in pp if not posts[k].failed]
        if len(pp) > 1 and w.kind != "exclude":
            what = "岗位名称" if w.post else "企业"
            errors.add(origin, "post" if w.post else "enterprise",
                       f"该{what}在本次活动中对应 {len(pp)} 个岗位，请指定岗位编号", w.post or w.enterprise)
            return None
        return ss[0], pp


def resolve_wishes(wishes: Sequence[WishIn], posts: list[Item], seekers: list[Item],
                   enterprise: dict[int, str | None], errors: Errors) -> list[Wish]:
    """(kind, seeker index, post index, rank) of every wish; seeker wishes renumbered 1..k."""
    targets = _WishTargets(posts, seekers, enterprise)
    out: list[tuple[str, int, int, int | None, tuple[str, int], int]] = []
    seen: dict[tuple[str, int, int], tuple[str, int]] = {}
    for n, w in enumerate(wishes):
        origin = _origin(w, "wishes", n)
        found = targets.of(w, origin, errors)
        if found is None:
            continue
        s, pp = found
        for k in pp:
            key = (w.kind, s, k)
            if key in seen:
                errors.add(origin, "post", f"意向重复（与{_place(seen[key])}相同）",
                           w.post or w.enterprise)
                continue
            seen[key] = origin
            out.append((w.kind, s, k, w.rank, origin, n))
    pair_kinds: dict[tuple[int, int], set[str]] = defaultdict(set)
    for kind, s, k, *_ in out:
        pair_kinds[(s, k)].add(kind)
    for kind, s, k, _, origin, _ in out:
        if kind == "must_see" and "exclude" in pair_kinds[(s, k)]:
            errors.add(origin, "kind", "同一企业对同一求职者既标记必面又标记排除")
    return _renumbered(out)


def _renumbered(out: Sequence[tuple[str, int, int, int | None, tuple[str, int], int]]) -> list[Wish]:
    """Seeker wishes ordered by rank, then by appearance, renumbered 1..k per seeker; then the others."""
    ranked: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for kind, s, k, rank, _, n in out:
        if kind == "seeker":
            ranked[s].append((rank if rank is not None else math.inf, n, k))
    result: list[Wish] = []
    for s, lst in ranked.items():
        for r, (_, _, k) in enumerate(sorted(lst), start=1):
            result.append(("seeker", s, k, r))
    result += [(kind, s, k, None) for kind, s, k, _, _, _ in out if kind != "seeker"]
    return result


# -- slots ---------------------------------------------------------------------------------------


def _default_slots(settings: FairSettings, n: int) -> list[Slot]:
    start = parse_clock(settings.start_time)
    return [Slot(start + i * settings.slot_minutes, start + (i + 1) * settings.slot_minutes)
            for i in range(n) if start + (i + 1) * settings.slot_minutes <= 24 * 60]


def resolve_slots(settings: FairSettings, slots_in: Sequence[SlotIn], booth_capacity: dict[str, int],
                   errors: Errors) -> dict[str, list[Slot]]:
    """Every booth's slots: the listed ones, else the default grid from the fair settings."""
    explicit: dict[str, list[tuple[Slot, tuple[str, int]]]] = defaultdict(list)
    for n, s in enumerate(slots_in):
        origin = _origin(s, "slots", n)
        start = parse_clock(s.start)
        end = parse_clock(s.end) if s.end else start + settings.slot_minutes
        if end <= start or end > 24 * 60:
            errors.add(origin, "end", "结束时间应晚于开始时间（同一天内）", s.end)
            continue
        targets = [s.booth] if s.booth else sorted(booth_capacity)
        if s.booth and s.booth not in booth_capacity:
            errors.add(origin, "booth", "本次活动中没有该展位", s.booth)
            continue
        for b in targets:
            explicit[b].append((Slot(start, end), origin))
    out: dict[str, list[Slot]] = {}
    for b, cap in booth_capacity.items():
        if b in explicit:
            lst = sorted(explicit[b], key=lambda x: x[0])
            for (a, _), (nb, origin) in zip(lst, lst[1:], strict=False):
                if nb.start < a.end:
                    errors.add(origin, "start", f"与展位“{b}”的时段 {a.label} 重叠", nb.label)
            out[b] = [s for s, _ in lst]
        else:
            out[b] = _default_slots(settings, settings.slots_per_booth or cap)
    return out

