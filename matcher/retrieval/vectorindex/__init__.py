"""Dense vector index over L2-normalised float32 vectors keyed by int64 database ids.

Two backends sit behind one interface (`VectorIndex`) and one registry (`create_index`):

- ``faiss``: ``flat`` (exact, ``IndexIDMap2(IndexFlatIP)``, searched in two proved-exact stages
  over a compact fp16 copy), ``ivf`` (approximate,
  ``IndexIVFFlat``: exact scoring inside the ``nprobe`` nearest of ``nlist`` k-means lists, direct
  adds and deletes; the default at large sizes) or ``hnsw`` (approximate, ``IndexHNSWFlat`` with
  tombstones for deletes/updates and automatic compaction);
- ``numpy``: exact reference implementation (``flat`` only), used by the contract tests.

Similarity is the inner product, which equals cosine similarity for unit vectors. Indexes are
derived data: `load_index` raises `IndexNotReady` for anything it cannot trust, and callers
rebuild from the database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from matcher.core.errors import IndexNotReady
from matcher.retrieval.vectorindex.base import (
    BACKENDS,
    FORMAT_VERSION,
    KINDS,
    MANIFEST_NAME,
    Pool,
    VectorIndex,
)
from matcher.retrieval.vectorindex.faiss_flat import FaissFlatIndex
from matcher.retrieval.vectorindex.faiss_hnsw import FaissHNSWIndex
from matcher.retrieval.vectorindex.faiss_ivf import FaissIVFIndex, auto_nlist
from matcher.retrieval.vectorindex.files import manifest_files
from matcher.retrieval.vectorindex.numpy_flat import NumpyFlatIndex

__all__ = [
    "BACKENDS",
    "FORMAT_VERSION",
    "KINDS",
    "MANIFEST_NAME",
    "Pool",
    "VectorIndex",
    "auto_nlist",
    "check_files",
    "choose_kind",
    "create_index",
    "load_index",
    "read_manifest",
    "search_threads",
]


@contextmanager
def search_threads(n: int) -> Iterator[None]:
    """FAISS searches in this block of this thread use ``n`` OpenMP threads (0: unchanged).

    OpenMP keeps the number per thread: it is set and restored around each search, so a later
    batch search on the same thread (a fair, an evaluation) keeps faiss's default. The numpy
    backend ignores it."""
    if n <= 0:
        yield
        return
    try:
        import faiss
    except ImportError:  # pragma: no cover - the numpy backend without faiss installed
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def create_index(
    backend: str,
    dim: int,
    kind: str = "flat",
    *,
    hnsw_m: int = 32,
    ef_construction: int = 200,
    ef_search: int = 128,
    nlist: int = 1024,
    nprobe: int = 32,
    train_at: int | None = None,
    flat_two_stage: bool = True,
) -> VectorIndex:
    """A new empty index of `backend` ("faiss" | "numpy") and `kind` ("flat" | "hnsw" | "ivf").

    `flat_two_stage`: the faiss flat index scans a compact fp16 copy first and proves the exact
    top k from it (same results, half the memory read; `FaissFlatIndex`)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown index backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; choose one of {', '.join(KINDS)}")
    if backend == "numpy":
        if kind != "flat":
            raise ValueError(
                f"the numpy backend supports kind 'flat' only; use backend 'faiss' for {kind}"
            )
        return NumpyFlatIndex(dim)
    if kind == "flat":
        return FaissFlatIndex(dim, two_stage=flat_two_stage)
    if kind == "ivf":
        return FaissIVFIndex(dim, nlist=nlist, nprobe=nprobe, train_at=train_at)
    return FaissHNSWIndex(dim, hnsw_m=hnsw_m, ef_construction=ef_construction, ef_search=ef_search)


