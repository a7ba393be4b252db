"""Majors as a taxonomy (issue 16): "自动化类", "机械类", "计算机相关专业" cover their members."""

from __future__ import annotations

import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.ranking.features import major_fit
from matcher.reference.majors import load_majors


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


def test_every_class_has_members(majors) -> None:
    assert len(majors.classes) >= 60
    assert all(members for members in majors.classes.values())
    assert majors.classes_of("计算机科学与技术") == {"计算机类"}


def test_the_service_scores_majors_with_the_taxonomy(service) -> None:
    from tests.conftest import demand, talent

    post = demand(title="电气工程师", majors=["自动化类", "电气类"], required_skills=["PLC编程"])
    robot = talent(major="机器人工程", skills=["PLC编程"])
    accountant = talent(major="会计学", skills=["PLC编程"])
    fit = service.scorer.score(robot, post, 0.8, 0.2, target="talent")
    assert fit.comp["major"] == 1.0
    assert service.scorer.score(accountant, post, 0.8, 0.2, target="talent").comp["major"] == 0.0
    assert "专业对口：机器人工程" in service.explainer.to_match(fit).explanation.reasons
