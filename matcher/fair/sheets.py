"""Fair files, the cells: the column plan of each table, cell parsing, and the rows of every table
as a ``FairCreate`` (``read_fair``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from matcher.core.errors import ImportRejected, InvalidInput, RowError
from matcher.core.textnorm import normalize_text
from matcher.domain.fair import (
    FairCreate,
    PostIn,
    SeekerIn,
    SheetRowError,
    SlotIn,
    WishIn,
    parse_clock,
)
from matcher.fair.workbook import (
    FAIR_COLUMNS,
    RECORD_KIND,
    REQUIRED,
    TABLE_LABELS,
    FairMapping,
    Rows,
    Table,
    find_sources,
    read_rows,
    split_mapping,
)
from matcher.ingest.fields import Mapping
from matcher.ingest.headers import (
    NOT_LISTED,
    ExplicitColumns,
    HeaderTable,
    header_key,
    unit_hint,
)
from matcher.ingest.messages import quoted_names, shorten_errors, zh_reason
from matcher.ingest.parsing import cell_text, is_blank, parse_date, parse_int
from matcher.ingest.plan import ColumnPlan
from matcher.ingest.safe_cells import excerpt
from matcher.ingest.table_reader import (
    ReadLimits,
)

_KINDS = {
    "志愿": "seeker", "意向": "seeker", "求职者志愿": "seeker", "求职意向": "seeker", "seeker": "seeker",
    "wish": "seeker",
    "必面": "must_see", "必须面试": "must_see", "企业必面": "must_see", "指定面试": "must_see",
    "must_see": "must_see", "must-see": "must_see",
    "排除": "exclude", "不面试": "exclude", "回避": "exclude", "企业排除": "exclude", "exclude": "exclude",
}


# =============================================================================================
# the column plan of a table
# =============================================================================================


@dataclass
class _Column:
    header: str
    kind: Literal["fair", "record", "ignored", "unknown"]
    target: str | None = None
    hint: str | None = None


def _plan_columns(table: Table, rows: Rows, mapping: Mapping, errors: list[RowError]) -> tuple[list[_Column], ColumnPlan | None, dict[str, Any]]:
    core, fair_cols, fair_defaults = split_mapping(table, mapping)
    plan = ColumnPlan.create(RECORD_KIND[table], core) if core is not None else None  # type: ignore[arg-type]
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


class _Reading:
    """One table being read into fair items: its columns and defaults, the errors, the items."""

    def __init__(self, table: Table, rows: Rows, mapping: Mapping, errors: list[RowError]) -> None:
        self.columns, self.plan, self.defaults = _plan_columns(table, rows, mapping, errors)
        self.rows, self.errors = rows, errors
        self.headers = {c.target: c.header for c in self.columns if c.target}
        self.items: list[Any] = []

    def each(self) -> Iterator[tuple[int, dict[str, object], dict[str, Any], bool]]:
        """(row, cells, parsed fair columns, whether they all parsed) of every row; a line that
        was not a JSON object is reported instead."""
        for row, cells in self.rows.rows:
            if "\x00error" in cells:
                self.error(row, "整行", str(cells["\x00error"]))
                continue
            values, ok = _fair_values(row, cells, self.columns, self.defaults, self.rows.label, self.errors)
            yield row, cells, values, ok

    def error(self, row: int, fld: str, reason: str, value: str | None = None) -> None:
        self.errors.append(SheetRowError(row=row, field=fld, reason=reason, value=value, sheet=self.rows.label))

    def keep(self, model: type[BaseModel], values: dict[str, Any], row: int) -> None:
        """The row's item, when it validates (else its errors are reported)."""
        item = _validated(model, values, row, self.rows.label, self.headers, self.errors)
        if item is not None:
            item._origin = (self.rows.label, row)
            self.items.append(item)


def _record_rows(table: Literal["posts", "seekers"], rows: Rows, mapping: Mapping,
                 errors: list[RowError]) -> list[Any]:
    t = _Reading(table, rows, mapping, errors)
    id_field, model_cls = ("demand_id", PostIn) if table == "posts" else ("talent_id", SeekerIn)
    for row, cells, values, ok in t.each():
        if values.get(id_field) is None and not _record_of(t, table, row, cells, values):
            continue
        if ok:
            t.keep(model_cls, values, row)
    return t.items


