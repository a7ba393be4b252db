"""faiss ``hnsw``: approximate search, ``IndexHNSWFlat`` with tombstones and automatic compaction."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.core.errors import IndexNotReady, InvalidInput

if TYPE_CHECKING:
    pass

from matcher.retrieval.vectorindex.base import (
    COMPACT_RATIO,
    HNSW_EXACT_FILTER_MAX,
    PAD_ID,
    SlotIds,
    VectorIndex,
    top_k,
)
from matcher.retrieval.vectorindex.files import (
    faiss_module,
    manifest_files,
    read_faiss,
    read_npy,
    write_npy,
)


class FaissHNSWIndex(SlotIds, VectorIndex):
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
        faiss = faiss_module()
        graph = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = self.ef_construction
        graph.hnsw.efSearch = self.ef_search
        return graph

    @property
    def tombstones(self) -> int:
        """Number of dead slots still in the graph."""
        return self._dead

    def ids(self) -> np.ndarray:
        with self._lock:
            return self._slot_id[self._slot_id >= 0].copy()

    def _storage(self) -> np.ndarray:
        """Zero-copy (ntotal, dim) view of the stored vectors; valid until the next mutation."""
        faiss = faiss_module()
        flat = faiss.downcast_index(self._hnsw.storage)
        n = int(self._hnsw.ntotal)
        if n == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        return faiss.rev_swig_ptr(flat.get_xb(), n * self.dim).reshape(n, self.dim)

    def _bury(self, ids: np.ndarray) -> None:
        for id_ in ids.tolist():
            slot = self._slot_of.pop(id_, None)
            if slot is not None:
                self._slot_id[slot] = PAD_ID
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
        if total and self._dead > COMPACT_RATIO * total:
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
        faiss = faiss_module()
        if allowed is not None and len(allowed) <= HNSW_EXACT_FILTER_MAX:
            slots = self._slots(allowed)
            return top_k(queries @ self._storage()[slots].T, allowed, k)
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
        ids = np.where(slots >= 0, self._slot_id[np.maximum(slots, 0)], PAD_ID)
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
        faiss = faiss_module()
        graph, slots = self._hnsw, self._slot_id.copy()
        return {
            "index.faiss": lambda path: faiss.write_index(graph, str(path)),
            "slots.npy": lambda path: write_npy(path, slots),
        }

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any]) -> FaissHNSWIndex:
        faiss = faiss_module()
        files = manifest_files(directory, manifest, ("index.faiss", "slots.npy"))
        raw = read_faiss(files["index.faiss"])
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
        slots = read_npy(files["slots.npy"])
        if slots.dtype != np.int64 or slots.ndim != 1 or len(slots) != raw.ntotal:
            raise IndexNotReady("slot map does not match the HNSW index")
        live = slots[slots >= 0]
        if len(np.unique(live)) != len(live) or (slots < PAD_ID).any():
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
