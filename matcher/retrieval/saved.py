"""What is saved on disk for each side's index, compared with the database, without loading
anything for search: ``talentmatch index status`` (no service), and ``IndexManager.saved_status``.

Kept apart from :mod:`matcher.retrieval.indexes` so that the check loads neither the store's ORM
nor the service's models: it needs the settings, the records' text hashes (any reader with
``text_hashes``, e.g. :class:`matcher.storage.peek.RecordHashes`) and the encoder's name and
dimension.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import numpy as np

from matcher.core.errors import IndexNotReady
from matcher.core.settings import Settings
from matcher.retrieval.vectorindex import (
    auto_nlist,
    check_files,
    choose_kind,
    load_index,
    read_manifest,
)

TOKENS_FILE = "bm25-tokens.npz"  # BM25 token lists by text hash, saved beside each dense index
# only these statuses are searchable; others stay in the database but leave the index
SEARCHABLE = {"demand": "open", "talent": "active"}


def kind_for_size(n: int, kind: str, nlist: int | None, settings: Settings) -> str | None:
    """The dense index kind a side of ``n`` vectors should move to, when the one it has (``kind``,
    with ``nlist`` lists for IVF) no longer fits its size; None when it fits. Only under the
    "auto" setting with the FAISS backend (a kind named in the settings is kept): a side that
    grew past ``hnsw_threshold`` leaves exact search for IVF, an IVF whose ideal list count has
    doubled since its training is trained again, and a side that shrank below half the
    threshold goes back to exact search (the gap keeps a side near the line from going back and
    forth). ``talentmatch index sync`` makes the move from the stored vectors (nothing is
    encoded again); ``index status`` says when one is due."""
    if settings.index_kind != "auto" or settings.index_backend != "faiss":
        return None
    want = choose_kind(n, "auto", settings.hnsw_threshold)
    if kind == "ivf" and want == "flat" and n >= settings.hnsw_threshold // 2:
        return None
    if want != kind:
        return want
    if kind == "ivf" and not settings.ivf_nlist and nlist and 2 * nlist <= auto_nlist(n):
        return "ivf"
    return None


class TextHashes(Protocol):
    def text_hashes(self, kind: str, status: str | None = None) -> dict[int, str]: ...


def saved_status(settings: Settings, records: TextHashes, model: str, model_dim: int, *,
                 verify: bool = True) -> dict[str, dict[str, Any]]:
    """What is saved on disk for each side, compared with the database, before any repair
    (nothing is loaded for search, re-indexed or saved): ``problem`` names a file that cannot be
    used. Needs no service: the settings, the records' text hashes and the encoder's name and
    dimension (``talentmatch index status`` builds nothing else).

    ``verify=False`` reads only the manifests and the files' sizes: a quick look, whose time
    does not grow with the index files (at 10^5 entries the index file alone is 154 MB, its
    checksum and reading took about 0.7 s of a 1 s status); what it cannot see (a file of the
    right size whose bytes changed) a start or ``verify=True`` finds, by checksum, reading the
    index and its ids and every BM25 token array."""
    out = {}
    for kind in ("demand", "talent"):
        db = records.text_hashes(kind, status=SEARCHABLE[kind])
        entry: dict[str, Any] = {"saved": False, "indexed": 0, "database": len(db), "in_step": not db,
                                 "problem": None, "kind": None, "kind_for_size": None}
        directory = settings.index_dir() / kind
        if (directory / "manifest.json").exists():
            entry["saved"] = True
            try:
                if verify:
                    dense, manifest = load_index(directory, flat_two_stage=False)  # read, never searched
                    count, dense_kind, nlist = len(dense), dense.kind, getattr(dense, "nlist", None)
                    ids = {int(i) for i in dense.ids()}
                else:
                    manifest = read_manifest(directory)
                    check_files(directory, manifest)
                    params = manifest.get("params")
                    count, dense_kind = manifest["count"], manifest["kind"]
                    nlist = params.get("nlist") if isinstance(params, dict) else None
                    ids = None
                hashes = {int(k): v for k, v in manifest.get("hashes", {}).items()}
                entry["indexed"] = count
                entry["kind"] = dense_kind
                entry["kind_for_size"] = kind_for_size(count, dense_kind, nlist, settings)
                if manifest.get("model") != model or manifest.get("model_dim") != model_dim:
                    entry["problem"] = "为其他编码模型建立"
                elif (set(hashes) != ids) if ids is not None else (len(hashes) != count):
                    entry["problem"] = "编号映射与向量不一致"
                entry["in_step"] = entry["problem"] is None and hashes == db
            except IndexNotReady as exc:
                entry["problem"] = exc.detail
            except Exception as exc:
                entry["problem"] = f"{type(exc).__name__}: {exc}"
            tokens = directory / TOKENS_FILE
            if entry["problem"] is None and tokens.exists():
                problem = _tokens_problem(tokens, verify)
                if problem is not None:
                    entry["problem"] = problem
                    entry["in_step"] = False
        out[kind] = entry
    return out


def _tokens_problem(path: Path, verify: bool) -> str | None:
    """Why the saved BM25 token lists cannot be read, or None: their archive's directory (a
    truncated file has none), and with ``verify`` every array (a damaged one fails its CRC)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if verify:
                for name in data.files:
                    data[name]  # read every array
    except Exception as exc:
        return f"{TOKENS_FILE} 无法读取（{type(exc).__name__}）"
    return None
