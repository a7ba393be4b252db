"""The re-match's candidate pools from shards: exact cosines, per-shard top lists, their merge.

The per-post side of the re-match needs, for every post, its ``pool`` nearest profiles by
cosine over ALL profiles (ties by the smaller id), then scores them. Instead of broadcasting the
profile matrix, each profile shard keeps, for every post, its own ``pool`` nearest within the
shard (same order, same tie-break), and the per-post pass merges those lists. The merge is the
global pool exactly: a profile among a post's global ``pool`` first under (-cosine, id) has fewer
than ``pool`` profiles before it in its own shard too, so it is in its shard's list.

Two things keep that exact and small:

- **Exact cosines** (:func:`exact_cos`): a float32 matrix product rounds each cosine
  depending on the matrix shapes (with OpenBLAS here, the same vectors blocked in 250 or
  500 rows give cosines that differ in the last bit for a good share of the pairs), so a cosine computed in a profile
  shard would not equal the same pair's cosine computed in a post shard, and ties and cuts could
  move. The vectors are rounded once to integers of ``quant_bits(dim)`` bits (21 at 384
  dims: 2^-22 per component) and multiplied in float64, where every partial sum of such integers
  is exact: each pair's cosine is the same number whatever the shard sizes, the order of the
  product or the machine, and both sides of the job use it.
- **Floors** (:class:`Floors`): a shard may drop the entries below a post's floor, any value
  at most the post's ``pool``-th best cosine. The driver keeps the best ``pool`` cosines
  committed so far per post; their smallest is such a value (it is the ``pool``-th best of a
  subset of the post's pairs), so later shards store only what can still enter the pool: with
  shards committed in any order that is about ``pool`` × (1 + ln(shards)) entries per post
  instead of ``pool`` × shards. Shards that run at once know nothing of each other, so before
  the first ones start the driver primes the floors with an evenly spread sample of profiles
  (:data:`PRIME_SAMPLE` at most): a first shard then keeps about ``pool`` × shard size / sample
  entries per post instead of ``pool``.
"""

from __future__ import annotations

import numpy as np

from matcher.core.errors import InvalidInput

PRIME_SAMPLE = 20_000  # profiles the driver primes the floors with (posts x this many exact cosines)
CHUNK = 4096  # rows of the other side per block of the product (bounds the float64 temporaries)


def quant_bits(dim: int) -> int:
    """Bits of the integer components: ``dim`` products of two of them, summed, stay below
    2^52 (exact in float64)."""
    return (52 - int(np.ceil(np.log2(max(dim, 2))))) // 2


def quantize(vectors: np.ndarray) -> np.ndarray:
    """Unit vectors as int32 components of :func:`quant_bits` bits (what :func:`exact_cos`
    multiplies)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2:
        raise InvalidInput("向量必须是二维矩阵")
    if v.size and float(np.abs(v).max()) > 1.0 + 1e-5:
        raise InvalidInput("向量未归一化（分量大于 1），无法精确计算余弦")
    return np.rint(np.clip(v, -1.0, 1.0).astype(np.float64) * float(1 << quant_bits(v.shape[1]))).astype(np.int32)


def exact_cos(a: np.ndarray, b: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    """Cosines (float32, ``len(a)`` × ``len(b)``) of quantized vectors: each entry is the exact
    integer dot product scaled and rounded once, so it does not depend on how the rows are
    blocked."""
    if a.shape[1] != b.shape[1]:
        raise InvalidInput("两侧向量维度不同")
    scale = 2.0 ** (-2 * quant_bits(a.shape[1]))
    out = np.empty((a.shape[0], b.shape[0]), dtype=np.float32)
    left = a.astype(np.float64)
    for start in range(0, b.shape[0], chunk):
        block = b[start : start + chunk].astype(np.float64)
        out[:, start : start + len(block)] = (left @ block.T) * scale
    return out


def shard_top(cos_t: np.ndarray, pool: int, floors: np.ndarray | None = None,
              chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``pool`` largest entries, ties by the smaller column (columns are in id
    order), keeping only entries at least the row's floor: (rows, columns) of the kept entries.
    ``cos_t`` is posts × the shard's profiles."""
    n, s = cos_t.shape
    rows, cols = [], []
    for start in range(0, n, chunk):
        c = np.ascontiguousarray(cos_t[start : start + chunk])
        if s <= pool:
            keep = np.ones(c.shape, dtype=bool)
        else:
            cut = np.partition(c, s - pool, axis=1)[:, s - pool]  # each row's pool-th largest
            above = c > cut[:, None]
            tied = c == cut[:, None]
            room = pool - above.sum(axis=1)
            keep = above | (tied & (np.cumsum(tied, axis=1) <= room[:, None]))  # ties: leftmost first
        if floors is not None:
            keep &= c >= floors[start : start + len(c), None]
        r, k = np.nonzero(keep)
        rows.append(r + start)
        cols.append(k)
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(cols)


def merge_order(other_ids: np.ndarray, cos: np.ndarray, pool: int) -> np.ndarray:
    """Positions of a post's merged entries in pool order: best cosine first, ties by the
    smaller id, cut to ``pool`` (the order of :func:`matcher.batch.rematch.candidate_order`)."""
    return np.lexsort((other_ids, -cos))[:pool]


class Floors:
    """Per post, the best ``pool`` cosines committed so far (the driver's side of the pruning)
    and the ``pool``-th best of a primed sample; :meth:`values` is each post's floor, the
    larger of the two (``-inf`` until one is known). The two are kept apart: a sampled profile's
    pairs are committed again by its shard, and a pair counted twice would raise the floor
    above the post's ``pool``-th best."""

    def __init__(self, posts: int, pool: int) -> None:
        self.pool = max(1, pool)
        self.best = np.full((posts, self.pool), -np.inf, dtype=np.float32)
        self.primed = np.full(posts, -np.inf, dtype=np.float32)
        self._values: np.ndarray | None = None

    def add(self, post_pos: np.ndarray, cos: np.ndarray) -> None:
        """Fold in a committed shard's entries (post positions and their cosines)."""
        if len(post_pos) == 0:
            return
        post_pos, cos = np.asarray(post_pos, dtype=np.int64), np.asarray(cos, dtype=np.float32)
        order = np.lexsort((-cos, post_pos))
        p, c = post_pos[order], cos[order]
        rank = np.arange(len(p)) - np.searchsorted(p, p, side="left")  # rank within its post
        m = rank < self.pool
        p, c, rank = p[m], c[m], rank[m]
        touched = np.unique(p)
        dense = np.full((len(touched), self.pool), -np.inf, dtype=np.float32)
        dense[np.searchsorted(touched, p), rank] = c
        both = np.concatenate([self.best[touched], dense], axis=1)
        self.best[touched] = -np.partition(-both, self.pool - 1, axis=1)[:, : self.pool]
        self._values = None

    def prime(self, start: int, block: np.ndarray) -> None:
        """Posts ``start ..`` against a sample of profiles (a dense block of their cosines,
        every sampled profile in one block)."""
        if block.shape[0] == 0 or block.shape[1] < self.pool:
            return
        cut = np.partition(block, block.shape[1] - self.pool, axis=1)[:, block.shape[1] - self.pool]
        stop = start + block.shape[0]
        self.primed[start:stop] = np.maximum(self.primed[start:stop], cut)
        self._values = None

    def values(self) -> np.ndarray:
        if self._values is None:
            self._values = np.maximum(self.best.min(axis=1), self.primed)
        return self._values
