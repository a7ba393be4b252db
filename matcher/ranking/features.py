"""Pure feature functions of a (talent, demand entry) pair; each returns a value in [0, 1]."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import numpy as np

from matcher.core.textnorm import normalize_key
from matcher.reference.majors import MajorTaxonomy

NEUTRAL = 0.5
DEFAULT_THRESHOLD = 0.6  # a pair scoring at least this counts as qualified (gap report, zone)


def semantic(cos: float, background: float) -> float:
    """Cosine rescaled against the index's background similarity of unrelated pairs."""
    return float(semantic_many(np.float64(cos), background))


def semantic_many(cos: np.ndarray, background: float) -> np.ndarray:
    """:func:`semantic` of an array of cosines (float64), element by element the same floats."""
    if background >= 1.0:
        return np.clip(cos, 0, 1)
    return np.clip((cos - background) / (1.0 - background), 0.0, 1.0)


def coverage(wanted: list[str], have: set[str]) -> tuple[list[str], list[str]]:
    """(matched, missing) of wanted keys against held keys; order of ``wanted`` is kept."""
    matched = [w for w in wanted if w in have]
    missing = [w for w in wanted if w not in have]
    return matched, missing


def ratio(n: int, d: int, empty: float = 1.0) -> float:
    return empty if d == 0 else n / d


def ratio_many(n: np.ndarray, d: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """:func:`ratio` of integer arrays, element by element (``empty`` where ``d`` is 0)."""
    return np.where(d == 0, empty, n / np.where(d == 0, 1, d))


def major_fit(major: str | None, wanted: Iterable[str], taxonomy: MajorTaxonomy | None = None) -> float:
    """How well a major meets the wanted majors or classes, the best of them: 1 for the major
    itself or a member of a wanted 专业类 / 门类 ("自动化类", "机械类", "计算机相关专业"), 0.7 for
    a major of the same 专业类 as a wanted one (``taxonomy``, data/majors.json); where the
    taxonomy knows neither side, by name: 1 when one contains the other, 0.7 for the same first
    two characters."""
    wanted = [w for w in wanted if _name_key(w) and _name_key(w) not in ("不限", "无")]
    if not wanted:
        return 1.0
    if not major:
        return 0.0
    best = 0.0
    for w in wanted:
        best = max(best, _one_major_fit(major, w, taxonomy))
        if best >= 1.0:
            break
    return best


@lru_cache(maxsize=100_000)
def _one_major_fit(major: str, wanted: str, taxonomy: MajorTaxonomy | None) -> float:
    """The fit of a major to one wanted major or class (memoised: a fair asks for the same few
    thousand pairs of names many times)."""
    fit = taxonomy.fit(major, wanted) if taxonomy else None
    return _name_fit(major, wanted) if fit is None else fit


@lru_cache(maxsize=100_000)
def _name_key(wanted: str) -> str:
    return normalize_key(wanted).removesuffix("类").removesuffix("相关专业").removesuffix("专业")


def _name_fit(major: str, wanted: str) -> float:
    """The fit by name alone, for majors and requests the taxonomy does not know."""
    w, m = _name_key(wanted), normalize_key(major)
    if w in m or m in w:
        return 1.0
    if len(w) >= 2 and len(m) >= 2 and w[:2] == m[:2]:
        return 0.7
    return 0.0


def experience_fit(years: float, needed: float) -> float:
    if needed <= 0:
        return 1.0
    return float(min(1.0, years / needed))


def salary_fit(want_min: int | None, want_max: int | None, offer_min: int | None, offer_max: int | None) -> float:
    """How well the offered range meets the expectation (neutral when either is unknown)."""
    expect = want_min if want_min is not None else want_max
    offer = offer_max if offer_max is not None else offer_min
    if expect is None or offer is None or expect <= 0:
        return NEUTRAL
    if offer >= expect:
        return 1.0
    return float(max(0.0, (offer / expect - 0.5) / 0.5))


def location_fit(city: str | None, preferred: list[str], province: str | None,
                 entry_city: str | None, entry_province: str | None) -> float:
    if not entry_city:
        return NEUTRAL
    if entry_city in preferred or (not preferred and entry_city == city):
        return 1.0
    if entry_city == city:
        return 0.8
    if not preferred and not city:
        return NEUTRAL
    if province and entry_province and province == entry_province:
        return 0.5
    return 0.1


def occupation_fit(desired_codes: list[str], code: str | None) -> float:
    if not desired_codes:
        return NEUTRAL
    if not code:
        return 0.3
    best = 0.1
    for d in desired_codes:
        if d == code:
            return 1.0
        if d[:7] == code[:7]:
            best = max(best, 0.7)
        elif d[:4] == code[:4]:
            best = max(best, 0.4)
    return best


def chain_fit(desired: list[str], chain_id: str | None) -> float:
    if not desired:
        return NEUTRAL
    if chain_id is None:
        return 0.3
    return 1.0 if chain_id in desired else 0.2


def shortage(level: int | None) -> float:
    return 0.0 if level is None else level / 5.0


def weighted(values: dict[str, Any], weights: dict[str, float]) -> Any:
    """The weighted mean of the values with a positive weight, summed left to right in the
    weights' order; the values are floats (a float back) or float64 arrays of pairs (an array
    back, element by element the same floats as one pair at a time)."""
    used = [(k, w) for k, w in weights.items() if k in values and w > 0]
    total = sum(w for _, w in used)
    if total <= 0:
        return 0.0
    acc: Any = 0
    for k, w in used:
        acc = acc + values[k] * w
    return acc / total if isinstance(acc, np.ndarray) else float(acc / total)
