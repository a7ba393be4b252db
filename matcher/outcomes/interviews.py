"""A fair's interview results (面试结果, 是否录用) from a CSV or XLSX file, as outcome events.

One row per interview: the talent's and the entry's ids (人才ID, 需求ID, as in the fair's result
file), 面试结果 (已面试 / 通过 / 未通过 / 待定 …: ``interviewed``; 未到场 / 缺席: ``no_show``;
已发录用通知: ``offered``) and 是否录用 (是 / 否; 是: ``hired``). Headers are matched by the
import's header matcher (notes in brackets, spaces and marks ignored), the file is read by the
bounded reader. All or nothing: every bad row is listed at once (``ImportRejected``) and nothing
is stored; a good file is stored in one transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher.core.errors import ImportRejected, InvalidInput, RowError
from matcher.domain.auth import Principal
from matcher.ingest.headers import HeaderTable, find_header
from matcher.ingest.parsing.cells import cell_text, is_blank
from matcher.ingest.safe_cells import excerpt
from matcher.ingest.table_reader import (
    ReadLimits,
    check_file_size,
    csv_rows,
    read_limited,
    xlsx_rows,
)
from matcher.storage.outcomes_repo import NewEvent

HEADERS = HeaderTable({
    "talent_id": ("人才ID", "人才编号", "求职者ID", "求职者编号", "talent_id"),
    "demand_id": ("需求ID", "需求编号", "岗位ID", "岗位编号", "需求条目ID", "demand_id"),
    "result": ("面试结果", "面试情况", "面试状态", "result"),
    "hired": ("是否录用", "录用", "录用结果", "是否聘用", "hired"),
    "fair_id": ("招聘会ID", "活动ID", "招聘会编号", "fair_id"),
})
LABELS = {"talent_id": "人才ID", "demand_id": "需求ID", "result": "面试结果", "hired": "是否录用", "fair_id": "招聘会ID"}
NO_SHOW = {"未到场", "缺席", "未参加", "爽约", "未到", "放弃面试", "no_show", "noshow"}
OFFERED = {"已发录用通知", "已发offer", "发放offer", "录用通知", "offered"}
INTERVIEWED = {"已面试", "面试", "通过", "未通过", "面试通过", "面试未通过", "合格", "不合格", "待定", "待复试",
               "复试", "interviewed", "pass", "fail"}
YES = {"是", "已录用", "录用", "y", "yes", "true", "1", "√", "✓"}
NO = {"否", "未录用", "不录用", "n", "no", "false", "0", "×", "✗"}


@dataclass
class InterviewFile:
    events: list[NewEvent]
    rows: int
    columns: dict[str, str]  # field -> the file's header
    errors: list[RowError]
    ids: list[tuple[int, str, int]]  # (row, field, id) of every well-formed id


def _blank(v: object) -> bool:
    return is_blank(v) and not isinstance(v, bool)


def _rows(path: Path, sheet: str | None, limits: ReadLimits) -> Any:
    suffix = path.suffix.lower()
    check_file_size(path, limits)
    if suffix == ".csv":
        return csv_rows(read_limited(path, limits), limits, path.name)
    if suffix in (".xlsx", ".xlsm"):
        return xlsx_rows(path, sheet, False, limits, path.name)
    raise InvalidInput(f"不支持的文件格式“{excerpt(suffix or path.name, 20)}”，面试结果请用 CSV 或 XLSX")


def _id(value: object, label: str, n: int, errors: list[RowError]) -> int | None:
    text = cell_text(value).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 2_147_483_647:
        errors.append(RowError(n, label, "应为正整数编号" if text else "必填，不能为空", excerpt(text, 40) or None))
        return None
    return int(text)


def read_interviews(path: Path, *, fair_id: int | None = None, sheet: str | None = None,
                    limits: ReadLimits | None = None, source: str = "fair") -> InterviewFile:
    """The events of an interview-results file and its row errors (ids not yet checked
    against the store)."""
    limits = limits or ReadLimits()
    raw = _rows(Path(path), sheet, limits)
    header, rest = find_header(raw, None, _blank, f"{Path(path).name}：")
    if header is None:
        raise InvalidInput("文件为空：需要表头（人才ID、需求ID、面试结果、是否录用）和数据行")
    _, values = header
    col: dict[str, int] = {}
    columns: dict[str, str] = {}
    for i, v in enumerate(values):
        name = cell_text(v)
        target = HEADERS.field_of(name) if name else None
        if target and target not in col:
            col[target], columns[target] = i, name
    missing = [LABELS[f] for f in ("talent_id", "demand_id") if f not in col]
    if "result" not in col and "hired" not in col:
        missing.append("面试结果或是否录用")
    if missing:
        raise InvalidInput(f"缺少必需的列：{'、'.join(missing)}（表头：{'、'.join(excerpt(cell_text(v), 20) for v in values)}）")
    events: list[NewEvent] = []
    errors: list[RowError] = []
    ids: list[tuple[int, str, int]] = []
    count = 0
    for n, vals in [*rest, *raw]:
        if all(_blank(v) for v in vals):
            continue
        count += 1

        def cell(f: str, vals: list[object] = vals) -> object:
            return vals[col[f]] if f in col and col[f] < len(vals) else None

        tid = _id(cell("talent_id"), columns["talent_id"], n, errors)
        did = _id(cell("demand_id"), columns["demand_id"], n, errors)
        ids += [(n, f, v) for f, v in (("talent_id", tid), ("demand_id", did)) if v is not None]
        row_fair = fair_id
        if not _blank(cell("fair_id")):
            row_fair = _id(cell("fair_id"), columns["fair_id"], n, errors)
        result = cell_text(cell("result")).strip()
        hired_text = cell_text(cell("hired")).strip()
        kinds: list[str] = []
        key = result.lower().replace(" ", "")
        if result:
            if key in NO_SHOW:
                kinds.append("no_show")
            elif key in OFFERED:
                kinds += ["interviewed", "offered"]
            elif key in INTERVIEWED:
                kinds.append("interviewed")
            else:
                errors.append(RowError(n, columns["result"], "无法识别的面试结果（可填：已面试、通过、未通过、待定、"
                                       "未到场、已发录用通知）", excerpt(result, 40)))
        hired = None
        if hired_text:
            if hired_text.lower() in YES:
                hired = True
            elif hired_text.lower() in NO:
                hired = False
            else:
                errors.append(RowError(n, columns["hired"], "应为“是”或“否”", excerpt(hired_text, 40)))
        if hired and "no_show" in kinds:
            errors.append(RowError(n, columns["hired"], "面试结果为未到场，不能同时为已录用", hired_text))
        if not result and not hired_text:
            errors.append(RowError(n, columns.get("result") or columns["hired"], "面试结果与是否录用不能都为空"))
        if hired:
            kinds = [*(kinds or ["interviewed"]), "hired"]
        if tid is None or did is None:
            continue
        detail = {k: v for k, v in (("fair_id", row_fair), ("row", n), ("file", excerpt(Path(path).name, 100)),
                                    ("result", excerpt(result, 40) or None)) if v is not None}
        events += [NewEvent(tid, did, k, source, detail=detail) for k in kinds]
    if count > limits.rows:
        raise InvalidInput(f"行数超过上限（最多 {limits.rows} 行）")
    return InterviewFile(events, count, columns, errors, ids)


def import_interviews(svc: Any, path: Path, *, actor: Principal | None = None, fair_id: int | None = None,
                      sheet: str | None = None) -> dict[str, Any]:
    """Read, check every id against the store (unknown ones are row errors) and store all the
    events in one transaction; returns counts by kind."""
    from collections import Counter

    parsed = read_interviews(path, fair_id=fair_id, sheet=sheet, limits=ReadLimits.from_settings(svc.settings))
    known = {f: svc.get_many(f[:-3], sorted({v for _, g, v in parsed.ids if g == f})) for f in ("talent_id", "demand_id")}
    errors = list(parsed.errors)
    for row, field, value in parsed.ids:
        if value not in known[field]:
            label = "人才档案" if field == "talent_id" else "需求条目"
            errors.append(RowError(row, parsed.columns[field], f"{label}不存在", str(value)))
    if errors:  # every bad row at once, nothing stored
        raise ImportRejected(sorted(errors, key=lambda x: x.row))
    stored = svc.record_outcomes(parsed.events, actor)
    return {"rows": parsed.rows, "events": len(stored), "by_kind": dict(Counter(e["kind"] for e in stored))}
