"""The matching service: a facade composing the store, the encoder, the indexes and the rules.

Collaborators (each usable alone): ``store`` (the database), ``reference`` (occupations, regions,
qualification rules, skills), ``tokenizer`` and ``coder`` (from a :class:`SharedModels` cache),
``indexes`` (:class:`IndexManager`, dense + BM25 per side), ``chain_book`` (industry chains),
``preparer`` (:class:`RecordPreparer`), ``scorer`` (:class:`PairScorer`), ``explainer``
(:class:`Explainer`), ``outcomes`` (impressions and outcome events), and the HTTP layer's
``accounts``, ``enterprises``, ``audit_log`` and ``catalogues``. A promoted outcome model (the
registry under ``data_dir/models``) orders the lists and gives their reasons
(``matcher.ranking.learned``). Services are built by ``matcher.wiring.build_service``.

Writes go to the database first (committed), then to the derived indexes, which are reconciled
with the database when loaded.
"""

from __future__ import annotations

import copy
import logging
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any, Literal

import numpy as np

from matcher.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    RowError,
    WouldBlock,
)
from matcher.core.settings import Settings, Weights
from matcher.core.textnorm import normalize_text
from matcher.directory import AccountDirectory, AuditLog, CatalogueDirectory, EnterpriseDirectory
from matcher.domain.auth import Principal
from matcher.domain.schemas import (
    Catalogue,
    DemandEntry,
    IndustryChain,
    Match,
    MatchFilters,
    TalentProfile,
    TrainingSuggestion,
)
from matcher.domain.schemas import RecordKind as Kind
from matcher.ingest.parsing.requirements import stated_in_text
from matcher.ranking import learned
from matcher.ranking.explain import Explainer
from matcher.ranking.scorer import PairScorer, Scored, passes, top
from matcher.records import ChainBook, RecordPreparer, same_catalogue
from matcher.reference.bundle import ReferenceData
from matcher.reference.chains import ChainSuggester
from matcher.retrieval.encoders import build_encoder
from matcher.retrieval.indexes import IndexManager, SideIndex
from matcher.retrieval.occupation_coder import OccupationCoder
from matcher.retrieval.shared import SharedModels
from matcher.storage.audit import write_audit
from matcher.storage.outcomes_repo import NewEvent, OutcomeRepo, Shown
from matcher.storage.records import LABELS as RECORD_LABELS
from matcher.storage.store import Store, StoredRecord, StoreVectorCache
from models.encoders import CachedEncoder, Encoder
from models.rerankers.base import Reranker

Progress = Callable[[int], None]
log = logging.getLogger("talentmatch.service")
WEIGHTED = "weighted"


def _encode_batch(encoder: Encoder) -> int:
    """Texts per encoder call (and per write to the embedding cache): a static encoder is a table
    look-up whose cost is per call, so it takes an import's texts in few calls; a model keeps
    batches small (memory, and the progress bar moves)."""
    return 1024 if encoder.name.startswith("static") else 64


