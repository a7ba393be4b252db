"""Domain models, validated at the edge (import, CLI, API).

Values that are domain vocabulary (education levels, title grades, skill grades) keep their
Chinese labels, since they are what users read and write; identifiers stay English.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

# -- input limits: the one place for them -------------------------------------------------------
# Every string and every list item that a caller can send is bounded, so that one request cannot
# store a 300,000-character skill or make matching tokenise a megabyte (issue 11).

MAX_TAG = 50  # one skill, certificate, major, city or desired occupation
MAX_NAME = 100  # a person's name, a school, an external id
MAX_TITLE = 200  # a post title, an enterprise name, a label
MAX_TEXT = 5_000  # free text: a summary, a description, a match query
MAX_LIST = 200  # items of a list of tags
MAX_ID = 2_147_483_647  # ids are 32-bit integers in every supported database
# below this calibrated confidence a coded occupation is shown as 待确认 (to be confirmed), not as
# settled: the code is then more likely wrong than right (the coder's CONFIDENCE_THRESHOLD)
OCCUPATION_CONFIDENCE_THRESHOLD = 0.5

RecordKind = Literal["demand", "talent"]  # the two sides: demand entries and talent profiles

Tag = Annotated[str, StringConstraints(max_length=MAX_TAG)]
Name = Annotated[str, StringConstraints(max_length=MAX_NAME)]
Title = Annotated[str, StringConstraints(max_length=MAX_TITLE)]
LongText = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
ChainRef = Annotated[str, StringConstraints(max_length=64)]


def digits_only(value: object) -> object:
    """A path, query or form integer given as ASCII digits only: ``1.0``, ``true``, ``+1`` and
    ``1e3`` are refused (the frameworks would otherwise read ``1.0`` as 1)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    if isinstance(value, str) and not (value.isascii() and value.isdigit() and len(value) <= 12):
        raise PydanticCustomError("int_parsing", "Input should be a valid integer")
    return value


StrictInt = Annotated[int, Strict()]
"""An integer in a JSON body or a model built in code: ``true`` is not 1, ``1.0`` and ``"1"`` are
not ids (ids, counts, top_k, paging). Path and query parameters use ``api.params.Digits``."""
RecordId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]


_RANKS: dict[type, dict[str, int]] = {}  # member values by enum class, in declaration order


class OrderedLabel(StrEnum):
    """A str enum whose members are ordered by declaration."""

    @property
    def rank(self) -> int:
        ranks = _RANKS.get(type(self))
        if ranks is None:
            ranks = _RANKS[type(self)] = {m.value: i for i, m in enumerate(type(self))}
        return ranks[self.value]

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, type(self)):
            return self.rank >= other.rank
        return NotImplemented

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, type(self)):
            return self.rank > other.rank
        return NotImplemented

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, type(self)):
            return self.rank <= other.rank
        return NotImplemented

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if isinstance(other, type(self)):
            return self.rank < other.rank
        return NotImplemented


class Education(OrderedLabel):
    """Highest education, ordered."""

    SECONDARY = "高中/中专"
    JUNIOR_COLLEGE = "大专"
    BACHELOR = "本科"
    MASTER = "硕士"
    DOCTOR = "博士"


class TitleLevel(OrderedLabel):
    """Professional title grade (职称), ordered."""

    JUNIOR = "初级"
    INTERMEDIATE = "中级"
    DEPUTY_SENIOR = "副高级"
    SENIOR = "正高级"


class SkillLevel(OrderedLabel):
    """Vocational skill grade of the 新八级工 ladder, ordered."""

    APPRENTICE = "学徒工"
    GRADE5 = "初级工"
    GRADE4 = "中级工"
    GRADE3 = "高级工"
    TECHNICIAN = "技师"
    SENIOR_TECHNICIAN = "高级技师"
    SPECIAL_TECHNICIAN = "特级技师"
    CHIEF_TECHNICIAN = "首席技师"


class CertGrade(OrderedLabel):
    """Grade of a 数字技术工程师 professional-technical grade certificate."""

    JUNIOR = "初级"
    INTERMEDIATE = "中级"
    SENIOR = "高级"


