"""Requirements stated in running text: years of experience and education.

A catalogue's 岗位职责/任职要求 or a seeker's free-text query often says "3年以上相关工作经验",
"本科及以上学历" or "三年Java经验" where no column or field carries it. These functions find
the first such statement; they never guess from a bare number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from matcher.domain.schemas import Education
from matcher.ingest.parsing.cells import normalized
from matcher.ingest.parsing.levels import parse_education
from matcher.ingest.parsing.numbers import CN_NUM_RE, to_number

_NUM = r"(?<![\d.])(\d+(?:\.\d+)?|" + CN_NUM_RE + r"|半)"
# "3年以上工作经验", "三年Java经验", "5年及以上相关经验", "1-3年经验", "两年以上xx行业从业经历"
_YEARS_BEFORE = re.compile(
    _NUM + r"\s*(?:-|~|至|到)?\s*(?:\d+)?\s*(个月|年)(?:半)?\s*(?:及以上|或以上|以上|\+)?"
    r"[^，,。；;、\d]{0,12}?(?:工作|从业|开发|项目|管理|相关|实际|实践)?(?:经验|经历|工作年限)"
)
# "工作经验3年以上", "经验要求：5年", "从业经历两年以上"
_YEARS_AFTER = re.compile(r"(?:经验|经历|工作年限|从业年限)[^，,。；;\d" + CN_NUM_RE[1:-2] + r"]{0,4}?" + _NUM
                          + r"\s*(个月|年)")
_EDU_TOKEN = (r"(博士研究生|博士|硕士研究生|硕士|研究生|全日制本科|统招本科|大学本科|本科|大学专科|专科|大专|"
              r"高职|中专|高中|技校)")
# "本科及以上学历", "大专以上", "硕士研究生学历", "学历：本科"; not "本科院校合作" without a
# requirement word around it
_EDU_REQ = re.compile(_EDU_TOKEN + r"\s*(?:及以上|或以上|以上|\(含\)以上)?\s*(?:学历|学位|毕业)"
                      r"|" + _EDU_TOKEN + r"\s*(?:及以上|或以上|以上)"
                      r"|学历[：:\s]*(?:要求)?[：:\s]*" + _EDU_TOKEN)
_PREFERRED = re.compile(r"[^，,。；;]{0,4}优先")  # "硕士学历优先" prefers, it does not require
_FRESH = re.compile(r"应届(?:毕业生|生)?|毕业生|在校生")
_FRESH_EDU = re.compile(r"应届\s*" + _EDU_TOKEN + r"(?:毕业生|生)?|" + _EDU_TOKEN + r"\s*应届(?:毕业生|生)?")


def _years(number: str, unit: str) -> float | None:
    amount = 0.5 if number == "半" else to_number(number)
    if amount is None:
        return None
    if "月" in unit:
        amount /= 12
    return float(round(amount, 2)) if 0 <= amount <= 50 else None


def years_in_text(text: str | None) -> float | None:
    """The years of experience a text states ("3年以上经验" → 3, "三年Java经验" → 3,
    "工作经验两年以上" → 2, "1-3年相关经验" → 1), or None when it states none."""
    if not text:
        return None
    s = normalized(text)
    found = [m for m in (_YEARS_BEFORE.search(s), _YEARS_AFTER.search(s)) if m]
    if not found:
        return None
    m = min(found, key=lambda x: x.start())
    return _years(m.group(1), m.group(2))


def education_in_text(text: str | None) -> Education | None:
    """The education a text requires or states ("本科及以上学历" → 本科, "应届硕士" → 硕士,
    "学历：大专" → 大专), or None."""
    if not text:
        return None
    s = normalized(text).replace(" ", "")
    m = next((m for m in _EDU_REQ.finditer(s) if not _PREFERRED.match(s, m.end())), None)
    m = m or _FRESH_EDU.search(s)
    if not m:
        return None
    token = next(g for g in m.groups() if g)
    try:
        return parse_education(token.removeprefix("全日制").removeprefix("统招"))
    except ValueError:
        return None


def fresh_graduate_in_text(text: str | None) -> bool:
    """Whether a text speaks of a fresh graduate (应届, 应届生, 毕业生)."""
    return bool(text and _FRESH.search(normalized(text)))


class _Places(Protocol):
    def cities_in_text(self, text: str | None) -> list[str]: ...


@dataclass(frozen=True)
class Stated:
    """What a free-text query states of its own: years, education, fresh graduate, cities."""

    years: float | None = None
    education: Education | None = None
    fresh_graduate: bool = False
    cities: list[str] = field(default_factory=list)

    @property
    def fields(self) -> frozenset[str]:
        """The requirement fields stated ("experience", "education", "fresh", "location")."""
        return frozenset(name for name, known in (("experience", self.years is not None),
                                                  ("education", self.education is not None),
                                                  ("fresh", self.fresh_graduate),
                                                  ("location", bool(self.cities))) if known)


def stated_in_text(text: str, places: _Places | None = None) -> Stated:
    """What a free-text query ("三年Java经验，想在济南工作", "应届硕士") states; ``places`` finds
    the cities (``matcher.reference.regions.Regions``). A fresh graduate with no years stated has
    0 years, stated."""
    years = years_in_text(text)
    fresh = fresh_graduate_in_text(text)
    if years is None and fresh:
        years = 0.0
    return Stated(years, education_in_text(text), fresh, places.cities_in_text(text) if places else [])