class MatchService:
    """Everything the CLI and the API do, behind typed methods.

    ``shared`` caches the tokenizer and the occupation coder across services (see
    ``matcher.wiring.PROCESS_MODELS``); without one, this service builds its own.
    """

    def __init__(self, settings: Settings, *, encoder: Encoder | None = None, store: Store | None = None,
                 weights: Weights | None = None, shared: SharedModels | None = None) -> None:
        self.settings = settings
        self._weights = weights or Weights()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = store or Store(settings.db_url())
        self.encoder = encoder or build_encoder(settings.encoder, settings.encoder_model)
        self._given_encoder = encoder
        self.cached = CachedEncoder(self.encoder, StoreVectorCache(self.store), _encode_batch(self.encoder))
        self.shared = shared or SharedModels()
        self.reference = ref = ReferenceData.load(settings.reference_dir)
        self.taxonomy, self.regions, self.rules = ref.taxonomy, ref.regions, ref.rules
        self.vocab, self.directions = ref.vocab, ref.directions
        # every word the tokenizer keeps whole is registered before anything is tokenised, so
        # token lists (and the saved token cache) do not depend on what was loaded first
        self.tokenizer = self.shared.tokenizer(ref.domain_words())
        self._coder: OccupationCoder | None = None
        self._coder_source: Callable[[], OccupationCoder] = lambda: self._build_coder(encoder)
        self.indexes = IndexManager(settings, self.cached, self.tokenizer, self.store)
        self.chain_book = ChainBook(self.store, ref)
        self.preparer = RecordPreparer(ref, lambda: self.coder, self.chain_book, self.store)
        self.scorer = PairScorer.for_reference(ref, self._weights)
        self.explainer = Explainer(ref.vocab, ref.rules, ref.directions, self.chain_book.all)
        self.accounts = AccountDirectory(self.store)
        self.enterprises = EnterpriseDirectory(self.store)
        self.audit_log = AuditLog(self.store)
        self.catalogues = CatalogueDirectory(self.store)
        self.outcomes = OutcomeRepo(self.store)
        self.results = ResultCache(settings.result_cache_size)
        self.record_cache = RecordCache(settings.record_cache_size)
        # the promoted outcome model (``talentmatch model promote``): its registry under the data
        # directory, re-read when its pointer file changes
        self.model_root = settings.data_dir / "models"
        self._model_lock = threading.Lock()
        # rankings computed at once in this process (``rank_concurrency``; None: no limit)
        self._rank_slots = (threading.BoundedSemaphore(settings.rank_concurrency)
                            if settings.rank_concurrency > 0 else None)
        self._model_key: tuple[int, int] | None = None
        self._model: tuple[str, Reranker | None] = (WEIGHTED, None)
        self.model_problem: str | None = None
        if not self.store.list_chains():
            self.load_chain_registries()  # registries are reference data: present from the start

    def _coder_encoder(self, given: Encoder | None) -> Encoder:
        """The occupation coder's encoder: ``settings.coder_encoder`` when it names another
        encoder than the service's (and the service's was not given), else the service's."""
        name = self.settings.coder_encoder
        if given is not None or not name or name == self.settings.encoder:
            return self.encoder
        return build_encoder(name)

    def _build_coder(self, given: Encoder | None, queries: str | None = None) -> OccupationCoder:
        """The shared occupation coder of this service's settings (``queries``: fast / e5,
        default ``settings.coder_queries``)."""
        enc = self._coder_encoder(given)
        return self._with_context_encoder(self.shared.coder(
            self.reference.taxonomy, enc, self.tokenizer, reference_dir=self.settings.reference_dir,
            cache_dir=self.settings.data_dir / "cache",
            query_encoder=self._coder_query_encoder(enc, queries or self.settings.coder_queries)))

    def _coder_query_encoder(self, coder_encoder: Encoder, queries: str) -> Encoder | None:
        """The fast coder's title encoder: with ``queries == "fast"``, the static encoder distilled
        from the coder's (the service's own when it is that one, else the shipped ``static-e5``
        when its teacher is the coder's encoder); None otherwise (titles by the coder's encoder)."""
        if queries != "fast":
            return None
        if (getattr(self.encoder, "meta", None) or {}).get("teacher") == coder_encoder.name:
            return self.encoder
        return self.shared.static_for(coder_encoder)

    def occupation_coder(self, queries: str | None = None) -> OccupationCoder:
        """The occupation coder with titles encoded the ``queries`` way (``fast`` / ``e5``;
        default: this service's, ``coder``)."""
        if queries is None or queries == self.settings.coder_queries:
            return self.coder
        if queries not in ("fast", "e5"):
            raise InvalidInput(f"未知的编码方式 {queries!r}，可选：fast、e5")
        return self._build_coder(self._given_encoder, queries)

    def _with_context_encoder(self, coder: OccupationCoder) -> OccupationCoder:
        """With a static service encoder distilled from the coder's (``static-e5`` beside e5:
        one vector space), the coder encodes record contexts (descriptions, majors: long, one
        per record) with the service's encoder and only the titles with its own."""
        teacher = (getattr(self.encoder, "meta", None) or {}).get("teacher")
        if coder.encoder is self.encoder or teacher != coder.encoder.name:
            return coder
        variant = copy.copy(coder)
        variant.context_encoder = self.encoder
        return variant

    @property
    def weights(self) -> Weights:
        """The ranking weights; setting them re-weights every later score (the scorer's too)."""
        return self._weights

    @weights.setter
    def weights(self, value: Weights) -> None:
        self._weights = value
        self.scorer.weights = value

    def with_encoder(self, encoder: Encoder, *, coder_encoder: Encoder | None = None) -> MatchService:
        """A service over the same store, indexes, reference data and chains whose encodings go
        through ``encoder``, and its occupation coder's through ``coder_encoder`` (default
        ``encoder``); e.g. memoising wrappers of this service's, which must encode alike (the
        indexes are shared). This service is unchanged."""
        twin = copy.copy(self)
        twin.encoder = encoder
        twin.cached = CachedEncoder(encoder, self.cached.cache, self.cached.batch_size)
        twin._coder = None
        twin.scorer = copy.copy(self.scorer)  # re-weighting the twin leaves this service alone
        twin.results = ResultCache(self.results.size)  # its lists are its encoder's
        twin._coder_source = lambda: _coder_with(self.coder, coder_encoder or encoder)
        twin.preparer = RecordPreparer(self.reference, lambda: twin.coder, self.chain_book, self.store)
        return twin

    # -- reference data --------------------------------------------------------------------

    @property
    def coder(self) -> OccupationCoder:
        """The occupation coder, built on first use (it tokenises and encodes the whole
        taxonomy) and shared through ``shared``."""
        if self._coder is None:
            self._coder = self._coder_source()
        return self._coder

    def load_chain_registries(self) -> int:
        """Load every data/chains/*.json registry into the store (replacing older copies)."""
        return self.chain_book.load_registries()

    def chains(self) -> dict[str, IndustryChain]:
        return self.chain_book.all()

    def resolve_chain(self, value: str | None) -> str | None:
        """A chain id from an id or a chain name; unknown values raise InvalidInput."""
        return self.chain_book.resolve(value)

    def chain_suggester(self) -> ChainSuggester:
        """The keyword chain classifier over the registries in the store (rebuilt when they change)."""
        return self.chain_book.suggester()

    def suggest_entry_chain(self, entry: DemandEntry) -> dict[str, Any]:
        """Chain fields for an entry without a given chain (see ChainBook.suggest_for_entry)."""
        return self.chain_book.suggest_for_entry(entry)

    def register_chains(self, registry: str, chains: Sequence[IndustryChain], actor: Principal | None = None) -> int:
        """Store a registry (replacing the chains of the same registry) and drop cached chains."""
        return self.chain_book.register(registry, chains, actor)

    # -- records -------------------------------------------------------------------------------

    def add(self, kind: Kind, models: Sequence[Any], progress: Progress | None = None, *,
            actor: Principal | None = None, bind_key: int | None = None) -> list[int]:
        """Validate, store (one transaction, audited) and index records of one side."""
        records = self.preparer.prepare_many(kind, models)
        self._encode(records, progress)  # encode before the write: a failing model writes nothing
        ids = self.store.add(kind, records, actor=actor, bind_key=bind_key)
        self.indexes.put(kind, ids, records)
        return ids

    def import_rows(self, kind: str, rows: Sequence[tuple[int, Any]], errors: Sequence[RowError], *,
                    skip_invalid: bool = False, catalogue: Catalogue | None = None,
                    progress: Progress | None = None, actor: Principal | None = None,
                    headers: dict[str, str] | None = None, replace: bool = False,
                    create_chains: bool = False) -> dict[str, Any]:
        """Write parsed import rows: all or nothing, or the valid rows with ``skip_invalid``.

        ``kind`` is ``talents``, ``demands`` or ``catalogue``; ``errors`` are the parser's;
        ``headers`` (field -> the file's column header) names the columns of row errors. A
        catalogue's region is the city of its entries that name none; the same catalogue of a
        region and year (same name, or the same entries) is refused (Conflict) unless
        ``replace``, which swaps it in one transaction; ``create_chains`` registers the chains
        the catalogue names that no registry has (``created_chains`` in the result).
        """
        created: list[IndustryChain] = []
        registry, previous = "", []
        if catalogue is not None and create_chains:
            registry = catalogue.chain_registry or f"{catalogue.region}{catalogue.year}"
            names = self.chain_book.unknown([getattr(m, "chain_id", None) for _, m in rows])
            previous = [c for c in self.store.list_chains() if ChainBook._registry_of(c.id, registry)]
            created = self.chain_book.create(names, catalogue.region, registry, actor) if names else []
        try:
            plan = self.preparer.prepare_import(kind, rows, errors, skip_invalid=skip_invalid, actor=actor,
                                                headers=headers, region=catalogue.region if catalogue else None)
            replaced = self._same_catalogue(catalogue, plan.records, replace)
            self._encode(plan.records, progress)
            catalogue_id, removed = None, []
            if catalogue is not None and replaced is not None:
                catalogue_id, ids, removed = self.store.replace_catalogue(replaced["id"], catalogue, plan.records,
                                                                          actor=actor)
            elif catalogue is not None:
                catalogue_id, ids = self.store.add_catalogue(catalogue, plan.records, actor=actor)
            else:
                ids = self.store.add(plan.side, plan.records, actor=actor)
        except Exception:
            if created:  # nothing imported: the chains made for it go too
                self.chain_book.register(registry, previous, actor)
            raise
        for old in removed:
            self.indexes.remove(plan.side, old)
        self.indexes.put(plan.side, ids, plan.records)
        self.indexes.save(plan.side)
        return {"ids": ids, "errors": plan.errors, "catalogue_id": catalogue_id,
                "created_chains": [c.model_dump() for c in created],
                "replaced": replaced}

    def _same_catalogue(self, catalogue: Catalogue | None, records: Sequence[StoredRecord],
                        replace: bool) -> dict[str, Any] | None:
        """The stored catalogue this import repeats (to replace), or None; Conflict when it
        repeats one and ``replace`` is not asked for."""
        if catalogue is None:
            return None
        same = same_catalogue(self.store, catalogue.region, catalogue.year, catalogue.name,
                              [r.model for r in records])
        if same is not None and not replace:
            raise Conflict(f"{catalogue.region} {catalogue.year} 年的这份目录已导入（目录编号 {same['id']}，"
                           f"{same['entries']} 条）；如需替换，请选择“替换已有目录”后重新导入（命令行加 --replace）")
        return same

    def prepare_records(self, kind: Kind, models: Sequence[Any]) -> list[StoredRecord | InvalidInput]:
        """Each model made ready to store (occupation coded, skills and chains canonical), or
        the InvalidInput that rejects it, in order; nothing is written."""
        return self.preparer.prepare_each(kind, models)

    def add_records_with(self, records: dict[Kind, Sequence[StoredRecord]],
                         write: Callable[[Any, dict[Kind, list[int]]], Any],
                         progress: Progress | None = None, *, actor: Principal | None = None,
                         resource: str = "fair") -> Any:
        """Store prepared records of both sides and what ``write(session, new ids by side)``
        adds, in one transaction (all or nothing, audited); then index the new records. Returns
        what ``write`` returns (an int is audited as the id of a new ``resource``)."""
        from sqlalchemy.exc import IntegrityError

        for recs in records.values():
            self._encode(recs, progress)  # encode first: a failing model writes nothing
        try:
            with self.store.session() as s:
                ids: dict[Kind, list[int]] = {k: self.store.insert_records(s, k, recs, actor) for k, recs in records.items()}
                for k, new_ids in ids.items():
                    write_audit(s, actor, "create", k, new_ids)
                result = write(s, ids)
                if isinstance(result, int):
                    write_audit(s, actor, "create", resource, [result])
        except IntegrityError as exc:  # a race with another writer: never echo the database's message
            raise Conflict("写入失败：外部编号重复或引用的记录不存在，请检查后重试") from exc
        for kind, recs in records.items():
            if recs:
                self.indexes.put(kind, ids[kind], recs)
                self.indexes.save(kind)
        return result

    def update(self, kind: Kind, record_id: int, model: Any, *, actor: Principal | None = None,
               claim_external: bool = False, expected_version: int | None = None) -> Any:
        """Validate, store and re-index a changed record (``claim_external``: see Store.update);
        PreconditionFailed when the stored version is not ``expected_version``."""
        return self._update(kind, record_id, model, actor, claim_external, expected_version)[0]

    def _update(self, kind: Kind, record_id: int, model: Any, actor: Principal | None, claim_external: bool,
                expected_version: int | None) -> tuple[Any, int]:
        [rec] = self.preparer.prepare_many(kind, [model.model_copy(update={"id": record_id})])
        self._encode([rec], None)
        stored = self.store.update(kind, record_id, rec, actor=actor, claim_external=claim_external,
                                   expected_version=expected_version)
        self.indexes.put(kind, [record_id], [rec])
        return stored

    def save(self, kind: Kind, record_id: int, change: Callable[[Any], Any], *, actor: Principal | None = None,
             if_match: int | None = None, claim_external: bool = False, attempts: int = 20) -> tuple[Any, int]:
        """Apply ``change(current)`` to a stored record without losing a concurrent change; returns
        the stored record and its new version.

        The record is read with its version, changed and prepared (coded, encoded: slow, so outside
        any lock), then written in one transaction that holds the row and finds the version
        unchanged. If another write came first, the change is applied again to the new record
        (so two PATCHes of different fields both stay), unless the caller named the version it
        changes (``if_match``, an ETag or a form's hidden version): then PreconditionFailed."""
        for _ in range(attempts):
            current, version = self.store.get_versioned(kind, record_id)
            if if_match is not None and if_match != version:
                raise PreconditionFailed(f"{'需求条目' if kind == 'demand' else '人才档案'} {record_id} 已被他人修改"
                                         f"（您看到的是第 {if_match} 版，现在是第 {version} 版），请重新打开后再修改")
            try:
                return self._update(kind, record_id, change(current), actor, claim_external, version)
            except PreconditionFailed:
                if if_match is not None:
                    raise
        raise Conflict("该记录正被频繁修改，请稍后重试")

    def get_versioned(self, kind: Kind, record_id: int) -> tuple[Any, int]:
        """A stored record and its version (the API's ETag)."""
        return self.store.get_versioned(kind, record_id)

    def delete(self, kind: Kind, record_id: int, *, actor: Principal | None = None) -> None:
        self.store.delete(kind, record_id, actor=actor)
        self.indexes.remove(kind, record_id)

    def get(self, kind: Kind, record_id: int) -> Any:
        return self.store.get(kind, record_id)

    def get_many(self, kind: Kind, ids: Sequence[int]) -> dict[int, Any]:
        """Stored records by id (unknown ids are left out)."""
        return self.store.get_many(kind, ids)

    def list_records(self, kind: Kind, *, offset: int = 0, limit: int = 50,
                     **filters: Any) -> tuple[list[Any], int]:
        """A page of records and the total count, filtered by equality on indexed columns."""
        return self.store.list(kind, offset=offset, limit=limit, **filters)

    def ping(self) -> bool:
        """Whether the database answers."""
        return self.store.ping()

    def _encode(self, records: Sequence[StoredRecord], progress: Progress | None) -> np.ndarray:
        return self.cached.passages([r.text for r in records], progress)

    # -- indexes ---------------------------------------------------------------------------------

    def ensure_index(self, kind: Kind, progress: Progress | None = None) -> SideIndex:
        """The loaded index of a side, reconciled with the database."""
        return self.indexes.ensure(kind, progress)

    def sync(self, kind: Kind | None = None, progress: Progress | None = None,
             moving: Callable[[str, str, str, int], None] | None = None) -> dict[str, int]:
        """Reconcile the indexes with the database and save them; returns indexed counts.
        ``moving(side, from_kind, to_kind, vectors)`` is told before a side's dense index is
        rebuilt as the kind that fits its size (see ``IndexManager.sync``)."""
        return self.indexes.sync(kind, progress, moving)

    def rebuild(self, kind: Kind, progress: Progress | None = None) -> int:
        return self.indexes.rebuild(kind, progress)

    def save_index(self, kind: Kind) -> None:
        self.indexes.save(kind)

    def save_all(self) -> None:
        self.indexes.save_all()

    def index_status(self) -> dict[str, dict[str, Any]]:
        return self.indexes.status()

    # -- matching ---------------------------------------------------------------------------

    def match_talent(self, talent_id: int, top_k: int = 10, filters: MatchFilters | None = None, *,
                     shown_to: Principal | None = None, profile: TalentProfile | None = None) -> list[Match]:
        """Ranked demand entries for a stored talent profile. ``shown_to``: the person the list
        is served to; each shown pair is then recorded as an impression (see ``outcomes``).
        ``profile``: the stored profile when the caller has just read it (not read again)."""
        return self._match_stored("talent", talent_id, top_k, filters, shown_to, profile)

    def match_demand(self, demand_id: int, top_k: int = 10, filters: MatchFilters | None = None, *,
                     shown_to: Principal | None = None) -> list[Match]:
        """Ranked talents for a stored demand entry (``shown_to``: as for ``match_talent``)."""
        return self._match_stored("demand", demand_id, top_k, filters, shown_to)

    def match_stored_unrecorded(self, kind: Kind, record_id: int, top_k: int = 10,
                                filters: MatchFilters | None = None, *, shown_to: Principal | None = None,
                                wait: bool = True) -> tuple[list[Match], Callable[[], None] | None]:
        """``match_talent`` (``kind="talent"``) or ``match_demand`` without their one write: the
        list, and the call that records it as shown to ``shown_to`` (its impressions), or None
        when there is nothing to record. A server ranks on its event loop (reads only) and makes
        that call in a thread (a write may wait for the database's lock). ``wait=False``:
        WouldBlock, before anything is changed, instead of waiting for the indexes' lock or a
        ranking slot (the event loop must not wait for a poll applying a bulk import)."""
        [matches], record = self._match_stored_views_unrecorded(kind, record_id, [(top_k, filters)], shown_to,
                                                                wait=wait)
        return matches, record

    def match_talent_views(self, talent_id: int, views: Sequence[tuple[int, MatchFilters | None]], *,
                           shown_to: Principal | None = None,
                           profile: TalentProfile | None = None) -> list[list[Match]]:
        """Several lists of one stored talent, ``(top_k, filters)`` each, from one ranking of its
        candidates: each list is the one ``match_talent(talent_id, top_k, filters)`` gives (a
        pair's score does not depend on the other candidates; lists whose candidate pools differ,
        ``top_k * 5`` above ``candidate_pool``, are ranked apart). ``shown_to`` is recorded as
        the first list's impression; ``profile``: as for ``match_talent``."""
        return self._match_stored_views("talent", talent_id, views, shown_to, profile)

    def _match_stored(self, kind: Kind, record_id: int, top_k: int, filters: MatchFilters | None,
                      shown_to: Principal | None, record: Any = None) -> list[Match]:
        """The ranked list of a stored record, from the per-process result cache when nothing it
        depends on changed since it was ranked (see :class:`ResultCache`); impressions and
        enterprise names are done for every call, cached or not."""
        return self._match_stored_views(kind, record_id, [(top_k, filters)], shown_to, record)[0]

    def _match_stored_views(self, kind: Kind, record_id: int, views: Sequence[tuple[int, MatchFilters | None]],
                            shown_to: Principal | None, record: Any = None) -> list[list[Match]]:
        """Lists of a stored record (``_match_stored``), the ones not cached ranked together."""
        lists, record_shown = self._match_stored_views_unrecorded(kind, record_id, views, shown_to, record)
        if record_shown is not None:
            record_shown()
        return lists

    def _match_stored_views_unrecorded(
            self, kind: Kind, record_id: int, views: Sequence[tuple[int, MatchFilters | None]],
            shown_to: Principal | None, record: Any = None, *,
            wait: bool = True) -> tuple[list[list[Match]], Callable[[], None] | None]:
        """``_match_stored_views`` and the call that records the first list as shown to
        ``shown_to`` (None when there is nothing to record); ``wait``: as for
        ``match_stored_unrecorded``."""
        target: Kind = "demand" if kind == "talent" else "talent"
        asked = [(top_k, filters or MatchFilters()) for top_k, filters in views]
        # the change log's position, read once: the result keys and the candidates' records use it
        position = self.store.last_change() if self.results.enabled or self.record_cache.enabled else 0
        keys = [self._result_key(kind, record_id, top_k, filters, position) for top_k, filters in asked]
        ranked: list[Ranked | None] = [self.results.get(k) if k is not None else None for k in keys]
        todo = [n for n, r in enumerate(ranked) if r is None]
        if todo:
            query = record if record is not None else self.current_record(kind, record_id, position=position)
            [rec] = self.preparer.prepare_many(kind, [query])
            # an indexed record's vector and tokens are in its side's indexes (no read of the
            # embedding cache, no tokenizing)
            vec, tokens = self.indexes.stored_query(kind, record_id, rec.text_hash, wait=wait)
            if vec is None:
                vec = self.cached.passages([rec.text])[0]
            if tokens is None:
                tokens = self.tokenizer.tokenize(rec.text)
            pools: dict[int, list[int]] = {}  # lists of one candidate pool are ranked together
            for n in todo:
                pools.setdefault(self._pool(asked[n][0]), []).append(n)
            for group in pools.values():
                for n, got in zip(group, self._ranked_views(rec.model, target, vec, tokens,
                                                            [asked[n] for n in group], reuse=(kind, record_id),
                                                            position=position, wait=wait),
                                  strict=True):
                    ranked[n] = got
                    if keys[n] is not None:
                        self.results.put(keys[n], got)
        lists = [self._serve(r, target) for r in ranked]  # type: ignore[arg-type]
        first = ranked[0]
        if shown_to is None or first is None or not first.shown:
            return lists, None
        return lists, lambda: self._record_shown(first, target, shown_to, record_id)

    def _result_key(self, kind: Kind, record_id: int, top_k: int, filters: MatchFilters,
                    position: int) -> tuple | None:
        """What a stored record's ranked list depends on: the record and the request, the change
        log's position in the database (``position``: any write of a talent or an entry, by any process), the
        state of this process's indexes (a poll that applied a change, a write through), the
        ranker (promoted model, weights), the chains in use and the day (posts expire by date)."""
        if not self.results.enabled:
            return None
        model_id, _ = self.active_model()
        return (kind, record_id, top_k, filters.model_dump_json(), position,
                self.indexes.generation, model_id, self._model_key, tuple(self._weights.model_dump().values()),
                id(self.chain_book.all()), date.today())

    def match_text(self, text: str, side: Literal["demands", "talents"], top_k: int = 10,
                   filters: MatchFilters | None = None) -> list[Match]:
        """Free text as a seeker's wish (side=demands) or an employer's need (side=talents).

        What the text states is read into the query: years ("三年Java经验"), education
        ("应届硕士"), fresh graduate, cities ("想在济南工作"); the rest of a seeker's profile
        stays unknown. The semantic feature is rescaled against this query's own background
        (its mean cosine to the side's records), and BM25 is blended in on both sides."""
        text = normalize_text(text)
        if not text:
            raise InvalidInput("查询文本不能为空")
        stated = stated_in_text(text, self.reference.regions)
        skills = self.vocab.extract(text)
        qvec = self.cached.query(text)
        if side == "demands":
            profile = TalentProfile(summary=text[:20000], skills=skills, experience_years=stated.years or 0.0,
                                    education=stated.education, fresh_graduate=stated.fresh_graduate,
                                    preferred_cities=stated.cities)
            # a free-text wish says nothing of certificates: only what it states is required
            return self._rank(profile, "demand", qvec, self.tokenizer.tokenize(text), top_k, filters, partial=True,
                              stated=stated.fields, free_text=True)
        if side == "talents":
            entry = DemandEntry(title=text[:200], description=text[:20000], required_skills=skills,
                                min_experience_years=stated.years or 0.0, education=stated.education,
                                city=stated.cities[0] if stated.cities else None)
            return self._rank(entry, "talent", qvec, self.tokenizer.tokenize(text), top_k, filters, free_text=True)
        raise InvalidInput("side 只能是 demands 或 talents")

    def match_profile(self, profile: TalentProfile, top_k: int = 10, filters: MatchFilters | None = None, *,
                      shown_to: Principal | None = None, record_id: int | None = None) -> list[Match]:
        [rec] = self.preparer.prepare_many("talent", [profile])  # free-text wishes coded in one batch
        vec = self.cached.passages([rec.text])[0]
        return self._rank(rec.model, "demand", vec, self.tokenizer.tokenize(rec.text), top_k, filters,
                          shown_to=shown_to, record_id=record_id)

    def match_entry(self, entry: DemandEntry, top_k: int = 10, filters: MatchFilters | None = None, *,
                    shown_to: Principal | None = None, record_id: int | None = None) -> list[Match]:
        [rec] = self.preparer.prepare_many("demand", [entry])
        vec = self.cached.passages([rec.text])[0]
        return self._rank(rec.model, "talent", vec, self.tokenizer.tokenize(rec.text), top_k, filters,
                          shown_to=shown_to, record_id=record_id)

    def _rank(self, query: TalentProfile | DemandEntry, target: Kind, vec: np.ndarray, tokens: list[str],
              top_k: int, filters: MatchFilters | None, partial: bool = False, *,
              stated: frozenset[str] = frozenset(), free_text: bool = False,
              shown_to: Principal | None = None, record_id: int | None = None) -> list[Match]:
        """Candidates of the target side for a query record: filtered, scored, best first."""
        ranked = self._ranked(query, target, vec, tokens, top_k, filters, partial, stated=stated, free_text=free_text)
        return self._serve(ranked, target, shown_to=shown_to, record_id=record_id)

    def _pool(self, top_k: int) -> int:
        """Candidates retrieved for a list of ``top_k``."""
        return max(self.settings.candidate_pool, top_k * 5)

    def _ranked(self, query: TalentProfile | DemandEntry, target: Kind, vec: np.ndarray, tokens: list[str],
                top_k: int, filters: MatchFilters | None, partial: bool = False, *,
                stated: frozenset[str] = frozenset(), free_text: bool = False) -> Ranked:
        """The ranked list of a query record (what the result cache keeps): no side effects."""
        return self._ranked_views(query, target, vec, tokens, [(top_k, filters)], partial, stated=stated,
                                  free_text=free_text)[0]

    def _ranked_views(self, query: TalentProfile | DemandEntry, target: Kind, vec: np.ndarray, tokens: list[str],
                      views: Sequence[tuple[int, MatchFilters | None]], partial: bool = False, *,
                      stated: frozenset[str] = frozenset(), free_text: bool = False,
                      reuse: tuple[str, int] | None = None, position: int | None = None,
                      wait: bool = True) -> list[Ranked]:
        """The ranked lists ``(top_k, filters)`` of a query record from one retrieval and one
        scoring of its candidates (the pool of the largest ``top_k``: lists of one pool), in
        one of the process's ranking slots (``rank_concurrency``). ``reuse``: the stored record
        ``(kind, id)`` whose vector ``vec`` is (its dense search reuses the last one's proof);
        ``position``: the change log's position read for this request (``candidate_records``);
        ``wait=False``: WouldBlock instead of waiting for a slot or the indexes' lock."""
        for top_k, _ in views:
            if not 1 <= top_k <= self.settings.max_top_k:
                raise InvalidInput(f"top_k 必须在 1 到 {self.settings.max_top_k} 之间")
        if self._rank_slots is None:
            return self._ranked_views_now(query, target, vec, tokens, views, partial, stated=stated,
                                          free_text=free_text, reuse=reuse, position=position, wait=wait)
        if not self._rank_slots.acquire(blocking=wait):
            raise WouldBlock("ranking slots")
        try:
            return self._ranked_views_now(query, target, vec, tokens, views, partial, stated=stated,
                                          free_text=free_text, reuse=reuse, position=position, wait=wait)
        finally:
            self._rank_slots.release()

    def _ranked_views_now(self, query: TalentProfile | DemandEntry, target: Kind, vec: np.ndarray,
                          tokens: list[str], views: Sequence[tuple[int, MatchFilters | None]], partial: bool,
                          *, stated: frozenset[str], free_text: bool,
                          reuse: tuple[str, int] | None = None, position: int | None = None,
                          wait: bool = True) -> list[Ranked]:
        views = [(top_k, filters or MatchFilters()) for top_k, filters in views]
        pool = self._pool(max(top_k for top_k, _ in views))
        found = self.indexes.candidates(target, vec, tokens, pool, reuse=reuse, wait=wait)
        # free text: its words matter as such (a named skill, a title), so relevance blends the
        # BM25 score (scaled to the best candidate's) into the semantic feature, as the
        # occupation coder does
        top_lex = max(found.lexical.values(), default=0.0) if free_text else 0.0
        background = self.indexes.query_background(target, vec) if free_text else found.background
        records = self.candidate_records(target, found.order, position=position)
        for_seeker = target == "demand"
        model_id, model = self.active_model() if not partial else (WEIGHTED, None)

        def keeps(filters: MatchFilters) -> Callable[[Any], bool]:
            """Whether a candidate passes a list's filters."""
            return lambda other: self.passes_filters(*((other, query) if for_seeker else (query, other)),
                                                     filters, for_seeker=for_seeker)

        if model is None and not partial and not free_text:
            # a stored or full record under the weighted formula: scored on arrays, once, the shown
            # ones again pair by pair for their explanations (PairScorer.rank_many: the same lists)
            ids = [i for i in found.order if i in records]
            many = self.scorer.rank_many(query, target, [(records[i], found.cosine[i]) for i in ids], background, ids)
            out = []
            for top_k, filters in views:
                shown = many.top(top_k, self.settings.min_score, include_ineligible=filters.include_ineligible,
                                 keep=keeps(filters))
                out.append(Ranked(shown, [self.explainer.to_match(sc) for sc in shown], [sc.score for sc in shown],
                                  None, model_id))
            return out
        candidates = [(records[i], found.cosine[i], found.lexical.get(i, 0.0) / top_lex if top_lex > 0 else None)
                      for i in found.order if i in records]
        if len(views) == 1:  # one list: its filters drop candidates before they are scored
            [(top_k, filters)] = views
            keep = keeps(filters)
            scored = self.scorer.scored(query, target, candidates, background,
                                        keep=lambda entry, profile: keep(entry if for_seeker else profile),
                                        include_ineligible=filters.include_ineligible, partial=partial, stated=stated)
            return [self._ranked_list(scored, model_id, model, top_k)]
        scored_all = self.scorer.scored(query, target, candidates, background, include_ineligible=True,
                                        partial=partial, stated=stated)
        out = []
        for top_k, filters in views:
            keep = keeps(filters)
            scored = [sc for sc in scored_all if (sc.eligible or filters.include_ineligible)
                      and keep(sc.entry if for_seeker else sc.profile)]
            out.append(self._ranked_list(scored, model_id, model, top_k))
        return out

    def _ranked_list(self, scored: list[Scored], model_id: str, model: Reranker | None, top_k: int) -> Ranked:
        """The ``top_k`` of scored candidates: ordered by a promoted outcome model (which gives the
        reasons too), else by the weighted score."""
        if model is not None:  # a promoted outcome model orders the list and gives the reasons
            ordered = learned.order(model, scored, top_k, self.settings.min_score)
            shown, rank_scores, rows = ordered.scored, [float(x) for x in ordered.score], ordered.features
            out = learned.apply([self.explainer.to_match(sc) for sc in shown], ordered, model_id,
                                model.feature_names, self.chain_book.all)
        else:
            shown = top(scored, top_k, self.settings.min_score)
            out = [self.explainer.to_match(sc) for sc in shown]
            rank_scores, rows = [sc.score for sc in shown], None
        return Ranked(shown, out, rank_scores, rows, model_id)

    def candidate_records(self, kind: Kind, ids: Sequence[int], *, position: int | None = None) -> dict[int, Any]:
        """Stored records by id, as ``get_many``, through the per-process record cache: no read
        when every one was confirmed at the current token (``RecordCache.confirmed``), else one
        read of their versions, and the records changed since (or never kept) read in full. The
        models returned may be shared with other callers: they must not be changed."""
        cache = self.record_cache
        if not cache.enabled:
            return self.store.get_many(kind, ids)
        # read before the versions (``position``: read earlier in this request): a write after it
        # moves the token, and its records are read again
        token = self._records_token(position)
        confirmed = cache.confirmed(kind, ids, token)
        if confirmed is not None:  # nothing written since they were confirmed: no read
            return confirmed
        kept = cache.snapshot(kind, ids)
        versions, fetched = self.store.get_many_unless(kind, ids, lambda i, v: kept.get(i, (0, None))[0] == v)
        cache.put_many(kind, {i: (versions[i], m) for i, m in fetched.items()}, token)
        cache.confirm(kind, versions, token)
        return {i: fetched[i] if i in fetched else kept[i][1] for i in versions}

    def current_record(self, kind: Kind, record_id: int, *, position: int | None = None) -> Any:
        """A stored record by id, as ``get`` reads it, through the record cache
        (:meth:`candidate_records`: no read when it is kept and confirmed at the current token);
        NotFound "<label> <id> 不存在" when there is none. The model may be shared: it must not
        be changed."""
        got = self.candidate_records(kind, [record_id], position=position).get(record_id)
        if got is None:
            raise NotFound(f"{RECORD_LABELS[kind]} {record_id} 不存在")
        return got

    def _records_token(self, position: int | None = None) -> tuple[int, int]:
        """What a kept record's confirmation depends on: the change log's position in the
        database (a write of a talent or an entry by any process; ``position`` when already
        read) and this process's indexes' generation (a poll that applied another process's
        change, as for the result cache)."""
        return self.store.last_change() if position is None else position, self.indexes.generation

    def warm_records(self, stop: threading.Event | None = None, batch: int = 2000) -> int:
        """Fill the record cache with the searchable records of both sides (the records a
        ranking can retrieve), page by page in id order, until every one is kept, the cache is
        full or ``stop`` is set; records already kept are left as they are. Returns how many were
        added. A server calls it in the background once its indexes are loaded: a first ranking
        then reads only its candidates' versions, and finds their keys worked out (at 10^5
        entries most candidates of a cold cache are read and validated, the larger part of the
        ranking's time)."""
        from matcher.retrieval.saved import SEARCHABLE

        cache, added = self.record_cache, 0
        if not cache.enabled:
            return 0
        cache.warming = True
        token = self._records_token()  # before the pages: a write during the warm moves it
        try:
            for kind in ("demand", "talent"):
                after = 0
                while not (stop is not None and stop.is_set()) and len(cache) < cache.size:
                    page = self.store.versioned_after(kind, after, batch, SEARCHABLE[kind])
                    if not page:
                        break
                    kept = cache.put_absent(kind, {i: (v, m) for i, v, m in page}, token)
                    self.scorer.remember(kind, kept)  # their keys, as a ranking reads them (KeyMemo)
                    added += len(kept)
                    after = page[-1][0]
        finally:
            cache.warming = False
        return added

    def _serve(self, ranked: Ranked, target: Kind, *, shown_to: Principal | None = None,
               record_id: int | None = None) -> list[Match]:
        """A ranked list as served: impressions recorded for ``shown_to``, and (for a seeker)
        each post titled "post｜enterprise" with the enterprise's current name; the matches are
        copies, so a cached list is never changed."""
        shown, for_seeker = ranked.shown, target == "demand"
        if shown_to is not None and record_id is not None and shown:
            self._record_shown(ranked, target, shown_to, record_id)
        out = [m.model_copy() for m in ranked.matches]
        if for_seeker:  # a seeker reads "post｜enterprise"
            names = self.store.enterprise_names([sc.entry.enterprise_id for sc in shown if sc.entry.enterprise_id])
            for m, sc in zip(out, shown, strict=True):
                if sc.entry.enterprise_id in names:
                    m.title = f"{sc.entry.title}｜{names[sc.entry.enterprise_id]}"
        return out

    def _record_shown(self, ranked: Ranked, target: Kind, shown_to: Principal, record_id: int) -> None:
        """The impressions of a list shown to ``shown_to`` (see ``outcomes``)."""
        for_seeker = target == "demand"
        rows = ranked.rows or ranked.feature_rows()
        pairs = [(record_id, sc.other_id) if for_seeker else (sc.other_id, record_id) for sc in ranked.shown]
        self.outcomes.add_impressions(target, uuid.uuid4().hex, [
            Shown(t, d, r, sc_score, row)
            for r, ((t, d), sc_score, row) in enumerate(zip(pairs, ranked.rank_scores, rows, strict=True), 1)],
            ranked.model_id, shown_to)

    # -- outcomes and the promoted model ------------------------------------------------------

    def active_model(self) -> tuple[str, Reranker | None]:
        """(id, model) of the promoted outcome model, or ("weighted", None). A promoted model whose
        features are not this service's (or that cannot be loaded) is refused: the service ranks
        with ``weighted`` and says why in ``model_problem``."""
        path = self.model_root / "registry.json"
        try:
            st = path.stat()
        except FileNotFoundError:
            return WEIGHTED, None
        with self._model_lock:
            key = (st.st_mtime_ns, st.st_size)
            if key != self._model_key:
                self._model_key, self._model = key, self._load_model()
            return self._model

    def _load_model(self) -> tuple[str, Reranker | None]:
        from models.errors import ModelError
        from models.rerankers import registry

        self.model_problem = None
        try:
            model_id = registry.current(self.model_root)
            if model_id is None:
                return WEIGHTED, None
            return model_id, registry.load_model(registry.model_dir(self.model_root, model_id), learned.FEATURES)
        except (ModelError, OSError, ValueError) as exc:
            self.model_problem = f"拒绝使用已上线的排序模型，改用 weighted：{exc}"
            log.warning(self.model_problem)
            return WEIGHTED, None

    def pair_features(self, talent_id: int, demand_id: int) -> dict[str, float]:
        """The model features of a stored pair as it would be scored now."""
        profile, entry = self.get("talent", talent_id), self.get("demand", demand_id)
        cos = float(self.vectors("demand", [demand_id])[0] @ self.vectors("talent", [talent_id])[0])
        return learned.feature_row(self.score_pair(profile, entry, cos, target="demand"))

    def record_outcome(self, who: Principal, talent_id: int | None, demand_id: int, kind: str, *,
                       fair_id: int | None = None, note: str | None = None) -> dict[str, Any]:
        """Record an event the caller may record (``matcher.domain.outcomes``: 403 for a kind
        outside their role, 404 for a pair they may not act on), with the snapshot of the pair's
        latest impression (or its features now, if it was never shown); audited."""
        # the access rules import the API's view models (pydantic, built at import): loaded by
        # the commands that record outcomes, not by every command that builds a service
        from matcher.domain.outcomes import authorise, source_of

        tid = authorise(self, who, talent_id, demand_id, kind)
        detail = {k: v for k, v in (("fair_id", fair_id), ("note", note)) if v is not None}
        [event] = self.record_outcomes([NewEvent(tid, demand_id, kind, source_of(who), detail=detail)], who)
        return event

    def record_outcomes(self, events: Sequence[NewEvent], actor: Principal | None,
                        at: datetime | None = None) -> list[dict[str, Any]]:
        """Record already authorised events in one transaction (all or nothing)."""
        ready = [e if e.features is not None or self.outcomes.has_impression(e.talent_id, e.demand_id)
                 else NewEvent(e.talent_id, e.demand_id, e.kind, e.source, e.at or at, e.detail,
                               self.pair_features(e.talent_id, e.demand_id))
                 for e in events]
        return self.outcomes.add_events(ready, actor)

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
        return self.indexes.ensure(kind).background

    def score_pair(self, profile: TalentProfile, entry: DemandEntry, cos: float, *,
                   target: Kind = "demand", background: float | None = None) -> Scored:
        """The full two-sided score of one (talent, entry) pair, hard requirements included
        (``Scored.eligible``); ``cos`` is the cosine of their passage vectors."""
        bg = self.background(target) if background is None else background
        return self.scorer.score(profile, entry, cos, bg, target=target)

    def passes_filters(self, entry: DemandEntry, profile: TalentProfile, filters: MatchFilters, *,
                       for_seeker: bool) -> bool:
        """The caller's filters (city, chain, education, ...) applied to the candidate side."""
        return passes(entry, profile, filters, for_seeker=for_seeker, regions=self.regions,
                      resolve_chain=self.chain_book.resolve)

    def to_match(self, sc: Scored) -> Match:
        """A scored pair as a shown result, with its explanation in Chinese."""
        return self.explainer.to_match(sc)

    def training_for(self, missing: Sequence[str], limit: int = 3) -> list[TrainingSuggestion]:
        """数字技术工程师 training directions that close the most of a skill gap."""
        return self.explainer.training_for(missing, limit)

    # -- occupations ---------------------------------------------------------------------

    def code_occupations(self, texts: Sequence[str], top_k: int = 10, queries: str | None = None,
                         recheck_below: float = 0.0):
        """Top-k occupations of each title (``queries``: ``fast`` / ``e5`` title encoding,
        default the service's, see ``Settings.coder_queries``; ``recheck_below``: the fast
        coder codes titles whose top confidence is below it again with e5)."""
        if not 1 <= top_k <= 100:
            raise InvalidInput("top_k 必须在 1 到 100 之间")
        if not 0 <= recheck_below <= 1:
            raise InvalidInput("recheck_below 必须在 0 到 1 之间")
        return self.occupation_coder(queries).code(list(texts), top_k, recheck_below=recheck_below)

    def search_occupations(self, q: str, limit: int = 20) -> list[dict[str, Any]]:
        return [{"code": o.code, "name": o.name, "digital": o.digital, "definition": o.definition}
                for o in self.taxonomy.search(q, limit)]

    def close(self) -> None:
        self.indexes.save_all()
        self.store.close()


