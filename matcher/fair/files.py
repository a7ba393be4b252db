"""Fair files: import a fair from a workbook or a set of files, export a run's result.

**Import.** A fair is an XLSX workbook with sheets, or a folder (or an explicit set) of CSV,
XLSX or JSONL files, one per table:

| table | sheet / file names | columns |
|---|---|---|
| ``posts`` (required) | 岗位, 招聘岗位, posts | 需求ID (a stored demand entry), or 编号 (external id; stored → reused), or the columns of a new post as in ``talentmatch import demands`` (岗位名称, 企业名称, 学历要求 …); 面试名额, 展位 |
| ``seekers`` (required) | 求职者, 报名人员, seekers | 人才ID, or 编号, or the columns of a new profile as in ``talentmatch import talents`` (姓名, 学历, 毕业院校 …); 面试上限 |
| ``wishes`` | 意向, 志愿, wishes | 求职者 (编号, 人才ID or 姓名), 岗位 (编号, 需求ID or 岗位名称), 企业, 类型 (志愿 / 必面 / 排除), 顺序 |
| ``slots`` | 时段, 面试时段, slots | 展位 (empty = every booth), 开始时间, 结束时间 (or 时段 ``09:00-09:20``) |
| ``fair`` | 活动, 活动信息, fair | two columns 项目 / 值: 活动名称, 日期, 地点, 开始时间, 每场时长（分钟）, 每展位时段数, 每人面试上限, 每岗位面试名额 |

Record columns are read exactly as by the core importer (same header aliases, value parsers
and Chinese reasons); a mapping file maps each table's headers as the core mapping does::

    {"posts": {"columns": {"展台": "booth", "岗位": "title"}, "defaults": {"capacity": 3}},
     "seekers": {"sheet": "报名表", "ignore": ["备注"]}}

Every bad cell becomes a row error with the sheet, row, field and reason; the file is read
completely before anything is reported, and nothing is written unless it is all valid.

**Export.** A run's result as XLSX (sheets 分配结果, 展位日程, 求职者日程, 汇总, 分布统计), as
CSV (one file per sheet, UTF-8 with BOM for Excel) or as one JSON document.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from matcher.core.errors import ImportRejected, InvalidInput, RowError
from matcher.core.textnorm import normalize_text
from matcher.fair.engine import (
    REPORT_DEFINITIONS,
    FairCreate,
    FairDetail,
    FairRunResult,
    PostIn,
    SeekerIn,
    SheetRowError,
    SlotIn,
    WishIn,
    booth_schedule,
    create_fair,
    parse_clock,
    seeker_schedule,
)
from matcher.ingest.fields import SUPPORTED_EXTENSIONS, Mapping, read_mapping_json
from matcher.ingest.headers import NOT_LISTED, ExplicitColumns, HeaderTable, header_key, unit_hint
from matcher.ingest.messages import quoted_names, shorten_errors, zh_reason
from matcher.ingest.parsing import cell_text, is_blank, parse_date, parse_int
from matcher.ingest.plan import ColumnPlan
from matcher.ingest.safe_cells import csv_row, excerpt, xlsx_write_rows
from matcher.ingest.table_reader import (
    PayloadTooLarge,
    ReadLimits,
    check_file_size,
    check_record,
    csv_rows,
    jsonl_lines,
    read_limited,
    xlsx_rows,
    xlsx_sheet_names,
)

if TYPE_CHECKING:  # pragma: no cover
    from matcher.domain.auth import Principal
    from matcher.fair.engine import Progress
    from matcher.service import MatchService

__all__ = [
    "FairMapping",
    "TABLES",
    "export_result",
    "import_fair_file",
    "load_fair_mapping",
    "read_fair",
    "template_workbook",
    "write_result",
]

Table = Literal["fair", "posts", "seekers", "wishes", "slots"]
TABLES: tuple[Table, ...] = ("fair", "posts", "seekers", "wishes", "slots")
REQUIRED: tuple[Table, ...] = ("posts", "seekers")

# sheet or file names of each table (compared after header_key normalisation)
SHEET_NAMES: dict[Table, tuple[str, ...]] = {
    "fair": ("活动", "活动信息", "招聘会", "招聘会信息", "fair", "info"),
    "posts": ("岗位", "招聘岗位", "岗位信息", "岗位表", "岗位需求", "posts"),
    "seekers": ("求职者", "求职人员", "报名人员", "报名表", "求职者名单", "人才", "seekers"),
    "wishes": ("意向", "志愿", "意向名单", "志愿表", "面试意向", "wishes"),
    "slots": ("时段", "面试时段", "展位时段", "时间安排", "slots"),
}
TABLE_LABELS: dict[Table, str] = {"fair": "活动", "posts": "岗位", "seekers": "求职者", "wishes": "意向",
                                  "slots": "时段"}

# fair columns of each table: field -> header aliases (the field name itself always works)
FAIR_COLUMNS: dict[Table, dict[str, tuple[str, ...]]] = {
    "posts": {
        "demand_id": ("需求ID", "岗位ID", "需求条目ID", "岗位库ID"),
        "capacity": ("面试名额", "面试容量", "面试人数", "可面试人数", "面试数量"),
        "booth": ("展位", "展位号", "展台", "展位编号", "展台号"),
    },
    "seekers": {
        "talent_id": ("人才ID", "档案ID", "求职者ID", "人才库ID"),
        "limit": ("面试上限", "每人面试上限", "最多面试", "面试次数上限", "最多面试场数"),
    },
    "wishes": {
        "seeker": ("求职者", "求职者编号", "人才", "姓名", "求职者姓名"),
        "post": ("岗位", "岗位编号", "目标岗位", "意向岗位", "岗位名称"),
        "enterprise": ("企业", "企业名称", "单位", "单位名称", "招聘单位"),
        "kind": ("类型", "意向类型", "标记"),
        "rank": ("顺序", "志愿顺序", "志愿序号", "排序", "序位"),
    },
    "slots": {
        "booth": ("展位", "展位号", "展台", "展位编号"),
        "start": ("开始时间", "开始", "起始时间"),
        "end": ("结束时间", "结束", "截止时间"),
        "period": ("时段", "时间段", "面试时段", "时间"),
    },
    "fair": {
        "name": ("活动名称", "名称", "招聘会名称"),
        "held_on": ("日期", "举办日期", "活动日期", "举办时间"),
        "venue": ("地点", "举办地点", "场地", "活动地点"),
        "start_time": ("开始时间", "面试开始时间"),
        "slot_minutes": ("每场时长", "面试时长", "时段长度", "每场面试时长", "时段时长"),
        "slots_per_booth": ("每展位时段数", "时段数", "展位时段数"),
        "default_limit": ("每人面试上限", "面试上限"),
        "default_capacity": ("每岗位面试名额", "默认面试名额", "面试名额"),
    },
}
_KINDS = {
    "志愿": "seeker", "意向": "seeker", "求职者志愿": "seeker", "求职意向": "seeker", "seeker": "seeker",
    "wish": "seeker",
    "必面": "must_see", "必须面试": "must_see", "企业必面": "must_see", "指定面试": "must_see",
    "must_see": "must_see", "must-see": "must_see",
    "排除": "exclude", "不面试": "exclude", "回避": "exclude", "企业排除": "exclude", "exclude": "exclude",
}
_RECORD_KIND = {"posts": "demands", "seekers": "talents"}
_MAX_HEADER_SCAN = 5


# =============================================================================================
# mapping
# =============================================================================================


class FairMapping(BaseModel):
    """Per-table mappings, each shaped like the core importer's ``Mapping``."""

    model_config = ConfigDict(extra="forbid")

    fair: Mapping | None = None
    posts: Mapping | None = None
    seekers: Mapping | None = None
    wishes: Mapping | None = None
    slots: Mapping | None = None

    def table(self, name: Table) -> Mapping:
        return getattr(self, name) or Mapping()


