"""Fusing ranked lists of a dense and a lexical retriever into one candidate order."""

from __future__ import annotations

from collections.abc import Sequence


def fusion_rrf(lists: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal rank fusion of ranked id lists."""
    scores: dict[int, float] = {}
    for ranked in lists:
        for rank, i in enumerate(ranked):
            scores[i] = scores.get(i, 0.0) + 1.0 / (k + rank + 1)
    return scores


def fusion_convex(dense: dict[int, float], lexical: dict[int, float], alpha: float = 0.7) -> dict[int, float]:
    """Convex combination of min-max normalised dense and lexical scores."""
    def norm(d: dict[int, float]) -> dict[int, float]:
        if not d:
            return {}
        lo, hi = min(d.values()), max(d.values())
        span = hi - lo or 1.0
        return {i: (s - lo) / span for i, s in d.items()}
    nd, nl = norm(dense), norm(lexical)
    return {i: alpha * nd.get(i, 0.0) + (1 - alpha) * nl.get(i, 0.0) for i in set(nd) | set(nl)}
