"""Catalogues: skills of 任职能力要求, listing, and comparing two years entry by entry."""

from __future__ import annotations

import json

import pytest

from matcher.analytics.catalogues import (
    compare_catalogues,
    entry_changes,
    list_catalogues,
    pair_entries,
)
from matcher.core.errors import InvalidInput, NotFound
from matcher.core.settings import PROJECT_ROOT
from matcher.domain.schemas import Catalogue, DemandEntry
from matcher.ingest.fields import load_mapping
from matcher.ingest.importer import read_records
from matcher.reference.skills import requirement_skills
from tests.analytics.test_analytics import add_catalogue
from tests.conftest import demand
from tests.conftest import run_cli as _run

DEMO = PROJECT_ROOT / "data" / "demo"


def test_requirement_skills(service):
    v = service.vocab
    assert requirement_skills(v, "熟悉PLC编程、电气控制，了解博途TIA Portal；负责设备电气系统设计与PLC程序编写。") == (
        ["PLC编程", "电气控制"], ["博途TIA Portal"])
    assert requirement_skills(v, "Python、SQL") == (["Python", "SQL"], [])  # a bare list: required
    assert requirement_skills(v, "掌握Java，有Kafka经验者优先") == (["Java"], ["Kafka"])
    assert requirement_skills(v, "负责数据平台运维；熟悉Linux") == (["Linux"], [])
    assert requirement_skills(v, "") == ([], [])


def test_catalogue_import_reads_skills_and_places(service):
    res = read_records(DEMO / "catalogue_zibo_2025.csv", "catalogue", load_mapping(DEMO / "catalogue_zibo_2025.mapping.json"))
    rows = res.records[:3]
    out = service.import_rows("catalogue", rows, [], catalogue=Catalogue(region="淄博市", year=2025))
    first = service.get("demand", out["ids"][0])
    # 熟悉质量管理体系、质量工具、SPC统计过程控制、MES；负责…  at 淄博经开区
    assert first.required_skills == ["质量管理体系", "质量工具", "SPC统计过程控制", "MES"]
    assert first.city == "淄博市" and first.source == "catalogue" and first.chain_id == "zb-fluorosilicone"
    second = service.get("demand", out["ids"][1])
    assert second.preferred_skills == ["博途TIA Portal", "欧姆龙PLC"]
    # a post keeps its own (empty) skill lists: extraction is for catalogue lines only
    post = service.get("demand", service.add("demand", [demand(required_skills=[], description="熟悉Python")])[0])
    assert post.required_skills == []


def _two_years(service):
    c = "2-02-38-03"
    old = add_catalogue(service, "淄博市", 2025, [
        demand(title="数据工程师", enterprise_name=None, chain_id="zb-data", occupation_code=c, headcount=2,
               shortage_level=3),                                                       # unchanged
        demand(title="数据分析师", enterprise_name=None, chain_id="zb-data", occupation_code=c, headcount=1,
               shortage_level=2, salary_min=6000, salary_max=8000),                      # changed
        demand(title="PLC工程师", enterprise_name=None, chain_id="zb-smart-equipment",
               occupation_code="2-02-07-07", headcount=3),                               # removed
        demand(title="数据治理专员", enterprise_name=None, chain_id="zb-software",
               occupation_code="2-02-38-12", headcount=1),                               # renamed
    ])
    new = add_catalogue(service, "淄博", 2026, [
        demand(title="数据工程师", enterprise_name=None, chain_id="zb-data", occupation_code=c, headcount=2,
               shortage_level=3),
        demand(title="数据分析师", enterprise_name=None, chain_id="zb-data", occupation_code=c, headcount=4,
               shortage_level=4, salary_min=6500, salary_max=8500, education="硕士"),
        demand(title="高级数据治理专员", enterprise_name=None, chain_id="zb-software",
               occupation_code="2-02-38-12", headcount=1),
        demand(title="AI训练师", enterprise_name=None, chain_id="zb-data", occupation_code="4-04-05-05",
               headcount=5, shortage_level=5),                                           # new
    ])
    return old, new


