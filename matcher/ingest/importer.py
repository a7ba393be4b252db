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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from matcher.core.errors import ImportRejected, InvalidInput, RowError
from matcher.ingest.fields import (
    BUILTIN_HEADERS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    MODELS,
    SUPPORTED_EXTENSIONS,
    SUPPORTED_TEXT,
    ImportKind,
    Mapping,
    Record,
    load_mapping,
    real_fields,
    target_fields,
)
from matcher.ingest.headers import find_header, unit_hint
from matcher.ingest.messages import quoted_names, shorten_errors, shown
from matcher.ingest.parsing import (
    cell_text,
    is_blank,
)
from matcher.ingest.plan import Column, ColumnPlan
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
    warnings: list[str] = field(default_factory=list)  # what was read with a guess, for the user

    @property
    def ok(self) -> bool:
        """Whether the file had no error at all."""
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise ImportRejected with every error when there is any."""
        if self.errors:
            raise ImportRejected(errors=list(self.errors))


# ---------------------------------------------------------------------------------------------
# tables: CSV and XLSX
# ---------------------------------------------------------------------------------------------


def _cell_blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _read_table(
    rows: Iterator[tuple[int, list[object]]], plan: ColumnPlan, max_rows: int
) -> ImportResult:
    result = ImportResult()
    header, rest = find_header(rows, plan.mapping.header_row, _cell_blank)
    if header is None:
        return result  # an empty file: nothing to import
    header_row, header_values = header
    result.header_row = header_row
    columns = _columns(header_values, plan)
    result.columns = {c.header: c.target for c in columns if c.status == "mapped" and c.target}
    result.ignored = [c.header for c in columns if c.status == "ignored"]
    seen = _check_header(columns, header_row, result.errors)
    missing_required = _missing_required(plan, seen, header_row, result.errors)
    _read_data(chain(rest, rows), columns, plan, missing_required, max_rows, result)
    return result


def _columns(header_values: list[object], plan: ColumnPlan) -> list[Column]:
    """What every header cell becomes."""
    columns: list[Column] = []
    for index, raw in enumerate(header_values):
        text = cell_text(raw)
        if not text:
            columns.append(Column(index, f"第 {index + 1} 列", None, "blank"))
            continue
        status, target = plan.resolve(text)
        hint = unit_hint(text) if target in ("salary", "salary_min", "salary_max") else None
        columns.append(Column(index, text, target, status, hint))
    return columns


def _check_header(columns: list[Column], header_row: int, errors: list[RowError]) -> dict[str, str]:
    """Report unknown headers and two headers for one field; returns the header of every field."""
    unknown = [c.header for c in columns if c.status == "unknown"]
    if unknown:
        errors.append(
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
        for real in real_fields(c.target):
            if real in seen:
                errors.append(
                    RowError(
                        row=header_row,
                        field=c.header,
                        reason=f"与列“{excerpt(seen[real])}”对应同一字段 {real}",
                    )
                )
            else:
                seen[real] = c.header
    return seen


def _missing_required(plan: ColumnPlan, seen: dict[str, str], header_row: int,
                      errors: list[RowError]) -> frozenset[str]:
    """Required fields with neither a column nor a default, each reported once (not per row)."""
    model = MODELS[plan.kind]
    missing_required = frozenset(
        name
        for name, info in model.model_fields.items()
        if info.is_required() and name not in seen and name not in plan.defaults
    )
    for name in sorted(missing_required):
        label = next((h for h in BUILTIN_HEADERS.get(name, ())), name)
        errors.append(
            RowError(row=header_row, field=name, reason=f"缺少必填列：{label}（{name}）")
        )
    return missing_required


# Columns a spreadsheet often merges down a group of rows ("same as above"): a blank cell there
# takes the value of the row above, with a warning; "同上" written in any cell does the same.
_REPEATED_FIELDS = frozenset({"enterprise_name", "enterprise_id", "chain_id", "city"})
_SAME_AS_ABOVE = frozenset({"同上", "〃", "\"", "同左上", "同前"})
# a note below the table: "备注：薪酬为税前", "说明：1. …", "注：…", "数据来源：…"
_NOTE = re.compile(r"^\s*(备注|说明|注|填表说明|数据来源|资料来源|附注)\s*[:：\d.、]")


def _is_note(values: list[object]) -> bool:
    """Whether a row is one note written in a single cell."""
    filled = [v for v in values if not _cell_blank(v)]
    return len(filled) == 1 and isinstance(filled[0], str) and bool(_NOTE.match(filled[0]))


def _read_data(rows: Iterable[tuple[int, list[object]]], columns: list[Column], plan: ColumnPlan,
               missing_required: frozenset[str], max_rows: int, result: ImportResult) -> None:
    """Build a record from every non-blank data row; notes below the table are left out with a
    warning, blank "same as above" cells are filled from the row above with a warning."""
    filler = _SameAsAbove(columns) if plan.kind != "talents" else None
    notes: list[tuple[int, list[object]]] = []
    reported_blank: set[int] = set()  # columns without a header already reported
    for number, values in rows:
        if all(_cell_blank(v) for v in values):
            continue
        if _is_note(values):
            notes.append((number, values))  # a note only when no data row follows it
            continue
        for note in notes:
            _read_row(*note, columns, plan, missing_required, max_rows, result, filler, reported_blank)
        notes = []
        _read_row(number, values, columns, plan, missing_required, max_rows, result, filler, reported_blank)
    for number, values in notes:
        text = next(cell_text(v) for v in values if not _cell_blank(v))
        result.warnings.append(f"第 {number} 行是表格下方的说明，未作为条目导入：{excerpt(text, 40)}")
    if filler is not None and filler.filled:
        result.warnings.append(filler.message())


class _SameAsAbove:
    """Fills blank or "同上" cells of the repeated columns from the row above, remembering where."""

    def __init__(self, columns: list[Column]) -> None:
        self.columns = [c for c in columns if c.status == "mapped" and c.target in _REPEATED_FIELDS]
        self.last: dict[int, object] = {}
        self.filled: dict[str, list[int]] = {}  # header -> rows filled

    def fill(self, number: int, values: list[object]) -> list[object]:
        if not self.columns:
            return values
        values = list(values)
        for c in self.columns:
            value = values[c.index] if c.index < len(values) else None
            same = isinstance(value, str) and value.strip() in _SAME_AS_ABOVE
            if (_cell_blank(value) or same) and c.index in self.last:
                while len(values) <= c.index:
                    values.append(None)
                values[c.index] = self.last[c.index]
                self.filled.setdefault(c.header, []).append(number)
            elif not _cell_blank(value) and not same:
                self.last[c.index] = value
        return values

    def message(self) -> str:
        parts = [f"“{excerpt(h, 20)}”第 {_row_list(rows)} 行" for h, rows in self.filled.items()]
        return "以下空白单元格按“同上”用上一行的值填充，请核对：" + "；".join(parts)


def _row_list(rows: list[int]) -> str:
    """Row numbers as ranges: 3-5、9."""
    spans: list[list[int]] = []
    for r in rows:
        if spans and r == spans[-1][1] + 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    text = "、".join(f"{a}-{b}" if a != b else str(a) for a, b in spans[:20])
    return text + (f" 等 {len(rows)} 行" if len(spans) > 20 else "")


def _read_row(number: int, values: list[object], columns: list[Column], plan: ColumnPlan,
              missing_required: frozenset[str], max_rows: int, result: ImportResult,
              filler: _SameAsAbove | None, reported_blank: set[int]) -> None:
    result.total_rows += 1
    if result.total_rows > max_rows:
        raise PayloadTooLarge(f"文件行数超过上限（最多 {max_rows} 行），请拆分后再导入")
    width = len(columns)
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
                        value=shown(values[index]),
                    )
                )
    if filler is not None:
        values = filler.fill(number, values)
    cells = [
        (
            c.header,
            c.target or "",
            values[c.index] if c.index < len(values) else None,
            c.unit_hint,
        )
        for c in columns
        if c.status == "mapped" and c.target
    ]
    record, errors = plan.build(number, cells, missing_required)
    if errors:
        result.errors.extend(errors)
    elif record is not None:
        result.records.append((number, record))


# ---------------------------------------------------------------------------------------------
# JSON Lines
# ---------------------------------------------------------------------------------------------

_JSON_MESSAGES = {
    "Expecting value": "缺少值",
    "Expecting property name enclosed in double quotes": "键名应使用双引号",
    "Expecting ',' delimiter": "缺少逗号",
    "Expecting ':' delimiter": "缺少冒号",
    "Unterminated string starting at": "字符串没有结束",
    "Extra data": "多余的内容",
    "Invalid control character at": "含有非法控制字符",
}


def _read_jsonl(data: bytes, plan: ColumnPlan, max_rows: int, limits: ReadLimits) -> ImportResult:
    result = ImportResult()
    keys = _JsonKeys(plan, result.errors)
    for number, line in jsonl_lines(data, limits):
        result.total_rows += 1
        if result.total_rows > max_rows:
            raise PayloadTooLarge(f"文件行数超过上限（最多 {max_rows} 行），请拆分后再导入")
        obj = _json_object(number, line, result.errors)
        if obj is None:
            continue
        check_record(obj, number, limits)
        cells, row_errors = keys.cells(number, obj)
        record, errors = plan.build(number, cells)
        result.errors.extend(row_errors + errors)
        if record is not None and not row_errors:
            result.records.append((number, record))
    result.columns = keys.columns
    result.ignored = keys.ignored
    return result


def _json_object(number: int, line: str, errors: list[RowError]) -> dict[str, object] | None:
    """The object of a line, or None with the error reported."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        reason = _JSON_MESSAGES.get(exc.msg, exc.msg)
        errors.append(
            RowError(
                row=number,
                field="整行",
                reason=f"JSON 格式错误：{reason}（第 {exc.colno} 列）",
                value=shown(line),
            )
        )
        return None
    if not isinstance(obj, dict):
        errors.append(
            RowError(
                row=number, field="整行", reason="每行应为一个 JSON 对象", value=shown(line)
            )
        )
        return None
    return obj