def _fair_targets(table: Table) -> set[str]:
    return set(FAIR_COLUMNS.get(table, {}))


def _split_mapping(table: Table, mapping: Mapping) -> tuple[Mapping | None, dict[str, str | None], dict[str, Any]]:
    """(core mapping for the record columns, fair column targets by header, fair defaults)."""
    fair_fields = _fair_targets(table)
    fair_cols = {h: t for h, t in mapping.columns.items() if t is not None and t.strip() in fair_fields}
    fair_defaults = {k: v for k, v in mapping.defaults.items() if k.strip() in fair_fields}
    if table not in _RECORD_KIND:
        bad = sorted({t for t in mapping.columns.values() if t is not None and t.strip() not in fair_fields}
                     | {k for k in mapping.defaults if k.strip() not in fair_fields})
        if bad:
            raise InvalidInput(f"映射文件中“{table}”有未知的目标字段：{quoted_names(bad, unit='个')}；"
                               f"可用字段：{', '.join(sorted(fair_fields))}")
        return None, fair_cols, fair_defaults
    core = mapping.model_copy(update={
        "columns": {h: t for h, t in mapping.columns.items() if h not in fair_cols},
        "defaults": {k: v for k, v in mapping.defaults.items() if k not in fair_defaults},
    })
    return core, fair_cols, fair_defaults


def load_fair_mapping(path: Path) -> FairMapping:
    """Read a fair mapping JSON file (``{"posts": {...}, "seekers": {...}, ...}``)."""
    data = read_mapping_json(path)
    try:
        mapping = FairMapping.model_validate(data)
    except ValidationError as exc:
        where = "、".join(excerpt(".".join(str(p) for p in e["loc"]), 40) for e in exc.errors()[:5])
        raise InvalidInput(f"映射文件格式错误（{where}）：顶层键应为 fair、posts、seekers、wishes、slots，"
                           "每个的值与 import 命令的映射文件相同") from None
    for table in TABLES:
        m = getattr(mapping, table)
        if m is not None:
            core, _, _ = _split_mapping(table, m)
            if core is not None:
                ColumnPlan.create(_RECORD_KIND[table], core)  # type: ignore[arg-type]  # validates targets
    return mapping


# =============================================================================================
# reading tables
# =============================================================================================


@dataclass
class _Source:
    """Where a table comes from: a file, and a sheet of it for workbooks."""

    path: Path
    sheet: str | None
    label: str  # shown in errors: the sheet name or the file name


@dataclass
class _Rows:
    """A table as header-keyed rows."""

    label: str
    header_row: int
    headers: list[str]
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    header_values: list[object] = field(default_factory=list)  # the header row's raw cells
    first_seen: dict[str, int] = field(default_factory=dict)  # JSONL: line where a key appeared


def _row_blank(values: Sequence[object]) -> bool:
    return all(is_blank(v) and not isinstance(v, bool) for v in values)


