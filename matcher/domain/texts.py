"""Canonical texts of profiles and entries: what the encoder and BM25 see."""

from __future__ import annotations

from collections.abc import Callable

from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import DemandEntry, TalentProfile

OccupationNamer = Callable[[str], str | None]


def _join(items: list[str], sep: str = "、") -> str:
    return sep.join(i for i in items if i)


def demand_text(entry: DemandEntry) -> str:
    """Title, occupation, skills, requirements and description of an entry, normalised."""
    parts = [entry.title]
    if entry.occupation_name and entry.occupation_name != entry.title:
        parts.append(f"职业：{entry.occupation_name}")
    if entry.required_skills:
        parts.append("技能要求：" + _join(entry.required_skills))
    if entry.preferred_skills:
        parts.append("优先：" + _join(entry.preferred_skills))
    if entry.majors:
        parts.append("专业：" + _join(entry.majors))
    if entry.required_certificates:
        parts.append("证书：" + _join(entry.required_certificates))
    if entry.description:
        parts.append(entry.description)
    return normalize_text("；".join(parts))


def talent_text(profile: TalentProfile, occupation_name: OccupationNamer | None = None) -> str:
    """Desired occupations, major, skills, certificates and summary of a profile, normalised."""
    parts: list[str] = []
    desired = []
    for occ in profile.desired_occupations:
        name = occupation_name(occ) if occupation_name else None
        desired.append(name or occ)
    if desired:
        parts.append("求职意向：" + _join(desired))
    if profile.major:
        parts.append(f"专业：{profile.major}")
    if profile.skills:
        parts.append("技能：" + _join(profile.skills))
    certs = list(profile.certificates)
    certs += [f"数字技术工程师（{c.direction}）{c.grade.value}" for c in profile.digital_certs]
    if certs:
        parts.append("证书：" + _join(certs))
    if profile.summary:
        parts.append(profile.summary)
    return normalize_text("；".join(parts)) or "（空白简历）"
