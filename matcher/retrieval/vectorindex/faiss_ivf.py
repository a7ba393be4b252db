"""faiss ``ivf``: an inverted-file index of 8-bit codes over the vectors' principal subspace,
every candidate re-scored exactly.

The index keeps two things:

- every vector as stored (float32, by slot; deletes free their slot for reuse), which `get`
  returns and which re-scores every candidate exactly;
- ``faiss.IndexIVFScalarQuantizer`` (8-bit codes, inner product, hash-table id map) of the
  vectors projected onto their principal subspace: the fewest leading directions of the training
  vectors' second moment holding ``ENERGY`` of it (no projection when that is most of the
  dimensions). Encoders with a low-rank output (``static-e5``: a low-rank table times a basis)
  lose next to nothing there, and scanning a list costs a fraction of the full dimension.

A query scans the ``nprobe`` of ``nlist`` lists whose centroids are nearest, takes the best
``k + RESCORE_EXTRA`` there and returns the top ``k`` of them by exact inner product with the
stored vectors. Adds and deletes go straight into the lists: no tombstones, no compaction.

The centroids and the projection need training data: until ``train_at`` vectors are stored
(or `settle` is called after a bulk load with at least ``39 × nlist``) search is exact over the
stored vectors; then both are trained on them and every vector enters the lists. Later vectors
are projected and assigned with that training; a rebuild retrains.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from matcher.core.errors import IndexNotReady, InvalidInput
from matcher.retrieval.vectorindex.base import (
    HNSW_EXACT_FILTER_MAX,
    PAD_ID,
    SlotIds,
    VectorIndex,
    top_k,
)
from matcher.retrieval.vectorindex.files import (
    faiss_module,
    manifest_files,
    read_faiss,
    read_npy,
    write_npy,
)

# k-means needs about this many training vectors per centroid (faiss warns below 39)
MIN_POINTS_PER_LIST = 39
# the default training set: this many vectors per list (k-means dominates the build)
TRAIN_POINTS_PER_LIST = 40
# the principal subspace keeps this share of the training vectors' second moment ...
ENERGY = 0.9995
# ... unless that takes more than this share of the dimensions (then the lists hold full vectors)
MAX_PROJECTED_SHARE = 0.75
# candidates taken from the lists beyond k, re-scored exactly with the stored vectors
RESCORE_EXTRA = 40


def auto_nlist(n: int) -> int:
    """Lists for an index expected to hold `n` vectors: the power of two nearest 4·√n, within [16, 8192]."""
    target = 4.0 * np.sqrt(max(n, 1))
    return int(min(8192, max(16, 2 ** round(np.log2(target)))))


def principal_basis(vectors: np.ndarray, energy: float = ENERGY) -> np.ndarray:
    """(dim, d) orthonormal basis of the leading directions of ``E[x xᵀ]`` holding `energy` of
    it, d rounded up to a multiple of 8; the identity when d would exceed MAX_PROJECTED_SHARE."""
    dim = vectors.shape[1]
    x = vectors.astype(np.float64)
    moment = (x.T @ x) / max(len(x), 1)
    values, basis = np.linalg.eigh(moment)
    values, basis = values[::-1].clip(min=0.0), basis[:, ::-1]
    total = float(values.sum())
    if total <= 0.0:
        return np.eye(dim, dtype=np.float32)
    d = int(np.searchsorted(np.cumsum(values) / total, energy) + 1)
    d = min(dim, (d + 7) // 8 * 8)
    if d > MAX_PROJECTED_SHARE * dim:
        return np.eye(dim, dtype=np.float32)
    return np.ascontiguousarray(basis[:, :d], dtype=np.float32)


class FaissIVFIndex(SlotIds, VectorIndex):
    """Approximate index: IVF-SQ8 over the principal subspace, exact re-score of the candidates."""

    backend = "faiss"
    kind = "ivf"

    def __init__(
        self,
        dim: int,
        *,
        nlist: int = 1024,
        nprobe: int = 32,
        train_at: int | None = None,
        _ivf: Any = None,
        _projection: np.ndarray | None = None,
        _vectors: np.ndarray | None = None,
        _slot_ids: np.ndarray | None = None,
    ) -> None:
        super().__init__(dim)
        for name, value in (("nlist", nlist), ("nprobe", nprobe), ("train_at", train_at or 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
        self.nlist = int(nlist)
        self.nprobe = min(int(nprobe), self.nlist)
        self.train_at = int(train_at) if train_at else TRAIN_POINTS_PER_LIST * self.nlist
        if self.train_at < self.nlist:
            raise InvalidInput(f"train_at ({self.train_at}) must be at least nlist ({self.nlist})")
        self._ivf = _ivf  # None until trained
        self._projection = _projection  # (dim, d), None until trained
        # stored vectors by slot; slot -> id, -1 for a free slot
        self._vectors = _vectors if _vectors is not None else np.empty((0, self.dim), dtype=np.float32)
        self._slot_id = (
            np.asarray(_slot_ids, dtype=np.int64).copy() if _slot_ids is not None else np.empty(0, dtype=np.int64)
        )
        self._used = len(self._slot_id)  # slots ever handed out (the rest is spare capacity)
        self._slot_of: dict[int, int] = {int(i): s for s, i in enumerate(self._slot_id.tolist()) if i >= 0}
        self._free: list[int] = np.flatnonzero(self._slot_id < 0).tolist()

    # ---- state ---------------------------------------------------------------------------

    @property
    def trained(self) -> bool:
        """Whether the projection and centroids are trained (all vectors then in the lists)."""
        return self._ivf is not None

    @property
    def projected_dim(self) -> int | None:
        """Dimensions the lists hold (None until trained)."""
        return None if self._projection is None else int(self._projection.shape[1])

    def ids(self) -> np.ndarray:
        with self._lock:
            live = self._slot_id[: self._used]
            return live[live >= 0].copy()

    # ---- mutation ------------------------------------------------------------------------

    def _take_slots(self, count: int) -> np.ndarray:
        reuse = [self._free.pop() for _ in range(min(count, len(self._free)))]
        fresh = count - len(reuse)
        if self._used + fresh > len(self._vectors):
            capacity = max(self._used + fresh, int(len(self._vectors) * 1.5) + 1024)
            grown = np.empty((capacity, self.dim), dtype=np.float32)
            grown[: self._used] = self._vectors[: self._used]
            self._vectors = grown
            ids = np.full(capacity, PAD_ID, dtype=np.int64)
            ids[: self._used] = self._slot_id[: self._used]
            self._slot_id = ids
        new = np.arange(self._used, self._used + fresh, dtype=np.int64)
        self._used += fresh
        return np.concatenate([np.asarray(reuse, dtype=np.int64), new])

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        existing = ids[self._present_mask(ids)]
        if existing.size:
            self._remove(existing)
        slots = self._take_slots(len(ids))
        self._vectors[slots] = vectors
        self._slot_id[slots] = ids
        for id_, slot in zip(ids.tolist(), slots.tolist(), strict=True):
            self._slot_of[id_] = slot
        if self._ivf is not None:
            self._ivf.add_with_ids(self._project(vectors), ids)
        elif len(self) >= self.train_at:
            self._train()

    def _remove(self, ids: np.ndarray) -> None:
        if self._ivf is not None:
            self._ivf.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))
        slots = self._slots(ids)
        self._slot_id[slots] = PAD_ID
        for id_ in ids.tolist():
            del self._slot_of[id_]
        self._free.extend(slots.tolist())

    def settle(self) -> None:
        """After a bulk load: train if enough vectors are stored (≥ 39 per list)."""
        with self._lock:
            if self._ivf is None and len(self) >= MIN_POINTS_PER_LIST * self.nlist:
                self._train()

    def _project(self, vectors: np.ndarray) -> np.ndarray:
        assert self._projection is not None
        if self._projection.shape[1] == self.dim:
            return np.ascontiguousarray(vectors, dtype=np.float32)
        return np.ascontiguousarray(vectors @ self._projection, dtype=np.float32)

    def _train(self) -> None:
        """Train the projection and the centroids on the stored vectors; fill the lists."""
        faiss = faiss_module()
        live = np.flatnonzero(self._slot_id[: self._used] >= 0)
        rng = np.random.default_rng(0)
        limit = TRAIN_POINTS_PER_LIST * self.nlist
        sample = live if len(live) <= limit else np.sort(rng.choice(live, size=limit, replace=False))
        train = self._vectors[sample]
        self._projection = principal_basis(train)
        d = self._projection.shape[1]
        quantizer = faiss.IndexFlatIP(d)
        # 8-bit codes (a quarter of the bytes to scan); the stored vectors re-score exactly
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, d, self.nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT, False
        )
        ivf.own_fields = True
        quantizer.this.disown()  # the IVF index owns and frees its quantizer
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.train(self._project(train))
        for start in range(0, len(live), 65_536):
            chunk = live[start : start + 65_536]
            ivf.add_with_ids(self._project(self._vectors[chunk]), self._slot_id[chunk])
        self._ivf = ivf

    # ---- search --------------------------------------------------------------------------

    def _exact(self, queries: np.ndarray, k: int, ids: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if ids is None:
            slots = np.flatnonzero(self._slot_id[: self._used] >= 0)
            ids = self._slot_id[slots]
        else:
            slots = self._slots(ids)
        return top_k(queries @ self._vectors[slots].T, ids, k)

    def _search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        faiss = faiss_module()
        if self._ivf is None or (allowed is not None and len(allowed) <= HNSW_EXACT_FILTER_MAX):
            return self._exact(queries, k, allowed)
        pool = k + RESCORE_EXTRA
        if allowed is None:
            params = faiss.SearchParametersIVF(nprobe=self.nprobe)
        else:
            sel = faiss.IDSelectorBatch(allowed)
            params = faiss.SearchParametersIVF(nprobe=self.nprobe, sel=sel)
        _, found = self._ivf.search(self._project(queries), pool, params=params)
        out_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
        out_i = np.full((len(queries), k), PAD_ID, dtype=np.int64)
        for row, (q, cand) in enumerate(zip(queries, found, strict=True)):
            cand = cand[cand >= 0]
            if cand.size == 0:
                continue
            s, i = top_k(q[None, :] @ self._vectors[self._slots(cand)].T, cand, k)  # exact re-score
            out_s[row], out_i[row] = s[0], i[0]
        return out_s, out_i

    def _get(self, ids: np.ndarray) -> np.ndarray:
        return self._vectors[self._slots(ids)].copy()

    # ---- persistence ---------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        return {"nlist": self.nlist, "nprobe": self.nprobe, "train_at": self.train_at,
                "projected_dim": self.projected_dim}

    def _writers(self) -> dict[str, Any]:
        faiss = faiss_module()
        ivf = self._ivf
        vectors, slot_ids = self._vectors[: self._used], self._slot_id[: self._used].copy()
        projection = (
            self._projection if self._projection is not None else np.empty((self.dim, 0), dtype=np.float32)
        )
        writers: dict[str, Any] = {
            "vectors.npy": lambda path: write_npy(path, vectors),
            "slots.npy": lambda path: write_npy(path, slot_ids),
            "projection.npy": lambda path: write_npy(path, projection),
        }
        if ivf is not None:
            writers["index.faiss"] = lambda path: faiss.write_index(ivf, str(path))
        return writers

    @classmethod
    def _load(cls, directory: Path, manifest: Mapping[str, Any]) -> FaissIVFIndex:
        faiss = faiss_module()
        dim = int(manifest["dim"])
        trained = "index.faiss" in (manifest.get("files") or {})
        roles = ("vectors.npy", "slots.npy", "projection.npy") + (("index.faiss",) if trained else ())
        files = manifest_files(directory, manifest, roles)
        vectors = read_npy(files["vectors.npy"])
        slot_ids = read_npy(files["slots.npy"])
        projection = read_npy(files["projection.npy"])
        if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape[1] != dim:
            raise IndexNotReady(f"stored vectors have shape {vectors.shape}, expected (n, {dim}) float32")
        if slot_ids.dtype != np.int64 or slot_ids.shape != (len(vectors),):
            raise IndexNotReady("the slot map does not match the stored vectors")
        live = slot_ids[slot_ids >= 0]
        if len(np.unique(live)) != len(live) or (slot_ids < PAD_ID).any():
            raise IndexNotReady("the slot map holds duplicate or invalid ids")
        if projection.dtype != np.float32 or projection.ndim != 2 or projection.shape[0] != dim:
            raise IndexNotReady("the projection does not match the dimension")
        ivf = None
        if trained:
            ivf = read_faiss(files["index.faiss"])
            if (
                not isinstance(ivf, faiss.IndexIVFScalarQuantizer)
                or ivf.metric_type != faiss.METRIC_INNER_PRODUCT
            ):
                raise IndexNotReady(
                    f"index file holds {type(ivf).__name__}, expected inner-product IndexIVFScalarQuantizer"
                )
            if ivf.direct_map.type != faiss.DirectMap.Hashtable:
                raise IndexNotReady("the IVF index has no hash-table id map")
            if ivf.d != projection.shape[1] or not ivf.is_trained:
                raise IndexNotReady("the IVF index does not match its projection")
            if ivf.ntotal != len(live):
                raise IndexNotReady(f"the IVF index holds {ivf.ntotal} vectors, the store {len(live)}")
        elif projection.shape[1]:
            raise IndexNotReady("a projection without its IVF index")
        params = manifest.get("params") or {}
        try:
            index = cls(
                dim,
                nlist=int(params.get("nlist", ivf.nlist if ivf is not None else 0)),
                nprobe=int(params.get("nprobe", 0)),
                train_at=int(params.get("train_at", 0)) or None,
                _ivf=ivf,
                _projection=projection if ivf is not None else None,
                _vectors=vectors,
                _slot_ids=slot_ids,
            )
        except (InvalidInput, TypeError, ValueError) as exc:
            raise IndexNotReady(f"invalid IVF parameters in manifest: {exc}") from exc
        if ivf is not None and index.nlist != ivf.nlist:
            raise IndexNotReady(f"manifest says {index.nlist} lists, the index has {ivf.nlist}")
        return index
