"""Learned re-rankers: classifiers of positive outcomes, calibrated on a later slice.

Two kinds: ``hgb``, scikit-learn's gradient-boosted trees, and ``logistic``, a sign-constrained
logistic model whose weights vary with the seeker's seniority (``models.rerankers.linear``):
fewer degrees of freedom, so it learns more from few outcomes; the trees find interactions the
linear form cannot, given enough data.

Fitting (``fit_reranker``) takes a labelled ``PairTable`` of one training window:

- the target is a positive outcome (grade >= 1, see ``models.rerankers.labels``); rows are
  weighted by their nDCG gain (hired 7, interviewed 3, applied 1; others 1), so the trees spend
  their splits on what the ranking metric rewards;
- ``hgb`` is scikit-learn's ``HistGradientBoostingClassifier``; both kinds have monotonic
  constraints where the direction is known (``MONOTONE``: more skill coverage, semantic relevance,
  education, major, experience, salary, location, occupation or chain fit never lowers the
  score; a lower position never raises it);
- position bias: the rank at which a pair was shown is a training-only feature, so the trees
  explain away the clicks a top position earns; every pair is then scored as if shown first;
- calibration: the queries of the window are split by time, the earlier part fits the trees and
  the later part (``calibration_share``) fits an isotonic (or Platt) map from the trees'
  probability to the observed rate, so ``predict_proba`` is P(positive outcome | shown first).

Ranking uses the trees' log-odds (``score``), which the monotone calibration map does not
reorder but would flatten into ties. ``contributions`` are occlusion deltas in log-odds: the
score minus the score with that one feature set to its training median.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from models.rerankers.base import COMPONENTS, Reranker
from models.rerankers.data import PairTable

POSITION = "position"
DEFAULT_FEATURES: tuple[str, ...] = (*COMPONENTS, "experience_years")
# +1: never lowers the score as the value grows; -1: never raises it; 0: free
MONOTONE: dict[str, int] = {**{c: 1 for c in COMPONENTS}, "shortage": 0, "experience_years": 0, POSITION: -1}
Calibration = Literal["isotonic", "sigmoid"]
Kind = Literal["hgb", "logistic"]
KINDS: tuple[str, ...] = ("hgb", "logistic")
HGB_PARAMS: dict[str, Any] = {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 15,
                              "min_samples_leaf": 40, "l2_regularization": 1.0, "early_stopping": True,
                              "validation_fraction": 0.1, "n_iter_no_change": 20}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class LearnedReranker(Reranker):
    def __init__(self, feature_names: Sequence[str], estimator: Any, calibrator: Any,
                 calibration: Calibration, baseline: np.ndarray, kind: Kind = "hgb") -> None:
        self.kind = kind
        self.feature_names = tuple(feature_names)
        self.estimator = estimator
        self.calibrator = calibrator
        self.calibration = calibration
        self.baseline = np.asarray(baseline, dtype=np.float64)
        self.fit_info: dict[str, Any] = {}

    @property
    def calibrated(self) -> bool:
        return True

    def _with_position(self, X: np.ndarray, position: float | np.ndarray) -> np.ndarray:
        pos = np.broadcast_to(np.asarray(position, dtype=np.float64), (len(X),))
        return np.column_stack([X, pos])

    def decision(self, X: np.ndarray, position: float | np.ndarray = 1.0) -> np.ndarray:
        """The trees' log-odds of a positive outcome, at the given position(s)."""
        X = self.check(X)
        if not len(X):
            return np.zeros(0)
        return np.asarray(self.estimator.decision_function(self._with_position(X, position)), dtype=np.float64)

    def score(self, X: np.ndarray) -> np.ndarray:
        return self.decision(X, 1.0)

    def raw_proba(self, X: np.ndarray, position: float | np.ndarray = 1.0) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.decision(X, position)))

    def predict_proba(self, X: np.ndarray, position: float | np.ndarray = 1.0) -> np.ndarray:
        """Calibrated P(positive outcome) of each pair if shown at ``position`` (default first)."""
        raw = self.raw_proba(X, position)
        if not len(raw):
            return raw
        if self.calibration == "isotonic":
            p = self.calibrator.predict(raw)
        else:
            p = self.calibrator.predict_proba(_logit(raw)[:, None])[:, 1]
        return np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Occlusion deltas in log-odds at position 1: score(x) - score(x with feature j at its
        training median), per feature. Not additive in general (the trees interact)."""
        X = self.check(X)
        base = self.score(X)
        out = np.zeros_like(X)
        for j in range(X.shape[1]):
            Xj = X.copy()
            Xj[:, j] = self.baseline[j]
            out[:, j] = base - self.score(Xj)
        return out

    # -- persistence (see models.rerankers.artifacts) ------------------------------------

    def state(self) -> dict[str, Any]:
        """What is pickled: scikit-learn objects, arrays and numbers only, no project class."""
        est = self.estimator.state() if self.kind == "logistic" else self.estimator
        return {"estimator": est, "calibrator": self.calibrator, "baseline": self.baseline}

    def manifest(self) -> dict[str, Any]:
        out = {"kind": self.kind, "feature_names": list(self.feature_names),
               "train_only_features": [POSITION], "calibration": self.calibration,
               "monotonic_constraints": {n: MONOTONE.get(n, 0) for n in (*self.feature_names, POSITION)},
               "baseline": {n: float(v) for n, v in zip(self.feature_names, self.baseline, strict=True)}}
        if self.kind == "logistic":
            out["coefficients"] = self.estimator.weights_table()
        return out

    @classmethod
    def from_state(cls, manifest: dict[str, Any], state: dict[str, Any]) -> LearnedReranker:
        kind = manifest["kind"]
        est = state["estimator"]
        if kind == "logistic":
            from models.rerankers.linear import BoundedLogistic

            est = BoundedLogistic.from_state(manifest["feature_names"], MONOTONE, est)
        return cls(manifest["feature_names"], est, state["calibrator"], manifest["calibration"], state["baseline"],
                   kind)


def split_by_time(table: PairTable, later_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Row masks (earlier, later): whole queries, the last ``later_share`` of them by day."""
    uq, first = np.unique(table.query, return_index=True)
    order = uq[np.lexsort((uq, table.day[first]))]
    n_later = int(round(len(order) * later_share))
    later_q = order[len(order) - n_later:] if n_later else order[:0]
    later = np.isin(table.query, later_q)
    return ~later, later


