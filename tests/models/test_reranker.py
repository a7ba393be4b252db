"""The generic re-ranker file: fit, save, load without network, refuse what does not fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.errors import ModelFileError
from models.reranker import FORMAT, LinearReranker


@pytest.fixture
def fitted() -> LinearReranker:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.5, size=400) > 0).astype(int)
    m = LinearReranker.fit(x, y, ["a", "b", "c"], manifest={"version": "t"})
    m.fit_calibration(m.proba(x), y)
    return m


def test_fit_learns_the_signal_and_calibration_is_monotone_in_0_1(fitted):
    assert fitted.coef[0] > fitted.coef[1] > abs(fitted.coef[2])
    p = np.linspace(0, 1, 101)
    c = fitted.calibrate(p)
    assert np.all((c >= 0) & (c <= 1)) and np.all(np.diff(c) >= 0)


def test_save_and_load_round_trip(fitted, tmp_path):
    path = tmp_path / "r.json"
    fitted.save(path)
    loaded = LinearReranker.load(path)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    assert np.allclose(loaded.proba(x), fitted.proba(x), atol=1e-5)
    assert loaded.manifest == {"version": "t"} and loaded.features == ["a", "b", "c"]
    # scoring works on (titles, candidates, features) arrays too
    assert loaded.proba(np.zeros((2, 4, 3))).shape == (2, 4)


def test_refuses_other_formats_shapes_and_feature_counts(fitted, tmp_path):
    data = fitted.to_dict()
    with pytest.raises(ModelFileError):
        LinearReranker.from_dict({**data, "format": "pickle"})
    with pytest.raises(ModelFileError):
        LinearReranker.from_dict({**data, "coef": [1.0]})
    with pytest.raises(ModelFileError):
        LinearReranker.from_dict({**data, "calibration": {"x": [0, 1], "y": [1, 0]}})
    with pytest.raises(ModelFileError):
        fitted.proba(np.zeros((2, 4)))
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ModelFileError):
        LinearReranker.load(bad)
    assert data["format"] == FORMAT and json.dumps(data)  # plain JSON, no pickle
