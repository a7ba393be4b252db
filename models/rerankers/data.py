"""Labelled pairs as plain arrays: what training, evaluation and the registry take."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from models.rerankers.base import columns_matrix
from models.rerankers.labels import gains


@dataclass
class PairTable:
    """One row per shown pair.

    ``columns``: named float columns (the components, side features, ``position``);
    ``query``: the ranking the pair was shown in (a session; rankings are compared within it);
    ``day``: when it was shown (days since some origin); ``grade`` / ``negative``: its label
    (``models.rerankers.labels``); ``meta``: anything else kept alongside (ids, flags, and in
    synthetic data the hidden truth), never read by a model.
    """

    columns: dict[str, np.ndarray]
    query: np.ndarray
    day: np.ndarray
    grade: np.ndarray
    negative: np.ndarray
    meta: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.query = np.asarray(self.query, dtype=np.int64)
        self.day = np.asarray(self.day, dtype=np.float64)
        self.grade = np.asarray(self.grade, dtype=np.int8)
        self.negative = np.asarray(self.negative, dtype=bool)
        self.columns = {k: np.asarray(v, dtype=np.float64) for k, v in self.columns.items()}
        n = len(self.query)
        for name, arr in [("day", self.day), ("grade", self.grade), ("negative", self.negative),
                          *self.columns.items(), *self.meta.items()]:
            if len(arr) != n:
                raise ValueError(f"列 {name} 有 {len(arr)} 行，应为 {n} 行")

    def __len__(self) -> int:
        return len(self.query)

    @property
    def positive(self) -> np.ndarray:
        return self.grade >= 1

    @property
    def gains(self) -> np.ndarray:
        return gains(self.grade)

    def matrix(self, names: Sequence[str]) -> np.ndarray:
        return columns_matrix(self.columns, names)

    def subset(self, mask: np.ndarray) -> PairTable:
        mask = np.asarray(mask)
        return PairTable({k: v[mask] for k, v in self.columns.items()}, self.query[mask], self.day[mask],
                         self.grade[mask], self.negative[mask], {k: v[mask] for k, v in self.meta.items()})

    def with_labels(self, grade: np.ndarray, negative: np.ndarray) -> PairTable:
        return PairTable(self.columns, self.query, self.day, grade, negative, self.meta)

    def window(self) -> dict[str, float | int]:
        """The days this table covers, for a manifest."""
        if not len(self):
            return {"rows": 0, "queries": 0}
        return {"first_day": float(self.day.min()), "last_day": float(self.day.max()), "rows": len(self),
                "queries": int(len(np.unique(self.query)))}

    def save(self, path: Path) -> None:
        arrays = {"query": self.query, "day": self.day, "grade": self.grade, "negative": self.negative}
        arrays.update({f"col:{k}": v for k, v in self.columns.items()})
        arrays.update({f"meta:{k}": v for k, v in self.meta.items()})
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> PairTable:
        with np.load(path, allow_pickle=False) as data:
            cols = {k[4:]: data[k] for k in data.files if k.startswith("col:")}
            meta = {k[5:]: data[k] for k in data.files if k.startswith("meta:")}
            return cls(cols, data["query"], data["day"], data["grade"], data["negative"], meta)

    @classmethod
    def concat(cls, tables: Sequence[PairTable]) -> PairTable:
        first = tables[0]
        return cls({k: np.concatenate([t.columns[k] for t in tables]) for k in first.columns},
                   np.concatenate([t.query for t in tables]), np.concatenate([t.day for t in tables]),
                   np.concatenate([t.grade for t in tables]), np.concatenate([t.negative for t in tables]),
                   {k: np.concatenate([t.meta[k] for t in tables]) for k in first.meta})


def from_rows(rows: Sequence[Mapping[str, float]], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Columns from per-pair dicts (e.g. the service's ``Scored.comp``), missing values as NaN."""
    return {n: np.array([float(r.get(n, np.nan)) for r in rows]) for n in names}