def test_compare_two_years(service):
    old, new = _two_years(service)
    cmp = compare_catalogues(service, "淄博市", 2025, 2026)
    s = cmp.summary
    assert (s.entries_from, s.entries_to, s.headcount_from, s.headcount_to) == (4, 4, 7, 12)
    assert (s.added, s.removed, s.changed, s.unchanged) == (1, 1, 2, 1)
    assert (s.shortage_up, s.shortage_down, s.headcount_up, s.headcount_down) == (1, 0, 1, 0)
    assert [e.id for e in cmp.added] == [new[3]] and [e.id for e in cmp.removed] == [old[2]]
    changed = {c.after.id: c for c in cmp.changed}
    analyst = changed[new[1]]
    assert analyst.before.id == old[1] and analyst.matched_by == "code+title+chain"
    assert [(f.field, f.before, f.after, f.direction) for f in analyst.changes] == [
        ("shortage_level", "2", "4", "up"), ("headcount", "1", "4", "up"), ("education", "本科", "硕士", "up"),
        ("salary", "6000-8000元/月", "6500-8500元/月", "up")]
    renamed = changed[new[2]]
    assert renamed.matched_by == "code+chain" and renamed.before.title == "数据治理专员"
    assert [(f.label, f.before, f.after) for f in renamed.changes] == [("岗位名称", "数据治理专员", "高级数据治理专员")]
    by_chain = {r.chain_id: r for r in cmp.by_chain}
    assert (by_chain["zb-data"].entries_from, by_chain["zb-data"].entries_to, by_chain["zb-data"].headcount_to,
            by_chain["zb-data"].added, by_chain["zb-data"].changed) == (2, 3, 11, 1, 1)
    assert by_chain["zb-smart-equipment"].removed == 1
    assert "职业编码 + 岗位名称 + 所属产业链" in cmp.rule


def test_pairing_rule_order_and_duplicates():
    def e(i, title, code="2-02-38-03", chain="c1", **kw):
        return DemandEntry(id=i, title=title, occupation_code=code, chain_id=chain, **kw)

    old = [e(1, "数据工程师"), e(2, "数据工程师"), e(3, "运维", code="2-02-10-03"), e(4, "测试", code="2-02-10-04"),
           e(5, "测试2", code="2-02-10-04")]
    new = [e(11, "数据工程师"), e(12, "运维", code="2-02-10-05"), e(13, "测试3", code="2-02-10-04")]
    pairs, removed, added = pair_entries(old, new)
    assert [(a.id, b.id, how) for a, b, how in pairs] == [(1, 11, "code+title+chain"), (3, 12, "title+chain")]
    # two entries of 2025 with code 2-02-10-04 are left: no unique pairing by code + chain
    assert [x.id for x in removed] == [2, 4, 5] and [x.id for x in added] == [13]
    assert entry_changes(old[0], new[0]) == []


def test_compare_errors_and_listing(service):
    _two_years(service)
    assert [(c.region, c.year, c.entries) for c in list_catalogues(service)] == [("淄博市", 2025, 4), ("淄博", 2026, 4)]
    assert len(list_catalogues(service, "淄博市")) == 2 and list_catalogues(service, "济南") == []
    with pytest.raises(NotFound, match="没有 2024 年的急需紧缺人才目录；已有目录的年度：2025、2026"):
        compare_catalogues(service, "淄博市", 2024, 2026)
    with pytest.raises(NotFound, match="该地区还没有导入任何目录"):
        compare_catalogues(service, "济南市", 2025, 2026)
    with pytest.raises(InvalidInput, match="不能相同"):
        compare_catalogues(service, "淄博市", 2025, 2025)


def test_cli_catalogue_with_demo_files(tmp_path, monkeypatch, capsys):
    """The two demo catalogues, imported by the CLI and compared: the documented changes show."""
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    for year in (2025, 2026):
        code, out, err = _run(monkeypatch, capsys, "import", "catalogue", str(DEMO / f"catalogue_zibo_{year}.csv"),
                              "--mapping", str(DEMO / f"catalogue_zibo_{year}.mapping.json"), "--region", "淄博市",
                              "--year", str(year), "--registry", "zibo")
        assert code == 0, err
    code, out, err = _run(monkeypatch, capsys, "catalogue", "list", "--format", "json")
    assert [(c["year"], c["entries"]) for c in json.loads(out)] == [(2025, 80), (2026, 84)]
    code, out, err = _run(monkeypatch, capsys, "catalogue", "compare", "--region", "淄博市", "--from", "2025",
                          "--to", "2026", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    s = data["summary"]
    # make_next_catalogue: 8 dropped, 12 added; renamed rows pair by code + chain (when unique)
    assert (s["entries_from"], s["entries_to"]) == (80, 84)
    assert s["added"] - s["removed"] == 4 and s["removed"] >= 8 and s["added"] >= 12
    assert s["changed"] > 0 and s["shortage_up"] > 0
    code, out, err = _run(monkeypatch, capsys, "catalogue", "compare", "--region", "淄博市", "--from", "2025",
                          "--to", "2026")
    assert code == 0 and "淄博市 2025 → 2026：条目 80 → 84" in out
    code, out, err = _run(monkeypatch, capsys, "catalogue", "compare", "--region", "淄博市", "--from", "2020",
                          "--to", "2026")
    assert code == 2 and "没有 2020 年" in err
