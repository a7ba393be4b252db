"""Vectors and index pairs shared by the exact index's tests (two-stage search, pools)."""

from __future__ import annotations

import numpy as np

from matcher.retrieval.vectorindex.faiss_flat import FaissFlatIndex

DIM = 32


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def pair(ids: np.ndarray, vectors: np.ndarray) -> tuple[FaissFlatIndex, FaissFlatIndex]:
    """A two-stage index (on at every size) and a plain exact one holding the same vectors."""
    two = FaissFlatIndex(vectors.shape[1], two_stage_min=0)
    exact = FaissFlatIndex(vectors.shape[1], two_stage=False)
    for idx in (two, exact):
        idx.add(ids, vectors)
    return two, exact
