"""Dense vector index over L2-normalised float32 vectors keyed by int64 database ids.

Two backends sit behind one interface (`VectorIndex`) and one registry (`create_index`):

- ``faiss``: ``flat`` (exact, ``IndexIDMap2(IndexFlatIP)``) or ``hnsw`` (approximate,
  ``IndexHNSWFlat`` with tombstones for deletes/updates and automatic compaction);
- ``numpy``: exact reference implementation (``flat`` only), used by the contract tests.

Similarity is the inner product, which equals cosine similarity for unit vectors. Indexes are
derived data: `load_index` raises `IndexNotReady` for anything it cannot trust, and callers
rebuild from the database.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.core.errors import IndexNotReady, InvalidInput, MissingDependency

if TYPE_CHECKING:
    from types import ModuleType

__all__ = [
    "BACKENDS",
    "FORMAT_VERSION",
    "KINDS",
    "MANIFEST_NAME",
    "VectorIndex",
    "choose_kind",
    "create_index",
    "load_index",
]

BACKENDS: tuple[str, ...] = ("faiss", "numpy")
KINDS: tuple[str, ...] = ("flat", "hnsw")
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"

# Stored vectors must have a norm within this distance of 1.
_NORM_TOLERANCE = 1e-3
# Fraction of tombstoned HNSW slots above which the graph is rebuilt.
_COMPACT_RATIO = 0.25
# With `allowed` restricting HNSW search to at most this many vectors, score them exactly
# (cheaper and more accurate than a heavily filtered graph walk).
_HNSW_EXACT_FILTER_MAX = 10_000
# Prefix of every data file this module writes; stale ones are removed after a save.
_DATA_PREFIX = "vx-"
_PAD_ID = -1


def _faiss() -> ModuleType:
    """The faiss module, or `MissingDependency` naming the package to install."""
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependency(
            "后端 'faiss' 需要 faiss 库：pip install faiss-cpu (the 'faiss' index backend needs faiss)"
        ) from exc
    return faiss


# --------------------------------------------------------------------------- validation


def _as_ids(ids: Iterable[int] | np.ndarray, *, what: str = "ids") -> np.ndarray:
    """`ids` as a 1-D int64 array of non-negative integers, or `InvalidInput`."""
    if isinstance(ids, (set, frozenset)):
        ids = sorted(ids)
    try:
        arr = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must be a sequence of integers") from exc
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.ndim != 1:
        raise InvalidInput(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InvalidInput(f"{what} must be integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise InvalidInput(f"{what} exceed the int64 range")
    arr = arr.astype(np.int64, copy=False)
    if (arr < 0).any():
        raise InvalidInput(f"{what} must be non-negative, got {int(arr[arr < 0][0])}")
    return arr


def _as_matrix(vectors: Any, dim: int, *, what: str) -> np.ndarray:
    """`vectors` as a C-contiguous (n, dim) float32 matrix of finite values, or `InvalidInput`."""
    try:
        arr = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must be numeric arrays of shape (n, {dim})") from exc
    if arr.ndim == 1 and arr.shape[0] == dim:
        arr = arr.reshape(1, dim)
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, dim)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise InvalidInput(f"{what} must have shape (n, {dim}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise InvalidInput(f"{what} contain NaN or infinite values")
    return np.ascontiguousarray(arr)


def _check_unit(vectors: np.ndarray) -> None:
    """`InvalidInput` unless every row is L2-normalised."""
    if len(vectors) == 0:
        return
    norms = np.linalg.norm(vectors, axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > _NORM_TOLERANCE)
    if bad.size:
        raise InvalidInput(
            f"vectors must be L2-normalised; row {int(bad[0])} has norm {float(norms[bad[0]]):.4f}"
        )


def _check_unique(ids: np.ndarray) -> None:
    """`InvalidInput` if an id occurs more than once."""
    if ids.size > 1:
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            dupes = uniq[counts > 1][:5].tolist()
            raise InvalidInput(f"duplicate ids in one call: {dupes}")


def _top_k(scores: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k of a (m, n) score matrix, best first, with `keys` mapping columns to ids."""
    m, n = scores.shape
    out_s = np.full((m, k), -np.inf, dtype=np.float32)
    out_i = np.full((m, k), _PAD_ID, dtype=np.int64)
    take = min(k, n)
    if take == 0:
        return out_s, out_i
    if take < n:
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
    else:
        part = np.broadcast_to(np.arange(n), (m, n))
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    cols = np.take_along_axis(part, order, axis=1)
    out_s[:, :take] = np.take_along_axis(part_scores, order, axis=1)
    out_i[:, :take] = keys[cols]
    return out_s, out_i


