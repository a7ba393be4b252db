"""A logistic model with sign constraints and seniority-dependent weights (the ``logistic`` kind).

log-odds = intercept + sum_j x_j * ((1 - s) * a_j + s * b_j) + c * s + d * log(position)

where s = min(experience_years, 10) / 10 is the seeker's seniority (0 when the model has no
``experience_years``): each component weighs ``a_j`` for a graduate and ``b_j`` at ten years,
linearly in between. A component whose direction is known (``MONOTONE`` +1) gets a_j, b_j >= 0,
so it never lowers the score at any seniority; position gets d <= 0. Fitted by L-BFGS-B on the
weighted log loss with a small L2 penalty: deterministic, and the coefficients read as
"how much this component counts for a seeker of this seniority".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

SENIORITY_YEARS = 10.0


class BoundedLogistic:
    def __init__(self, feature_names: Sequence[str], monotone: dict[str, int], l2: float = 1e-3) -> None:
        self.feature_names = tuple(feature_names)  # the serving features, position appended at fit
        self.monotone = dict(monotone)
        self.l2 = l2
        self.components = [n for n in self.feature_names if n != "experience_years"]
        self.has_seniority = "experience_years" in self.feature_names
        self.coef_: np.ndarray = np.zeros(0)
        self.intercept_: float = 0.0
        self.n_iter_: int = 0

    def _design(self, X: np.ndarray) -> np.ndarray:
        """X has the serving features then position as its last column."""
        names = list(self.feature_names)
        comps = X[:, [names.index(n) for n in self.components]]
        if self.has_seniority:
            s = np.minimum(np.maximum(X[:, names.index("experience_years")], 0.0), SENIORITY_YEARS) / SENIORITY_YEARS
        else:
            s = np.zeros(len(X))
        pos = np.log(np.maximum(X[:, -1], 1.0))
        return np.column_stack([comps * (1 - s)[:, None], comps * s[:, None], s, pos])

    def _bounds(self) -> list[tuple[float | None, float | None]]:
        def bound(sign: int) -> tuple[float | None, float | None]:
            return (0.0, None) if sign > 0 else (None, 0.0) if sign < 0 else (None, None)

        comp = [bound(self.monotone.get(n, 0)) for n in self.components]
        return [*comp, *comp, (None, None), bound(self.monotone.get("position", -1)), (None, None)]

    def fit(self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None) -> BoundedLogistic:
        from scipy.optimize import minimize

        Z = self._design(np.asarray(X, dtype=np.float64))
        y = np.asarray(y, dtype=np.float64)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        w = w / w.sum()
        base = float(np.clip(np.average(y, weights=w), 1e-6, 1 - 1e-6))

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            beta, b0 = theta[:-1], theta[-1]
            z = Z @ beta + b0
            p = 1.0 / (1.0 + np.exp(-z))
            ll = np.sum(w * (np.logaddexp(0.0, z) - y * z)) + 0.5 * self.l2 * beta @ beta
            r = w * (p - y)
            return float(ll), np.r_[Z.T @ r + self.l2 * beta, r.sum()]

        theta0 = np.r_[np.zeros(Z.shape[1]), np.log(base / (1 - base))]
        res = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=self._bounds(),
                       options={"maxiter": 2000, "gtol": 1e-8})
        self.coef_, self.intercept_, self.n_iter_ = res.x[:-1], float(res.x[-1]), int(res.nit)
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return self._design(np.asarray(X, dtype=np.float64)) @ self.coef_ + self.intercept_

    def weights_table(self) -> dict[str, Any]:
        """Each component's weight for a graduate and at ten years, and the rest, for a manifest."""
        k = len(self.components)
        return {"graduate": {n: float(v) for n, v in zip(self.components, self.coef_[:k], strict=True)},
                "ten_years": {n: float(v) for n, v in zip(self.components, self.coef_[k:2 * k], strict=True)},
                "seniority": float(self.coef_[2 * k]), "log_position": float(self.coef_[2 * k + 1]),
                "intercept": self.intercept_}

    def state(self) -> dict[str, Any]:
        return {"coef": self.coef_, "intercept": self.intercept_, "l2": self.l2}

    @classmethod
    def from_state(cls, feature_names: Sequence[str], monotone: dict[str, int], state: dict[str, Any]) -> BoundedLogistic:
        model = cls(feature_names, monotone, float(state["l2"]))
        model.coef_, model.intercept_ = np.asarray(state["coef"], dtype=np.float64), float(state["intercept"])
        return model
