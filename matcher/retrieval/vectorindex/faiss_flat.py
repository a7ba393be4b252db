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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from matcher.core.errors import IndexNotReady
from matcher.retrieval.vectorindex.base import VectorIndex
from matcher.retrieval.vectorindex.files import faiss_module, manifest_files, read_faiss

# Below this many vectors a full scan is cheap; the two-stage path starts here.
TWO_STAGE_MIN = 4096
# Query batches of at least this many rows take the exact scan (faiss may score them by BLAS,
# whose rounding the re-scoring would not reproduce; batches are not latency-bound anyway).
TWO_STAGE_MAX_ROWS = 16
# Rows encoded per chunk when the compact copy is built (bounds the float64 scratch memory).
_CHUNK = 16_384
_U32 = 2.0**-24


def candidates(k: int, n: int) -> int:
    """How many approximate candidates are re-scored for a top-`k` search over `n` vectors."""
    return min(n, max(2 * k, k + 64))


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
        self._stats = {"two_stage": 0, "proved": 0, "fallback_bound": 0, "fallback_tie": 0, "exact": 0}
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
        self._index.add_with_ids(vectors, ids)
        self._idset.update(ids.tolist())
        if self._compact is not None:
            self._compact_add(vectors)

    def _remove(self, ids: np.ndarray) -> None:
        self._compact_remove(ids)
        self._index.remove_ids(ids)
        self._idset.difference_update(ids.tolist())

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
        if (
            self._compact is None
            or n < self.two_stage_min
            or m_cand >= n
            or len(queries) > TWO_STAGE_MAX_ROWS
        ):
            self._stats["exact"] += len(queries)
            return self._index.search(queries, k)
        return self._two_stage(queries, k, m_cand)

    def _two_stage(
        self, queries: np.ndarray, k: int, m_cand: int
    ) -> tuple[np.ndarray, np.ndarray]:
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
        if fallback:
            rows = np.asarray(fallback)
            fs, fi = self._index.search(np.ascontiguousarray(queries[rows]), k)
            out_s[rows] = fs
            out_i[rows] = fi
        return out_s, out_i

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