def choose_kind(n: int, setting: str, threshold: int) -> str:
    """The index kind for `n` vectors: `setting` itself, or for "auto" ivf at/above `threshold`
    (exact flat below it)."""
    if setting in KINDS:
        return setting
    if setting == "auto":
        return "ivf" if n >= threshold else "flat"
    raise ValueError(
        f"unknown index kind setting {setting!r}; choose one of auto, {', '.join(KINDS)}"
    )


# the (backend, kind) pairs a saved index may have
LOADABLE = (("numpy", "flat"), ("faiss", "flat"), ("faiss", "hnsw"), ("faiss", "ivf"))


def read_manifest(directory: Path | str, *, expect: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The manifest saved in `directory`, checked for what every loader needs (backend, kind,
    dimension, count, format, file list; a manifest key that differs from `expect`), without
    reading the index itself. Raises `IndexNotReady` as `load_index` does."""
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexNotReady(f"no saved index in {directory} (missing {MANIFEST_NAME})") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexNotReady(f"unreadable index manifest {path}: {exc}") from exc
    if not isinstance(manifest, dict):
        raise IndexNotReady(f"index manifest {path} is not a JSON object")
    for key in ("backend", "kind", "dim", "count", "format_version", "files"):
        if key not in manifest:
            raise IndexNotReady(f"index manifest {path} lacks {key!r}")
    if manifest["format_version"] != FORMAT_VERSION:
        raise IndexNotReady(
            f"index format version {manifest['format_version']!r} is not supported (expected {FORMAT_VERSION})"
        )
    backend, kind, dim, count = (
        manifest["backend"],
        manifest["kind"],
        manifest["dim"],
        manifest["count"],
    )
    if (backend, kind) not in LOADABLE:
        raise IndexNotReady(f"unknown index backend/kind {backend!r}/{kind!r} in manifest")
    for key, value in (("dim", dim), ("count", count)):
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (1 if key == "dim" else 0)
        ):
            raise IndexNotReady(f"invalid {key} {value!r} in index manifest")
    for key, want in (expect or {}).items():
        if manifest.get(key) != want:
            raise IndexNotReady(
                f"saved index has {key}={manifest.get(key)!r}, expected {want!r}; rebuild it"
            )
    return manifest


def check_files(directory: Path | str, manifest: Mapping[str, Any]) -> None:
    """Every data file the manifest names is there with the size it was saved with
    (`IndexNotReady` otherwise): a quick check, without reading them (`load_index` also checks
    their checksums and reads them)."""
    files = manifest.get("files")
    manifest_files(Path(directory), manifest, tuple(files) if isinstance(files, dict) else (), checksums=False)


def load_index(
    directory: Path | str, *, expect: Mapping[str, Any] | None = None, flat_two_stage: bool | None = None
) -> tuple[VectorIndex, dict[str, Any]]:
    """The index saved in `directory` and its manifest. `flat_two_stage`: whether a faiss flat
    index searches in two stages (None: as it was saved; False builds no compact copy, e.g. for
    a check that never searches).

    Raises `IndexNotReady` when files are missing or corrupt, when they disagree with the
    manifest, or when a manifest key differs from `expect` (e.g. ``{"model": ..., "dim": ...}``).
    """
    directory = Path(directory)
    manifest = read_manifest(directory, expect=expect)
    backend, kind, dim, count = manifest["backend"], manifest["kind"], manifest["dim"], manifest["count"]
    loaders = {
        ("numpy", "flat"): NumpyFlatIndex._load,
        ("faiss", "flat"): lambda d, m: FaissFlatIndex._load(d, m, two_stage=flat_two_stage),
        ("faiss", "hnsw"): FaissHNSWIndex._load,
        ("faiss", "ivf"): FaissIVFIndex._load,
    }
    index = loaders[(backend, kind)](directory, manifest)
    if index.dim != dim:
        raise IndexNotReady(f"saved index has dimension {index.dim}, manifest says {dim}")
    if len(index) != count:
        raise IndexNotReady(f"saved index holds {len(index)} vectors, manifest says {count}")
    return index, manifest