def fit_reranker(table: PairTable, feature_names: Sequence[str] = DEFAULT_FEATURES, *, kind: Kind = "hgb",
                 calibration: Calibration = "isotonic", calibration_share: float = 0.2, seed: int = 0,
                 gain_weights: bool = True, params: dict[str, Any] | None = None) -> LearnedReranker:
    """Fit the model on the earlier queries of ``table`` and the calibration map on the later
    ones. ``params``: estimator options (``HGB_PARAMS`` for hgb; ``l2`` for logistic)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if kind not in KINDS:
        raise ValueError(f"未知的模型类型：{kind}（可选：{', '.join(KINDS)}）")
    if calibration not in ("isotonic", "sigmoid"):
        raise ValueError(f"未知的校准方法：{calibration}")
    if POSITION not in table.columns:
        raise ValueError("训练数据缺少 position 列（展示位次）")
    names = tuple(feature_names)
    fit_rows, cal_rows = split_by_time(table, calibration_share)
    fit, cal = table.subset(fit_rows), table.subset(cal_rows)
    for part, label in ((fit, "训练"), (cal, "校准")):
        if len(part) == 0 or part.positive.all() or not part.positive.any():
            raise ValueError(f"{label}部分需要同时有正向结果和其他结果（{len(part)} 行）")
    X = fit.matrix((*names, POSITION))
    y = fit.positive.astype(int)
    weight = np.where(fit.positive, fit.gains, 1.0) if gain_weights else None
    if kind == "hgb":
        est_params = {**HGB_PARAMS, **(params or {})}
        cst = [MONOTONE.get(n, 0) for n in (*names, POSITION)]
        est: Any = HistGradientBoostingClassifier(**est_params, monotonic_cst=cst, random_state=seed)
        est.fit(X, y, sample_weight=weight)
        iterations = int(est.n_iter_)
    else:
        from models.rerankers.linear import BoundedLogistic

        est_params = {"l2": 1e-3, **(params or {})}
        est = BoundedLogistic(names, MONOTONE, **est_params).fit(X, y, sample_weight=weight)
        iterations = est.n_iter_
    baseline = np.median(X[:, : len(names)], axis=0)
    model = LearnedReranker(names, est, None, calibration, baseline, kind)
    raw = model.raw_proba(cal.matrix(names), cal.columns[POSITION])
    if calibration == "isotonic":
        calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, cal.positive)
    else:
        calibrator = LogisticRegression(C=1e6).fit(_logit(raw)[:, None], cal.positive)
    model.calibrator = calibrator
    model.fit_info = {"fit_rows": len(fit), "calibration_rows": len(cal), "fit_window": fit.window(),
                      "calibration_window": cal.window(), "iterations": iterations,
                      "params": est_params, "gain_weights": gain_weights, "seed": seed}
    return model