def _read_rows(src: _Source, mapping: Mapping, limits: ReadLimits) -> _Rows:
    """Header and data rows of a CSV, XLSX sheet or JSONL file (bounded: ``matcher.ingest.table_reader``)."""
    suffix = src.path.suffix.lower()
    check_file_size(src.path, limits)
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(src, limits)
    if suffix == ".csv":
        raw: Iterator[tuple[int, list[object]]] = csv_rows(read_limited(src.path, limits), limits, src.label)
    elif suffix in (".xlsx", ".xlsm"):
        raw = xlsx_rows(src.path, src.sheet, mapping.fill_merged, limits, src.label)
    else:
        raise InvalidInput(f"不支持的文件格式“{excerpt(suffix or src.path.name, 20)}”，支持 CSV、XLSX、JSONL")
    pending: list[tuple[int, list[object]]] = []
    header: tuple[int, list[object]] | None = None
    for number, values in raw:
        if _row_blank(values):
            continue
        if mapping.header_row is not None:
            if number < mapping.header_row:
                continue
            if number == mapping.header_row:
                header = (number, values)
                break
            raise InvalidInput(f"{src.label}：表头行（第 {mapping.header_row} 行）为空")
        pending.append((number, values))
        if sum(not is_blank(v) for v in values) >= 2 or len(pending) >= _MAX_HEADER_SCAN:
            break
    rest: list[tuple[int, list[object]]] = []
    if header is None:
        if not pending:
            return _Rows(src.label, 1, [])
        chosen = next((i for i, (_, v) in enumerate(pending) if sum(not is_blank(x) for x in v) >= 2), 0)
        header, rest = pending[chosen], pending[chosen + 1 :]
    number, values = header
    headers = [cell_text(v) or f"第 {i + 1} 列" for i, v in enumerate(values)]
    table = _Rows(src.label, number, headers, header_values=list(values))
    count = 0
    for n, vals in [*rest, *raw]:
        if _row_blank(vals):
            continue
        count += 1
        if count > limits.rows:
            raise PayloadTooLarge(f"{excerpt(src.label, 40)}：行数超过上限（最多 {limits.rows} 行），请拆分后再导入")
        row: dict[str, object] = {}
        for i, v in enumerate(vals):
            key = headers[i] if i < len(headers) else f"第 {i + 1} 列"
            if key not in row or is_blank(row[key]):
                row[key] = v
        table.rows.append((n, row))
    return table


def _read_jsonl(src: _Source, limits: ReadLimits) -> _Rows:
    table = _Rows(src.label, 1, [])
    for number, line in jsonl_lines(read_limited(src.path, limits), limits, src.label):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            table.rows.append((number, {"\x00error": f"JSON 格式错误（第 {exc.colno} 列）"}))
            continue
        if not isinstance(obj, dict):
            table.rows.append((number, {"\x00error": "每行应为一个 JSON 对象"}))
            continue
        check_record(obj, number, limits, src.label)
        for k in obj:
            if str(k) not in table.first_seen:
                table.first_seen[str(k)] = number
                table.headers.append(str(k))
                if len(table.headers) > limits.columns:
                    raise PayloadTooLarge(f"{excerpt(src.label, 40)}：字段数超过上限（最多 {limits.columns} 个）")
        table.rows.append((number, {str(k): v for k, v in obj.items()}))
    return table


# =============================================================================================
# the column plan of a table
# =============================================================================================


@dataclass
class _Column:
    header: str
    kind: Literal["fair", "record", "ignored", "unknown"]
    target: str | None = None
    hint: str | None = None


def _plan_columns(table: Table, rows: _Rows, mapping: Mapping, errors: list[RowError]) -> tuple[list[_Column], ColumnPlan | None, dict[str, Any]]:
    core, fair_cols, fair_defaults = _split_mapping(table, mapping)
    plan = ColumnPlan.create(_RECORD_KIND[table], core) if core is not None else None  # type: ignore[arg-type]
    explicit_columns = ExplicitColumns(mapping.columns, mapping.ignore)
    fair_headers = HeaderTable(FAIR_COLUMNS.get(table, {}), field_names=True)
    columns: list[_Column] = []
    for header in rows.headers:
        explicit = explicit_columns.target(header)
        if explicit is None:
            columns.append(_Column(header, "ignored"))
        elif explicit is not NOT_LISTED and str(explicit).strip() in fair_cols.values():
            columns.append(_Column(header, "fair", str(explicit).strip()))
        elif explicit is not NOT_LISTED and plan is not None:
            _, target = plan.resolve(header)
            columns.append(_Column(header, "record", target))
        elif explicit_columns.ignores(header):
            columns.append(_Column(header, "ignored"))
        elif fair_headers.field_of(header) is not None:
            columns.append(_Column(header, "fair", fair_headers.field_of(header)))
        elif plan is not None:
            status, target = plan.resolve(header)
            if status == "mapped" and target:
                columns.append(_Column(header, "record", target))
            else:
                columns.append(_Column(header, "ignored" if status == "ignored" else "unknown"))
        else:
            columns.append(_Column(header, "ignored" if mapping.ignore_unknown else "unknown"))
    for c in columns:
        if c.kind == "record" and c.target in ("salary", "salary_min", "salary_max"):
            c.hint = unit_hint(c.header)
    unknown = [c.header for c in columns if c.kind == "unknown"]
    if unknown:
        row = min((rows.first_seen.get(h, rows.header_row) for h in unknown), default=rows.header_row)
        errors.append(SheetRowError(row=row, field="表头", sheet=rows.label,
                                    reason=f"无法识别的列：{quoted_names(unknown)}；请在映射文件中对应到字段，或列入 ignore"))
    seen: dict[str, str] = {}
    for c in columns:
        if c.kind in ("fair", "record") and c.target:
            reals = ("salary_min", "salary_max") if c.target == "salary" else (c.target,)
            for real in reals:
                if real in seen:
                    errors.append(SheetRowError(row=rows.header_row, field=c.header, sheet=rows.label,
                                                reason=f"与列“{excerpt(seen[real])}”对应同一字段 {real}"))
                seen[real] = c.header
    return columns, plan, fair_defaults


