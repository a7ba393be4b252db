"""Job-fair batch matching (人才对接活动、高校人才直通车): many seekers × many posts at once.

A fair holds posts (demand entries, each with an interview capacity and a booth), registered
seekers (talent profiles, each with an interview limit), optional wishes (a seeker's ranked
posts, an enterprise's must-see or excluded seekers) and time slots per booth. A run:

1. **Candidates**: the cosine of the passage vectors of every (seeker, post); each seeker's
   top-N posts and each post's top-M seekers by cosine, plus every wished and must-see pair,
   minus the excluded ones. The core's two-sided score (``MatchService.score_pair``) runs on
   those pairs only; ineligible pairs (hard requirements) and pairs below ``min_score`` are
   dropped, except must-see pairs, which the enterprise asked for by name.
2. **Assignment**: ``optimal`` = maximum total fit under capacities and limits (must-see pairs
   first), solved exactly; ``stable`` = seeker-proposing deferred acceptance with capacities on
   both sides, whose result has no blocking pair under the preferences used.
3. **Schedule**: a booth time slot for every interview; no seeker in two places at once, no
   booth slot used twice. What cannot be placed is reported with the reason.
4. **Report**: totals, shares, blocking pairs, the welfare gap between the two modes, and the
   distribution of interviews by chain, school and fresh-graduate status.

The algorithms are pure functions over :class:`Pair` lists (no database), the orchestration
(:func:`create_fair`, :func:`run_fair`, ...) works through ``MatchService`` and the fair
repository of :mod:`matcher.fair_store`.
"""

from __future__ import annotations

import heapq
import math
import re
import time as _time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from matcher.errors import ImportRejected, InvalidInput, RowError
from matcher.schemas import (
    MAX_NAME,
    MAX_TAG,
    MAX_TITLE,
    DemandEntry,
    MatchFilters,
    RecordId,
    StrictInt,
    TalentProfile,
)

if TYPE_CHECKING:  # pragma: no cover
    from matcher.auth import Principal
    from matcher.fair_store import FairRepo
    from matcher.service import MatchService
    from matcher.store import StoredRecord

Mode = Literal["optimal", "stable"]
Solver = Literal["auto", "lp", "flow", "assignment"]
WishKind = Literal["seeker", "must_see", "exclude"]
# (stage label, done, total): the CLI draws a progress bar from it
Progress = Callable[[str, int, int], None]

MAX_SEEKER_LIMIT = 20
MAX_CAPACITY = 1000
_ASSIGNMENT_MAX_CELLS = 60_000_000  # dense linear_sum_assignment matrix (480 MB of float64)

__all__ = [
    "REPORT_DEFINITIONS",
    "Assignment",
    "BlockingPair",
    "BoothInfo",
    "BoothSlot",
    "Candidates",
    "FairCreate",
    "FairDetail",
    "FairPost",
    "FairReport",
    "FairRunOptions",
    "FairRunResult",
    "FairRunSummary",
    "FairSeeker",
    "FairSettings",
    "FairSummary",
    "FairWish",
    "GroupStat",
    "Instance",
    "Pair",
    "PostIn",
    "ScheduleResult",
    "SeekerIn",
    "SheetRowError",
    "Slot",
    "SlotIn",
    "WishIn",
    "blocking_pairs",
    "booth_schedule",
    "booth_warnings",
    "check_feasible",
    "create_fair",
    "delete_fair",
    "fair_report",
    "format_clock",
    "get_fair",
    "get_run",
    "list_fairs",
    "list_runs",
    "parse_clock",
    "run_fair",
    "schedule_interviews",
    "score_candidates",
    "seeker_schedule",
    "solve_optimal",
    "solve_stable",
    "total_fit",
]


# =============================================================================================
# errors and clock times
# =============================================================================================


@dataclass
class SheetRowError(RowError):
    """A bad cell or row of one sheet (or file, or JSON list) of a fair."""

    sheet: str = ""

    def __str__(self) -> str:
        if self.sheet in _JSON_SECTIONS:  # an item of a JSON list (the API's body)
            shown = f"（值：{self.value}）" if self.value not in (None, "") else ""
            return f"{self.sheet} 第 {self.row} 项，字段 {self.field}：{self.reason}{shown}"
        where = f"工作表“{self.sheet}” " if self.sheet else ""
        return where + super().__str__()


_JSON_SECTIONS = frozenset({"posts", "seekers", "wishes", "slots"})


_CLOCK_RE = re.compile(r"^(\d{1,2})\s*(?:[:：.点时]\s*(\d{1,2})?\s*(?:分)?(?:[:：]\d{1,2})?)?$")


def parse_clock(value: object) -> int:
    """Minutes after midnight of a clock time: ``9:00``, ``09:30``, ``9点30``, ``14时``,
    a spreadsheet time or datetime, or an Excel day fraction (0.375 = 09:00).
    Raises ValueError with a Chinese reason."""
    if isinstance(value, datetime):
        return value.hour * 60 + value.minute
    if isinstance(value, dtime):
        return value.hour * 60 + value.minute
    if isinstance(value, float | int) and not isinstance(value, bool):
        if 0 <= value < 1:
            return int(round(float(value) * 24 * 60))
        raise ValueError(f"无法识别的时间“{value}”，应如 09:00")
    text = str(value or "").strip()
    if not text:
        raise ValueError("时间不能为空，应如 09:00")
    from matcher.textnorm import normalize_text

    norm = normalize_text(text).replace(" ", "")
    norm = re.sub(r"^(上午|早上)", "", norm)
    afternoon = bool(re.match(r"^(下午|晚上)", norm))
    norm = re.sub(r"^(下午|晚上)", "", norm)
    m = _CLOCK_RE.match(norm)
    if not m:
        raise ValueError(f"无法识别的时间“{text}”，应如 09:00")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if afternoon and hour < 12:
        hour += 12
    if (hour > 23 or minute > 59) and (hour, minute) != (24, 0):  # 24:00 ends the day
        raise ValueError(f"时间“{text}”超出范围")
    return hour * 60 + minute


def format_clock(minutes: int) -> str:
    """``HH:MM`` of minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


MAX_CLOCK = 20  # characters of a clock time as typed (``下午 2点30分``)


def _clock_field(value: object) -> str:
    """A clock field's canonical ``HH:MM`` (a ValueError becomes the validation error)."""
    if isinstance(value, str) and len(value) > MAX_CLOCK:
        raise ValueError(f"时间过长（最多 {MAX_CLOCK} 个字符），应如 09:00")
    return format_clock(parse_clock(value))


# =============================================================================================
# models: input (create), stored detail, run options and results
# =============================================================================================


