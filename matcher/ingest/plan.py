"""The column plan of one file: which header becomes which field, and how a row becomes a model."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from matcher.core.errors import InvalidInput, RowError
from matcher.ingest.fields import (
    ALIASES,
    BUILTIN_HEADERS,
    BUILTIN_IGNORED,
    MODELS,
    VIRTUAL,
    ImportKind,
    Mapping,
    Record,
    check_mapping,
    model_fields,
    real_fields,
    resolve_target,
)
from matcher.ingest.headers import NOT_LISTED, ExplicitColumns, HeaderTable, header_key  # noqa: F401
from matcher.ingest.messages import shown, zh_reason
from matcher.ingest.parsing import (
    is_blank,
    parse_salary,
)
from matcher.ingest.parsing.requirements import education_in_text, years_in_text
from matcher.ingest.values import parser_for, with_unit_hint

# ---------------------------------------------------------------------------------------------
# the column plan and row building
# ---------------------------------------------------------------------------------------------


BUILTIN = {kind: HeaderTable(BUILTIN_HEADERS, BUILTIN_IGNORED[kind]) for kind in BUILTIN_IGNORED}


@dataclass
class Column:
    """One source column: its header and what it becomes."""

    index: int
    header: str
    target: str | None  # a field or virtual field; None when ignored, unknown or blank
    status: Literal["mapped", "ignored", "unknown", "blank"]
    unit_hint: str | None = None


@dataclass
class ColumnPlan:
    """How headers map to fields for one file, and the problems found in the header."""

    kind: ImportKind
    mapping: Mapping
    defaults: dict[str, Any]
    explicit: ExplicitColumns = field(default_factory=lambda: ExplicitColumns({}))
    _resolved: dict[str, tuple[Literal["mapped", "ignored", "unknown"], str | None]] = field(
        default_factory=dict, repr=False, compare=False)  # header -> what it becomes (a file repeats its keys)

    @classmethod
    def create(cls, kind: ImportKind, mapping: Mapping) -> ColumnPlan:
        check_mapping(mapping, kind)
        defaults: dict[str, Any] = {}
        for name, raw in mapping.defaults.items():
            target = resolve_target(name, kind)
            assert target is not None
            try:
                parsed = parser_for(target, kind)(raw) if target not in VIRTUAL else parse_salary(raw)
            except ValueError as exc:
                raise InvalidInput(f"映射文件中字段 {name} 的默认值无效：{exc}") from None
            if target in VIRTUAL:
                for real, value in zip(VIRTUAL[target], parsed, strict=True):
                    if value is not None:
                        defaults[real] = value
            elif parsed is not None:
                defaults[target] = parsed
        return cls(kind=kind, mapping=mapping, defaults=defaults,
                   explicit=ExplicitColumns(mapping.columns, mapping.ignore))

    def resolve(self, header: str) -> tuple[Literal["mapped", "ignored", "unknown"], str | None]:
        """What a header (or JSON key) becomes for this file."""
        got = self._resolved.get(header)
        if got is None:
            got = self._resolved[header] = self._resolve(header)
        return got

    def _resolve(self, header: str) -> tuple[Literal["mapped", "ignored", "unknown"], str | None]:
        stripped = header.strip()
        explicit = self.explicit.target(header)
        if explicit is not NOT_LISTED:
            if not explicit:
                return "ignored", None
            return "mapped", resolve_target(str(explicit), self.kind)
        if self.explicit.ignores(header):
            return "ignored", None
        for name in (stripped, stripped.lower()):
            if name in model_fields(self.kind) or name in VIRTUAL or name in ALIASES[self.kind]:
                return "mapped", resolve_target(name, self.kind)
        builtin = BUILTIN[self.kind].field_of(header)
        if builtin is not None:
            target = resolve_target(builtin, self.kind)
            if target is not None:
                return "mapped", target
        if BUILTIN[self.kind].ignores(header):
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
        parsed = _ParsedRow(row)
        for header, target, raw, hint in cells:
            parsed.add(header, target, raw, hint, self.kind)
        values, origin, errors = parsed.values, parsed.origin, parsed.errors
        for name, value in self.defaults.items():
            if name not in values and name not in parsed.failed and name not in origin:
                values[name] = value
        if self.kind != "talents":
            _requirements_from_text(values, parsed.failed)
        if self.kind == "catalogue":
            if values.get("source", "catalogue") != "catalogue":
                header = origin.get("source", ("source", None))[0]
                errors.append(
                    RowError(
                        row=row,
                        field=header,
                        reason="目录导入的来源只能是“目录”（catalogue）",
                        value=shown(origin.get("source", (None, None))[1]),
                    )
                )
            values["source"] = "catalogue"
        try:
            record = MODELS[self.kind].model_validate(values)
        except ValidationError as exc:
            errors += parsed.validation_errors(exc, suppress_missing)
            return None, errors
        return (None, errors) if errors else (record, errors)


def _requirements_from_text(values: dict[str, Any], failed: set[str]) -> None:
    """Experience and education read from an entry's 岗位职责/任职要求 text ("3年以上经验",
    "本科及以上学历") when no cell gives them."""
    text = values.get("description")
    if not isinstance(text, str) or not text:
        return
    if "min_experience_years" not in values and "min_experience_years" not in failed:
        years = years_in_text(text)
        if years is not None:
            values["min_experience_years"] = years
    if "education" not in values and "education" not in failed:
        education = education_in_text(text)
        if education is not None:
            values["education"] = education


class _ParsedRow:
    """The parsed values of one row, where each came from, and the cells that failed."""

    def __init__(self, row: int) -> None:
        self.row = row
        self.errors: list[RowError] = []
        self.values: dict[str, Any] = {}
        self.origin: dict[str, tuple[str, object]] = {}  # field -> (header, raw value)
        self.failed: set[str] = set()
        self.headers: dict[str, str] = {}  # field -> header, for every field given a column

    def add(self, header: str, target: str, raw: object, hint: str | None, kind: ImportKind) -> None:
        reals = real_fields(target)
        self.headers.update(dict.fromkeys(reals, header))
        if is_blank(raw) and not isinstance(raw, bool):
            return
        if target in ("salary", "salary_min", "salary_max"):
            raw_for_parse = with_unit_hint(raw, hint)
        else:
            raw_for_parse = raw
        try:
            if target in VIRTUAL:
                parsed = parse_salary(raw_for_parse)
            else:
                parsed = parser_for(target, kind)(raw_for_parse)
        except ValueError as exc:
            self.errors.append(RowError(row=self.row, field=header, reason=str(exc), value=shown(raw)))
            self.failed.update(reals)
            return
        if target in VIRTUAL:
            for real, value in zip(reals, parsed, strict=True):
                self.origin[real] = (header, raw)
                if value is not None:
                    self.values[real] = value
        else:
            self.origin[target] = (header, raw)
            if parsed is not None:
                self.values[target] = parsed

    def validation_errors(self, exc: ValidationError, suppress_missing: frozenset[str]) -> list[RowError]:
        """The model's errors on the cells they come from (not those already reported)."""
        errors: list[RowError] = []
        for err in exc.errors():
            loc = err.get("loc") or ()
            name = str(loc[0]) if loc else ""
            if name in self.failed or (err["type"] == "missing" and name in suppress_missing):
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
            header, raw = self.origin.get(name, (self.headers.get(name, name or "整行"), None))
            errors.append(
                RowError(row=self.row, field=header, reason=zh_reason(err), value=shown(raw))
            )
        return errors
