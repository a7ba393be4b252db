"""The import's targets: model fields by kind, aliases, virtual columns, the built-in Chinese header table, and the mapping file."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matcher.core.errors import InvalidInput
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.ingest.parsing import (
    read_json_file,
)
from matcher.ingest.safe_cells import excerpt
from matcher.ingest.table_reader import (
    ReadLimits,
    check_file_size,
)

ImportKind = Literal["talents", "demands", "catalogue"]
Record = TalentProfile | DemandEntry

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
SUPPORTED_EXTENSIONS = (".csv", ".xlsx", ".xlsm", ".jsonl", ".ndjson")
SUPPORTED_TEXT = "CSV（.csv）、Excel（.xlsx）、JSON Lines（.jsonl / .ndjson）"
REASON_CHARS = 300  # the longest reason of a row error (reasons quote short excerpts only)

# Virtual targets: one column that fills several model fields.
VIRTUAL: dict[str, tuple[str, ...]] = {"salary": ("salary_min", "salary_max")}

# Kind-specific aliases: a common name resolved to the field that kind actually has.
ALIASES: dict[str, dict[str, str]] = {
    "talents": {
        "majors": "major",
        "experience": "experience_years",
        "min_experience_years": "experience_years",
        "description": "summary",
        "required_skills": "skills",
        "required_certificates": "certificates",
        "required_title_level": "title_level",
        "required_skill_level": "skill_level",
        "chain_id": "desired_chains",
        "fresh_graduates_ok": "fresh_graduate",
    },
    "demands": {
        "major": "majors",
        "skills": "required_skills",
        "experience": "min_experience_years",
        "experience_years": "min_experience_years",
        "certificates": "required_certificates",
        "title_level": "required_title_level",
        "skill_level": "required_skill_level",
        "fresh_graduate": "fresh_graduates_ok",
        "summary": "description",
    },
}
ALIASES["catalogue"] = ALIASES["demands"]

# Built-in Chinese headers → target (a field, a virtual field or an alias).
BUILTIN_HEADERS: dict[str, tuple[str, ...]] = {
    "title": (
        "岗位名称",
        "岗位",
        "职位名称",
        "职位",
        "招聘岗位",
        "需求岗位",
        "紧缺岗位",
        "岗位工种",
        "工种",
        "招聘职位",
    ),
    "education": ("学历要求", "学历", "最高学历", "最低学历", "文化程度", "学历层次"),
    "major": ("专业要求", "专业", "所学专业", "所需专业", "专业方向"),
    "chain_id": ("所属产业链", "产业链", "产业链名称", "重点产业链"),
    "desired_chains": ("意向产业链", "期望产业链"),
    "shortage_level": ("紧缺星级", "紧缺程度", "紧缺等级", "星级", "紧缺指数"),
    "headcount": ("需求人数", "招聘人数", "人数", "需求数量", "招聘数量"),
    "city": (
        "工作地点",
        "城市",
        "所在城市",
        "工作城市",
        "所在地",
        "现居住地",
        "现居地",
        "工作地区",
    ),
    "salary": (
        "薪酬待遇",
        "薪资",
        "薪酬",
        "薪资待遇",
        "工资待遇",
        "月薪",
        "薪资范围",
        "期望薪资",
        "期望薪酬",
        "待遇",
        "薪酬水平",
        "年薪",
        "年薪均值",
        "平均年薪",
        "年薪范围",
        "月薪范围",
        "月薪均值",
        "平均月薪",
        "薪酬均值",
        "平均薪酬",
        "薪资水平",
    ),
    "experience": ("工作经验", "工作年限", "经验要求", "从业年限", "工作经验要求"),
    "description": (
        "任职能力要求",
        "岗位要求",
        "任职要求",
        "岗位职责",
        "岗位描述",
        "职位描述",
        "岗位职责及任职要求",
        "能力要求",
        "岗位职责及要求",
        "任职资格",
        "岗位职责/任职要求",
        "岗位职责、任职要求",
        "岗位职责与任职要求",
        "岗位职责和任职要求",
        "职责及要求",
        "工作内容",
    ),
    "summary": ("个人简介", "自我评价", "个人简历", "简介"),
    "skills": ("技能", "技能要求", "专业技能", "掌握技能", "技能标签", "关键技能", "所需技能"),
    "preferred_skills": ("优先技能", "加分技能", "优先条件"),
    "name": ("姓名",),
    "phone": ("手机", "联系电话", "手机号", "手机号码", "电话"),
    "national_id": ("身份证号", "身份证号码", "身份证"),
    "school": ("毕业院校", "学校", "院校"),
    "graduation_year": ("毕业年份", "毕业时间", "毕业年度", "届别"),
    "fresh_graduate": ("应届", "是否应届", "是否应届生", "应届生", "应届毕业生"),
    "fresh_graduates_ok": ("接受应届生", "是否接受应届生", "应届生可投"),
    "certificates": ("证书", "资格证书", "持有证书", "证书要求", "职业资格证书"),
    "title_level": ("职称", "职称要求", "职称等级"),
    "skill_level": ("技能等级", "职业技能等级", "技能等级要求"),
    "digital_certs": ("数字技术工程师证书", "数字技术工程师", "专业技术等级证书"),
    "preferred_cities": ("期望城市", "意向城市", "期望工作地点", "意向工作地点"),
    "desired_occupations": ("期望职业", "意向职业", "求职意向", "期望岗位", "意向岗位"),
    "consent": ("同意公开", "授权", "是否同意公开", "是否授权", "同意推荐", "授权公开"),
    "enterprise_name": ("企业名称", "单位名称", "用人单位", "企业", "招聘单位", "公司名称", "单位"),
    "occupation_code": ("职业编码", "职业代码", "职业分类代码"),
    "occupation_name": ("职业名称", "职业分类"),
    "valid_from": ("发布日期", "生效日期", "开始日期", "发布时间"),
    "valid_until": ("截止日期", "有效期至", "截止时间", "有效期"),
    "external_id": ("编号", "外部编号", "岗位编号", "人才编号"),
    "status": ("状态",),
    "source": ("来源",),
}
# Headers that are known and carry nothing to import: ignored without an error.
BUILTIN_IGNORED: dict[str, frozenset[str]] = {
    "talents": frozenset({"序号", "备注"}),
    "demands": frozenset({"序号", "备注", "联系人", "联系方式", "电子邮箱", "邮箱"}),
}
BUILTIN_IGNORED["catalogue"] = BUILTIN_IGNORED["demands"]

MODELS: dict[str, type[TalentProfile] | type[DemandEntry]] = {
    "talents": TalentProfile,
    "demands": DemandEntry,
    "catalogue": DemandEntry,
}


# ---------------------------------------------------------------------------------------------
# mapping
# ---------------------------------------------------------------------------------------------


class Mapping(BaseModel):
    """How the columns of a file map to model fields.

    JSON form::

        {"columns": {"岗位（工种）": "title", "月薪范围": "salary", "序号": null},
         "ignore": ["联系人"], "defaults": {"city": "淄博市"}, "ignore_unknown": false,
         "sheet": "紧缺目录", "header_row": 2}

    ``columns`` maps a source header to a field, a virtual field (``salary``) or an alias
    (``skills``, ``experience``, ``major`` ...; resolved per kind); ``null`` ignores the column.
    ``defaults`` fill fields that a row leaves empty (raw values, parsed like cells).
    """

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str | None] = Field(default_factory=dict)
    ignore: list[str] = Field(default_factory=list)
    defaults: dict[str, Any] = Field(default_factory=dict)
    ignore_unknown: bool = False
    sheet: str | None = None
    header_row: int | None = Field(default=None, ge=1)
    fill_merged: bool = True


def target_fields(kind: ImportKind | None = None) -> list[str]:
    """The names a mapping may target for a kind (or for any kind when None), sorted."""
    kinds = [kind] if kind else list(get_args(ImportKind))
    names: set[str] = set(VIRTUAL)
    for k in kinds:
        names |= set(MODELS[k].model_fields) | set(ALIASES[k])
    return sorted(names)


@cache
def model_fields(kind: ImportKind) -> frozenset[str]:
    return frozenset(MODELS[kind].model_fields)


def resolve_target(target: str, kind: ImportKind) -> str | None:
    """The field or virtual field a target name means for a kind, or None if it means nothing."""
    target = target.strip()
    if target in VIRTUAL or target in model_fields(kind):
        return target
    alias = ALIASES[kind].get(target)
    return alias


def real_fields(target: str) -> tuple[str, ...]:
    return VIRTUAL.get(target, (target,))


def check_mapping(mapping: Mapping, kind: ImportKind | None) -> None:
    valid = set(target_fields(kind))
    bad = sorted(
        {t for t in mapping.columns.values() if t is not None and t.strip() not in valid}
        | {t for t in mapping.defaults if t.strip() not in valid}
    )
    if bad:
        scope = {"talents": "人才", "demands": "需求", "catalogue": "目录"}.get(kind or "", "")
        raise InvalidInput(
            f"映射文件中有未知的{scope}目标字段：{'、'.join(excerpt(b, 30) for b in bad[:5])}"
            f"{f' 等 {len(bad)} 个' if len(bad) > 5 else ''}；可用字段：{', '.join(target_fields(kind))}",
            errors=[{"field": excerpt(b), "reason": "未知的目标字段"} for b in bad[:100]],
        )


MAPPING_MAX_BYTES = 1024 * 1024  # a mapping names a few dozen columns: a few kB


def read_mapping_json(path: Path) -> object:
    """The JSON of a mapping file no larger than 1 MB."""
    check_file_size(path, ReadLimits(file_bytes=MAPPING_MAX_BYTES), "映射文件")
    return read_json_file(path, "映射文件")


def load_mapping(path: Path, kind: ImportKind | None = None) -> Mapping:
    """Read and validate a JSON mapping file; unknown target fields raise InvalidInput listing
    the valid ones (for ``kind`` when given, else for any kind)."""
    data = read_mapping_json(path)
    if not isinstance(data, dict):
        raise InvalidInput('映射文件应为 JSON 对象，如 {"columns": {"岗位名称": "title"}}')
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            where = excerpt(".".join(str(p) for p in err["loc"]), 40) or "映射文件"
            if err["type"] == "extra_forbidden":
                problems.append(
                    f"{where}：未知的键（可用：columns、ignore、defaults、ignore_unknown、sheet、header_row、fill_merged）"
                )
            else:
                problems.append(f"{where}：格式不正确")
        raise InvalidInput("映射文件格式错误：" + "；".join(problems)) from None
    check_mapping(mapping, kind)
    return mapping


