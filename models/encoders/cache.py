"""Encoding through a cache keyed by text hash, so unchanged texts are never re-encoded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from models.encoders.base import Encoder, text_hash


class VectorCache(Protocol):
    """Persistent map (model name, text hash) -> vector."""

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self._d: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return {h: self._d[(model, h)] for h in hashes if (model, h) in self._d}

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        for h, v in items.items():
            self._d[(model, h)] = v


class CachedEncoder:
    """Encodes through a cache keyed by text hash, so unchanged texts are never re-encoded."""

    def __init__(self, encoder: Encoder, cache: VectorCache, batch_size: int = 64) -> None:
        self.encoder = encoder
        self.cache = cache
        self.batch_size = batch_size
        self.encoded = 0  # texts actually sent to the model (observable in tests)

    @property
    def name(self) -> str:
        return self.encoder.name

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def passages(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        hashes = [text_hash("p:" + t) for t in texts]
        found = self.cache.get_many(self.name, list(dict.fromkeys(hashes)))
        todo: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in found and h not in todo:
                todo[h] = t
        items = list(todo.items())
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            vecs = self.encoder.encode_passages([t for _, t in chunk])
            new = {h: v for (h, _), v in zip(chunk, vecs, strict=True)}
            self.cache.put_many(self.name, new)
            found.update(new)
            self.encoded += len(chunk)
            if progress:
                progress(len(chunk))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([found[h] for h in hashes]).astype(np.float32)

    def query(self, text: str) -> np.ndarray:
        return self.encoder.encode_queries([text])[0]