@dataclass
class Ranked:
    """A ranked list before it is served: the scored pairs shown, their matches (titles without
    the enterprise name), the score each was ranked by, the model features (a promoted model's;
    else computed when impressions need them) and what ranked them."""

    shown: list[Scored]
    matches: list[Match]
    rank_scores: list[float]
    rows: list[dict[str, float]] | None
    model_id: str

    def feature_rows(self) -> list[dict[str, float]]:
        if self.rows is None:
            self.rows = [learned.feature_row(sc) for sc in self.shown]
        return self.rows


class ResultCache:
    """Ranked lists of stored records in this process, least recently used dropped first.

    A key holds everything a list depends on (``MatchService._result_key``), among them the
    change log's last position read from the database on every call: a write of any talent or
    entry by any process or connection makes every older key unreachable at once, so a cached
    list is served only while an uncached call would rank the same data."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Ranked] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def get(self, key: tuple) -> Ranked | None:
        with self._lock:
            got = self._items.get(key)
            if got is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return got

    def put(self, key: tuple, value: Ranked) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_MODEL, _TOKEN = itemgetter(1), itemgetter(2)  # of a RecordCache item (version, model, token)
_SIDE_BIT = {"demand": 0, "talent": 1}  # a RecordCache key: id << 1 | side (an int: no tuple to build, hash or compare)


class RecordCache:
    """Validated records of both sides by (kind, id) with their version, least recently used
    dropped first. Ids are never reused and every write bumps a record's version, so a kept
    record whose version is the stored one is the stored record. Each item also remembers the
    ``token`` (the change log's position and the indexes' generation) at which its version was
    last confirmed: while the token has not moved, nothing was written and it needs no read."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[int, Any, Any]] = OrderedDict()  # key: see _SIDE_BIT
        self._lock = threading.Lock()
        self.warming = False  # MatchService.warm_records is filling it

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def snapshot(self, kind: str, ids: Sequence[int]) -> dict[int, tuple[int, Any]]:
        """(version, record) of the ids kept."""
        bit, out = _SIDE_BIT[kind], {}
        with self._lock:
            for i in ids:
                got = self._items.get(key := i << 1 | bit)
                if got is not None:
                    self._items.move_to_end(key)
                    out[i] = got[:2]
        return out

    def confirmed(self, kind: str, ids: Sequence[int], token: Any) -> dict[int, Any] | None:
        """The records of ``ids`` when every one is kept and was confirmed at ``token``, else None."""
        bit = _SIDE_BIT[kind]
        keys = [i << 1 | bit for i in ids]
        with self._lock:  # a ranking's 200 candidates on every call: the loops are C's (map)
            items = self._items
            got = list(map(items.get, keys))
            if None in got or set(map(_TOKEN, got)) - {token}:
                return None
            deque(map(items.move_to_end, keys), maxlen=0)
        return dict(zip(ids, map(_MODEL, got), strict=True))

    def put_many(self, kind: str, items: dict[int, tuple[int, Any]], token: Any = None) -> None:
        bit = _SIDE_BIT[kind]
        with self._lock:
            for i, (version, record) in items.items():
                self._items[key := i << 1 | bit] = (version, record, token)
                self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def confirm(self, kind: str, versions: dict[int, int], token: Any) -> None:
        """Mark the kept items whose version is the one read (``versions``) as confirmed at ``token``."""
        bit = _SIDE_BIT[kind]
        with self._lock:
            for i, version in versions.items():
                got = self._items.get(key := i << 1 | bit)
                if got is not None and got[0] == version and got[2] != token:
                    self._items[key] = (version, got[1], token)

    def put_absent(self, kind: str, items: dict[int, tuple[int, Any]], token: Any = None) -> list[Any]:
        """Keep the items not kept yet, as the least recently used, while there is room (a
        kept item may be newer: it stays); returns the records added."""
        bit, added = _SIDE_BIT[kind], []
        with self._lock:
            for i, (version, record) in items.items():
                if len(self._items) >= self.size:
                    break
                if (key := i << 1 | bit) not in self._items:
                    self._items[key] = (version, record, token)
                    self._items.move_to_end(key, last=False)
                    added.append(record)
        return added

    def __len__(self) -> int:
        return len(self._items)


def _coder_with(coder: OccupationCoder, encoder: Encoder) -> OccupationCoder:
    """A copy of ``coder`` encoding queries with ``encoder`` (it shares the taxonomy, tokenizer,
    BM25 index and vectors)."""
    if coder.encoder is encoder:
        return coder
    variant = copy.copy(coder)
    variant.encoder = encoder
    return variant
