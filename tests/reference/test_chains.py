"""Chain registries from files, and chain suggestion for entries without a chain."""

from __future__ import annotations

import json

import pytest

from matcher.analytics.registries import list_registries, load_registry
from matcher.core.errors import Conflict, ImportRejected, InvalidInput
from matcher.core.settings import PROJECT_ROOT
from matcher.domain.schemas import Enterprise, IndustryChain
from matcher.evaluation.chains import evaluate_suggestions
from matcher.ingest.registries import read_registry_file
from matcher.reference.chains import CONFIDENCE, ChainSuggester, suggest_chain
from tests.conftest import demand
from tests.conftest import run_cli as _run

CHAINS = [
    IndustryChain(id="zb-a", name="氟硅新材料", region="淄博市", keywords=["有机硅", "氟化工", "PLC"]),
    IndustryChain(id="zb-b", name="新医药", region="淄博市", keywords=["原料药", "GMP", "医药中间体"]),
    IndustryChain(id="zb-c", name="精细化工", region="淄博市", keywords=["医药中间体", "化工工艺"]),
    IndustryChain(id="sd-x", name="高端化工", region="山东省", keywords=["化工工艺", "炼化"]),
]


def test_read_shipped_json_registry():
    reg = read_registry_file(PROJECT_ROOT / "data" / "chains" / "zibo.json")
    assert (reg.name, reg.region, len(reg.chains)) == ("zibo", "淄博市", 20)
    assert "示例" in (reg.note or "")
    assert reg.chains[0].id == "zb-fluorosilicone" and "有机硅" in reg.chains[0].keywords


def test_read_csv_with_chinese_headers(tmp_path):
    f = tmp_path / "official.csv"
    f.write_text("序号,产业链编号,产业链名称,关键词,所属板块\n"
                 "1,zb-1,高端化工,炼化、乙烯；芳烃,绿色化工\n"
                 "2,zb-2,新一代信息技术,\"软件, 芯片\",\n", encoding="gb18030")
    reg = read_registry_file(f, region="淄博")
    assert reg.name == "official" and reg.region == "淄博"
    assert [(c.id, c.name, c.keywords, c.parent_sector) for c in reg.chains] == [
        ("zb-1", "高端化工", ["炼化", "乙烯", "芳烃"], "绿色化工"),
        ("zb-2", "新一代信息技术", ["软件", "芯片"], None)]


def test_read_xlsx_with_region_column(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["id", "name", "keywords", "parent_sector", "region"])
    ws.append(["qd-1", "海洋装备", "船舶、海工", "高端装备", "青岛市"])
    wb.save(tmp_path / "qd.xlsx")
    reg = read_registry_file(tmp_path / "qd.xlsx", registry="qingdao")
    assert reg.name == "qingdao" and reg.chains[0].region == "青岛市" and reg.chains[0].keywords == ["船舶", "海工"]


