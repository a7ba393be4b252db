"""``talentmatch model train | evaluate | promote | rollback`` on stored outcomes (simulated ones
flagged synthetic), and the service's refusal of a model whose features are not its own."""

from __future__ import annotations

import json
import shutil

import pytest

from matcher.core.settings import load_settings
from matcher.wiring import build_service
from tests.conftest import run_cli


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    return tmp_path


def cli_json(monkeypatch, capsys, *args):
    code, out, err = run_cli(monkeypatch, capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_train_evaluate_promote_and_roll_back(env, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "model", "train")
    assert code == 2 and "没有可用于训练的展示记录" in err  # nothing stored yet
    code, out, err = run_cli(monkeypatch, capsys, "outcomes", "simulate", "--seekers", "600")
    assert code == 0, err
    assert "模拟数据" in out and "synthetic" in out
    counts = cli_json(monkeypatch, capsys, "outcomes", "status")
    assert counts["events"]["real"] == 0 and counts["events"]["synthetic"] > 5000
    assert counts["by_kind"]["hired"]["synthetic"] > 0

    info = cli_json(monkeypatch, capsys, "model", "train")
    model = info["model"]
    assert info["train_rows"] > 0 and info["heldout_rows"] > 0 and info["synthetic_impressions"] == info["impressions"]
    assert 0.5 < info["position_bias_eta"] < 1.1  # the simulator looks at position p with p^-0.8
    report = cli_json(monkeypatch, capsys, "model", "evaluate", model, "--resamples", "300")
    m = report["metrics"]
    assert report["baseline"] == "weighted" and report["gains"] == "inverse-propensity"
    for name in (model, "weighted"):
        for metric in ("ndcg_at_10", "map", "auc"):
            lo, hi = m["rankers"][name][metric]["ci95"]
            assert lo <= m["rankers"][name][metric]["mean"] <= hi
    delta = m["vs_baseline"][model]["ndcg_at_10"]
    assert delta["ci95"][0] > 0, delta  # the simulator's seekers want what the hand weights miss
    assert report["reliability"]["rows"] == m["rows"]
    # the held-out window starts at the training cut-off: after the training window
    assert report["heldout_window"]["first_day"] >= info["cutoff_day"]

    code, out, err = run_cli(monkeypatch, capsys, "model", "promote", model, "--resamples", "300")
    assert code == 0, err
    assert f"模型 {model} 已上线" in out and "nDCG@10" in out and "AUC" in out
    status = cli_json(monkeypatch, capsys, "model", "status")
    assert status["current"] == status["active"] == model and status["calibrated"] and not status["problem"]
    # the same training again is no better than the model now current: refused
    again = cli_json(monkeypatch, capsys, "model", "train")["model"]
    code, _, err = run_cli(monkeypatch, capsys, "model", "promote", again, "--resamples", "300")
    assert code == 2 and "拒绝上线" in err
    assert cli_json(monkeypatch, capsys, "model", "status")["current"] == model
    code, out, _ = run_cli(monkeypatch, capsys, "model", "rollback")
    assert code == 0 and "weighted" in out
    code, _, err = run_cli(monkeypatch, capsys, "model", "rollback")
    assert code == 2 and "回滚" in err
    code, _, err = run_cli(monkeypatch, capsys, "model", "evaluate", "no-such-model")
    assert code == 2 and "不存在" in err


def test_the_service_refuses_a_model_whose_features_are_not_its_own(env, monkeypatch, capsys, fake_encoder):
    assert run_cli(monkeypatch, capsys, "outcomes", "simulate", "--seekers", "300")[0] == 0
    model = cli_json(monkeypatch, capsys, "model", "train")["model"]
    root = env / "var" / "models"
    odd = "logistic-other-features"
    shutil.copytree(root / "models" / model, root / "models" / odd)
    path = root / "models" / odd / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["feature_names"] = [n for n in manifest["feature_names"] if n != "experience_years"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "model", "promote", odd)
    assert code == 2 and "特征列表" in err
    # a pointer changed by hand to that model: the service ranks with weighted and says why
    registry = json.loads((root / "registry.json").read_text(encoding="utf-8"))
    (root / "registry.json").write_text(json.dumps({**registry, "current": odd, "promoted": [odd]}), encoding="utf-8")
    svc = build_service(load_settings(), encoder=fake_encoder)
    try:
        assert svc.active_model() == ("weighted", None)
        assert "特征列表" in svc.model_problem and "weighted" in svc.model_problem
    finally:
        svc.close()
