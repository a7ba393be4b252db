"""faiss ``flat``: exact inner-product search, ``IndexIDMap2(IndexFlatIP)``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.core.errors import IndexNotReady

if TYPE_CHECKING:
    pass

from matcher.retrieval.vectorindex.base import (
    VectorIndex,
)
from matcher.retrieval.vectorindex.files import faiss_module, manifest_files, read_faiss


class FaissFlatIndex(VectorIndex):
    """Exact index: ``faiss.IndexIDMap2(faiss.IndexFlatIP(dim))``."""

    backend = "faiss"
    kind = "flat"

    def __init__(self, dim: int, *, _index: Any = None) -> None:
        super().__init__(dim)
        faiss = faiss_module()
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
            return faiss_module().vector_to_array(self._index.id_map).astype(np.int64)

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
        faiss = faiss_module()
        if allowed is None:
            return self._index.search(queries, k)
        sel = faiss.IDSelectorBatch(allowed)
        return self._index.search(queries, k, params=faiss.SearchParameters(sel=sel))

    def _get(self, ids: np.ndarray) -> np.ndarray:
        return self._index.reconstruct_batch(ids)

    def _writers(self) -> dict[str, Any]:
        faiss = faiss_module()
        return {"index.faiss": lambda path: faiss.write_index(self._index, str(path))}

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any]) -> FaissFlatIndex:
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
        return cls(raw.d, _index=raw)
