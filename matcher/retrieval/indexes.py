"""The derived search indexes of both sides (dense vectors + BM25), kept in step with the database.

Each side's index is loaded from disk when its manifest matches the settings (model, dimension,
backend, format) and reconciled with the database by text hash: records whose text changed are
re-indexed (vectors come from the embedding cache, so nothing unchanged is re-encoded). Token
lists are saved beside each dense index, keyed by text hash, so a restart tokenises only texts
it has not seen. All methods are thread-safe (one lock for both sides). BM25 is built when a
side loads; after a write it is rebuilt in the background and swapped in, so a query never
waits for it (:class:`~matcher.retrieval.lexical.BM25Index`).

Several processes share one database: each applies the database's change log
(``matcher.storage.changes``) to its indexes (``poll``, on a timer with ``follow``), so a write by
any process reaches every server's indexes within a poll interval. A saved file that cannot be
read (truncated, corrupt, another format) is a warning and a rebuild of that part, never a failed
start.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from matcher.core.background import Background
from matcher.core.errors import IndexNotReady, WouldBlock
from matcher.core.settings import Settings
from matcher.domain.schemas import RecordKind as Kind
from matcher.retrieval.fusion import fusion_convex, fusion_rrf
from matcher.retrieval.lexical import BM25Index, Tokenizer, load_token_cache, save_token_cache
from matcher.retrieval.saved import SEARCHABLE, TOKENS_FILE, kind_for_size, saved_status
from matcher.retrieval.vectorindex import (
    Pool,
    VectorIndex,
    auto_nlist,
    choose_kind,
    create_index,
    load_index,
    search_threads,
)
from matcher.storage.changes import ChangeCursor
from models.encoders import CachedEncoder

log = logging.getLogger(__name__)


Progress = Callable[[int], None]
INDEX_FORMAT = 1
BM25_DIR = "bm25"  # the built BM25 index of those token lists (bm25s files), when it was current


class RecordTexts(Protocol):
    """What the indexes read from the database (``matcher.storage.store.Store`` provides it)."""

    def text_hashes(self, kind: str, status: str | None = None) -> dict[int, str]: ...

    def texts(self, kind: str, ids: Sequence[int] | None = None) -> dict[int, str]: ...

    def count(self, kind: str) -> int: ...

    def text_hashes_of(self, kind: str, ids: Sequence[int], status: str | None = None) -> dict[int, str]: ...

    def last_change(self) -> int: ...

    def changes_since(self, after: int, also: Sequence[int] = ()) -> list[tuple[int, str, int]]: ...


class IndexedRecord(Protocol):
    """A record as written (``matcher.storage.store.StoredRecord``): its model (for its status),
    canonical text and text hash."""

    model: Any
    text: str
    text_hash: str


@dataclass
class SideIndex:
    """The dense and lexical indexes of one side, with the text hash of every indexed id."""

    kind: Kind
    dense: VectorIndex
    lexical: BM25Index
    hashes: dict[int, str] = field(default_factory=dict)
    background: float = 0.0
    dirty: bool = False
    # what earlier dense searches of stored records' vectors proved (VectorIndex.search_reusing),
    # by (the record's kind, its id), least recently used first
    pools: OrderedDict[tuple[str, int], Pool] = field(default_factory=OrderedDict)


@dataclass
class Candidates:
    """Fused candidate ids (best first), their cosine to the query, their BM25 score (absent
    where zero) and the side's background cosine."""

    order: list[int]
    cosine: dict[int, float]
    lexical: dict[int, float]
    background: float


def background_cosine(index: VectorIndex, pairs: int = 2000) -> float:
    """Mean cosine of random pairs: what 'unrelated' looks like for this encoder and data. The
    pairs are drawn from the ids in sorted order, so every process holding the same vectors
    (a server that wrote them, one that applied the change log, one that loaded the saved
    index) draws the same pairs and scores alike."""
    ids = np.sort(index.ids())
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


class _StopWakes(threading.Event):
    """A stop event that also wakes the thread it stops."""

    def __init__(self, wake: threading.Event) -> None:
        super().__init__()
        self._wake = wake

    def set(self) -> None:
        super().set()
        self._wake.set()


