"""Ranking metrics at cut-off 10 and bootstrap intervals (see ``matcher.evaluation.harness``)."""


from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel

from matcher.core.errors import InvalidInput

Task = Literal["occupations", "match"]
Progress = Callable[[int], None]
K = 10
METRICS: tuple[str, ...] = ("acc_at_1", "recall_at_5", "recall_at_10", "mrr_at_10", "ndcg_at_10")
METRIC_LABELS = {"acc_at_1": "Acc@1", "recall_at_5": "Recall@5", "recall_at_10": "Recall@10",
                 "mrr_at_10": "MRR@10", "ndcg_at_10": "nDCG@10"}
MAX_QUERIES = 100_000

@dataclass(frozen=True)
class Candidate:
    """One ranked result: its keys (``id:12``) and occupation codes."""

    keys: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()


def code_group(code: str) -> str:
    """The code without its trailing ``-00`` groups: ``2-02-10-00`` → ``2-02-10``, ``6-02-00-00`` →
    ``6-02``, ``8-00-00-00`` → ``8``; an occupation code is returned unchanged."""
    while code.endswith("-00"):
        code = code[:-3]
    return code


def code_hits(gold: str, code: str) -> bool:
    """Whether an occupation code satisfies a gold code: equal, or inside a gold group — a 小类
    (``X-XX-XX-00``), 中类 (``X-XX-00-00``) or 大类 (``X-00-00-00``) is hit by any code under it."""
    if gold == code:
        return True
    if not gold.endswith("-00"):
        return False
    return code.startswith(code_group(gold) + "-")


def _hit_strength(gold: str, cand: Candidate) -> int:
    """2 for an exact match (key or code), 1 for a 小类 match, 0 for none."""
    if gold in cand.keys or gold in cand.codes:
        return 2
    if gold.endswith("-00") and any(code_hits(gold, c) for c in cand.codes):
        return 1
    return 0


def credited_ranks(ranking: Sequence[Candidate], gold: Sequence[str], k: int = K) -> list[int | None]:
    """For each gold item, the 1-based position in the top ``k`` credited to it, or None.

    Each position is credited to at most one gold item (an exact match before a 小类 match,
    then the earlier gold item), and each gold item at most once, at its first position.
    """
    ranks: list[int | None] = [None] * len(gold)
    for pos, cand in enumerate(ranking[:k], 1):
        best, best_i = 0, None
        for i, g in enumerate(gold):
            if ranks[i] is None:
                strength = _hit_strength(g, cand)
                if strength > best:
                    best, best_i = strength, i
        if best_i is not None:
            ranks[best_i] = pos
    return ranks


def query_scores(ranks: Sequence[int | None], n_gold: int) -> dict[str, float]:
    """Acc@1, Recall@5/@10, MRR@10 and nDCG@10 of one query from its credited ranks."""
    if n_gold < 1:
        raise InvalidInput("每条查询至少需要一个标准答案")
    got = sorted(r for r in ranks if r is not None and r <= K)
    first = got[0] if got else None
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_gold, K) + 1))
    return {
        "acc_at_1": 1.0 if first == 1 else 0.0,
        "recall_at_5": sum(r <= 5 for r in got) / n_gold,
        "recall_at_10": len(got) / n_gold,
        "mrr_at_10": 1.0 / first if first else 0.0,
        "ndcg_at_10": sum(1.0 / math.log2(r + 1) for r in got) / ideal,
    }


class Metrics(BaseModel):
    """Means over queries, each in [0, 1]."""

    queries: int
    acc_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    ndcg_at_10: float


class Delta(BaseModel):
    """A ranker's mean minus the project's on the same queries, with a paired bootstrap 95% CI."""

    mean: float
    ci95: tuple[float, float]


def aggregate(rows: Sequence[dict[str, float]]) -> Metrics:
    """Means of per-query scores (rounded to 4 places)."""
    n = len(rows)
    return Metrics(queries=n, **{m: round(float(np.mean([r[m] for r in rows])), 4) if n else 0.0
                                 for m in METRICS})


def bootstrap_ci(values: Sequence[float] | np.ndarray, *, resamples: int = 1000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean of ``values`` (seeded, so repeatable)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(resamples, arr.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (round(float(lo), 4), round(float(hi), 4))
