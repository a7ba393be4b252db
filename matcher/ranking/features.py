"""Pure feature functions of a (talent, demand entry) pair; each returns a value in [0, 1]."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from matcher.core.textnorm import normalize_key

NEUTRAL = 0.5
DEFAULT_THRESHOLD = 0.6  # a pair scoring at least this counts as qualified (gap report, zone)


def semantic(cos: float, background: float) -> float:
    """Cosine rescaled against the index's background similarity of unrelated pairs."""
    if background >= 1.0:
        return float(np.clip(cos, 0, 1))
    return float(np.clip((cos - background) / (1.0 - background), 0.0, 1.0))


def coverage(wanted: list[str], have: set[str]) -> tuple[list[str], list[str]]:
    """(matched, missing) of wanted keys against held keys; order of ``wanted`` is kept."""
    matched = [w for w in wanted if w in have]
    missing = [w for w in wanted if w not in have]
    return matched, missing


def ratio(n: int, d: int, empty: float = 1.0) -> float:
    return empty if d == 0 else n / d


def major_fit(major: str | None, wanted: Iterable[str]) -> float:
    """1 if the major belongs to one of the wanted majors or disciplines (e.g. 计算机类)."""
    wanted = [normalize_key(w).removesuffix("类").removesuffix("相关专业").removesuffix("专业") for w in wanted]
    wanted = [w for w in wanted if w and w not in ("不限", "无")]
    if not wanted:
        return 1.0
    if not major:
        return 0.0
    m = normalize_key(major)
    for w in wanted:
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


def weighted(values: dict[str, float], weights: dict[str, float]) -> float:
    total = sum(w for k, w in weights.items() if k in values and w > 0)
    if total <= 0:
        return 0.0
    return float(sum(values[k] * w for k, w in weights.items() if k in values and w > 0) / total)
