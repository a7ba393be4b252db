"""Levels on a ladder: education, shortage stars (紧缺星级), professional titles (职称) and skill
grades (新八级工)."""

from __future__ import annotations

import re
from typing import TypeVar

from matcher.domain.schemas import Education, SkillLevel, TitleLevel
from matcher.ingest.parsing.cells import BLANKS, NO_REQUIREMENT, normalized
from matcher.ingest.parsing.numbers import to_number

L = TypeVar("L")


def _bracketed(core: str, levels: dict[str, L]) -> L | None:
    """The level of "外(内)": the part outside the brackets, else the one inside; None if neither."""
    m = re.fullmatch(r"(.+?)\((.+)\)", core)
    if m:
        for part in (m.group(1), m.group(2)):
            if part in levels:
                return levels[part]
    return None


# ---------------------------------------------------------------------------------------------
# education
# ---------------------------------------------------------------------------------------------

_EDUCATION = {
    "博士研究生": Education.DOCTOR,
    "博士": Education.DOCTOR,
    "博士生": Education.DOCTOR,
    "博士后": Education.DOCTOR,
    "phd": Education.DOCTOR,
    "doctor": Education.DOCTOR,
    "硕士研究生": Education.MASTER,
    "硕士": Education.MASTER,
    "硕士生": Education.MASTER,
    "研究生": Education.MASTER,
    "mba": Education.MASTER,
    "master": Education.MASTER,
    "大学本科": Education.BACHELOR,
    "本科": Education.BACHELOR,
    "学士": Education.BACHELOR,
    "本科生": Education.BACHELOR,
    "bachelor": Education.BACHELOR,
    "专科(高职)": Education.JUNIOR_COLLEGE,
    "大学专科": Education.JUNIOR_COLLEGE,
    "专科": Education.JUNIOR_COLLEGE,
    "大专": Education.JUNIOR_COLLEGE,
    "高职": Education.JUNIOR_COLLEGE,
    "高职高专": Education.JUNIOR_COLLEGE,
    "高专": Education.JUNIOR_COLLEGE,
    "高中": Education.SECONDARY,
    "中专": Education.SECONDARY,
    "中职": Education.SECONDARY,
    "技校": Education.SECONDARY,
    "技工学校": Education.SECONDARY,
    "职高": Education.SECONDARY,
    "高中/中专": Education.SECONDARY,
    "中专/高中": Education.SECONDARY,
    "高中/中专/技校": Education.SECONDARY,
    "中专/技校": Education.SECONDARY,
    "高中(中专)": Education.SECONDARY,
}
# Below the lowest level of the ladder: as a requirement this means "no requirement".
_BELOW_LADDER = frozenset({"初中", "小学", "初中及以下", "初中以下"})
_EDU_AFFIXES = re.compile(
    r"^(全日制|统招|普通|国家承认|第一学历)+|(\(含\)|含)?(及以上|或以上|以上)|学历|学位|毕业|文化程度|文化"
)


def parse_education(value: object) -> Education | None:
    """An education level; 不限/无/空 → None.

    Accepts 大学本科/本科/学士, 专科（高职）/大专/高职, 硕士研究生/研究生, 博士研究生, 高中/中专/中职/技校/职高,
    with 及以上/以上/或以上 and 学历 affixes. Several levels ("大专/本科") give the lowest, since a
    requirement names its minimum. 初中/小学 are below the ladder and give None (no requirement).
    """
    s = normalized(value).lower().replace(" ", "")
    if s in BLANKS or s in NO_REQUIREMENT or s in {"学历不限", "不限学历"}:
        return None
    if s in _EDUCATION:
        return _EDUCATION[s]
    core = _EDU_AFFIXES.sub("", s)
    if core in _BELOW_LADDER or s in _BELOW_LADDER:
        return None
    if core in _EDUCATION:
        return _EDUCATION[core]
    if core in NO_REQUIREMENT or core == "":
        return None
    # "大专/本科", "本科、硕士", "本科或硕士": the lowest named level
    parts = [p for p in re.split(r"[/、,;|或]", core) if p]
    if len(parts) > 1 and all(p in _EDUCATION for p in parts):
        return min((_EDUCATION[p] for p in parts), key=lambda e: e.rank)
    # "本科(学士)", "专科（高职）" written differently: try outside, then inside the brackets
    level = _bracketed(core, _EDUCATION)
    if level is not None:
        return level
    raise ValueError("无法识别的学历，应为 高中/中专、大专、本科、硕士、博士 或 不限")


