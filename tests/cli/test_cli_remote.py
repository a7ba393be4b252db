"""``talentmatch match text`` asks a running server when TALENTMATCH_URL is set: a real uvicorn
server on loopback, the CLI in process and as a fresh subprocess (which must load no model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import matcher.cli.matching as matching
from matcher.core.settings import PROJECT_ROOT
from tests.api.test_concurrency import live  # noqa: F401  (fixture: a real server)
from tests.cli.test_cli_startup import heavy_in
from tests.conftest import demand, run_cli
from tests.live_server import free_port


@pytest.fixture
def server(live, monkeypatch):  # noqa: F811
    """The live server with three posts, and the CLI pointed at it; the local service is never built."""
    base, headers, svc = live
    svc.add("demand", [demand(title="大数据开发工程师", required_skills=["Python", "Spark"]),
                       demand(title="PLC电气工程师", required_skills=["PLC编程"], city="济南"),
                       demand(title="数据分析师", required_skills=["SQL"], city="青岛")])
    svc.match_text("数据", "demands", 1)  # the index takes the posts in; its BM25 is rebuilt in the background:
    assert svc.indexes.ensure("demand").lexical.wait(60)  # wait, so every query below sees the same index
    key = headers["Authorization"].removeprefix("Bearer ")
    monkeypatch.setenv("TALENTMATCH_URL", base)
    monkeypatch.setenv("TALENTMATCH_API_KEY", key)

    def no_local_service(*_a, **_k):
        raise AssertionError("the CLI built a local service although a server is configured")

    monkeypatch.setattr(matching, "run_service", no_local_service)
    return base, key, svc


def test_match_text_is_answered_by_the_server(server, monkeypatch, capsys):
    _, _, svc = server
    code, out, err = run_cli(monkeypatch, capsys, "match", "text", "大数据 Python 开发", "--top-k", "2",
                             "--format", "json")
    assert code == 0, err
    got = json.loads(out)
    want = svc.match_text("大数据 Python 开发", "demands", 2)
    assert [m["id"] for m in got] == [m.id for m in want]
    assert [m["score"] for m in got] == pytest.approx([m.score for m in want])
    # filters travel to the server
    code, out, err = run_cli(monkeypatch, capsys, "match", "text", "数据", "--city", "青岛", "--format", "json")
    assert code == 0, err
    assert [m["title"].split("｜")[0] for m in json.loads(out)] == ["数据分析师"]


def test_table_output_from_the_server(server, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "match", "text", "PLC 电气", "--top-k", "3")
    assert code == 0, err
    assert "PLC" in out and "检索结果" in out and "匹配度" in out


def test_server_errors_are_chinese_messages_and_a_non_zero_exit(server, monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "match", "text", "数据", "--chain", "不存在的产业链")
    assert code == 2
    assert "服务器返回 422：未知产业链：不存在的产业链" in err
    monkeypatch.setenv("TALENTMATCH_API_KEY", "tm_wrong")
    code, _, err = run_cli(monkeypatch, capsys, "match", "text", "数据")
    assert code == 2
    assert "服务器返回 401" in err
    assert "Traceback" not in err


def test_unreachable_server_and_missing_key(monkeypatch, capsys):
    monkeypatch.setattr(matching, "run_service", lambda *a, **k: pytest.fail("built a local service"))
    monkeypatch.setenv("TALENTMATCH_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("TALENTMATCH_API_KEY", "tm_x")
    code, _, err = run_cli(monkeypatch, capsys, "match", "text", "数据")
    assert code == 1 and "无法连接服务器" in err
    monkeypatch.delenv("TALENTMATCH_API_KEY")
    code, _, err = run_cli(monkeypatch, capsys, "match", "text", "数据")
    assert code == 2 and "TALENTMATCH_API_KEY" in err
    monkeypatch.setenv("TALENTMATCH_API_KEY", "tm_x")
    monkeypatch.setenv("TALENTMATCH_URL", "127.0.0.1:8000")
    code, _, err = run_cli(monkeypatch, capsys, "match", "text", "数据")
    assert code == 2 and "http://" in err


def test_a_fresh_cli_asking_a_server_imports_no_model(server):
    base, key, _ = server
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")},
           "TALENTMATCH_URL": base, "TALENTMATCH_API_KEY": key, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "matcher.cli", "match", "text", "大数据开发",
                           "--format", "json"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)[0]["title"].startswith("大数据开发工程师")
    names = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2}
    assert "httpx" in names  # the parser sees what was imported
    assert not heavy_in(names), f"match text via a server imports {heavy_in(names)}"
