"""Fair files: import (XLSX, folders of CSV/JSONL, mappings, row-level rejection), export, CLI."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

import matcher.cli.main as cli
from matcher.core.errors import ImportRejected, InvalidInput
from matcher.fair.engine import FairRunOptions, FairRunResult, get_fair, get_run, run_fair
from matcher.fair.files import (
    export_result,
    import_fair_file,
    load_fair_mapping,
    read_fair,
    template_workbook,
    write_result,
)
from tests.conftest import demand, talent

DATA = Path(__file__).parents[1] / "data" / "fair"


def workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def good_sheets(demand_id: int, talent_id: int) -> dict[str, list[list[object]]]:
    return {
        "说明": [["填写说明"], ["本表不导入"]],
        "活动": [["项目", "值"], ["活动名称", "淄博市数字人才对接活动"], ["日期", "2026-06-18"],
                 ["开始时间", "13:30"], ["每场时长（分钟）", 30], ["每展位时段数", 3], ["每岗位面试名额", 2]],
        "岗位": [
            ["需求ID", "编号", "企业名称", "岗位名称", "学历要求", "技能", "面试名额", "展位"],
            [demand_id, None, None, None, None, None, 1, "C01"],  # a stored post, by id
            [None, "N1", "淄博新材料有限公司", "工艺工程师", "本科", "化工工艺、DCS", None, None],
            [None, "N2", "淄博新材料有限公司", "安全工程师", "大专", "安全管理", 3, None],
        ],
        "求职者": [
            ["人才ID", "编号", "姓名", "学历", "毕业院校", "是否应届", "技能", "面试上限"],
            [talent_id, None, None, None, None, None, None, 2],
            [None, "T1", "吴一", "本科", "青岛科技大学", "是", "化工工艺、DCS", None],
            [None, "T2", "郑二", "大专", "淄博职业学院", "否", "安全管理、化工工艺", 1],
        ],
        "意向": [["求职者", "岗位", "企业", "类型", "顺序"],
                 ["吴一", "工艺工程师", None, "志愿", 1],
                 ["T2", None, "淄博新材料有限公司", "排除", None]],
        "时段": [["展位", "开始时间", "结束时间"], ["C01", "09:00", "09:20"], ["C01", "09:20", "09:40"]],
    }


def test_xlsx_fair_with_every_sheet(service, tmp_path: Path) -> None:
    [d] = service.add("demand", [demand(external_id="old-d")])
    [t] = service.add("talent", [talent(external_id="old-t", name="旧人才")])
    path = workbook(tmp_path / "fair.xlsx", good_sheets(d, t))
    detail = import_fair_file(service, path)
    assert detail.name == "淄博市数字人才对接活动"
    assert str(detail.held_on) == "2026-06-18"
    assert (detail.start_time, detail.slot_minutes, detail.slots_per_booth) == ("13:30", 30, 3)
    assert detail.created == {"new_posts": 2, "reused_posts": 1, "new_seekers": 2, "reused_seekers": 1}
    assert [(p.title, p.capacity, p.booth) for p in detail.posts] == [
        ("大数据开发工程师", 1, "C01"), ("工艺工程师", 2, "淄博新材料有限公司"), ("安全工程师", 3, "淄博新材料有限公司")]
    assert [(s.name, s.limit) for s in detail.seekers] == [("旧人才", 2), ("吴一", 3), ("郑二", 1)]
    tids = {s.name: s.talent_id for s in detail.seekers}
    dids = {p.title: p.demand_id for p in detail.posts}
    assert sorted((w.kind, w.talent_id, w.demand_id, w.rank) for w in detail.wishes) == sorted([
        ("exclude", tids["郑二"], dids["安全工程师"], None), ("exclude", tids["郑二"], dids["工艺工程师"], None),
        ("seeker", tids["吴一"], dids["工艺工程师"], 1)])
    # C01 has its listed slots; the other booth gets the default grid: 3 slots of 30 min from 13:30
    assert [(s.booth, s.start, s.end) for s in detail.slots] == [
        ("C01", "09:00", "09:20"), ("C01", "09:20", "09:40"),
        ("淄博新材料有限公司", "13:30", "14:00"), ("淄博新材料有限公司", "14:00", "14:30"),
        ("淄博新材料有限公司", "14:30", "15:00")]
    assert detail.warnings == ["展位“淄博新材料有限公司”各岗位面试名额合计 5，但只有 3 个时段，最多 2 场面试无法排期",
                               "未使用的工作表或文件：说明"]
    assert service.store.get("talent", tids["吴一"]).school == "青岛科技大学"


def test_folder_of_csv_and_jsonl(service) -> None:
    detail = import_fair_file(service, DATA / "folder")
    assert detail.name == "2026年淄博市高校人才直通车（测试）"
    assert detail.venue == "山东理工大学体育馆"
    assert [(p.title, p.capacity, p.booth) for p in detail.posts] == [
        ("大数据开发工程师", 2, "A01"), ("数据分析师", 2, "A01"), ("电气工程师", 1, "淄博电气设备有限公司")]
    assert [(s.name, s.limit) for s in detail.seekers] == [("赵一", 3), ("钱二", 2), ("孙三", 1), ("李四", 3)]
    kinds = sorted((w.kind, w.rank) for w in detail.wishes)
    assert kinds == [("exclude", None), ("must_see", None), ("seeker", 1), ("seeker", 2)]
    assert {b.booth: b.slots for b in detail.booths} == {"A01": 4, "淄博电气设备有限公司": 1}
    assert "未使用的工作表或文件：说明.csv" in detail.warnings
    res = run_fair(service, detail.id, FairRunOptions(mode="stable", min_score=0.0))
    assert res.report.blocking_pairs == 0
    sun = next(a for a in res.assignments if a.seeker_name == "孙三")
    assert (sun.post_title, sun.must_see, sun.start, sun.end) == ("电气工程师", True, "09:00", "09:30")


def test_mapping_file(service) -> None:
    mapping = load_fair_mapping(DATA / "mapped" / "mapping.json")
    detail = import_fair_file(service, files={"posts": DATA / "mapped" / "posts.csv",
                                              "seekers": DATA / "mapped" / "seekers.jsonl"},
                              mapping=mapping, name="映射测试")
    assert detail.name == "映射测试"
    assert [(p.title, p.capacity, p.booth) for p in detail.posts] == [("大数据开发工程师", 3, "B02"), ("数据分析师", 1, "B02")]
    assert [(s.name, s.limit) for s in detail.seekers] == [("王五", 2), ("马六", 1)]
    entry = service.store.get("demand", detail.posts[0].demand_id)
    assert (entry.external_id, entry.city, entry.required_skills) == ("M1", "淄博市", ["Python", "Spark"])
    assert service.store.get("talent", detail.seekers[1].talent_id).fresh_graduate is True


def test_bad_mapping_targets(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps({"wishes": {"columns": {"人": "who"}}}), encoding="utf-8")
    with pytest.raises(InvalidInput, match="未知的目标字段：who"):
        load_fair_mapping(bad)
    bad.write_text(json.dumps({"posts": {"columns": {"岗位": "titel"}}}), encoding="utf-8")
    with pytest.raises(InvalidInput, match="titel"):
        load_fair_mapping(bad)
    bad.write_text(json.dumps({"booths": {}}), encoding="utf-8")
    with pytest.raises(InvalidInput, match="顶层键"):
        load_fair_mapping(bad)


def _counts(service) -> tuple[int, ...]:
    from sqlalchemy import func, select

    from matcher.storage.tables import EnterpriseRow, FairPostRow, FairRow

    with service.store.session() as s:
        extra = tuple(s.scalar(select(func.count()).select_from(t)) for t in (FairRow, FairPostRow, EnterpriseRow))
    return (service.store.count("demand"), service.store.count("talent"), *extra)


def test_malformed_fair_file_is_rejected_with_row_reasons_and_nothing_stored(service, tmp_path: Path) -> None:
    [d] = service.add("demand", [demand(external_id="old-d")])
    [t] = service.add("talent", [talent(external_id="old-t")])
    sheets = good_sheets(d, t)
    sheets["岗位"][0].append("联系人微信")  # a column nobody maps
    sheets["岗位"][2][4] = "幼儿园"  # 学历要求
    sheets["岗位"][3][6] = "很多"  # 面试名额
    sheets["岗位"].append([None, None, "淄博新材料有限公司", None, "本科", None, 2, None])  # no title
    sheets["求职者"][2][5] = "也许"  # 是否应届
    sheets["求职者"].append([9999, None, None, None, None, None, None, None])  # no such talent
    sheets["意向"].append(["查无此人", "工艺工程师", None, "喜欢", None])
    sheets["时段"].append(["C01", "25:00", None])
    sheets["活动"].append(["每场时长（分钟）", 999])
    path = workbook(tmp_path / "bad.xlsx", sheets)
    before = _counts(service)
    with pytest.raises(ImportRejected) as exc:
        import_fair_file(service, path)
    got = [(e.sheet, e.row, e.field) for e in exc.value.errors]
    assert got == [
        ("岗位", 1, "表头"),
        ("岗位", 3, "学历要求"),
        ("岗位", 4, "面试名额"),
        ("岗位", 5, "岗位名称"),
        ("求职者", 3, "是否应届"),
        ("求职者", 5, "人才ID"),  # a reference of a row that parsed: listed in the same upload
        ("意向", 4, "类型"),
        ("时段", 4, "开始时间"),
        ("活动", 8, "每场时长"),
    ]
    reasons = {(e.sheet, e.row): e.reason for e in exc.value.errors}
    assert reasons[("岗位", 1)].startswith("无法识别的列：联系人微信")
    assert reasons[("岗位", 5)] == "新建岗位需要岗位名称（或填写需求ID、编号引用已有岗位）"
    assert reasons[("意向", 4)] == "无法识别的类型“喜欢”，应为 志愿、必面 或 排除"
    assert reasons[("时段", 4)] == "时间“25:00”超出范围"
    assert reasons[("活动", 8)] == "不能大于 240"
    assert str(exc.value.errors[1]).startswith("工作表“岗位” 第 3 行，字段 学历要求：")
    assert _counts(service) == before

    # references, named by their Chinese columns: still nothing stored
    sheets = good_sheets(d, t)
    sheets["求职者"].append([9999, None, None, None, None, None, None, None])
    sheets["意向"].append(["查无此人", "工艺工程师", None, "志愿", None])
    with pytest.raises(ImportRejected) as exc:
        import_fair_file(service, workbook(tmp_path / "bad2.xlsx", sheets))
    assert [(e.sheet, e.row, e.field, e.reason) for e in exc.value.errors] == [
        ("求职者", 5, "人才ID", "求职者 9999 不存在"),
        ("意向", 4, "求职者", "找不到该求职者（应为本次活动求职者的编号、人才ID或姓名）"),
    ]
    assert _counts(service) == before


def test_file_level_problems(service, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="缺少“求职者”表"):
        import_fair_file(service, workbook(tmp_path / "x.xlsx", {"岗位": [["岗位名称"], ["甲"]]}))
    folder = tmp_path / "dup"
    folder.mkdir()
    shutil.copy(DATA / "folder" / "岗位.csv", folder / "posts.csv")
    shutil.copy(DATA / "folder" / "岗位.csv", folder / "岗位.csv")
    with pytest.raises(InvalidInput, match="两个岗位文件"):
        read_fair(folder)
    with pytest.raises(InvalidInput, match="单个 CSV/JSONL"):
        read_fair(DATA / "folder" / "岗位.csv")
    empty = workbook(tmp_path / "e.xlsx", {"岗位": [["岗位名称", "展位"]], "求职者": [["姓名", "学历"], ["甲", "本科"]]})
    with pytest.raises(ImportRejected) as exc:
        read_fair(empty)
    assert [(e.sheet, e.reason) for e in exc.value.errors] == [("岗位", "岗位表没有数据")]


def test_demo_fair_file(service) -> None:
    from matcher.core.settings import PROJECT_ROOT

    detail = import_fair_file(service, PROJECT_ROOT / "data" / "demo" / "fair_demo.xlsx")
    assert detail.name == "2026年淄博市数字人才对接活动（演示）"
    # 106 wish rows; the 4 exclusions name an enterprise and cover each of its posts
    assert (len(detail.posts), len(detail.seekers), len(detail.wishes)) == (40, 150, 113)
    assert detail.created["new_posts"] == 40 and detail.created["new_seekers"] == 150
    assert {b.slots for b in detail.booths} == {12} and all(b.capacity <= 12 for b in detail.booths)
    assert detail.warnings == []
    res = run_fair(service, detail.id, FairRunOptions(mode="stable", save=False))
    assert res.report.blocking_pairs == 0 and res.report.unscheduled == 0
    assert res.report.interviews > 0


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def result(service) -> FairRunResult:
    detail = import_fair_file(service, DATA / "folder")
    return run_fair(service, detail.id, FairRunOptions(min_score=0.0))


def test_export_xlsx_csv_json(result: FairRunResult, tmp_path: Path) -> None:
    n = len(result.assignments)
    assert n > 0
    [xlsx] = write_result(result, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(xlsx, read_only=True)
    assert wb.sheetnames == ["分配结果", "展位日程", "求职者日程", "未安排面试", "汇总", "分布统计"]
    rows = list(wb["分配结果"].iter_rows(values_only=True))
    assert rows[0][:5] == ("展位", "开始时间", "结束时间", "求职者ID", "姓名")
    assert len(rows) == n + 1
    assert {r[3] for r in rows[1:]} == {a.talent_id for a in result.assignments}
    summary = {r[0]: r[1] for r in wb["汇总"].iter_rows(values_only=True)}
    assert summary["面试场数"] == result.report.interviews
    assert summary["稳定性：双方都更愿意彼此的组合"] == result.report.blocking_pairs
    assert summary["总匹配度差距（最优 − 稳定）"] == round(result.report.welfare_gap, 2)
    # what the summary says is for organisers: no solver code, no phase timings
    assert summary["求解方法"] == "线性规划（精确最优）"
    texts = [str(c) for row in wb["汇总"].iter_rows(values_only=True) for c in row if c is not None]
    assert not [t for t in texts if t in ("lp", "load", "scoring") or t.startswith("耗时")]
    assert [r[11] for r in rows[1:]] == [f"{a.score * 100:.0f}%" for a in sorted(
        result.assignments, key=lambda a: (a.booth, a.start is None, a.start or "", a.end or "", a.demand_id,
                                           a.talent_id))]
    booth_rows = list(wb["展位日程"].iter_rows(values_only=True))[1:]
    assert [(r[0], r[1]) for r in booth_rows] == sorted((r[0], r[1]) for r in booth_rows)
    wb.close()

    files = write_result(result, tmp_path / "r.csv")
    assert [p.name for p in files] == ["r.csv", "r_展位日程.csv", "r_求职者日程.csv", "r_未安排面试.csv", "r_汇总.csv",
                                       "r_分布统计.csv"]
    text = files[0].read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    assert len(text.decode("utf-8-sig").strip().splitlines()) == n + 1

    [js] = write_result(result, tmp_path / "r.json")
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert "稳定性" in doc.pop("definitions")
    assert FairRunResult.model_validate(doc) == result

    with pytest.raises(InvalidInput, match="导出格式"):
        write_result(result, tmp_path / "r.txt")
    assert set(export_result(result, "csv")) == {"", "_展位日程", "_求职者日程", "_未安排面试", "_汇总", "_分布统计"}


def test_seekers_without_an_interview_are_listed_with_the_reason(service, tmp_path: Path) -> None:
    from matcher.domain.fair import PostIn, SeekerIn
    from matcher.fair.engine import FairCreate, create_fair

    [post] = service.add("demand", [demand(title="大数据开发工程师", required_skills=["Python", "Spark"],
                                           education="硕士")])
    seekers = service.add("talent", [
        talent(name="赵一", skills=["Python", "Spark"], education="硕士"),
        talent(name="钱二", skills=["Python", "Spark"], education="硕士"),
        talent(name="孙三", skills=["Python"], education="大专"),  # below the post's 硕士: not eligible
    ])
    fair = create_fair(service, FairCreate(name="名额有限", posts=[PostIn(demand_id=post, capacity=1)],
                                           seekers=[SeekerIn(talent_id=t) for t in seekers]))
    result = run_fair(service, fair.id, FairRunOptions(min_score=0.0))
    placed = {a.talent_id for a in result.assignments}
    assert len(placed) == 1
    unmatched = {u.talent_id: u.reason for u in result.report.unmatched}
    assert set(unmatched) == set(seekers) - placed  # everyone without an interview, nobody else
    assert "硬性条件" in unmatched[seekers[2]]
    other = next(t for t in seekers[:2] if t not in placed)
    assert "面试名额已给了匹配度更高的求职者" in unmatched[other]
    [xlsx] = write_result(result, tmp_path / "r.xlsx")
    rows = list(openpyxl.load_workbook(xlsx, read_only=True)["未安排面试"].iter_rows(values_only=True))
    assert rows[0] == ("求职者ID", "姓名", "学校", "应届", "面试安排", "原因")
    assert {(r[0], r[4], r[5]) for r in rows[1:]} == {(t, "未安排面试", unmatched[t]) for t in unmatched}
    # a stored run reads back with its list
    assert get_run(service, result.run_id).report.unmatched == result.report.unmatched


def test_template_reads_back_as_a_fair(tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    path.write_bytes(template_workbook())
    ff = read_fair(path)
    assert ff.fair.name == "2026年淄博市数字人才对接活动"
    assert (len(ff.fair.posts), len(ff.fair.seekers), len(ff.fair.wishes), len(ff.fair.slots)) == (1, 1, 1, 1)
    assert ff.fair.posts[0].entry.title == "大数据开发工程师"
    assert ff.unused == []


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    return tmp_path


def test_cli_import_run_show_export(env: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli.app, ["fair", "import", str(DATA / "folder"), "--name", "命令行活动"])
    assert r.exit_code == 0, r.output
    assert "已创建招聘活动 1：命令行活动" in r.output
    assert "岗位 3 个（新建 3，复用 0），求职者 4 位（新建 4，复用 0）" in r.output

    out = env / "result.xlsx"
    r = runner.invoke(cli.app, ["fair", "run", "1", "--mode", "stable", "--out", str(out), "--min-score", "0"])
    assert r.exit_code == 0, r.output
    assert "稳定模式匹配完成（结果编号 1）" in r.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames[:5] == ["分配结果", "展位日程", "求职者日程", "未安排面试", "汇总"]
    summary = {row[0]: row[1] for row in wb["汇总"].iter_rows(values_only=True)}
    assert summary["稳定性：双方都更愿意彼此的组合"] == 0 and summary["模式"] == "稳定（延迟接受）"
    n = sum(1 for _ in wb["分配结果"].iter_rows(min_row=2, values_only=True))
    wb.close()
    assert n > 0 and "面试场数" in r.output

    r = runner.invoke(cli.app, ["fair", "run", "1", "--out", str(env / "r.json"), "--no-save"])
    assert r.exit_code == 0, r.output
    assert json.loads((env / "r.json").read_text(encoding="utf-8"))["run_id"] is None

    r = runner.invoke(cli.app, ["fair", "list"])
    assert r.exit_code == 0 and "命令行活动" in r.output
    r = runner.invoke(cli.app, ["fair", "show", "1", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["name"] == "命令行活动"
    r = runner.invoke(cli.app, ["fair", "runs", "1"])
    assert r.exit_code == 0 and "稳定" in r.output and "stable" not in r.output  # the mode in Chinese
    r = runner.invoke(cli.app, ["fair", "export", "1", "--out", str(env / "again.csv")])
    assert r.exit_code == 0, r.output
    lines = (env / "again.csv").read_text(encoding="utf-8-sig").strip().splitlines()
    assert len(lines) == n + 1
    r = runner.invoke(cli.app, ["fair", "template", str(env / "t.xlsx")])
    assert r.exit_code == 0 and (env / "t.xlsx").exists()
    r = runner.invoke(cli.app, ["fair", "delete", "1", "--yes"])
    assert r.exit_code == 0 and "已删除" in r.output


def test_cli_errors_exit_nonzero_with_row_reasons(env: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    bad = workbook(tmp_path / "bad.xlsx", {"岗位": [["岗位名称", "面试名额"], ["数据分析师", "很多"]],
                                           "求职者": [["姓名", "学历"], ["甲", "本科"]]})

    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["talentmatch", *args])
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    code, text = run("fair", "import", str(bad))
    assert code == 1
    assert "文件中有 1 处错误，未导入任何记录" in text
    assert "工作表“岗位” 第 2 行，字段 面试名额" in text
    code, text = run("fair", "run", "7")
    assert code == 2 and "招聘活动 7 不存在" in text
    code, text = run("fair", "run", "7", "--out", "x.pdf")
    assert code == 2 and "导出格式" in text


def test_get_fair_after_cli_import(env: Path, service) -> None:
    # the CLI and a service on the same data dir see the same fair
    runner = CliRunner()
    assert runner.invoke(cli.app, ["fair", "import", str(DATA / "folder")]).exit_code == 0
    from matcher.core.settings import load_settings
    from matcher.service import MatchService

    svc = MatchService(load_settings())
    try:
        assert get_fair(svc, 1).name == "2026年淄博市高校人才直通车（测试）"
    finally:
        svc.close()
