"""Industry-chain registries (产业链名录) and chain suggestion for demand entries.

A registry is a data file per region: JSON (the shipped format of ``data/chains/*.json`` or a
plain list of chains), CSV or XLSX with the columns id, name, keywords, parent sector and
region (Chinese headers such as 产业链编号 / 产业链名称 / 关键词 / 所属板块 / 地区 are understood).
Files are read with the importer's CSV/XLSX readers and validated whole: every bad row is a
RowError and nothing is stored unless the whole file is valid.

``suggest_chain`` classifies an entry without a chain: the enterprise's chain when it is known
and belongs to a registry covering the entry's place, else keywords of the chains found in the
entry's text (title hits count double, a keyword shared by several chains counts for each
a fraction). Its confidence is calibrated on the demo data (see ``CONFIDENCE``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from matcher.analytics import place_of
from matcher.errors import ImportRejected, InvalidInput, RowError
from matcher.importer import quoted_names, shorten_errors
from matcher.parsing import cell_text, parse_list
from matcher.regions import Regions
from matcher.safe_cells import excerpt
from matcher.schemas import IndustryChain
from matcher.table_reader import (
    PayloadTooLarge,
    ReadLimits,
    check_record,
    csv_rows,
    read_limited,
    xlsx_rows,
)
from matcher.textnorm import normalize_key, normalize_text

__all__ = [
    "ChainRegistry",
    "ChainSuggestion",
    "ChainSuggester",
    "RegistryLoadResult",
    "read_registry_file",
    "suggest_chain",
]

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
_LABEL = {"id": "产业链编号", "name": "产业链名称", "keywords": "关键词", "parent_sector": "所属板块",
          "region": "地区"}

# Confidence of a suggestion, by how it was made; measured on the demo set (bench/chain_suggest.md):
# the enterprise's chain was right for 703 of 703 posts; a keyword suggestion with a clear winner
# (its score at least twice the runner-up's) was right for 0.80 of them, a contested one for 0.45.
CONFIDENCE = {"enterprise": 0.95, "enterprise_name": 0.9, "text_title": 0.25, "text": 0.1}
MIN_CONFIDENCE = 0.5  # a suggestion below this is shown but not stored on the entry


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


class ChainSuggestion(BaseModel):
    """A suggested chain for a demand entry and how sure it is."""

    chain_id: str
    confidence: float = Field(ge=0, le=1)
    method: str = Field(description="enterprise | enterprise_name | text_title | text")
    keywords: list[str] = Field(default_factory=list, description="keywords of the chain found in the text")


# -- reading registry files ------------------------------------------------------------------


def _registry_name(path: Path, given: str | None) -> str:
    name = (given or path.stem).strip()
    if not REGISTRY_NAME.match(name):
        raise InvalidInput(f"名录名称“{name}”不合法：只能用字母、数字、汉字、- 和 _，最长 50 个字符")
    return name


def read_registry_file(path: Path, *, registry: str | None = None, region: str | None = None,
                       sheet: str | None = None, limits: ReadLimits | None = None) -> ChainRegistry:
    """Read and validate a registry file; every bad row is reported (ImportRejected). A file
    above a reading limit (at most 5 MB, ``MAX_CHAINS`` rows; ``matcher.table_reader``) raises
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
    key = normalize_key(header)
    for field, aliases in _HEADERS.items():
        if key in {normalize_key(a) for a in aliases}:
            return field
    return None


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
                if t and field is None and normalize_key(t) not in _IGNORED_HEADERS:
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


# -- suggestion ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    key: str
    label: str
    owners: frozenset[str]  # chains holding the term


def _contains(hay: str, key: str) -> bool:
    """Whether a normalised key occurs in a normalised text; an ASCII key ("PLC", "GMP") must
    not sit inside a longer ASCII word."""
    start = hay.find(key)
    if start < 0 or not key.isascii():
        return start >= 0
    while start >= 0:
        end = start + len(key)
        before = hay[start - 1] if start else ""
        after = hay[end] if end < len(hay) else ""
        if not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum()):
            return True
        start = hay.find(key, start + 1)
    return False