class _JsonKeys:
    """What the keys of a JSON Lines file become, learnt line by line: an unknown key is
    reported once (in ``errors``), ignored keys and the mapped columns are collected."""

    def __init__(self, plan: ColumnPlan, errors: list[RowError]) -> None:
        self.plan = plan
        self.errors = errors
        self.unknown_seen: set[str] = set()
        self.columns: dict[str, str] = {}
        self.ignored: list[str] = []

    def cells(self, number: int, obj: dict[str, object]) -> tuple[list[tuple[str, str, object, str | None]],
                                                                  list[RowError]]:
        """The cells (key, target, value, no unit hint) of a line, and the keys naming one field twice."""
        cells: list[tuple[str, str, object, str | None]] = []
        seen: dict[str, str] = {}
        row_errors: list[RowError] = []
        for key, raw in obj.items():
            status, target = self.plan.resolve(str(key))
            if status == "unknown":
                if key not in self.unknown_seen:
                    self.unknown_seen.add(key)
                    self.errors.append(
                        RowError(
                            row=number,
                            field=excerpt(str(key)),
                            reason="无法识别的字段；请在映射文件中对应到字段，或列入 ignore",
                        )
                    )
                continue
            if status == "ignored" or not target:
                if key not in self.ignored:
                    self.ignored.append(key)
                continue
            self.columns.setdefault(str(key), target)
            for real in real_fields(target):
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
        return cells, row_errors


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
    if kind not in MODELS:
        raise InvalidInput(f"未知的导入类型：{kind}（应为 talents、demands 或 catalogue）")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        hint = "；.xls 请另存为 .xlsx" if suffix == ".xls" else ""
        shown = excerpt(suffix or path.name, 20)
        raise InvalidInput(f"不支持的文件格式“{shown}”，支持 {SUPPORTED_TEXT}{hint}")
    limits = (limits or ReadLimits.from_settings()).but(file_bytes=max_bytes, rows=max_rows)
    check_file_size(path, limits)
    plan = ColumnPlan.create(kind, mapping or Mapping())
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


