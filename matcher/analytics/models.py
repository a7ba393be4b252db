"""What the gap report states and returns: its definitions (printed beside every number) and result models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from matcher.ranking.features import DEFAULT_THRESHOLD

TARGET_FIT_RATE = 0.85  # 山东省方案：企业需求与人才适配度达到 85% 以上
DEFAULT_POOL = 200
DEFAULT_NEAR_MARGIN = 0.15
POST_SOURCES = ("post", "fair")
NO_CHAIN = "（未归链）"
NO_OCCUPATION = "（未编码）"

DemandScope = Literal["catalogue", "posts", "all"]
# with a promoted calibrated outcome model: qualified = P(positive outcome) >= this; a near miss
# reaches half of it
DEFAULT_PROBABILITY_THRESHOLD = 0.1


# -- definitions (printed next to the numbers) ------------------------------------------------


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def definitions(threshold: float, scope: DemandScope, near_margin: float, pool: int | None,
                model: str | None = None) -> dict[str, str]:
    """The Chinese definitions of every number of a gap report, with its parameters filled in.
    ``model``: the promoted calibrated outcome model whose probability the threshold is about."""
    demand = {
        "catalogue": "该地区该年度急需紧缺人才目录中的有效条目（目录所属地区须为该地区本身）",
        "posts": "工作地点在该地区、有效期与该年度有交集的在招岗位（企业发布或招聘会岗位）",
        "all": "该地区该年度急需紧缺人才目录中的有效条目，加上工作地点在该地区、有效期与该年度有交集的在招岗位",
    }[scope]
    pool_text = "全部人才" if pool is None else f"与岗位语义最接近的 {pool} 名人才"
    if model is not None:
        measure = (f"排序模型 {model} 给出的正向结果概率（该人岗对排在推荐首位时，求职者申请及以后各环节发生的"
                   f"校准概率）≥ {threshold:g}")
        unit = f"概率 {threshold:g}，模型 {model}"
        near = f"满足硬性要求、正向结果概率低于阈值但不低于 {threshold / 2:g}"
    else:
        measure, unit = f"双向匹配得分 ≥ {threshold:g}", f"{threshold:g}"
        near = f"满足硬性要求、得分低于阈值但不低于 {max(threshold - near_margin, 0):g}"
    return {
        "demand": f"需求：{demand}；需求人数按各条目的需求人数合计。",
        "supply": "供给：状态为有效、所在城市在该地区或意向城市包含该地区城市的人才档案。",
        "qualified": (f"合格人才：满足岗位全部硬性要求（学历、职称/技能等级/证书、是否面向应届生），"
                      f"且{measure}；每个岗位只对{pool_text}计算得分。"),
        "met": ("可满足人数：把合格人才分配到岗位（每个岗位最多分配其需求人数，每位人才在同一统计范围内只计一次）"
                "所能填满的最多人数（最大流）。各产业链、各职业分别计算；总体中每位人才在全地区只计一次，"
                "因此总体不等于各产业链之和。单个岗位的可满足人数取总体分配中的一种：在所有最大分配中优先满足紧缺星级高的岗位，"
                "其次优先得分高的人岗对（最小费用最大流）。"),
        "fit_rate": (f"适配度 = 可满足人数 ÷ 需求人数（合格阈值 {unit}）；"
                     f"目标：{_pct(TARGET_FIT_RATE)}（山东省方案：企业需求与人才适配度达到 {_pct(TARGET_FIT_RATE)} 以上）。"),
        "gap": "缺口 = 需求人数 − 可满足人数。",
        "missing_skills": (f"欠缺技能：在总体分配后仍有缺口的岗位上，{near} 的“接近合格”人才所欠缺的必备技能，"
                           "按人岗对次数排序。"),
        "training": ("培训方向：接近合格的人才若补齐某一数字技术工程师培训方向所覆盖的欠缺技能后重新评分，"
                     "成为某个缺口岗位合格人才的人数，以及由此新增的可满足人数（重新求最大流）。"),
        "salary": "工资价位：按职业统计需求条目的月薪（元/月；区间取中点，只有一端时取该值，面议不计）的分位数。",
    }



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
    ranker: Literal["auto", "weighted"] = Field(
        default="auto", description="auto: with a promoted calibrated outcome model, a pair qualifies by its "
        "probability of a positive outcome (probability_threshold); weighted: by the score (threshold)")
    probability_threshold: float = Field(default=DEFAULT_PROBABILITY_THRESHOLD, gt=0, le=1)


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
    unsettled: int = Field(default=0, description="entries whose occupation code was coded below the confidence "
                                                   "threshold (待确认: the code may be wrong)")


class EntryGap(BaseModel):
    id: int
    title: str
    source: str
    chain_id: str | None
    chain_name: str
    occupation_code: str | None
    occupation_name: str
    occupation_settled: bool = Field(default=True, description="false: the code is 待确认 (coded below the "
                                                                "confidence threshold)")
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
    ranker: str = "weighted"  # what decided "qualified": the score, or the id of the outcome model


class GapReport(BaseModel):
    """A region's supply–demand gap for a year; every number of the HTML report comes from here."""

    region: str
    region_level: Literal["city", "province"]
    year: int
    generated_at: str
    threshold: float
    threshold_kind: Literal["score", "probability"] = "score"
    ranker: str = Field(default="weighted", description="weighted, or the id of the calibrated outcome model "
                        "whose probability the threshold is")
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
