"""What a user of the command line reads: help and usage errors in Chinese, no internal markers,
the gap report written to a file whose path is printed, steps that say they are running, a
catalogue of an unknown region refused."""

from __future__ import annotations

import re

import pytest

from matcher.core.settings import PROJECT_ROOT
from tests.conftest import run_cli as run

DEMO = PROJECT_ROOT / "data" / "demo"
ENGLISH = re.compile(r"\b(?:Usage|Options|Commands|Error|Missing|Invalid|Show this message|Try)\b")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


@pytest.mark.parametrize("args", [["--help"], ["report", "gap", "--help"], ["fair", "run", "--help"],
                                  ["import", "catalogue", "--help"]])
def test_help_is_chinese(env, monkeypatch, capsys, args):
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 0, err
    assert "用法：" in out and "显示本帮助并退出。" in out
    assert not ENGLISH.findall(out), ENGLISH.findall(out)


@pytest.mark.parametrize(("args", "message"), [
    (["report", "gap"], "错误：缺少选项 '--region'"),
    (["match", "talent", "abc"], "的取值无效：应为整数"),
    (["report", "gap", "--region", "淄博市", "--year", "1999"], "不能小于 2000"),
    (["fair", "run", "1", "--mode", "x"], "不是可选值"),
    (["nosuch"], "错误：没有命令 'nosuch'"),
    (["keys", "create", "--bogus"], "错误：没有选项 --bogus"),
])
def test_usage_errors_are_chinese_with_exit_2(env, monkeypatch, capsys, args, message):
    code, out, err = run(monkeypatch, capsys, *args)
    assert code == 2
    assert message in err
    assert "用法：" in err and "查看帮助。" in err
    assert not ENGLISH.findall(err), err


def test_errors_show_reasons_not_internal_markers(env, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "report", "gap", "--region", "火星市", "--year", "2025")
    assert code == 2 and "未知地区：火星市" in err
    assert "{'" not in err and "field" not in err


def test_a_catalogue_of_an_unknown_region_is_refused_and_nothing_stored(env, monkeypatch, capsys):
    args = ["import", "catalogue", str(DEMO / "catalogue_zibo_2025.csv"), "--mapping",
            str(DEMO / "catalogue_zibo_2025.mapping.json"), "--year", "2025"]
    code, out, err = run(monkeypatch, capsys, *args, "--region", "火星市")
    assert code == 2 and "未知地区：火星市" in err and "{'" not in err
    code, out, err = run(monkeypatch, capsys, "catalogue", "list")
    assert "火星市" not in out


def test_gap_report_is_written_to_a_file_by_default(env, monkeypatch, capsys):
    args = ["import", "catalogue", str(DEMO / "catalogue_zibo_2025.csv"), "--mapping",
            str(DEMO / "catalogue_zibo_2025.mapping.json"), "--year", "2025"]
    code, out, err = run(monkeypatch, capsys, *args, "--region", "淄博")
    assert code == 0, err
    assert "编码" in err and "完成（用时" in err  # a step says it runs, and when it ends
    monkeypatch.chdir(env)
    code, out, err = run(monkeypatch, capsys, "report", "gap", "--region", "淄博市", "--year", "2025")
    assert code == 0, err
    written = env / "供需报告-淄博市-2025.html"
    assert written.exists() and "适配度" in written.read_text(encoding="utf-8")
    assert f"报告已写入：{written}" in out
    assert "<html" not in out and len(out) < 2000  # a path and a summary, not the page
    assert "正在计算 淄博市 2025 年供需缺口" in err and "完成（用时" in err
    code, out, err = run(monkeypatch, capsys, "report", "gap", "--region", "淄博市", "--year", "2025",
                         "--format", "json", "--out", str(env / "r.json"))
    assert code == 0 and (env / "r.json").exists()


def test_demo_load_shows_progress_and_counts_in_chinese(env, monkeypatch, capsys):
    demo = env / "demo"
    demo.mkdir()
    for name, n in (("enterprises.jsonl", 5), ("demands.jsonl", 12), ("talents.jsonl", 15)):
        lines = (DEMO / name).read_text(encoding="utf-8").splitlines()[:n]
        (demo / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "demo", "--no-serve", "--demo-dir", str(demo))
    assert code == 0, err
    # every step says it started and how long it took: nothing is silent for long
    for step in ("启动匹配服务", "编码demands.jsonl", "编码talents.jsonl", "建立索引", "准备职业编码器"):
        assert re.search(rf"{step}.*……", err), step
        assert re.search(rf"{step}.*：完成（用时 \d+\.\d 秒）", err), step
    assert "需求条目 12" in out and "人才档案 15" in out and "企业 5" in out
    assert not re.search(r"\b(?:demands|talents|enterprises|chains|cached_vectors)\b", out)


def test_match_tables_show_scores_as_percentages(env, monkeypatch, capsys):
    for kind, name in (("demands", "demands.jsonl"), ("talents", "talents.jsonl")):
        lines = (DEMO / name).read_text(encoding="utf-8").splitlines()[:20]
        (env / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert run(monkeypatch, capsys, "import", kind, str(env / name))[0] == 0
    code, out, err = run(monkeypatch, capsys, "match", "talent", "1", "--top-k", "3", "--format", "table")
    assert code == 0, err
    assert "匹配度" in out and re.search(r"\b\d{1,3}%", out)
    assert not re.search(r"\b0\.\d{3}\b", out)  # never 0.482 here and 48% on the pages