Source = Literal["post", "catalogue", "fair"]
DemandStatus = Literal["open", "closed", "draft"]
TalentStatus = Literal["active", "inactive"]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def scrub_controls(value: object) -> object:
    """Strings (and lists of strings) without C0 control characters other than tab and newline:
    they carry no meaning in a profile or a post, and PostgreSQL rejects NUL in text."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    if isinstance(value, list):
        return [_CONTROL.sub("", v) if isinstance(v, str) else v for v in value]
    return value


def scrub_fields(model_cls: type[BaseModel], data: object) -> object:
    """``data`` with :func:`scrub_controls` applied to the value of each field of ``model_cls``
    (a dict's other keys, and input that is not a dict, unchanged): what a ``"*"`` before-validator
    does field by field, in one call per model (validating a stored record cost about twice as
    much with one Python call per field)."""
    if not isinstance(data, dict):
        return data
    texts = []  # one search over every string (most records have no control character)
    for v in data.values():
        if isinstance(v, str):
            texts.append(v)
        elif isinstance(v, list):
            texts += [x for x in v if isinstance(x, str)]
    if not _CONTROL.search("\n".join(texts)):
        return data
    fields = model_cls.model_fields
    return {k: scrub_controls(v) if k in fields else v for k, v in data.items()}


class _Model(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", use_enum_values=False)

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: object) -> object:
        return scrub_fields(cls, data)


def _clean_list(values: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for v in values:
        v = v.strip()
        if v and v not in seen:
            seen.add(v)
            out.append(v)
    return out


class DigitalCert(_Model):
    """A 数字技术工程师 certificate: direction (大数据, 人工智能, ...) and grade."""

    direction: str = Field(min_length=1, max_length=40)
    grade: CertGrade


class TalentProfile(_Model):
    """A job seeker's profile."""

    id: int | None = None
    external_id: str | None = Field(default=None, max_length=MAX_NAME,
                                    description="外部编号：只能由管理员、活动组织方或导入设置")
    name: str | None = Field(default=None, max_length=MAX_NAME)
    phone: str | None = Field(default=None, max_length=40)
    national_id: str | None = Field(default=None, max_length=40)
    education: Education | None = None
    major: str | None = Field(default=None, max_length=MAX_NAME)
    school: str | None = Field(default=None, max_length=MAX_NAME)
    graduation_year: int | None = Field(default=None, ge=1950, le=2100)
    fresh_graduate: bool = False
    skills: list[Tag] = Field(default_factory=list, max_length=MAX_LIST)
    certificates: list[Tag] = Field(default_factory=list, max_length=MAX_LIST)
    title_level: TitleLevel | None = None
    skill_level: SkillLevel | None = None
    digital_certs: list[DigitalCert] = Field(default_factory=list, max_length=20)
    experience_years: float = Field(default=0.0, ge=0, le=70)
    city: str | None = Field(default=None, max_length=MAX_TAG)
    preferred_cities: list[Tag] = Field(default_factory=list, max_length=50)
    desired_occupations: list[Tag] = Field(default_factory=list, max_length=20)
    desired_chains: list[ChainRef] = Field(default_factory=list, max_length=40)
    salary_min: int | None = Field(default=None, ge=0, le=10_000_000, description="元/月")
    salary_max: int | None = Field(default=None, ge=0, le=10_000_000, description="元/月")
    summary: str = Field(default="", max_length=MAX_TEXT)
    consent: bool = False
    status: TalentStatus = "active"

    _lists = field_validator(
        "skills", "certificates", "preferred_cities", "desired_occupations", "desired_chains"
    )(_clean_list)

    @model_validator(mode="after")
    def _salary_order(self) -> TalentProfile:
        if self.salary_min is not None and self.salary_max is not None:
            if self.salary_min > self.salary_max:
                raise ValueError("salary_min 不能大于 salary_max")
        return self


class DemandEntry(_Model):
    """A demand entry: an enterprise's post, a catalogue line or a fair post."""

    id: int | None = None
    external_id: str | None = Field(default=None, max_length=MAX_NAME,
                                    description="外部编号：只能由管理员、活动组织方或导入设置")
    enterprise_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    enterprise_name: str | None = Field(default=None, max_length=MAX_TITLE)
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    occupation_code: str | None = Field(default=None, max_length=10, pattern=r"^\d-\d{2}-\d{2}-\d{2}$")
    occupation_name: str | None = Field(default=None, max_length=MAX_TITLE)
    occupation_confidence: float | None = Field(
        default=None, ge=0, le=1,
        description="calibrated confidence of an occupation code the server coded from the title "
                    "(None when a person gave or confirmed the code)")
    chain_id: str | None = Field(default=None, max_length=64)
    chain_suggested: bool = Field(default=False, description="chain_id was suggested, not given")
    chain_confidence: float | None = Field(default=None, ge=0, le=1, description="confidence of a suggested chain")
    city: str | None = Field(default=None, max_length=MAX_TAG)
    headcount: int = Field(default=1, ge=1, le=100_000)
    education: Education | None = None
    majors: list[Tag] = Field(default_factory=list, max_length=MAX_LIST)
    required_skills: list[Tag] = Field(default_factory=list, max_length=MAX_LIST)
    preferred_skills: list[Tag] = Field(default_factory=list, max_length=MAX_LIST)
    required_certificates: list[Tag] = Field(default_factory=list, max_length=50)
    required_title_level: TitleLevel | None = None
    required_skill_level: SkillLevel | None = None
    min_experience_years: float = Field(default=0.0, ge=0, le=70)
    salary_min: int | None = Field(default=None, ge=0, le=10_000_000, description="元/月")
    salary_max: int | None = Field(default=None, ge=0, le=10_000_000, description="元/月")
    description: str = Field(default="", max_length=MAX_TEXT)
    shortage_level: int | None = Field(default=None, ge=1, le=5, description="紧缺星级 1-5")
    fresh_graduates_ok: bool = True
    source: Source = "post"
    catalogue_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    valid_from: date | None = None
    valid_until: date | None = None
    status: DemandStatus = "open"

    _lists = field_validator(
        "majors", "required_skills", "preferred_skills", "required_certificates"
    )(_clean_list)

    @property
    def occupation_settled(self) -> bool:
        """Whether the occupation code may be shown as settled: given by a person, or coded with
        a calibrated confidence of at least OCCUPATION_CONFIDENCE_THRESHOLD (else 待确认)."""
        return self.occupation_code is not None and (
            self.occupation_confidence is None or self.occupation_confidence >= OCCUPATION_CONFIDENCE_THRESHOLD)

    @model_validator(mode="after")
    def _ranges(self) -> DemandEntry:
        if self.salary_min is not None and self.salary_max is not None:
            if self.salary_min > self.salary_max:
                raise ValueError("salary_min 不能大于 salary_max")
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError("valid_from 不能晚于 valid_until")
        return self


class Enterprise(_Model):
    id: int | None = None
    name: str = Field(min_length=1, max_length=MAX_TITLE)
    credit_code: str | None = Field(default=None, max_length=18, description="统一社会信用代码")
    city: str | None = Field(default=None, max_length=MAX_TAG)
    chain_id: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=MAX_TEXT)