# =============================================================================================
# tables → FairCreate
# =============================================================================================


def _parse_positive(value: object) -> int | None:
    n = parse_int(value)
    if n is not None and n < 1:
        raise ValueError("应为正整数")
    return n


def _parse_text(value: object) -> str | None:
    """Text as typed (like the core importer's text fields), so names and references match."""
    text = cell_text(value)
    return None if is_blank(text) else text


def _parse_kind(value: object) -> str | None:
    text = normalize_text(cell_text(value)).lower().replace(" ", "")
    if is_blank(text):
        return None
    if text in _KINDS:
        return _KINDS[text]
    raise ValueError(f"无法识别的类型“{excerpt(cell_text(value))}”，应为 志愿、必面 或 排除")


def _parse_period(value: object) -> tuple[str, str] | None:
    text = normalize_text(cell_text(value)).replace(" ", "")
    if is_blank(text):
        return None
    for sep in ("-", "~", "～", "至", "到", "—", "–"):
        if sep in text:
            a, b = text.split(sep, 1)
            return _clock(a), _clock(b)
    raise ValueError(f"无法识别的时段“{excerpt(cell_text(value))}”，应如 09:00-09:20")


def _clock(value: object) -> str:
    m = parse_clock(value)
    return f"{m // 60:02d}:{m % 60:02d}"


_FIELD_PARSERS: dict[str, Callable[[object], Any]] = {
    "demand_id": _parse_positive, "talent_id": _parse_positive, "capacity": _parse_positive,
    "limit": _parse_positive, "rank": _parse_positive, "slots_per_booth": _parse_positive,
    "slot_minutes": _parse_positive, "default_limit": _parse_positive, "default_capacity": _parse_positive,
    "kind": _parse_kind, "period": _parse_period, "start": _clock, "end": _clock, "start_time": _clock,
    "held_on": parse_date,
}


def _fair_values(row: int, cells: dict[str, object], columns: list[_Column], defaults: dict[str, Any],
                 label: str, errors: list[RowError]) -> tuple[dict[str, Any], bool]:
    """Parsed fair columns of a row; the flag says whether every cell parsed."""
    values: dict[str, Any] = {}
    ok = True
    for c in columns:
        if c.kind != "fair" or c.target is None:
            continue
        raw = cells.get(c.header)
        if is_blank(raw) and not isinstance(raw, bool):
            continue
        try:
            values[c.target] = _FIELD_PARSERS.get(c.target, _parse_text)(raw)
        except ValueError as exc:
            ok = False
            errors.append(SheetRowError(row=row, field=excerpt(c.header), reason=str(exc), sheet=label,
                                        value=excerpt(cell_text(raw))))
    for k, v in defaults.items():
        if values.get(k) is None:
            try:
                values[k] = _FIELD_PARSERS.get(k, _parse_text)(v)
            except ValueError as exc:
                raise InvalidInput(f"映射文件中字段 {k} 的默认值无效：{exc}") from None
    return {k: v for k, v in values.items() if v is not None}, ok


def _validated(model: type[BaseModel], values: dict[str, Any], row: int, label: str,
               headers: dict[str, str], errors: list[RowError]) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc") or ()
            name = str(loc[0]) if loc else ""
            reason = zh_reason(err) if err["type"] != "value_error" else str(err.get("msg", "")).removeprefix("Value error, ")
            errors.append(SheetRowError(row=row, field=headers.get(name, name or "整行"), reason=reason, sheet=label))
        return None


def _record_rows(table: Literal["posts", "seekers"], rows: _Rows, mapping: Mapping,
                 errors: list[RowError]) -> list[Any]:
    columns, plan, defaults = _plan_columns(table, rows, mapping, errors)
    assert plan is not None
    id_field, model_field, model_cls = (("demand_id", "entry", PostIn) if table == "posts"
                                        else ("talent_id", "profile", SeekerIn))
    headers = {c.target: c.header for c in columns if c.target}
    out: list[Any] = []
    for row, cells in rows.rows:
        if "\x00error" in cells:
            errors.append(SheetRowError(row=row, field="整行", reason=str(cells["\x00error"]), sheet=rows.label))
            continue
        values, ok = _fair_values(row, cells, columns, defaults, rows.label, errors)
        record_cells = [(c.header, c.target or "", cells.get(c.header), c.hint)
                        for c in columns if c.kind == "record" and c.target]
        filled = [c for c in record_cells if not is_blank(c[2]) or isinstance(c[2], bool)]
        if values.get(id_field) is None:
            ext_only = filled and all(t == "external_id" for _, t, _, _ in filled)
            if ext_only:
                values["external_id"] = cell_text(filled[0][2])
            elif filled or plan.defaults:
                record, errs = plan.build(row, record_cells)
                for e in errs:
                    if table == "posts" and e.field in ("title", headers.get("title")) and e.reason.startswith("必填"):
                        e.reason = "新建岗位需要岗位名称（或填写需求ID、编号引用已有岗位）"
                    errors.append(SheetRowError(row=e.row, field=e.field, reason=e.reason, value=e.value,
                                                sheet=rows.label))
                if record is None:
                    continue
                values[model_field] = record
            else:
                what = "需求ID" if table == "posts" else "人才ID"
                errors.append(SheetRowError(row=row, field=id_field, sheet=rows.label,
                                            reason=f"该行既没有{what}或编号，也没有新建记录的信息"))
                continue
        if not ok:
            continue
        item = _validated(model_cls, values, row, rows.label, headers, errors)
        if item is not None:
            item._origin = (rows.label, row)
            out.append(item)
    return out