class ChainSuggester:
    """Keyword classifier over the chains of the registries (built once per set of chains)."""

    def __init__(self, chains: Iterable[IndustryChain], regions: Regions | None = None) -> None:
        self.chains: dict[str, IndustryChain] = {c.id: c for c in chains}
        self.regions = regions
        owners: dict[str, set[str]] = {}
        labels: dict[tuple[str, str], str] = {}
        for c in self.chains.values():
            for label in [c.name, c.name.removesuffix("产业链"), *c.keywords]:
                key = normalize_key(label)
                if key and not (key.isascii() and len(key) < 2):
                    owners.setdefault(key, set()).add(c.id)
                    labels.setdefault((c.id, key), label)
        self._terms: dict[str, list[_Term]] = {}
        for key, ids in owners.items():
            for cid in sorted(ids):
                self._terms.setdefault(cid, []).append(_Term(key, labels[(cid, key)], frozenset(ids)))
        self._by_region: dict[str, list[str]] = {}
        for c in self.chains.values():
            self._by_region.setdefault(c.region, []).append(c.id)

    def candidates(self, city: str | None) -> list[str]:
        """Chains of the most local registry covering a place: the city's own registry if it has
        one, else its province's; all chains when the place is unknown or no registry covers it."""
        if not city or self.regions is None:
            return list(self.chains)
        place = place_of(self.regions, city)
        if place is None:
            return list(self.chains)
        for region in (place.city, place.province):
            if region and region in self._by_region:
                return list(self._by_region[region])
        return []

    def covers(self, chain_id: str, city: str | None) -> bool:
        """Whether a chain's registry covers a place (its city or its province); True when the
        place is unknown."""
        place = place_of(self.regions, city) if city and self.regions is not None else None
        if place is None:
            return True
        return self.chains[chain_id].region in (place.city, place.province)

    def scores(self, text: str, title: str = "", candidates: Sequence[str] | None = None
               ) -> dict[str, tuple[float, list[str]]]:
        """Keyword score and matched keywords of each candidate chain found in the text: a
        keyword counts 1 (2 in the title), shared by n candidate chains 1/n for each ("医药中间体"
        says less than "原料药")."""
        hay = normalize_key(text)
        head = normalize_key(title)
        cands = list(candidates if candidates is not None else self.chains)
        pool = set(cands)
        out: dict[str, tuple[float, list[str]]] = {}
        for cid in cands:
            total, found = 0.0, []
            for term in self._terms.get(cid, []):
                in_head = _contains(head, term.key)
                if in_head or _contains(hay, term.key):
                    total += (2.0 if in_head else 1.0) / len(term.owners & pool)
                    found.append(term.label)
            if total > 0:
                out[cid] = (total, found)
        return out

    def _ranked(self, text: str, title: str, cands: Sequence[str]) -> list[tuple[str, float, list[str]]]:
        scored = self.scores(text, title, cands)
        return [(cid, sc, found) for cid, (sc, found) in sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0]))]

    def suggest(self, text: str, *, title: str = "", enterprise_chain: str | None = None,
                enterprise_name: str | None = None, city: str | None = None) -> ChainSuggestion | None:
        """The most likely chain of an entry, or None when nothing points to one.

        In order: the enterprise's registered chain (when a registry covering the entry's place
        holds it); chain keywords in the enterprise's name; chain keywords in the entry's text.
        """
        cands = self.candidates(city)
        if enterprise_chain and enterprise_chain in self.chains and (
                not cands or self.covers(enterprise_chain, city)):
            return ChainSuggestion(chain_id=enterprise_chain, confidence=CONFIDENCE["enterprise"],
                                   method="enterprise")
        if enterprise_name:
            ranked = self._ranked(enterprise_name, "", cands)
            if ranked and (len(ranked) == 1 or ranked[0][1] >= 2 * ranked[1][1]):
                cid, _, found = ranked[0]
                return ChainSuggestion(chain_id=cid, confidence=CONFIDENCE["enterprise_name"],
                                       method="enterprise_name", keywords=found)
        ranked = self._ranked(text, title, cands)
        if not ranked:
            return None
        cid, best, found = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        in_title = any(_contains(normalize_key(title), normalize_key(k)) for k in found)
        method = "text_title" if in_title and best >= 2.0 and best >= 2 * runner_up else "text"
        return ChainSuggestion(chain_id=cid, confidence=CONFIDENCE[method], method=method, keywords=found)


@dataclass(frozen=True)
class EnterpriseRef:
    id: int
    name: str
    chain_id: str | None


def enterprise_of(store: Any, enterprise_id: int | None, name: str | None) -> EnterpriseRef | None:
    """The stored enterprise of an entry (by id, else by exact name), or None."""
    from sqlalchemy import select

    from matcher.store import EnterpriseRow

    if enterprise_id is None and not name:
        return None
    with store.session() as s:
        if enterprise_id is not None:
            row = s.get(EnterpriseRow, enterprise_id)
        else:
            row = s.scalars(select(EnterpriseRow).where(EnterpriseRow.name == name)).first()
        return EnterpriseRef(row.id, row.name, row.chain_id) if row is not None else None


def suggest_chain(text: str, enterprise_chain: str | None, *, chains: Iterable[IndustryChain] | ChainSuggester,
                  title: str = "", enterprise_name: str | None = None, city: str | None = None,
                  regions: Regions | None = None) -> tuple[str | None, float]:
    """(chain id, confidence) for an entry's text and its enterprise's chain; (None, 0.0) when
    nothing points to a chain. ``chains`` is a list of chains or a built ChainSuggester."""
    suggester = chains if isinstance(chains, ChainSuggester) else ChainSuggester(chains, regions)
    s = suggester.suggest(text, title=title, enterprise_chain=enterprise_chain,
                          enterprise_name=enterprise_name, city=city)
    return (s.chain_id, s.confidence) if s is not None else (None, 0.0)


# -- the registries in the store ---------------------------------------------------------------


