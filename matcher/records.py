"""Records made ready to store: occupation coded, skills, places and chains canonical.

:class:`ChainBook` is the industry chains of the store's registries (cached until a registry
changes), with chain resolution and the keyword chain suggestion for entries.
:class:`RecordPreparer` turns input models into :class:`StoredRecord` (canonical text, text
hash, province) or rejects them with InvalidInput; it writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from matcher.core.errors import ImportRejected, InvalidInput, RowError
from matcher.core.textnorm import normalize_text
from matcher.domain.auth import Principal
from matcher.domain.schemas import DemandEntry, IndustryChain, TalentProfile
from matcher.domain.schemas import RecordKind as Kind
from matcher.domain.texts import demand_text, talent_text
from matcher.reference.bundle import ReferenceData
from matcher.reference.chains import MIN_CONFIDENCE, ChainSuggester
from matcher.reference.occupations import CODE_RE
from matcher.reference.regions import place_of
from matcher.reference.skills import requirement_skills
from matcher.retrieval.occupation_coder import OccupationCoder, is_settled, stored_confidence
from matcher.storage.chains_repo import enterprise_of
from matcher.storage.store import Store, StoredRecord, external_scope
from models.encoders import text_hash


class ChainBook:
    """The industry chains in the store, by id, read once until a registry changes."""

    def __init__(self, store: Store, reference: ReferenceData) -> None:
        self.store = store
        self.reference = reference
        self._chains: dict[str, IndustryChain] | None = None
        self._suggester: tuple[dict[str, IndustryChain], ChainSuggester] | None = None

    def all(self) -> dict[str, IndustryChain]:
        if self._chains is None:
            self._chains = {c.id: c for c in self.store.list_chains()}
        return self._chains

    def list(self, region: str | None = None) -> list[IndustryChain]:
        """The chains of a region (all without one), as stored."""
        return self.store.list_chains(region)

    def load_registries(self) -> int:
        """Load every <reference>/chains/*.json registry into the store (replacing older copies)."""
        n = 0
        for path in sorted((self.reference.directory / "chains").glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            region = data["region"]
            chains = [IndustryChain(region=region, **{k: v for k, v in c.items() if k != "region"})
                      for c in data["chains"]]
            n += self.store.replace_registry(path.stem, chains)
        self._chains = None
        return n

    def register(self, registry: str, chains: Sequence[IndustryChain], actor: Principal | None = None) -> int:
        """Store a registry (replacing the chains of the same registry, audited when someone
        loads it) and drop cached chains."""
        n = self.store.replace_registry(registry, chains, actor=actor)
        self._chains = None
        return n

    def unknown(self, values: Sequence[str | None]) -> list[str]:
        """The distinct values (in order) that name no stored chain."""
        out: list[str] = []
        for v in dict.fromkeys(v for v in values if v):
            try:
                self.resolve(v)
            except InvalidInput:
                out.append(v)
        return out

    def create(self, names: Sequence[str], region: str, registry: str,
               actor: Principal | None = None) -> list[IndustryChain]:
        """Add chains named by a catalogue to ``registry`` (keeping the registry's other chains);
        ids are ``<registry>-<n>`` numbered after the registry's highest. Returns the new chains."""
        kept = [c for c in self.store.list_chains() if self._registry_of(c.id, registry)]
        taken = set(self.all())
        created: list[IndustryChain] = []
        n = len(kept)
        for name in names:
            n += 1
            while f"{registry}-{n}" in taken:
                n += 1
            label = normalize_text(name)
            keywords = list(dict.fromkeys(k for k in (label, label.removesuffix("产业链")) if k))
            created.append(IndustryChain(id=f"{registry}-{n}", name=label, region=region, keywords=keywords))
        self.register(registry, [*kept, *created], actor)
        return created

    @staticmethod
    def _registry_of(chain_id: str, registry: str) -> bool:
        return chain_id.startswith(f"{registry}-") and chain_id[len(registry) + 1 :].isdigit()

    def resolve(self, value: str | None) -> str | None:
        """A chain id from an id or a chain name; unknown values raise InvalidInput."""
        if not value:
            return None
        chains = self.all()
        if value in chains:
            return value
        key = normalize_text(value)
        for c in chains.values():
            if c.name == key or c.name.removesuffix("产业链") == key.removesuffix("产业链"):
                return c.id
        raise InvalidInput(f"未知产业链：{value}", [{"field": "chain_id"}])

    def suggester(self) -> ChainSuggester:
        """The keyword chain classifier over the chains (rebuilt when they change)."""
        chains = self.all()
        if self._suggester is None or self._suggester[0] is not chains:
            self._suggester = (chains, ChainSuggester(chains.values(), self.reference.regions))
        return self._suggester[1]

    def suggest_for_entry(self, entry: DemandEntry) -> dict[str, Any]:
        """Chain fields for an entry without a given chain: the suggestion when it is sure
        enough (``matcher.reference.chains.MIN_CONFIDENCE``), else no chain."""
        ent = enterprise_of(self.store, entry.enterprise_id, entry.enterprise_name)
        s = self.suggester().suggest(
            demand_text(entry), title=entry.title, city=entry.city,
            enterprise_chain=ent.chain_id if ent else None,
            enterprise_name=ent.name if ent else entry.enterprise_name)
        if s is None or s.confidence < MIN_CONFIDENCE:
            return {"chain_id": None, "chain_suggested": False, "chain_confidence": None}
        return {"chain_id": s.chain_id, "chain_suggested": True, "chain_confidence": s.confidence}


SAME_CATALOGUE_SHARE = 0.9  # the share of entries two catalogues of a region and year share to be one
SAME_CATALOGUE_MIN_ENTRIES = 3  # below this, equal entries under another name may be a coincidence


def entry_key(entry: DemandEntry) -> tuple[str, ...]:
    """What makes two catalogue entries the same post: enterprise, title, headcount, text."""
    return (normalize_text(entry.enterprise_name or str(entry.enterprise_id or "")), normalize_text(entry.title),
            str(entry.headcount), normalize_text(entry.description)[:80])


def same_catalogue(store: Store, region: str, year: int, name: str | None,
                   entries: Sequence[DemandEntry]) -> dict[str, Any] | None:
    """The stored catalogue of the same region and year that is this one: the same name, or
    (whatever the name or file) at least ``SAME_CATALOGUE_SHARE`` of the entries the same, both
    having at least ``SAME_CATALOGUE_MIN_ENTRIES``. None when there is none."""
    new = {entry_key(e) for e in entries}
    for summary in store.list_catalogues():
        if summary["region"] != region or summary["year"] != year:
            continue
        if (summary["name"] or "") == (name or ""):
            return summary
        if len(new) < SAME_CATALOGUE_MIN_ENTRIES or summary["entries"] < SAME_CATALOGUE_MIN_ENTRIES:
            continue
        old = {entry_key(e) for e in store.get_catalogue(summary["id"]).entries}
        if min(len(new), len(old)) >= SAME_CATALOGUE_MIN_ENTRIES \
                and len(new & old) >= SAME_CATALOGUE_SHARE * max(len(new), len(old)):
            return summary
    return None


@dataclass
class PreparedImport:
    """The records of an import's valid rows, the side they belong to and every row error."""

    side: Kind
    records: list[StoredRecord]
    errors: list[RowError]


class RecordPreparer:
    """Validates and canonicalises records. ``coder`` returns the occupation coder (built on
    first use: it encodes the whole taxonomy)."""

    def __init__(self, reference: ReferenceData, coder: Callable[[], OccupationCoder], chains: ChainBook,
                 store: Store) -> None:
        self.reference = reference
        self.coder = coder
        self.chains = chains
        self.store = store

    # -- occupation coding -----------------------------------------------------------------

    def code_batch(self, texts: Sequence[Any]) -> dict[Any, Any]:
        """Best occupation of each distinct text, or (title, context) pair, coded in batches."""
        distinct = list(dict.fromkeys(t for t in texts if t))
        out: dict[Any, Any] = {}
        for start in range(0, len(distinct), 256):
            chunk = distinct[start : start + 256]
            pairs = [(t, None) if isinstance(t, str) else t for t in chunk]
            coded = self.coder().code([p[0] for p in pairs], top_k=1, context=[p[1] for p in pairs])
            for t, cands in zip(chunk, coded, strict=True):
                out[t] = cands[0] if cands else None
        return out

    @staticmethod
    def demand_query(entry: DemandEntry) -> tuple[str, str | None]:
        """A post's title, coded with its majors and description as context."""
        context = " ".join([*entry.majors, entry.description[:200]]).strip()
        return entry.title, context or None

    def coding_queries(self, kind: Kind, models: Sequence[Any]) -> list[str]:
        """Texts that need an occupation code: untitled entries, free-text desired occupations."""
        if kind == "demand":
            return [self.demand_query(m) for m in models if not m.occupation_code]
        return [o for m in models for o in m.desired_occupations if not CODE_RE.match(o)]

    # -- one record ----------------------------------------------------------------------------

    def prepare(self, kind: Kind, model: Any, coded: dict[str, Any] | None = None) -> StoredRecord:
        """One model ready to store; ``coded`` holds occupations coded in a batch beforehand."""
        if kind == "demand":
            return self.prepare_demand(model, coded)
        return self.prepare_talent(model, coded)

    def prepare_demand(self, entry: DemandEntry, coded: dict[str, Any] | None = None) -> StoredRecord:
        ref = self.reference
        updates: dict[str, Any] = {}
        if entry.city:
            # "淄博市临淄区" and "淄博高新区" are places of 淄博市, though the lookup misses them
            place = place_of(ref.regions, entry.city)
            updates["city"] = place.city if place is not None and place.city else ref.regions.city(entry.city)
        if entry.occupation_code:
            name = ref.taxonomy.name(entry.occupation_code)
            if name is None or ref.taxonomy.by_code[entry.occupation_code].level != 4:
                raise InvalidInput(f"未知职业编码：{entry.occupation_code}", [{"field": "occupation_code"}])
            updates["occupation_name"] = name
        else:
            query = self.demand_query(entry)
            best = coded[query] if coded and query in coded else self.coder().best(*query)
            if best is not None:
                updates["occupation_code"], updates["occupation_name"] = best.code, best.name
                updates["occupation_confidence"] = stored_confidence(best)
            else:
                updates["occupation_confidence"] = None
        required, preferred = entry.required_skills, entry.preferred_skills
        if entry.source == "catalogue" and not required and entry.description:
            # a catalogue states its skills in 任职能力要求 ("熟悉A、B，了解C")
            required, found = requirement_skills(ref.vocab, entry.description)
            preferred = preferred or found
        updates["required_skills"] = [ref.vocab.canonical(s) for s in required]
        updates["preferred_skills"] = [ref.vocab.canonical(s) for s in preferred]
        if entry.chain_id and not entry.chain_suggested:
            updates["chain_id"] = self.chains.resolve(entry.chain_id)
            updates["chain_confidence"] = None
        else:  # no chain, or one we suggested earlier: suggest from the current record
            updates.update(self.chains.suggest_for_entry(entry.model_copy(update=updates)))
        entry = entry.model_copy(update=updates)
        text = demand_text(entry)
        return StoredRecord(entry, text, text_hash(text), ref.regions.province(entry.city))

    def prepare_talent(self, profile: TalentProfile, coded: dict[str, Any] | None = None) -> StoredRecord:
        ref = self.reference
        updates: dict[str, Any] = {
            "skills": [ref.vocab.canonical(s) for s in profile.skills],
            "desired_chains": [self.chains.resolve(c) or c for c in profile.desired_chains],
        }
        if profile.city:
            updates["city"] = ref.regions.city(profile.city)
        updates["preferred_cities"] = [ref.regions.city(c) or c for c in profile.preferred_cities]
        codes: list[str] = []
        for occ in profile.desired_occupations:
            if CODE_RE.match(occ):
                if occ not in ref.taxonomy.by_code:
                    raise InvalidInput(f"未知职业编码：{occ}", [{"field": "desired_occupations"}])
                codes.append(occ)
            else:
                best = coded[occ] if coded and occ in coded else self.coder().best(occ)
                codes.append(best.code if best is not None and is_settled(best) else occ)
        # a wish written twice (or as text and as its code) is one wish: the text names it once
        updates["desired_occupations"] = list(dict.fromkeys(codes))
        profile = profile.model_copy(update=updates)
        text = talent_text(profile, ref.taxonomy.name)
        return StoredRecord(profile, text, text_hash(text), ref.regions.province(profile.city))

    # -- many records --------------------------------------------------------------------------

    def prepare_many(self, kind: Kind, models: Sequence[Any]) -> list[StoredRecord]:
        """Every model ready to store (occupations coded in one batch); the first invalid
        model raises InvalidInput."""
        coded = self.code_batch(self.coding_queries(kind, models))
        return [self.prepare(kind, m, coded) for m in models]

    def prepare_each(self, kind: Kind, models: Sequence[Any]) -> list[StoredRecord | InvalidInput]:
        """Each model made ready to store, or the InvalidInput that rejects it, in order."""
        coded = self.code_batch(self.coding_queries(kind, models))
        out: list[StoredRecord | InvalidInput] = []
        for m in models:
            try:
                out.append(self.prepare(kind, m, coded))
            except InvalidInput as exc:
                out.append(exc)
        return out

    def prepare_import(self, kind: str, rows: Sequence[tuple[int, Any]], errors: Sequence[RowError], *,
                       skip_invalid: bool = False, actor: Principal | None = None,
                       headers: dict[str, str] | None = None, region: str | None = None) -> PreparedImport:
        """The records of parsed import rows (see ``MatchService.import_rows``); any error,
        the parser's or a row's, raises ImportRejected unless ``skip_invalid``. ``region`` (a
        catalogue's) is the city of the entries that name none, when it is a city."""
        side: Kind = "talent" if kind == "talents" else "demand"
        if kind == "catalogue":
            city = self.reference.regions.city(region) if region else None
            rows = [(n, m.model_copy(update={"source": "catalogue", "city": m.city or city})) for n, m in rows]
        all_errors = list(errors)
        if side == "demand":
            rows = self._known_enterprises(rows, all_errors)
        coded = self.code_batch(self.coding_queries(side, [m for _, m in rows]))
        records: list[StoredRecord] = []
        bad_ext = self.external_id_errors(side, rows, actor, (headers or {}).get("external_id", "编号"))
        all_errors += bad_ext.values()
        for rowno, model in rows:
            if rowno in bad_ext:
                continue
            try:
                records.append(self.prepare(side, model, coded))
            except InvalidInput as exc:
                fld = exc.errors[0].get("field", "-") if exc.errors else "-"
                reason, shown = exc.detail, (headers or {}).get(fld, fld)  # the file's own column header
                if kind == "catalogue" and fld == "chain_id":  # the catalogue may register its own
                    reason += "（导入时选择“新建目录中的产业链”即可登记；命令行加 --create-chains）"
                all_errors.append(RowError(row=rowno, field=shown, reason=reason))
        all_errors.sort(key=lambda e: e.row)
        if all_errors and not skip_invalid:
            raise ImportRejected(all_errors)
        return PreparedImport(side, records, all_errors)

    def _known_enterprises(self, rows: Sequence[tuple[int, Any]], errors: list[RowError]) -> list[tuple[int, Any]]:
        """Entry rows whose enterprise id exists (a row error for each other one). A file's
        enterprise ids are foreign to this database: where the row names its enterprise, the
        name wins and the id is dropped."""
        rows = [(n, m.model_copy(update={"enterprise_id": None}) if m.enterprise_name else m) for n, m in rows]
        known = self.store.enterprise_names([m.enterprise_id for _, m in rows if m.enterprise_id])
        for n, m in rows:
            if m.enterprise_id is not None and m.enterprise_id not in known:
                errors.append(RowError(row=n, field="enterprise_id", reason=f"企业 {m.enterprise_id} 不存在"))
        return [(n, m) for n, m in rows if m.enterprise_id is None or m.enterprise_id in known]

    def external_id_errors(self, side: Kind, rows: Sequence[tuple[int, Any]],
                           actor: Principal | None, label: str) -> dict[int, RowError]:
        """Row errors for external ids that repeat in the file or are already used in the
        importer's own numbering (other parties' numbering is neither searched nor revealed)."""
        given = [(n, m.external_id) for n, m in rows if m.external_id]
        taken = self.store.taken_external_ids(side, [e for _, e in given], external_scope(actor))
        first: dict[str, int] = {}
        out: dict[int, RowError] = {}
        for n, ext in given:
            if ext in taken:
                out[n] = RowError(row=n, field=label, value=ext,
                                  reason=f"外部编号已被{'需求条目' if side == 'demand' else '人才档案'} {taken[ext]} 使用")
            elif ext in first:
                out[n] = RowError(row=n, field=label, value=ext,
                                  reason=f"外部编号与第 {first[ext]} 行重复")
            else:
                first[ext] = n
        return out
