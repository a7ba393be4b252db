"""The two-sided score of a (talent, demand entry) pair and the caller's filters.

A pair is scored from both sides: the employer's (semantic fit, required and preferred skills,
education, major, experience, certificates) and the seeker's (semantic fit, use of their
skills, salary, location, occupation, industry chain, shortage); the score blends the two with
``Weights.employer_share``. Hard requirements (qualification rules, posts closed to fresh
graduates) make a pair ineligible without changing its score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from matcher.core.settings import Weights
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import DemandEntry, MatchFilters, TalentProfile
from matcher.domain.schemas import RecordKind as Kind
from matcher.ranking import features as F
from matcher.reference.majors import MajorTaxonomy
from matcher.reference.occupations import CODE_RE
from matcher.reference.quals import QualificationRules
from matcher.reference.regions import Regions
from matcher.reference.skills import SkillVocab

LEXICAL_SHARE_FREE_TEXT = 0.3  # BM25's share of relevance for free-text queries


@dataclass
class Scored:
    """A scored (talent, entry) pair; turned into a Match (with its explanation) only if shown."""

    profile: TalentProfile
    entry: DemandEntry
    target: Kind
    score: float
    seeker: float
    employer: float
    comp: dict[str, float]
    eligible: bool
    matched: list[str]
    missing: list[str]
    unmet: list[Any]
    unmet_fresh: bool
    experience_known: bool = True  # False for a free-text wish that states no years

    @property
    def other_id(self) -> int:
        return int((self.entry.id if self.target == "demand" else self.profile.id) or 0)

    def sort_key(self) -> tuple:
        return (not self.eligible, -self.score, self.other_id)


@dataclass
class SkillCoverage:
    """The entry's required and preferred skills the talent holds (by skill key, or named in
    the talent's summary) and lacks, in the entry's order."""

    matched: list[str]
    missing: list[str]
    pref_matched: list[str]
    pref_missing: list[str]
    required: int
    preferred: int


class PairScorer:
    """Scores pairs with the reference data (skills, qualification rules, regions) and weights."""

    def __init__(self, vocab: SkillVocab, rules: QualificationRules, regions: Regions, weights: Weights,
                 majors: MajorTaxonomy | None = None) -> None:
        self.majors = majors
        self.vocab = vocab
        self.rules = rules
        self.regions = regions
        self.weights = weights

    def coverage(self, profile: TalentProfile, entry: DemandEntry) -> SkillCoverage:
        have = {self.vocab.key(s): s for s in profile.skills}
        text_keys = normalize_text(profile.summary).lower()
        req = [(self.vocab.key(s), s) for s in entry.required_skills]
        pref = [(self.vocab.key(s), s) for s in entry.preferred_skills]

        def held(key: str, label: str) -> bool:
            return key in have or (len(label) >= 2 and label.lower() in text_keys)

        return SkillCoverage(matched=[s for k, s in req if held(k, s)], missing=[s for k, s in req if not held(k, s)],
                             pref_matched=[s for k, s in pref if held(k, s)],
                             pref_missing=[s for k, s in pref if not held(k, s)],
                             required=len(req), preferred=len(pref))

    def score(self, profile: TalentProfile, entry: DemandEntry, cos: float, background: float,
              target: Kind, partial: bool = False, lexical: float | None = None,
              stated: frozenset[str] = frozenset()) -> Scored:
        """The pair's score. ``partial``: the talent is a free-text wish (no hard requirements,
        unknown skills, experience and major) except what it ``stated`` ("experience",
        "education": "三年Java经验", "应届硕士"); ``lexical``: the candidate's BM25 score relative
        to the best candidate's, blended into the semantic feature for free text."""
        skills = self.coverage(profile, entry)
        if partial:
            unmet = ([r for r in self.rules.unmet(profile, entry) if r.kind == "education"]
                     if "education" in stated else [])
        else:
            unmet = self.rules.unmet(profile, entry)
        cert_reqs = [r for r in self.rules.requirements(entry) if r.kind != "education"]
        # a post closed to fresh graduates that asks for experience is a hard requirement
        unmet_fresh = ((not partial or "fresh" in stated) and not entry.fresh_graduates_ok and profile.fresh_graduate
                       and profile.experience_years < max(entry.min_experience_years, 0.01))
        eligible = not unmet and not unmet_fresh

        sem = F.semantic(cos, background)
        if lexical is not None:
            sem = LEXICAL_SHARE_FREE_TEXT * lexical + (1 - LEXICAL_SHARE_FREE_TEXT) * sem
        experience_known = not partial or "experience" in stated
        comp = self.components(profile, entry, sem, skills, unmet, cert_reqs, target=target, partial=partial,
                               experience_known=experience_known)
        employer, seeker = self.sides(comp)
        score = self.weights.employer_share * employer + (1 - self.weights.employer_share) * seeker
        return Scored(profile, entry, target, score, seeker, employer, comp, eligible, skills.matched,
                      skills.missing + skills.pref_missing, unmet, unmet_fresh, experience_known)

    def components(self, profile: TalentProfile, entry: DemandEntry, sem: float, skills: SkillCoverage,
                   unmet: list[Any], cert_reqs: list[Any], *, target: Kind, partial: bool,
                   experience_known: bool | None = None) -> dict[str, float]:
        """Every feature of the pair, in [0, 1]."""
        matched, pref_matched = skills.matched, skills.pref_matched
        used = len(matched) + len(pref_matched)
        # Ranking posts for a seeker who stated no skills (or only wrote a free-text wish, which
        # names a few skills but is no inventory): coverage is unknown, not zero. Scoring it as
        # zero sank every post that lists skills below posts that list none (issue 6's eval).
        skills_unknown = target == "demand" and (partial or not (profile.skills or matched or pref_matched))
        return {
            "semantic": sem,
            "required_skills": sem if skills_unknown else F.ratio(len(matched), skills.required, empty=sem),
            "preferred_skills": sem if skills_unknown else F.ratio(len(pref_matched), skills.preferred, empty=1.0),
            "education": 1.0 if not any(r.kind == "education" for r in unmet) else 0.0,
            # the same for a major or experience the seeker did not state
            "major": F.NEUTRAL if target == "demand" and not profile.major and entry.majors
            else F.major_fit(profile.major, entry.majors, self.majors),
            "experience": F.experience_fit(profile.experience_years, entry.min_experience_years)
            if (not partial if experience_known is None else experience_known) else F.NEUTRAL,
            "certificates": F.ratio(sum(1 for r in cert_reqs if r not in unmet), len(cert_reqs)),
            "skill_use": sem if partial else F.ratio(used, min(len(profile.skills), skills.required + skills.preferred),
                                                     empty=sem),
            "salary": F.salary_fit(profile.salary_min, profile.salary_max, entry.salary_min, entry.salary_max),
            "location": F.location_fit(profile.city, profile.preferred_cities, self.regions.province(profile.city),
                                       entry.city, self.regions.province(entry.city)),
            "occupation": F.occupation_fit([c for c in profile.desired_occupations if CODE_RE.match(c)],
                                           entry.occupation_code),
            "chain": F.chain_fit(profile.desired_chains, entry.chain_id),
            "shortage": F.shortage(entry.shortage_level),
        }

    def sides(self, comp: dict[str, float]) -> tuple[float, float]:
        """(employer's score, seeker's score) of the components."""
        w = self.weights
        employer = F.weighted(comp, {
            "semantic": w.e_semantic, "required_skills": w.e_required_skills,
            "preferred_skills": w.e_preferred_skills, "education": w.e_education, "major": w.e_major,
            "experience": w.e_experience, "certificates": w.e_certificates})
        seeker = F.weighted(comp, {
            "semantic": w.s_semantic, "skill_use": w.s_skill_use, "salary": w.s_salary,
            "location": w.s_location, "occupation": w.s_occupation, "chain": w.s_chain,
            "shortage": w.s_shortage})
        return employer, seeker