class RegistryInfo(BaseModel):
    """A registry in the store."""

    registry: str
    regions: list[str]
    chains: int


def list_registries(store: Any) -> list[RegistryInfo]:
    """The registries in the store with their regions and chain counts."""
    from sqlalchemy import select

    from matcher.store import ChainRow

    out: dict[str, RegistryInfo] = {}
    with store.session() as s:
        for reg, region in s.execute(select(ChainRow.registry_name, ChainRow.region).order_by(ChainRow.registry_name)):
            info = out.setdefault(reg, RegistryInfo(registry=reg, regions=[], chains=0))
            info.chains += 1
            if region not in info.regions:
                info.regions.append(region)
    return list(out.values())


def load_registry(service: Any, path: Path, *, registry: str | None = None, region: str | None = None,
                  sheet: str | None = None, actor: Any = None) -> RegistryLoadResult:
    """Read a registry file and store it in one transaction, replacing the registry of the same
    name. A chain id held by another registry is a conflict (ids are global)."""
    from sqlalchemy import func, select

    from matcher.errors import Conflict
    from matcher.store import ChainRow, DemandRow

    reg = read_registry_file(path, registry=registry, region=region, sheet=sheet)
    ids = [c.id for c in reg.chains]
    with service.store.session() as s:
        taken = {cid: other for cid, other in s.execute(
            select(ChainRow.id, ChainRow.registry_name).where(ChainRow.id.in_(ids), ChainRow.registry_name != reg.name))}
        replaced = s.scalar(select(func.count()).select_from(ChainRow).where(ChainRow.registry_name == reg.name)) or 0
    if taken:
        cid = sorted(taken)[0]
        raise Conflict(f"产业链编号“{cid}”已属于名录“{taken[cid]}”（共 {len(taken)} 个编号冲突）；"
                       f"请改用其他编号，或用 --registry {taken[cid]} 替换该名录")
    n = service.register_chains(reg.name, reg.chains, actor=actor)
    with service.store.session() as s:
        known = select(ChainRow.id)
        orphaned = s.scalar(select(func.count()).select_from(DemandRow).where(
            DemandRow.chain_id.is_not(None), DemandRow.chain_id.not_in(known))) or 0
    return RegistryLoadResult(registry=reg.name, region=reg.region, chains=n, replaced=replaced,
                              orphaned_entries=orphaned)


# -- measuring the suggestion ------------------------------------------------------------------


EvalMode = Literal["enterprise", "name", "text"]


class SuggestionTier(BaseModel):
    method: str
    suggested: int
    right: int
    accuracy: float | None


class SuggestionEvaluation(BaseModel):
    """How often the suggestion recovers the chain of entries whose chain is known."""

    mode: EvalMode
    entries: int = Field(description="entries with a given (not suggested) chain")
    suggested: int
    right: int
    accuracy: float | None = Field(description="right / entries")
    stored: int = Field(description="suggestions at or above MIN_CONFIDENCE (they would be stored)")
    stored_right: int
    tiers: list[SuggestionTier]


def evaluate_suggestions(service: Any, *, mode: EvalMode = "enterprise", limit: int | None = None
                         ) -> SuggestionEvaluation:
    """Hide the chain of every stored entry with a given chain, suggest one, and count.

    ``mode``: ``enterprise`` uses the enterprise's registered chain and name, ``name`` only the
    enterprise's name, ``text`` only the entry's own text."""
    from matcher.text import demand_text

    suggester: ChainSuggester = service.chain_suggester()
    entries = []
    offset = 0
    while True:
        page, total = service.store.list("demand", offset=offset, limit=500)
        entries += [e for e in page if e.chain_id and not e.chain_suggested]
        offset += len(page)
        if not page or offset >= total or (limit and len(entries) >= limit):
            break
    entries = entries[:limit] if limit else entries
    tiers: dict[str, list[int]] = {}
    right = stored = stored_right = 0
    for e in entries:
        ent = enterprise_of(service.store, e.enterprise_id, e.enterprise_name) if mode != "text" else None
        s = suggester.suggest(demand_text(e), title=e.title, city=e.city,
                              enterprise_chain=ent.chain_id if ent and mode == "enterprise" else None,
                              enterprise_name=(ent.name if ent else e.enterprise_name) if mode != "text" else None)
        if s is None:
            continue
        ok = s.chain_id == e.chain_id
        t = tiers.setdefault(s.method, [0, 0])
        t[0] += 1
        t[1] += ok
        right += ok
        if s.confidence >= MIN_CONFIDENCE:
            stored += 1
            stored_right += ok
    order = list(CONFIDENCE)
    return SuggestionEvaluation(
        mode=mode, entries=len(entries), suggested=sum(t[0] for t in tiers.values()),
        right=right, accuracy=round(right / len(entries), 4) if entries else None, stored=stored,
        stored_right=stored_right,
        tiers=[SuggestionTier(method=m, suggested=tiers[m][0], right=tiers[m][1],
                              accuracy=round(tiers[m][1] / tiers[m][0], 4))
               for m in sorted(tiers, key=order.index)])
