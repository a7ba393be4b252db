"""The re-ranker interface: score (talent, demand entry) pairs from their feature vectors.

A pair's features are the 13 components the service computes for it (``MatchService._score``'s
``comp``, each in [0, 1]) plus side information a backend may ask for (``SIDE_FEATURES``). A
re-ranker names the columns it reads (``feature_names``, in order) and takes a float matrix with
exactly those columns; ``columns_matrix`` builds one from named columns. ``models`` imports
nothing from the project, so these names are the contract: ``tests/models`` checks that they are
the service's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

# the service's components, in the order ``MatchService._score`` builds them
COMPONENTS: tuple[str, ...] = (
    "semantic", "required_skills", "preferred_skills", "education", "major", "experience",
    "certificates", "skill_use", "salary", "location", "occupation", "chain", "shortage",
)
# the two one-sided scores read these, in the order the service sums them
EMPLOYER_FEATURES: tuple[str, ...] = (
    "semantic", "required_skills", "preferred_skills", "education", "major", "experience", "certificates",
)
SEEKER_FEATURES: tuple[str, ...] = (
    "semantic", "skill_use", "salary", "location", "occupation", "chain", "shortage",
)
# side information of a pair, beyond its components
SIDE_FEATURES: dict[str, str] = {
    "experience_years": "the seeker's years of work experience (capped at 40)",
    "position": "1-based rank at which the pair was shown (training only: a learned model is "
                "fitted with it to absorb position bias and scores every pair as if shown first)",
}


def columns_matrix(columns: Mapping[str, Sequence[float] | np.ndarray], names: Sequence[str]) -> np.ndarray:
    """A float64 matrix of the named columns, in the order of ``names``."""
    missing = [n for n in names if n not in columns]
    if missing:
        raise KeyError(f"缺少特征列：{', '.join(missing)}")
    if not names:
        return np.zeros((0, 0))
    return np.column_stack([np.asarray(columns[n], dtype=np.float64) for n in names])


class Reranker(ABC):
    """Scores pairs from a matrix whose columns are ``feature_names``; higher ranks first."""

    kind: str = "base"
    feature_names: tuple[str, ...] = ()

    def check(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ValueError(f"特征矩阵应有 {len(self.feature_names)} 列（{', '.join(self.feature_names)}），"
                             f"实际形状 {X.shape}")
        return X

    @abstractmethod
    def score(self, X: np.ndarray) -> np.ndarray:
        """One ranking score per row."""

    @property
    def calibrated(self) -> bool:
        """Whether ``predict_proba`` is a calibrated probability of a positive outcome."""
        return False

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.kind} 排序器不输出概率")

    @abstractmethod
    def contributions(self, X: np.ndarray) -> np.ndarray:
        """Per-pair, per-feature contributions to the score (same shape as ``X``): what moved
        this pair's score, for explanations. Their meaning is the backend's (see its docs)."""

    def top_contributions(self, x: Sequence[float], k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` features that raised this pair's score most, largest first (positive only)."""
        c = self.contributions(np.asarray([x], dtype=np.float64))[0]
        order = np.argsort(-c, kind="stable")
        return [(self.feature_names[i], float(c[i])) for i in order[:k] if c[i] > 0]
