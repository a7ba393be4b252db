"""Cross-validated occupation coding on a labelled set of real titles (the coder's dev set).

The re-ranker and its exemplars are learned from the same titles they would be scored on, so
the numbers are cross-validated: 5 folds (stratified by the gold's 中类, seeded); for each fold
the re-ranker is trained and the exemplars drawn from the other four only, then the fold is
ranked. In the same run, on the same titles and vectors, the baselines the harness uses — BM25
alone, the dense encoder alone and the old fusion (dense 0.6 + BM25 0.4) — and the re-ranker
without exemplars (what the features give on their own). A second split groups the folds by
gold code, so that no test title's code was seen in training (a harder, different question:
codes the exemplars never carry).

The out-of-fold probability shares also fit the shipped calibration (``confidence``), and a
cross-fitted version of it is scored here (calibration fitted on four folds' predictions,
checked on the fifth).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from matcher.evaluation.metrics import Candidate, Progress
from matcher.evaluation.queries import EvalQuery
from matcher.evaluation.rankers import Ranker
from matcher.retrieval.occupation_coder import CONFIDENCE_THRESHOLD, OccupationCoder
from matcher.retrieval.occupation_features import ExemplarSet, OccupationFeaturizer
from matcher.retrieval.occupation_model import UNSEEN_SHARE, rerank, train_reranker
from models.reranker import LinearReranker

FOLDS = 5
SEED = 0


def folds(golds: Sequence[str], how: str = "stratified", k: int = FOLDS, seed: int = SEED) -> list[np.ndarray]:
    """Test indices of each fold: ``stratified`` by the gold's 中类 (classes of fewer than ``k``
    titles pooled), or ``grouped`` by gold code (no code in two folds)."""
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    idx = np.arange(len(golds))
    if how == "grouped":
        return [te for _, te in GroupKFold(k).split(idx, groups=list(golds))]
    mids = [g[:4] for g in golds]
    counts: dict[str, int] = {}
    for m in mids:
        counts[m] = counts.get(m, 0) + 1
    strata = [m if counts[m] >= k else "rare" for m in mids]
    return [te for _, te in StratifiedKFold(k, shuffle=True, random_state=seed).split(idx, strata)]


@dataclass
class CVResult:
    """Out-of-fold rankings (occupation indices, best first) and probabilities of each method."""

    how: str
    rankings: dict[str, np.ndarray]
    share: np.ndarray  # re-ranker's out-of-fold probability shares, same order as rankings["talentmatch"]
    fold_of: np.ndarray
    seconds: float
    confidence: np.ndarray = field(default_factory=lambda: np.zeros(0))  # cross-fitted calibration


def cross_validate(coder: OccupationCoder, titles: Sequence[str], golds: Sequence[str], vectors: np.ndarray,
                   raw_vectors: np.ndarray, *, how: str = "stratified", unseen_share: float = UNSEEN_SHARE,
                   usable: np.ndarray | None = None, query_vectors: np.ndarray | None = None,
                   baselines: bool = True,
                   progress: Callable[[str], None] | None = None) -> CVResult:
    """See the module docstring. ``vectors``: query vectors of the cleaned titles (what the
    re-ranker reads, and the exemplars' vectors); ``query_vectors``: the titles' vectors when
    they are ranked (default ``vectors``; the fast coder's static vectors, the exemplars they
    are compared with keeping ``vectors``); ``raw_vectors``: of the normalised raw titles (what
    the baselines read; without ``baselines`` they are not run); ``usable``: which titles may
    be exemplars and training titles (all are evaluated)."""
    qv = vectors if query_vectors is None else query_vectors
    t0 = time.perf_counter()
    fz: OccupationFeaturizer = coder.featurizer
    saved = fz.ex
    hits = fz.taxon.hits
    n = len(titles)
    fold_of = np.zeros(n, dtype=np.int64)
    ranks = {name: np.zeros((n, 50), dtype=np.int64) for name in ("talentmatch", "no_exemplars")}
    share = np.zeros((n, 50))
    all_ex = ExemplarSet(list(titles), list(golds), vectors)
    try:
        for f, te in enumerate(folds(golds, how)):
            fold_of[te] = f
            tr = np.setdiff1d(np.arange(n), te)
            if usable is not None:
                tr = tr[usable[tr]]
            ex = all_ex.subset(tr)
            model = train_reranker(fz, ex, hits, unseen_share=unseen_share, query_vectors=qv[tr])
            r = rerank(fz, model, [titles[i] for i in te], qv[te])  # exemplars: the training folds
            ranks["talentmatch"][te], share[te] = r.order, r.share
            model0 = train_reranker(fz, ex, hits, use_exemplars=False, query_vectors=qv[tr])  # leaves fz without exemplars
            ranks["no_exemplars"][te] = rerank(fz, model0, [titles[i] for i in te], qv[te]).order
            if progress:
                progress(f"fold {f + 1}/{FOLDS} ({how}): {time.perf_counter() - t0:.0f}s")
    finally:
        fz.set_exemplars(saved)
    if baselines:
        cos = raw_vectors @ coder._matrix.T
        for name, w in (("bm25", 0.0), ("dense", 1.0), ("fused", coder.dense_weight)):
            ranks[name] = _fused_order(coder, titles, cos, w)
    res = CVResult(how, ranks, share, fold_of, round(time.perf_counter() - t0, 1))
    res.confidence = cross_fitted_confidence(res, golds, hits)
    return res


def _fused_order(coder: OccupationCoder, titles: Sequence[str], cos: np.ndarray, w: float) -> np.ndarray:
    """The coder without re-ranker at dense weight ``w`` (same code path as ``talentmatch eval``)."""
    from matcher.core.textnorm import normalize_text

    out = np.full((len(titles), 10), -1, dtype=np.int64)
    index = {o.code: i for i, o in enumerate(coder.items)}
    saved = coder.dense_weight
    coder.dense_weight = w
    try:
        for i, t in enumerate(titles):
            cands = coder._rank(normalize_text(t), cos[i], 10)
            if w == 0.0:  # BM25 ranks only what shares a token with the query
                cands = [c for c in cands if c.score > 0]
            out[i, : len(cands)] = [index[c.code] for c in cands]
    finally:
        coder.dense_weight = saved
    return out


def _top1_correct(res: CVResult, golds: Sequence[str], hits) -> np.ndarray:
    top = res.rankings["talentmatch"][:, 0]
    return np.array([top[i] in set(hits(g).tolist()) for i, g in enumerate(golds)], dtype=float)


def cross_fitted_confidence(res: CVResult, golds: Sequence[str], hits) -> np.ndarray:
    """Top-1 confidence of each title from a calibration fitted on the other folds' predictions."""
    correct = _candidate_hits(res, golds, hits)
    conf = np.zeros(len(golds))
    for f in np.unique(res.fold_of):
        tr, te = res.fold_of != f, res.fold_of == f
        cal = LinearReranker([], np.zeros(0), np.zeros(0), np.zeros(0), 0.0)
        cal.fit_calibration(res.share[tr, :10].ravel(), correct[tr, :10].ravel())
        conf[te] = cal.calibrate(res.share[te, 0])
    return conf


def _candidate_hits(res: CVResult, golds: Sequence[str], hits) -> np.ndarray:
    order = res.rankings["talentmatch"]
    out = np.zeros(order.shape, dtype=bool)
    for i, g in enumerate(golds):
        out[i] = np.isin(order[i], hits(g))
    return out


def fit_calibration(model: LinearReranker, res: CVResult, golds: Sequence[str], hits) -> None:
    """Fit the model's calibration on the out-of-fold probability shares of the top 10 candidates."""
    correct = _candidate_hits(res, golds, hits)
    model.fit_calibration(res.share[:, :10].ravel(), correct[:, :10].ravel())


def calibration_table(res: CVResult, golds: Sequence[str], hits) -> dict[str, Any]:
    """Reliability of the cross-fitted top-1 confidence: bins, and accuracy/coverage above the
    threshold."""
    correct = _top1_correct(res, golds, hits)
    conf = res.confidence
    bins = []
    edges = [0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0001]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf >= lo) & (conf < hi)
        if m.any():
            bins.append({"from": lo, "to": min(hi, 1.0), "titles": int(m.sum()),
                         "mean_confidence": round(float(conf[m].mean()), 3),
                         "accuracy": round(float(correct[m].mean()), 3)})
    above = conf >= CONFIDENCE_THRESHOLD
    # Brier score and a rank correlation of confidence with correctness
    brier = float(np.mean((conf - correct) ** 2))
    return {"bins": bins, "threshold": CONFIDENCE_THRESHOLD,
            "share_above": round(float(above.mean()), 3),
            "accuracy_above": round(float(correct[above].mean()), 3) if above.any() else None,
            "accuracy_below": round(float(correct[~above].mean()), 3) if (~above).any() else None,
            "brier": round(brier, 4)}