def _simple_rows(table: Literal["wishes", "slots"], rows: _Rows, mapping: Mapping,
                 errors: list[RowError]) -> list[Any]:
    columns, _, defaults = _plan_columns(table, rows, mapping, errors)
    headers = {c.target: c.header for c in columns if c.target}
    out: list[Any] = []
    for row, cells in rows.rows:
        if "\x00error" in cells:
            errors.append(SheetRowError(row=row, field="整行", reason=str(cells["\x00error"]), sheet=rows.label))
            continue
        values, ok = _fair_values(row, cells, columns, defaults, rows.label, errors)
        if not ok:
            continue
        if table == "slots":
            period = values.pop("period", None)
            if period is not None:
                values.setdefault("start", period[0])
                values.setdefault("end", period[1])
            if "start" not in values:
                errors.append(SheetRowError(row=row, field=headers.get("start", "开始时间"), sheet=rows.label,
                                            reason="缺少开始时间（或“时段”，如 09:00-09:20）"))
                continue
            model: type[BaseModel] = SlotIn
        else:
            if "seeker" not in values:
                errors.append(SheetRowError(row=row, field=headers.get("seeker", "求职者"), sheet=rows.label,
                                            reason="缺少求职者"))
                continue
            values = {k: (str(v) if k in ("seeker", "post", "enterprise") else v) for k, v in values.items()}
            model = WishIn
        item = _validated(model, values, row, rows.label, headers, errors)
        if item is not None:
            item._origin = (rows.label, row)
            out.append(item)
    return out


def _fair_settings(rows: _Rows, mapping: Mapping, errors: list[RowError]) -> tuple[dict[str, Any], dict[str, int]]:
    """The fair sheet: two columns (项目 / 值), or one row under headers naming the settings.
    Returns the settings and the row of each."""
    aliases = {header_key(a): f for f, names in FAIR_COLUMNS["fair"].items() for a in (f, *names)}
    for h, t in mapping.columns.items():
        if t:
            aliases[header_key(h)] = t
    known_headers = [h for h in rows.headers if header_key(h) in aliases]
    if len(known_headers) >= 2 and rows.rows:  # table form
        columns, _, defaults = _plan_columns("fair", rows, mapping, errors)
        values, _ = _fair_values(rows.rows[0][0], rows.rows[0][1], columns, defaults, rows.label, errors)
        return values, dict.fromkeys(values, rows.rows[0][0])
    values: dict[str, Any] = {}
    where: dict[str, int] = {}
    hv = rows.header_values + [None, None]
    pairs = [(rows.header_row, {"k": hv[0], "v": hv[1]})]
    pairs += [(n, {"k": cells.get(rows.headers[0]) if rows.headers else None,
                   "v": cells.get(rows.headers[1]) if len(rows.headers) > 1 else None}) for n, cells in rows.rows]
    for n, kv in pairs:
        key = header_key(cell_text(kv.get("k")))
        if not key or key in ("项目", "参数", "设置", "key", "item"):
            continue
        target = aliases.get(key)
        if target is None:
            errors.append(SheetRowError(row=n, field=excerpt(cell_text(kv.get("k"))), sheet=rows.label,
                                        reason="无法识别的活动设置项；可用：" + "、".join(
                                            names[0] for names in FAIR_COLUMNS["fair"].values())))
            continue
        raw = kv.get("v")
        if is_blank(raw):
            continue
        where[target] = n
        try:
            values[target] = _FIELD_PARSERS.get(target, _parse_text)(raw)
        except ValueError as exc:
            errors.append(SheetRowError(row=n, field=excerpt(cell_text(kv.get("k"))), reason=str(exc),
                                        sheet=rows.label, value=excerpt(cell_text(raw))))
    for k, v in mapping.defaults.items():
        values.setdefault(k, v)
    return {k: v for k, v in values.items() if v is not None}, where


def _match_table(name: str) -> Table | None:
    key = header_key(name)
    for table, names in SHEET_NAMES.items():
        if key in {header_key(n) for n in names}:
            return table
    return None


