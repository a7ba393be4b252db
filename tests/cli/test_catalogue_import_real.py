"""Importing a city catalogue as the real ones are written (issue 16): the region as the city,
chains the catalogue names registered with --create-chains, the same catalogue refused or
replaced whole with --replace."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli as run

CATALOGUE = (
    "序号,企业名称,所属产业链,岗位名称,需求人数,年薪均值（万元）,岗位职责/任职要求\n"
    "1,山东某药业股份有限公司,济宁生物医药产业链,QA专员,2,6.5,\"负责GMP文件审核，本科及以上学历，药学相关专业，3年以上经验\"\n"
    "2,,,QC检验员,3,4.8,熟悉HPLC、GC操作，大专以上学历\n"
    "3,济宁某重工有限公司,济宁高端装备产业链,焊工,10,7,持焊工证，两年以上工作经验\n"
    "4,济宁某软件有限公司,济宁数字经济产业链,Java开发工程师,2,15,精通Java、Spring Boot，5年以上开发经验\n"
    "备注：年薪为税前，单位万元,,,,,,\n"
)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    path = tmp_path / "济宁市2026年急需紧缺人才目录.csv"
    path.write_text(CATALOGUE, encoding="utf-8")
    return path


def _entries():
    from matcher.core.settings import load_settings
    from matcher.storage.store import Store

    store = Store(load_settings().db_url())
    try:
        [summary] = store.list_catalogues()
        return summary, store.get_catalogue(summary["id"]).entries, store.list_chains()
    finally:
        store.close()


def test_unknown_chains_are_refused_once_per_chain_without_create_chains(env, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "import", "catalogue", str(env), "--region", "济宁市", "--year", "2026")
    assert code == 1 and "未知产业链" in err and "--create-chains" in err and "Traceback" not in err


def test_create_chains_region_city_and_same_catalogue(env, monkeypatch, capsys):
    args = ["import", "catalogue", str(env), "--region", "济宁市", "--year", "2026"]
    code, out, err = run(monkeypatch, capsys, *args, "--create-chains")
    assert code == 0, err
    assert "已导入 4 条目录条目" in out and "已新建 3 条产业链" in out
    assert "济宁市2026-1  济宁生物医药产业链" in out and "济宁市2026-3  济宁数字经济产业链" in out
    assert "同上" in err and "第 3 行" in err  # the blank enterprise and chain cells, filled and told
    summary, entries, chains = _entries()
    assert {c.id for c in chains} >= {"济宁市2026-1", "济宁市2026-2", "济宁市2026-3"}
    assert [e.city for e in entries] == ["济宁市"] * 4
    qa, qc, welder, java = entries
    assert qc.enterprise_name == qa.enterprise_name == "山东某药业股份有限公司"
    assert qc.chain_id == qa.chain_id == "济宁市2026-1"
    assert (qc.salary_min, java.salary_min) == (4000, 12500)  # 4.8万元/年 is the lowest pay, not 48,000/月
    assert qa.min_experience_years == 3 and str(qa.education) == "本科"
    assert welder.min_experience_years == 2

    # the same catalogue again: refused, nothing doubled
    code, out, err = run(monkeypatch, capsys, *args, "--create-chains")
    assert code != 0 and "已导入" in err and "--replace" in err
    assert _entries()[0]["entries"] == 4
    # under another name it is still the same catalogue (same entries)
    code, out, err = run(monkeypatch, capsys, *args, "--name", "济宁市目录（复制）")
    assert code != 0 and "--replace" in err
    # a replacement that fails leaves the old catalogue whole
    bad = env.with_name("bad.csv")
    bad.write_text(CATALOGUE.replace(",7,", ",七千,"), encoding="utf-8")
    code, out, err = run(monkeypatch, capsys, "import", "catalogue", str(bad), "--region", "济宁市", "--year",
                         "2026", "--replace")
    assert code == 1 and "第 4 行" in err
    assert _entries()[0]["entries"] == 4
    # replaced whole, in one step
    code, out, err = run(monkeypatch, capsys, *args, "--replace")
    assert code == 0, err
    assert f"已替换原目录（编号 {summary['id']}，4 条）" in out
    new_summary, entries, chains = _entries()  # one catalogue, not two
    assert new_summary["entries"] == 4
    assert len([c for c in chains if c.id.startswith("济宁市2026-")]) == 3  # no chain made twice
