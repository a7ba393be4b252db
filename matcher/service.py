"""The matching service: one object composing store, encoder, indexes and rules.

Writes go to the database first (committed), then to the derived indexes. Indexes are
reconciled against the database on start: records whose text hash changed are re-indexed
(vectors come from the embedding cache, so nothing unchanged is re-encoded), and an index
whose manifest disagrees with the settings (model, dimension) is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np

from matcher.core.errors import ImportRejected, IndexNotReady, InvalidInput, NotFound, RowError
from matcher.core.settings import Settings, Weights
from matcher.core.textnorm import normalize_text
from matcher.domain.auth import Principal
from matcher.domain.schemas import (
    Catalogue,
    DemandEntry,
    Explanation,
    IndustryChain,
    Match,
    MatchFilters,
    TalentProfile,
    TrainingSuggestion,
)
from matcher.domain.texts import demand_text, talent_text
from matcher.ranking import features as F
from matcher.reference.occupations import CODE_RE, Taxonomy
from matcher.reference.quals import QualificationRules, load_rules
from matcher.reference.regions import Regions, load_regions
from matcher.reference.skills import SkillVocab, load_vocab
from matcher.retrieval.encoders import build_encoder
from matcher.retrieval.lexical import (
    BM25Index,
    add_words,
    load_token_cache,
    save_token_cache,
    tokenize,
    tokenizer_fingerprint,
)
from matcher.retrieval.occupation_coder import OccupationCoder
from matcher.retrieval.vectorindex import VectorIndex, choose_kind, create_index, load_index
from matcher.storage.store import Store, StoredRecord, StoreVectorCache
from models.encoders import CachedEncoder, Encoder, text_hash

log = logging.getLogger(__name__)

Kind = Literal["demand", "talent"]
Progress = Callable[[int], None]
INDEX_FORMAT = 1
LEXICAL_SHARE_FREE_TEXT = 0.3  # BM25's share of relevance for free-text queries
TOKENS_FILE = "bm25-tokens.npz"  # BM25 token lists by text hash, saved beside each dense index
# only these statuses are searchable; others stay in the database but leave the index
SEARCHABLE = {"demand": "open", "talent": "active"}
_CODERS: dict[tuple[str, str], OccupationCoder] = {}
_CODERS_LOCK = threading.Lock()


def _fusion_rrf(lists: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion of ranked id lists."""
    scores: dict[int, float] = {}
    for ranked in lists:
        for rank, i in enumerate(ranked):
            scores[i] = scores.get(i, 0.0) + 1.0 / (k + rank + 1)
    return scores


def _fusion_convex(dense: dict[int, float], lexical: dict[int, float], alpha: float = 0.7) -> dict[int, float]:
    """Convex combination of min-max normalised dense and lexical scores."""
    def norm(d: dict[int, float]) -> dict[int, float]:
        if not d:
            return {}
        lo, hi = min(d.values()), max(d.values())
        span = hi - lo or 1.0
        return {i: (s - lo) / span for i, s in d.items()}
    nd, nl = norm(dense), norm(lexical)
    return {i: alpha * nd.get(i, 0.0) + (1 - alpha) * nl.get(i, 0.0) for i in set(nd) | set(nl)}


@dataclass
class Scored:
    """A scored (talent, entry) pair; turned into a Match (with its explanation) only if shown."""

    profile: TalentProfile
    entry: DemandEntry
    target: Kind
    score: float
    seeker: float
    employer: float
    comp: dict[str, float]
    eligible: bool
    matched: list[str]
    missing: list[str]
    unmet: list[Any]
    unmet_fresh: bool

    @property
    def other_id(self) -> int:
        return int((self.entry.id if self.target == "demand" else self.profile.id) or 0)

    def sort_key(self) -> tuple:
        return (not self.eligible, -self.score, self.other_id)


@dataclass
class SideIndex:
    """The dense and lexical indexes of one side, with the text hash of every indexed id."""

    kind: Kind
    dense: VectorIndex
    lexical: BM25Index
    hashes: dict[int, str] = field(default_factory=dict)
    background: float = 0.0
    dirty: bool = False


