"""``static-e5``: a static encoder distilled from e5 (``e5-small-q4``), for bulk encoding.

A text's vector is the normalised sum of the vectors of its features — character 1–3-grams of
each Chinese run, whole Latin/number words, and a marker for the side (e5 encodes queries and
passages with different prompts) — each weighted by ``1/sqrt(n)`` for a text of ``n`` known
features. The feature vectors live in a low-rank table (``features x rank``, float16) and a
basis onto e5's 384 dimensions, so vectors are in e5's own space: a static query can be
compared with an e5 passage. No model runs: encoding is a table look-up, thousands of texts a
second on one core. ``scripts/build_static_encoder.py`` fits the table by ridge regression on
e5 vectors of the bundled texts and writes ``models/artifacts/static-e5.npz``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.encoders.base import Encoder
from models.errors import MissingModelDependency
from models.paths import ARTIFACT_DIR

ARTIFACT = ARTIFACT_DIR / "static-e5.npz"
QUERY_MARK = "<q>"
PASSAGE_MARK = "<p>"
_TOKEN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([a-z0-9]+(?:[+#.][a-z0-9+#]*)*)")
MAX_CHARS = 1500
# up to this many features in one call, rows are summed with numpy, beyond it by a sparse product
SMALL_BATCH_FEATURES = 20_000


def featurize(text: str, is_query: bool) -> list[str]:
    """The features of a text: the side marker, Chinese character 1–3-grams, Latin words."""
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS]).lower()
    out = [QUERY_MARK if is_query else PASSAGE_MARK]
    for m in _TOKEN.finditer(text):
        run = m.group(1)
        if run is None:
            out.append(m.group(2))
            continue
        n = len(run)
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(n - 1))
        out.extend(run[i : i + 3] for i in range(n - 2))
    return out


def artifact_teacher(path: Path = ARTIFACT) -> str | None:
    """The teacher an artifact was distilled from (its metadata only: the table is not read)."""
    try:
        with np.load(path, allow_pickle=False) as d:
            return json.loads(bytes(d["meta"]).decode("utf-8")).get("teacher")
    except (OSError, ValueError, KeyError):
        return None


class StaticEncoder(Encoder):
    """The distilled static encoder (see the module docstring); 384 dims like its teacher."""

    def __init__(self, path: str | Path | None = None) -> None:
        path = Path(path) if path else ARTIFACT
        if not path.exists():
            raise MissingModelDependency(f"静态编码器文件不存在：{path}（运行 scripts/build_static_encoder.py）")
        self._path = path
        with path.open("rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()[:8]
        with np.load(path, allow_pickle=False) as d:  # members are read when asked for
            self.meta = json.loads(bytes(d["meta"]).decode("utf-8"))
            self.dim = int(d["basis"].shape[1])
        self.name = f"static-e5-{digest}"
        self._lock = threading.Lock()
        self._loaded: tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray] | None = None
        self._wide: np.ndarray | None = None

    def _tables(self) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
        """The vocabulary, feature table (float16, as stored), basis and mean, read on first
        use (a service that never encodes, e.g. a status command, does not read them)."""
        loaded = self._loaded
        if loaded is None:
            with self._lock:
                loaded = self._loaded
                if loaded is None:
                    with np.load(self._path, allow_pickle=False) as d:
                        vocab = bytes(d["vocab"]).decode("utf-8").split("\n")
                        table = d["table"]
                        basis = d["basis"].astype(np.float32)
                        mean = d["mean"].astype(np.float32)
                    loaded = self._loaded = ({w: i for i, w in enumerate(vocab)}, table, basis, mean)
        return loaded

    def _table32(self) -> np.ndarray:
        """The feature table in float32 with one extra zero row (where a text has no known
        feature at all), for the sparse product of large batches; made on the first one."""
        wide = self._wide
        if wide is None:
            table = self._tables()[1]
            with self._lock:
                wide = self._wide
                if wide is None:
                    wide = np.zeros((len(table) + 1, table.shape[1]), np.float32)
                    wide[:-1] = table
                    self._wide = wide
        return wide

    @staticmethod
    def write(path: Path, vocab: Sequence[str], table: np.ndarray, basis: np.ndarray, mean: np.ndarray,
              meta: dict) -> None:
        """Write an artifact (float16 table, not compressed: it loads faster, and the float16
        table hardly compresses) that :class:`StaticEncoder` loads."""
        if any("\n" in w for w in vocab):
            raise ValueError("a feature holds a newline")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            np.savez(
                fh, vocab=np.frombuffer("\n".join(vocab).encode("utf-8"), dtype=np.uint8),
                table=table.astype(np.float16), basis=basis.astype(np.float32), mean=mean.astype(np.float32),
                meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8))

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._encode_flagged(texts, [is_query] * len(texts))

    def _encode_flagged(self, texts: Sequence[str], flags: Sequence[bool]) -> np.ndarray:
        index, table, basis, mean = self._tables()
        empty = len(table)  # no known feature: a zero row
        ids: list[int] = []
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        weights = np.empty(len(texts), dtype=np.float32)
        for n, (text, q) in enumerate(zip(texts, flags, strict=True)):
            kept = [i for i in map(index.get, featurize(text, q)) if i is not None] or [empty]
            ids.extend(kept)
            indptr[n + 1] = len(ids)
            weights[n] = 1.0 / len(kept) ** 0.5
        if len(ids) <= SMALL_BATCH_FEATURES:
            # a query or a few texts: each row summed in order (the sparse product sums the same
            # rows in the same order) without importing scipy, a third of a one-query command
            # rows only (float16 to float32 is exact: the same values as the float32 table's)
            at = np.asarray(ids, dtype=np.int64)
            rows = table[np.minimum(at, empty - 1)].astype(np.float32)
            rows[at == empty] = 0.0
            low = np.add.reduceat(rows, indptr[:-1], axis=0)
        else:
            from scipy import sparse

            counts = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), np.asarray(ids, dtype=np.int64),
                                        indptr), shape=(len(texts), len(table) + 1))
            low = counts @ self._table32()
        low *= weights[:, None]  # repeated features add up, as in training
        return low @ basis + mean
