"""``talentmatch outcomes import``: a fair's interview results (面试结果, 是否录用) as outcome
events; every bad row listed at once and nothing stored on error."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from matcher.core.settings import load_settings
from matcher.storage.outcomes_repo import OutcomeRepo
from matcher.storage.store import Store
from matcher.wiring import build_service
from tests.conftest import demand, run_cli, talent


@pytest.fixture
def env(tmp_path, monkeypatch, fake_encoder):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    settings = load_settings()
    svc = build_service(settings, encoder=fake_encoder)
    d = svc.add("demand", [demand(), demand(title="PLC电气工程师", required_skills=["PLC编程"])])
    t = svc.add("talent", [talent(), talent(name="李四", skills=["PLC编程"])])
    svc.close()
    return tmp_path, settings, t, d


def events(settings):
    store = Store(settings.db_url())
    try:
        return OutcomeRepo(store).events(limit=100)
    finally:
        store.close()


def test_a_good_file_records_every_outcome(env, monkeypatch, capsys):
    tmp, settings, (t1, t2), (d1, d2) = env
    f = tmp / "结果.csv"
    f.write_text(f"序号,人才ID,需求ID（必填）,面试结果,是否录用\n1,{t1},{d1},通过,是\n2,{t2},{d1},未到场,\n"
                 f"3,{t1},{d2},已面试,否\n", encoding="utf-8-sig")
    code, out, err = run_cli(monkeypatch, capsys, "outcomes", "import", str(f), "--fair", "4")
    assert code == 0, err
    assert "已导入 3 行面试结果，记录 4 条结果事件" in out
    items, total = events(settings)
    got = sorted((e["talent_id"], e["demand_id"], e["kind"]) for e in items)
    assert got == sorted([(t1, d1, "interviewed"), (t1, d1, "hired"), (t2, d1, "no_show"), (t1, d2, "interviewed")])
    assert all(e["source"] == "fair" and e["detail"]["fair_id"] == 4 and e["features"] for e in items)
    assert {e["detail"]["row"] for e in items} == {2, 3, 4}
    code, out, _ = run_cli(monkeypatch, capsys, "outcomes", "status", "--json")
    assert code == 0 and '"real": 4' in out


def test_every_bad_row_is_listed_and_nothing_is_stored(env, monkeypatch, capsys):
    tmp, settings, (t1, t2), (d1, _) = env
    wb = Workbook()
    ws = wb.active
    ws.append(["招聘会面试结果登记表"])  # a title row above the header
    ws.append(["人才ID", "岗位ID", "面试结果", "是否录用"])
    ws.append([t1, d1, "通过", "是"])  # good, but the file is not
    ws.append([t2, d1, "还行", "是"])
    ws.append(["abc", d1, "通过", "否"])
    ws.append([t1, 99999, "已面试", ""])
    ws.append([t2, d1, "未到场", "是"])
    ws.append([t2, d1, "", "也许"])
    path = tmp / "面试结果.xlsx"
    wb.save(path)
    code, out, err = run_cli(monkeypatch, capsys, "outcomes", "import", str(path))
    assert code == 1
    assert "5 处错误" in err and "未导入任何记录" in err
    for expected in ("第 4 行，字段 面试结果", "第 5 行，字段 人才ID", "第 6 行，字段 岗位ID：需求条目不存在",
                     "第 7 行，字段 是否录用：面试结果为未到场",
                     "第 8 行，字段 是否录用：应为“是”或“否”"):
        assert expected in err, err
    assert events(settings)[1] == 0
    # unknown ids are found only after the rows parse; still all at once, still nothing stored
    path2 = tmp / "ids.csv"
    path2.write_text(f"人才ID,需求ID,是否录用\n{t1},{d1},是\n99998,{d1},是\n{t1},99999,否\n", encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "outcomes", "import", str(path2))
    assert code == 1 and "第 3 行，字段 人才ID：人才档案不存在" in err and "第 4 行，字段 需求ID：需求条目不存在" in err
    assert events(settings)[1] == 0


def test_missing_columns_and_formats_are_refused(env, monkeypatch, capsys):
    tmp = env[0]
    f = tmp / "x.csv"
    f.write_text("姓名,需求ID\n张三,1\n", encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "outcomes", "import", str(f))
    assert code == 2 and "缺少必需的列：人才ID、面试结果或是否录用" in err
    g = tmp / "x.txt"
    g.write_text("人才ID,需求ID\n", encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "outcomes", "import", str(g))
    assert code == 2 and "不支持的文件格式" in err
