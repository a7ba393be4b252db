"""Majors as a taxonomy (issue 16): "自动化类", "机械类", "计算机相关专业" cover their members."""

from __future__ import annotations

import json

import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.ranking.features import major_fit
from matcher.reference.majors import build, load_majors, read_tsv


@pytest.fixture(scope="module")
def majors():
    return load_majors(PROJECT_ROOT / "data" / "majors.json")


@pytest.mark.parametrize(
    ("major", "wanted", "fit"),
    [
        ("机械设计制造及其自动化", ["机械类"], 1.0),
        ("材料成型及控制工程", ["机械类"], 1.0),
        ("机器人工程", ["自动化类"], 1.0),
        ("电气自动化技术", ["自动化类"], 1.0),  # 高职专科 自动化类
        ("软件工程", ["计算机相关专业"], 1.0),
        ("数据科学与大数据技术", ["计算机类"], 1.0),
        ("计算机应用技术", ["计算机相关专业"], 1.0),
        ("制药工程", ["化工相关专业"], 1.0),
        ("药物制剂", ["药学类"], 1.0),
        ("机械电子工程", ["机械设计制造及其自动化"], 0.7),  # same 专业类
        ("会计学", ["计算机相关专业"], 0.0),
        ("自动化", ["计算机类"], 0.0),  # a prefix rule would not tell these apart either way
        ("统计学", ["工学"], 0.0),
        ("物理学", ["理学"], 1.0),
        ("汉语言文学", ["机械类", "自动化类"], 0.0),
        ("会计学", ["不限"], 1.0),
        (None, ["机械类"], 0.0),
    ],
)
def test_major_fit_with_the_taxonomy(majors, major, wanted, fit) -> None:
    assert major_fit(major, wanted, majors) == fit


def test_without_the_taxonomy_names_still_count() -> None:
    assert major_fit("计算机科学与技术", ["计算机"]) == 1.0
    assert major_fit("机械设计制造及其自动化", ["自动化类"]) == 1.0  # by name: contains 自动化


def test_the_two_char_prefix_no_longer_decides(majors) -> None:
    """By name, 机械电子工程 and 机器人工程 share "机" only; 电子商务 and 电子信息工程 share
    "电子" and were 0.7 related: the taxonomy knows they are not."""
    assert major_fit("电子商务", ["电子信息工程"]) == 0.7
    assert major_fit("电子商务", ["电子信息工程"], majors) == 0.0


def test_every_undergraduate_class_has_members(majors) -> None:
    data = build(PROJECT_ROOT / "data")
    undergraduate = data["lists"][0]["categories"]
    classes = [c for cat in undergraduate for c in cat["classes"]]
    assert len(undergraduate) == 12 and len(classes) == 92
    assert all(c["majors"] for c in classes)
    assert majors.classes_of("计算机科学与技术") == {"计算机类"}


def test_the_typed_catalogues_are_what_majors_json_holds() -> None:
    """data/majors.json is built from the .tsv files: a hand edit of one without the other fails."""
    on_disk = json.loads((PROJECT_ROOT / "data" / "majors.json").read_text(encoding="utf-8"))
    assert on_disk == build(PROJECT_ROOT / "data")


# codes checked one by one against the Ministry's 2024 catalogue
SAMPLE = {
    "080901": "计算机科学与技术", "080902": "软件工程", "080903": "网络工程", "080904K": "信息安全",
    "080905": "物联网工程", "080906": "数字媒体技术", "080910T": "数据科学与大数据技术",
    "080911TK": "网络空间安全", "080717T": "人工智能", "080801": "自动化", "080803T": "机器人工程",
    "080202": "机械设计制造及其自动化", "080204": "机械电子工程", "080213T": "智能制造工程",
    "080601": "电气工程及其自动化", "080701": "电子信息工程", "080703": "通信工程",
    "120102": "信息管理与信息系统", "120108T": "大数据管理与应用", "120203K": "会计学",
    "071201": "统计学", "070101": "数学与应用数学", "020109T": "数字经济", "120801": "电子商务",
}


def test_a_sample_of_codes() -> None:
    data = build(PROJECT_ROOT / "data")
    codes = {m["code"]: m["name"] for cat in data["lists"][0]["categories"] for c in cat["classes"]
             for m in c["majors"]}
    for code, name in SAMPLE.items():
        assert codes[code] == name, code
    assert len(codes) == len({*codes})  # no code twice
    classes = {c["code"]: c["name"] for cat in data["lists"][0]["categories"] for c in cat["classes"]}
    assert classes["0809"] == "计算机类" and classes["0808"] == "自动化类" and classes["0802"] == "机械类"
    assert classes["0807"] == "电子信息类" and classes["1201"] == "管理科学与工程类"
    vocational = {c["code"]: c["name"] for cat in data["lists"][1]["categories"] for c in cat["classes"]}
    assert vocational["5102"] == "计算机类" and vocational["4603"] == "自动化类" and vocational["5104"] == "集成电路类"
    assert len(data["lists"][1]["categories"]) == 19