# --------------------------------------------------------------------------- interface


class VectorIndex(ABC):
    """A mutable set of (id, unit vector) pairs searchable by inner product (cosine)."""

    backend: str = ""
    kind: str = "flat"

    def __init__(self, dim: int) -> None:
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool) or dim <= 0:
            raise InvalidInput(f"dim must be a positive integer, got {dim!r}")
        self.dim: int = int(dim)
        self._lock = threading.RLock()

    # ---- public API ------------------------------------------------------------------

    @abstractmethod
    def __len__(self) -> int:
        """Number of live vectors."""

    @abstractmethod
    def __contains__(self, id_: object) -> bool:
        """Whether a vector is stored under database id `id_`."""

    @abstractmethod
    def ids(self) -> np.ndarray:
        """All stored ids (int64, order unspecified)."""

    def add(self, ids: Iterable[int] | np.ndarray, vectors: Any) -> None:
        """Insert or replace (upsert) the vectors stored under `ids`."""
        id_arr = _as_ids(ids)
        vecs = _as_matrix(vectors, self.dim, what="vectors")
        if len(id_arr) != len(vecs):
            raise InvalidInput(f"got {len(id_arr)} ids but {len(vecs)} vectors")
        if len(id_arr) == 0:
            return
        _check_unique(id_arr)
        _check_unit(vecs)
        with self._lock:
            self._add(id_arr, vecs)

    def remove(self, ids: Iterable[int] | np.ndarray) -> int:
        """Delete the vectors stored under `ids`; unknown ids are ignored. Returns how many were removed."""
        id_arr = np.unique(_as_ids(ids))
        if id_arr.size == 0:
            return 0
        with self._lock:
            present = id_arr[self._present_mask(id_arr)]
            if present.size == 0:
                return 0
            self._remove(present)
            return int(present.size)

    def search(
        self, queries: Any, k: int, *, allowed: Iterable[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` ids by inner product for each query row, optionally restricted to `allowed`.

        Returns ``(scores, ids)``, both of shape ``(m, k)`` (float32 and int64), best first;
        missing results are padded with score ``-inf`` and id ``-1``.
        """
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise InvalidInput(f"k must be a positive integer, got {k!r}")
        k = int(k)
        q = _as_matrix(queries, self.dim, what="queries")
        m = len(q)
        out_s = np.full((m, k), -np.inf, dtype=np.float32)
        out_i = np.full((m, k), _PAD_ID, dtype=np.int64)
        if m == 0:
            return out_s, out_i
        with self._lock:
            allowed_arr: np.ndarray | None = None
            if allowed is not None:
                cand = np.unique(_as_ids(allowed, what="allowed"))
                allowed_arr = cand[self._present_mask(cand)] if cand.size else cand
                available = int(allowed_arr.size)
            else:
                available = len(self)
            k_eff = min(k, available)
            if k_eff == 0:
                return out_s, out_i
            scores, found = self._search(q, k_eff, allowed_arr)
        found = np.asarray(found, dtype=np.int64)
        scores = np.asarray(scores, dtype=np.float32)
        width = min(k_eff, found.shape[1])
        out_i[:, :width] = found[:, :width]
        out_s[:, :width] = scores[:, :width]
        out_s[out_i == _PAD_ID] = -np.inf
        return out_s, out_i

    def get(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of `ids`, shape (n, dim); `KeyError` if any id is unknown."""
        id_arr = _as_ids(ids)
        if id_arr.size == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._lock:
            mask = self._present_mask(id_arr)
            if not mask.all():
                missing = id_arr[~mask][:5].tolist()
                raise KeyError(f"ids not in index: {missing}")
            return np.ascontiguousarray(self._get(id_arr), dtype=np.float32)

    def save(self, directory: Path | str, manifest: Mapping[str, Any] | None = None) -> None:
        """Persist the index and `manifest.json` (caller's `manifest` plus our own keys) atomically.

        Data files get fresh unique names and `manifest.json` is replaced last, so a reader sees
        either the previous complete index or the new one, never a mix.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex[:12]
        with self._lock:
            files: dict[str, dict[str, Any]] = {}
            try:
                for role, writer in self._writers().items():
                    name = f"{_DATA_PREFIX}{token}-{role}"
                    final = directory / name
                    tmp = directory / f"{name}.tmp"
                    writer(tmp)
                    _fsync_file(tmp)
                    os.replace(tmp, final)
                    files[role] = {
                        "name": name,
                        "size": final.stat().st_size,
                        "sha256": _sha256(final),
                    }
                own = {
                    "backend": self.backend,
                    "kind": self.kind,
                    "dim": self.dim,
                    "count": len(self),
                    "format_version": FORMAT_VERSION,
                    "params": self._params(),
                    "files": files,
                }
                payload = {**dict(manifest or {}), **own}
                text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)
                tmp_manifest = directory / f"{MANIFEST_NAME}.{token}.tmp"
                with open(tmp_manifest, "w", encoding="utf-8") as fh:
                    fh.write(text)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp_manifest, directory / MANIFEST_NAME)
                _fsync_dir(directory)
            except BaseException:
                for info in files.values():
                    with contextlib.suppress(OSError):
                        (directory / info["name"]).unlink()
                for leftover in directory.glob(f"*{token}*.tmp"):
                    with contextlib.suppress(OSError):
                        leftover.unlink()
                raise
        keep = {info["name"] for info in files.values()}
        for path in directory.iterdir():
            if path.name.startswith(_DATA_PREFIX) and path.name not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()

    # ---- backend hooks -----------------------------------------------------------------

    @abstractmethod
    def _present_mask(self, ids: np.ndarray) -> np.ndarray:
        """Boolean mask: which of `ids` are stored."""

    @abstractmethod
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Upsert validated, unique `ids` with validated unit `vectors`."""

    @abstractmethod
    def _remove(self, ids: np.ndarray) -> None:
        """Delete `ids`, all of which are stored and unique."""

    @abstractmethod
    def _search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-`k` (k <= candidates) over all ids or over `allowed` (stored ids only)."""

    @abstractmethod
    def _get(self, ids: np.ndarray) -> np.ndarray:
        """Vectors of stored `ids`."""

    @abstractmethod
    def _writers(self) -> dict[str, Any]:
        """Data file role (e.g. ``index.faiss``) -> function writing that file to a path."""

    def _params(self) -> dict[str, Any]:
        """Backend parameters recorded in the manifest."""
        return {}


# --------------------------------------------------------------------------- numpy backend


class NumpyFlatIndex(VectorIndex):
    """Exact brute-force index on a growable numpy matrix (the reference implementation)."""

    backend = "numpy"
    kind = "flat"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._vecs = np.empty((0, self.dim), dtype=np.float32)
        self._keys = np.empty(0, dtype=np.int64)
        self._n = 0
        self._row: dict[int, int] = {}

    def __len__(self) -> int:
        return self._n

    def __contains__(self, id_: object) -> bool:
        try:
            return int(id_) in self._row  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    def ids(self) -> np.ndarray:
        with self._lock:
            return self._keys[: self._n].copy()

    def _present_mask(self, ids: np.ndarray) -> np.ndarray:
        row = self._row
        return np.fromiter((int(i) in row for i in ids), dtype=bool, count=len(ids))

    def _reserve(self, extra: int) -> None:
        need = self._n + extra
        if need <= len(self._vecs):
            return
        cap = max(need, 2 * len(self._vecs), 16)
        vecs = np.empty((cap, self.dim), dtype=np.float32)
        keys = np.empty(cap, dtype=np.int64)
        vecs[: self._n] = self._vecs[: self._n]
        keys[: self._n] = self._keys[: self._n]
        self._vecs, self._keys = vecs, keys

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._reserve(len(ids))
        for id_, vec in zip(ids.tolist(), vectors, strict=True):
            row = self._row.get(id_)
            if row is None:
                row = self._n
                self._n += 1
                self._row[id_] = row
                self._keys[row] = id_
            self._vecs[row] = vec

    def _remove(self, ids: np.ndarray) -> None:
        for id_ in ids.tolist():
            row = self._row.pop(id_)
            last = self._n - 1
            if row != last:
                moved = int(self._keys[last])
                self._vecs[row] = self._vecs[last]
                self._keys[row] = moved
                self._row[moved] = row
            self._n = last

    def _search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if allowed is None:
            mat, keys = self._vecs[: self._n], self._keys[: self._n]
        else:
            rows = np.fromiter(
                (self._row[int(i)] for i in allowed), dtype=np.int64, count=len(allowed)
            )
            mat, keys = self._vecs[rows], allowed
        return _top_k(queries @ mat.T, keys, k)

    def _get(self, ids: np.ndarray) -> np.ndarray:
        rows = np.fromiter((self._row[int(i)] for i in ids), dtype=np.int64, count=len(ids))
        return self._vecs[rows].copy()

    def _writers(self) -> dict[str, Any]:
        vecs = self._vecs[: self._n]
        keys = self._keys[: self._n]
        return {
            "vectors.npy": lambda path: _write_npy(path, vecs),
            "ids.npy": lambda path: _write_npy(path, keys),
        }

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any]) -> NumpyFlatIndex:
        files = _manifest_files(directory, manifest, ("vectors.npy", "ids.npy"))
        vecs = _read_npy(files["vectors.npy"])
        keys = _read_npy(files["ids.npy"])
        dim = int(manifest["dim"])
        if vecs.dtype != np.float32 or vecs.ndim != 2 or vecs.shape[1] != dim:
            raise IndexNotReady(
                f"vectors file has shape {vecs.shape} / {vecs.dtype}, expected (n, {dim}) float32"
            )
        if keys.dtype != np.int64 or keys.ndim != 1 or len(keys) != len(vecs):
            raise IndexNotReady("ids file does not match the vectors file")
        if len(np.unique(keys)) != len(keys) or (keys < 0).any():
            raise IndexNotReady("ids file holds duplicate or negative ids")
        if not np.isfinite(vecs).all():
            raise IndexNotReady("vectors file holds non-finite values")
        index = cls(dim)
        index._vecs = np.ascontiguousarray(vecs)
        index._keys = keys.copy()
        index._n = len(keys)
        index._row = {int(i): r for r, i in enumerate(keys.tolist())}
        return index


# --------------------------------------------------------------------------- faiss backends


class FaissFlatIndex(VectorIndex):
    """Exact index: ``faiss.IndexIDMap2(faiss.IndexFlatIP(dim))``."""

    backend = "faiss"
    kind = "flat"

    def __init__(self, dim: int, *, _index: Any = None) -> None:
        super().__init__(dim)
        faiss = _faiss()
        self._index = (
            _index if _index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        )
        self._idset: set[int] = set(faiss.vector_to_array(self._index.id_map).tolist())

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, id_: object) -> bool:
        try:
            return int(id_) in self._idset  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    def ids(self) -> np.ndarray:
        with self._lock:
            return _faiss().vector_to_array(self._index.id_map).astype(np.int64)

    def _present_mask(self, ids: np.ndarray) -> np.ndarray:
        s = self._idset
        return np.fromiter((int(i) in s for i in ids), dtype=bool, count=len(ids))

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        existing = ids[self._present_mask(ids)]
        if existing.size:
            self._index.remove_ids(existing)
        self._index.add_with_ids(vectors, ids)
        self._idset.update(ids.tolist())

    def _remove(self, ids: np.ndarray) -> None:
        self._index.remove_ids(ids)
        self._idset.difference_update(ids.tolist())

    def _search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        faiss = _faiss()
        if allowed is None:
            return self._index.search(queries, k)
        sel = faiss.IDSelectorBatch(allowed)
        return self._index.search(queries, k, params=faiss.SearchParameters(sel=sel))

    def _get(self, ids: np.ndarray) -> np.ndarray:
        return self._index.reconstruct_batch(ids)

    def _writers(self) -> dict[str, Any]:
        faiss = _faiss()
        return {"index.faiss": lambda path: faiss.write_index(self._index, str(path))}

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any]) -> FaissFlatIndex:
        faiss = _faiss()
        files = _manifest_files(directory, manifest, ("index.faiss",))
        raw = _read_faiss(files["index.faiss"])
        if not isinstance(raw, faiss.IndexIDMap2):
            raise IndexNotReady(f"index file holds {type(raw).__name__}, expected IndexIDMap2")
        inner = faiss.downcast_index(raw.index)
        if (
            not isinstance(inner, faiss.IndexFlat)
            or inner.metric_type != faiss.METRIC_INNER_PRODUCT
        ):
            raise IndexNotReady("index file does not hold an inner-product flat index")
        if raw.d != int(manifest["dim"]):
            raise IndexNotReady(
                f"index file has dimension {raw.d}, manifest says {manifest['dim']}"
            )
        return cls(raw.d, _index=raw)


class FaissHNSWIndex(VectorIndex):
    """Approximate index: ``faiss.IndexHNSWFlat`` (inner product) with tombstones.

    HNSW graphs cannot delete nodes, so a removed or replaced vector keeps its internal slot
    (a tombstone) and is excluded from results with an ``IDSelector``; the graph is rebuilt
    once tombstones exceed 25% of the stored slots.
    """

    backend = "faiss"
    kind = "hnsw"

    def __init__(
        self,
        dim: int,
        *,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 128,
        _index: Any = None,
        _slots: np.ndarray | None = None,
    ) -> None:
        super().__init__(dim)
        for name, value in (
            ("hnsw_m", hnsw_m),
            ("ef_construction", ef_construction),
            ("ef_search", ef_search),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
        self.hnsw_m = int(hnsw_m)
        self.ef_construction = int(ef_construction)
        self.ef_search = int(ef_search)
        self._hnsw = _index if _index is not None else self._new_graph()
        # internal slot -> db id, -1 for a tombstone
        self._slot_id = (
            np.asarray(_slots, dtype=np.int64).copy()
            if _slots is not None
            else np.empty(0, dtype=np.int64)
        )
        self._slot_of: dict[int, int] = {
            int(i): s for s, i in enumerate(self._slot_id.tolist()) if i >= 0
        }
        self._dead = int((self._slot_id < 0).sum())

    def _new_graph(self) -> Any:
        faiss = _faiss()
        graph = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self.ef_construction
        graph.hnsw.efSearch = self.ef_search
        return graph

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, id_: object) -> bool:
        try:
            return int(id_) in self._slot_of  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    @property
    def tombstones(self) -> int:
        """Number of dead slots still in the graph."""
        return self._dead

    def ids(self) -> np.ndarray:
        with self._lock:
            return self._slot_id[self._slot_id >= 0].copy()

    def _present_mask(self, ids: np.ndarray) -> np.ndarray:
        s = self._slot_of
        return np.fromiter((int(i) in s for i in ids), dtype=bool, count=len(ids))

    def _slots(self, ids: np.ndarray) -> np.ndarray:
        s = self._slot_of
        return np.fromiter((s[int(i)] for i in ids), dtype=np.int64, count=len(ids))

    def _storage(self) -> np.ndarray:
        """Zero-copy (ntotal, dim) view of the stored vectors; valid until the next mutation."""
        faiss = _faiss()
        flat = faiss.downcast_index(self._hnsw.storage)
        n = int(self._hnsw.ntotal)
        if n == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        return faiss.rev_swig_ptr(flat.get_xb(), n * self.dim).reshape(n, self.dim)

    def _bury(self, ids: np.ndarray) -> None:
        for id_ in ids.tolist():
            slot = self._slot_of.pop(id_, None)
            if slot is not None:
                self._slot_id[slot] = _PAD_ID
                self._dead += 1

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._bury(ids)
        start = int(self._hnsw.ntotal)
        self._hnsw.add(vectors)
        self._slot_id = np.concatenate([self._slot_id, ids])
        for offset, id_ in enumerate(ids.tolist()):
            self._slot_of[id_] = start + offset
        self._maybe_compact()

    def _remove(self, ids: np.ndarray) -> None:
        self._bury(ids)
        self._maybe_compact()

    def _maybe_compact(self) -> None:
        total = len(self._slot_id)
        if total and self._dead > _COMPACT_RATIO * total:
            self.compact()

    def compact(self) -> None:
        """Rebuild the graph from the live vectors only, dropping every tombstone."""
        with self._lock:
            live = np.flatnonzero(self._slot_id >= 0)
            vectors = np.ascontiguousarray(self._storage()[live])
            keys = self._slot_id[live].copy()
            graph = self._new_graph()
            if len(vectors):
                graph.add(vectors)
            self._hnsw = graph
            self._slot_id = keys
            self._slot_of = {int(i): s for s, i in enumerate(keys.tolist())}
            self._dead = 0

    def _search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        faiss = _faiss()
        if allowed is not None and len(allowed) <= _HNSW_EXACT_FILTER_MAX:
            slots = self._slots(allowed)
            return _top_k(queries @ self._storage()[slots].T, allowed, k)
        ef = max(self.ef_search, k)
        keep_alive: Any = None
        if allowed is not None:
            keep_alive = np.sort(self._slots(allowed))
            sel = faiss.IDSelectorBatch(keep_alive)
        elif self._dead:
            keep_alive = np.packbits(self._slot_id >= 0, bitorder="little")
            sel = faiss.IDSelectorBitmap(keep_alive)
        else:
            sel = None
        params = (
            faiss.SearchParametersHNSW(efSearch=ef)
            if sel is None
            else faiss.SearchParametersHNSW(sel=sel, efSearch=ef)
        )
        scores, slots = self._hnsw.search(queries, k, params=params)
        del keep_alive
        ids = np.where(slots >= 0, self._slot_id[np.maximum(slots, 0)], _PAD_ID)
        return scores, ids

    def _get(self, ids: np.ndarray) -> np.ndarray:
        return self._storage()[self._slots(ids)].copy()

    def _params(self) -> dict[str, Any]:
        return {
            "hnsw_m": self.hnsw_m,
            "ef_construction": self.ef_construction,
            "ef_search": self.ef_search,
        }

    def _writers(self) -> dict[str, Any]:
        faiss = _faiss()
        graph, slots = self._hnsw, self._slot_id.copy()
        return {
            "index.faiss": lambda path: faiss.write_index(graph, str(path)),
            "slots.npy": lambda path: _write_npy(path, slots),
        }

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any]) -> FaissHNSWIndex:
        faiss = _faiss()
        files = _manifest_files(directory, manifest, ("index.faiss", "slots.npy"))
        raw = _read_faiss(files["index.faiss"])
        if (
            not isinstance(raw, faiss.IndexHNSWFlat)
            or raw.metric_type != faiss.METRIC_INNER_PRODUCT
        ):
            raise IndexNotReady(
                f"index file holds {type(raw).__name__}, expected inner-product IndexHNSWFlat"
            )
        dim = int(manifest["dim"])
        if raw.d != dim:
            raise IndexNotReady(f"index file has dimension {raw.d}, manifest says {dim}")
        slots = _read_npy(files["slots.npy"])
        if slots.dtype != np.int64 or slots.ndim != 1 or len(slots) != raw.ntotal:
            raise IndexNotReady("slot map does not match the HNSW index")
        live = slots[slots >= 0]
        if len(np.unique(live)) != len(live) or (slots < _PAD_ID).any():
            raise IndexNotReady("slot map holds duplicate or invalid ids")
        params = manifest.get("params") or {}
        try:
            index = cls(
                dim,
                hnsw_m=int(params.get("hnsw_m", raw.hnsw.nb_neighbors(1))),
                ef_construction=int(params.get("ef_construction", raw.hnsw.efConstruction)),
                ef_search=int(params.get("ef_search", raw.hnsw.efSearch)),
                _index=raw,
                _slots=slots,
            )
        except (InvalidInput, TypeError, ValueError) as exc:
            raise IndexNotReady(f"invalid HNSW parameters in manifest: {exc}") from exc
        raw.hnsw.efSearch = index.ef_search
        return index


# --------------------------------------------------------------------------- registry


def create_index(
    backend: str,
    dim: int,
    kind: str = "flat",
    *,
    hnsw_m: int = 32,
    ef_construction: int = 200,
    ef_search: int = 128,
) -> VectorIndex:
    """A new empty index of `backend` ("faiss" | "numpy") and `kind` ("flat" | "hnsw")."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown index backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")
    if backend == "numpy":
        if kind != "flat":
            raise ValueError(
                "the numpy backend supports kind 'flat' only; use backend 'faiss' for hnsw"
            )
        return NumpyFlatIndex(dim)
    if kind == "flat":
        return FaissFlatIndex(dim)
    return FaissHNSWIndex(dim, hnsw_m=hnsw_m, ef_construction=ef_construction, ef_search=ef_search)


def choose_kind(n: int, setting: str, threshold: int) -> str:
    """The index kind for `n` vectors: `setting` itself, or for "auto" hnsw at/above `threshold`."""
    if setting in KINDS:
        return setting
    if setting == "auto":
        return "hnsw" if n >= threshold else "flat"
    raise ValueError(
        f"unknown index kind setting {setting!r}; choose one of auto, {', '.join(KINDS)}"
    )


def load_index(
    directory: Path | str, *, expect: Mapping[str, Any] | None = None
) -> tuple[VectorIndex, dict[str, Any]]:
    """The index saved in `directory` and its manifest.

    Raises `IndexNotReady` when files are missing or corrupt, when they disagree with the
    manifest, or when a manifest key differs from `expect` (e.g. ``{"model": ..., "dim": ...}``).
    """
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexNotReady(f"no saved index in {directory} (missing {MANIFEST_NAME})") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexNotReady(f"unreadable index manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise IndexNotReady(f"index manifest {path} is not a JSON object")
    for key in ("backend", "kind", "dim", "count", "format_version", "files"):
        if key not in manifest:
            raise IndexNotReady(f"index manifest {path} lacks {key!r}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexNotReady(
            f"index format version {manifest['format_version']!r} is not supported (expected {FORMAT_VERSION})"
        )
    backend, kind, dim, count = (
        manifest["backend"],
        manifest["kind"],
        manifest["dim"],
        manifest["count"],
    )
    if (backend, kind) not in (("numpy", "flat"), ("faiss", "flat"), ("faiss", "hnsw")):
        raise IndexNotReady(f"unknown index backend/kind {backend!r}/{kind!r} in manifest")
    for key, value in (("dim", dim), ("count", count)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (1 if key == "dim" else 0)
        ):
            raise IndexNotReady(f"invalid {key} {value!r} in index manifest")
    for key, want in (expect or {}).items():
        if manifest.get(key) != want:
            raise IndexNotReady(
                f"saved index has {key}={manifest.get(key)!r}, expected {want!r}; rebuild it"
            )
    loaders = {
        ("numpy", "flat"): NumpyFlatIndex._load,
        ("faiss", "flat"): FaissFlatIndex._load,
        ("faiss", "hnsw"): FaissHNSWIndex._load,
    }
    index = loaders[(backend, kind)](directory, manifest)
    if index.dim != dim:
        raise IndexNotReady(f"saved index has dimension {index.dim}, manifest says {dim}")
    if len(index) != count:
        raise IndexNotReady(f"saved index holds {len(index)} vectors, manifest says {count}")
    return index, manifest


# --------------------------------------------------------------------------- file helpers


def _manifest_files(
    directory: Path, manifest: Mapping[str, Any], roles: tuple[str, ...]
) -> dict[str, Path]:
    """Paths of the data files the manifest names, checked for presence, size and checksum."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise IndexNotReady("index manifest has no file list")
    out: dict[str, Path] = {}
    for role in roles:
        info = files.get(role)
        if not isinstance(info, dict) or not isinstance(info.get("name"), str):
            raise IndexNotReady(f"index manifest does not name the {role} file")
        name = info["name"]
        if Path(name).name != name:
            raise IndexNotReady(f"invalid file name {name!r} in index manifest")
        path = directory / name
        if not path.is_file():
            raise IndexNotReady(f"index file {path} is missing")
        if info.get("size") is not None and path.stat().st_size != info["size"]:
            raise IndexNotReady(f"index file {path} has the wrong size (truncated or replaced)")
        if info.get("sha256") is not None and _sha256(path) != info["sha256"]:
            raise IndexNotReady(f"index file {path} is corrupt (checksum mismatch)")
        out[role] = path
    return out


def _sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_npy(path: Path, array: np.ndarray) -> None:
    """Write `array` as .npy to exactly `path`."""
    with open(path, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def _read_npy(path: Path) -> np.ndarray:
    """Read a .npy file, `IndexNotReady` if unreadable."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexNotReady(f"unreadable index file {path}: {exc}") from exc


def _read_faiss(path: Path) -> Any:
    """Read a faiss index file, `IndexNotReady` if unreadable."""
    faiss = _faiss()
    try:
        # read_index already returns the concrete class and owns it; do not re-wrap it.
        return faiss.read_index(str(path))
    except (RuntimeError, MemoryError, ValueError) as exc:
        raise IndexNotReady(f"unreadable faiss index file {path}: {exc}") from exc


def _fsync_file(path: Path) -> None:
    """Flush a written file to stable storage."""
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry update (renames) where the platform allows it."""
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
