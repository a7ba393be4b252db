"""The bridge between the service's scoring and ``models.rerankers``: a scored pair's feature
row and the service's weights as the plain dict the ``weighted`` re-ranker takes."""

from __future__ import annotations

from typing import Any

from matcher.core.settings import Weights
from matcher.domain.schemas import TalentProfile
from models.rerankers.base import COMPONENTS

MAX_EXPERIENCE_YEARS = 40.0


def weights_dict(weights: Weights) -> dict[str, float]:
    """The service's weights for ``WeightedReranker``."""
    return {k: float(v) for k, v in weights.model_dump().items()}


def side_features(profile: TalentProfile) -> dict[str, float]:
    return {"experience_years": float(min(max(profile.experience_years, 0.0), MAX_EXPERIENCE_YEARS))}


def pair_features(scored: Any) -> dict[str, float]:
    """The components of a ``matcher.service.Scored`` in ``COMPONENTS`` order, plus the side
    features. Raises if the service's components are no longer the re-rankers' (a model trained
    on one set must not silently read another)."""
    if tuple(scored.comp) != COMPONENTS:
        raise RuntimeError(f"评分分项与重排模型的特征不一致：{tuple(scored.comp)} != {COMPONENTS}")
    return {**{k: float(v) for k, v in scored.comp.items()}, **side_features(scored.profile)}
