"""Skill extraction stays precise on ambiguous words (issue 16): QA in a pharma post is 质量保证,
not 软件测试; 尺寸标注 in a CAD post is not 数据标注; 测试 alone names no skill."""

from __future__ import annotations

import json

import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.reference.skills import SkillVocab, requirement_skills


@pytest.fixture(scope="module")
def vocab() -> SkillVocab:
    return SkillVocab(json.loads((PROJECT_ROOT / "data" / "skills.json").read_text(encoding="utf-8")))


def _skills(vocab: SkillVocab, text: str) -> set[str]:
    required, preferred = requirement_skills(vocab, text)
    return set(required) | set(preferred)


@pytest.mark.parametrize(
    ("text", "present", "absent"),
    [
        ("负责GMP体系下的文件审核、偏差调查；熟悉药品GMP规范，具备QA工作经验", {"质量保证", "GMP"}, {"软件测试"}),
        ("负责App版本的测试，熟悉软件测试理论，具备QA经验，能编写测试用例", {"软件测试", "测试用例设计"}, {"质量保证"}),
        ("熟练使用AutoCAD绘制零件图，能正确进行尺寸标注与公差标注", {"AutoCAD"}, {"数据标注"}),
        ("熟悉自动驾驶点云与图像标注规范，能对标注结果进行质检", {"数据标注"}, set()),
        ("熟悉企业经营管理和项目管理，能推动试产测试与量产导入", {"项目管理"}, {"软件测试"}),
        ("熟悉PLC编程，能完成电气控制柜的接线与调试测试", {"PLC编程", "电气控制"}, {"软件测试"}),
        ("熟悉Vue.js，能配合测试人员修复缺陷", {"Vue.js"}, {"软件测试"}),
    ],
)
def test_ambiguous_words(vocab: SkillVocab, text: str, present: set[str], absent: set[str]) -> None:
    found = _skills(vocab, text)
    assert present <= found
    assert not (absent & found)


def test_labelled_sample_precision(vocab: SkillVocab) -> None:
    """The hand-written sample (data/eval/requirement_skills_sample.jsonl): no 软件测试, 数据标注
    or 质量保证 where the text does not mean it, and the labelled ones found."""
    path = PROJECT_ROOT / "data" / "eval" / "requirement_skills_sample.jsonl"
    ambiguous = {"软件测试", "数据标注", "质量保证"}
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        found = _skills(vocab, item["text"]) & ambiguous
        assert found <= set(item["gold"]), (item["title"], found)
