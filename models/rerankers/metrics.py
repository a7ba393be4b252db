"""Ranking and calibration metrics over rankings grouped by query, with bootstrap intervals.

Every ranking metric is computed per query and averaged over queries; intervals are percentile
bootstrap 95% intervals over queries (resampled with replacement, seeded, so repeatable), and a
comparison of two rankers resamples the same queries for both (paired). Ties in a score are
broken by one seeded random order shared by all rankers, never by the logged order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

K = 10


def _groups(query: np.ndarray, *keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, starts, ranks): rows sorted by query then by ``keys`` (last key primary, as
    np.lexsort), the first position of each query in that order, and each sorted row's 0-based
    rank within its query."""
    order = np.lexsort((*keys, query))
    q = query[order]
    starts = np.r_[0, np.flatnonzero(np.diff(q)) + 1] if len(q) else np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, len(q)])
    ranks = np.arange(len(q)) - np.repeat(starts, sizes)
    return order, starts, ranks


def tiebreak(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


def dcg_at_k(scores: np.ndarray, gains: np.ndarray, query: np.ndarray, k: int = K,
             seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query ids, DCG@k of the ranking by ``scores``, ideal DCG@k) for every query."""
    scores, gains, query = np.asarray(scores, float), np.asarray(gains, float), np.asarray(query)
    discount = lambda r: np.where(r < k, 1.0 / np.log2(r + 2.0), 0.0)  # noqa: E731
    order, starts, ranks = _groups(query, tiebreak(len(query), seed), -scores)
    dcg = np.add.reduceat(gains[order] * discount(ranks), starts) if len(order) else np.zeros(0)
    iorder, istarts, iranks = _groups(query, -gains)
    ideal = np.add.reduceat(gains[iorder] * discount(iranks), istarts) if len(iorder) else np.zeros(0)
    return query[order][starts], dcg, ideal


def ndcg_at_k(scores: np.ndarray, gains: np.ndarray, query: np.ndarray, k: int = K,
              seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(query ids, nDCG@k) for every query; NaN where the query has no gain at all."""
    qids, dcg, ideal = dcg_at_k(scores, gains, query, k, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), np.nan)
    return qids, value


