"""faiss ``flat``: exact inner-product search, ``IndexIDMap2(IndexFlatIP)``.

Two-stage exact search (on by default, `two_stage`): a compact fp16 copy of the vectors
(``IndexScalarQuantizer(QT_fp16)``, half the bytes, so a scan reads half the memory) finds the
``M = max(2k, k + 64)`` best candidates by approximate score; those are scored again from the
float32 vectors by the very routine the flat scan uses (so the scores are bit-identical), and a
bound proves that no vector outside them can be in the exact top k:

* every stored ``x`` differs from its fp16 copy ``x~`` by ``||x - x~|| <= delta`` (measured when the
  copy is made, the largest over all vectors), so ``|q.x - q.x~| <= ||q|| delta``;
* a float32 dot product of length d computed in any order is within
  ``gamma_d = d u / (1 - d u)`` (``u = 2^-24``) of ``sum |q_i x_i| <= ||q|| ||x||`` of the real one,
  for the flat scan and for the fp16 scan alike; stored norms are at most ``nmax``.

Hence a vector outside the M has flat score <= (M-th approximate score) + eps with
``eps = ||q|| (delta + gamma_d (2 nmax + delta))`` (rounded up). When that is below the k-th exact
score among the M, and the k-th and (k+1)-th exact scores differ (which tied vectors a full scan
keeps depends on its heap's history), the top k is the flat index's own, in its order (score
descending, equal scores by descending slot). Otherwise the query falls back to the full exact
scan; `stats` counts both. Filtered searches, batches, and indexes smaller than `two_stage_min`
use the exact scan. The compact copy is derived data: it is rebuilt from the float32 vectors on
load, so the saved files are the same as before (old saved indexes load unchanged).

Reuse (`search_reusing`, `pools`): what a search of one query vector proved can be kept and
used by the next search of the same vector. A :class:`Pool` holds the candidate ids and a bound
that every other vector's flat score stays under: from a two-stage search, its M candidates and
``(M-th approximate score) + eps``; from `pools` (many queries in one batch: one matrix product
by numpy's BLAS reads the vectors once for the whole batch), the top M by that product and
``(M-th batch score) + 2 gamma_d ||q|| nmax`` (any float32 summation order is within gamma_d of
the real product, the batch's and the flat scan's alike). The next search re-scores the pool's
ids still stored, with every vector added or replaced since the pool was made (an add log;
at most `POOL_MAX_ADDED`), by the flat routine, and answers from them when the k-th score is
above the bound and not tied with the (k+1)-th: the same proof as the two-stage search, without
the scan. Otherwise it searches as usual (and returns a new pool).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from matcher.core.errors import IndexNotReady, InvalidInput
from matcher.retrieval.vectorindex.base import (
    Pool,
    VectorIndex,
    as_matrix,
    check_k,
    padded,
    query_digest,
)
from matcher.retrieval.vectorindex.files import faiss_module, manifest_files, read_faiss

# Below this many vectors a full scan is cheap; the two-stage path starts here.
TWO_STAGE_MIN = 4096
# Query batches of at least this many rows take the exact scan (faiss may score them by BLAS,
# whose rounding the re-scoring would not reproduce; batches are not latency-bound anyway).
TWO_STAGE_MAX_ROWS = 16
# Rows encoded per chunk when the compact copy is built (bounds the float64 scratch memory).
_CHUNK = 16_384
_U32 = 2.0**-24
# A pool is used while at most this many vectors were added or replaced since it was made (they
# are re-scored with it); past that the query searches as usual.
POOL_MAX_ADDED = 4096
# The add log starts again (every pool made before it is dropped) past this many entries.
ADD_LOG_MAX = 1 << 16


def _compact_ids(ids: np.ndarray) -> np.ndarray:
    """A pool's ids, in 4 bytes each where they fit."""
    return ids.astype(np.int32) if ids.size and int(ids.max()) < 2**31 else ids.astype(np.int64)


