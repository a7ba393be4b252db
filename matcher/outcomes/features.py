"""The bridge between the service's scoring and ``models.rerankers``: a scored pair's feature
row and the service's weights as the plain dict the ``weighted`` re-ranker takes."""

from __future__ import annotations

from typing import Any

from matcher.core.settings import Weights
from matcher.domain.schemas import TalentProfile
from matcher.ranking.learned import MAX_EXPERIENCE_YEARS, feature_row

__all__ = ["MAX_EXPERIENCE_YEARS", "pair_features", "side_features", "weights_dict"]


def weights_dict(weights: Weights) -> dict[str, float]:
    """The service's weights for ``WeightedReranker``."""
    return {k: float(v) for k, v in weights.model_dump().items()}


def side_features(profile: TalentProfile) -> dict[str, float]:
    return {"experience_years": float(min(max(profile.experience_years, 0.0), MAX_EXPERIENCE_YEARS))}


def pair_features(scored: Any) -> dict[str, float]:
    """The components of a ``matcher.service.Scored`` in ``COMPONENTS`` order, plus the side
    features (``matcher.ranking.learned.feature_row``)."""
    return feature_row(scored)
