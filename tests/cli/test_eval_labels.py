"""``talentmatch eval`` says when a set is a synthetic sanity check (issue 16)."""

from __future__ import annotations

import json

from tests.conftest import run_cli as run


def test_synthetic_sets_are_labelled(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    rows = [{"query": "焊工", "gold": ["6-18-02-04"]}, {"query": "数据分析师", "gold": ["4-04-05-02"]}]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    for name, flagged in (("synthetic_titles.jsonl", True), ("real_titles.jsonl", False)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        code, out, err = run(monkeypatch, capsys, "eval", str(path), "--task", "occupations")
        assert code == 0, err
        assert ("合成集" in out) is flagged