# ---------------------------------------------------------------------------------------------
# shortage level (紧缺星级)
# ---------------------------------------------------------------------------------------------


def parse_shortage_level(value: object) -> int | None:
    """A 紧缺星级 from 1 to 5: "5星", "五星级", "★★★", "★★★☆☆", "3", 3.0; 无/—/空 → None."""
    if isinstance(value, bool):
        raise ValueError("紧缺星级应为 1-5 的整数或星号")
    s = normalized(value).replace(" ", "")
    if s.lower() in BLANKS or s in NO_REQUIREMENT:
        return None
    stars = s.count("★") + s.count("⭐") + s.count("*")
    if stars and re.fullmatch(r"[★⭐☆*]+", s):
        level: float | None = stars
    else:
        m = re.fullmatch(r"(\d+(?:\.0+)?|[一二三四五])(?:颗)?(?:星级|星)?", s)
        level = to_number(m.group(1)) if m else None
    if level is None:
        raise ValueError("无法识别的紧缺星级，应为 1-5 星")
    if not float(level).is_integer() or not 1 <= level <= 5:
        raise ValueError("紧缺星级应在 1-5 之间")
    return int(level)



# ---------------------------------------------------------------------------------------------
# titles and skill grades
# ---------------------------------------------------------------------------------------------

_TITLES: dict[str, TitleLevel] = {
    # 初级 (员级 and 助理级)
    "初级": TitleLevel.JUNIOR,
    "员级": TitleLevel.JUNIOR,
    "助理级": TitleLevel.JUNIOR,
    "技术员": TitleLevel.JUNIOR,
    "助理工程师": TitleLevel.JUNIOR,
    "助工": TitleLevel.JUNIOR,
    "助理讲师": TitleLevel.JUNIOR,
    "助教": TitleLevel.JUNIOR,
    "会计员": TitleLevel.JUNIOR,
    "助理会计师": TitleLevel.JUNIOR,
    "经济员": TitleLevel.JUNIOR,
    "助理经济师": TitleLevel.JUNIOR,
    "统计员": TitleLevel.JUNIOR,
    "助理统计师": TitleLevel.JUNIOR,
    "实习研究员": TitleLevel.JUNIOR,
    "医师": TitleLevel.JUNIOR,
    # 中级
    "中级": TitleLevel.INTERMEDIATE,
    "工程师": TitleLevel.INTERMEDIATE,
    "中级工程师": TitleLevel.INTERMEDIATE,
    "讲师": TitleLevel.INTERMEDIATE,
    "会计师": TitleLevel.INTERMEDIATE,
    "经济师": TitleLevel.INTERMEDIATE,
    "统计师": TitleLevel.INTERMEDIATE,
    "助理研究员": TitleLevel.INTERMEDIATE,
    "主治医师": TitleLevel.INTERMEDIATE,
    # 副高级
    "副高": TitleLevel.DEPUTY_SENIOR,
    "副高级": TitleLevel.DEPUTY_SENIOR,
    "高级": TitleLevel.DEPUTY_SENIOR,
    "高级工程师": TitleLevel.DEPUTY_SENIOR,
    "高工": TitleLevel.DEPUTY_SENIOR,
    "副教授": TitleLevel.DEPUTY_SENIOR,
    "副研究员": TitleLevel.DEPUTY_SENIOR,
    "高级讲师": TitleLevel.DEPUTY_SENIOR,
    "高级会计师": TitleLevel.DEPUTY_SENIOR,
    "高级经济师": TitleLevel.DEPUTY_SENIOR,
    "高级统计师": TitleLevel.DEPUTY_SENIOR,
    "副主任医师": TitleLevel.DEPUTY_SENIOR,
    # 正高级
    "正高": TitleLevel.SENIOR,
    "正高级": TitleLevel.SENIOR,
    "正高级工程师": TitleLevel.SENIOR,
    "教授级高级工程师": TitleLevel.SENIOR,
    "教授级高工": TitleLevel.SENIOR,
    "教授": TitleLevel.SENIOR,
    "研究员": TitleLevel.SENIOR,
    "主任医师": TitleLevel.SENIOR,
    "正高级会计师": TitleLevel.SENIOR,
    "正高级经济师": TitleLevel.SENIOR,
}
_TITLE_AFFIXES = re.compile(
    r"(专业技术)?(职称|职务|资格|任职资格|证书)|(及以上|或以上|以上)|^具有|^具备|^持有|^取得"
)


