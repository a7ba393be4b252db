"""A small model registry on disk: train, evaluate, promote, roll back. Pure functions over a
directory and arrays; nothing here knows the service.

Layout::

    ROOT/registry.json              {"current": id | null, "promoted": [ids, oldest first], "log": [...]}
    ROOT/models/ID/manifest.json    see models.rerankers.artifacts
    ROOT/models/ID/model.joblib
    ROOT/models/ID/evaluation.json  the last evaluation on a held-out window

``current`` null means the hand-set ``weighted`` formula. A model is promoted only if, on a
held-out window later than its training window, its nDCG@10 minus the current ranker's (the
current promoted model, else ``weighted``) has a paired bootstrap 95% interval above 0. The
nDCG uses inverse-propensity gains when the held-out table carries ``meta["propensity"]``
(``models.rerankers.evaluation.debiased``): logged labels alone favour the ranking that was
served while they were logged, which is the current one.
``rollback`` makes the previously promoted model current again (``weighted`` after the first).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from models.errors import ArtifactMismatch, PromotionRefused, RegistryError
from models.rerankers.artifacts import _write_json, load_model, read_manifest, save_model
from models.rerankers.base import Reranker
from models.rerankers.data import PairTable
from models.rerankers.evaluation import calibration_report, compare_rankers, debiased
from models.rerankers.learned import DEFAULT_FEATURES, POSITION, LearnedReranker, fit_reranker
from models.rerankers.metrics import K, auc, reliability
from models.rerankers.weighted import WeightedReranker

REGISTRY_FILE = "registry.json"
WEIGHTED = "weighted"
METRIC = f"ndcg_at_{K}"
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def read_registry(root: Path) -> dict[str, Any]:
    path = Path(root) / REGISTRY_FILE
    if not path.exists():
        return {"current": None, "promoted": [], "log": []}
    return json.loads(path.read_text(encoding="utf-8"))


def _write_registry(root: Path, reg: dict[str, Any]) -> None:
    Path(root).mkdir(parents=True, exist_ok=True)
    _write_json(Path(root) / REGISTRY_FILE, reg)


def _log(root: Path, **entry: Any) -> dict[str, Any]:
    reg = read_registry(root)
    reg["log"].append({"at": _now(), **entry})
    _write_registry(root, reg)
    return reg


def model_dir(root: Path, model_id: str) -> Path:
    if not _ID_RE.match(model_id):
        raise RegistryError(f"模型编号格式错误：{model_id!r}")
    path = Path(root) / "models" / model_id
    if not (path / "manifest.json").exists():
        raise RegistryError(f"模型不存在：{model_id}")
    return path


def list_models(root: Path) -> list[dict[str, Any]]:
    """Every saved model's manifest (with its id), oldest first."""
    base = Path(root) / "models"
    out = []
    for d in sorted(base.iterdir()) if base.exists() else []:
        if (d / "manifest.json").exists():
            out.append({"id": d.name, **read_manifest(d)})
    return sorted(out, key=lambda m: (m.get("created_at", ""), m["id"]))


def current(root: Path) -> str | None:
    return read_registry(root)["current"]


def train(root: Path, table: PairTable, *, kind: str = "hgb", feature_names: Sequence[str] = DEFAULT_FEATURES,
          seed: int = 0, calibration: str = "isotonic", params: dict[str, Any] | None = None,
          labels_until: float | None = None, note: str | None = None) -> str:
    """Fit a model on ``table`` (one training window, labelled with the events known at
    ``labels_until``, recorded in the manifest), save it unpromoted and return its id. The
    manifest's metrics are those of the calibration slice."""
    model = fit_reranker(table, feature_names, kind=kind, calibration=calibration, seed=seed,  # type: ignore[arg-type]
                         params=params)
    created = dt.datetime.now(dt.UTC)
    base = f"{model.kind}-{created:%Y%m%dT%H%M%SZ}"
    model_id, n = base, 1
    while (Path(root) / "models" / model_id).exists():
        n += 1
        model_id = f"{base}-{n}"
    window = {**table.window(), **({"labels_until": labels_until} if labels_until is not None else {}),
              **({"note": note} if note else {})}
    save_model(model, Path(root) / "models" / model_id, window=window,
               metrics=_calibration_metrics(model, table), extra={"id": model_id})
    _log(root, action="train", model=model_id, rows=len(table))
    return model_id