def encode_cached(encoder: Any, texts: Sequence[str], cache_dir: Any | None) -> np.ndarray:
    """Query vectors of ``texts`` (distinct texts encoded once), kept in ``cache_dir`` as
    ``cv-<encoder>-<hash of the texts>.npy`` so a second run encodes nothing."""
    import hashlib
    import re
    from pathlib import Path

    h = hashlib.sha256(encoder.name.encode())
    for t in texts:
        h.update(t.encode() + b"\n")
    path = None
    if cache_dir is not None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", encoder.name)
        path = Path(cache_dir) / f"cv-{safe}-{h.hexdigest()[:16]}.npy"
        if path.exists():
            m = np.load(path)
            if m.shape == (len(texts), encoder.dim):
                return m.astype(np.float32)
    distinct = list(dict.fromkeys(texts))
    vecs = np.concatenate([encoder.encode_queries(distinct[s : s + 256]) for s in range(0, len(distinct), 256)]) \
        if distinct else np.zeros((0, encoder.dim), np.float32)
    row = {t: i for i, t in enumerate(distinct)}
    out = vecs[[row[t] for t in texts]].astype(np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
    return out


LABELS = {
    "talentmatch": "talentmatch（重排序：e5 + BM25 + 词表 + 真实样例）",
    "fast": "talentmatch 快速（岗位名称用静态编码器 static-e5，职业与样例仍用 e5 向量；重排序按此重训）",
    "dense_static": "稠密向量基线（static-e5 查询 × e5 职业向量）",
    "no_exemplars": "重排序，不用真实样例（仅通用特征）",
    "fused": "旧融合（稠密 0.6 + BM25 0.4）",
    "bm25": "BM25 基线（jieba 分词）",
    "dense": "稠密向量基线（e5）",
}


def cv_rankers(res: CVResult, coder: OccupationCoder) -> list[Ranker]:
    """Rankers over query indices that return the out-of-fold rankings (for ``run_rankers``)."""
    codes = [o.code for o in coder.items]

    def make(name: str) -> Callable[[Sequence[int]], list[list[Candidate]]]:
        order = res.rankings[name]

        def rank(batch: Sequence[int]) -> list[list[Candidate]]:
            return [[Candidate(codes=frozenset({codes[j]})) for j in order[i, :10] if j >= 0] for i in batch]
        return rank

    names = [n for n in ("talentmatch", "fast", "bm25", "dense", "dense_static", "fused", "no_exemplars")
             if n in res.rankings]
    return [Ranker(n, LABELS[n], make(n)) for n in names]


def cv_report(res: CVResult, coder: OccupationCoder, queries: Sequence[EvalQuery],
              progress: Progress | None = None) -> dict[str, Any]:
    """Metrics with bootstrap intervals and paired differences (the harness's), by query type."""
    from matcher.evaluation.harness import run_rankers, type_counts

    results, _ = run_rankers(list(range(len(queries))), queries, cv_rankers(res, coder), batch=512,
                             progress=progress)
    hits = coder.featurizer.taxon.hits
    return {"how": res.how, "folds": FOLDS, "seed": SEED, "queries": len(queries),
            "types": type_counts(queries), "seconds": res.seconds,
            "rankers": [r.model_dump(mode="json") for r in results],
            "calibration": calibration_table(res, [q.gold[0] for q in queries], hits)}


def subset_report(res: CVResult, coder: OccupationCoder, queries: Sequence[EvalQuery], subset: Sequence[int],
                  names: Sequence[str]) -> list[dict[str, Any]]:
    """The out-of-fold rankings ``names`` scored on the queries ``subset`` only (intervals and
    paired differences to the first of ``names``)."""
    from matcher.evaluation.harness import run_rankers

    rankers = [r for n in names for r in cv_rankers(res, coder) if r.name == n]
    results, _ = run_rankers(list(subset), [queries[i] for i in subset], rankers, batch=512)
    return [r.model_dump(mode="json") for r in results]
