"""Graded labels of a shown (talent, demand entry) pair from what happened to it afterwards.

Ladder (the highest stage reached): hired 3 > interviewed / offered 2 > applied / shortlisted /
invited 1 > shown, viewed or saved 0. An explicit negative outcome before an interview — the
seeker dismissed the post, the recruiter rejected the application, the seeker did not show up
for the interview — makes the pair a negative: grade 0 and ``negative``. Once an interview took
place both sides had wanted the pair far enough: a rejection after it or a declined offer
keeps grade 2 (and is not flagged negative).

A positive outcome (what a calibrated model's probability is about) is grade >= 1.
Gains for nDCG are 2**grade - 1 (hired 7, interviewed 3, applied 1).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

SEEKER_EVENTS = ("viewed", "saved", "applied", "dismissed")
RECRUITER_EVENTS = ("shortlisted", "invited", "rejected", "interviewed", "no_show", "offered", "declined", "hired")
EVENTS: tuple[str, ...] = SEEKER_EVENTS + RECRUITER_EVENTS
STAGE = {"viewed": 0, "saved": 0, "applied": 1, "shortlisted": 1, "invited": 1, "interviewed": 2,
         "offered": 2, "declined": 2, "hired": 3}
NEGATIVE = frozenset({"dismissed", "rejected", "no_show"})
INTERVIEW = 2  # from this grade on, a negative event no longer undoes the pair


def grade(kinds: Iterable[str]) -> tuple[int, bool]:
    """(grade, negative) of one pair from the kinds of its events (any order)."""
    kinds = set(kinds)
    unknown = kinds - set(EVENTS)
    if unknown:
        raise ValueError(f"未知的结果事件：{', '.join(sorted(unknown))}")
    stage = max((STAGE[k] for k in kinds if k in STAGE), default=0)
    if stage >= INTERVIEW:
        return stage, False
    if kinds & NEGATIVE:
        return 0, True
    return stage, False


def grade_events(n_pairs: int, pair: np.ndarray, day: np.ndarray, kind: np.ndarray,
                 until_day: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Grades and negative flags of pairs 0..n_pairs-1 from an event log (one row per event:
    pair index, day, kind), counting only events before ``until_day`` when given — what was
    known at that time."""
    pair, day, kind = np.asarray(pair), np.asarray(day), np.asarray(kind)
    keep = np.ones(len(pair), dtype=bool) if until_day is None else day < until_day
    grades = np.zeros(n_pairs, dtype=np.int8)
    negative = np.zeros(n_pairs, dtype=bool)
    for k in EVENTS:
        rows = pair[keep & (kind == k)]
        if k in STAGE:
            np.maximum.at(grades, rows, STAGE[k])
        if k in NEGATIVE:
            negative[rows] = True
    negative &= grades < INTERVIEW
    grades[negative] = 0
    return grades, negative


def gains(grades: np.ndarray) -> np.ndarray:
    """nDCG gains of grades: 2**grade - 1."""
    return np.exp2(np.asarray(grades, dtype=np.float64)) - 1.0