@pytest.mark.parametrize(("request_", "members"), [
    ("计算机类", {"计算机科学与技术", "软件工程", "网络工程", "信息安全", "物联网工程", "数据科学与大数据技术",
                 "网络空间安全", "计算机应用技术", "软件技术", "大数据技术"}),
    ("计算机相关专业", {"软件工程", "区块链工程", "云计算技术应用"}),
    ("0809", {"软件工程", "计算机科学与技术"}),
    ("自动化类", {"自动化", "机器人工程", "工业智能", "机电一体化技术", "工业机器人技术", "电气自动化技术"}),
    ("机械类", {"机械工程", "机械设计制造及其自动化", "智能制造工程", "车辆工程", "增材制造工程"}),
    ("电子信息类", {"电子信息工程", "通信工程", "人工智能", "集成电路设计与集成系统", "物联网应用技术"}),
])
def test_class_phrases_cover_their_members(majors, request_, members) -> None:
    covered = majors.members(request_)
    assert members <= covered, members - covered
    for m in members:
        assert major_fit(m, [request_], majors) == 1.0, m


def test_classes_do_not_cover_other_classes(majors) -> None:
    assert "软件工程" not in majors.members("自动化类")
    assert "会计学" not in majors.members("计算机类")
    assert major_fit("软件工程", ["0808"], majors) == 0.0  # 自动化类 by its code
    assert major_fit("软件工程", ["080902 软件工程"], majors) == 1.0
    assert major_fit("网络工程", ["080902"], majors) == 0.7  # same 专业类 as the coded major


def test_a_class_in_both_catalogues_belongs_to_both_categories(majors) -> None:
    assert major_fit("自动化", ["工学"], majors) == 1.0  # undergraduate 自动化类
    assert major_fit("电气自动化技术", ["装备制造大类"], majors) == 1.0  # vocational 自动化类
    assert len(majors.members("工学")) > 250 and "会计学" not in majors.members("工学")


@pytest.mark.parametrize(("major", "wanted", "fit"), [
    ("量子烹饪学", ["计算机类"], None),  # unknown major: the taxonomy abstains ...
    ("软件工程", ["未知新兴专业"], None),  # ... as for an unknown request
    ("", ["计算机类"], None),
])
def test_unknown_majors_degrade_gracefully(majors, major, wanted, fit) -> None:
    assert majors.fit(major, wanted[0]) is fit
    assert 0.0 <= major_fit(major or None, wanted, majors) <= 1.0  # the name rules decide, no error
    assert majors.members("未知新兴专业") == set()


def test_the_fit_is_remembered_and_the_same(majors) -> None:
    first = majors.fit("机械电子工程", "机械设计制造及其自动化")
    assert first == 0.7 and majors.fit("机械电子工程", "机械设计制造及其自动化") == first
    assert ("机械电子工程", "机械设计制造及其自动化") in majors._fits


def test_a_badly_typed_line_is_refused(tmp_path) -> None:
    bad = tmp_path / "x.tsv"
    bad.write_text("08\t工学\n0809\t计算机类\n081001\t土木工程\n", encoding="utf-8")
    with pytest.raises(ValueError, match="outside its class"):
        read_tsv(bad)
    bad.write_text("08\t工学\n0909\t农学类\n", encoding="utf-8")
    with pytest.raises(ValueError, match="outside its"):
        read_tsv(bad)


def test_the_service_scores_majors_with_the_taxonomy(service) -> None:
    from tests.conftest import demand, talent

    post = demand(title="电气工程师", majors=["自动化类", "电气类"], required_skills=["PLC编程"])
    robot = talent(major="机器人工程", skills=["PLC编程"])
    accountant = talent(major="会计学", skills=["PLC编程"])
    fit = service.scorer.score(robot, post, 0.8, 0.2, target="talent")
    assert fit.comp["major"] == 1.0
    assert service.scorer.score(accountant, post, 0.8, 0.2, target="talent").comp["major"] == 0.0
    assert "专业对口：机器人工程" in service.explainer.to_match(fit).explanation.reasons
