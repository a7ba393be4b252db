"""Job fairs as data: the models of a fair (input, stored detail, run options and results), clock
times and booth slots. The algorithms and the orchestration live in :mod:`matcher.fair.engine`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as dtime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from matcher.core.errors import RowError
from matcher.domain.schemas import (
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
    pass


Mode = Literal["optimal", "stable"]
Solver = Literal["auto", "lp", "flow", "assignment"]
WishKind = Literal["seeker", "must_see", "exclude"]
# (stage label, done, total): the CLI draws a progress bar from it
Progress = Callable[[str, int, int], None]

MAX_SEEKER_LIMIT = 20
MAX_CAPACITY = 1000

# =============================================================================================
# errors and clock times
# =============================================================================================


@dataclass
class SheetRowError(RowError):
    """A bad cell or row of one sheet (or file, or JSON list) of a fair."""

    sheet: str = ""

    def __str__(self) -> str:
        if self.sheet in JSON_SECTIONS:  # an item of a JSON list (the API's body)
            shown = f"（值：{self.value}）" if self.value not in (None, "") else ""
            return f"{self.sheet} 第 {self.row} 项，字段 {self.field}：{self.reason}{shown}"
        where = f"工作表“{self.sheet}” " if self.sheet else ""
        return where + super().__str__()


JSON_SECTIONS = frozenset({"posts", "seekers", "wishes", "slots"})


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
    return _parse_clock_text(str(value or ""))  # cached: a fair's thousands of slots repeat a few times


@lru_cache(maxsize=4096)
def _parse_clock_text(value: str) -> int:
    """:func:`parse_clock` of a text (errors are raised, never cached)."""
    text = value.strip()
    if not text:
        raise ValueError("时间不能为空，应如 09:00")
    from matcher.core.textnorm import normalize_text

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


class UnmatchedSeeker(_Model):
    """A registered seeker who got no interview, and why."""

    talent_id: int
    name: str | None = None
    school: str | None = None
    fresh_graduate: bool = False
    reason: str = ""


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
    unmatched: list[UnmatchedSeeker] = Field(default_factory=list, description="未安排面试的求职者及原因")


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
    "稳定性": "双方都更愿意彼此的组合数（也叫阻塞对）：某位求职者和某个岗位没被安排在一起，但求职者更想去这个岗位"
              "（或还有面试余额），岗位也更想要这位求职者（或还有名额）。为 0 时结果稳定，没人有理由私下改约；"
              "求职者偏好先按志愿顺序、再按求职方得分，岗位偏好先企业必面、再按用人方得分",
    "总匹配度差距": "最优模式总匹配度 − 稳定模式总匹配度：为了稳定（没有双方都更愿意彼此的组合）放弃的总匹配度；"
                  "占比 = 差距 / 最优模式总匹配度",
    "最优模式": "在名额与每人上限内使总匹配度最大（优先满足企业必面），精确求解",
    "稳定模式": "延迟接受算法：求职者按偏好依次向岗位申请，岗位先暂留最合适的申请者、有更合适的再替换，"
                "直到没人再申请（含双方容量）；结果中没有双方都更愿意彼此的组合",
}



@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A booth's time slot, in minutes after midnight."""

    start: int
    end: int

    @property
    def label(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"



def booth_warnings(booth_capacity: dict[str, int], slots: dict[str, Sequence[Slot]]) -> list[str]:
    return [f"展位“{b}”各岗位面试名额合计 {cap}，但只有 {len(slots.get(b, ()))} 个时段，"
            f"最多 {cap - len(slots.get(b, ()))} 场面试无法排期"
            for b, cap in sorted(booth_capacity.items()) if cap > len(slots.get(b, ()))]
