"""The talentmatch CLI: every command on small data, bad input gives a message and a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matcher.cli import demo as cli_demo
from matcher.core.settings import PROJECT_ROOT
from tests.conftest import run_cli as run

DEMO = PROJECT_ROOT / "data" / "demo"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    return tmp_path


def head_jsonl(src: Path, dst: Path, n: int) -> Path:
    lines = src.read_text(encoding="utf-8").splitlines()[:n]
    dst.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


def test_occupations_code_contract(env, monkeypatch, capsys):
    titles = env / "titles.txt"
    titles.write_text("人工智能工程师\n\n數據分析師\n焊工\n", encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "occupations", "code", str(titles), "--top-k", "3",
                         "--format", "jsonl")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["query"] for r in rows] == ["人工智能工程师", "", "數據分析師", "焊工"]
    assert rows[1]["candidates"] == []
    for r in (rows[0], rows[2], rows[3]):
        assert len(r["candidates"]) == 3
        for c in r["candidates"]:
            assert set(c) == {"code", "name", "score", "confidence"} and 0 <= c["score"] <= 1
            assert c["confidence"] is None or 0 <= c["confidence"] <= 1
        scores = [c["score"] for c in r["candidates"]]
        assert scores == sorted(scores, reverse=True)
    assert rows[0]["candidates"][0]["code"] == "2-02-38-01"  # 人工智能工程技术人员


def test_import_then_match_every_way(env, monkeypatch, capsys):
    demands = head_jsonl(DEMO / "demands.jsonl", env / "d.jsonl", 40)
    talents = head_jsonl(DEMO / "talents.jsonl", env / "t.jsonl", 60)
    assert run(monkeypatch, capsys, "import", "demands", str(demands))[0] == 0
    code, out, _ = run(monkeypatch, capsys, "import", "talents", str(talents))
    assert code == 0 and "已导入 60 条人才档案" in out
    code, out, _ = run(monkeypatch, capsys, "match", "talent", "1", "--top-k", "5", "--format", "json")
    assert code == 0
    res = json.loads(out)
    assert 1 <= len(res) <= 5 and all(m["kind"] == "demand" for m in res)
    assert res == sorted(res, key=lambda m: (-m["eligible"], -m["score"], m["id"]))
    code, out, _ = run(monkeypatch, capsys, "match", "demand", "1", "--format", "table", "--include-ineligible")
    assert code == 0 and "需求 1 的推荐人才" in out
    code, out, _ = run(monkeypatch, capsys, "match", "text", "熟悉Python和机器学习", "--side", "demands",
                       "--format", "json")
    assert code == 0 and json.loads(out)
    code, out, _ = run(monkeypatch, capsys, "match", "text", "PLC 电气", "--side", "talents", "--top-k", "2",
                       "--format", "json")
    assert code == 0 and len(json.loads(out)) <= 2
    code, out, _ = run(monkeypatch, capsys, "index", "status")
    assert code == 0 and '"in_step": true' in out


def test_catalogue_import_with_mapping(env, monkeypatch, capsys):
    mapping = DEMO / "catalogue_zibo_2025.mapping.json"
    code, out, err = run(monkeypatch, capsys, "import", "catalogue", str(DEMO / "catalogue_zibo_2025.csv"),
                         "--mapping", str(mapping), "--region", "淄博市", "--year", "2025")
    assert code == 0, err
    assert "已导入 80 条目录条目" in out and "目录编号：1" in out


def test_bad_rows_are_reported_and_nothing_is_written(env, monkeypatch, capsys):
    bad = env / "bad.csv"
    bad.write_text("岗位名称,学历要求,需求人数\n数据工程师,本科,2\n,硕士,1\n算法工程师,火星大学,abc\n", encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "import", "demands", str(bad))
    assert code == 1
    assert "第 3 行" in err and "第 4 行" in err and "Traceback" not in err
    code, out, _ = run(monkeypatch, capsys, "match", "text", "数据", "--format", "json")
    assert json.loads(out) == []  # nothing was stored
    code, out, err = run(monkeypatch, capsys, "import", "demands", str(bad), "--skip-invalid")
    assert code == 0 and "已导入 1 条需求条目" in out and "跳过" in err


@pytest.mark.parametrize("args, needle", [
    (["match", "talent", "999"], "不存在"),
    (["import", "talents", "/nonexistent/file.csv"], "不存在"),
    (["import", "talents", "README.md"], "支持"),
    (["match", "text", "x", "--top-k", "0"], "top-k"),
    (["match", "text", "x", "--side", "nowhere"], "nowhere"),
])
def test_bad_input_exits_non_zero_without_traceback(env, monkeypatch, capsys, args, needle):
    monkeypatch.chdir(PROJECT_ROOT)
    code, out, err = run(monkeypatch, capsys, *args)
    assert code != 0
    assert needle in err + out
    assert "Traceback" not in err + out


def test_undecodable_file(env, monkeypatch, capsys):
    f = env / "latin.csv"
    f.write_bytes(b"\x80\x80\xff\xfe\x81\n\xff\x80")
    code, _, err = run(monkeypatch, capsys, "import", "demands", str(f))
    assert code != 0 and "编码" in err and "Traceback" not in err


def test_real_process_exit_code(tmp_path):
    env = dict(os.environ, TALENTMATCH_DATA_DIR=str(tmp_path), TALENTMATCH_ENCODER="fake")
    proc = subprocess.run([sys.executable, "-m", "matcher.cli", "match", "demand", "42"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "需求条目 42 不存在" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_vector_seed_fills_the_cache(service, tmp_path):
    import numpy as np

    from models.encoders import text_hash

    vec = np.zeros((1, service.encoder.dim), dtype=np.float16)
    vec[0, 0] = 2.0
    h = text_hash("p:某段文本")
    np.savez_compressed(cli_demo.vector_seed_path(tmp_path, service.encoder.name), hashes=np.array([h]), vectors=vec)
    assert cli_demo.seed_vector_cache(service, tmp_path) == 1
    got = service.store.get_many_vectors(service.encoder.name, [h])[h]
    assert got[0] == 1.0 and np.isclose(np.linalg.norm(got), 1.0)
    before = service.cached.encoded
    service.cached.passages(["某段文本"])
    assert service.cached.encoded == before  # served from the seeded cache
    assert cli_demo.seed_vector_cache(service, tmp_path / "nowhere") == 0


def test_occupations_search(env, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "occupations", "search", "人工智能", "--limit", "5")
    assert code == 0 and "2-02-38-01" in out and "人工智能工程技术人员" in out


def test_keys_create_list_revoke_and_audit(env, monkeypatch, capsys):
    from matcher.core.settings import load_settings
    from matcher.storage.store import Store

    code, out, err = run(monkeypatch, capsys, "keys", "create", "--role", "organiser", "--label", "招聘会组")
    assert code == 0 and "之后无法再次查看" in err
    key = out.strip()
    store = Store(load_settings().db_url())
    try:
        who = store.authenticate(key)
        assert who is not None and who.role == "organiser" and who.label == "招聘会组"
    finally:
        store.close()
    code, out, _ = run(monkeypatch, capsys, "keys", "list", "--format", "json")
    [info] = json.loads(out)
    assert code == 0 and info["prefix"] in key and key not in out
    assert run(monkeypatch, capsys, "keys", "revoke", str(info["id"]))[0] == 0
    store = Store(load_settings().db_url())
    try:
        assert store.authenticate(key) is None
    finally:
        store.close()
    code, out, _ = run(monkeypatch, capsys, "audit", "list", "--resource", "api_key", "--format", "json")
    assert code == 0 and [a["action"] for a in json.loads(out)["items"]] == ["revoke", "create"]
    # bad input: a message and exit 2, nothing created
    code, _, err = run(monkeypatch, capsys, "keys", "create", "--role", "enterprise", "--enterprise", "999")
    assert code == 2 and "企业 999 不存在" in err
    code, _, err = run(monkeypatch, capsys, "keys", "create", "--role", "seeker", "--enterprise", "1")
    assert code == 2 and "enterprise" in err
    code, _, err = run(monkeypatch, capsys, "keys", "create", "--role", "root")
    assert code == 2
    code, _, err = run(monkeypatch, capsys, "keys", "revoke", "1")
    assert code == 2 and "已吊销" in err
    code, out, _ = run(monkeypatch, capsys, "keys", "list", "--format", "json")
    assert json.loads(out) == []
