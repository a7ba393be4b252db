"""Ranking with a promoted outcome model (``models.rerankers``): the pair features a model
reads, its order and its reasons.

A model reads ``FEATURES``: the scorer's 13 components in ``models.rerankers.COMPONENTS`` order
and the seeker's years of experience. The weighted score is still computed (and shown, and
still filters by ``min_score``); the model only orders the pairs and says why, from its own
per-pair contributions (what moved this pair's score most), never from the fixed weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from matcher.domain.schemas import IndustryChain, Match
from matcher.ranking.scorer import Scored
from models.rerankers.base import COMPONENTS, SIDE_FEATURES, Reranker
from models.rerankers.learned import DEFAULT_FEATURES

FEATURES: tuple[str, ...] = DEFAULT_FEATURES
MAX_EXPERIENCE_YEARS = 40.0
TOP_REASONS = 3


def feature_row(sc: Scored) -> dict[str, float]:
    """The model features of a scored pair. Raises if the scorer's components are no longer the
    models' (a model trained on one set must not silently read another)."""
    if tuple(sc.comp) != COMPONENTS:
        raise RuntimeError(f"评分分项与重排模型的特征不一致：{tuple(sc.comp)} != {COMPONENTS}")
    years = float(min(max(sc.profile.experience_years, 0.0), MAX_EXPERIENCE_YEARS))
    return {**{k: float(v) for k, v in sc.comp.items()}, "experience_years": years}


def matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str] = FEATURES) -> np.ndarray:
    return np.array([[float(r[n]) for n in names] for r in rows], dtype=np.float64).reshape(len(rows), len(names))


@dataclass
class ModelOrder:
    """Pairs in the model's order with their model scores, probabilities and contributions."""

    scored: list[Scored]
    features: list[dict[str, float]]
    score: np.ndarray
    probability: np.ndarray | None
    contributions: np.ndarray


def order(model: Reranker, scored: Sequence[Scored], top_k: int, min_score: float) -> ModelOrder:
    """The ``top_k`` pairs scoring at least ``min_score`` (weighted), eligible first, then by the
    model's score, then by id."""
    kept = [sc for sc in scored if sc.score >= min_score]
    rows = [feature_row(sc) for sc in kept]
    s = model.score(matrix(rows)) if rows else np.zeros(0)
    idx = sorted(range(len(kept)), key=lambda i: (not kept[i].eligible, -s[i], kept[i].other_id))[:top_k]
    X = matrix([rows[i] for i in idx])
    prob = model.predict_proba(X) if model.calibrated and len(idx) else None
    contrib = model.contributions(X) if len(idx) else np.zeros((0, len(FEATURES)))
    return ModelOrder([kept[i] for i in idx], [rows[i] for i in idx], s[idx], prob, contrib)


def _tail(sep: str, value: object) -> str:
    return f"{sep}{value}" if value else ""


def reason(feature: str, sc: Scored, chains: Mapping[str, IndustryChain]) -> str:
    """A feature of a pair in words (Chinese), with its value."""
    v = sc.comp.get(feature, 0.0)
    e, p = sc.entry, sc.profile
    chain = chains.get(e.chain_id) if e.chain_id else None
    salary = f"{e.salary_min or ''}-{e.salary_max} 元/月" if e.salary_max else ""
    texts = {
        "semantic": f"整体背景与岗位内容相近（语义相关度 {v:.2f}）",
        "required_skills": f"必备技能覆盖 {v:.0%}" + _tail("：", "、".join(sc.matched)),
        "preferred_skills": f"加分技能覆盖 {v:.0%}",
        "education": "学历符合要求" + (f"（{p.education.value}）" if p.education else ""),
        "major": "专业对口" + _tail("：", p.major),
        "experience": f"工作经验符合要求（{p.experience_years:g} 年）",
        "certificates": "证书符合岗位要求",
        "skill_use": f"能用上求职者的技能（{v:.0%}）",
        "salary": "薪资与期望相符" + _tail("：", salary),
        "location": "工作地点符合意向" + _tail("：", e.city),
        "occupation": "职业方向一致" + _tail("：", e.occupation_name or e.occupation_code),
        "chain": "属于意向产业链" + _tail("：", chain.name if chain else None),
        "shortage": "急需紧缺岗位" + (f"（{e.shortage_level} 星）" if e.shortage_level else ""),
        "experience_years": f"求职者有 {p.experience_years:g} 年工作经验",
    }
    return texts.get(feature, feature)


def apply(matches: Sequence[Match], ordered: ModelOrder, model_id: str, names: Sequence[str],
          chains: Callable[[], Mapping[str, IndustryChain]]) -> list[Match]:
    """The shown results with the model's reasons (the pair features with its largest positive
    contributions for each pair), its id and its calibrated probability."""
    known = chains()
    out = []
    for i, (m, sc) in enumerate(zip(matches, ordered.scored, strict=True)):
        c = ordered.contributions[i]
        # the seeker's own side features (years of experience) move every post of their list
        # alike: they say nothing about this pair, so they are not given as its reasons
        top = [j for j in np.argsort(-c, kind="stable") if c[j] > 0 and names[j] not in SIDE_FEATURES][:TOP_REASONS]
        reasons = [f"{reason(names[j], sc, known)}（排序模型贡献 {c[j]:+.2f}）" for j in top]
        if not reasons:
            reasons = ["排序模型未发现明显加分项"]
        expl = m.explanation.model_copy(update={"reasons": reasons})
        prob = None if ordered.probability is None else round(float(ordered.probability[i]), 4)
        out.append(m.model_copy(update={"explanation": expl, "ranker": model_id, "outcome_probability": prob}))
    return out
