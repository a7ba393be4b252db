"""Fair files, the tables: their names, the per-table mapping, where each table comes from (a
workbook's sheets, a folder's files) and its raw rows under their headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from matcher.core.errors import InvalidInput
from matcher.ingest.fields import SUPPORTED_EXTENSIONS, Mapping, read_mapping_json
from matcher.ingest.headers import (
    find_header,
    header_key,
)
from matcher.ingest.messages import quoted_names
from matcher.ingest.parsing import cell_text, is_blank
from matcher.ingest.plan import ColumnPlan
from matcher.ingest.safe_cells import excerpt
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
RECORD_KIND = {"posts": "demands", "seekers": "talents"}


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


def split_mapping(table: Table, mapping: Mapping) -> tuple[Mapping | None, dict[str, str | None], dict[str, Any]]:
    """(core mapping for the record columns, fair column targets by header, fair defaults)."""
    fair_fields = _fair_targets(table)
    fair_cols = {h: t for h, t in mapping.columns.items() if t is not None and t.strip() in fair_fields}
    fair_defaults = {k: v for k, v in mapping.defaults.items() if k.strip() in fair_fields}
    if table not in RECORD_KIND:
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
            core, _, _ = split_mapping(table, m)
            if core is not None:
                ColumnPlan.create(RECORD_KIND[table], core)  # type: ignore[arg-type]  # validates targets
    return mapping


# =============================================================================================
# reading tables
# =============================================================================================


@dataclass
class Source:
    """Where a table comes from: a file, and a sheet of it for workbooks."""

    path: Path
    sheet: str | None
    label: str  # shown in errors: the sheet name or the file name


@dataclass
class Rows:
    """A table as header-keyed rows."""

    label: str
    header_row: int
    headers: list[str]
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)
    header_values: list[object] = field(default_factory=list)  # the header row's raw cells
    first_seen: dict[str, int] = field(default_factory=dict)  # JSONL: line where a key appeared


def _cell_blank(v: object) -> bool:
    return is_blank(v) and not isinstance(v, bool)


def read_rows(src: Source, mapping: Mapping, limits: ReadLimits) -> Rows:
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
    header, rest = find_header(raw, mapping.header_row, _cell_blank, f"{src.label}：")
    if header is None:
        return Rows(src.label, 1, [])
    number, values = header
    headers = [cell_text(v) or f"第 {i + 1} 列" for i, v in enumerate(values)]
    table = Rows(src.label, number, headers, header_values=list(values))
    count = 0
    for n, vals in [*rest, *raw]:  # read whole first: the reader's own limits speak before the count below
        if all(_cell_blank(v) for v in vals):
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


def _read_jsonl(src: Source, limits: ReadLimits) -> Rows:
    table = Rows(src.label, 1, [])
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



def _match_table(name: str) -> Table | None:
    key = header_key(name)
    for table, names in SHEET_NAMES.items():
        if key in {header_key(n) for n in names}:
            return table
    return None


def find_sources(source: Path | None, files: dict[str, Path] | None, mapping: FairMapping,
             limits: ReadLimits) -> tuple[dict[Table, Source], list[str]]:
    """The file (and sheet) of every table, and the names of sheets or files not used."""
    found: dict[Table, Source] = {}
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
                    found[table] = Source(p, None, p.name)
        elif source.suffix.lower() in (".xlsx", ".xlsm"):
            for sheet in xlsx_sheet_names(source, limits):
                table = next((t for t in TABLES if mapping.table(t).sheet == sheet), None) or _match_table(sheet)
                if table is None or (mapping.table(table).sheet not in (None, sheet)):
                    unused.append(sheet)
                elif table not in found:
                    found[table] = Source(source, sheet, sheet)
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
        found[t] = Source(p, sheet, p.name if sheet is None else f"{p.name}:{sheet}")  # type: ignore[index]
    missing = [TABLE_LABELS[t] for t in REQUIRED if t not in found]
    if missing:
        names = "、".join(f"“{n}”" for n in missing)
        seen = quoted_names(unused, unit="个") or "无"
        raise InvalidInput(f"缺少{names}表（工作表或文件名应为 {names}，或 posts / seekers）；未识别的：{seen}")
    return found, unused