def _sources(source: Path | None, files: dict[str, Path] | None, mapping: FairMapping,
             limits: ReadLimits) -> tuple[dict[Table, _Source], list[str]]:
    """The file (and sheet) of every table, and the names of sheets or files not used."""
    found: dict[Table, _Source] = {}
    unused: list[str] = []
    if source is not None:
        source = Path(source)
        if source.is_dir():
            for p in sorted(source.iterdir()):
                if p.suffix.lower() not in SUPPORTED_EXTENSIONS or p.name.startswith((".", "~$")):
                    continue
                table = _match_table(p.stem)
                if table is None:
                    unused.append(p.name)
                elif table in found:
                    raise InvalidInput(f"文件夹中有两个{TABLE_LABELS[table]}文件：{found[table].path.name}、{p.name}")
                else:
                    found[table] = _Source(p, None, p.name)
        elif source.suffix.lower() in (".xlsx", ".xlsm"):
            for sheet in xlsx_sheet_names(source, limits):
                table = next((t for t in TABLES if mapping.table(t).sheet == sheet), None) or _match_table(sheet)
                if table is None or (mapping.table(table).sheet not in (None, sheet)):
                    unused.append(sheet)
                elif table not in found:
                    found[table] = _Source(source, sheet, sheet)
            for t in TABLES:
                wanted = mapping.table(t).sheet
                if wanted and (t not in found or found[t].sheet != wanted):
                    raise InvalidInput(f"映射文件指定的工作表“{excerpt(wanted, 31)}”不存在")
        elif source.exists():
            raise InvalidInput("单个 CSV/JSONL 文件只能是一张表：请把各表（岗位、求职者、意向、时段）放在一个"
                               "文件夹中，或用 --posts、--seekers 等选项分别指定")
        else:
            raise InvalidInput(f"文件或文件夹不存在：{source}")
    for t, p in (files or {}).items():
        if t not in TABLES:
            raise InvalidInput(f"未知的表：{t}（应为 {'、'.join(TABLES)}）")
        p = Path(p)
        if not p.exists():
            raise InvalidInput(f"文件不存在：{p}")
        sheet = mapping.table(t).sheet if p.suffix.lower() in (".xlsx", ".xlsm") else None  # type: ignore[arg-type]
        found[t] = _Source(p, sheet, p.name if sheet is None else f"{p.name}:{sheet}")  # type: ignore[index]
    missing = [TABLE_LABELS[t] for t in REQUIRED if t not in found]
    if missing:
        names = "、".join(f"“{n}”" for n in missing)
        seen = quoted_names(unused, unit="个") or "无"
        raise InvalidInput(f"缺少{names}表（工作表或文件名应为 {names}，或 posts / seekers）；未识别的：{seen}")
    return found, unused


@dataclass
class FairFile:
    """What a fair file holds, validated row by row (references are resolved on create)."""

    fair: FairCreate
    unused: list[str]


def read_fair(source: Path | None = None, *, files: dict[str, Path] | None = None,
              mapping: FairMapping | None = None, name: str | None = None,
              limits: ReadLimits | None = None) -> FairFile:
    """Read a fair workbook, folder or set of files (``files``: table → path) into a
    ``FairCreate``. Every bad cell of every table is collected; any raises ImportRejected
    (sheet, row, field, reason). File-level problems raise InvalidInput; a file above a reading
    limit (``limits``, default from the settings) raises PayloadTooLarge."""
    mapping = mapping or FairMapping()
    limits = limits or ReadLimits.from_settings()
    sources, unused = _sources(source, files, mapping, limits)
    errors: list[RowError] = []
    tables = {t: _read_rows(src, mapping.table(t), limits) for t, src in sources.items()}
    settings, where = (_fair_settings(tables["fair"], mapping.table("fair"), errors) if "fair" in tables
                       else ({}, {}))
    posts = _record_rows("posts", tables["posts"], mapping.table("posts"), errors)
    seekers = _record_rows("seekers", tables["seekers"], mapping.table("seekers"), errors)
    wishes = _simple_rows("wishes", tables["wishes"], mapping.table("wishes"), errors) if "wishes" in tables else []
    slots = _simple_rows("slots", tables["slots"], mapping.table("slots"), errors) if "slots" in tables else []
    for t in REQUIRED:
        if not tables[t].rows:
            errors.append(SheetRowError(row=tables[t].header_row, field="整表", sheet=tables[t].label,
                                        reason=f"{TABLE_LABELS[t]}表没有数据"))
    if name:
        settings["name"] = name
    if not settings.get("name"):
        base = source if source is not None else next(iter((files or {}).values()))
        settings["name"] = Path(base).stem
    fair = None
    try:
        fair = FairCreate(**settings, posts=posts, seekers=seekers, wishes=wishes, slots=slots)
    except ValidationError as exc:
        label = tables["fair"].label if "fair" in tables else "活动"
        for err in exc.errors():
            loc = err.get("loc") or ()
            fld = str(loc[0]) if loc else "整表"
            names = FAIR_COLUMNS["fair"].get(fld)
            errors.append(SheetRowError(row=where.get(fld, 0), field=names[0] if names else fld, sheet=label,
                                        reason=zh_reason(err)))
    if errors:
        raise ImportRejected(shorten_errors(errors))
    assert fair is not None
    # pydantic keeps the given instances; should it ever copy them, keep the origins
    for target, given in ((fair.posts, posts), (fair.seekers, seekers), (fair.wishes, wishes), (fair.slots, slots)):
        for a, b in zip(target, given, strict=True):
            a._origin = b._origin
    return FairFile(fair, unused)


def import_fair_file(service: MatchService, source: Path | None = None, *, files: dict[str, Path] | None = None,
                     mapping: FairMapping | None = None, name: str | None = None,
                     progress: Progress | None = None, actor: Principal | None = None) -> FairDetail:
    """Read a fair file and create the fair (all or nothing); see ``read_fair`` and
    ``matcher.fair.engine.create_fair``."""
    ff = read_fair(source, files=files, mapping=mapping, name=name,
                   limits=ReadLimits.from_settings(getattr(service, "settings", None)))
    try:
        detail = create_fair(service, ff.fair, progress, actor=actor)
    except ImportRejected as exc:  # references that did not resolve: quote their values short
        shorten_errors(exc.errors)
        raise
    if ff.unused:
        detail.warnings.append("未使用的工作表或文件：" + quoted_names(ff.unused, 10, "个"))
    return detail


# =============================================================================================
# export
# =============================================================================================


