"""Qualification rules: ladders, aliases and equivalences (data/qualifications.json).

A requirement string of a demand entry ("中级以上职称", "数字技术工程师（大数据）中级", "电工证")
is parsed into a structured requirement; a profile meets it under the equivalence rules, e.g.
a 中级 数字技术工程师 certificate counts as a 中级 title (直接认定), and "中级以上职称" is met
by 中级, 副高级 or 正高级.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from matcher.core.textnorm import normalize_key, normalize_text
from matcher.domain.schemas import (
    CertGrade,
    DemandEntry,
    Education,
    SkillLevel,
    TalentProfile,
    TitleLevel,
)

_REQUIREMENTS_KEPT = 10_000  # distinct requirement sets kept by QualificationRules.requirements


def _requirement_fields(entry: DemandEntry) -> tuple[Any, ...]:
    """What an entry's hard requirements are parsed from."""
    return (entry.education, entry.required_title_level, entry.required_skill_level,
            tuple(entry.required_certificates))


@dataclass(frozen=True)
class Requirement:
    """One hard requirement: kind, wanted level or name, and its Chinese label."""

    kind: str  # education | title | skill_level | digital_cert | certificate
    label: str
    level: str | None = None
    direction: str | None = None
    name: str | None = None


class QualificationRules:
    def __init__(self, data: dict) -> None:
        self.equivalences: list[dict] = data.get("equivalences", [])
        self._parsed: dict[str, Requirement] = {}
        # the parse of each distinct set of requirement fields (a fair asks tens of thousands of times)
        self._kept_requirements = lru_cache(maxsize=_REQUIREMENTS_KEPT)(self._requirements_by_fields)
        self.title_aliases: dict[str, str] = {
            normalize_key(k): v for k, v in data.get("title_aliases", {}).items()
        }
        self.skill_aliases: dict[str, str] = {
            normalize_key(k): v for k, v in data.get("skill_level_aliases", {}).items()
        }
        self.cert_aliases: dict[str, set[str]] = {}
        for canon, aliases in data.get("certificate_aliases", {}).items():
            group = {normalize_key(canon), *(normalize_key(a) for a in aliases)}
            for key in group:
                self.cert_aliases.setdefault(key, set()).update(group)

    @classmethod
    def load(cls, path: Path) -> QualificationRules:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    # -- parsing -------------------------------------------------------------------------

    def parse_requirement(self, text: str) -> Requirement:
        """Structure one requirement string; unknown strings become named certificates."""
        cached = self._parsed.get(text)
        if cached is None:
            cached = self._parsed[text] = self._parse_requirement(text)
        return cached

    def _parse_requirement(self, text: str) -> Requirement:
        raw = normalize_text(text)
        key = normalize_key(raw)
        bare = re.sub(r"(及以上|或以上|以上)", "", key)
        m = re.search(r"数字技术工程师\(?([^()]*?)\)?(初级|中级|高级)", normalize_text(raw).replace(" ", ""))
        if m:
            direction = m.group(1).strip("()（）") or None
            return Requirement("digital_cert", raw, level=m.group(2), direction=direction)
        title = self._title_from(bare)
        if title is not None and ("职称" in key or bare in self.title_aliases):
            return Requirement("title", raw, level=title.value)
        skill = self._skill_level_from(bare)
        if skill is not None:
            return Requirement("skill_level", raw, level=skill.value)
        return Requirement("certificate", raw, name=raw)

    def _title_from(self, key: str) -> TitleLevel | None:
        key = key.replace("职称", "")
        if key in self.title_aliases:
            return TitleLevel(self.title_aliases[key])
        for level in sorted(TitleLevel, key=lambda t: -len(t.value)):
            if key == level.value or key == level.value.rstrip("级"):
                return level
        if key == "高级":
            return TitleLevel.DEPUTY_SENIOR
        return None

    def _skill_level_from(self, key: str) -> SkillLevel | None:
        key = key.replace("职业技能等级", "").replace("证书", "")
        if key in self.skill_aliases:
            return SkillLevel(self.skill_aliases[key])
        for level in SkillLevel:
            if key == level.value:
                return level
        return None

    def requirements(self, entry: DemandEntry) -> list[Requirement]:
        """The entry's hard requirements (a new list; the parse is kept per distinct set of
        requirement fields, which a fair or a ranking asks for many times)."""
        return list(self._kept_requirements(*_requirement_fields(entry)))

    def _requirements_of(self, entry: DemandEntry) -> list[Requirement]:
        return list(self._requirements_by_fields(*_requirement_fields(entry)))

    def _requirements_by_fields(self, education: Education | None, title_level: TitleLevel | None,
                                skill_level: SkillLevel | None, certificates: tuple[str, ...]) -> tuple[Requirement, ...]:
        reqs: list[Requirement] = []
        if education is not None:
            reqs.append(Requirement("education", f"{education.value}及以上学历", education.value))
        if title_level is not None:
            lvl = title_level.value
            reqs.append(Requirement("title", f"{lvl}及以上职称", lvl))
        if skill_level is not None:
            lvl = skill_level.value
            reqs.append(Requirement("skill_level", f"{lvl}及以上职业技能等级", lvl))
        reqs.extend(self.parse_requirement(c) for c in certificates)
        return tuple(reqs)

    # -- what a profile holds -------------------------------------------------------------

    def effective_title(self, profile: TalentProfile) -> TitleLevel | None:
        """The profile's title, raised by the equivalence rules (e.g. 直接认定)."""
        best = profile.title_level
        for cert in profile.digital_certs:
            for rule in self.equivalences:
                src, dst = rule["from"], rule["to"]
                if src.get("kind") == "digital_cert" and dst.get("kind") == "title":
                    if cert.grade.value == src.get("grade"):
                        t = TitleLevel(dst["level"])
                        if best is None or t > best:
                            best = t
        return best

    def meets(self, profile: TalentProfile, req: Requirement) -> bool:
        if req.kind == "education":
            return profile.education is not None and profile.education >= Education(req.level)
        if req.kind == "title":
            title = self.effective_title(profile)
            return title is not None and title >= TitleLevel(req.level)
        if req.kind == "skill_level":
            return profile.skill_level is not None and profile.skill_level >= SkillLevel(req.level)
        if req.kind == "digital_cert":
            want = CertGrade(req.level)
            for cert in profile.digital_certs:
                same_dir = req.direction is None or normalize_key(req.direction) in normalize_key(cert.direction) or normalize_key(cert.direction) in normalize_key(req.direction)
                if same_dir and cert.grade >= want:
                    return True
            return False
        return self._holds_certificate(profile, req.name or req.label)

    def _holds_certificate(self, profile: TalentProfile, name: str) -> bool:
        want = normalize_key(name)
        accepted = self.cert_aliases.get(want, {want})
        for held in profile.certificates:
            h = normalize_key(held)
            if h in accepted or any(a and (a in h) for a in accepted):
                return True
        return False

    def unmet(self, profile: TalentProfile, entry: DemandEntry) -> list[Requirement]:
        return [r for r in self.requirements(entry) if not self.meets(profile, r)]


@lru_cache(maxsize=4)
def load_rules(path: Path) -> QualificationRules:
    return QualificationRules.load(path)