def _calibration_metrics(model: LearnedReranker, table: PairTable) -> dict[str, Any]:
    from models.rerankers.learned import split_by_time

    _, later = split_by_time(table, 0.2)
    cal = table.subset(later)
    X = cal.matrix(model.feature_names)
    p = model.predict_proba(X, cal.columns[POSITION])
    rel = reliability(p, cal.positive)
    # the model never saw this slice, the calibration map did: its ECE and Brier are in-sample
    return {"calibration_slice": {"rows": len(cal), "auc": auc(p, cal.positive), "ece_in_sample": rel["ece"],
                                  "brier_in_sample": rel["brier"], "base_rate": rel["base_rate"]}}


def _load_for(root: Path, model_id: str, table: PairTable) -> Reranker:
    path = model_dir(root, model_id)
    names = read_manifest(path).get("feature_names") or []
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise ArtifactMismatch(f"数据缺少模型 {model_id} 需要的特征列：{', '.join(missing)}")
    return load_model(path, names)


def load_current(root: Path, expected_features: Sequence[str], weights: Mapping[str, float]) -> Reranker:
    """The ranker to serve: the current promoted model (checked against ``expected_features``),
    else ``weighted`` with ``weights``."""
    model_id = current(root)
    if model_id is None:
        return WeightedReranker(weights)
    return load_model(model_dir(root, model_id), expected_features)


def evaluate(root: Path, model_id: str, heldout: PairTable, *, weights: Mapping[str, float],
             resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Compare a saved model with the current ranker on a held-out window that starts after its
    training window; the report is also written to the model's ``evaluation.json``."""
    path = model_dir(root, model_id)
    manifest = read_manifest(path)
    last_train = manifest.get("training_window", {}).get("last_day")
    if not len(heldout):
        raise RegistryError("留出窗口没有数据")
    if last_train is not None and float(heldout.day.min()) <= float(last_train):
        raise RegistryError(f"留出窗口（自第 {heldout.day.min():g} 天）须晚于模型的训练窗口（至第 {last_train:g} 天）")
    baseline_id = current(root)
    if baseline_id == model_id:
        raise RegistryError(f"模型 {model_id} 已是当前模型")
    rankers: dict[str, Reranker] = {model_id: _load_for(root, model_id, heldout)}
    baseline = baseline_id or WEIGHTED
    rankers[baseline] = _load_for(root, baseline_id, heldout) if baseline_id else WeightedReranker(weights)
    gains, kind = debiased(heldout)
    report: dict[str, Any] = {
        "model": model_id, "baseline": baseline, "evaluated_at": _now(), "heldout_window": heldout.window(),
        "gains": kind,
        "metrics": compare_rankers(rankers, heldout, baseline=baseline, resamples=resamples, seed=seed, gains=gains,
                                   normalise="window" if kind == "inverse-propensity" else "query"),
    }
    if rankers[model_id].calibrated and POSITION in heldout.columns:
        report["reliability"] = calibration_report(rankers[model_id], heldout)
    _write_json(path / "evaluation.json", report)
    _log(root, action="evaluate", model=model_id, baseline=baseline,
         delta=report["metrics"]["vs_baseline"][model_id][METRIC])
    return report


def promote(root: Path, model_id: str, heldout: PairTable, *, weights: Mapping[str, float],
            resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Make ``model_id`` current if it beats the current ranker on ``heldout`` (nDCG@10 paired
    bootstrap 95% interval above 0); else raise PromotionRefused. Returns the evaluation."""
    report = evaluate(root, model_id, heldout, weights=weights, resamples=resamples, seed=seed)
    delta = report["metrics"]["vs_baseline"][model_id][METRIC]
    lo, hi = delta["ci95"]
    if not (lo > 0):
        _log(root, action="promote-refused", model=model_id, baseline=report["baseline"], delta=delta)
        raise PromotionRefused(
            f"拒绝上线模型 {model_id}：留出窗口上 nDCG@10 相对当前排序（{report['baseline']}）的差值为 "
            f"{delta['mean']:+.4f}，95% 区间 [{lo:+.4f}, {hi:+.4f}] 未完全高于 0")
    reg = read_registry(root)
    reg["promoted"].append(model_id)
    reg["current"] = model_id
    reg["log"].append({"at": _now(), "action": "promote", "model": model_id, "baseline": report["baseline"],
                       "delta": delta})
    _write_registry(root, reg)
    return report


def rollback(root: Path) -> str | None:
    """Make the previously promoted model current again; returns it (None: ``weighted``)."""
    reg = read_registry(root)
    if not reg["promoted"]:
        raise RegistryError("没有已上线的模型，无法回滚")
    dropped = reg["promoted"].pop()
    reg["current"] = reg["promoted"][-1] if reg["promoted"] else None
    reg["log"].append({"at": _now(), "action": "rollback", "model": dropped, "now": reg["current"]})
    _write_registry(root, reg)
    return reg["current"]

