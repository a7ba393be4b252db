"""The encoder interface: texts in, L2-normalised float32 vectors out, with explicit query and
passage prompts (retrieval models such as e5 encode the two sides differently)."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from models.errors import BadEncoderInput


def l2_normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Encoder(ABC):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    @abstractmethod
    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of search queries (the query prompt of the backend, if it has one)."""
        return self._checked(texts, True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of stored documents (the passage prompt of the backend, if it has one)."""
        return self._checked(texts, False)

    def _checked(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise BadEncoderInput("encode expects a list of texts, not one string")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        for t in texts:
            if not isinstance(t, str):
                raise BadEncoderInput(f"encode expects strings, got {type(t).__name__}")
        return l2_normalise(self._encode(texts, is_query))
