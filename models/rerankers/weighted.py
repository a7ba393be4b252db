"""``weighted``: the hand-set formula of ``MatchService._score``, reproduced bit for bit.

employer = weighted mean of the employer-side components with the ``e_*`` weights, seeker = the
same with the ``s_*`` weights (each side divided by the sum of its positive weights; weights <= 0
are left out), total = employer_share * employer + (1 - employer_share) * seeker. The weights are
a plain dict (``Weights().model_dump()`` on the service side): ``models`` imports nothing from
the project. The arithmetic runs in the service's order, one IEEE operation for each of its
operations, so the scores are equal, not just close (``tests/models/test_rerankers.py``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from models.rerankers.base import COMPONENTS, EMPLOYER_FEATURES, SEEKER_FEATURES, Reranker


class WeightedReranker(Reranker):
    kind = "weighted"
    feature_names = COMPONENTS

    def __init__(self, weights: Mapping[str, float]) -> None:
        if "employer_share" not in weights:
            raise ValueError("权重缺少 employer_share")
        self.weights = {k: float(v) for k, v in weights.items()}
        self.share = self.weights["employer_share"]
        # (column, weight) of each side, in the service's order, positive weights only
        self._sides = {
            side: [(COMPONENTS.index(f), self.weights.get(f"{prefix}_{f}", 0.0))
                   for f in names if self.weights.get(f"{prefix}_{f}", 0.0) > 0]
            for side, prefix, names in (("employer", "e", EMPLOYER_FEATURES), ("seeker", "s", SEEKER_FEATURES))
        }
        self._totals = {side: sum(w for _, w in terms) for side, terms in self._sides.items()}

    def _side(self, X: np.ndarray, side: str) -> np.ndarray:
        total = self._totals[side]
        if total <= 0:
            return np.zeros(len(X))
        acc = np.zeros(len(X))  # Python's sum() starts from 0 and adds term by term, as here
        for col, w in self._sides[side]:
            acc = acc + X[:, col] * w
        return acc / total

    def sides(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(seeker, employer, total) scores of each row, as ``Scored.seeker/employer/score``."""
        X = self.check(X)
        employer = self._side(X, "employer")
        seeker = self._side(X, "seeker")
        return seeker, employer, self.share * employer + (1 - self.share) * seeker

    def score(self, X: np.ndarray) -> np.ndarray:
        return self.sides(X)[2]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Each component's share of the total: share * w_e/sum_e * value + (1 - share) * w_s/sum_s
        * value. The row sums are the total score (up to rounding)."""
        X = self.check(X)
        coef = np.zeros(len(COMPONENTS))
        for side, factor in (("employer", self.share), ("seeker", 1 - self.share)):
            total = self._totals[side]
            for col, w in self._sides[side]:
                if total > 0:
                    coef[col] += factor * w / total
        return X * coef
