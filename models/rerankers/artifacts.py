"""A trained re-ranker on disk: ``model.joblib`` (scikit-learn objects and arrays only) beside
``manifest.json`` (kind, feature names and order, training window, metrics, library versions,
creation time, the SHA-256 of the model file).

Loading checks the manifest before it unpickles anything and refuses, with a message saying
what differs (``ArtifactMismatch``):

- a feature list other than the caller's (names or order): the columns would be misread;
- other library versions: numpy, scipy and joblib of another major version, scikit-learn of
  another major.minor version (scikit-learn supports its pickles only on the version that wrote
  them; a minor release may change an estimator's internals);
- a model file whose hash is not the manifest's, an unknown format or kind.

Pickles run code when loaded: load only models this deployment trained (the registry's own
directory); the hash check catches a changed or truncated file, not a forged pair of files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models.errors import ArtifactMismatch
from models.rerankers.base import Reranker
from models.rerankers.learned import LearnedReranker
from models.rerankers.weighted import WeightedReranker

FORMAT = 1
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
LIBRARIES = ("scikit-learn", "numpy", "scipy", "joblib")


def library_versions() -> dict[str, str]:
    import joblib
    import numpy
    import scipy
    import sklearn

    return {"scikit-learn": sklearn.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
            "joblib": joblib.__version__, "python": platform.python_version()}


def _key(lib: str, version: str) -> tuple[str, ...]:
    parts = version.split(".")
    return tuple(parts[:2]) if lib == "scikit-learn" else tuple(parts[:1])


def version_problems(saved: dict[str, str], installed: dict[str, str] | None = None) -> list[str]:
    """What keeps a model saved with ``saved`` library versions from loading here."""
    installed = installed or library_versions()
    problems = []
    for lib in LIBRARIES:
        have, want = installed.get(lib), saved.get(lib)
        if want is None:
            problems.append(f"清单未记录 {lib} 版本")
        elif have is None or _key(lib, have) != _key(lib, want):
            level = "主版本号与次版本号" if lib == "scikit-learn" else "主版本号"
            problems.append(f"{lib} 版本不兼容：模型用 {want} 训练，当前为 {have}（须{level}相同）")
    return problems


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def finite(obj: Any) -> Any:
    """A JSON-safe copy: NaN and infinities become null, numpy scalars Python numbers."""
    import numpy as np

    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _write_json(path: Path, data: Any) -> None:
    """Written whole or not at all (a temporary file renamed over the old one)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(finite(data), ensure_ascii=False, indent=2, allow_nan=False), encoding="utf-8")
    os.replace(tmp, path)


def save_model(model: Reranker, directory: Path, *, window: dict[str, Any] | None = None,
               metrics: dict[str, Any] | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the model and its manifest into ``directory`` (created); returns the manifest."""
    import joblib

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "format": FORMAT, "kind": model.kind, "feature_names": list(model.feature_names),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "libraries": library_versions(), "training_window": window or {}, "metrics": metrics or {},
    }
    if isinstance(model, LearnedReranker):
        manifest.update(model.manifest())
        manifest["fit"] = model.fit_info
        path = directory / MODEL_FILE
        joblib.dump(model.state(), path, compress=3)
        manifest["model_file"] = MODEL_FILE
        manifest["sha256"] = _sha256(path)
    elif isinstance(model, WeightedReranker):
        manifest["weights"] = model.weights
    else:
        raise ArtifactMismatch(f"无法保存 {model.kind} 类型的排序器")
    manifest.update(extra or {})
    _write_json(directory / MANIFEST_FILE, manifest)
    return manifest


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactMismatch(f"找不到模型清单：{path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactMismatch(f"模型清单无法解析：{path}（{exc}）") from None
    if not isinstance(manifest, dict):
        raise ArtifactMismatch(f"模型清单格式错误：{path}")
    return manifest


def check_manifest(manifest: dict[str, Any], expected_features: Sequence[str]) -> None:
    """Raise ArtifactMismatch if a model with this manifest cannot serve a caller that supplies
    ``expected_features`` (in that order) with the libraries installed here."""
    if manifest.get("format") != FORMAT:
        raise ArtifactMismatch(f"不支持的模型格式 {manifest.get('format')!r}（应为 {FORMAT}）")
    if manifest.get("kind") not in ("hgb", "logistic", "weighted"):
        raise ArtifactMismatch(f"未知的模型类型 {manifest.get('kind')!r}")
    saved = list(manifest.get("feature_names") or [])
    expected = list(expected_features)
    if saved != expected:
        only_saved = [f for f in saved if f not in expected]
        only_expected = [f for f in expected if f not in saved]
        detail = []
        if only_saved:
            detail.append(f"模型多出：{', '.join(only_saved)}")
        if only_expected:
            detail.append(f"模型缺少：{', '.join(only_expected)}")
        if not detail:
            detail.append("特征顺序不同")
        raise ArtifactMismatch(f"模型的特征列表与调用方不一致（{'；'.join(detail)}），拒绝加载")
    if manifest["kind"] != "weighted":
        problems = version_problems(manifest.get("libraries") or {})
        if problems:
            raise ArtifactMismatch("拒绝加载模型：" + "；".join(problems))


def load_model(directory: Path, expected_features: Sequence[str]) -> Reranker:
    """The re-ranker saved in ``directory``, after the checks above."""
    import joblib

    directory = Path(directory)
    manifest = read_manifest(directory)
    check_manifest(manifest, expected_features)
    if manifest["kind"] == "weighted":
        return WeightedReranker(manifest["weights"])
    path = directory / str(manifest.get("model_file", MODEL_FILE))
    if path.parent != directory or not path.is_file():
        raise ArtifactMismatch(f"找不到模型文件：{path}")
    if _sha256(path) != manifest.get("sha256"):
        raise ArtifactMismatch(f"模型文件与清单记录的 SHA-256 不符，拒绝加载：{path}")
    state = joblib.load(path)
    model = LearnedReranker.from_state(manifest, state)
    model.fit_info = manifest.get("fit", {})
    return model
