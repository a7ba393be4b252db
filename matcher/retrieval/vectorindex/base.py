"""The vector index interface and the validation every backend shares."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.core.errors import InvalidInput

if TYPE_CHECKING:
    pass

from matcher.retrieval.vectorindex.files import fsync_dir, fsync_file, sha256_of

BACKENDS: tuple[str, ...] = ("faiss", "numpy")
KINDS: tuple[str, ...] = ("flat", "hnsw", "ivf")
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"

# Stored vectors must have a norm within this distance of 1.
NORM_TOLERANCE = 1e-3
# Fraction of tombstoned HNSW slots above which the graph is rebuilt.
COMPACT_RATIO = 0.25
# With `allowed` restricting HNSW or IVF search to at most this many vectors, score them exactly
# (cheaper and more accurate than a heavily filtered graph walk).
HNSW_EXACT_FILTER_MAX = 10_000
# Prefix of every data file this module writes; stale ones are removed after a save.
DATA_PREFIX = "vx-"
PAD_ID = -1


# --------------------------------------------------------------------------- validation


def as_ids(ids: Iterable[int] | np.ndarray, *, what: str = "ids") -> np.ndarray:
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


def as_matrix(vectors: Any, dim: int, *, what: str) -> np.ndarray:
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


def check_unit(vectors: np.ndarray) -> None:
    """`InvalidInput` unless every row is L2-normalised."""
    if len(vectors) == 0:
        return
    norms = np.linalg.norm(vectors, axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > NORM_TOLERANCE)
    if bad.size:
        raise InvalidInput(
            f"vectors must be L2-normalised; row {int(bad[0])} has norm {float(norms[bad[0]]):.4f}"
        )


def check_unique(ids: np.ndarray) -> None:
    """`InvalidInput` if an id occurs more than once."""
    if ids.size > 1:
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            dupes = uniq[counts > 1][:5].tolist()
            raise InvalidInput(f"duplicate ids in one call: {dupes}")


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidInput(f"k must be a positive integer, got {k!r}")
    return int(k)


def padded(m: int, k: int, got: tuple[np.ndarray, np.ndarray] | None, k_eff: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, ids)`` of ``m`` queries, the first ``k_eff`` columns of ``got``, padded to
    ``k`` columns (score -inf, id -1)."""
    out_s = np.full((m, k), -np.inf, dtype=np.float32)
    out_i = np.full((m, k), PAD_ID, dtype=np.int64)
    if got is not None:
        found = np.asarray(got[1], dtype=np.int64)
        scores = np.asarray(got[0], dtype=np.float32)
        width = min(k_eff, found.shape[1])
        out_i[:, :width] = found[:, :width]
        out_s[:, :width] = scores[:, :width]
        out_s[out_i == PAD_ID] = -np.inf
    return out_s, out_i


def top_k(scores: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top-k of a (m, n) score matrix, best first, with `keys` mapping columns to ids."""
    m, n = scores.shape
    out_s = np.full((m, k), -np.inf, dtype=np.float32)
    out_i = np.full((m, k), PAD_ID, dtype=np.int64)
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


# --------------------------------------------------------------------------- reuse


@dataclass(frozen=True, eq=False)
class Pool:
    """What one query vector's search proved about an index, for searching it again.

    ``ids`` are the candidates the search kept; every other vector the index held at that moment
    has an exact score (the index's own routine) of at most ``bound``. The index's add log
    (``log``, an identity token) was at ``mark``: vectors added or replaced after it are scored
    again with the pool, removed ones are dropped, and the pool stays valid. ``query`` is a
    digest of the query vector: a pool is used for that vector only."""

    ids: np.ndarray
    bound: float
    mark: int
    log: object
    query: bytes


def query_digest(query: np.ndarray) -> bytes:
    """The digest a :class:`Pool` keeps of its (float32, one row) query vector."""
    return hashlib.blake2b(np.ascontiguousarray(query, dtype=np.float32).tobytes(), digest_size=16).digest()


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
        id_arr = as_ids(ids)
        vecs = as_matrix(vectors, self.dim, what="vectors")
        if len(id_arr) != len(vecs):
            raise InvalidInput(f"got {len(id_arr)} ids but {len(vecs)} vectors")
        if len(id_arr) == 0:
            return
        check_unique(id_arr)
        check_unit(vecs)
        with self._lock:
            self._add(id_arr, vecs)

    def remove(self, ids: Iterable[int] | np.ndarray) -> int:
        """Delete the vectors stored under `ids`; unknown ids are ignored. Returns how many were removed."""
        id_arr = np.unique(as_ids(ids))
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
        k = check_k(k)
        q = as_matrix(queries, self.dim, what="queries")
        if len(q) == 0:
            return padded(len(q), k, None)
        with self._lock:
            allowed_arr: np.ndarray | None = None
            if allowed is not None:
                cand = np.unique(as_ids(allowed, what="allowed"))
                allowed_arr = cand[self._present_mask(cand)] if cand.size else cand
                available = int(allowed_arr.size)
            else:
                available = len(self)
            k_eff = min(k, available)
            if k_eff == 0:
                return padded(len(q), k, None)
            got = self._search(q, k_eff, allowed_arr)
        return padded(len(q), k, got, k_eff)

    def search_reusing(self, query: Any, k: int, pool: Pool | None) -> tuple[np.ndarray, np.ndarray, Pool | None]:
        """``search`` of one query vector (shape ``(1, dim)``), reusing what an earlier search
        of the same vector proved (``pool``, from this index; None: none). Returns the scores and
        ids as ``search`` does, with the pool to keep for the next search of this vector (the one
        given, a new one, or None). Indexes that keep no pools search as ``search``."""
        scores, ids = self.search(query, k)
        return scores, ids, None

    def pools(self, queries: Any, k: int) -> list[Pool | None]:
        """Pools for searching each query row's top ``k`` later (``search_reusing``), made in one
        batch; None for a row (or every row) the index makes no pool for."""
        return [None] * len(as_matrix(queries, self.dim, what="queries"))

    def get(self, ids: Iterable[int] | np.ndarray) -> np.ndarray:
        """The stored vectors of `ids`, shape (n, dim); `KeyError` if any id is unknown."""
        id_arr = as_ids(ids)
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
                    name = f"{DATA_PREFIX}{token}-{role}"
                    final = directory / name
                    tmp = directory / f"{name}.tmp"
                    writer(tmp)
                    fsync_file(tmp)
                    os.replace(tmp, final)
                    files[role] = {
                        "name": name,
                        "size": final.stat().st_size,
                        "sha256": sha256_of(final),
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
                fsync_dir(directory)
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
            if path.name.startswith(DATA_PREFIX) and path.name not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()

    def settle(self) -> None:  # noqa: B027 - an optional hook, a no-op unless overridden
        """Called after a bulk load (a rebuild, a reconcile): finish deferred work such as
        training. A no-op for indexes that have none."""

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


class SlotIds:
    """Membership for an index that keeps its vectors in slots: ``_slot_of`` maps each stored
    id to its slot (the HNSW and IVF indexes)."""

    _slot_of: dict[int, int]

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, id_: object) -> bool:
        try:
            return int(id_) in self._slot_of  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    def _present_mask(self, ids: np.ndarray) -> np.ndarray:
        s = self._slot_of
        return np.fromiter((int(i) in s for i in ids), dtype=bool, count=len(ids))

    def _slots(self, ids: np.ndarray) -> np.ndarray:
        s = self._slot_of
        return np.fromiter((s[int(i)] for i in ids), dtype=np.int64, count=len(ids))