def _yes(v: bool) -> str:
    return "是" if v else "否"


ASSIGNMENT_HEADERS: list[tuple[str, Callable[[Any], Any]]] = [
    ("展位", lambda a: a.booth),
    ("开始时间", lambda a: a.start or "未排期"),
    ("结束时间", lambda a: a.end or ""),
    ("求职者ID", lambda a: a.talent_id),
    ("姓名", lambda a: a.seeker_name or ""),
    ("学校", lambda a: a.school or ""),
    ("应届", lambda a: _yes(a.fresh_graduate)),
    ("岗位ID", lambda a: a.demand_id),
    ("岗位", lambda a: a.post_title),
    ("企业", lambda a: a.enterprise or ""),
    ("产业链", lambda a: a.chain_name or a.chain_id or ""),
    ("综合匹配度", lambda a: a.score),
    ("求职方得分", lambda a: a.seeker_score),
    ("用人方得分", lambda a: a.employer_score),
    ("志愿序号", lambda a: a.wish_rank or ""),
    ("企业必面", lambda a: _yes(a.must_see)),
    ("匹配理由", lambda a: a.reason),
    ("未排期原因", lambda a: a.unscheduled_reason or ""),
]
BOOTH_HEADERS = ["展位", "开始时间", "结束时间", "企业", "岗位", "岗位ID", "求职者ID", "姓名", "学校", "综合匹配度"]
SEEKER_HEADERS = ["求职者ID", "姓名", "学校", "应届", "开始时间", "结束时间", "展位", "企业", "岗位", "岗位ID",
                  "综合匹配度", "匹配理由"]


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def summary_rows(result: FairRunResult) -> list[list[Any]]:
    """The 汇总 sheet: metric, value, definition."""
    r = result.report
    mode = "最优（总匹配度最大）" if r.mode == "optimal" else "稳定（延迟接受）"
    d = REPORT_DEFINITIONS
    rows: list[list[Any]] = [
        ["活动", result.fair_name, f"活动编号 {result.fair_id}；匹配结果编号 {result.run_id or '未保存'}"],
        ["模式", mode, d["最优模式"] if r.mode == "optimal" else d["稳定模式"]],
        ["求解器", r.solver, ""],
        ["最低匹配度", r.min_score, d["低于门槛"]],
        ["报名求职者", r.seekers, ""],
        ["岗位", r.posts, ""],
        ["岗位面试名额合计", r.capacity, ""],
        ["展位时段合计", r.booth_slots, ""],
        ["候选组合", r.candidate_pairs, d["候选组合"]],
        ["已评分组合", r.scored_pairs, ""],
        ["不合格组合", r.ineligible_pairs, d["不合格组合"]],
        ["低于门槛的组合", r.below_min_pairs, d["低于门槛"]],
        ["面试场数", r.interviews, ""],
        ["总匹配度", r.total_fit, d["总匹配度"]],
        ["平均匹配度", r.mean_fit, d["平均匹配度"]],
        ["获得面试的求职者", r.seekers_with_interview, ""],
        ["获得面试的求职者占比", _pct(r.seeker_share), d["获得面试的求职者占比"]],
        ["面试名额填充率", _pct(r.capacity_fill), d["面试名额填充率"]],
        ["已排期面试", r.scheduled, ""],
        ["未排期面试", r.unscheduled, "见分配结果表“未排期原因”列"],
        ["展位时段占用率", _pct(r.slot_fill), d["展位时段占用率"]],
        ["阻塞对", r.blocking_pairs, d["阻塞对"]],
        ["最优模式总匹配度", r.optimal_total, f"面试 {r.optimal_interviews} 场，阻塞对 {r.optimal_blocking_pairs} 个"],
        ["稳定模式总匹配度", r.stable_total, f"面试 {r.stable_interviews} 场，阻塞对 {r.stable_blocking_pairs} 个"],
        ["福利差", r.welfare_gap, d["福利差"]],
        ["福利差占比", _pct(r.welfare_gap_share), ""],
        ["企业必面组合", r.must_see_pairs, f"已安排 {r.must_see_met} 个"],
        ["填写志愿的求职者", r.seekers_with_wishes, f"第一志愿获得面试 {r.first_wish_met} 人"],
    ]
    rows += [["提示", w, ""] for w in r.warnings]
    rows += [[f"耗时：{k}", f"{v:.3f} 秒", ""] for k, v in r.timings.items()]
    return rows


def distribution_rows(result: FairRunResult) -> list[list[Any]]:
    r = result.report
    out: list[list[Any]] = []
    for label, groups in (("产业链", r.by_chain), ("学校", r.by_school), ("应届状态", r.by_fresh)):
        for g in groups:
            if label == "产业链":  # a post attribute: registered seekers do not belong to a chain
                out.append([label, g.group, "", g.seekers_with_interview, g.interviews, ""])
            else:
                out.append([label, g.group, g.seekers, g.seekers_with_interview, g.interviews, _pct(g.share)])
    return out


DISTRIBUTION_HEADERS = ["分组方式", "分组", "报名求职者", "获得面试的求职者", "面试场数", "获得面试占比"]


def _sheets(result: FairRunResult) -> list[tuple[str, list[str], list[list[Any]]]]:
    col = dict(ASSIGNMENT_HEADERS)
    by_booth = booth_schedule(result)
    return [
        ("分配结果", [h for h, _ in ASSIGNMENT_HEADERS], [[f(a) for _, f in ASSIGNMENT_HEADERS] for a in by_booth]),
        ("展位日程", BOOTH_HEADERS, [[col[h](a) for h in BOOTH_HEADERS] for a in by_booth]),
        ("求职者日程", SEEKER_HEADERS, [[col[h](a) for h in SEEKER_HEADERS] for a in seeker_schedule(result)]),
        ("汇总", ["指标", "数值", "说明"], summary_rows(result)),
        ("分布统计", DISTRIBUTION_HEADERS, distribution_rows(result)),
    ]


