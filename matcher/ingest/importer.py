"""Reading talent profiles and demand entries from CSV, XLSX and JSONL files.

A file is read into validated models plus a list of every bad cell or row (``RowError``);
nothing here touches the database: the store writes ``ImportResult.records`` in one
transaction, or rejects the file when ``ImportResult.errors`` is not empty.

Columns are matched to model fields by, in order: the mapping file's ``columns``, its
``ignore`` list, the schema's own field names, and a built-in table of common Chinese headers
(岗位名称, 学历要求, 薪酬待遇, 工作经验 ...). Headers that match nothing are reported (unless
the mapping sets ``ignore_unknown``), so that a typo never silently drops a column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from matcher.core.errors import ImportRejected, InvalidInput, RowError
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.ingest.parsing import (
    cell_text,
    is_blank,
    parse_bool,
    parse_date,
    parse_digital_certs,
    parse_education,
    parse_experience,
    parse_int,
    parse_list,
    parse_salary,
    parse_shortage_level,
    parse_skill_level,
    parse_title_level,
    parse_year,
    read_json_file,
)
from matcher.ingest.safe_cells import EXCERPT_CHARS, excerpt
from matcher.ingest.table_reader import (
    PayloadTooLarge,
    ReadLimits,
    check_file_size,
    check_record,
    csv_rows,
    decode_text,
    jsonl_lines,
    read_limited,
    xlsx_rows,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "SUPPORTED_EXTENSIONS",
    "ImportKind",
    "ImportResult",
    "Mapping",
    "load_mapping",
    "read_records",
    "target_fields",
]

ImportKind = Literal["talents", "demands", "catalogue"]
Record = TalentProfile | DemandEntry

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_ROWS = 200_000
SUPPORTED_EXTENSIONS = (".csv", ".xlsx", ".xlsm", ".jsonl", ".ndjson")
_SUPPORTED_TEXT = "CSV（.csv）、Excel（.xlsx）、JSON Lines（.jsonl / .ndjson）"
_MAX_HEADER_SCAN = 5  # title rows tolerated above the header
_REASON_CHARS = 300  # the longest reason of a row error (reasons quote short excerpts only)

# Virtual targets: one column that fills several model fields.
_VIRTUAL: dict[str, tuple[str, ...]] = {"salary": ("salary_min", "salary_max")}

# Kind-specific aliases: a common name resolved to the field that kind actually has.
_ALIASES: dict[str, dict[str, str]] = {
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
_ALIASES["catalogue"] = _ALIASES["demands"]

# Built-in Chinese headers → target (a field, a virtual field or an alias).
_BUILTIN_HEADERS: dict[str, tuple[str, ...]] = {
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
_BUILTIN_IGNORED: dict[str, frozenset[str]] = {
    "talents": frozenset({"序号", "备注"}),
    "demands": frozenset({"序号", "备注", "联系人", "联系方式", "电子邮箱", "邮箱"}),
}
_BUILTIN_IGNORED["catalogue"] = _BUILTIN_IGNORED["demands"]

_MODELS: dict[str, type[TalentProfile] | type[DemandEntry]] = {
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
    names: set[str] = set(_VIRTUAL)
    for k in kinds:
        names |= set(_MODELS[k].model_fields) | set(_ALIASES[k])
    return sorted(names)


def _model_fields(kind: ImportKind) -> set[str]:
    return set(_MODELS[kind].model_fields)


def _resolve_target(target: str, kind: ImportKind) -> str | None:
    """The field or virtual field a target name means for a kind, or None if it means nothing."""
    target = target.strip()
    if target in _VIRTUAL or target in _model_fields(kind):
        return target
    alias = _ALIASES[kind].get(target)
    return alias


def _real_fields(target: str) -> tuple[str, ...]:
    return _VIRTUAL.get(target, (target,))


def _check_mapping(mapping: Mapping, kind: ImportKind | None) -> None:
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
    _check_mapping(mapping, kind)
    return mapping


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What a file held: valid records with their row numbers, every error, and the column plan."""

    records: list[tuple[int, Record]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    header_row: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the file had no error at all."""
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise ImportRejected with every error when there is any."""
        if self.errors:
            raise ImportRejected(errors=list(self.errors))


# ---------------------------------------------------------------------------------------------
# value parsing per field
# ---------------------------------------------------------------------------------------------

_STATUS = {
    "open": "open",
    "招聘中": "open",
    "开放": "open",
    "有效": "open",
    "进行中": "open",
    "在招": "open",
    "closed": "closed",
    "关闭": "closed",
    "已关闭": "closed",
    "已结束": "closed",
    "结束": "closed",
    "已招满": "closed",
    "draft": "draft",
    "草稿": "draft",
}
_TALENT_STATUS = {
    "active": "active",
    "有效": "active",
    "在库": "active",
    "正常": "active",
    "求职中": "active",
    "inactive": "inactive",
    "无效": "inactive",
    "停用": "inactive",
    "已就业": "inactive",
    "暂停": "inactive",
}
_SOURCE = {
    "post": "post",
    "岗位发布": "post",
    "企业发布": "post",
    "发布": "post",
    "catalogue": "catalogue",
    "目录": "catalogue",
    "紧缺目录": "catalogue",
    "需求目录": "catalogue",
    "fair": "fair",
    "招聘会": "fair",
    "双选会": "fair",
}


def _choice(table: dict[str, str], label: str) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        s = normalize_text(cell_text(value)).lower()
        if is_blank(s):
            return None
        if s in table:
            return table[s]
        options = "、".join(sorted({k for k in table if not k.isascii()}))
        raise ValueError(f"无法识别的{label}“{cell_text(value)}”，应为 {options}")

    return parse


def _parse_text(value: object) -> str | None:
    if isinstance(value, list | tuple | dict):
        raise ValueError("应为文本，不能是列表或对象")
    text = cell_text(value)
    return None if is_blank(text) else text


def _parse_code(value: object) -> str | None:
    text = _parse_text(value)
    return normalize_text(text).replace(" ", "") if text else None


def _salary_low(value: object) -> int | None:
    lo, hi = parse_salary(value)
    return lo if lo is not None else hi


def _salary_high(value: object) -> int | None:
    lo, hi = parse_salary(value)
    return hi if hi is not None else lo


def _strict_int(value: object) -> int | None:
    return parse_int(value)


_LIST_FIELDS = frozenset(
    {
        "skills",
        "certificates",
        "preferred_cities",
        "desired_occupations",
        "desired_chains",
        "majors",
        "required_skills",
        "preferred_skills",
        "required_certificates",
    }
)
_PARSERS: dict[str, Callable[[object], Any]] = {
    "education": parse_education,
    "title_level": parse_title_level,
    "required_title_level": parse_title_level,
    "skill_level": parse_skill_level,
    "required_skill_level": parse_skill_level,
    "digital_certs": parse_digital_certs,
    "experience_years": parse_experience,
    "min_experience_years": parse_experience,
    "graduation_year": parse_year,
    "shortage_level": parse_shortage_level,
    "headcount": _strict_int,
    "id": _strict_int,
    "enterprise_id": _strict_int,
    "catalogue_id": _strict_int,
    "salary_min": _salary_low,
    "salary_max": _salary_high,
    "valid_from": parse_date,
    "valid_until": parse_date,
    "fresh_graduate": parse_bool,
    "consent": parse_bool,
    "fresh_graduates_ok": parse_bool,
    "source": _choice(_SOURCE, "来源"),
    "occupation_code": _parse_code,
}
for _name in _LIST_FIELDS:
    _PARSERS[_name] = parse_list


def _parser(target: str, kind: ImportKind) -> Callable[[object], Any]:
    if target == "status":
        return _choice(_TALENT_STATUS if kind == "talents" else _STATUS, "状态")
    return _PARSERS.get(target, _parse_text)


_UNIT_HINT = re.compile(r"[(（【\[]([^)）】\]]*(?:元|万|千|k|K|/年|/月)[^)）】\]]*)[)）】\]]")
_BARE_AMOUNT = re.compile(r"[\d.,\s\-~～至到—–]+(以上|以下)?")


def _with_unit_hint(raw: object, hint: str | None) -> object:
    """A salary cell with the header's unit appended when the cell has none ("8-12" + "万元/年")."""
    if not hint or raw is None or isinstance(raw, bool):
        return raw
    text = cell_text(raw)
    if _BARE_AMOUNT.fullmatch(text):
        m = re.fullmatch(r"(.*?)(以上|以下)?", text)
        assert m is not None
        return f"{m.group(1)}{hint}{m.group(2) or ''}"
    return raw


# ---------------------------------------------------------------------------------------------
# pydantic errors in Chinese
# ---------------------------------------------------------------------------------------------


def zh_reason(err: dict[str, Any]) -> str:
    """A pydantic error as a short Chinese reason, for row errors and form fields."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    loc = err.get("loc") or ()
    if kind == "missing":
        return "必填，不能为空"
    if kind == "string_too_short":
        return (
            "不能为空"
            if ctx.get("min_length", 1) <= 1
            else f"过短（至少 {ctx['min_length']} 个字符）"
        )
    if kind == "string_too_long":
        return f"过长（最多 {ctx.get('max_length')} 个字符）"
    if kind == "too_long":
        return f"条目过多（最多 {ctx.get('max_length')} 项）"
    if kind == "too_short":
        return f"条目过少（至少 {ctx.get('min_length')} 项）"
    if kind == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if kind == "greater_than":
        return f"应大于 {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if kind == "less_than":
        return f"应小于 {ctx.get('lt')}"
    if kind == "string_pattern_mismatch":
        if loc and loc[0] == "occupation_code":
            return "职业编码格式应如 2-02-10-03"
        return "格式不正确"
    if kind.startswith("int_"):
        return "应为整数"
    if kind.startswith("float_"):
        return "应为数字"
    if kind.startswith("bool_"):
        return "应为“是”或“否”"
    if kind.startswith("date_") or kind.startswith("datetime_"):
        return "应为日期，如 2026-01-31"
    if kind in ("enum", "literal_error"):
        return f"取值无效，应为 {ctx.get('expected', '')}".strip()
    if kind == "string_type":
        return "应为文本"
    if kind == "list_type":
        return "应为列表"
    if kind == "extra_forbidden":
        return "未知字段"
    if kind == "value_error":
        msg = str(ctx.get("error") or err.get("msg", "")).removeprefix("Value error, ")
        if "salary_min" in msg:
            return "薪资下限不能大于上限"
        if "valid_from" in msg:
            return "有效期开始日期不能晚于截止日期"
        return msg
    return f"取值无效（{err.get('msg', '')}）"



_zh_reason = zh_reason  # the name other modules imported first

def quoted_names(names: list[str], most: int = 5, unit: str = "列") -> str:
    """Names (headers, sheets, fields) for a message: a few, each cut short, and how many in all."""
    shown = "、".join(excerpt(n, 30) for n in names[:most])
    return shown + (f" 等 {len(names)} {unit}" if len(names) > most else "")


def _shown(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | dict):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = cell_text(value)
    return excerpt(text)


# ---------------------------------------------------------------------------------------------
# the column plan and row building
# ---------------------------------------------------------------------------------------------


def _header_key(header: str) -> str:
    """A header's comparison key: normalised, lower-cased, without notes in brackets, marks, spaces."""
    text = normalize_text(header).lower()
    text = re.sub(r"[(\[【][^)\]】]*[)\]】]", "", text)
    return re.sub(r"[\s*:：#]+", "", text)


_BUILTIN_BY_KEY: dict[str, str] = {
    _header_key(h): target for target, headers in _BUILTIN_HEADERS.items() for h in headers
}
_BUILTIN_IGNORED_KEYS: dict[str, frozenset[str]] = {
    k: frozenset(_header_key(h) for h in v) for k, v in _BUILTIN_IGNORED.items()
}


@dataclass
class _Column:
    """One source column: its header and what it becomes."""

    index: int
    header: str
    target: str | None  # a field or virtual field; None when ignored, unknown or blank
    status: Literal["mapped", "ignored", "unknown", "blank"]
    unit_hint: str | None = None


@dataclass
class _Plan:
    """How headers map to fields for one file, and the problems found in the header."""

    kind: ImportKind
    mapping: Mapping
    defaults: dict[str, Any]
    columns_by_key: dict[str, tuple[str, str]] = field(default_factory=dict)
    mapping_ignored: frozenset[str] = frozenset()

    @classmethod
    def create(cls, kind: ImportKind, mapping: Mapping) -> _Plan:
        _check_mapping(mapping, kind)
        defaults: dict[str, Any] = {}
        for name, raw in mapping.defaults.items():
            target = _resolve_target(name, kind)
            assert target is not None
            try:
                parsed = _parser(target, kind)(raw) if target not in _VIRTUAL else parse_salary(raw)
            except ValueError as exc:
                raise InvalidInput(f"映射文件中字段 {name} 的默认值无效：{exc}") from None
            if target in _VIRTUAL:
                for real, value in zip(_VIRTUAL[target], parsed, strict=True):
                    if value is not None:
                        defaults[real] = value
            elif parsed is not None:
                defaults[target] = parsed
        plan = cls(kind=kind, mapping=mapping, defaults=defaults)
        for header, target in mapping.columns.items():
            plan.columns_by_key[header.strip()] = (header, target or "")
            plan.columns_by_key.setdefault(_header_key(header), (header, target or ""))
        plan.mapping_ignored = frozenset(
            {h.strip() for h in mapping.ignore} | {_header_key(h) for h in mapping.ignore}
        )
        return plan

    def resolve(self, header: str) -> tuple[Literal["mapped", "ignored", "unknown"], str | None]:
        """What a header (or JSON key) becomes for this file."""
        stripped = header.strip()
        key = _header_key(header)
        hit = self.columns_by_key.get(stripped) or self.columns_by_key.get(key)
        if hit is not None:
            target = hit[1]
            if not target:
                return "ignored", None
            return "mapped", _resolve_target(target, self.kind)
        if stripped in self.mapping_ignored or key in self.mapping_ignored:
            return "ignored", None
        for name in (stripped, stripped.lower()):
            if name in _model_fields(self.kind) or name in _VIRTUAL or name in _ALIASES[self.kind]:
                return "mapped", _resolve_target(name, self.kind)
        builtin = _BUILTIN_BY_KEY.get(key)
        if builtin is not None:
            target = _resolve_target(builtin, self.kind)
            if target is not None:
                return "mapped", target
        if key in _BUILTIN_IGNORED_KEYS[self.kind]:
            return "ignored", None
        if self.mapping.ignore_unknown:
            return "ignored", None
        return "unknown", None

    def build(
        self,
        row: int,
        cells: Iterable[tuple[str, str, object, str | None]],
        suppress_missing: frozenset[str] = frozenset(),
    ) -> tuple[Record | None, list[RowError]]:
        """Parse one row's cells (header, target, raw value, unit hint) and validate the model."""
        errors: list[RowError] = []
        values: dict[str, Any] = {}
        origin: dict[str, tuple[str, object]] = {}
        failed: set[str] = set()
        headers: dict[str, str] = {}
        for header, target, raw, hint in cells:
            reals = _real_fields(target)
            headers.update(dict.fromkeys(reals, header))
            if is_blank(raw) and not isinstance(raw, bool):
                continue
            if target in ("salary", "salary_min", "salary_max"):
                raw_for_parse = _with_unit_hint(raw, hint)
            else:
                raw_for_parse = raw
            try:
                if target in _VIRTUAL:
                    parsed = parse_salary(raw_for_parse)
                else:
                    parsed = _parser(target, self.kind)(raw_for_parse)
            except ValueError as exc:
                errors.append(RowError(row=row, field=header, reason=str(exc), value=_shown(raw)))
                failed.update(reals)
                continue
            if target in _VIRTUAL:
                for real, value in zip(reals, parsed, strict=True):
                    origin[real] = (header, raw)
                    if value is not None:
                        values[real] = value
            else:
                origin[target] = (header, raw)
                if parsed is not None:
                    values[target] = parsed
        for name, value in self.defaults.items():
            if name not in values and name not in failed and name not in origin:
                values[name] = value
        if self.kind == "catalogue":
            if values.get("source", "catalogue") != "catalogue":
                header = origin.get("source", ("source", None))[0]
                errors.append(
                    RowError(
                        row=row,
                        field=header,
                        reason="目录导入的来源只能是“目录”（catalogue）",
                        value=_shown(origin.get("source", (None, None))[1]),
                    )
                )
            values["source"] = "catalogue"
        try:
            record = _MODELS[self.kind].model_validate(values)
        except ValidationError as exc:
            for err in exc.errors():
                loc = err.get("loc") or ()
                name = str(loc[0]) if loc else ""
                if name in failed or (err["type"] == "missing" and name in suppress_missing):
                    continue  # already reported
                if not name:
                    msg = str(err.get("msg", ""))
                    name = (
                        "salary_min"
                        if "salary" in msg
                        else "valid_from"
                        if "valid_from" in msg
                        else ""
                    )
                header, raw = origin.get(name, (headers.get(name, name or "整行"), None))
                errors.append(
                    RowError(row=row, field=header, reason=zh_reason(err), value=_shown(raw))
                )
            return None, errors
        return (None, errors) if errors else (record, errors)


# ---------------------------------------------------------------------------------------------
# file formats
# ---------------------------------------------------------------------------------------------


_decode = decode_text  # the name fair_io imported first


def _row_blank(values: list[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _non_blank_count(values: list[object]) -> int:
    return sum(1 for v in values if not (v is None or (isinstance(v, str) and not v.strip())))


def _read_table(
    rows: Iterator[tuple[int, list[object]]], plan: _Plan, max_rows: int
) -> ImportResult:
    result = ImportResult()
    kind = plan.kind
    # find the header: the given row, or the first row with two or more cells among the first few
    pending: list[tuple[int, list[object]]] = []
    header: tuple[int, list[object]] | None = None
    for number, values in rows:
        if _row_blank(values):
            continue
        if plan.mapping.header_row is not None:
            if number < plan.mapping.header_row:
                continue
            if number == plan.mapping.header_row:
                header = (number, values)
                break
            raise InvalidInput(f"表头行（第 {plan.mapping.header_row} 行）为空")
        pending.append((number, values))
        if _non_blank_count(values) >= 2 or len(pending) >= _MAX_HEADER_SCAN:
            break
    if header is None:
        if not pending:
            return result  # an empty file: nothing to import
        chosen = next((i for i, (_, v) in enumerate(pending) if _non_blank_count(v) >= 2), 0)
        header = pending[chosen]
        rest = pending[chosen + 1 :]
    else:
        rest = []
    header_row, header_values = header
    result.header_row = header_row

    columns: list[_Column] = []
    for index, raw in enumerate(header_values):
        text = cell_text(raw)
        if not text:
            columns.append(_Column(index, f"第 {index + 1} 列", None, "blank"))
            continue
        status, target = plan.resolve(text)
        hint_match = (
            _UNIT_HINT.search(normalize_text(text))
            if target in ("salary", "salary_min", "salary_max")
            else None
        )
        columns.append(
            _Column(index, text, target, status, hint_match.group(1) if hint_match else None)
        )
    result.columns = {c.header: c.target for c in columns if c.status == "mapped" and c.target}
    result.ignored = [c.header for c in columns if c.status == "ignored"]

    unknown = [c.header for c in columns if c.status == "unknown"]
    if unknown:
        result.errors.append(
            RowError(
                row=header_row,
                field="表头",
                reason=f"无法识别的列：{quoted_names(unknown)}；请在映射文件的 columns 中对应到字段，或列入 ignore",
            )
        )
    seen: dict[str, str] = {}
    for c in columns:
        if c.status != "mapped" or not c.target:
            continue
        for real in _real_fields(c.target):
            if real in seen:
                result.errors.append(
                    RowError(
                        row=header_row,
                        field=c.header,
                        reason=f"与列“{excerpt(seen[real])}”对应同一字段 {real}",
                    )
                )
            else:
                seen[real] = c.header
    model = _MODELS[kind]
    missing_required = frozenset(
        name
        for name, info in model.model_fields.items()
        if info.is_required() and name not in seen and name not in plan.defaults
    )
    for name in sorted(missing_required):
        label = next((h for h in _BUILTIN_HEADERS.get(name, ())), name)
        result.errors.append(
            RowError(row=header_row, field=name, reason=f"缺少必填列：{label}（{name}）")
        )

    width = len(columns)
    reported_blank: set[int] = set()
    mapped = [c for c in columns if c.status == "mapped" and c.target]

    def data_rows() -> Iterator[tuple[int, list[object]]]:
        yield from rest
        yield from rows

    for number, values in data_rows():
        if _row_blank(values):
            continue
        result.total_rows += 1
        if result.total_rows > max_rows:
            raise PayloadTooLarge(f"文件行数超过上限（最多 {max_rows} 行），请拆分后再导入")
        for index in range(len(values)):
            column = columns[index] if index < width else None
            if (column is None or column.status == "blank") and index not in reported_blank:
                if not is_blank(values[index]):
                    reported_blank.add(index)
                    result.errors.append(
                        RowError(
                            row=number,
                            field=f"第 {index + 1} 列",
                            reason="该列有数据但没有表头",
                            value=_shown(values[index]),
                        )
                    )
        cells = [
            (
                c.header,
                c.target or "",
                values[c.index] if c.index < len(values) else None,
                c.unit_hint,
            )
            for c in mapped
        ]
        record, errors = plan.build(number, cells, missing_required)
        if errors:
            result.errors.extend(errors)
        elif record is not None:
            result.records.append((number, record))
    return result


_JSON_MESSAGES = {
    "Expecting value": "缺少值",
    "Expecting property name enclosed in double quotes": "键名应使用双引号",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Unterminated string starting at": "字符串没有结束",
    "Extra data": "多余的内容",
    "Invalid control character at": "含有非法控制字符",
}


def _read_jsonl(data: bytes, plan: _Plan, max_rows: int, limits: ReadLimits) -> ImportResult:
    result = ImportResult()
    unknown_seen: set[str] = set()
    columns: dict[str, str] = {}
    ignored: list[str] = []
    for number, line in jsonl_lines(data, limits):
        result.total_rows += 1
        if result.total_rows > max_rows:
            raise PayloadTooLarge(f"文件行数超过上限（最多 {max_rows} 行），请拆分后再导入")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            reason = _JSON_MESSAGES.get(exc.msg, exc.msg)
            result.errors.append(
                RowError(
                    row=number,
                    field="整行",
                    reason=f"JSON 格式错误：{reason}（第 {exc.colno} 列）",
                    value=_shown(line),
                )
            )
            continue
        if not isinstance(obj, dict):
            result.errors.append(
                RowError(
                    row=number, field="整行", reason="每行应为一个 JSON 对象", value=_shown(line)
                )
            )
            continue
        check_record(obj, number, limits)
        cells: list[tuple[str, str, object, str | None]] = []
        seen: dict[str, str] = {}
        row_errors: list[RowError] = []
        for key, raw in obj.items():
            status, target = plan.resolve(str(key))
            if status == "unknown":
                if key not in unknown_seen:
                    unknown_seen.add(key)
                    result.errors.append(
                        RowError(
                            row=number,
                            field=excerpt(str(key)),
                            reason="无法识别的字段；请在映射文件中对应到字段，或列入 ignore",
                        )
                    )
                continue
            if status == "ignored" or not target:
                if key not in ignored:
                    ignored.append(key)
                continue
            columns.setdefault(str(key), target)
            for real in _real_fields(target):
                if real in seen:
                    row_errors.append(
                        RowError(
                            row=number,
                            field=str(key),
                            reason=f"与字段“{excerpt(seen[real])}”对应同一字段 {real}",
                        )
                    )
                seen[real] = str(key)
            cells.append((str(key), target, raw, None))
        record, errors = plan.build(number, cells)
        result.errors.extend(row_errors + errors)
        if record is not None and not row_errors:
            result.records.append((number, record))
    result.columns = columns
    result.ignored = ignored
    return result


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------


def read_records(
    path: Path,
    kind: ImportKind,
    mapping: Mapping | None = None,
    *,
    sheet: str | None = None,
    max_bytes: int | None = None,
    max_rows: int | None = None,
    limits: ReadLimits | None = None,
) -> ImportResult:
    """Read a CSV, XLSX or JSONL file into validated talent profiles or demand entries.

    Row numbers are those a spreadsheet shows (header = row 1, first data row = 2) or JSONL line
    numbers. Every bad cell or row becomes a RowError; rows with errors are left out of
    ``records``. ``catalogue`` rows are DemandEntry with source "catalogue". File-level problems
    (format, encoding, unreadable file, bad mapping) raise InvalidInput; a file above a reading
    limit (``limits``, default from the settings; ``max_bytes`` and ``max_rows`` override two of
    them) raises PayloadTooLarge, see ``matcher.ingest.table_reader``.
    """
    if kind not in _MODELS:
        raise InvalidInput(f"未知的导入类型：{kind}（应为 talents、demands 或 catalogue）")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        hint = "；.xls 请另存为 .xlsx" if suffix == ".xls" else ""
        shown = excerpt(suffix or path.name, 20)
        raise InvalidInput(f"不支持的文件格式“{shown}”，支持 {_SUPPORTED_TEXT}{hint}")
    limits = (limits or ReadLimits.from_settings()).but(file_bytes=max_bytes, rows=max_rows)
    check_file_size(path, limits)
    plan = _Plan.create(kind, mapping or Mapping())
    if suffix in (".jsonl", ".ndjson"):
        result = _read_jsonl(read_limited(path, limits), plan, limits.rows, limits)
    elif suffix == ".csv":
        result = _read_table(csv_rows(read_limited(path, limits), limits), plan, limits.rows)
    else:
        chosen_sheet = sheet if sheet is not None else plan.mapping.sheet
        rows = xlsx_rows(path, chosen_sheet, plan.mapping.fill_merged, limits)
        result = _read_table(rows, plan, limits.rows)
    result.errors = shorten_errors(result.errors)
    return result


def shorten_errors(errors: list[RowError]) -> list[RowError]:
    """Row errors with their quoted parts cut short: field names and values to an excerpt, reasons
    to a few hundred characters (a safety net: values are cut where they are quoted, too)."""
    for e in errors:
        if e.value is not None and len(e.value) > EXCERPT_CHARS + 1:
            e.value = excerpt(e.value)
        if len(e.field) > EXCERPT_CHARS + 1:
            e.field = excerpt(e.field)
        if len(e.reason) > _REASON_CHARS:
            e.reason = excerpt(e.reason, _REASON_CHARS)
    return errors