def window_ndcg_at_k(scores: np.ndarray, gains: np.ndarray, query: np.ndarray, k: int = K,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(query ids, DCG@k / the window's mean ideal DCG@k) for every query: their mean is the
    window's total DCG over its total ideal DCG. With inverse-propensity gains this is the form
    that stays unbiased: normalising each query by its own ideal would cancel the weights (a
    query with one observed positive scores the same whatever the weight of that positive)."""
    qids, dcg, ideal = dcg_at_k(scores, gains, query, k, seed)
    mean_ideal = float(ideal.mean()) if len(ideal) else 0.0
    return qids, dcg / mean_ideal if mean_ideal > 0 else np.full(len(dcg), np.nan)


def average_precision(scores: np.ndarray, relevant: np.ndarray, query: np.ndarray,
                      seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(query ids, average precision over the whole ranking); NaN where nothing is relevant."""
    scores, rel, query = np.asarray(scores, float), np.asarray(relevant, bool), np.asarray(query)
    order, starts, ranks = _groups(query, tiebreak(len(query), seed), -scores)
    r = rel[order].astype(float)
    if not len(r):
        return np.zeros(0), np.zeros(0)
    cum = np.cumsum(r)
    before = np.repeat(np.r_[0.0, cum[starts[1:] - 1]], np.diff(np.r_[starts, len(r)]))
    hits = cum - before  # relevant rows seen so far in the query, this one included
    prec_sum = np.add.reduceat(r * hits / (ranks + 1.0), starts)
    n_rel = np.add.reduceat(r, starts)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n_rel > 0, prec_sum / np.where(n_rel > 0, n_rel, 1.0), np.nan)
    return query[order][starts], value


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of pooled rows (ties count half); NaN with one class only."""
    from scipy.stats import rankdata

    scores, labels = np.asarray(scores, float), np.asarray(labels, bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def bootstrap_ci(values: np.ndarray, *, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean (NaNs dropped)."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(resamples, arr.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (float(lo), float(hi))


def _summary(values: np.ndarray, resamples: int, seed: int) -> dict[str, Any]:
    values = values[~np.isnan(values)]
    return {"mean": float(values.mean()) if values.size else float("nan"),
            "ci95": list(bootstrap_ci(values, resamples=resamples, seed=seed)), "n": int(values.size)}


def _bootstrap_auc(scores: Mapping[str, np.ndarray], labels: np.ndarray, query: np.ndarray, baseline: str | None,
                   resamples: int, seed: int) -> dict[str, dict[str, Any]]:
    """Pooled AUC of each ranker with a query-resampling bootstrap interval, and (paired) its
    difference to the baseline."""
    uq, inverse = np.unique(query, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(uq)))
    ends = np.r_[starts[1:], len(order)]
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in scores}
    for _ in range(resamples):
        pick = rng.integers(0, len(uq), size=len(uq))
        rows = np.concatenate([order[starts[i]:ends[i]] for i in pick]) if len(pick) else np.zeros(0, int)
        for name, s in scores.items():
            draws[name].append(auc(s[rows], labels[rows]))
    out: dict[str, dict[str, Any]] = {}
    for name, s in scores.items():
        d = np.asarray(draws[name])
        out[name] = {"mean": auc(s, labels), "ci95": [float(v) for v in np.nanpercentile(d, [2.5, 97.5])]}
        if baseline is not None and name != baseline:
            diff = d - np.asarray(draws[baseline])
            out[name]["vs_baseline"] = {"mean": out[name]["mean"] - auc(scores[baseline], labels),
                                        "ci95": [float(v) for v in np.nanpercentile(diff, [2.5, 97.5])]}
    return out


def compare(scores: Mapping[str, np.ndarray], query: np.ndarray, gains: np.ndarray, relevant: np.ndarray,
            *, baseline: str | None = None, k: int = K, resamples: int = 1000, seed: int = 0,
            with_auc: bool = True, normalise: str = "query") -> dict[str, Any]:
    """nDCG@k (graded ``gains``), MAP and AUC (binary ``relevant``) of rankers scoring the same
    rows, with bootstrap intervals; each non-baseline ranker also gets its paired difference to
    ``baseline`` (``vs_baseline``: mean and 95% interval; an interval above 0 means better).
    ``normalise``: ``query`` (each query by its own ideal DCG, queries without gain left out)
    or ``window`` (every query by the window's mean ideal DCG, see ``window_ndcg_at_k``)."""
    if normalise not in ("query", "window"):
        raise ValueError(f"normalise 应为 query 或 window，而不是 {normalise!r}")
    ndcg = ndcg_at_k if normalise == "query" else window_ndcg_at_k
    query = np.asarray(query)
    rankers: dict[str, dict[str, Any]] = {}
    per_query: dict[str, dict[str, np.ndarray]] = {}
    for name, s in scores.items():
        _, nd = ndcg(s, gains, query, k, seed)
        _, ap = average_precision(s, relevant, query, seed)
        per_query[name] = {f"ndcg_at_{k}": nd, "map": ap}
        rankers[name] = {m: _summary(v, resamples, seed) for m, v in per_query[name].items()}
    if with_auc:
        aucs = _bootstrap_auc({n: np.asarray(s, float) for n, s in scores.items()}, np.asarray(relevant, bool),
                              query, baseline, resamples, seed)
        for name in scores:
            rankers[name]["auc"] = {k_: v for k_, v in aucs[name].items() if k_ != "vs_baseline"}
    out: dict[str, Any] = {"rows": int(len(query)), "queries": int(len(np.unique(query))), "k": k,
                           "normalise": normalise, "resamples": resamples, "rankers": rankers}
    if baseline is not None:
        vs: dict[str, Any] = {}
        for name in scores:
            if name == baseline:
                continue
            vs[name] = {m: _summary(per_query[name][m] - per_query[baseline][m], resamples, seed)
                        for m in per_query[name]}
            if with_auc:
                vs[name]["auc"] = aucs[name]["vs_baseline"]
        out["vs_baseline"] = vs
        out["baseline"] = baseline
    return out


def reliability(prob: np.ndarray, outcome: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """Reliability diagram data: equal-width probability bins with their count, mean predicted
    probability and observed rate; plus the expected calibration error (count-weighted mean
    |predicted - observed|), the Brier score and the log loss."""
    p = np.clip(np.asarray(prob, float), 0.0, 1.0)
    y = np.asarray(outcome, bool).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    ece = 0.0
    for b in range(bins):
        m = idx == b
        n = int(m.sum())
        row = {"lo": float(edges[b]), "hi": float(edges[b + 1]), "count": n,
               "mean_predicted": float(p[m].mean()) if n else None,
               "observed": float(y[m].mean()) if n else None}
        if n:
            ece += n * abs(row["mean_predicted"] - row["observed"])
        rows.append(row)
    eps = 1e-12
    return {"bins": rows, "ece": float(ece / max(len(p), 1)), "brier": float(np.mean((p - y) ** 2)) if len(p) else None,
            "log_loss": float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))) if len(p) else None,
            "base_rate": float(y.mean()) if len(y) else None, "rows": int(len(p))}