class _Model(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")


class FairSettings(_Model):
    """A fair's own settings; the defaults fill what posts, seekers and booths leave empty."""

    name: str = Field(min_length=1, max_length=MAX_TITLE)
    held_on: date | None = None
    venue: str | None = Field(default=None, max_length=MAX_TITLE)
    start_time: str = Field(default="09:00", max_length=MAX_CLOCK, description="默认时段的开始时间 HH:MM")
    slot_minutes: StrictInt = Field(default=20, ge=5, le=240, description="每场面试时长（分钟）")
    slots_per_booth: StrictInt | None = Field(
        default=None, ge=1, le=200,
        description="未单独列出时段的展位的时段数；为空时等于该展位各岗位面试名额之和")
    default_limit: StrictInt = Field(default=3, ge=1, le=MAX_SEEKER_LIMIT, description="每人面试上限")
    default_capacity: StrictInt = Field(default=5, ge=1, le=MAX_CAPACITY, description="每岗位面试名额")

    _start = field_validator("start_time", mode="before")(_clock_field)


class PostIn(_Model):
    """A post of a fair: an existing demand entry (by id or external id) or a new one."""

    demand_id: RecordId | None = None
    external_id: str | None = Field(default=None, max_length=MAX_NAME)
    entry: DemandEntry | None = None
    capacity: StrictInt | None = Field(default=None, ge=1, le=MAX_CAPACITY)
    booth: str | None = Field(default=None, max_length=MAX_TAG)
    _origin: tuple[str, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_reference(self) -> PostIn:
        if self.demand_id is None and self.external_id is None and self.entry is None:
            raise ValueError("岗位应给出 demand_id、external_id 或 entry 之一")
        return self


class SeekerIn(_Model):
    """A registered seeker: an existing talent profile (by id or external id) or a new one."""

    talent_id: RecordId | None = None
    external_id: str | None = Field(default=None, max_length=MAX_NAME)
    profile: TalentProfile | None = None
    limit: StrictInt | None = Field(default=None, ge=1, le=MAX_SEEKER_LIMIT)
    _origin: tuple[str, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_reference(self) -> SeekerIn:
        if self.talent_id is None and self.external_id is None and self.profile is None:
            raise ValueError("求职者应给出 talent_id、external_id 或 profile 之一")
        return self


class WishIn(_Model):
    """A wish. ``seeker``: the seeker's ranked wish for a post; ``must_see`` / ``exclude``: the
    enterprise wants to see / never sees the seeker. References are an external id, a stored
    id, a seeker's name or a post's title (unique within the fair); ``enterprise`` narrows the
    post, or alone names every post of that enterprise (``exclude``) or its only post."""

    kind: WishKind = "seeker"
    seeker: str = Field(min_length=1, max_length=MAX_TITLE)
    post: str | None = Field(default=None, max_length=MAX_TITLE)
    enterprise: str | None = Field(default=None, max_length=MAX_TITLE)
    rank: StrictInt | None = Field(default=None, ge=1, le=1000)
    _origin: tuple[str, int] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _target(self) -> WishIn:
        if not self.post and not self.enterprise:
            raise ValueError("意向应给出岗位或企业")
        return self


class SlotIn(_Model):
    """A booth time slot; ``booth`` empty = every booth of the fair."""

    booth: str | None = Field(default=None, max_length=MAX_TAG)
    start: str = Field(max_length=MAX_CLOCK)
    end: str | None = Field(default=None, max_length=MAX_CLOCK)
    _origin: tuple[str, int] | None = PrivateAttr(default=None)

    _clock = field_validator("start", "end", mode="before")(
        lambda v: None if v is None or (isinstance(v, str) and not v.strip()) else _clock_field(v))


class FairCreate(FairSettings):
    """Everything needed to create a fair (the JSON body of ``POST /v1/fairs``)."""

    posts: list[PostIn] = Field(default_factory=list, max_length=20_000)
    seekers: list[SeekerIn] = Field(default_factory=list, max_length=200_000)
    wishes: list[WishIn] = Field(default_factory=list, max_length=1_000_000)
    slots: list[SlotIn] = Field(default_factory=list, max_length=200_000)


class FairPost(_Model):
    demand_id: int
    capacity: int
    booth: str
    title: str = ""
    enterprise: str | None = None


class FairSeeker(_Model):
    talent_id: int
    limit: int
    name: str | None = None


class FairWish(_Model):
    kind: WishKind
    talent_id: int
    demand_id: int
    rank: int | None = None


class BoothSlot(_Model):
    booth: str
    start: str
    end: str


class BoothInfo(_Model):
    booth: str
    posts: int
    capacity: int
    slots: int
    first_start: str | None = None
    last_end: str | None = None


class FairSummary(_Model):
    id: int
    name: str
    held_on: date | None = None
    venue: str | None = None
    posts: int = 0
    seekers: int = 0
    runs: int = 0
    created_at: datetime | None = None


class FairDetail(FairSettings):
    """A stored fair with its posts, seekers, wishes and (materialised) booth slots."""

    id: int
    created_at: datetime | None = None
    posts: list[FairPost] = Field(default_factory=list)
    seekers: list[FairSeeker] = Field(default_factory=list)
    wishes: list[FairWish] = Field(default_factory=list)
    slots: list[BoothSlot] = Field(default_factory=list)
    booths: list[BoothInfo] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    created: dict[str, int] = Field(default_factory=dict, description="本次导入新建/复用的记录数")


class FairRunOptions(_Model):
    """How to run a fair."""

    mode: Mode = "optimal"
    min_score: float = Field(default=0.3, ge=0, le=1, description="低于该综合匹配度的组合不安排")
    top_n: StrictInt = Field(default=40, ge=1, le=5000, description="每位求职者按向量相似度保留的岗位数")
    post_top: StrictInt = Field(default=20, ge=0, le=100_000, description="每个岗位按向量相似度保留的求职者数")
    solver: Solver = Field(default="auto", description="optimal 模式的求解器：auto=lp")
    filters: MatchFilters | None = None
    save: bool = True


class Assignment(_Model):
    """One interview: who, which post, how good, why, where and when."""

    talent_id: int
    demand_id: int
    seeker_name: str | None = None
    school: str | None = None
    fresh_graduate: bool = False
    post_title: str = ""
    enterprise: str | None = None
    chain_id: str | None = None
    chain_name: str | None = None
    score: float
    seeker_score: float
    employer_score: float
    wish_rank: int | None = None
    must_see: bool = False
    reason: str = ""
    booth: str = ""
    start: str | None = None
    end: str | None = None
    unscheduled_reason: str | None = None


class GroupStat(_Model):
    """Interviews of one group. For seeker groups (school, fresh graduates) ``seekers`` counts
    the registered seekers of the group; for post groups (chains) it counts the seekers with
    an interview there, and ``share`` is 1."""

    group: str
    seekers: int
    seekers_with_interview: int
    interviews: int
    share: float = Field(description="该组获得面试的求职者占比")


class BlockingPair(_Model):
    talent_id: int
    demand_id: int
    score: float
    seeker_score: float
    employer_score: float


class FairReport(_Model):
    """The numbers of one run (definitions in ``REPORT_DEFINITIONS``)."""

    mode: Mode
    solver: str
    min_score: float
    seekers: int
    posts: int
    capacity: int
    booth_slots: int
    candidate_pairs: int
    scored_pairs: int
    ineligible_pairs: int
    below_min_pairs: int
    interviews: int
    total_fit: float
    mean_fit: float
    seekers_with_interview: int
    seeker_share: float
    capacity_fill: float
    scheduled: int
    unscheduled: int
    slot_fill: float
    blocking_pairs: int
    blocking_examples: list[BlockingPair] = Field(default_factory=list)
    optimal_total: float
    stable_total: float
    optimal_interviews: int
    stable_interviews: int
    optimal_blocking_pairs: int
    stable_blocking_pairs: int
    welfare_gap: float
    welfare_gap_share: float
    must_see_pairs: int = 0
    must_see_met: int = 0
    seekers_with_wishes: int = 0
    first_wish_met: int = 0
    schedule_repairs: int = 0
    by_chain: list[GroupStat] = Field(default_factory=list)
    by_school: list[GroupStat] = Field(default_factory=list)
    by_fresh: list[GroupStat] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)


class FairRunResult(_Model):
    run_id: int | None = None
    fair_id: int
    fair_name: str = ""
    created_at: datetime | None = None
    options: FairRunOptions
    report: FairReport
    assignments: list[Assignment] = Field(default_factory=list)


class FairRunSummary(_Model):
    run_id: int
    fair_id: int
    mode: Mode
    created_at: datetime | None = None
    interviews: int
    total_fit: float
    seeker_share: float
    blocking_pairs: int
    welfare_gap: float

    @classmethod
    def from_report(cls, *, run_id: int, fair_id: int, mode: Mode, created_at: datetime | None,
                    report: dict[str, Any]) -> FairRunSummary:
        return cls(run_id=run_id, fair_id=fair_id, mode=mode, created_at=created_at,
                   interviews=report.get("interviews", 0), total_fit=report.get("total_fit", 0.0),
                   seeker_share=report.get("seeker_share", 0.0), blocking_pairs=report.get("blocking_pairs", 0),
                   welfare_gap=report.get("welfare_gap", 0.0))

    @classmethod
    def of(cls, result: FairRunResult) -> FairRunSummary:
        assert result.run_id is not None
        return cls.from_report(run_id=result.run_id, fair_id=result.fair_id, mode=result.options.mode,
                               created_at=result.created_at, report=result.report.model_dump())


REPORT_DEFINITIONS: dict[str, str] = {
    "综合匹配度": "用人方得分与求职方得分的加权平均（默认各半），0–1；核心匹配服务的同一评分",
    "总匹配度": "本次安排的全部面试的综合匹配度之和",
    "平均匹配度": "总匹配度 / 面试场数",
    "候选组合": "按向量相似度为每位求职者取前 N 个岗位、为每个岗位取前 M 位求职者，"
                "加入全部志愿与企业必面组合，去掉企业排除的组合",
    "不合格组合": "未满足岗位硬性要求（学历、职称、证书、应届限制等）的候选组合，不予安排（企业必面除外）",
    "低于门槛": "综合匹配度低于最低匹配度的候选组合，不予安排（企业必面除外）",
    "获得面试的求职者占比": "至少获得一场面试的求职者 / 报名求职者",
    "面试名额填充率": "安排的面试场数 / 各岗位面试名额之和",
    "展位时段占用率": "已排期的面试场数 / 各展位时段数之和",
    "阻塞对": "未被安排的候选组合中，双方都愿意改为彼此的组合：求职者还有面试余额或更偏好该岗位，"
              "且岗位还有名额或更偏好该求职者（求职者偏好：先按志愿顺序，再按求职方得分；"
              "岗位偏好：先企业必面，再按用人方得分）",
    "福利差": "最优模式总匹配度 − 稳定模式总匹配度；占比 = 福利差 / 最优模式总匹配度",
    "最优模式": "在名额与每人上限内使总匹配度最大（优先满足企业必面），精确求解",
    "稳定模式": "求职者申请的延迟接受算法（含双方容量），结果没有阻塞对",
}


# =============================================================================================
# pure algorithms: pairs, optimal, stable, blocking pairs
# =============================================================================================


@dataclass(frozen=True, slots=True)
class Pair:
    """A candidate (seeker, post) with its scores and wishes."""

    seeker: int
    post: int
    score: float
    seeker_score: float
    employer_score: float
    wish_rank: int | None = None
    must_see: bool = False


def seeker_key(p: Pair) -> tuple:
    """A seeker's preference (smaller = better): wished posts in wish order, then seeker score."""
    return (p.wish_rank is None, p.wish_rank or 0, -p.seeker_score, p.post)


def post_key(p: Pair) -> tuple:
    """A post's preference (smaller = better): must-see seekers, then employer score."""
    return (not p.must_see, -p.employer_score, p.seeker)


@dataclass
class Instance:
    """Seekers with interview limits, posts with capacities, and the acceptable pairs."""

    limits: dict[int, int]
    capacities: dict[int, int]
    pairs: list[Pair]


def total_fit(pairs: Iterable[Pair]) -> float:
    return float(sum(p.score for p in pairs))


def _weights(inst: Instance) -> np.ndarray:
    """Solver weights: the score, plus a bonus on must-see pairs large enough that any
    solution with more must-see pairs beats any with fewer (lexicographic objective)."""
    w = np.array([p.score for p in inst.pairs], dtype=np.float64)
    must = np.array([p.must_see for p in inst.pairs], dtype=bool)
    if must.any():
        most = min(sum(inst.limits.values()), sum(inst.capacities.values()))
        w = w + must * float(most + 1)
    return w


def solve_optimal(inst: Instance, solver: Solver = "auto") -> list[Pair]:
    """Maximum total fit under post capacities and seeker limits (must-see pairs first).

    ``lp`` (the default): the bipartite b-matching LP, whose constraint matrix is totally
    unimodular, so the HiGHS dual simplex returns an integral vertex (checked; MILP if not).
    ``flow``: min-cost flow (networkx network simplex), exact, much slower at scale.
    ``assignment``: scipy ``linear_sum_assignment`` on capacity-expanded slots, exact only
    when every seeker limit or every post capacity is 1 (else two copies of one seeker could
    take two copies of one post); other instances raise InvalidInput.
    """
    if not inst.pairs:
        return []
    method = "lp" if solver == "auto" else solver
    if method == "lp":
        return _solve_lp(inst)
    if method == "flow":
        return _solve_flow(inst)
    if method == "assignment":
        return _solve_assignment(inst)
    raise InvalidInput(f"未知的求解器：{solver}（应为 auto、lp、flow 或 assignment）")


def _incidence(inst: Instance) -> tuple[Any, np.ndarray, list[int], list[int]]:
    from scipy import sparse

    seekers = sorted(inst.limits)
    posts = sorted(inst.capacities)
    srow = {s: i for i, s in enumerate(seekers)}
    prow = {p: len(seekers) + j for j, p in enumerate(posts)}
    n = len(inst.pairs)
    rows = np.empty(2 * n, dtype=np.int64)
    rows[:n] = [srow[p.seeker] for p in inst.pairs]
    rows[n:] = [prow[p.post] for p in inst.pairs]
    cols = np.concatenate([np.arange(n), np.arange(n)])
    a = sparse.csr_matrix((np.ones(2 * n), (rows, cols)), shape=(len(seekers) + len(posts), n))
    b = np.array([inst.limits[s] for s in seekers] + [inst.capacities[p] for p in posts], dtype=float)
    return a, b, seekers, posts


def _solve_lp(inst: Instance) -> list[Pair]:
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    a, b, _, _ = _incidence(inst)
    w = _weights(inst)
    res = linprog(-w, A_ub=a, b_ub=b, bounds=(0, 1), method="highs-ds")
    x = res.x if res.status == 0 else None
    if x is None or np.abs(x - np.round(x)).max() > 1e-6:
        # never seen on a vertex solution of this TU matrix; MILP guarantees integrality anyway
        res = milp(-w, constraints=LinearConstraint(a, -np.inf, b), bounds=Bounds(0, 1),
                   integrality=np.ones(len(w)))
        if res.status != 0 or res.x is None:
            raise InvalidInput(f"最优分配求解失败：{res.message}")
        x = res.x
    return [p for p, v in zip(inst.pairs, x, strict=True) if v > 0.5]


_FLOW_SCALE = 1_000_000


def _solve_flow(inst: Instance) -> list[Pair]:
    import networkx as nx

    w = _weights(inst)
    supply = sum(inst.limits.values())
    g = nx.DiGraph()
    g.add_node("s", demand=-supply)
    g.add_node("t", demand=supply)
    g.add_edge("s", "t", capacity=supply, weight=0)  # seekers may stay (partly) unassigned
    for s, lim in inst.limits.items():
        g.add_edge("s", ("a", s), capacity=lim, weight=0)
    for p, cap in inst.capacities.items():
        g.add_edge(("b", p), "t", capacity=cap, weight=0)
    for pair, wt in zip(inst.pairs, w, strict=True):
        g.add_edge(("a", pair.seeker), ("b", pair.post), capacity=1, weight=-int(round(wt * _FLOW_SCALE)))
    _, flow = nx.network_simplex(g)
    return [p for p in inst.pairs if flow[("a", p.seeker)].get(("b", p.post), 0) > 0]


def _solve_assignment(inst: Instance) -> list[Pair]:
    from scipy.optimize import linear_sum_assignment

    unit_seekers = all(v == 1 for v in inst.limits.values())
    unit_posts = all(v == 1 for v in inst.capacities.values())
    if not (unit_seekers or unit_posts):
        raise InvalidInput("assignment 求解器只适用于每人面试上限均为 1 或每岗位名额均为 1 的活动；"
                           "其他情况请用 lp 或 flow")
    # expand the side with capacities into one column (row) per slot
    if unit_seekers:
        rows_of, cols_cap = sorted(inst.limits), inst.capacities
        row_key, col_key = (lambda p: p.seeker), (lambda p: p.post)
    else:
        rows_of, cols_cap = sorted(inst.capacities), inst.limits
        row_key, col_key = (lambda p: p.post), (lambda p: p.seeker)
    cols_sorted = sorted(cols_cap)
    offset: dict[int, int] = {}
    n_cols = 0
    for c in cols_sorted:
        offset[c] = n_cols
        n_cols += cols_cap[c]
    if len(rows_of) * n_cols > _ASSIGNMENT_MAX_CELLS:
        raise InvalidInput(f"assignment 求解器的矩阵过大（{len(rows_of)} × {n_cols}），请用 lp")
    row_idx = {r: i for i, r in enumerate(rows_of)}
    w = _weights(inst)
    big = float(w.max())
    # cost = big - weight on pairs and big ("weight 0") elsewhere: every row takes a cell, so
    # the minimum cost is rows * big - the maximum total weight; cardinality earns nothing
    cost = np.full((len(rows_of), n_cols), big)
    which: dict[tuple[int, int], int] = {}
    for k, (pair, wt) in enumerate(zip(inst.pairs, w, strict=True)):
        r, c = row_idx[row_key(pair)], col_key(pair)
        cost[r, offset[c] : offset[c] + cols_cap[c]] = big - wt
        which[(r, c)] = k
    transpose = len(rows_of) > n_cols  # scipy wants rows <= columns for speed; either is exact
    r_ind, c_ind = linear_sum_assignment(cost.T if transpose else cost)
    if transpose:
        r_ind, c_ind = c_ind, r_ind
    starts = np.array([offset[c] for c in cols_sorted])
    chosen = []
    for r, cc in zip(r_ind, c_ind, strict=True):
        c = cols_sorted[int(np.searchsorted(starts, cc, side="right") - 1)]
        k = which.get((int(r), c))
        if k is not None and w[k] > 0:
            chosen.append(inst.pairs[k])
    return chosen


def solve_stable(inst: Instance) -> list[Pair]:
    """Seeker-proposing deferred acceptance, many-to-many with capacities on both sides.

    Each seeker proposes down its preference list (``seeker_key``) until it holds ``limit``
    posts or has no post left; a post holds its ``capacity`` best proposals (``post_key``) and
    rejects the rest. With these (responsive) preferences the result has no blocking pair.
    """
    by_seeker: dict[int, list[Pair]] = defaultdict(list)
    by_post: dict[int, list[Pair]] = defaultdict(list)
    for p in inst.pairs:
        by_seeker[p.seeker].append(p)
        by_post[p.post].append(p)
    prefs = {s: sorted(lst, key=seeker_key) for s, lst in by_seeker.items()}
    prank: dict[tuple[int, int], int] = {}
    for post, lst in by_post.items():
        for r, p in enumerate(sorted(lst, key=post_key)):
            prank[(p.seeker, post)] = r
    held: dict[int, list[tuple[int, int]]] = defaultdict(list)  # post -> heap of (-rank, seeker)
    holding: Counter[int] = Counter()
    nxt: Counter[int] = Counter()
    queue = deque(sorted(prefs))
    while queue:
        s = queue.popleft()
        lst = prefs[s]
        while holding[s] < inst.limits[s] and nxt[s] < len(lst):
            pair = lst[nxt[s]]
            nxt[s] += 1
            heap = held[pair.post]
            r = prank[(s, pair.post)]
            if len(heap) < inst.capacities[pair.post]:
                heapq.heappush(heap, (-r, s))
                holding[s] += 1
            elif r < -heap[0][0]:
                _, loser = heapq.heapreplace(heap, (-r, s))
                holding[s] += 1
                holding[loser] -= 1
                queue.append(loser)
    index = {(p.seeker, p.post): p for p in inst.pairs}
    return [index[(s, post)] for post, heap in held.items() for _, s in heap]


def blocking_pairs(inst: Instance, matching: Sequence[Pair]) -> list[Pair]:
    """Acceptable pairs outside ``matching`` that both sides would rather have (see
    ``seeker_key`` and ``post_key``): the seeker has room or prefers the post to its worst
    interview, and the post has room or prefers the seeker to its worst one."""
    matched = {(p.seeker, p.post) for p in matching}
    s_count: Counter[int] = Counter(p.seeker for p in matching)
    p_count: Counter[int] = Counter(p.post for p in matching)
    s_worst: dict[int, tuple] = {}
    p_worst: dict[int, tuple] = {}
    for p in matching:
        k = seeker_key(p)
        if p.seeker not in s_worst or k > s_worst[p.seeker]:
            s_worst[p.seeker] = k
        k = post_key(p)
        if p.post not in p_worst or k > p_worst[p.post]:
            p_worst[p.post] = k
    out = []
    for p in inst.pairs:
        if (p.seeker, p.post) in matched:
            continue
        seeker_wants = s_count[p.seeker] < inst.limits[p.seeker] or seeker_key(p) < s_worst[p.seeker]
        if not seeker_wants:
            continue
        if p_count[p.post] < inst.capacities[p.post] or post_key(p) < p_worst[p.post]:
            out.append(p)
    return out


def check_feasible(inst: Instance, matching: Sequence[Pair]) -> None:
    """Raise AssertionError when a matching breaks a capacity or a limit or repeats a pair."""
    keys = [(p.seeker, p.post) for p in matching]
    assert len(keys) == len(set(keys)), "a pair is assigned twice"
    for s, n in Counter(p.seeker for p in matching).items():
        assert n <= inst.limits[s], f"seeker {s} has {n} > {inst.limits[s]} interviews"
    for post, n in Counter(p.post for p in matching).items():
        assert n <= inst.capacities[post], f"post {post} has {n} > {inst.capacities[post]} interviews"


# =============================================================================================
# scheduling
# =============================================================================================


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A booth's time slot, in minutes after midnight."""

    start: int
    end: int

    @property
    def label(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"


@dataclass
class ScheduleResult:
    placed: dict[tuple[int, int], Slot] = field(default_factory=dict)  # (seeker, post) -> slot
    unscheduled: dict[tuple[int, int], str] = field(default_factory=dict)  # -> reason
    repairs: int = 0  # interviews placed by an alternating-path swap after the greedy pass


def _overlaps(a: Slot, b: Slot) -> bool:
    return a.start < b.end and b.start < a.end


def _clean_grid(slots: Iterable[Slot]) -> list[Slot] | None:
    """The distinct slots, sorted, if any two are equal or disjoint; None otherwise."""
    distinct = sorted(set(slots))
    for a, b in zip(distinct, distinct[1:], strict=False):
        if b.start < a.end:
            return None
    return distinct


def schedule_interviews(pairs: Sequence[Pair], booth_of: dict[int, str],
                        slots: dict[str, Sequence[Slot]]) -> ScheduleResult:
    """A booth slot for every interview: a booth slot holds one interview, and a seeker's
    interviews never overlap in time.

    The interviews form a bipartite multigraph seekers × booths and a schedule is an edge
    colouring by time slots. A greedy pass (busiest booths first, earliest slot free at both
    ends) is followed, when all slots form a grid (any two equal or disjoint), by the
    alternating-path (Kempe chain) repair of König's edge-colouring proof: for an interview
    left over, with slot ``a`` free at its booth and ``c`` free for its seeker, swap ``a``/``c``
    along the path starting at the seeker (when every booth on it has both slots). With one
    grid for every booth, at most ``len(grid)`` interviews per booth and per seeker,
    everything is placed. Whatever still does not fit is returned in ``unscheduled`` with the
    reason.
    """
    res = ScheduleResult()
    by_booth: dict[str, list[Pair]] = defaultdict(list)
    seeker_load: Counter[int] = Counter(p.seeker for p in pairs)
    for p in pairs:
        by_booth[booth_of[p.post]].append(p)
    booth_slots = {b: sorted(set(slots.get(b, ()))) for b in by_booth}
    grid = _clean_grid(s for lst in booth_slots.values() for s in lst)

    def pressure(b: str) -> float:
        return len(by_booth[b]) / max(len(booth_slots[b]), 1)

    seeker_busy: dict[int, list[Slot]] = defaultdict(list)
    booth_used: dict[str, dict[Slot, tuple[int, int]]] = defaultdict(dict)
    leftovers: list[Pair] = []
    for b in sorted(by_booth, key=lambda b: (-pressure(b), b)):
        todo = sorted(by_booth[b], key=lambda p: (-seeker_load[p.seeker], p.seeker, p.post))
        for p in todo:
            for slot in booth_slots[b]:
                if slot in booth_used[b]:
                    continue
                if any(_overlaps(slot, o) for o in seeker_busy[p.seeker]):
                    continue
                booth_used[b][slot] = (p.seeker, p.post)
                seeker_busy[p.seeker].append(slot)
                res.placed[(p.seeker, p.post)] = slot
                break
            else:
                leftovers.append(p)
    if grid is not None and leftovers:
        leftovers = _kempe_repair(leftovers, grid, booth_of, booth_slots, booth_used, res)
    for p in leftovers:
        b = booth_of[p.post]
        n_slots, load = len(booth_slots[b]), len(by_booth[b])
        if n_slots == 0:
            reason = f"展位“{b}”没有面试时段"
        elif load > n_slots and len(booth_used[b]) >= n_slots:
            reason = f"展位“{b}”时段不足（{n_slots} 个时段，需安排 {load} 场面试）"
        else:
            reason = "该展位剩余时段均与此求职者的其他面试时间冲突"
        res.unscheduled[(p.seeker, p.post)] = reason
    return res


def _kempe_repair(leftovers: list[Pair], grid: list[Slot], booth_of: dict[int, str],
                  booth_slots: dict[str, list[Slot]], booth_used: dict[str, dict[Slot, tuple[int, int]]],
                  res: ScheduleResult) -> list[Pair]:
    """Place leftovers by swapping two slots along an alternating path (grid slots only)."""
    seeker_at: dict[int, dict[Slot, tuple[int, int]]] = defaultdict(dict)
    for (s, post), slot in res.placed.items():
        seeker_at[s][slot] = (s, post)
    still: list[Pair] = []
    for p in leftovers:
        b = booth_of[p.post]
        free_b = [t for t in booth_slots[b] if t not in booth_used[b]]
        free_s = [t for t in grid if t not in seeker_at[p.seeker]]
        done = False
        for a in free_b:
            for c in free_s:
                path = _alternating_path(p.seeker, a, c, booth_of, booth_used, seeker_at)
                if path is None or any(
                        new not in booth_slots[booth_of[post]] for (_, post), _, new in path):
                    continue
                if any(booth_of[post] == b for (_, post), _, _ in path):
                    continue  # cannot happen on a proper colouring; kept as a guard
                for key, old, _ in path:
                    del booth_used[booth_of[key[1]]][old]
                    del seeker_at[key[0]][old]
                for key, _, new in path:
                    booth_used[booth_of[key[1]]][new] = key
                    seeker_at[key[0]][new] = key
                    res.placed[key] = new
                assert a not in seeker_at[p.seeker] and a not in booth_used[b]
                booth_used[b][a] = (p.seeker, p.post)
                seeker_at[p.seeker][a] = (p.seeker, p.post)
                res.placed[(p.seeker, p.post)] = a
                res.repairs += 1
                done = True
                break
            if done:
                break
        if not done:
            still.append(p)
    return still


def _alternating_path(seeker: int, a: Slot, c: Slot, booth_of: dict[int, str],
                      booth_used: dict[str, dict[Slot, tuple[int, int]]],
                      seeker_at: dict[int, dict[Slot, tuple[int, int]]]
                      ) -> list[tuple[tuple[int, int], Slot, Slot]] | None:
    """The a/c alternating path from ``seeker`` (which holds ``a`` and is free at ``c``), as
    (interview, old slot, new slot) steps; None if it does not end (cannot on a proper colouring)."""
    steps: list[tuple[tuple[int, int], Slot, Slot]] = []
    seen: set[tuple[int, int]] = set()
    at_seeker, vertex, cur, other = True, seeker, a, c
    while True:
        used = seeker_at[vertex] if at_seeker else booth_used[vertex]  # type: ignore[index]
        key = used.get(cur)
        if key is None:
            return steps
        if key in seen:
            return None
        seen.add(key)
        steps.append((key, cur, other))
        vertex = booth_of[key[1]] if at_seeker else key[0]
        at_seeker = not at_seeker
        cur, other = other, cur


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


# =============================================================================================
# orchestration over the service: create, read, run
# =============================================================================================


def _repo(service: MatchService) -> FairRepo:
    from matcher.fair_store import FairRepo  # fair_store imports this module's models

    return FairRepo(service.store)


def list_fairs(service: MatchService) -> list[FairSummary]:
    """Every fair, newest first."""
    return _repo(service).list()


def get_fair(service: MatchService, fair_id: int) -> FairDetail:
    """A fair with its posts, seekers, wishes, booth slots and booth loads; NotFound if none."""
    return _repo(service).get(fair_id)


def delete_fair(service: MatchService, fair_id: int, *, actor: Principal | None = None) -> None:
    """Delete a fair with its runs (the posts and talents it created stay in the pool)."""
    _repo(service).delete(fair_id, actor=actor)


def list_runs(service: MatchService, fair_id: int) -> list[FairRunSummary]:
    return _repo(service).list_runs(fair_id)


def get_run(service: MatchService, run_id: int) -> FairRunResult:
    return _repo(service).get_run(run_id)


# -- creating a fair ---------------------------------------------------------------------------


@dataclass
class _Item:
    """A post or seeker being created: its origin, the stored id or the new record."""

    origin: tuple[str, int]
    stored_id: int | None = None
    record: StoredRecord | None = None
    model: Any = None  # DemandEntry / TalentProfile: stored, prepared, or as given when failed
    amount: int = 0  # capacity or limit
    booth: str = ""
    failed: bool = False  # has an error (already reported); wishes naming it are not reported again


class _Errors:
    def __init__(self) -> None:
        self.items: list[SheetRowError] = []

    def add(self, origin: tuple[str, int] | None, fld: str, reason: str, value: object = None) -> None:
        sheet, row = origin or ("", 0)
        shown = None if value is None else str(value)[:200]
        self.items.append(SheetRowError(row=row, field=fld, reason=reason, value=shown, sheet=sheet))

    def sorted(self) -> list[RowError]:
        order = {name: n for n, name in enumerate(dict.fromkeys(e.sheet for e in self.items))}
        return sorted(self.items, key=lambda e: (order[e.sheet], e.row))


def _origin(obj: Any, section: str, index: int) -> tuple[str, int]:
    return obj._origin or (section, index + 1)


def _place(origin: tuple[str, int]) -> str:
    """Where an item came from, as a user reads it."""
    sheet, row = origin
    return f"{sheet} 第 {row} 项" if sheet in _JSON_SECTIONS else f"“{sheet}”第 {row} 行"


_SIDES = {
    "demand": ("demand_id", "entry", "capacity", "岗位"),
    "talent": ("talent_id", "profile", "limit", "求职者"),
}


def _resolve_side(service: MatchService, repo: FairRepo, kind: Literal["demand", "talent"],
                  items_in: Sequence[Any], section: str, errors: _Errors, default_amount: int,
                  scope: str, warnings: list[str]) -> list[_Item]:
    """Posts or seekers: existing records by id or external id, or new records prepared.

    External ids are looked up in the importer's own numbering (``scope``) only. A row that
    reuses a stored record by external id but names another person (name, phone or ID number
    differ) or another post (title, enterprise) is reported in ``warnings``."""
    id_attr, model_attr, amount_attr, label = _SIDES[kind]

    def external(x: Any) -> str | None:
        model = getattr(x, model_attr)
        return x.external_id or (model.external_id if model is not None else None)

    known_ext = repo.ids_by_external(kind, [e for x in items_in if (e := external(x))], scope)
    items: list[_Item] = []
    new: list[_Item] = []
    reused: list[tuple[_Item, str, Any]] = []  # (item, external id, the row's own data)
    for i, x in enumerate(items_in):
        it = _Item(origin=_origin(x, section, i), amount=getattr(x, amount_attr) or default_amount,
                   booth=(getattr(x, "booth", None) or "").strip())
        items.append(it)
        model, ext = getattr(x, model_attr), external(x)
        if getattr(x, id_attr) is not None:
            it.stored_id = getattr(x, id_attr)
        elif ext and ext in known_ext:
            it.stored_id = known_ext[ext]  # the record is already stored: reuse it
            if model is not None:
                reused.append((it, ext, model))
        elif model is not None:
            updates: dict[str, Any] = {}
            if kind == "demand":
                updates["source"] = "fair"
                if model.enterprise_name:
                    updates["enterprise_id"] = None  # a file's enterprise ids are foreign: the name wins
            if x.external_id and not model.external_id:
                updates["external_id"] = x.external_id
            it.model = model.model_copy(update=updates)
            new.append(it)
        else:
            it.failed = True
            it.model = (DemandEntry(title="-", external_id=ext) if kind == "demand"
                        else TalentProfile(external_id=ext))
            errors.add(it.origin, "external_id",
                       f"找不到外部编号为“{ext}”的{label}，且该行没有可新建{label}的信息", ext)
    stored = service.store.get_many(kind, [it.stored_id for it in items if it.stored_id is not None])
    for it in items:
        if it.stored_id is None:
            continue
        m = stored.get(it.stored_id)
        it.model = m
        if m is None:
            it.failed = True
            errors.add(it.origin, id_attr, f"{label} {it.stored_id} 不存在", it.stored_id)
        elif kind == "demand" and m.status != "open":
            it.failed = True
            errors.add(it.origin, id_attr, f"岗位 {it.stored_id} 未在招聘（状态：{m.status}）", it.stored_id)
        elif kind == "talent" and m.status != "active":
            it.failed = True
            errors.add(it.origin, id_attr, f"人才档案 {it.stored_id} 已停用", it.stored_id)
    warnings += _merge_warnings(service, kind, [(it, ext, given) for it, ext, given in reused
                                                if not it.failed and it.model is not None])
    if new:
        if kind == "demand":
            known = service.store.enterprise_names([it.model.enterprise_id for it in new if it.model.enterprise_id])
            for it in new:
                if it.model.enterprise_id is not None and it.model.enterprise_id not in known:
                    it.failed = True
                    errors.add(it.origin, "enterprise_id", f"企业 {it.model.enterprise_id} 不存在",
                               it.model.enterprise_id)
        for it, rec in zip(new, service.prepare_records(kind, [it.model for it in new]), strict=True):
            if isinstance(rec, InvalidInput):
                it.failed = True
                fld = rec.errors[0].get("field", "-") if rec.errors else "-"
                errors.add(it.origin, fld, rec.detail)
            elif not it.failed:
                it.record, it.model = rec, rec.model
    # the same record twice, and new records sharing an external id
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
            errors.add(it.origin, id_attr if key[0] == "id" else "external_id",
                       f"{label}重复（与{_place(seen[key])}相同）", key[1])
        else:
            seen[key] = it.origin
    for it in items:
        if it.model is None:  # a stored id that does not exist: a placeholder for wish lookups
            it.model = DemandEntry(title="-") if kind == "demand" else TalentProfile()
    return items


def _digits(text: str | None) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def _merge_warnings(service: MatchService, kind: str, reused: Sequence[tuple[_Item, str, Any]]) -> list[str]:
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


def _enterprise_of(service: MatchService, posts: Sequence[_Item]) -> dict[int, str | None]:
    names = service.store.enterprise_names(
        [it.model.enterprise_id for it in posts if it.model.enterprise_id])
    return {id(it): it.model.enterprise_name or names.get(it.model.enterprise_id) for it in posts}


def _lookup(items: Sequence[_Item], keys: Callable[[_Item], Iterable[str]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for k, it in enumerate(items):
        for key in dict.fromkeys(keys(it)):
            if key:
                out[key].append(k)
    return out


def _resolve_wishes(wishes: Sequence[WishIn], posts: list[_Item], seekers: list[_Item],
                    enterprise: dict[int, str | None], errors: _Errors) -> list[tuple[str, int, int, int | None]]:
    """(kind, seeker index, post index, rank) of every wish; seeker wishes renumbered 1..k."""
    s_ext = _lookup(seekers, lambda it: [it.model.external_id or ""])
    s_id = _lookup(seekers, lambda it: [str(it.stored_id or "")])
    s_name = _lookup(seekers, lambda it: [it.model.name or ""])
    p_ext = _lookup(posts, lambda it: [it.model.external_id or ""])
    p_id = _lookup(posts, lambda it: [str(it.stored_id or "")])
    p_title = _lookup(posts, lambda it: [it.model.title])
    p_ent = _lookup(posts, lambda it: [enterprise[id(it)] or ""])

    def one(ref: str, tables: Sequence[dict[str, list[int]]]) -> list[int]:
        for table in tables:
            if ref in table:
                return table[ref]
        return []

    out: list[tuple[str, int, int, int | None, tuple[str, int], int]] = []
    seen: dict[tuple[str, int, int], tuple[str, int]] = {}
    for n, w in enumerate(wishes):
        origin = _origin(w, "wishes", n)
        ss = one(w.seeker, [s_ext, s_id, s_name])
        if not ss:
            errors.add(origin, "seeker", "找不到该求职者（应为本次活动求职者的编号、人才ID或姓名）", w.seeker)
            continue
        if len(ss) > 1:
            errors.add(origin, "seeker", f"对应 {len(ss)} 位求职者，请改用编号或人才ID", w.seeker)
            continue
        if seekers[ss[0]].failed:
            continue  # the seeker's own row is already reported
        within = p_ent.get(w.enterprise, []) if w.enterprise else list(range(len(posts)))
        if w.enterprise and not within:
            errors.add(origin, "enterprise", "本次活动中没有该企业的岗位", w.enterprise)
            continue
        if w.post:
            pp = [k for k in one(w.post, [p_ext, p_id, p_title]) if k in set(within)]
            if not pp:
                errors.add(origin, "post", "找不到该岗位（应为本次活动岗位的编号、需求ID或岗位名称）", w.post)
                continue
        else:
            pp = within
        if any(posts[k].failed for k in pp):
            if all(posts[k].failed for k in pp) or w.kind != "exclude":
                continue  # the post's own row is already reported
            pp = [k for k in pp if not posts[k].failed]
        if len(pp) > 1 and w.kind != "exclude":
            what = "岗位名称" if w.post else "企业"
            errors.add(origin, "post" if w.post else "enterprise",
                       f"该{what}在本次活动中对应 {len(pp)} 个岗位，请指定岗位编号", w.post or w.enterprise)
            continue
        for k in pp:
            key = (w.kind, ss[0], k)
            if key in seen:
                errors.add(origin, "post", f"意向重复（与{_place(seen[key])}相同）",
                           w.post or w.enterprise)
                continue
            seen[key] = origin
            out.append((w.kind, ss[0], k, w.rank, origin, n))
    pair_kinds: dict[tuple[int, int], set[str]] = defaultdict(set)
    for kind, s, k, *_ in out:
        pair_kinds[(s, k)].add(kind)
    for kind, s, k, _, origin, _ in out:
        if kind == "must_see" and "exclude" in pair_kinds[(s, k)]:
            errors.add(origin, "kind", "同一企业对同一求职者既标记必面又标记排除")
    # seeker wishes: ordered by rank, then by appearance, renumbered 1..k per seeker
    ranked: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for kind, s, k, rank, _, n in out:
        if kind == "seeker":
            ranked[s].append((rank if rank is not None else math.inf, n, k))
    result: list[tuple[str, int, int, int | None]] = []
    for s, lst in ranked.items():
        for r, (_, _, k) in enumerate(sorted(lst), start=1):
            result.append(("seeker", s, k, r))
    result += [(kind, s, k, None) for kind, s, k, _, _, _ in out if kind != "seeker"]
    return result


def _default_slots(settings: FairSettings, n: int) -> list[Slot]:
    start = parse_clock(settings.start_time)
    return [Slot(start + i * settings.slot_minutes, start + (i + 1) * settings.slot_minutes)
            for i in range(n) if start + (i + 1) * settings.slot_minutes <= 24 * 60]


def _resolve_slots(settings: FairSettings, slots_in: Sequence[SlotIn], booth_capacity: dict[str, int],
                   errors: _Errors) -> dict[str, list[Slot]]:
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


def booth_warnings(booth_capacity: dict[str, int], slots: dict[str, Sequence[Slot]]) -> list[str]:
    return [f"展位“{b}”各岗位面试名额合计 {cap}，但只有 {len(slots.get(b, ()))} 个时段，"
            f"最多 {cap - len(slots.get(b, ()))} 场面试无法排期"
            for b, cap in sorted(booth_capacity.items()) if cap > len(slots.get(b, ()))]


def create_fair(service: MatchService, fair: FairCreate, progress: Progress | None = None, *,
                actor: Principal | None = None) -> FairDetail:
    """Validate a fair and store it with the posts and talents it creates, in one transaction.

    Existing records are referenced by id or external id (a row with full data whose external
    id is already stored in the actor's numbering reuses that record, with a warning if the
    row names someone else); other rows become new demand entries (source ``fair``) or talent
    profiles, whose external ids belong to the actor's numbering. Every problem is collected and raised together as
    ImportRejected with the sheet (or list), row, field and reason; then nothing is written.
    """
    errors = _Errors()
    if not fair.posts:
        errors.add(("posts", 0), "posts", "活动至少需要一个岗位")
    if not fair.seekers:
        errors.add(("seekers", 0), "seekers", "活动至少需要一位求职者")
    if progress:
        progress("校验", 0, 1)
    from matcher.store import external_scope

    repo = _repo(service)
    scope = external_scope(actor)
    merged: list[str] = []
    posts = _resolve_side(service, repo, "demand", fair.posts, "posts", errors, fair.default_capacity, scope,
                          merged)
    seekers = _resolve_side(service, repo, "talent", fair.seekers, "seekers", errors, fair.default_limit, scope,
                            merged)
    enterprise = _enterprise_of(service, posts)
    for k, it in enumerate(posts):
        if not it.booth:
            it.booth = (enterprise[id(it)] or f"岗位{k + 1}")[:50]
    wishes = _resolve_wishes(fair.wishes, posts, seekers, enterprise, errors)
    booth_capacity: dict[str, int] = Counter()
    for it in posts:
        booth_capacity[it.booth] += it.amount
    slots = _resolve_slots(fair, fair.slots, dict(booth_capacity), errors)
    if errors.items:
        raise ImportRejected(errors.sorted())
    if progress:
        progress("校验", 1, 1)
    new_posts = [it for it in posts if it.record is not None]
    new_seekers = [it for it in seekers if it.record is not None]

    def write(session: Any, ids: dict[str, list[int]]) -> int:
        for it, i in zip(new_posts, ids.get("demand", []), strict=True):
            it.stored_id = i
        for it, i in zip(new_seekers, ids.get("talent", []), strict=True):
            it.stored_id = i
        return repo.insert(
            session, fair,
            posts=[(it.stored_id, it.amount, it.booth) for it in posts],  # type: ignore[misc]
            seekers=[(it.stored_id, it.amount) for it in seekers],  # type: ignore[misc]
            wishes=[(kind, seekers[s].stored_id, posts[p].stored_id, rank)  # type: ignore[misc]
                    for kind, s, p, rank in wishes],
            slots=[(b, format_clock(s.start), format_clock(s.end)) for b, lst in slots.items() for s in lst])

    done = [0]

    def encoded(n: int) -> None:  # the encoder reports increments
        done[0] += n
        if progress:
            progress("编码", done[0], len(new_posts) + len(new_seekers))

    fair_id = service.add_records_with(
        {"demand": [it.record for it in new_posts], "talent": [it.record for it in new_seekers]},  # type: ignore[misc]
        write, progress=encoded if progress else None, actor=actor)
    detail = repo.get(fair_id)
    detail.warnings = merged + detail.warnings
    detail.created = {"new_posts": len(new_posts), "reused_posts": len(posts) - len(new_posts),
                      "new_seekers": len(new_seekers), "reused_seekers": len(seekers) - len(new_seekers)}
    return detail


# -- running a fair ----------------------------------------------------------------------------


@dataclass
class Candidates:
    """Scored acceptable pairs of a fair, with the loaded records and counts."""

    pairs: list[Pair]
    profiles: dict[int, TalentProfile]
    entries: dict[int, DemandEntry]
    cosine: dict[tuple[int, int], float]
    stats: dict[str, int]


def score_candidates(service: MatchService, fair: FairDetail, options: FairRunOptions,
                     progress: Progress | None = None, *, background: float | None = None) -> Candidates:
    """Candidate pairs by cosine (top-N per seeker, top-M per post, wishes, must-see, minus
    excluded), scored by the core; ineligible and below-``min_score`` pairs dropped, except
    must-see pairs."""
    seeker_ids = [s.talent_id for s in fair.seekers]
    post_ids = [p.demand_id for p in fair.posts]
    profiles = service.store.get_many("talent", seeker_ids)
    entries = service.store.get_many("demand", post_ids)
    seeker_ids = [i for i in seeker_ids if i in profiles]
    post_ids = [i for i in post_ids if i in entries]
    if not seeker_ids or not post_ids:
        raise InvalidInput("活动没有可匹配的岗位或求职者")
    vt = service.vectors("talent", seeker_ids)
    vd = service.vectors("demand", post_ids)
    cos = vt @ vd.T
    n_s, n_p = cos.shape
    mask = np.zeros((n_s, n_p), dtype=bool)
    rows = np.arange(n_s)[:, None]
    if options.top_n >= n_p:
        mask[:] = True
    else:
        mask[rows, np.argpartition(-cos, options.top_n - 1, axis=1)[:, : options.top_n]] = True
    if options.post_top:
        if options.post_top >= n_s:
            mask[:] = True
        else:
            top = np.argpartition(-cos, options.post_top - 1, axis=0)[: options.post_top, :]
            mask[top, np.arange(n_p)[None, :]] = True
    s_idx = {s: i for i, s in enumerate(seeker_ids)}
    p_idx = {p: j for j, p in enumerate(post_ids)}
    wish_rank: dict[tuple[int, int], int] = {}
    must: set[tuple[int, int]] = set()
    exclude: set[tuple[int, int]] = set()
    for w in fair.wishes:
        if w.talent_id not in s_idx or w.demand_id not in p_idx:
            continue
        key = (w.talent_id, w.demand_id)
        if w.kind == "seeker":
            wish_rank[key] = w.rank or 1
        elif w.kind == "must_see":
            must.add(key)
        else:
            exclude.add(key)
    for s, p in list(wish_rank) + list(must):
        mask[s_idx[s], p_idx[p]] = True
    for s, p in exclude:
        mask[s_idx[s], p_idx[p]] = False
    ii, jj = np.nonzero(mask)
    bg = service.background("demand") if background is None else background
    filters = options.filters or MatchFilters()
    stats = {"candidate_pairs": int(len(ii)), "scored_pairs": 0, "ineligible_pairs": 0,
             "below_min_pairs": 0, "filtered_pairs": 0}
    pairs: list[Pair] = []
    cosine: dict[tuple[int, int], float] = {}
    total = len(ii)
    step = max(1, total // 200)
    for n, (i, j) in enumerate(zip(ii.tolist(), jj.tolist(), strict=True)):
        s, p = seeker_ids[i], post_ids[j]
        profile, entry = profiles[s], entries[p]
        key = (s, p)
        is_must = key in must
        if not service.passes_filters(entry, profile, filters, for_seeker=True):
            stats["filtered_pairs"] += 1
            continue
        c = float(cos[i, j])
        sc = service.score_pair(profile, entry, c, background=bg)
        stats["scored_pairs"] += 1
        if not sc.eligible and not is_must and not filters.include_ineligible:
            stats["ineligible_pairs"] += 1
        elif sc.score < options.min_score and not is_must:
            stats["below_min_pairs"] += 1
        else:
            pairs.append(Pair(s, p, round(sc.score, 6), round(sc.seeker, 6), round(sc.employer, 6),
                              wish_rank.get(key), is_must))
            cosine[key] = c
        if progress and (n % step == 0 or n == total - 1):
            progress("评分", n + 1, total)
    return Candidates(pairs, profiles, entries, cosine, stats)


def _reason(service: MatchService, profile: TalentProfile, entry: DemandEntry, pair: Pair,
            cos: float, background: float) -> str:
    sc = service.score_pair(profile, entry, cos, background=background)
    m = service.to_match(sc)
    parts = []
    if pair.wish_rank:
        parts.append(f"求职者第 {pair.wish_rank} 志愿")
    if pair.must_see:
        parts.append("企业指定必面")
    parts += m.explanation.reasons[:3]
    if m.explanation.unmet_requirements:
        parts += m.explanation.unmet_requirements[:2]
    if m.explanation.missing_skills:
        parts.append("欠缺技能：" + "、".join(m.explanation.missing_skills[:5]))
    return "；".join(parts)


def run_fair(service: MatchService, fair_id: int, options: FairRunOptions | None = None,
             progress: Progress | None = None, *, actor: Principal | None = None) -> FairRunResult:
    """Match a fair: candidates, both modes (the report compares them), the schedule of the
    chosen mode, the report; stored as a run unless ``options.save`` is false."""
    options = options or FairRunOptions()
    timings: dict[str, float] = {}
    t0 = _time.perf_counter()
    repo = _repo(service)
    fair = repo.get(fair_id)
    bg = service.background("demand")
    timings["load"] = _time.perf_counter() - t0

    t = _time.perf_counter()
    cand = score_candidates(service, fair, options, progress, background=bg)
    timings["scoring"] = _time.perf_counter() - t
    inst = Instance({s.talent_id: s.limit for s in fair.seekers if s.talent_id in cand.profiles},
                    {p.demand_id: p.capacity for p in fair.posts if p.demand_id in cand.entries},
                    cand.pairs)

    if progress:
        progress("分配", 0, 2)
    t = _time.perf_counter()
    optimal = solve_optimal(inst, options.solver)
    timings["optimal"] = _time.perf_counter() - t
    if progress:
        progress("分配", 1, 2)
    t = _time.perf_counter()
    stable = solve_stable(inst)
    timings["stable"] = _time.perf_counter() - t
    if progress:
        progress("分配", 2, 2)
    chosen = optimal if options.mode == "optimal" else stable

    t = _time.perf_counter()
    booth_of = {p.demand_id: p.booth for p in fair.posts}
    slots: dict[str, list[Slot]] = defaultdict(list)
    for s in fair.slots:
        slots[s.booth].append(Slot(parse_clock(s.start), parse_clock(s.end)))
    sched = schedule_interviews(chosen, booth_of, slots)
    timings["schedule"] = _time.perf_counter() - t

    t = _time.perf_counter()
    chains = service.chains()
    booth_capacity: Counter[str] = Counter()
    for p in fair.posts:
        booth_capacity[p.booth] += p.capacity
    report = fair_report(
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
    timings["report"] = _time.perf_counter() - t

    t = _time.perf_counter()
    names = service.store.enterprise_names(
        [e.enterprise_id for e in cand.entries.values() if e.enterprise_id])
    assignments = []
    ordered = sorted(chosen, key=lambda p: (booth_of[p.post], sched.placed.get((p.seeker, p.post), Slot(10**6, 10**6)),
                                            p.post, p.seeker))
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
            reason=_reason(service, profile, entry, pair, cand.cosine[(pair.seeker, pair.post)], bg),
            booth=booth_of[pair.post], start=format_clock(slot.start) if slot else None,
            end=format_clock(slot.end) if slot else None,
            unscheduled_reason=sched.unscheduled.get((pair.seeker, pair.post))))
        if progress and (n % 500 == 0 or n == len(ordered) - 1):
            progress("生成说明", n + 1, len(ordered))
    timings["explain"] = _time.perf_counter() - t
    timings["total"] = _time.perf_counter() - t0
    report.timings = {k: round(v, 3) for k, v in timings.items()}
    result = FairRunResult(fair_id=fair.id, fair_name=fair.name, options=options, report=report,
                           assignments=assignments, created_at=datetime.now().astimezone())
    if options.save:
        result.run_id = repo.save_run(result, actor=actor)
    return result


# -- views of a run ----------------------------------------------------------------------------


def _slot_sort(a: Assignment) -> tuple:
    return (a.start is None, a.start or "", a.end or "")


def booth_schedule(result: FairRunResult) -> list[Assignment]:
    """Assignments by booth, then time (unscheduled last)."""
    return sorted(result.assignments, key=lambda a: (a.booth, *_slot_sort(a), a.demand_id, a.talent_id))


def seeker_schedule(result: FairRunResult) -> list[Assignment]:
    """Assignments by seeker, then time (unscheduled last)."""
    return sorted(result.assignments, key=lambda a: (a.talent_id, *_slot_sort(a), a.booth, a.demand_id))