class IndustryChain(_Model):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=MAX_NAME)
    region: str = Field(min_length=1, max_length=MAX_TAG)
    keywords: list[Tag] = Field(default_factory=list, max_length=MAX_LIST)
    parent_sector: str | None = Field(default=None, max_length=MAX_NAME)


class Catalogue(_Model):
    id: int | None = None
    region: str = Field(min_length=1, max_length=MAX_TAG)
    year: int = Field(ge=2000, le=2100)
    name: str | None = Field(default=None, max_length=MAX_TITLE)
    chain_registry: str | None = Field(default=None, max_length=50)
    entries: list[DemandEntry] = Field(default_factory=list)


class TrainingSuggestion(_Model):
    """A 数字技术工程师 training direction that closes part of a skill gap."""

    direction: str
    covers: list[str]
    message: str


class Explanation(_Model):
    matched_skills: list[str] = Field(default_factory=list)
    missing_skills: list[str] = Field(default_factory=list)
    unmet_requirements: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    training: list[TrainingSuggestion] = Field(default_factory=list)


class Match(_Model):
    """One ranked result: the other side's id, scores in [0, 1] and why."""

    kind: Literal["demand", "talent"]
    id: int
    title: str
    score: float = Field(ge=0, le=1)
    seeker_score: float = Field(ge=0, le=1)
    employer_score: float = Field(ge=0, le=1)
    components: dict[str, float]
    eligible: bool = True
    explanation: Explanation
    ranker: str = Field(default="weighted", description="what ordered the list: weighted (the hand-set "
                        "formula) or the id of the promoted outcome model")
    outcome_probability: float | None = Field(
        default=None, ge=0, le=1, description="with a promoted calibrated model: the probability of a "
        "positive outcome (an application or better) if the pair is shown first")


class OccupationCandidate(_Model):
    code: str
    name: str
    score: float = Field(description="ranking score in [0, 1], best first (relative to the best candidate)")
    confidence: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="calibrated probability that this code is right; below the coder's "
                    "CONFIDENCE_THRESHOLD (0.5) a caller may show the code as 待确认")


class MatchFilters(_Model):
    """Optional filters a caller may add to a match request."""

    city: str | None = Field(default=None, max_length=64)
    province: str | None = Field(default=None, max_length=64)
    chain_id: str | None = Field(default=None, max_length=64)
    education: Education | None = None
    salary_min: int | None = Field(default=None, ge=0, le=10_000_000)
    fresh_graduates_only: bool = False
    include_ineligible: bool = False


def validate_stored(model_cls: type[BaseModel], data: dict) -> BaseModel:
    """A model from a stored row. Rows written before the input limits were tightened may hold
    longer strings or lists: they are clipped to the limits rather than made unreadable."""
    try:
        return model_cls.model_validate(data)
    except ValidationError:
        data = copy.deepcopy(data)
    for _ in range(3):
        try:
            return model_cls.model_validate(data)
        except ValidationError as exc:
            clipped = False
            for err in exc.errors():
                limit = (err.get("ctx") or {}).get("max_length")
                if err["type"] not in ("string_too_long", "too_long") or not isinstance(limit, int):
                    raise
                *path, last = err["loc"]
                holder: object = data
                for key in path:
                    holder = holder[key]  # type: ignore[index]
                value = holder[last]  # type: ignore[index]
                if len(value) > limit:
                    holder[last] = value[:limit]  # type: ignore[index]
                    clipped = True
            if not clipped:
                raise
    return model_cls.model_validate(data)
