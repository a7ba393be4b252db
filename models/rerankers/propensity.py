"""Position bias: how much less a lower position is looked at, measured on randomised sessions.

Labels logged under a ranking are biased toward that ranking: what it put first was looked at
most, so an offline comparison on those labels favours the ranking that was served. Under the
examination hypothesis (a pair's outcome = looked at × wanted, looking depending on position
only), the click rate at position p among sessions shown in random order is proportional to
the probability theta(p) of looking at position p. ``fit_position_bias`` fits theta(p) = p^-eta
to those rates (weighted least squares on their logarithms); ``debiased_gains`` divides each
observed gain by theta(position) (inverse propensity, with a floor against huge weights), an
unbiased estimate of the gain the pair would have earned if looked at.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FLOOR = 0.05  # propensities below this are raised to it: at most 20x weight for one pair


def fit_position_bias(position: np.ndarray, clicked: np.ndarray) -> dict[str, Any]:
    """theta(p) = p^-eta from the click rates per position of randomly ordered sessions."""
    position = np.asarray(position, dtype=np.int64)
    clicked = np.asarray(clicked, dtype=bool)
    rates = []
    for p in range(1, int(position.max(initial=0)) + 1):
        m = position == p
        n, c = int(m.sum()), int(clicked[m].sum())
        rates.append({"position": p, "shown": n, "clicked": c, "rate": c / n if n else None})
    use = [r for r in rates if r["clicked"] > 0]
    if len(use) < 2:
        raise ValueError("随机排序的会话太少，无法估计位置偏差")
    x = np.log([r["position"] for r in use])
    y = np.log([r["rate"] for r in use])
    w = np.array([r["clicked"] for r in use], dtype=float)  # var(log rate) ~ 1 / clicks
    xm, ym = np.average(x, weights=w), np.average(y, weights=w)
    slope = float(np.sum(w * (x - xm) * (y - ym)) / np.sum(w * (x - xm) ** 2))
    return {"eta": max(0.0, -slope), "rows": int(len(position)), "clicks": int(clicked.sum()), "rates": rates}


def propensity(position: np.ndarray, eta: float, floor: float = FLOOR) -> np.ndarray:
    return np.maximum(np.asarray(position, dtype=np.float64) ** -eta, floor)


def debiased_gains(gains: np.ndarray, position: np.ndarray, eta: float, floor: float = FLOOR) -> np.ndarray:
    return np.asarray(gains, dtype=np.float64) / propensity(position, eta, floor)