def parse_title_level(value: object) -> TitleLevel | None:
    """A 职称 grade: 初级/中级/副高级/正高级; tolerates "中级职称", "中级以上" (→ 中级), "副高",
    and common title names: 助理工程师 → 初级, 工程师/讲师 → 中级, 高级工程师/副教授 → 副高级,
    正高级工程师/教授级高工/教授/研究员 → 正高级. A bare "高级" or "高级职称" is read as 副高级 (the
    lowest 高级 grade). 不限/无/空 → None."""
    s = normalized(value).replace(" ", "")
    if s.lower() in BLANKS or s in NO_REQUIREMENT:
        return None
    if s in _TITLES:
        return _TITLES[s]
    if "技师" in s or s.endswith("级工") or "学徒" in s:
        raise ValueError("这是技能等级，不是职称；职称应为 初级、中级、副高级 或 正高级")
    core = _TITLE_AFFIXES.sub("", s).strip("()")
    if core in _TITLES:
        return _TITLES[core]
    if core in NO_REQUIREMENT or core == "":
        return None
    for key, level in (
        ("正高", TitleLevel.SENIOR),
        ("教授级", TitleLevel.SENIOR),
        ("副高", TitleLevel.DEPUTY_SENIOR),
        ("高级", TitleLevel.DEPUTY_SENIOR),
        ("中级", TitleLevel.INTERMEDIATE),
        ("初级", TitleLevel.JUNIOR),
    ):
        if core.startswith(key):
            return level
    raise ValueError("无法识别的职称，应为 初级、中级、副高级 或 正高级")


_SKILL_LEVELS: dict[str, SkillLevel] = {
    "学徒工": SkillLevel.APPRENTICE,
    "学徒": SkillLevel.APPRENTICE,
    "初级工": SkillLevel.GRADE5,
    "初级": SkillLevel.GRADE5,
    "五级": SkillLevel.GRADE5,
    "5级": SkillLevel.GRADE5,
    "中级工": SkillLevel.GRADE4,
    "中级": SkillLevel.GRADE4,
    "四级": SkillLevel.GRADE4,
    "4级": SkillLevel.GRADE4,
    "高级工": SkillLevel.GRADE3,
    "高级": SkillLevel.GRADE3,
    "三级": SkillLevel.GRADE3,
    "3级": SkillLevel.GRADE3,
    "技师": SkillLevel.TECHNICIAN,
    "二级": SkillLevel.TECHNICIAN,
    "2级": SkillLevel.TECHNICIAN,
    "高级技师": SkillLevel.SENIOR_TECHNICIAN,
    "一级": SkillLevel.SENIOR_TECHNICIAN,
    "1级": SkillLevel.SENIOR_TECHNICIAN,
    "特级技师": SkillLevel.SPECIAL_TECHNICIAN,
    "首席技师": SkillLevel.CHIEF_TECHNICIAN,
}
_SKILL_AFFIXES = re.compile(r"国家|职业技能等级|职业资格|技能等级|证书|及以上|或以上|以上|^技能")


def parse_skill_level(value: object) -> SkillLevel | None:
    """A 新八级工 skill grade: 学徒工, 初级工 (五级), 中级工 (四级), 高级工 (三级), 技师 (二级),
    高级技师 (一级), 特级技师, 首席技师; "初级/中级/高级" alone mean 初级工/中级工/高级工; affixes
    such as 职业资格, 证书, 及以上 are dropped ("国家职业资格二级" → 技师). 不限/无/空 → None."""
    s = normalized(value).replace(" ", "")
    if s.lower() in BLANKS or s in NO_REQUIREMENT:
        return None
    if s in _SKILL_LEVELS:
        return _SKILL_LEVELS[s]
    core = _SKILL_AFFIXES.sub("", s)
    if core.startswith("(") and core.endswith(")"):
        core = core[1:-1]
    core = (
        re.sub(r"^(五|四|三|二|一|\d)级(?:/|\()?(.+?)\)?$", r"\2", core)
        if core not in _SKILL_LEVELS
        else core
    )
    if core in _SKILL_LEVELS:
        return _SKILL_LEVELS[core]
    level = _bracketed(core, _SKILL_LEVELS)
    if level is not None:
        return level
    if core in NO_REQUIREMENT or core == "":
        return None
    raise ValueError(
        "无法识别的技能等级，应为 学徒工、初级工、中级工、高级工、技师、高级技师、特级技师 或 首席技师"
    )