def test_bad_rows_are_all_reported(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("编号,名称,地区\nzb-1,高端化工,淄博市\nzb-1,重复,淄博市\n,无编号,淄博市\nzb 3,空格,淄博市\nzb-4,,淄博市\n"
                 "zb-5,高端化工,淄博市\nzb-6,无地区,\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as exc:
        read_registry_file(f)
    found = [(e.row, e.field) for e in exc.value.errors]
    assert found == [(3, "产业链编号"), (4, "产业链编号"), (5, "产业链编号"), (6, "产业链名称"),
                     (7, "产业链名称"), (8, "地区")]
    assert "与第 2 行重复" in exc.value.errors[0].reason


def test_file_level_errors(tmp_path):
    with pytest.raises(InvalidInput, match="不支持的名录文件格式"):
        read_registry_file(tmp_path / "x.txt")
    (tmp_path / "h.csv").write_text("编号,未知列\nzb-1,x\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="名录表头无法识别：未知列"):
        read_registry_file(tmp_path / "h.csv")
    (tmp_path / "j.json").write_text("{oops", encoding="utf-8")
    with pytest.raises(InvalidInput, match="不是有效的 JSON"):
        read_registry_file(tmp_path / "j.json")
    (tmp_path / "bad name.json").write_text("[]", encoding="utf-8")
    with pytest.raises(InvalidInput, match="名录名称"):
        read_registry_file(tmp_path / "bad name.json")


def test_load_registry_replaces_and_guards_ids(service, tmp_path):
    f = tmp_path / "zibo_official.json"
    f.write_text(json.dumps({"region": "淄博市", "chains": [
        {"id": "zbo-1", "name": "高端化工", "keywords": ["炼化"]},
        {"id": "zbo-2", "name": "新材料", "keywords": ["有机硅"]}]}, ensure_ascii=False), encoding="utf-8")
    res = load_registry(service, f)
    assert (res.registry, res.region, res.chains, res.replaced, res.orphaned_entries) == (
        "zibo_official", "淄博市", 2, 0, 0)
    assert service.resolve_chain("高端化工") in ("zbo-1", "sd-chem")
    assert "zbo-2" in service.chains()
    again = load_registry(service, f)
    assert again.replaced == 2
    # an id of another registry is a conflict, and nothing changes
    clash = tmp_path / "clash.json"
    clash.write_text(json.dumps([{"id": "zb-data", "name": "数据", "region": "淄博市"}], ensure_ascii=False),
                     encoding="utf-8")
    with pytest.raises(Conflict, match="zb-data.*zibo"):
        load_registry(service, clash)
    assert {r.registry: r.chains for r in list_registries(service)} == {
        "shandong": 19, "zibo": 20, "zibo_official": 2}


def test_orphaned_entries_are_counted(service, tmp_path):
    service.add("demand", [demand(chain_id="zb-data")])
    f = tmp_path / "zibo.json"  # replaces the sample registry of the same name
    f.write_text(json.dumps({"region": "淄博市", "chains": [{"id": "zb-new", "name": "新链"}]}, ensure_ascii=False),
                 encoding="utf-8")
    assert load_registry(service, f).orphaned_entries == 1


def test_candidates_follow_the_most_local_registry():
    s = ChainSuggester(CHAINS, _regions())
    assert s.candidates("淄博市临淄区") == ["zb-a", "zb-b", "zb-c"]
    assert s.candidates("济南") == ["sd-x"]
    assert s.candidates("上海") == []
    assert set(s.candidates(None)) == {"zb-a", "zb-b", "zb-c", "sd-x"}
    assert s.covers("sd-x", "淄博") and not s.covers("zb-a", "济南")


def _regions():
    from matcher.reference.regions import load_regions

    return load_regions(PROJECT_ROOT / "data" / "cn_regions.csv")


def test_suggestion_tiers():
    s = ChainSuggester(CHAINS, _regions())
    # 1. the enterprise's chain, when a registry covering the place holds it
    got = s.suggest("任意文本", enterprise_chain="sd-x", city="淄博")
    assert (got.chain_id, got.confidence, got.method) == ("sd-x", CONFIDENCE["enterprise"], "enterprise")
    # ... but not a chain of a registry that does not cover the place
    assert s.suggest("化工工艺", enterprise_chain="zb-a", city="济南").chain_id == "sd-x"
    # 2. keywords in the enterprise's name
    got = s.suggest("负责设备维护", enterprise_name="淄博某某有机硅材料有限公司", city="淄博")
    assert (got.chain_id, got.method, got.keywords) == ("zb-a", "enterprise_name", ["有机硅"])
    # 3. keywords in the text; a title hit counts double; a shared keyword counts half for each chain
    got = s.suggest("熟悉GMP与原料药工艺", title="原料药工艺员", city="淄博")
    assert (got.chain_id, got.method, got.confidence) == ("zb-b", "text_title", CONFIDENCE["text_title"])
    got = s.suggest("医药中间体", city="淄博")
    assert (got.chain_id, got.method) == ("zb-b", "text")  # a tie is broken by id
    # an ASCII keyword must stand alone: "PLC" is not in "PLCX"
    assert s.suggest("PLCX调试", city="淄博") is None
    assert s.suggest("PLC调试", city="淄博").chain_id == "zb-a"
    assert suggest_chain("没有关键词", None, chains=CHAINS) == (None, 0.0)
    assert suggest_chain("熟悉炼化", None, chains=CHAINS, city="济南") == ("sd-x", CONFIDENCE["text"])


def test_entries_get_a_suggested_chain_on_write(service):
    service.store.add_enterprise(Enterprise(name="淄博某数据科技有限公司", city="淄博", chain_id="zb-data"))
    d = service.add("demand", [
        demand(enterprise_name="淄博某数据科技有限公司", chain_id=None),  # the enterprise's chain
        demand(enterprise_name="淄博新开有机硅材料有限公司", chain_id=None),  # keywords of the name
        demand(enterprise_name="淄博某公司", title="原料药工艺员", chain_id=None),  # text only: too unsure
        demand(enterprise_name="淄博某数据科技有限公司", chain_id="zb-software"),  # given: kept
    ])
    got = [service.get("demand", i) for i in d]
    assert [(e.chain_id, e.chain_suggested, e.chain_confidence) for e in got] == [
        ("zb-data", True, 0.95), ("zb-fluorosilicone", True, 0.9), (None, False, None),
        ("zb-software", False, None)]
    # a suggested chain is suggested again when the entry changes; a given one is kept
    changed = service.update("demand", d[0], got[0].model_copy(update={
        "enterprise_id": None, "enterprise_name": "淄博新开有机硅材料有限公司"}))
    assert (changed.chain_id, changed.chain_suggested) == ("zb-fluorosilicone", True)
    fixed = service.update("demand", d[1], got[1].model_copy(update={"chain_id": "zb-data", "chain_suggested": False}))
    assert (fixed.chain_id, fixed.chain_suggested, fixed.chain_confidence) == ("zb-data", False, None)


def test_evaluate_suggestions(service):
    service.store.add_enterprise(Enterprise(name="淄博甲化工有限公司", city="淄博", chain_id="zb-fine-chem"))
    code = "2-02-10-03"
    service.add("demand", [
        demand(enterprise_name="淄博甲化工有限公司", chain_id="zb-fine-chem", title="化工工艺员", occupation_code=code),
        demand(enterprise_name="淄博甲化工有限公司", chain_id="zb-fine-chem", title="Java开发", occupation_code=code),
        # the store registers a new enterprise under its first entry's chain
        demand(enterprise_name="淄博乙公司", chain_id="zb-data", title="大数据开发工程师", occupation_code=code),
    ])
    ev = evaluate_suggestions(service, mode="enterprise")
    assert (ev.entries, ev.suggested, ev.right, ev.stored, ev.stored_right, ev.accuracy) == (3, 3, 3, 3, 3, 1.0)
    assert [(t.method, t.suggested, t.right) for t in ev.tiers] == [("enterprise", 3, 3)]
    # the text alone: the titles name chain keywords (化工工艺, 大数据), "Java开发" none
    text = evaluate_suggestions(service, mode="text")
    assert (text.entries, text.suggested, text.right, text.stored, text.accuracy) == (3, 2, 2, 0, 0.6667)
    assert [(t.method, t.suggested, t.right) for t in text.tiers] == [("text_title", 2, 2)]


def test_cli_chains(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    f = tmp_path / "jinan.csv"
    f.write_text("编号,名称,关键词,地区\njn-1,量子信息,量子计算、量子通信,济南市\n", encoding="utf-8")
    code, out, err = _run(monkeypatch, capsys, "chains", "load", str(f))
    assert code == 0, err
    assert "已导入名录 jinan（济南市）：1 条产业链" in out
    code, out, err = _run(monkeypatch, capsys, "chains", "list", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {r["registry"] for r in data["registries"]} == {"jinan", "shandong", "zibo"}
    code, out, err = _run(monkeypatch, capsys, "chains", "suggest", "量子通信系统研发", "--city", "济南")
    assert code == 0 and "量子信息（jn-1）" in out and "置信度 0.25" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("编号,名称\njn-2,\n", encoding="utf-8")
    code, out, err = _run(monkeypatch, capsys, "chains", "load", str(bad), "--region", "济南市")
    assert code == 1 and "第 2 行" in err and "产业链名称" in err