def candidates(k: int, n: int) -> int:
    """How many approximate candidates are re-scored for a top-`k` search over `n` vectors."""
    return min(n, max(2 * k, k + 64))


class _SlotMap:
    """Stored ids -> their slots in the flat index, for re-scoring a pool: sorted arrays of the
    vectors stored when it was made (looked up with one ``searchsorted``) and a dict of those
    appended since (an add appends at the end; a removal moves the slots after it, and the map
    is made again)."""

    EXTRA_MAX = 4096  # appended ids kept in the dict before the arrays are made again

    def __init__(self, ids: np.ndarray) -> None:
        order = np.argsort(ids, kind="stable")
        self.keys, self.slots = ids[order], order.astype(np.int64)
        self.extra: dict[int, int] = {}

    def appended(self, ids: list[int], start: int) -> bool:
        """Ids stored at slots ``start``...; False when the map should be made again."""
        self.extra.update(zip(ids, range(start, start + len(ids)), strict=True))
        return len(self.extra) <= self.EXTRA_MAX

    def lookup(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(ids, slots) of those of ``ids`` (int64) that are stored, in their order."""
        slots = np.full(len(ids), -1, dtype=np.int64)
        if len(self.keys):
            pos = np.minimum(np.searchsorted(self.keys, ids), len(self.keys) - 1)
            hit = self.keys[pos] == ids
            slots[hit] = self.slots[pos[hit]]
        if self.extra:
            for n in np.flatnonzero(slots < 0).tolist():
                slots[n] = self.extra.get(int(ids[n]), -1)
        keep = slots >= 0
        return ids[keep], slots[keep]


class FaissFlatIndex(VectorIndex):
    """Exact index: ``faiss.IndexIDMap2(faiss.IndexFlatIP(dim))``, searched in two stages over
    a compact fp16 copy when `two_stage` (see the module docstring)."""

    backend = "faiss"
    kind = "flat"

    def __init__(
        self,
        dim: int,
        *,
        two_stage: bool = True,
        two_stage_min: int = TWO_STAGE_MIN,
        _index: Any = None,
    ) -> None:
        super().__init__(dim)
        faiss = faiss_module()
        self._index = (
            _index if _index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        )
        self._flat = faiss.downcast_index(self._index.index)
        self._idset: set[int] = set(faiss.vector_to_array(self._index.id_map).tolist())
        self.two_stage = bool(two_stage)
        self.two_stage_min = int(two_stage_min)
        self._stats = {"two_stage": 0, "proved": 0, "fallback_bound": 0, "fallback_tie": 0, "exact": 0,
                       "pooled": 0, "pool_fallback": 0}
        # ids added (or replaced) in order, since the log began (`_log_token`: pools of it)
        self._log: list[int] = []
        self._log_token = object()
        self._slots: _SlotMap | None = None  # id -> slot, built when a pool is used
        self._compact: Any = None
        self._delta = 0.0  # max ||x - fp16(x)|| over stored vectors (never lowered by removes)
        self._nmax = 0.0  # max ||x|| over stored vectors
        # a float32 dot product of length d is within gamma_d of sum |q_i x_i| of the real one
        self._gamma = self.dim * _U32 / (1 - self.dim * _U32)
        if self.two_stage:
            self._build_compact()

    # ---- compact copy --------------------------------------------------------------------

    def _build_compact(self) -> None:
        faiss = faiss_module()
        self._compact = faiss.IndexScalarQuantizer(
            self.dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        self._delta = 0.0
        self._nmax = 0.0
        n = int(self._flat.ntotal)
        for start in range(0, n, _CHUNK):
            self._compact_add(self._flat.reconstruct_n(start, min(_CHUNK, n - start)))

    def _compact_add(self, vectors: np.ndarray) -> None:
        start = int(self._compact.ntotal)
        self._compact.add(vectors)
        gamma = self._gamma
        for s in range(0, len(vectors), _CHUNK):
            x = vectors[s : s + _CHUNK]
            # x - fp16(x) is exact in float32; a float32 sum of d squares is within gamma_d of
            # the real one, and 1e-30 covers underflow of tiny squares
            diff = x - self._compact.reconstruct_n(start + s, len(x))
            d2 = float(np.einsum("ij,ij->i", diff, diff).max())
            n2 = float(np.einsum("ij,ij->i", x, x).max())
            self._delta = max(self._delta, math.sqrt(d2 * (1 + 2 * gamma) + 1e-30) * (1 + 1e-6))
            self._nmax = max(self._nmax, math.sqrt(n2 * (1 + 2 * gamma) + 1e-30) * (1 + 1e-6))

    def _slots_of(self, ids: np.ndarray) -> np.ndarray:
        """Slots (positions in the flat storage) of stored `ids`."""
        id_map = faiss_module().vector_to_array(self._index.id_map)
        return np.flatnonzero(np.isin(id_map, ids)).astype(np.int64)

    def _compact_remove(self, ids: np.ndarray) -> None:
        # IndexFlatCodes.remove_ids compacts in slot order, as IndexIDMap2 does the flat index
        if self._compact is not None and ids.size:
            slots = self._slots_of(ids)
            if slots.size:
                self._compact.remove_ids(faiss_module().IDSelectorBatch(slots))

    def memory_bytes(self) -> dict[str, int]:
        """Bytes held by the float32 vectors, the ids, and the compact copy (0 when off)."""
        n = int(self._flat.ntotal)
        compact = int(self._compact.ntotal) * int(self._compact.code_size) if self._compact is not None else 0
        return {"vectors": n * self.dim * 4, "ids": n * 8, "compact": compact}

    def stats(self) -> dict[str, int]:
        """Search counters: two-stage queries, those proved exact, fallbacks (bound, boundary
        tie) and queries that took the exact scan directly."""
        with self._lock:
            return dict(self._stats)

    # ---- interface -------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, id_: object) -> bool:
        try:
            return int(id_) in self._idset  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    def ids(self) -> np.ndarray:
        with self._lock:
            return faiss_module().vector_to_array(self._index.id_map).astype(np.int64)

    def _present_mask(self, ids: np.ndarray) -> np.ndarray:
        s = self._idset
        return np.fromiter((int(i) in s for i in ids), dtype=bool, count=len(ids))

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        existing = ids[self._present_mask(ids)]
        if existing.size:
            self._compact_remove(existing)
            self._index.remove_ids(existing)
            self._slots = None  # the slots after them moved
        start = int(self._index.ntotal)
        self._index.add_with_ids(vectors, ids)
        listed = ids.tolist()
        self._idset.update(listed)
        if self._slots is not None and not self._slots.appended(listed, start):
            self._slots = None
        if self._compact is not None:
            self._compact_add(vectors)
        if len(self._log) + len(listed) > ADD_LOG_MAX:
            self._log, self._log_token = [], object()  # pools made before are dropped
        else:
            self._log.extend(listed)

    def _remove(self, ids: np.ndarray) -> None:
        self._compact_remove(ids)
        self._index.remove_ids(ids)
        self._idset.difference_update(ids.tolist())
        self._slots = None

    def _search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        faiss = faiss_module()
        if allowed is not None:
            self._stats["exact"] += len(queries)
            sel = faiss.IDSelectorBatch(allowed)
            return self._index.search(queries, k, params=faiss.SearchParameters(sel=sel))
        n = len(self)
        m_cand = candidates(k, n)
        if not self._two_stage_fits(n, m_cand, len(queries)):
            self._stats["exact"] += len(queries)
            return self._index.search(queries, k)
        return self._two_stage(queries, k, m_cand)

    def _two_stage_fits(self, n: int, m_cand: int, rows: int) -> bool:
        """Whether a search of ``rows`` queries for ``m_cand`` candidates goes in two stages."""
        return not (self._compact is None or n < self.two_stage_min or m_cand >= n or rows > TWO_STAGE_MAX_ROWS)

    def _two_stage(
        self, queries: np.ndarray, k: int, m_cand: int, made: dict[int, Pool] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The two-stage search; with ``made``, the pool of each proved row is put there."""
        faiss = faiss_module()
        m = len(queries)
        approx, slots = self._compact.search(queries, m_cand)
        out_s = np.empty((m, k), dtype=np.float32)
        out_i = np.empty((m, k), dtype=np.int64)
        id_map = faiss.rev_swig_ptr(self._index.id_map.data(), len(self))
        slack = self._delta + self._gamma * (2 * self._nmax + self._delta)
        fallback: list[int] = []
        exact = np.empty(m_cand, dtype=np.float32)
        for r in range(m):
            q = queries[r : r + 1]
            cand = np.ascontiguousarray(slots[r])
            self._flat.compute_distance_subset(
                1, faiss.swig_ptr(q), m_cand, faiss.swig_ptr(exact), faiss.swig_ptr(cand)
            )
            # the flat index's order: score descending, equal scores by descending slot
            order = np.lexsort((-cand, -exact))
            kth = float(exact[order[k - 1]])
            qnorm = math.sqrt(float(np.dot(q[0].astype(np.float64), q[0].astype(np.float64))))
            eps = qnorm * slack * (1 + 1e-9) + 1e-30
            self._stats["two_stage"] += 1
            if float(exact[order[k]]) == kth:
                self._stats["fallback_tie"] += 1
                fallback.append(r)
                continue
            if not float(approx[r, m_cand - 1]) + eps < kth:
                self._stats["fallback_bound"] += 1
                fallback.append(r)
                continue
            self._stats["proved"] += 1
            top = cand[order[:k]]
            out_s[r] = exact[order[:k]]
            out_i[r] = id_map[top]
            if made is not None:  # every vector outside the M scores at most approx_M + eps
                made[r] = Pool(_compact_ids(id_map[cand]), float(approx[r, m_cand - 1]) + eps,
                               len(self._log), self._log_token, query_digest(q))
        if fallback:
            rows = np.asarray(fallback)
            fs, fi = self._index.search(np.ascontiguousarray(queries[rows]), k)
            out_s[rows] = fs
            out_i[rows] = fi
        return out_s, out_i

    # ---- reuse ----------------------------------------------------------------------------

    def search_reusing(self, query: Any, k: int, pool: Pool | None) -> tuple[np.ndarray, np.ndarray, Pool | None]:
        """``search`` of one query vector from ``pool`` when it proves the answer, else as usual
        (see the module docstring); the pool returned is the one to keep for this vector."""
        k = check_k(k)
        q = as_matrix(query, self.dim, what="query")
        if len(q) != 1:
            raise InvalidInput(f"search_reusing takes one query vector, got {len(q)}")
        digest = query_digest(q[0])
        with self._lock:
            n = len(self)
            k_eff = min(k, n)
            if k_eff == 0:
                return (*padded(1, k, None), None)
            if pool is not None and pool.log is self._log_token and pool.query == digest:
                got = self._from_pool(q, k_eff, pool)
                if got is not None:
                    self._stats["pooled"] += 1
                    return (*padded(1, k, got, k_eff), pool)
                self._stats["pool_fallback"] += 1
            m_cand = candidates(k_eff, n)
            if not self._two_stage_fits(n, m_cand, 1):
                self._stats["exact"] += 1
                return (*padded(1, k, self._index.search(q, k_eff), k_eff), None)
            made: dict[int, Pool] = {}
            got = self._two_stage(q, k_eff, m_cand, made)
            return (*padded(1, k, got, k_eff), made.get(0))

    def _slot_map(self) -> _SlotMap:
        if self._slots is None:
            self._slots = _SlotMap(faiss_module().vector_to_array(self._index.id_map).astype(np.int64))
        return self._slots

    def _from_pool(self, q: np.ndarray, k: int, pool: Pool) -> tuple[np.ndarray, np.ndarray] | None:
        """The top ``k`` of query ``q`` (one row) from ``pool`` and the vectors added since,
        or None when they do not prove it."""
        added = self._log[pool.mark :]
        if len(added) > POOL_MAX_ADDED:
            return None
        cand = pool.ids.astype(np.int64)
        if added:
            cand = np.unique(np.concatenate([cand, np.asarray(added, dtype=np.int64)]))
        ids, slots = self._slot_map().lookup(cand)  # those still stored
        if len(ids) <= k:
            return None
        exact = np.empty(len(slots), dtype=np.float32)
        faiss = faiss_module()
        self._flat.compute_distance_subset(
            1, faiss.swig_ptr(q), len(slots), faiss.swig_ptr(exact), faiss.swig_ptr(slots)
        )
        order = np.lexsort((-slots, -exact))  # the flat index's order, as in the two-stage search
        kth = float(exact[order[k - 1]])
        if float(exact[order[k]]) == kth or not pool.bound < kth:
            return None
        top = order[:k]
        return exact[top][None, :], ids[top][None, :]

    def pools(self, queries: Any, k: int) -> list[Pool | None]:
        """Pools for the top ``k`` of many query rows from one matrix product of the queries and
        the float32 vectors (numpy's BLAS, one thread: the vectors are read once for the batch;
        see the module docstring); None for every row where the index searches in one stage
        anyway (two-stage off, too few vectors)."""
        from threadpoolctl import threadpool_limits

        k = check_k(k)
        q = as_matrix(queries, self.dim, what="queries")
        out: list[Pool | None] = [None] * len(q)
        with self._lock:
            n = len(self)
            width = candidates(k, n)
            if not len(q) or not self._two_stage_fits(n, width, 1):  # each row as a search of its own
                return out
            faiss = faiss_module()
            stored = faiss.rev_swig_ptr(self._flat.get_xb(), n * self.dim).reshape(n, self.dim)
            with threadpool_limits(1, user_api="blas"):
                scores = q @ stored.T
            # each row's `width` best slots, the width-th of them last (argpartition's pivot)
            part = np.argpartition(-scores, width - 1, axis=1)[:, :width]
            edge = np.take_along_axis(scores, part[:, width - 1 :], axis=1)[:, 0]
            id_map = faiss.rev_swig_ptr(self._index.id_map.data(), n)
            slack = 2 * self._gamma * self._nmax
            qnorm = np.sqrt(np.einsum("ij,ij->i", q.astype(np.float64), q.astype(np.float64)))
            mark, log = len(self._log), self._log_token
            for r in range(len(q)):
                # a vector outside the row's `width` has a product here of at most edge[r]
                bound = float(edge[r]) + float(qnorm[r]) * slack * (1 + 1e-6) + 1e-30
                out[r] = Pool(_compact_ids(id_map[part[r]]), bound, mark, log, query_digest(q[r]))
        return out

    def _get(self, ids: np.ndarray) -> np.ndarray:
        return self._index.reconstruct_batch(ids)

    def _writers(self) -> dict[str, Any]:
        faiss = faiss_module()
        return {"index.faiss": lambda path: faiss.write_index(self._index, str(path))}

    def _params(self) -> dict[str, Any]:
        return {"two_stage": self.two_stage, "compact": "fp16" if self.two_stage else None}

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any], two_stage: bool | None = None) -> FaissFlatIndex:
        """The saved index; `two_stage` None: as the manifest says."""
        faiss = faiss_module()
        files = manifest_files(directory, manifest, ("index.faiss",))
        raw = read_faiss(files["index.faiss"])
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
        if two_stage is None:
            params = manifest.get("params")
            two_stage = not (isinstance(params, dict) and params.get("two_stage") is False)
        return cls(raw.d, two_stage=two_stage, _index=raw)
