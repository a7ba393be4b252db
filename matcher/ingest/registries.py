"""Industry-chain registries (产业链名录) as files.

A registry is a data file per region: JSON (the shipped format of ``data/chains/*.json`` or a
plain list of chains), CSV or XLSX with the columns id, name, keywords, parent sector and
region (Chinese headers such as 产业链编号 / 产业链名称 / 关键词 / 所属板块 / 地区 are understood).
Files are read with the importer's CSV/XLSX readers and validated whole: every bad row is a
RowError and nothing is stored unless the whole file is valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from matcher.core.errors import ImportRejected, InvalidInput, RowError
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import IndustryChain
from matcher.ingest.headers import HeaderTable
from matcher.ingest.messages import quoted_names, shorten_errors
from matcher.ingest.parsing import cell_text, parse_list
from matcher.ingest.safe_cells import excerpt
from matcher.ingest.table_reader import (
    PayloadTooLarge,
    ReadLimits,
    check_record,
    csv_rows,
    read_limited,
    xlsx_rows,
)

REGISTRY_NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,50}$")
CHAIN_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
SUPPORTED = (".json", ".csv", ".xlsx")
MAX_CHAINS = 500
REGISTRY_MAX_BYTES = 5 * 1024 * 1024  # 500 chains with their keywords take well under 1 MB

# header aliases of a registry table (normalised keys)
_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "chain_id", "编号", "产业链编号", "产业链代码", "代码", "链编号"),
    "name": ("name", "名称", "产业链", "产业链名称", "链名称"),
    "keywords": ("keywords", "关键词", "关键字", "产业链关键词"),
    "parent_sector": ("parent_sector", "parent", "所属板块", "所属产业", "上级产业", "产业板块", "所属行业",
                      "产业门类", "板块"),
    "region": ("region", "地区", "所属地区", "区域", "行政区"),
}
_IGNORED_HEADERS = {"序号", "no", "备注", "note", "说明"}
_REGISTRY_HEADERS = HeaderTable(_HEADERS, _IGNORED_HEADERS)
_LABEL = {"id": "产业链编号", "name": "产业链名称", "keywords": "关键词", "parent_sector": "所属板块",
          "region": "地区"}


class ChainRegistry(BaseModel):
    """A registry as read from a file: its name (key in the store), region and chains."""

    name: str
    region: str
    title: str | None = None
    note: str | None = None
    chains: list[IndustryChain] = Field(default_factory=list)


class RegistryLoadResult(BaseModel):
    """What ``load_registry`` stored."""

    registry: str
    region: str
    chains: int
    replaced: int = Field(description="chains of the same registry that were replaced")
    orphaned_entries: int = Field(description="demand entries whose chain is no longer in any registry")


# -- reading registry files ------------------------------------------------------------------


def _registry_name(path: Path, given: str | None) -> str:
    name = (given or path.stem).strip()
    if not REGISTRY_NAME.match(name):
        raise InvalidInput(f"名录名称“{name}”不合法：只能用字母、数字、汉字、- 和 _，最长 50 个字符")
    return name


def read_registry_file(path: Path, *, registry: str | None = None, region: str | None = None,
                       sheet: str | None = None, limits: ReadLimits | None = None) -> ChainRegistry:
    """Read and validate a registry file; every bad row is reported (ImportRejected). A file
    above a reading limit (at most 5 MB, ``MAX_CHAINS`` rows; ``matcher.ingest.table_reader``) raises
    PayloadTooLarge."""
    limits = (limits or ReadLimits.from_settings()).but(rows=MAX_CHAINS)
    limits = limits.but(file_bytes=min(limits.file_bytes, REGISTRY_MAX_BYTES))
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InvalidInput(f"不支持的名录文件格式“{suffix or path.name}”，支持 JSON、CSV、XLSX")
    if not path.is_file():
        raise InvalidInput(f"文件不存在或无法读取：{path}")
    name = _registry_name(path, registry)
    title = note = None
    if suffix == ".json":
        rows, file_region, title, note = _json_rows(path, limits)
    else:
        rows = _table_rows(path, sheet, limits)
        file_region = None
    default_region = normalize_text(region or file_region or "") or None
    chains, errors = _validate(rows, default_region)
    if errors:
        raise ImportRejected(shorten_errors(errors))
    if not chains:
        raise InvalidInput("名录文件中没有产业链")
    regions = sorted({c.region for c in chains})
    return ChainRegistry(name=name, region="、".join(regions), title=title, note=note, chains=chains)


def _json_rows(path: Path, limits: ReadLimits) -> tuple[list[tuple[int, dict[str, Any]]], str | None, str | None,
                                                      str | None]:
    try:
        data = json.loads(read_limited(path, limits, "名录文件").decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise InvalidInput("名录 JSON 应为 UTF-8 编码") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"名录文件不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）") from None
    region = title = note = None
    if isinstance(data, dict):
        region, title, note = data.get("region"), data.get("name"), data.get("note")
        data = data.get("chains")
    if not isinstance(data, list):
        raise InvalidInput('名录 JSON 应为产业链列表，或 {"region": …, "chains": [...]}')
    if len(data) > MAX_CHAINS:
        raise PayloadTooLarge(f"名录中的产业链过多（最多 {MAX_CHAINS} 条）")
    rows: list[tuple[int, dict[str, Any]]] = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            rows.append((i, {"__error__": "应为 JSON 对象"}))
            continue
        check_record(item, i, limits, "名录")
        rows.append((i, {_field_of(str(k)) or str(k): v for k, v in item.items()}))
    return rows, (str(region) if region else None), (str(title) if title else None), (str(note) if note else None)


def _field_of(header: str) -> str | None:
    return _REGISTRY_HEADERS.field_of(header)


def _table_rows(path: Path, sheet: str | None, limits: ReadLimits) -> list[tuple[int, dict[str, Any]]]:
    # the bounded table readers the importer uses: encodings, delimiters, merged cells, limits
    if path.suffix.lower() == ".csv":
        source = csv_rows(read_limited(path, limits, "名录文件"), limits)
    else:
        source = xlsx_rows(path, sheet, True, limits)
    header: list[str | None] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, values in source:
        texts = [cell_text(v) for v in values]
        if not any(texts):
            continue
        if header is None:
            header = []
            unknown = []
            for t in texts:
                field = _field_of(t) if t else None
                if t and field is None and not _REGISTRY_HEADERS.ignores(t):
                    unknown.append(t)
                header.append(field)
            if unknown:
                raise InvalidInput(f"名录表头无法识别：{quoted_names(unknown)}；可用列：编号、名称、关键词、所属板块、地区")
            missing = [_LABEL[f] for f in ("id", "name") if f not in header]
            if missing:
                raise InvalidInput(f"名录缺少必填列：{'、'.join(missing)}")
            continue
        rows.append((number, {f: v for f, v in zip(header, values, strict=False) if f}))
    if len(rows) > MAX_CHAINS:
        raise PayloadTooLarge(f"名录中的产业链过多（最多 {MAX_CHAINS} 条）")
    return rows


def _validate(rows: Sequence[tuple[int, dict[str, Any]]],
              default_region: str | None) -> tuple[list[IndustryChain], list[RowError]]:
    chains: list[IndustryChain] = []
    errors: list[RowError] = []
    ids: dict[str, int] = {}
    names: dict[tuple[str, str], int] = {}
    for row, data in rows:
        if "__error__" in data:
            errors.append(RowError(row=row, field="整行", reason=data["__error__"]))
            continue
        cid = cell_text(data.get("id"))
        name = normalize_text(cell_text(data.get("name")))
        region = normalize_text(cell_text(data.get("region"))) or default_region
        raw_kw = data.get("keywords")
        keywords = [normalize_text(str(k)) for k in raw_kw] if isinstance(raw_kw, list) else parse_list(raw_kw)
        parent = normalize_text(cell_text(data.get("parent_sector"))) or None
        bad = False
        if not cid:
            errors.append(RowError(row=row, field=_LABEL["id"], reason="不能为空"))
            bad = True
        elif not CHAIN_ID.match(cid):
            errors.append(RowError(row=row, field=_LABEL["id"], reason="只能用字母、数字、-、_ 和 .，最长 64 个字符",
                                   value=excerpt(cid)))
            bad = True
        elif cid in ids:
            errors.append(RowError(row=row, field=_LABEL["id"], reason=f"与第 {ids[cid]} 行重复", value=excerpt(cid)))
            bad = True
        if not name:
            errors.append(RowError(row=row, field=_LABEL["name"], reason="不能为空"))
            bad = True
        if not region:
            errors.append(RowError(row=row, field=_LABEL["region"],
                                   reason="不能为空（文件中没有地区列时，请用 --region 指定）"))
            bad = True
        if name and region and (region, name) in names:
            errors.append(RowError(row=row, field=_LABEL["name"], reason=f"与第 {names[(region, name)]} 行重复",
                                   value=excerpt(name)))
            bad = True
        long_kw = [k for k in keywords if len(k) > 40]
        if long_kw:
            errors.append(RowError(row=row, field=_LABEL["keywords"], reason="单个关键词最长 40 个字符",
                                   value=excerpt(long_kw[0], 40)))
            bad = True
        if bad:
            continue
        try:
            chain = IndustryChain(id=cid, name=name, region=region, keywords=keywords, parent_sector=parent)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = _LABEL.get(str(err["loc"][0]), str(err["loc"][0])) if err.get("loc") else "整行"
            errors.append(RowError(row=row, field=field, reason="长度或格式不正确"))
            continue
        ids[cid] = row
        names[(region, name)] = row  # type: ignore[index]
        chains.append(chain)
    return chains, errors