def _record_of(t: _Reading, table: Literal["posts", "seekers"], row: int, cells: dict[str, object],
               values: dict[str, Any]) -> bool:
    """A row without a stored id: its external id alone, or a new record built from its record
    columns, put in ``values``; False when the row is left out (its errors reported)."""
    assert t.plan is not None
    record_cells = [(c.header, c.target or "", cells.get(c.header), c.hint)
                    for c in t.columns if c.kind == "record" and c.target]
    filled = [c for c in record_cells if not is_blank(c[2]) or isinstance(c[2], bool)]
    if filled and all(target == "external_id" for _, target, _, _ in filled):
        values["external_id"] = cell_text(filled[0][2])
        return True
    if filled or t.plan.defaults:
        record, errs = t.plan.build(row, record_cells)
        for e in errs:
            if table == "posts" and e.field in ("title", t.headers.get("title")) and e.reason.startswith("必填"):
                e.reason = "新建岗位需要岗位名称（或填写需求ID、编号引用已有岗位）"
            t.error(e.row, e.field, e.reason, e.value)
        if record is None:
            return False
        values["entry" if table == "posts" else "profile"] = record
        return True
    what = "需求ID" if table == "posts" else "人才ID"
    t.error(row, "demand_id" if table == "posts" else "talent_id", f"该行既没有{what}或编号，也没有新建记录的信息")
    return False


def _simple_rows(table: Literal["wishes", "slots"], rows: Rows, mapping: Mapping,
                 errors: list[RowError]) -> list[Any]:
    t = _Reading(table, rows, mapping, errors)
    for row, _cells, values, ok in t.each():
        if not ok:
            continue
        if table == "slots":
            if _slot_times(t, row, values):
                t.keep(SlotIn, values, row)
        elif "seeker" not in values:
            t.error(row, t.headers.get("seeker", "求职者"), "缺少求职者")
        else:
            t.keep(WishIn, {k: (str(v) if k in ("seeker", "post", "enterprise") else v) for k, v in values.items()},
                   row)
    return t.items


def _slot_times(t: _Reading, row: int, values: dict[str, Any]) -> bool:
    """Start and end from a 时段 column when given; False (reported) without a start."""
    period = values.pop("period", None)
    if period is not None:
        values.setdefault("start", period[0])
        values.setdefault("end", period[1])
    if "start" not in values:
        t.error(row, t.headers.get("start", "开始时间"), "缺少开始时间（或“时段”，如 09:00-09:20）")
        return False
    return True


def _fair_settings(rows: Rows, mapping: Mapping, errors: list[RowError]) -> tuple[dict[str, Any], dict[str, int]]:
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



@dataclass
class FairFile:
    """What a fair file holds, validated row by row (references are resolved on create)."""

    fair: FairCreate
    unused: list[str]


def _partial(settings: dict[str, Any], posts: list, seekers: list, wishes: list, slots: list) -> FairCreate | None:
    try:
        return FairCreate(**{k: v for k, v in settings.items() if k == "name"}, posts=posts, seekers=seekers,
                          wishes=wishes, slots=slots)
    except ValidationError:
        return None


def read_fair(source: Path | None = None, *, files: dict[str, Path] | None = None,
              mapping: FairMapping | None = None, name: str | None = None,
              limits: ReadLimits | None = None) -> FairFile:
    """Read a fair workbook, folder or set of files (``files``: table → path) into a
    ``FairCreate``. Every bad cell of every table is collected; any raises ImportRejected
    (sheet, row, field, reason). File-level problems raise InvalidInput; a file above a reading
    limit (``limits``, default from the settings) raises PayloadTooLarge."""
    mapping = mapping or FairMapping()
    limits = limits or ReadLimits.from_settings()
    sources, unused = find_sources(source, files, mapping, limits)
    errors: list[RowError] = []
    tables = {t: read_rows(src, mapping.table(t), limits) for t, src in sources.items()}
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
        rejected = ImportRejected(shorten_errors(errors))
        # the rows that did parse, so that the caller can check their references too and list
        # every problem of every sheet at once
        rejected.partial = fair or _partial(settings, posts, seekers, wishes, slots)  # type: ignore[attr-defined]
        raise rejected
    assert fair is not None
    # pydantic keeps the given instances; should it ever copy them, keep the origins
    for target, given in ((fair.posts, posts), (fair.seekers, seekers), (fair.wishes, wishes), (fair.slots, slots)):
        for a, b in zip(target, given, strict=True):
            a._origin = b._origin
    return FairFile(fair, unused)