class IndexManager:
    """The loaded indexes of both sides: load, reconcile, write through, save, search."""

    def __init__(self, settings: Settings, cached: CachedEncoder, tokenizer: Tokenizer,
                 records: RecordTexts) -> None:
        self.settings = settings
        self.cached = cached
        self.tokenizer = tokenizer
        self.records = records
        self._lock = threading.RLock()
        self._sides: dict[str, SideIndex] = {}
        self._background_sample: dict[str, tuple[int, np.ndarray]] = {}  # kind -> (index size, vectors)
        self._cursor: ChangeCursor | None = None  # where this process is in the change log
        self.applied = 0  # records re-checked from the change log (for metrics)
        # bumped whenever an index changes here (a write through, a poll that applied changes, a
        # load, a rebuild): with the change-log position, what a cached result depends on
        self.generation = 0

    # -- loading -----------------------------------------------------------------------------

    def _dir(self, kind: Kind) -> Path:
        return self.settings.index_dir() / kind

    def _manifest(self, side: SideIndex) -> dict[str, Any]:
        fp = hashlib.sha256(json.dumps(sorted(side.hashes.items())).encode()).hexdigest()
        return {"model": self.cached.name, "model_dim": self.cached.dim, "side": side.kind,
                "index_format": INDEX_FORMAT, "fingerprint": fp, "background": side.background,
                "hashes": {str(k): v for k, v in side.hashes.items()}}

    def _new(self, kind: Kind, n: int) -> SideIndex:
        kind_ = choose_kind(n, self.settings.index_kind, self.settings.hnsw_threshold)
        if self.settings.index_backend == "numpy":
            kind_ = "flat"
        dense = create_index(self.settings.index_backend, self.cached.dim, kind_,
                             hnsw_m=self.settings.hnsw_m, ef_search=self.settings.hnsw_ef_search,
                             nlist=self.settings.ivf_nlist or auto_nlist(n), nprobe=self.settings.ivf_nprobe,
                             flat_two_stage=self.settings.flat_two_stage)
        return SideIndex(kind, dense, BM25Index(background=True))

    def _load(self, kind: Kind) -> SideIndex | None:
        try:
            return self._load_files(kind)
        except Exception as exc:  # any other unreadable file: the index is derived data, rebuild it
            log.warning("rebuilding the %s index: its files cannot be read (%s: %s)", kind, type(exc).__name__, exc)
            return None

    def _load_files(self, kind: Kind) -> SideIndex | None:
        directory = self._dir(kind)
        if not (directory / "manifest.json").exists():
            return None
        try:
            # a flat index searches as the settings say, whatever it was saved with
            dense, manifest = load_index(directory, flat_two_stage=self.settings.flat_two_stage)
        except IndexNotReady as exc:
            log.warning("rebuilding the %s index: %s", kind, exc.detail)
            return None
        if (manifest.get("model") != self.cached.name or manifest.get("model_dim") != self.cached.dim
                or manifest.get("index_format") != INDEX_FORMAT
                or manifest.get("backend") != self.settings.index_backend):
            log.warning("rebuilding the %s index: built for another model or backend", kind)
            return None
        hashes = {int(k): v for k, v in manifest.get("hashes", {}).items()}
        if set(hashes) != {int(i) for i in dense.ids()}:
            log.warning("rebuilding the %s index: its id map disagrees with its vectors", kind)
            return None
        side = SideIndex(kind, dense, BM25Index(background=True), hashes, float(manifest.get("background", 0.0)))
        if hashes:
            # token lists come from the cache saved with the index, keyed by text hash;
            # only texts missing from it are tokenised again (jieba dominates a restart)
            try:
                cached = load_token_cache(directory / TOKENS_FILE, self.tokenizer.fingerprint())
            except Exception as exc:  # truncated or corrupt: the token lists are rebuilt from the texts
                log.warning("the %s token cache %s cannot be read (%s: %s): tokenising the texts again",
                            kind, TOKENS_FILE, type(exc).__name__, exc)
                cached = {}
            have = [i for i in hashes if hashes[i] in cached]
            side.lexical.upsert(have, [cached[hashes[i]] for i in have])
            rest = [i for i in hashes if hashes[i] not in cached]
            if rest:
                texts = self.records.texts(kind, rest)
                ids = [i for i in rest if i in texts]
                side.lexical.upsert(ids, [self.tokenizer.tokenize(texts[i]) for i in ids])
                side.dirty = True  # the saved token lists were incomplete: save them whole
            else:
                # the BM25 index built from exactly these token lists, saved with them
                side.lexical.load_built(directory / BM25_DIR, self._bm25_key(manifest.get("fingerprint")))
        return side

    def _bm25_key(self, fingerprint: object) -> dict[str, Any]:
        """What a saved BM25 index must match: the records' text hashes (the manifest's
        fingerprint) and the tokenizer that made their token lists."""
        return {"fingerprint": fingerprint, "tokenizer": self.tokenizer.fingerprint(), "format": 2}

    def ensure(self, kind: Kind, progress: Progress | None = None) -> SideIndex:
        """The loaded index of a side, reconciled with the database."""
        with self._lock:
            side = self._sides.get(kind)
            if side is None:
                if self._cursor is None:  # changes after this point are applied by poll()
                    self._cursor = ChangeCursor(self.records.last_change())
                side = self._load(kind) or self._new(kind, self.records.count(kind))
                self._sides[kind] = side
                self._reconcile(side, progress)
                self.generation += 1
                # the first BM25 build belongs to loading, not to the first query; later
                # writes are rebuilt in the background while queries use the last index (a
                # saved index of the same token lists was loaded instead when there was one)
                if not side.lexical.current:
                    side.lexical.refresh()
            return side

    def sync(self, kind: Kind | None = None, progress: Progress | None = None,
             moving: Callable[[str, str, str, int], None] | None = None) -> dict[str, int]:
        """Reconcile the indexes with the database, move a side whose dense index no longer fits
        its size to the kind that does (:func:`kind_for_size`; ``moving(side, from, to, n)`` is
        told first: it can take minutes at 10^6), and save them; returns indexed counts."""
        out = {}
        for k in ([kind] if kind else ["demand", "talent"]):
            side = self.ensure(k, progress)  # type: ignore[arg-type]
            with self._lock:
                self._reconcile(side, progress)
                self._refit(side, moving)
                self.save(k)  # type: ignore[arg-type]
                out[k] = len(side.dense)
        return out

    def _refit(self, side: SideIndex, moving: Callable[[str, str, str, int], None] | None = None) -> None:
        """The side's dense index rebuilt as the kind that fits its size, from its own stored
        vectors (nothing is encoded again; the ids, hashes and BM25 index stay), when it grew
        or shrank out of the one it has."""
        dense = side.dense
        want = kind_for_size(len(dense), dense.kind, getattr(dense, "nlist", None), self.settings)
        if want is None:
            return
        if moving is not None:
            moving(side.kind, dense.kind, want, len(dense))
        started = time.monotonic()
        ids = np.asarray(dense.ids(), dtype=np.int64)
        fresh = self._new(side.kind, len(ids)).dense
        for start in range(0, len(ids), 65_536):
            chunk = ids[start : start + 65_536]
            fresh.add(chunk, dense.get(chunk))
        fresh.settle()
        side.dense = fresh
        side.pools.clear()  # pools of the old index (the new one would not use them)
        side.dirty = True
        self.generation += 1
        log.info("the %s index moved from %s to %s at %d vectors in %.1f s", side.kind, dense.kind, fresh.kind,
                 len(ids), time.monotonic() - started)

    def rebuild(self, kind: Kind, progress: Progress | None = None) -> int:
        with self._lock:
            side = self._new(kind, self.records.count(kind))
            self._reconcile(side, progress)
            side.lexical.refresh()
            self._sides[kind] = side
            self.generation += 1
            self.save(kind)
            return len(side.dense)

    def _reconcile(self, side: SideIndex, progress: Progress | None, only: Sequence[int] | None = None) -> None:
        """Bring a side in step with the database: every record, or the records ``only``."""
        if only is None:
            db = self.records.text_hashes(side.kind, status=SEARCHABLE[side.kind])
            stale = [i for i, h in side.hashes.items() if db.get(i) != h]
        else:
            db = self.records.text_hashes_of(side.kind, only, status=SEARCHABLE[side.kind])
            stale = [i for i in only if i in side.hashes and db.get(i) != side.hashes[i]]
        fresh = [i for i, h in db.items() if side.hashes.get(i) != h]
        if stale:
            side.dense.remove(stale)
            side.lexical.remove(stale)
            for i in stale:
                del side.hashes[i]
        if fresh:
            texts = self.records.texts(side.kind, fresh)
            fresh = [i for i in fresh if i in texts]
            for start in range(0, len(fresh), 2048):
                chunk = fresh[start : start + 2048]
                vecs = self.cached.passages([texts[i] for i in chunk], progress)
                side.dense.add(chunk, vecs)
                side.lexical.upsert(chunk, [self.tokenizer.tokenize(texts[i]) for i in chunk])
                for i in chunk:
                    side.hashes[i] = db[i]
        if fresh:
            side.dense.settle()  # e.g. IVF: train the centroids once a bulk load has enough vectors
        if stale or fresh:
            self._changed(side)

    def _changed(self, side: SideIndex) -> None:
        """After a side's records changed (reconciled, polled or written through): its background
        is drawn again (the same pairs for the same ids in every process: a server that wrote the
        records and one that applied the change log score alike), it is saved on the next save, and
        the generation moves (the caches keyed by it)."""
        side.background = background_cosine(side.dense)
        side.dirty = True
        self.generation += 1

    # -- other processes' writes ----------------------------------------------------------

    def poll(self) -> int:
        """Apply the change log since the last poll to the loaded sides; returns how many
        records were re-checked (an unchanged one costs a hash comparison)."""
        with self._lock:
            cursor = self._cursor
            if cursor is None:
                return 0
            rows = self.records.changes_since(cursor.last, sorted(cursor.gaps))
            if not rows:
                cursor.advance([])
                return 0
            touched: dict[str, set[int]] = {}
            for _, kind, record_id in rows:
                touched.setdefault(kind, set()).add(record_id)
            for kind, ids in touched.items():
                side = self._sides.get(kind)
                if side is not None:
                    self._reconcile(side, None, sorted(ids))
            cursor.advance([seq for seq, _, _ in rows])
            # a change that moved no index (e.g. an entry's years of experience) still changes
            # rankings: cached lists are keyed by the last change number, and on PostgreSQL a
            # write can commit below a number already read (numbers are handed out before
            # commit), so that number alone would not move; the generation does
            self.generation += 1
            n = sum(len(ids) for ids in touched.values())
            self.applied += n
            return n

    def follow(self, interval: float) -> Background:
        """Apply other processes' writes until the returned handle is stopped: on PostgreSQL as
        soon as a write commits (LISTEN/NOTIFY, ``Store.listen_changes``), and everywhere every
        ``interval`` seconds (the fallback: SQLite, a lost listening connection). Every hour the
        change log older than a day is pruned."""
        wake = threading.Event()

        def run(stop: threading.Event) -> None:
            last_prune = 0.0
            while not stop.is_set():
                wake.wait(interval)
                wake.clear()
                if stop.is_set():
                    break
                try:
                    self.poll()
                    if time.monotonic() - last_prune > 3600 and hasattr(self.records, "prune_changes"):
                        last_prune = time.monotonic()
                        self.records.prune_changes()
                except Exception as exc:  # the database away for a moment: try again next time
                    log.warning("applying the change log failed (%s: %s); retrying", type(exc).__name__, exc)

        def listen(stop: threading.Event) -> None:
            while not stop.is_set():
                try:
                    if not self.records.listen_changes(wake.set, stop):
                        return  # no notifications on this database: polling alone
                except Exception as exc:  # reconnect after a pause; polling goes on meanwhile
                    log.warning("listening for changes failed (%s); polling until it reconnects", type(exc).__name__)
                    stop.wait(max(interval, 1.0))

        also = (("index-listener", listen),) if hasattr(self.records, "listen_changes") else ()
        return Background(run, "index-follower", event=_StopWakes(wake), also=also).start()

    # -- writes through ---------------------------------------------------------------------

    def put(self, kind: Kind, ids: Sequence[int], records: Sequence[IndexedRecord]) -> None:
        """Index written records (searchable ones replace their old entry, others leave the
        index); a side not loaded yet is left alone: loading it reconciles from the database."""
        with self._lock:
            side = self._sides.get(kind)
            if side is None:
                return
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
                side.lexical.upsert([i for i, _ in keep], [self.tokenizer.tokenize(r.text) for _, r in keep])
                for i, r in keep:
                    side.hashes[i] = r.text_hash
            self._changed(side)

    def remove(self, kind: Kind, record_id: int) -> None:
        """Drop a deleted record from its side's index (if loaded and indexed)."""
        with self._lock:
            side = self._sides.get(kind)
            if side is not None and record_id in side.hashes:
                side.dense.remove([record_id])
                side.lexical.remove([record_id])
                del side.hashes[record_id]
                self._changed(side)

    # -- saving and status ------------------------------------------------------------------

    def save(self, kind: Kind) -> None:
        with self._lock:
            side = self._sides.get(kind)
            if side is None:
                return
            manifest = self._manifest(side)
            side.dense.save(self._dir(kind), manifest)
            docs = side.lexical.documents()
            save_token_cache(self._dir(kind) / TOKENS_FILE,
                             {h: docs[i] for i, h in side.hashes.items() if i in docs},
                             self.tokenizer.fingerprint())
            # the built BM25 index too, when it reflects these documents: a restart loads it
            # (building it is seconds at 10^5 records)
            if not side.lexical.save_built(self._dir(kind) / BM25_DIR, self._bm25_key(manifest["fingerprint"])):
                shutil.rmtree(self._dir(kind) / BM25_DIR, ignore_errors=True)
            side.dirty = False

    def save_all(self) -> None:
        for k, side in list(self._sides.items()):
            if side.dirty:
                self.save(k)  # type: ignore[arg-type]

    def saved_status(self) -> dict[str, dict[str, Any]]:
        """What is saved on disk, compared with the database (:func:`saved_status`)."""
        return saved_status(self.settings, self.records, self.cached.name, self.cached.dim)

    def status(self) -> dict[str, dict[str, Any]]:
        out = {}
        for kind in ("demand", "talent"):
            side = self._sides.get(kind)
            db = self.records.text_hashes(kind, status=SEARCHABLE[kind])
            out[kind] = {
                "loaded": side is not None,
                "indexed": len(side.dense) if side else 0,
                "database": len(db),
                "in_step": side is not None and side.hashes == db,
                "kind": side.dense.kind if side else None,
            }
        return out

    # -- search -------------------------------------------------------------------------------

    def query_background(self, kind: Kind, vec: np.ndarray, sample: int = 512) -> float:
        """Mean cosine of a query vector to a fixed random sample of the side's records: what
        'unrelated' looks like for this query. A free-text query is encoded as a query, not a
        passage, and a short one ("会计") sits lower against every record than records sit
        against each other; rescaling it by the side's passage background clipped every
        candidate to 0. The sample is drawn once per index size."""
        side = self.ensure(kind)
        with self._lock:
            n = len(side.dense)
            if n == 0:
                return 0.0
            cached = self._background_sample.get(kind)
            if cached is None or cached[0] != n:
                ids = side.dense.ids()
                picked = np.random.default_rng(0).choice(ids, size=min(sample, len(ids)), replace=False)
                cached = (n, np.asarray(side.dense.get(picked), dtype=np.float32))
                self._background_sample[kind] = cached
            cos = cached[1] @ vec.astype(np.float32)
        return float(np.clip(np.mean(cos), 0.0, 0.99))

    def _keep_pool(self, side: SideIndex, key: tuple[str, int], made: Pool | None) -> None:
        """Keep ``made`` as the pool of ``key`` on ``side`` (None: forget it), within the cap."""
        if made is None:
            side.pools.pop(key, None)
            return
        side.pools[key] = made
        side.pools.move_to_end(key)
        while len(side.pools) > self.settings.dense_pool_cache:
            side.pools.popitem(last=False)

    def warm_pools(self, stop: threading.Event | None = None, batch: int = 32) -> int:
        """Make the dense-search pools of stored records, newest first, in batches (one batch
        search reads the vectors once for all its queries: a fraction of a search each): the
        talents' pools on the entry side, then the entries' on the talent side, until each side
        keeps ``dense_pool_cache`` or ``stop`` is set. Sides whose index keeps no pools (too
        small for a two-stage search, approximate kinds) are skipped. Returns how many were made.
        A batch holds the indexes' lock (at 10^5 entries, 32 records: ~90 ms, ~2.7 ms a record;
        64: ~160 ms, ~2.5 ms a record)."""
        cap, k, made = self.settings.dense_pool_cache, self.settings.candidate_pool, 0
        if cap <= 0:
            return 0
        for query_kind, target_kind in (("talent", "demand"), ("demand", "talent")):
            source, target = self.ensure(query_kind), self.ensure(target_kind)  # type: ignore[arg-type]
            with self._lock:
                ids = np.sort(source.dense.ids())[::-1]
            for start in range(0, len(ids), batch):
                if (stop is not None and stop.is_set()) or len(target.pools) >= cap:
                    break
                with self._lock:
                    if self._sides.get(query_kind) is not source or self._sides.get(target_kind) is not target:
                        break  # a side was reloaded or rebuilt: its pools went with it
                    chunk = [int(i) for i in ids[start : start + batch]
                             if (query_kind, int(i)) not in target.pools and int(i) in source.dense]
                    if not chunk:
                        continue
                    with search_threads(1):
                        got = target.dense.pools(source.dense.get(chunk), k)
                    if all(p is None for p in got):
                        break  # this index makes no pools
                    for i, p in zip(chunk, got, strict=True):
                        if p is not None and len(target.pools) < cap:
                            target.pools[(query_kind, i)] = p
                            made += 1
        return made

    @contextmanager
    def _locked(self, wait: bool) -> Iterator[None]:
        """The indexes' lock; ``wait=False``: WouldBlock at once when another thread holds it."""
        if not self._lock.acquire(blocking=wait):
            raise WouldBlock("indexes")
        try:
            yield
        finally:
            self._lock.release()

    def stored_query(self, kind: Kind, record_id: int, text_hash: str, *,
                     wait: bool = True) -> tuple[np.ndarray | None, list[str] | None]:
        """The vector and the BM25 token list a loaded side holds for a record whose text hash
        is ``text_hash``: the very ones its text gives (the vector from the same embedding cache,
        the tokens from the same tokenizer, whose fingerprint the saved token lists carry), so a
        stored record's ranking neither encodes nor tokenizes its text again; (None, None) when
        the side does not hold that text (the tokens None alone when BM25 holds no list for
        it). ``wait=False``: WouldBlock instead of waiting for the indexes' lock."""
        with self._locked(wait):
            side = self._sides.get(kind)
            if side is None or side.hashes.get(record_id) != text_hash:
                return None, None
            return side.dense.get([record_id])[0], side.lexical.document(record_id)

    def candidates(self, kind: Kind, vec: np.ndarray, tokens: list[str], pool: int,
                   reuse: tuple[str, int] | None = None, *, wait: bool = True) -> Candidates:
        """Dense and BM25 retrieval of ``pool`` ids each, fused (RRF or convex, per the
        settings) and cut to ``pool``; a fused id the dense search missed gets its cosine.
        ``reuse``: the stored record whose vector ``vec`` is, ``(kind, id)``: the dense search
        then starts from what the last search of that vector proved (``dense_pool_cache``).
        ``wait=False``: WouldBlock instead of waiting for the indexes' lock (a poll applying a
        bulk import holds it for as long as that takes)."""
        with self._locked(wait):
            side = self.ensure(kind)
            if len(side.dense) == 0:
                return Candidates([], {}, {}, side.background)
            with search_threads(self.settings.search_threads):
                if reuse is not None and self.settings.dense_pool_cache > 0:
                    kept = side.pools.get(reuse)
                    scores, ids, made = side.dense.search_reusing(vec.astype(np.float32), pool, kept)
                    self._keep_pool(side, reuse, made)
                else:
                    scores, ids = side.dense.search(vec[None, :].astype(np.float32), pool)
            dense = {int(i): float(s) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0}
            lexical = dict(side.lexical.search(tokens, pool))
            if self.settings.fusion == "rrf":
                fused = fusion_rrf([list(dense), list(lexical)], self.settings.rrf_k)
            else:
                fused = fusion_convex(dense, lexical)
            order = sorted(fused, key=lambda i: -fused[i])[:pool]
            missing = [i for i in order if i not in dense]
            if missing:
                vecs = side.dense.get(missing)
                for i, v in zip(missing, vecs, strict=True):
                    dense[i] = float(v @ vec)
            return Candidates(order, {i: dense[i] for i in order}, lexical, side.background)
