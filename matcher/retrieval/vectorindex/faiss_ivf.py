"""faiss ``ivf``: ``IndexIVFFlat`` (inner product) keyed by database ids, exact inside the probed lists.

The vectors are clustered into ``nlist`` lists around k-means centroids; a query scans the
``nprobe`` lists whose centroids are nearest, scoring every vector there exactly (the lists hold
the full float32 vectors). Adds and deletes are direct (``add_with_ids`` / ``remove_ids`` with a
hash-table id map), so there are no tombstones to compact.

The centroids need training data: until ``train_at`` vectors have been added the index keeps
them in an exact flat index (search is exact); when that many have arrived, or when the caller
calls `settle` after a bulk load with at least ``39 × nlist`` vectors, the centroids are trained
on them and every vector moves into the lists. Later vectors are assigned to the trained
centroids; a rebuild retrains.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from matcher.core.errors import IndexNotReady, InvalidInput
from matcher.retrieval.vectorindex.base import (
    HNSW_EXACT_FILTER_MAX,
    PAD_ID,
    VectorIndex,
    top_k,
)
from matcher.retrieval.vectorindex.files import faiss_module, manifest_files, read_faiss

# k-means needs about this many training vectors per centroid (faiss warns below 39)
MIN_POINTS_PER_LIST = 39
# the default training set: this many vectors per list (faiss samples 256 per list at most)
TRAIN_POINTS_PER_LIST = 64


def auto_nlist(n: int) -> int:
    """Lists for an index expected to hold `n` vectors: the power of two nearest 2·√n, within [16, 8192]."""
    target = 2.0 * np.sqrt(max(n, 1))
    return int(min(8192, max(16, 2 ** round(np.log2(target)))))


class FaissIVFIndex(VectorIndex):
    """Approximate index: ``faiss.IndexIVFFlat`` (inner product) with a hash-table id map."""

    backend = "faiss"
    kind = "ivf"

    def __init__(
        self,
        dim: int,
        *,
        nlist: int = 1024,
        nprobe: int = 32,
        train_at: int | None = None,
        _ivf: Any = None,
        _pending: Any = None,
    ) -> None:
        super().__init__(dim)
        for name, value in (("nlist", nlist), ("nprobe", nprobe), ("train_at", train_at or 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
        self.nlist = int(nlist)
        self.nprobe = min(int(nprobe), self.nlist)
        self.train_at = int(train_at) if train_at else TRAIN_POINTS_PER_LIST * self.nlist
        if self.train_at < self.nlist:
            raise InvalidInput(f"train_at ({self.train_at}) must be at least nlist ({self.nlist})")
        faiss = faiss_module()
        if _ivf is None:
            quantizer = faiss.IndexFlatIP(self.dim)
            _ivf = faiss.IndexIVFFlat(quantizer, self.dim, self.nlist, faiss.METRIC_INNER_PRODUCT)
            _ivf.own_fields = True
            quantizer.this.disown()  # the IVF index owns and frees its quantizer
            _ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        self._ivf = _ivf
        # vectors waiting for the centroids to be trained (empty once trained)
        self._pending = _pending if _pending is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        self._idset: set[int] = set(faiss.vector_to_array(self._pending.id_map).tolist())
        if self._ivf.ntotal:
            self._idset.update(self._list_ids().tolist())

    # ---- state ---------------------------------------------------------------------------

    @property
    def trained(self) -> bool:
        """Whether the centroids are trained (all vectors then live in the inverted lists)."""
        return bool(self._ivf.is_trained)

    def __len__(self) -> int:
        return len(self._idset)

    def __contains__(self, id_: object) -> bool:
        try:
            return int(id_) in self._idset  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False

    def ids(self) -> np.ndarray:
        with self._lock:
            return np.fromiter(self._idset, dtype=np.int64, count=len(self._idset))

    def _list_ids(self) -> np.ndarray:
        """Every id stored in the inverted lists."""
        faiss = faiss_module()
        invlists = self._ivf.invlists
        parts = []
        for list_no in range(self._ivf.nlist):
            size = invlists.list_size(list_no)
            if size:
                parts.append(faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy())
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, dtype=np.int64)

    def _present_mask(self, ids: np.ndarray) -> np.ndarray:
        s = self._idset
        return np.fromiter((int(i) in s for i in ids), dtype=bool, count=len(ids))

    # ---- mutation ------------------------------------------------------------------------

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        existing = ids[self._present_mask(ids)]
        if existing.size:
            self._remove(existing)
        if self.trained:
            self._ivf.add_with_ids(vectors, ids)
        else:
            self._pending.add_with_ids(vectors, ids)
        self._idset.update(ids.tolist())
        if not self.trained and self._pending.ntotal >= self.train_at:
            self._train()

    def _remove(self, ids: np.ndarray) -> None:
        if self.trained:
            self._ivf.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))
        else:
            self._pending.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))
        self._idset.difference_update(ids.tolist())

    def settle(self) -> None:
        """After a bulk load: train the centroids if enough vectors wait (≥ 39 per list)."""
        with self._lock:
            if not self.trained and self._pending.ntotal >= MIN_POINTS_PER_LIST * self.nlist:
                self._train()

    def _train(self) -> None:
        """Train the centroids on the waiting vectors and move them all into the lists."""
        faiss = faiss_module()
        n = int(self._pending.ntotal)
        flat = faiss.downcast_index(self._pending.index)
        vectors = faiss.rev_swig_ptr(flat.get_xb(), n * self.dim).reshape(n, self.dim).copy()
        keys = faiss.vector_to_array(self._pending.id_map).astype(np.int64)
        self._ivf.train(vectors)
        self._ivf.add_with_ids(vectors, keys)
        self._pending.reset()

    # ---- search --------------------------------------------------------------------------

    def _search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        faiss = faiss_module()
        if not self.trained:
            if allowed is None:
                return self._pending.search(queries, k)
            sel = faiss.IDSelectorBatch(allowed)
            return self._pending.search(queries, k, params=faiss.SearchParameters(sel=sel))
        if allowed is not None and len(allowed) <= HNSW_EXACT_FILTER_MAX:
            # a small allowed set is scored exactly from the stored vectors
            return top_k(queries @ self._get(allowed).T, allowed, k)
        if allowed is None:
            params = faiss.SearchParametersIVF(nprobe=self.nprobe)
            return self._ivf.search(queries, k, params=params)
        sel = faiss.IDSelectorBatch(allowed)
        params = faiss.SearchParametersIVF(nprobe=self.nprobe, sel=sel)
        scores, found = self._ivf.search(queries, k, params=params)
        return scores, np.where(found >= 0, found, PAD_ID)

    def _get(self, ids: np.ndarray) -> np.ndarray:
        source = self._ivf if self.trained else self._pending
        return source.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))

    # ---- persistence ---------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        return {"nlist": self.nlist, "nprobe": self.nprobe, "train_at": self.train_at}

    def _writers(self) -> dict[str, Any]:
        faiss = faiss_module()
        ivf, pending = self._ivf, self._pending
        return {
            "index.faiss": lambda path: faiss.write_index(ivf, str(path)),
            "pending.faiss": lambda path: faiss.write_index(pending, str(path)),
        }

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any]) -> FaissIVFIndex:
        faiss = faiss_module()
        files = manifest_files(directory, manifest, ("index.faiss", "pending.faiss"))
        ivf = read_faiss(files["index.faiss"])
        pending = read_faiss(files["pending.faiss"])
        dim = int(manifest["dim"])
        if not isinstance(ivf, faiss.IndexIVFFlat) or ivf.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise IndexNotReady(
                f"index file holds {type(ivf).__name__}, expected inner-product IndexIVFFlat"
            )
        if ivf.direct_map.type != faiss.DirectMap.Hashtable:
            raise IndexNotReady("the IVF index has no hash-table id map")
        if not isinstance(pending, faiss.IndexIDMap2) or not isinstance(
            faiss.downcast_index(pending.index), faiss.IndexFlatIP
        ):
            raise IndexNotReady("the pending-vector file does not hold an inner-product flat index")
        if ivf.d != dim or pending.d != dim:
            raise IndexNotReady(f"index files have dimension {ivf.d}/{pending.d}, manifest says {dim}")
        if (ivf.is_trained and pending.ntotal) or (not ivf.is_trained and ivf.ntotal):
            raise IndexNotReady("the IVF index and its pending vectors disagree")
        params = manifest.get("params") or {}
        try:
            index = cls(
                dim,
                nlist=int(params.get("nlist", ivf.nlist)),
                nprobe=int(params.get("nprobe", ivf.nprobe)),
                train_at=int(params.get("train_at", TRAIN_POINTS_PER_LIST * ivf.nlist)),
                _ivf=ivf,
                _pending=pending,
            )
        except (InvalidInput, TypeError, ValueError) as exc:
            raise IndexNotReady(f"invalid IVF parameters in manifest: {exc}") from exc
        if index.nlist != ivf.nlist:
            raise IndexNotReady(f"manifest says {index.nlist} lists, the index has {ivf.nlist}")
        stored = int(ivf.ntotal) + int(pending.ntotal)
        if stored != len(index):
            raise IndexNotReady("the IVF index holds duplicate ids")
        return index
