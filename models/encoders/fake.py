"""A deterministic test encoder: hashed bag of character 1- and 2-grams."""

from __future__ import annotations

import hashlib

import numpy as np

from models.encoders.base import Encoder


class FakeEncoder(Encoder):
    """Deterministic hashed character n-grams: similar strings get similar vectors."""

    def __init__(self, dim: int = 64) -> None:
        self.name = f"fake-{dim}"
        self.dim = dim

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            t = text.lower()
            grams = [t[j : j + n] for n in (1, 2) for j in range(len(t) - n + 1)]
            for g in grams:
                h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
            if not grams:
                out[i, 0] = 1.0
        return out
