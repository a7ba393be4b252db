"""Exact reference backend in numpy (``flat`` only), used by the contract tests."""

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
    top_k,
)
from matcher.retrieval.vectorindex.files import manifest_files, read_npy, write_npy


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
        return top_k(queries @ mat.T, keys, k)

    def _get(self, ids: np.ndarray) -> np.ndarray:
        rows = np.fromiter((self._row[int(i)] for i in ids), dtype=np.int64, count=len(ids))
        return self._vecs[rows].copy()

    def _writers(self) -> dict[str, Any]:
        vecs = self._vecs[: self._n]
        keys = self._keys[: self._n]
        return {
            "vectors.npy": lambda path: write_npy(path, vecs),
            "ids.npy": lambda path: write_npy(path, keys),
        }

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any]) -> NumpyFlatIndex:
        files = manifest_files(directory, manifest, ("vectors.npy", "ids.npy"))
        vecs = read_npy(files["vectors.npy"])
        keys = read_npy(files["ids.npy"])
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
