"""The embedding cache: vectors by encoder model and text hash (``models.encoders.VectorCache``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from matcher.storage.engine import Database
from matcher.storage.records import BATCH
from matcher.storage.tables import EmbeddingRow

__all__ = ["StoreVectorCache", "Vectors", "pack", "unpack"]


def pack(v: np.ndarray) -> bytes:
    return np.asarray(v, dtype="<f4").tobytes()


def unpack(b: bytes, dim: int) -> np.ndarray:
    if len(b) != dim * 4:
        raise ValueError(f"stored vector has {len(b)} bytes, expected {dim * 4}")
    return np.frombuffer(b, dtype="<f4").astype(np.float32)


class Vectors:
    """Cached vectors in the caller's session (its unit of work)."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        hashes = list(hashes)
        for start in range(0, len(hashes), BATCH):
            chunk = hashes[start : start + BATCH]
            q = select(EmbeddingRow.text_hash, EmbeddingRow.vector, EmbeddingRow.dim).where(
                EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(chunk))
            for text_hash, vector, dim in self.s.execute(q):
                try:
                    out[text_hash] = unpack(vector, dim)
                except ValueError:
                    continue  # a damaged cache line is re-encoded
        return out

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        """Add the vectors not cached yet (one multi-row INSERT, not an ORM object per vector)."""
        hashes = list(items)
        existing: set[str] = set()
        for start in range(0, len(hashes), BATCH):
            existing.update(self.s.scalars(select(EmbeddingRow.text_hash).where(
                EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(hashes[start : start + BATCH]))))
        rows = [{"model": model, "text_hash": h, "dim": int(v.shape[0]), "vector": pack(v)}
                for h, v in items.items() if h not in existing]
        if rows:
            self.s.execute(insert(EmbeddingRow.__table__), rows)


class StoreVectorCache:
    """Adapter: the database's embedding table as a models.encoders.VectorCache, one unit of work
    per call."""

    def __init__(self, store: Database) -> None:
        self.store = store

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        with self.store.session() as s:
            return Vectors(s).get_many(model, hashes)

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        if items:
            with self.store.session(write=True) as s:
                Vectors(s).put_many(model, items)
