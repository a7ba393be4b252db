"""Explaining a scored pair in Chinese: reasons, unmet requirements, training directions."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from matcher.domain.schemas import (
    DemandEntry,
    Explanation,
    IndustryChain,
    Match,
    TalentProfile,
    TrainingSuggestion,
)
from matcher.ranking.scorer import Scored
from matcher.reference.quals import QualificationRules
from matcher.reference.skills import SkillVocab


class Explainer:
    """Turns scored pairs into shown results. ``chains`` returns the industry chains by id
    (their names are quoted in reasons)."""

    def __init__(self, vocab: SkillVocab, rules: QualificationRules, directions: Mapping[str, dict[str, Any]],
                 chains: Callable[[], Mapping[str, IndustryChain]]) -> None:
        self.vocab = vocab
        self.rules = rules
        self.directions = directions
        self.chains = chains

    def to_match(self, sc: Scored) -> Match:
        """A scored pair as a shown result, with its explanation in Chinese."""
        explanation = self.explain(sc.profile, sc.entry, sc.matched, sc.missing, sc.unmet, sc.comp,
                                   experience_known=sc.experience_known)
        if sc.unmet_fresh:
            explanation.unmet_requirements.append(self.fresh_message(sc.entry))
        if sc.target == "demand":
            title = sc.entry.title
        else:
            title = sc.profile.name or f"人才 {sc.profile.id}"
        return Match(kind=sc.target, id=sc.other_id, title=title, score=round(sc.score, 4),
                     seeker_score=round(sc.seeker, 4), employer_score=round(sc.employer, 4),
                     components={k: round(v, 4) for k, v in sc.comp.items()}, eligible=sc.eligible,
                     explanation=explanation)

    @staticmethod
    def fresh_message(entry: DemandEntry) -> str:
        return f"该岗位不面向应届毕业生，要求 {entry.min_experience_years:g} 年以上工作经验"

    def unmet_messages(self, unmet: list) -> list[str]:
        """The unmet hard requirements in Chinese (a title names its 直接认定 route)."""
        unmet_msgs = []
        for r in unmet:
            msg = f"未满足：{r.label}"
            if r.kind == "title":
                basis = [e for e in self.rules.equivalences if e["to"].get("level") == r.level]
                if basis:
                    msg += f"（取得{r.level}数字技术工程师证书可直接认定相应职称）"
            unmet_msgs.append(msg)
        return unmet_msgs

    def explain(self, profile: TalentProfile, entry: DemandEntry, matched: list[str], missing: list[str],
                unmet: list, comp: dict[str, float], *, experience_known: bool = True) -> Explanation:
        unmet_msgs = self.unmet_messages(unmet)
        return Explanation(matched_skills=matched, missing_skills=missing, unmet_requirements=unmet_msgs,
                           reasons=self.reasons(profile, entry, matched, comp, experience_known=experience_known),
                           training=self.training_for(missing))

    def reasons(self, profile: TalentProfile, entry: DemandEntry, matched: list[str],
                comp: dict[str, float], *, experience_known: bool = True) -> list[str]:
        """Why the pair fits (and the experience it lacks), feature by feature; a free-text
        wish that states no years says nothing of experience."""
        reasons = []
        if comp["semantic"] >= 0.5:
            reasons.append(f"整体背景与岗位内容相近（语义相关度 {comp['semantic']:.2f}）")
        n_req = len(entry.required_skills)
        if matched:
            reasons.append(f"技能匹配：{'、'.join(matched)}（{len(matched)}/{n_req} 项必备技能）")
        if entry.education is not None and profile.education is not None and comp["education"] == 1.0:
            reasons.append(f"学历符合：{profile.education.value}（要求{entry.education.value}及以上）")
        if comp["major"] >= 0.7 and entry.majors and profile.major:
            reasons.append(f"专业对口：{profile.major}")
        if comp["location"] >= 0.8 and entry.city:
            reasons.append(f"工作地点符合意向：{entry.city}")
        if comp["salary"] == 1.0 and entry.salary_max:
            reasons.append(f"薪资满足期望：{entry.salary_min or ''}-{entry.salary_max} 元/月")
        if comp["occupation"] >= 0.7:
            reasons.append(f"职业方向一致：{entry.occupation_name or entry.occupation_code}")
        if comp["chain"] == 1.0 and entry.chain_id:
            chain = self.chains().get(entry.chain_id)
            reasons.append(f"属于意向产业链：{chain.name if chain else entry.chain_id}")
        if entry.shortage_level and entry.shortage_level >= 4:
            reasons.append(f"急需紧缺岗位（{entry.shortage_level} 星）")
        if experience_known and comp["experience"] < 1.0:
            reasons.append(f"工作经验 {profile.experience_years:g} 年，岗位要求 {entry.min_experience_years:g} 年")
        return reasons

    def training_for(self, missing: Sequence[str], limit: int = 3) -> list[TrainingSuggestion]:
        """数字技术工程师 training directions that close the most of a skill gap."""
        covers: dict[str, list[str]] = {}
        for skill in missing:
            for d in self.vocab.directions_of(skill):
                covers.setdefault(d, []).append(skill)
        ranked = sorted(covers.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
        out = []
        for direction, skills in ranked:
            info = self.directions.get(direction, {})
            title = info.get("title") or f"数字技术工程师（{direction}）"
            out.append(TrainingSuggestion(
                direction=direction, covers=skills,
                message=f"建议参加{title}培训，可补齐：{'、'.join(skills)}"))
        return out