class MatchService:
    """Everything the CLI and the API do, behind typed methods."""

    def __init__(self, settings: Settings, *, encoder: Encoder | None = None, store: Store | None = None,
                 weights: Weights | None = None) -> None:
        self.settings = settings
        self.weights = weights or Weights()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = store or Store(settings.db_url())
        self.encoder = encoder or build_encoder(settings.encoder, settings.encoder_model)
        self.cached = CachedEncoder(self.encoder, StoreVectorCache(self.store))
        ref = settings.reference_dir
        self.taxonomy = Taxonomy.load(ref / "csco22_occupations.csv")
        self.regions: Regions = load_regions(ref / "cn_regions.csv")
        self.rules: QualificationRules = load_rules(ref / "qualifications.json")
        self.vocab: SkillVocab = load_vocab(ref / "skills.json")
        self.directions = self._load_directions(ref / "training_directions.json")
        # every word jieba should keep whole is registered before anything is tokenised, so that
        # token lists (and the saved token cache) do not depend on what was loaded first
        add_words(self.vocab.names())
        add_words(o.name for o in self.taxonomy.occupations)
        self._coder: OccupationCoder | None = None
        self._lock = threading.RLock()
        self._sides: dict[str, SideIndex] = {}
        self._chains: dict[str, IndustryChain] | None = None
        if not self.store.list_chains():
            self.load_chain_registries()  # registries are reference data: present from the start

    # -- reference data --------------------------------------------------------------------

    @staticmethod
    def _load_directions(path: Path) -> dict[str, dict[str, Any]]:
        if not path.exists():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return {d["name"]: d for d in data.get("directions", [])}

    @property
    def coder(self) -> OccupationCoder:
        """The occupation coder, built once per process and encoder (it tokenises and
        encodes the whole taxonomy)."""
        if self._coder is None:
            key = (self.encoder.name, str(self.settings.reference_dir))
            with _CODERS_LOCK:
                coder = _CODERS.get(key)
                if coder is None:
                    coder = OccupationCoder(self.taxonomy, self.encoder,
                                            cache_dir=self.settings.data_dir / "cache")
                    _CODERS[key] = coder
            self._coder = coder
        return self._coder

    def load_chain_registries(self) -> int:
        """Load every data/chains/*.json registry into the store (replacing older copies)."""
        n = 0
        for path in sorted((self.settings.reference_dir / "chains").glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            region = data["region"]
            chains = [IndustryChain(region=region, **{k: v for k, v in c.items() if k != "region"})
                      for c in data["chains"]]
            n += self.store.replace_registry(path.stem, chains)
        self._chains = None
        return n

    def chains(self) -> dict[str, IndustryChain]:
        if self._chains is None:
            self._chains = {c.id: c for c in self.store.list_chains()}
        return self._chains

    def resolve_chain(self, value: str | None) -> str | None:
        """A chain id from an id or a chain name; unknown values raise InvalidInput."""
        if not value:
            return None
        chains = self.chains()
        if value in chains:
            return value
        key = normalize_text(value)
        for c in chains.values():
            if c.name == key or c.name.removesuffix("产业链") == key.removesuffix("产业链"):
                return c.id
        raise InvalidInput(f"未知产业链：{value}", [{"field": "chain_id"}])

    # -- preparing records -------------------------------------------------------------

    def _code_batch(self, texts: Sequence[Any]) -> dict[Any, Any]:
        """Best occupation of each distinct text, or (title, context) pair, coded in batches."""
        distinct = list(dict.fromkeys(t for t in texts if t))
        out: dict[Any, Any] = {}
        for start in range(0, len(distinct), 256):
            chunk = distinct[start : start + 256]
            pairs = [(t, None) if isinstance(t, str) else t for t in chunk]
            coded = self.coder.code([p[0] for p in pairs], top_k=1, context=[p[1] for p in pairs])
            for t, cands in zip(chunk, coded, strict=True):
                out[t] = cands[0] if cands else None
        return out

    @staticmethod
    def _demand_query(entry: DemandEntry) -> tuple[str, str | None]:
        """A post's title, coded with its majors and description as context."""
        context = " ".join([*entry.majors, entry.description[:200]]).strip()
        return entry.title, context or None

    def _coding_queries(self, kind: Kind, models: Sequence[Any]) -> list[str]:
        """Texts that need an occupation code: untitled entries, free-text desired occupations."""
        if kind == "demand":
            return [self._demand_query(m) for m in models if not m.occupation_code]
        return [o for m in models for o in m.desired_occupations if not CODE_RE.match(o)]

    def _prepare_many(self, kind: Kind, models: Sequence[Any]) -> list[StoredRecord]:
        coded = self._code_batch(self._coding_queries(kind, models))
        return [self._prepare(kind, m, coded) for m in models]

    def _prepare_demand(self, entry: DemandEntry, coded: dict[str, Any] | None = None) -> StoredRecord:
        from matcher.reference.regions import place_of
        from matcher.reference.skills import requirement_skills

        updates: dict[str, Any] = {}
        if entry.city:
            # "淄博市临淄区" and "淄博高新区" are places of 淄博市, though the lookup misses them
            place = place_of(self.regions, entry.city)
            updates["city"] = place.city if place is not None and place.city else self.regions.city(entry.city)
        if entry.occupation_code:
            name = self.taxonomy.name(entry.occupation_code)
            if name is None or self.taxonomy.by_code[entry.occupation_code].level != 4:
                raise InvalidInput(f"未知职业编码：{entry.occupation_code}", [{"field": "occupation_code"}])
            updates["occupation_name"] = name
        else:
            query = self._demand_query(entry)
            best = coded[query] if coded and query in coded else self.coder.best(*query)
            if best is not None:
                updates["occupation_code"], updates["occupation_name"] = best.code, best.name
        required, preferred = entry.required_skills, entry.preferred_skills
        if entry.source == "catalogue" and not required and entry.description:
            # a catalogue states its skills in 任职能力要求 ("熟悉A、B，了解C")
            required, found = requirement_skills(self.vocab, entry.description)
            preferred = preferred or found
        updates["required_skills"] = [self.vocab.canonical(s) for s in required]
        updates["preferred_skills"] = [self.vocab.canonical(s) for s in preferred]
        if entry.chain_id and not entry.chain_suggested:
            updates["chain_id"] = self.resolve_chain(entry.chain_id)
            updates["chain_confidence"] = None
        else:  # no chain, or one we suggested earlier: suggest from the current record
            updates.update(self.suggest_entry_chain(entry.model_copy(update=updates)))
        entry = entry.model_copy(update=updates)
        text = demand_text(entry)
        return StoredRecord(entry, text, text_hash(text), self.regions.province(entry.city))

    def _prepare_talent(self, profile: TalentProfile, coded: dict[str, Any] | None = None) -> StoredRecord:
        updates: dict[str, Any] = {
            "skills": [self.vocab.canonical(s) for s in profile.skills],
            "desired_chains": [self.resolve_chain(c) or c for c in profile.desired_chains],
        }
        if profile.city:
            updates["city"] = self.regions.city(profile.city)
        updates["preferred_cities"] = [self.regions.city(c) or c for c in profile.preferred_cities]
        codes: list[str] = []
        for occ in profile.desired_occupations:
            if CODE_RE.match(occ):
                if occ not in self.taxonomy.by_code:
                    raise InvalidInput(f"未知职业编码：{occ}", [{"field": "desired_occupations"}])
                codes.append(occ)
            else:
                best = coded[occ] if coded and occ in coded else self.coder.best(occ)
                codes.append(best.code if best is not None and best.score >= 0.5 else occ)
        updates["desired_occupations"] = codes
        profile = profile.model_copy(update=updates)
        text = talent_text(profile, self.taxonomy.name)
        return StoredRecord(profile, text, text_hash(text), self.regions.province(profile.city))

    def _prepare(self, kind: Kind, model: Any, coded: dict[str, Any] | None = None) -> StoredRecord:
        if kind == "demand":
            return self._prepare_demand(model, coded)
        return self._prepare_talent(model, coded)

    # -- writes ------------------------------------------------------------------------

    def add(self, kind: Kind, models: Sequence[Any], progress: Progress | None = None, *,
            actor: Principal | None = None, bind_key: int | None = None) -> list[int]:
        """Validate, store (one transaction, audited) and index records of one side."""
        records = self._prepare_many(kind, models)
        self._encode_records(records, progress)  # encode before the write: a failing model writes nothing
        ids = self.store.add(kind, records, actor=actor, bind_key=bind_key)
        self._index_records(kind, ids, records)
        return ids

    def import_rows(self, kind: str, rows: Sequence[tuple[int, Any]], errors: Sequence[RowError], *,
                    skip_invalid: bool = False, catalogue: Catalogue | None = None,
                    progress: Progress | None = None, actor: Principal | None = None) -> dict[str, Any]:
        """Write parsed import rows: all or nothing, or the valid rows with ``skip_invalid``.

        ``kind`` is ``talents``, ``demands`` or ``catalogue``; ``errors`` are the parser's.
        """
        side: Kind = "talent" if kind == "talents" else "demand"
        if kind == "catalogue":
            rows = [(n, m.model_copy(update={"source": "catalogue"})) for n, m in rows]
        all_errors = list(errors)
        if side == "demand":
            # a file's enterprise ids are foreign to this database: the enterprise's name wins
            rows = [(n, m.model_copy(update={"enterprise_id": None}) if m.enterprise_name else m)
                    for n, m in rows]
            known = self.store.enterprise_names([m.enterprise_id for _, m in rows if m.enterprise_id])
            for n, m in rows:
                if m.enterprise_id is not None and m.enterprise_id not in known:
                    all_errors.append(RowError(row=n, field="enterprise_id",
                                               reason=f"企业 {m.enterprise_id} 不存在"))
            rows = [(n, m) for n, m in rows if m.enterprise_id is None or m.enterprise_id in known]
            coded = self._code_batch([self._demand_query(m) for _, m in rows if not m.occupation_code])
        else:
            coded = self._code_batch([o for _, m in rows for o in m.desired_occupations if not CODE_RE.match(o)])
        records: list[StoredRecord] = []
        for rowno, model in rows:
            try:
                records.append(self._prepare(side, model, coded))
            except InvalidInput as exc:
                fld = exc.errors[0].get("field", "-") if exc.errors else "-"
                all_errors.append(RowError(row=rowno, field=fld, reason=exc.detail))
        all_errors.sort(key=lambda e: e.row)
        if all_errors and not skip_invalid:
            raise ImportRejected(all_errors)
        self._encode_records(records, progress)
        catalogue_id = None
        if catalogue is not None:
            catalogue_id, ids = self.store.add_catalogue(catalogue, records, actor=actor)
            self._index_records(side, ids, records)
            self.save_index(side)
        else:
            ids = self.store.add(side, records, actor=actor)
            self._index_records(side, ids, records)
            self.save_index(side)
        return {"ids": ids, "errors": all_errors, "catalogue_id": catalogue_id}

    def update(self, kind: Kind, record_id: int, model: Any, *, actor: Principal | None = None) -> Any:
        rec = self._prepare(kind, model.model_copy(update={"id": record_id}))
        self._encode_records([rec], None)
        self.store.update(kind, record_id, rec, actor=actor)
        self._index_records(kind, [record_id], [rec])
        return self.store.get(kind, record_id)

    def delete(self, kind: Kind, record_id: int, *, actor: Principal | None = None) -> None:
        self.store.delete(kind, record_id, actor=actor)
        with self._lock:
            side = self._sides.get(kind)
            if side is not None and record_id in side.hashes:
                side.dense.remove([record_id])
                side.lexical.remove([record_id])
                del side.hashes[record_id]
                side.dirty = True

    def get(self, kind: Kind, record_id: int) -> Any:
        return self.store.get(kind, record_id)

    def _encode_records(self, records: Sequence[StoredRecord], progress: Progress | None) -> np.ndarray:
        return self.cached.passages([r.text for r in records], progress)

    def _index_records(self, kind: Kind, ids: Sequence[int], records: Sequence[StoredRecord]) -> None:
        with self._lock:
            side = self._sides.get(kind)
            if side is None:
                return  # not loaded yet: the next ensure_index reconciles from the database
            keep = [(i, r) for i, r in zip(ids, records, strict=True) if r.model.status == SEARCHABLE[kind]]
            drop = [i for i, r in zip(ids, records, strict=True) if r.model.status != SEARCHABLE[kind]]
            if drop:
                side.dense.remove(drop)
                side.lexical.remove(drop)
                for i in drop:
                    side.hashes.pop(i, None)
            if keep:
                vecs = self.cached.passages([r.text for _, r in keep])
                side.dense.add([i for i, _ in keep], vecs)
                side.lexical.upsert([i for i, _ in keep], [tokenize(r.text) for _, r in keep])
                for i, r in keep:
                    side.hashes[i] = r.text_hash
            side.dirty = True

    # -- indexes -------------------------------------------------------------------------

    def _index_dir(self, kind: Kind) -> Path:
        return self.settings.index_dir() / kind

    def _manifest(self, side: SideIndex) -> dict[str, Any]:
        fp = hashlib.sha256(json.dumps(sorted(side.hashes.items())).encode()).hexdigest()
        return {"model": self.encoder.name, "model_dim": self.encoder.dim, "side": side.kind,
                "index_format": INDEX_FORMAT, "fingerprint": fp, "background": side.background,
                "hashes": {str(k): v for k, v in side.hashes.items()}}

    def _new_side(self, kind: Kind, n: int) -> SideIndex:
        kind_ = choose_kind(n, self.settings.index_kind, self.settings.hnsw_threshold)
        if self.settings.index_backend == "numpy":
            kind_ = "flat"
        dense = create_index(self.settings.index_backend, self.encoder.dim, kind_,
                             hnsw_m=self.settings.hnsw_m, ef_search=self.settings.hnsw_ef_search)
        return SideIndex(kind, dense, BM25Index())

    def _load_side(self, kind: Kind) -> SideIndex | None:
        directory = self._index_dir(kind)
        if not (directory / "manifest.json").exists():
            return None
        try:
            dense, manifest = load_index(directory)
        except IndexNotReady as exc:
            log.warning("rebuilding the %s index: %s", kind, exc.detail)
            return None
        if (manifest.get("model") != self.encoder.name or manifest.get("model_dim") != self.encoder.dim
                or manifest.get("index_format") != INDEX_FORMAT
                or manifest.get("backend") != self.settings.index_backend):
            log.warning("rebuilding the %s index: built for another model or backend", kind)
            return None
        hashes = {int(k): v for k, v in manifest.get("hashes", {}).items()}
        if set(hashes) != {int(i) for i in dense.ids()}:
            log.warning("rebuilding the %s index: its id map disagrees with its vectors", kind)
            return None
        side = SideIndex(kind, dense, BM25Index(), hashes, float(manifest.get("background", 0.0)))
        if hashes:
            # token lists come from the cache saved with the index, keyed by text hash;
            # only texts missing from it are tokenised again (jieba dominates a restart)
            cached = load_token_cache(directory / TOKENS_FILE, tokenizer_fingerprint())
            have = [i for i in hashes if hashes[i] in cached]
            side.lexical.upsert(have, [cached[hashes[i]] for i in have])
            rest = [i for i in hashes if hashes[i] not in cached]
            if rest:
                texts = self.store.texts(kind, rest)
                ids = [i for i in rest if i in texts]
                side.lexical.upsert(ids, [tokenize(texts[i]) for i in ids])
        return side

    def ensure_index(self, kind: Kind, progress: Progress | None = None) -> SideIndex:
        """The loaded index of a side, reconciled with the database."""
        with self._lock:
            side = self._sides.get(kind)
            if side is None:
                side = self._load_side(kind) or self._new_side(kind, self.store.count(kind))
                self._sides[kind] = side
                self._reconcile(side, progress)
            return side

    def sync(self, kind: Kind | None = None, progress: Progress | None = None) -> dict[str, int]:
        """Reconcile the indexes with the database and save them; returns indexed counts."""
        out = {}
        for k in ([kind] if kind else ["demand", "talent"]):
            side = self.ensure_index(k, progress)  # type: ignore[arg-type]
            with self._lock:
                self._reconcile(side, progress)
                self.save_index(k)  # type: ignore[arg-type]
                out[k] = len(side.dense)
        return out

    def rebuild(self, kind: Kind, progress: Progress | None = None) -> int:
        with self._lock:
            side = self._new_side(kind, self.store.count(kind))
            self._sides[kind] = side
            self._reconcile(side, progress)
            self.save_index(kind)
            return len(side.dense)

    def _reconcile(self, side: SideIndex, progress: Progress | None) -> None:
        db = self.store.text_hashes(side.kind, status=SEARCHABLE[side.kind])
        stale = [i for i, h in side.hashes.items() if db.get(i) != h]
        fresh = [i for i, h in db.items() if side.hashes.get(i) != h]
        if stale:
            side.dense.remove(stale)
            side.lexical.remove(stale)
            for i in stale:
                del side.hashes[i]
        if fresh:
            texts = self.store.texts(side.kind, fresh)
            fresh = [i for i in fresh if i in texts]
            for start in range(0, len(fresh), 2048):
                chunk = fresh[start : start + 2048]
                vecs = self.cached.passages([texts[i] for i in chunk], progress)
                side.dense.add(chunk, vecs)
                side.lexical.upsert(chunk, [tokenize(texts[i]) for i in chunk])
                for i in chunk:
                    side.hashes[i] = db[i]
        if stale or fresh:
            side.background = self._background(side.dense)
            side.dirty = True

    @staticmethod
    def _background(index: VectorIndex, pairs: int = 2000) -> float:
        """Mean cosine of random pairs: what 'unrelated' looks like for this encoder and data."""
        ids = index.ids()
        if len(ids) < 2:
            return 0.0
        rng = np.random.default_rng(0)
        a = rng.choice(ids, size=min(pairs, len(ids)), replace=True)
        b = rng.choice(ids, size=len(a), replace=True)
        keep = a != b
        if not keep.any():
            return 0.0
        va, vb = index.get(a[keep]), index.get(b[keep])
        return float(np.clip(np.mean(np.sum(va * vb, axis=1)), 0.0, 0.99))

    def save_index(self, kind: Kind) -> None:
        with self._lock:
            side = self._sides.get(kind)
            if side is None:
                return
            side.dense.save(self._index_dir(kind), self._manifest(side))
            docs = side.lexical.documents()
            save_token_cache(self._index_dir(kind) / TOKENS_FILE,
                             {h: docs[i] for i, h in side.hashes.items() if i in docs}, tokenizer_fingerprint())
            side.dirty = False

    def save_all(self) -> None:
        for k, side in list(self._sides.items()):
            if side.dirty:
                self.save_index(k)  # type: ignore[arg-type]

    def index_status(self) -> dict[str, dict[str, Any]]:
        out = {}
        for kind in ("demand", "talent"):
            side = self._sides.get(kind)
            db = self.store.text_hashes(kind, status=SEARCHABLE[kind])
            out[kind] = {
                "loaded": side is not None,
                "indexed": len(side.dense) if side else 0,
                "database": len(db),
                "in_step": side is not None and side.hashes == db,
                "kind": side.dense.kind if side else None,
            }
        return out

    # -- matching ---------------------------------------------------------------------------

    def match_talent(self, talent_id: int, top_k: int = 10, filters: MatchFilters | None = None) -> list[Match]:
        """Ranked demand entries for a stored talent profile."""
        profile = self.store.get("talent", talent_id)
        return self.match_profile(profile, top_k, filters)

    def match_demand(self, demand_id: int, top_k: int = 10, filters: MatchFilters | None = None) -> list[Match]:
        """Ranked talents for a stored demand entry."""
        entry = self.store.get("demand", demand_id)
        return self.match_entry(entry, top_k, filters)

    def match_text(self, text: str, side: Literal["demands", "talents"], top_k: int = 10,
                   filters: MatchFilters | None = None) -> list[Match]:
        """Free text as a seeker's wish (side=demands) or an employer's need (side=talents)."""
        text = normalize_text(text)
        if not text:
            raise InvalidInput("查询文本不能为空")
        skills = self.vocab.extract(text)
        qvec = self.cached.query(text)
        if side == "demands":
            profile = TalentProfile(summary=text[:20000], skills=skills)
            # a free-text wish says nothing of education or certificates: no hard filters
            return self._rank_demands(profile, qvec, tokenize(text), top_k, filters, partial=True)
        if side == "talents":
            entry = DemandEntry(title=text[:200], description=text[:20000], required_skills=skills)
            return self._rank_talents(entry, qvec, tokenize(text), top_k, filters)
        raise InvalidInput("side 只能是 demands 或 talents")

    def match_profile(self, profile: TalentProfile, top_k: int = 10, filters: MatchFilters | None = None) -> list[Match]:
        rec = self._prepare_talent(profile)
        vec = self.cached.passages([rec.text])[0]
        return self._rank_demands(rec.model, vec, tokenize(rec.text), top_k, filters)  # type: ignore[arg-type]

    def match_entry(self, entry: DemandEntry, top_k: int = 10, filters: MatchFilters | None = None) -> list[Match]:
        rec = self._prepare_demand(entry)
        vec = self.cached.passages([rec.text])[0]
        return self._rank_talents(rec.model, vec, tokenize(rec.text), top_k, filters)  # type: ignore[arg-type]

    def _check_top_k(self, top_k: int) -> None:
        if not 1 <= top_k <= self.settings.max_top_k:
            raise InvalidInput(f"top_k 必须在 1 到 {self.settings.max_top_k} 之间")

    def _candidates(self, kind: Kind, vec: np.ndarray, tokens: list[str],
                    pool: int) -> tuple[list[int], dict[int, float], dict[int, float]]:
        """Fused candidate ids (best first), their cosine to the query and their BM25 score
        (absent where zero)."""
        side = self.ensure_index(kind)
        with self._lock:
            if len(side.dense) == 0:
                return [], {}, {}
            scores, ids = side.dense.search(vec[None, :].astype(np.float32), pool)
            dense = {int(i): float(s) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0}
            lexical = dict(side.lexical.search(tokens, pool))
            if self.settings.fusion == "rrf":
                fused = _fusion_rrf([list(dense), list(lexical)], self.settings.rrf_k)
            else:
                fused = _fusion_convex(dense, lexical)
            order = sorted(fused, key=lambda i: -fused[i])[:pool]
            missing = [i for i in order if i not in dense]
            if missing:
                vecs = side.dense.get(missing)
                for i, v in zip(missing, vecs, strict=True):
                    dense[i] = float(v @ vec)
            return order, {i: dense[i] for i in order}, lexical

    def _rank_demands(self, profile: TalentProfile, vec: np.ndarray, tokens: list[str], top_k: int,
                      filters: MatchFilters | None, partial: bool = False) -> list[Match]:
        return self._rank(profile, "demand", vec, tokens, top_k, filters, partial)

    def _rank_talents(self, entry: DemandEntry, vec: np.ndarray, tokens: list[str], top_k: int,
                      filters: MatchFilters | None) -> list[Match]:
        return self._rank(entry, "talent", vec, tokens, top_k, filters)

    def _rank(self, query: TalentProfile | DemandEntry, target: Kind, vec: np.ndarray, tokens: list[str],
              top_k: int, filters: MatchFilters | None, partial: bool = False) -> list[Match]:
        """Candidates of the target side for a query record: filtered, scored, best first."""
        self._check_top_k(top_k)
        filters = filters or MatchFilters()
        pool = max(self.settings.candidate_pool, top_k * 5)
        order, cos, lex = self._candidates(target, vec, tokens, pool)
        background = self._sides[target].background
        # free text: its words matter as such (a named skill, a title), so relevance blends the
        # BM25 score (scaled to the best candidate's) into the semantic feature, as the
        # occupation coder does
        top_lex = max(lex.values(), default=0.0) if partial else 0.0
        records = self.store.get_many(target, order)
        for_seeker = target == "demand"
        scored = []
        for i in order:
            other = records.get(i)
            if other is None:
                continue
            profile, entry = (query, other) if for_seeker else (other, query)
            if not self._passes(entry, profile, filters, for_seeker=for_seeker):
                continue
            sc = self._score(profile, entry, cos[i], background, target=target, partial=partial,
                             lexical=lex.get(i, 0.0) / top_lex if top_lex > 0 else None)
            if sc.eligible or filters.include_ineligible:
                scored.append(sc)
        top = self._top(scored, top_k)
        out = [self._to_match(sc) for sc in top]
        if for_seeker:  # a seeker reads "post｜enterprise"
            names = self.store.enterprise_names([sc.entry.enterprise_id for sc in top if sc.entry.enterprise_id])
            for m, sc in zip(out, top, strict=True):
                if sc.entry.enterprise_id in names:
                    m.title = f"{sc.entry.title}｜{names[sc.entry.enterprise_id]}"
        return out

    def _top(self, scored: list[Scored], top_k: int) -> list[Scored]:
        scored = [sc for sc in scored if sc.score >= self.settings.min_score]
        scored.sort(key=Scored.sort_key)
        return scored[:top_k]

    def _passes(self, entry: DemandEntry, profile: TalentProfile, f: MatchFilters, *, for_seeker: bool) -> bool:
        """Filters asked for by the caller, applied to the candidate side."""
        other: Any = entry if for_seeker else profile
        if entry.valid_until is not None and entry.valid_until < date.today():
            return False
        if f.city and other.city != self.regions.city(f.city):
            return False
        if f.province and self.regions.province(other.city) != self.regions.province(f.province):
            return False
        if f.chain_id:
            chain = self.resolve_chain(f.chain_id)
            if for_seeker and entry.chain_id != chain:
                return False
            if not for_seeker and chain not in profile.desired_chains:
                return False
        if f.education is not None:
            if for_seeker and entry.education is not None and entry.education > f.education:
                return False
            if not for_seeker and (profile.education is None or profile.education < f.education):
                return False
        if f.salary_min is not None:
            if for_seeker and entry.salary_max is not None and entry.salary_max < f.salary_min:
                return False
            if not for_seeker and profile.salary_min is not None and profile.salary_min > f.salary_min:
                return False
        if f.fresh_graduates_only:
            if for_seeker and not entry.fresh_graduates_ok:
                return False
            if not for_seeker and not profile.fresh_graduate:
                return False
        return True

    # -- scoring and explanation ------------------------------------------------------------

    def _score(self, profile: TalentProfile, entry: DemandEntry, cos: float, background: float,
               target: Kind, partial: bool = False, lexical: float | None = None) -> Scored:
        w = self.weights
        have = {self.vocab.key(s): s for s in profile.skills}
        text_keys = normalize_text(profile.summary).lower()
        req = [(self.vocab.key(s), s) for s in entry.required_skills]
        pref = [(self.vocab.key(s), s) for s in entry.preferred_skills]

        def held(key: str, label: str) -> bool:
            return key in have or (len(label) >= 2 and label.lower() in text_keys)

        matched = [s for k, s in req if held(k, s)]
        missing = [s for k, s in req if not held(k, s)]
        pref_matched = [s for k, s in pref if held(k, s)]
        pref_missing = [s for k, s in pref if not held(k, s)]
        unmet = [] if partial else self.rules.unmet(profile, entry)
        cert_reqs = [r for r in self.rules.requirements(entry) if r.kind != "education"]
        # a post closed to fresh graduates that asks for experience is a hard requirement
        unmet_fresh = (not partial and not entry.fresh_graduates_ok and profile.fresh_graduate
                       and profile.experience_years < max(entry.min_experience_years, 0.01))
        eligible = not unmet and not unmet_fresh

        sem = F.semantic(cos, background)
        if lexical is not None:
            sem = LEXICAL_SHARE_FREE_TEXT * lexical + (1 - LEXICAL_SHARE_FREE_TEXT) * sem
        used = len(matched) + len(pref_matched)
        # Ranking posts for a seeker who stated no skills (or only wrote a free-text wish, which
        # names a few skills but is no inventory): coverage is unknown, not zero. Scoring it as
        # zero sank every post that lists skills below posts that list none (issue 6's eval).
        skills_unknown = target == "demand" and (partial or not (profile.skills or matched or pref_matched))
        comp = {
            "semantic": sem,
            "required_skills": sem if skills_unknown else F.ratio(len(matched), len(req), empty=sem),
            "preferred_skills": sem if skills_unknown else F.ratio(len(pref_matched), len(pref), empty=1.0),
            "education": 1.0 if not any(r.kind == "education" for r in unmet) else 0.0,
            # the same for a major or experience the seeker did not state
            "major": F.NEUTRAL if target == "demand" and not profile.major and entry.majors
            else F.major_fit(profile.major, entry.majors),
            "experience": F.NEUTRAL if partial else F.experience_fit(profile.experience_years,
                                                                      entry.min_experience_years),
            "certificates": F.ratio(sum(1 for r in cert_reqs if r not in unmet), len(cert_reqs)),
            "skill_use": sem if partial else F.ratio(used, min(len(profile.skills), len(req) + len(pref)), empty=sem),
            "salary": F.salary_fit(profile.salary_min, profile.salary_max, entry.salary_min, entry.salary_max),
            "location": F.location_fit(profile.city, profile.preferred_cities, self.regions.province(profile.city),
                                       entry.city, self.regions.province(entry.city)),
            "occupation": F.occupation_fit([c for c in profile.desired_occupations if CODE_RE.match(c)],
                                           entry.occupation_code),
            "chain": F.chain_fit(profile.desired_chains, entry.chain_id),
            "shortage": F.shortage(entry.shortage_level),
        }
        employer = F.weighted(comp, {
            "semantic": w.e_semantic, "required_skills": w.e_required_skills,
            "preferred_skills": w.e_preferred_skills, "education": w.e_education, "major": w.e_major,
            "experience": w.e_experience, "certificates": w.e_certificates})
        seeker = F.weighted(comp, {
            "semantic": w.s_semantic, "skill_use": w.s_skill_use, "salary": w.s_salary,
            "location": w.s_location, "occupation": w.s_occupation, "chain": w.s_chain,
            "shortage": w.s_shortage})
        score = w.employer_share * employer + (1 - w.employer_share) * seeker
        return Scored(profile, entry, target, score, seeker, employer, comp, eligible, matched,
                      missing + pref_missing, unmet, unmet_fresh)

    def _to_match(self, sc: Scored) -> Match:
        explanation = self._explain(sc.profile, sc.entry, sc.matched, sc.missing, sc.unmet, sc.comp)
        if sc.unmet_fresh:
            explanation.unmet_requirements.append(
                f"该岗位不面向应届毕业生，要求 {sc.entry.min_experience_years:g} 年以上工作经验")
        if sc.target == "demand":
            title = sc.entry.title
        else:
            title = sc.profile.name or f"人才 {sc.profile.id}"
        return Match(kind=sc.target, id=sc.other_id, title=title, score=round(sc.score, 4),
                     seeker_score=round(sc.seeker, 4), employer_score=round(sc.employer, 4),
                     components={k: round(v, 4) for k, v in sc.comp.items()}, eligible=sc.eligible,
                     explanation=explanation)

    def _explain(self, profile: TalentProfile, entry: DemandEntry, matched: list[str], missing: list[str],
                 unmet: list, comp: dict[str, float]) -> Explanation:
        reasons = []
        if comp["semantic"] >= 0.5:
            reasons.append(f"整体背景与岗位内容相近（语义相关度 {comp['semantic']:.2f}）")
        n_req = len(entry.required_skills)
        if matched:
            reasons.append(f"技能匹配：{'、'.join(matched)}（{len(matched)}/{n_req} 项必备技能）")
        if entry.education is not None and profile.education is not None and comp["education"] == 1.0:
            reasons.append(f"学历符合：{profile.education.value}（要求{entry.education.value}及以上）")
        if comp["major"] >= 0.7 and entry.majors and profile.major:
            reasons.append(f"专业对口：{profile.major}")
        if comp["location"] >= 0.8 and entry.city:
            reasons.append(f"工作地点符合意向：{entry.city}")
        if comp["salary"] == 1.0 and entry.salary_max:
            reasons.append(f"薪资满足期望：{entry.salary_min or ''}-{entry.salary_max} 元/月")
        if comp["occupation"] >= 0.7:
            reasons.append(f"职业方向一致：{entry.occupation_name or entry.occupation_code}")
        if comp["chain"] == 1.0 and entry.chain_id:
            chain = self.chains().get(entry.chain_id)
            reasons.append(f"属于意向产业链：{chain.name if chain else entry.chain_id}")
        if entry.shortage_level and entry.shortage_level >= 4:
            reasons.append(f"急需紧缺岗位（{entry.shortage_level} 星）")
        if comp["experience"] < 1.0:
            reasons.append(f"工作经验 {profile.experience_years:g} 年，岗位要求 {entry.min_experience_years:g} 年")
        unmet_msgs = []
        for r in unmet:
            msg = f"未满足：{r.label}"
            if r.kind == "title":
                basis = [e for e in self.rules.equivalences if e["to"].get("level") == r.level]
                if basis:
                    msg += f"（取得{r.level}数字技术工程师证书可直接认定相应职称）"
            unmet_msgs.append(msg)
        return Explanation(matched_skills=matched, missing_skills=missing, unmet_requirements=unmet_msgs,
                           reasons=reasons, training=self.training_for(missing))

    def training_for(self, missing: Sequence[str], limit: int = 3) -> list[TrainingSuggestion]:
        """数字技术工程师 training directions that close the most of a skill gap."""
        covers: dict[str, list[str]] = {}
        for skill in missing:
            for d in self.vocab.directions_of(skill):
                covers.setdefault(d, []).append(skill)
        ranked = sorted(covers.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
        out = []
        for direction, skills in ranked:
            info = self.directions.get(direction, {})
            title = info.get("title") or f"数字技术工程师（{direction}）"
            out.append(TrainingSuggestion(
                direction=direction, covers=skills,
                message=f"建议参加{title}培训，可补齐：{'、'.join(skills)}"))
        return out

    # -- batch scoring (fairs, analytics) ----------------------------------------------------

    def vectors(self, kind: Kind, ids: Sequence[int]) -> np.ndarray:
        """Passage vectors of stored records, one row per id in order (from the embedding
        cache; encoded only if missing). Unknown ids raise NotFound."""
        ids = [int(i) for i in ids]
        texts = self.store.texts(kind, ids)
        unknown = [i for i in ids if i not in texts]
        if unknown:
            raise NotFound(f"{'需求条目' if kind == 'demand' else '人才档案'} {unknown[0]} 不存在")
        if not ids:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return self.cached.passages([texts[i] for i in ids])

    def background(self, kind: Kind = "demand") -> float:
        """Mean cosine of unrelated records of a side (what the semantic feature subtracts)."""
        return self.ensure_index(kind).background

    def score_pair(self, profile: TalentProfile, entry: DemandEntry, cos: float, *,
                   target: Kind = "demand", background: float | None = None) -> Scored:
        """The full two-sided score of one (talent, entry) pair, hard requirements included
        (``Scored.eligible``); ``cos`` is the cosine of their passage vectors."""
        bg = self.background(target) if background is None else background
        return self._score(profile, entry, cos, bg, target=target)

    def passes_filters(self, entry: DemandEntry, profile: TalentProfile, filters: MatchFilters, *,
                       for_seeker: bool) -> bool:
        """The caller's filters (city, chain, education, ...) applied to the candidate side."""
        return self._passes(entry, profile, filters, for_seeker=for_seeker)

    def to_match(self, sc: Scored) -> Match:
        """A scored pair as a shown result, with its explanation in Chinese."""
        return self._to_match(sc)

    # -- occupations ---------------------------------------------------------------------

    def code_occupations(self, texts: Sequence[str], top_k: int = 10):
        if not 1 <= top_k <= 100:
            raise InvalidInput("top_k 必须在 1 到 100 之间")
        return self.coder.code(list(texts), top_k)

    def search_occupations(self, q: str, limit: int = 20) -> list[dict[str, Any]]:
        return [{"code": o.code, "name": o.name, "digital": o.digital, "definition": o.definition}
                for o in self.taxonomy.search(q, limit)]

    # -- analytics -------------------------------------------------------------------------

    def chain_suggester(self):  # -> matcher.reference.chains.ChainSuggester
        """The keyword chain classifier over the registries in the store (rebuilt when they change)."""
        from matcher.reference.chains import ChainSuggester

        chains = self.chains()
        cached = getattr(self, "_chain_suggester", None)
        if cached is None or cached[0] is not chains:
            cached = (chains, ChainSuggester(chains.values(), self.regions))
            self._chain_suggester = cached
        return cached[1]

    def suggest_entry_chain(self, entry: DemandEntry) -> dict[str, Any]:
        """Chain fields for an entry without a given chain: the suggestion when it is sure
        enough (``matcher.reference.chains.MIN_CONFIDENCE``), else no chain."""
        from matcher.reference.chains import MIN_CONFIDENCE
        from matcher.storage.chains_repo import enterprise_of

        ent = enterprise_of(self.store, entry.enterprise_id, entry.enterprise_name)
        s = self.chain_suggester().suggest(
            demand_text(entry), title=entry.title, city=entry.city,
            enterprise_chain=ent.chain_id if ent else None,
            enterprise_name=ent.name if ent else entry.enterprise_name)
        if s is None or s.confidence < MIN_CONFIDENCE:
            return {"chain_id": None, "chain_suggested": False, "chain_confidence": None}
        return {"chain_id": s.chain_id, "chain_suggested": True, "chain_confidence": s.confidence}

    def register_chains(self, registry: str, chains: Sequence[IndustryChain], actor: Principal | None = None) -> int:
        """Store a registry (replacing the chains of the same registry, audited when someone
        loads it) and drop cached chains."""
        n = self.store.replace_registry(registry, chains, actor=actor)
        self._chains = None
        return n

    # -- fairs ------------------------------------------------------------------------------

    def prepare_records(self, kind: Kind, models: Sequence[Any]) -> list[StoredRecord | InvalidInput]:
        """Each model made ready to store (occupation coded, skills and chains canonical), or
        the InvalidInput that rejects it, in order; nothing is written."""
        coded = self._code_batch(self._coding_queries(kind, models))
        out: list[StoredRecord | InvalidInput] = []
        for m in models:
            try:
                out.append(self._prepare(kind, m, coded))
            except InvalidInput as exc:
                out.append(exc)
        return out

    def add_records_with(self, records: dict[Kind, Sequence[StoredRecord]],
                         write: Callable[[Any, dict[Kind, list[int]]], Any],
                         progress: Progress | None = None, *, actor: Principal | None = None,
                         resource: str = "fair") -> Any:
        """Store prepared records of both sides and what ``write(session, new ids by side)``
        adds, in one transaction (all or nothing, audited); then index the new records. Returns
        what ``write`` returns (an int is audited as the id of a new ``resource``)."""
        from sqlalchemy.exc import IntegrityError

        from matcher.core.errors import Conflict

        for recs in records.values():
            self._encode_records(recs, progress)  # encode first: a failing model writes nothing
        try:
            with self.store.session() as s:
                ids: dict[Kind, list[int]] = {k: self.store._insert(s, k, recs) for k, recs in records.items()}
                for k, new_ids in ids.items():
                    self.store._audit(s, actor, "create", k, new_ids)
                result = write(s, ids)
                if isinstance(result, int):
                    self.store._audit(s, actor, "create", resource, [result])
        except IntegrityError as exc:
            raise Conflict(f"写入失败（编号重复或引用无效）：{exc.orig}") from exc
        for kind, recs in records.items():
            if recs:
                self._index_records(kind, ids[kind], recs)
                self.save_index(kind)
        return result

    def close(self) -> None:
        self.save_all()
        self.store.close()

