"""Time-split evaluation: train on what happened before a cut-off, test on what came after.

An ``EventLog`` is what a deployment records: every shown pair (with its features, the session
it was shown in, its position and day) and every event that followed (pair, day, kind).
``time_split`` turns it into a training table, labelled with only the events known at the
cut-off, and a held-out table of the pairs shown from the cut-off on, labelled with everything
that followed them. Sessions in the last ``maturity_days`` before the cut-off are left out of
training: their applications are still pending, and would teach the model that an application
is the end of the story.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.rerankers.base import Reranker
from models.rerankers.data import PairTable
from models.rerankers.labels import EVENTS, grade_events
from models.rerankers.learned import POSITION
from models.rerankers.metrics import compare, reliability


@dataclass
class EventLog:
    shown: PairTable  # labels ignored: they come from the events
    event_pair: np.ndarray  # row of ``shown``
    event_day: np.ndarray
    event_kind: np.ndarray  # strings from models.rerankers.labels.EVENTS

    def labelled(self, until_day: float | None = None) -> PairTable:
        """``shown`` labelled with the events before ``until_day`` (all when None)."""
        g, neg = grade_events(len(self.shown), self.event_pair, self.event_day, self.event_kind, until_day)
        return self.shown.with_labels(g, neg)

    def happened(self, kind: str, until_day: float | None = None) -> np.ndarray:
        """Per shown pair: whether an event of ``kind`` happened to it (before ``until_day``)."""
        keep = self.event_kind == kind
        if until_day is not None:
            keep &= self.event_day < until_day
        out = np.zeros(len(self.shown), dtype=bool)
        out[self.event_pair[keep]] = True
        return out

    def counts(self) -> dict[str, int]:
        kinds, n = np.unique(self.event_kind, return_counts=True)
        return {str(k): int(c) for k, c in zip(kinds, n, strict=True)}

    def save(self, path: Path) -> None:
        path = Path(path)
        self.shown.save(path.with_suffix(".shown.npz"))
        codes = np.array([EVENTS.index(k) for k in self.event_kind], dtype=np.int8)
        np.savez_compressed(path.with_suffix(".events.npz"), pair=self.event_pair, day=self.event_day, kind=codes)

    @classmethod
    def load(cls, path: Path) -> EventLog:
        path = Path(path)
        shown = PairTable.load(path.with_suffix(".shown.npz"))
        with np.load(path.with_suffix(".events.npz")) as d:
            kinds = np.array(EVENTS, dtype=object)[d["kind"]]
            return cls(shown, d["pair"], d["day"], kinds.astype(str))


def time_split(log: EventLog, cutoff: float, *, maturity_days: float = 14.0,
               end: float | None = None) -> tuple[PairTable, PairTable]:
    """(train, held-out): pairs shown before ``cutoff - maturity_days`` labelled as known at
    ``cutoff``; pairs shown from ``cutoff`` on, labelled with the events before ``end``."""
    train = log.labelled(cutoff)
    train = train.subset(train.day < cutoff - maturity_days)
    test = log.labelled(end)
    test = test.subset(test.day >= cutoff)
    return train, test


def compare_rankers(rankers: Mapping[str, Reranker], table: PairTable, *, baseline: str | None = None,
                    resamples: int = 1000, seed: int = 0, with_auc: bool = True,
                    gains: np.ndarray | None = None, normalise: str = "query") -> dict[str, Any]:
    """nDCG@10, MAP and AUC of each ranker on ``table``'s queries, with bootstrap intervals and
    paired differences to ``baseline``. ``gains`` replaces the graded gains of the labels (e.g.
    inverse-propensity gains, or a simulator's hidden expected gain for an oracle view)."""
    scores = {name: r.score(table.matrix(r.feature_names)) for name, r in rankers.items()}
    return compare(scores, table.query, table.gains if gains is None else gains, table.positive,
                   baseline=baseline, resamples=resamples, seed=seed, with_auc=with_auc, normalise=normalise)


def debiased(table: PairTable) -> tuple[np.ndarray, str]:
    """The gains to judge rankers by on logged data, and their name: inverse-propensity gains
    with window normalisation when the table carries ``meta["propensity"]`` (the chance that
    each pair's position was looked at, ``models.rerankers.propensity``), else the logged gains
    — which favour whatever ranking was served when they were logged."""
    if "propensity" in table.meta:
        return table.gains / np.maximum(table.meta["propensity"], 1e-9), "inverse-propensity"
    return table.gains, "logged"


def calibration_report(model: Reranker, table: PairTable, bins: int = 10) -> dict[str, Any]:
    """Reliability data of a calibrated model on ``table``, at the positions pairs were shown."""
    if not model.calibrated:
        raise ValueError(f"{model.kind} 不输出校准概率")
    prob = model.predict_proba(table.matrix(model.feature_names), table.columns[POSITION])  # type: ignore[call-arg]
    return reliability(prob, table.positive, bins)
