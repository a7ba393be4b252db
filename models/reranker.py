"""A small, versioned re-ranker: a logistic regression over named features and an isotonic
calibration of its probabilities, stored as one JSON file (no pickle, no network).

Training needs scikit-learn; loading and scoring need numpy only. The JSON holds the format
version, the feature names (scoring refuses a matrix built for other features), the
standardisation, the weights, the calibration's breakpoints and a free ``manifest`` (what it
was trained on, with which settings, and what it scored).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.errors import ModelFileError

FORMAT = "talentmatch-linear-reranker/1"


RerankerError = ModelFileError  # a re-ranker file that cannot be used (format, features, shapes)


@dataclass
class LinearReranker:
    """P(candidate is right | features) = sigmoid(w · standardised features + b), then calibrated."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    calib_x: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0]))
    calib_y: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0]))
    manifest: dict[str, Any] = field(default_factory=dict)

    # -- scoring -----------------------------------------------------------------------------

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Logits of feature arrays ``(..., len(features))``."""
        x = np.asarray(x, dtype=np.float32)
        if x.shape[-1] != len(self.features):
            raise RerankerError(f"expected {len(self.features)} features, got {x.shape[-1]}")
        w = (self.coef / self.scale).astype(np.float32)
        b = float(self.intercept - np.sum(self.coef * self.mean / self.scale))
        return x @ w + b

    def proba(self, x: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(x)))

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        """Calibrated probability (monotone in ``p``, in [0, 1])."""
        return np.clip(np.interp(np.asarray(p, dtype=np.float64), self.calib_x, self.calib_y), 0.0, 1.0)

    # -- training ----------------------------------------------------------------------------

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, features: Sequence[str], *, c: float = 1.0,
            manifest: dict[str, Any] | None = None) -> LinearReranker:
        """Fit on rows ``x`` (n, features) with 0/1 labels ``y`` (scikit-learn, lbfgs, L2)."""
        from sklearn.linear_model import LogisticRegression

        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        lr = LogisticRegression(C=c, max_iter=5000)
        lr.fit((x - mean) / scale, np.asarray(y, dtype=int))
        return cls(list(features), mean, scale, lr.coef_[0].astype(np.float64), float(lr.intercept_[0]),
                   manifest=dict(manifest or {}))

    def fit_calibration(self, p: np.ndarray, correct: np.ndarray) -> None:
        """Isotonic calibration of probabilities ``p`` against outcomes (predictions the model
        did not train on, e.g. cross-validated)."""
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(np.asarray(p, dtype=np.float64), np.asarray(correct, dtype=np.float64))
        self.calib_x = np.asarray(iso.X_thresholds_, dtype=np.float64)
        self.calib_y = np.asarray(iso.y_thresholds_, dtype=np.float64)

    # -- files -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "features": self.features,
                "mean": [round(float(v), 8) for v in self.mean],
                "scale": [round(float(v), 8) for v in self.scale],
                "coef": [round(float(v), 8) for v in self.coef], "intercept": round(self.intercept, 8),
                "calibration": {"x": [round(float(v), 8) for v in self.calib_x],
                                "y": [round(float(v), 8) for v in self.calib_y]},
                "manifest": self.manifest}

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinearReranker:
        if data.get("format") != FORMAT:
            raise RerankerError(f"unknown re-ranker format {data.get('format')!r} (expected {FORMAT})")
        features = list(data["features"])
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")}
        if any(a.shape != (len(features),) for a in arrays.values()):
            raise RerankerError("re-ranker weights do not match its feature list")
        cal = data.get("calibration") or {"x": [0.0, 1.0], "y": [0.0, 1.0]}
        cx, cy = np.asarray(cal["x"], dtype=np.float64), np.asarray(cal["y"], dtype=np.float64)
        if cx.shape != cy.shape or cx.size < 1 or np.any(np.diff(cx) < 0) or np.any(np.diff(cy) < 0):
            raise RerankerError("re-ranker calibration must be two increasing lists of one length")
        return cls(features, arrays["mean"], arrays["scale"], arrays["coef"], float(data["intercept"]),
                   cx, cy, dict(data.get("manifest") or {}))

    @classmethod
    def load(cls, path: Path) -> LinearReranker:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RerankerError(f"cannot read re-ranker {path}: {exc}") from exc
        return cls.from_dict(data)