def top(scored: Iterable[Scored], top_k: int, min_score: float) -> list[Scored]:
    """The ``top_k`` best pairs scoring at least ``min_score``: eligible first, then by score, then by id."""
    kept = [sc for sc in scored if sc.score >= min_score]
    kept.sort(key=Scored.sort_key)
    return kept[:top_k]


def passes(entry: DemandEntry, profile: TalentProfile, f: MatchFilters, *, for_seeker: bool, regions: Regions,
           resolve_chain: Callable[[str], str | None], today: date | None = None) -> bool:
    """Filters asked for by the caller, applied to the candidate side (the entry for a seeker,
    the talent for an employer); an entry past its ``valid_until`` never passes.
    ``resolve_chain`` turns a chain id or name into an id (unknown values raise InvalidInput)."""
    other: Any = entry if for_seeker else profile
    if entry.valid_until is not None and entry.valid_until < (today or date.today()):
        return False
    if f.city and other.city != regions.city(f.city):
        return False
    if f.province and regions.province(other.city) != regions.province(f.province):
        return False
    if f.chain_id:
        chain = resolve_chain(f.chain_id)
        if for_seeker and entry.chain_id != chain:
            return False
        if not for_seeker and chain not in profile.desired_chains:
            return False
    if f.education is not None:
        if for_seeker and entry.education is not None and entry.education > f.education:
            return False
        if not for_seeker and (profile.education is None or profile.education < f.education):
            return False
    if f.salary_min is not None:
        if for_seeker and entry.salary_max is not None and entry.salary_max < f.salary_min:
            return False
        if not for_seeker and profile.salary_min is not None and profile.salary_min > f.salary_min:
            return False
    if f.fresh_graduates_only:
        # a post that asks for a year or more of experience is not open to fresh graduates, whatever
        # its fresh_graduates_ok flag says (catalogue rows rarely set it)
        if for_seeker and (not entry.fresh_graduates_ok or entry.min_experience_years >= 1):
            return False
        if not for_seeker and not profile.fresh_graduate:
            return False
    return True