_WIDTHS = {"匹配理由": 60, "未排期原因": 30, "说明": 70, "岗位": 22, "企业": 26, "学校": 20, "数值": 24,
           "指标": 22, "分组": 24}


def _xlsx_bytes(result: FairRunResult) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in _sheets(result):
        ws = wb.create_sheet(title)
        ws.freeze_panes = "A2"
        for i, h in enumerate(headers, start=1):
            ws.column_dimensions[get_column_letter(i)].width = _WIDTHS.get(h, 12)
        # names, schools and titles are typed by users: text cells are never written as formulas
        xlsx_write_rows(ws, [headers], font=bold)
        xlsx_write_rows(ws, rows)
    wb.properties.creator = "talentmatch"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _csv_bytes(headers: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(csv_row(headers))
    w.writerows(csv_row(r) for r in rows)  # risky text gets a leading ' (formula injection)
    return buf.getvalue().encode("utf-8-sig")


def _json_bytes(result: FairRunResult) -> bytes:
    doc = result.model_dump(mode="json")
    doc["definitions"] = REPORT_DEFINITIONS
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


ExportFormat = Literal["xlsx", "csv", "json"]


def export_result(result: FairRunResult, fmt: ExportFormat) -> dict[str, bytes]:
    """The files of a result: file-name suffix → content. XLSX and JSON are one file (suffix
    ""); CSV is one file per sheet: "" for 分配结果, "_展位日程", "_求职者日程", "_汇总", "_分布统计"."""
    if fmt == "xlsx":
        return {"": _xlsx_bytes(result)}
    if fmt == "json":
        return {"": _json_bytes(result)}
    if fmt == "csv":
        return {("" if n == 0 else f"_{title}"): _csv_bytes(headers, rows)
                for n, (title, headers, rows) in enumerate(_sheets(result))}
    raise InvalidInput(f"不支持的导出格式：{fmt}（应为 xlsx、csv 或 json）")


def write_result(result: FairRunResult, out: Path, fmt: ExportFormat | None = None) -> list[Path]:
    """Write a result to ``out`` (format from the suffix unless given); returns the files written.
    CSV writes ``out`` (分配结果) and ``<stem>_展位日程.csv`` etc. beside it."""
    out = Path(out)
    fmt = fmt or out.suffix.lower().lstrip(".")  # type: ignore[assignment]
    if fmt not in ("xlsx", "csv", "json"):
        raise InvalidInput(f"无法从文件名“{out.name}”判断导出格式：请用 .xlsx、.csv 或 .json")
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, data in export_result(result, fmt).items():  # type: ignore[arg-type]
        path = out if not suffix else out.with_name(f"{out.stem}{suffix}{out.suffix}")
        path.write_bytes(data)
        written.append(path)
    return written


# =============================================================================================
# template
# =============================================================================================


MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "csv": "application/zip", "json": "application/json"}


def export_download(result: FairRunResult, fmt: ExportFormat, stem: str) -> tuple[bytes, str, str]:
    """One downloadable file of a result: (content, media type, file name). CSV's several
    files come zipped."""
    import io

    files = export_result(result, fmt)
    if fmt == "csv":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for suffix, data in files.items():
                z.writestr(f"{stem}{suffix}.csv", data)
        return buf.getvalue(), MEDIA_TYPES["csv"], f"{stem}-csv.zip"
    return files[""], MEDIA_TYPES[fmt], f"{stem}.{fmt}"


def template_workbook() -> bytes:
    """An empty fair workbook with the sheets and headers an organiser fills in, and an example row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "活动"
    xlsx_write_rows(ws, (["项目", "值"], ["活动名称", "2026年淄博市数字人才对接活动"], ["日期", "2026-06-18"],
                         ["地点", "淄博市人力资源市场"], ["开始时间", "09:00"], ["每场时长（分钟）", 20],
                         ["每展位时段数", 12], ["每人面试上限", 3], ["每岗位面试名额", 5]))
    sheets = {
        "岗位": (["编号", "需求ID", "企业名称", "岗位名称", "学历要求", "专业要求", "技能", "工作地点", "薪酬待遇",
                 "面试名额", "展位"],
                [["F-P-001", "", "淄博示例科技有限公司", "大数据开发工程师", "本科", "计算机科学与技术", "Python、Spark",
                  "淄博市", "8000-12000元/月", 5, "A01"]]),
        "求职者": (["编号", "人才ID", "姓名", "学历", "专业", "毕业院校", "是否应届", "技能", "现居住地", "面试上限"],
                  [["F-T-001", "", "张三", "本科", "计算机科学与技术", "山东理工大学", "是", "Python、SQL", "淄博市", 3]]),
        "意向": (["求职者", "岗位", "企业", "类型", "顺序"], [["F-T-001", "F-P-001", "", "志愿", 1]]),
        "时段": (["展位", "开始时间", "结束时间"], [["A01", "09:00", "09:20"]]),
    }
    for title, (headers, rows) in sheets.items():
        ws = wb.create_sheet(title)
        xlsx_write_rows(ws, [headers], font=Font(bold=True))
        xlsx_write_rows(ws, rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
