"""The two-sided score of a (talent, demand entry) pair and the caller's filters.

A pair is scored from both sides: the employer's (semantic fit, required and preferred skills,
education, major, experience, certificates) and the seeker's (semantic fit, use of their
skills, salary, location, occupation, industry chain, shortage); the score blends the two with
``Weights.employer_share``. Hard requirements (qualification rules, posts closed to fresh
graduates) make a pair ineligible without changing its score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain as concat
from typing import Any

import numpy as np

from matcher.core.settings import Weights
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import DemandEntry, MatchFilters, TalentProfile
from matcher.domain.schemas import RecordKind as Kind
from matcher.ranking import features as F
from matcher.ranking.keyed import KeyMemo
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
        self._keyed = KeyMemo()  # the candidates' keys and feature values, across rankings
        self.vocab = vocab
        self.rules = rules
        self.regions = regions
        self.weights = weights

    @classmethod
    def for_reference(cls, ref: Any, weights: Weights) -> PairScorer:
        """The scorer of a reference bundle (``matcher.reference.bundle.ReferenceData``): the one
        way the service and the batch jobs build it, so they score alike."""
        return cls(ref.vocab, ref.rules, ref.regions, weights, ref.majors)

    def holdings(self, profile: TalentProfile) -> tuple[set[str], str]:
        """What :func:`holds` reads of a talent: its skill keys and its summary (lower case)."""
        return {self.vocab.key(s) for s in profile.skills}, normalize_text(profile.summary).lower()

    def coverage(self, profile: TalentProfile, entry: DemandEntry,
                 holdings: tuple[set[str], str] | None = None) -> SkillCoverage:
        """``holdings``: the talent's (:meth:`holdings`), when already worked out."""
        have, text = holdings if holdings is not None else self.holdings(profile)
        req = [(self.vocab.key(s), s) for s in entry.required_skills]
        pref = [(self.vocab.key(s), s) for s in entry.preferred_skills]

        def held(key: str, label: str) -> bool:
            return holds(have, text, key, label)

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
        cert_reqs = self.cert_requirements(entry)
        unmet_fresh = (not partial or "fresh" in stated) and closed_to_fresh(profile, entry)
        eligible = not unmet and not unmet_fresh

        sem = F.semantic(cos, background)
        if lexical is not None:
            sem = LEXICAL_SHARE_FREE_TEXT * lexical + (1 - LEXICAL_SHARE_FREE_TEXT) * sem
        experience_known = not partial or "experience" in stated
        comp = self.components(profile, entry, sem, skills, unmet, cert_reqs, target=target, partial=partial,
                               experience_known=experience_known)
        employer, seeker = self.sides(comp)
        score = self.blend(employer, seeker)
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
            "education": education_met(unmet),
            "major": self.major(profile, entry, target),
            "experience": experience(profile, entry)
            if (not partial if experience_known is None else experience_known) else F.NEUTRAL,
            "certificates": certificates_met(cert_reqs, unmet),
            "skill_use": sem if partial else F.ratio(used, min(len(profile.skills), skills.required + skills.preferred),
                                                     empty=sem),
            "salary": salary(profile, entry),
            "location": self.location(profile, entry),
            "occupation": occupation(profile, entry),
            "chain": chain(profile, entry),
            "shortage": shortage(profile, entry),
        }

    # -- features of a pair from a few fields of each side ----------------------------------
    # Each reads only the fields its keys in PAIR_KEYS name: ``score_many`` evaluates it once
    # per distinct (talent key, entry key) among the pairs, ``score`` once per pair.

    def major(self, profile: TalentProfile, entry: DemandEntry, target: Kind = "demand") -> float:
        # neutral for a seeker ranking posts who stated no major
        if target == "demand" and not profile.major and entry.majors:
            return F.NEUTRAL
        return F.major_fit(profile.major, entry.majors, self.majors)

    def location(self, profile: TalentProfile, entry: DemandEntry) -> float:
        return F.location_fit(profile.city, profile.preferred_cities, self.regions.province(profile.city),
                              entry.city, self.regions.province(entry.city))

    def cert_requirements(self, entry: DemandEntry) -> list[Any]:
        """The entry's hard requirements other than education (what ``certificates`` counts)."""
        return [r for r in self.rules.requirements(entry) if r.kind != "education"]

    def qualification(self, profile: TalentProfile, entry: DemandEntry,
                      meets: Callable[[Any], bool] | None = None) -> tuple[float, float, bool]:
        """(``education``, ``certificates``, whether some requirement is unmet) of a full pair;
        ``meets`` answers ``rules.meets(profile, requirement)`` (e.g. from a memo)."""
        meets = meets or (lambda r: self.rules.meets(profile, r))
        unmet = [r for r in self.rules.requirements(entry) if not meets(r)]  # QualificationRules.unmet
        return education_met(unmet), certificates_met(self.cert_requirements(entry), unmet), bool(unmet)

    def _memo_qualification(self) -> Callable[[TalentProfile, DemandEntry], tuple[float, float, bool]]:
        """:meth:`qualification` with ``rules.meets`` memoised per (talent's qualification key,
        requirement): a fair asks the same few hundred of each many times."""
        memo: dict[tuple[Any, Any], bool] = {}

        def qual(profile: TalentProfile, entry: DemandEntry) -> tuple[float, float, bool]:
            key = _qual_key(profile)

            def meets(r: Any) -> bool:
                found = memo.get((key, r))
                if found is None:
                    found = memo[(key, r)] = self.rules.meets(profile, r)
                return found

            return self.qualification(profile, entry, meets)

        return qual

    def blend(self, employer: Any, seeker: Any) -> Any:
        """The score of the two sides' scores (floats or arrays)."""
        return self.weights.employer_share * employer + (1 - self.weights.employer_share) * seeker

    def score_many(self, profiles: Sequence[TalentProfile], entries: Sequence[DemandEntry], si: np.ndarray,
                   ej: np.ndarray, cos: np.ndarray, background: float, target: Kind = "demand",
                   keyed: dict[str, np.ndarray] | None = None) -> ScoredMany:
        """:meth:`score` of many full (not free-text) pairs, for a seeker ranking posts
        (``target="demand"``, the default) or for an entry's candidates (``"talent"``): pair
        ``k`` is ``profiles[si[k]]`` with ``entries[ej[k]]`` at cosine ``cos[k]``. The same floats as :meth:`score` pair by pair: the features of a few fields
        are evaluated once per distinct key pair, skills by a held-skills matrix, the sums with
        the same operations in the same order on arrays. ``keyed``: the features of
        :meth:`_pair_keys` of the pairs, when already worked out (:meth:`rank_many`)."""
        si = np.asarray(si, dtype=np.int64)
        ej = np.asarray(ej, dtype=np.int64)
        n = len(si)
        if n == 0:
            empty = np.zeros(0)
            return ScoredMany(empty, empty, empty, np.zeros(0, dtype=bool), {})
        sem = F.semantic_many(np.asarray(cos, dtype=np.float64), background)
        if keyed is None:
            keyed = {name: by_keys(profiles, entries, si, ej, pk, ek, fn)
                     for name, (pk, ek, fn) in self._pair_keys(target).items()}
        edu, cert, unmet = (keyed["qualification"][:, c] for c in range(3))
        fresh = keyed["closed_to_fresh"].astype(bool)
        n_req, n_pref, m_req, m_pref, n_skills = self._skill_counts(profiles, entries, si, ej)
        # as in components(): coverage is unknown only for a seeker ranking posts
        unknown = (n_skills == 0) & (m_req == 0) & (m_pref == 0) & (target == "demand")
        comp = {
            "semantic": sem,
            "required_skills": np.where(unknown, sem, F.ratio_many(m_req, n_req, sem)),
            "preferred_skills": np.where(unknown, sem, F.ratio_many(m_pref, n_pref, np.ones(n))),
            "education": edu,
            "major": keyed["major"],
            "experience": keyed["experience"],
            "certificates": cert,
            "skill_use": F.ratio_many(m_req + m_pref, np.minimum(n_skills, n_req + n_pref), sem),
            "salary": keyed["salary"],
            "location": keyed["location"],
            "occupation": keyed["occupation"],
            "chain": keyed["chain"],
            "shortage": keyed["shortage"],
        }
        employer, seeker = self.sides(comp)
        employer = np.broadcast_to(np.asarray(employer, dtype=np.float64), (n,))
        seeker = np.broadcast_to(np.asarray(seeker, dtype=np.float64), (n,))
        return ScoredMany(self.blend(employer, seeker), seeker, employer, ~((unmet > 0) | fresh), comp)

    def _pair_keys(self, target: Kind = "demand") -> dict[str, tuple[Callable[[TalentProfile], Any], Callable[[DemandEntry], Any],
                                            Callable[[TalentProfile, DemandEntry], Any]]]:
        """Per feature: the talent's key, the entry's key (what the feature reads of each) and
        the feature of a pair."""
        return {
            "qualification": (_qual_key, _req_key, self._memo_qualification()),
            "closed_to_fresh": (lambda p: (p.fresh_graduate, p.experience_years),
                                lambda e: (e.fresh_graduates_ok, e.min_experience_years), closed_to_fresh),
            "major": (lambda p: p.major, lambda e: tuple(e.majors), lambda p, e: self.major(p, e, target)),
            "experience": (lambda p: p.experience_years, lambda e: e.min_experience_years, experience),
            "salary": (lambda p: (p.salary_min, p.salary_max), lambda e: (e.salary_min, e.salary_max), salary),
            "location": (lambda p: (p.city, tuple(p.preferred_cities)), lambda e: e.city, self.location),
            "occupation": (lambda p: tuple(p.desired_occupations), lambda e: e.occupation_code, occupation),
            "chain": (lambda p: tuple(p.desired_chains), lambda e: e.chain_id, chain),
            "shortage": (lambda p: None, lambda e: e.shortage_level, shortage),
        }

    def _skill_counts(self, profiles: Sequence[TalentProfile], entries: Sequence[DemandEntry], si: np.ndarray,
                      ej: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per pair: the entry's required and preferred skills, how many of each the talent
        holds (:func:`holds`), and the talent's listed skills."""
        used_p = np.unique(si)
        if len(used_p) == 1:  # one talent (a seeker's ranking): counted directly, no matrices
            return self._skill_counts_of_one(profiles[int(used_p[0])], entries, si, ej)
        from scipy import sparse

        items: dict[tuple[str, str], int] = {}

        def rows(lists: list[list[str]]) -> Any:
            r, c = [], []
            for j, labels in enumerate(lists):
                for label in labels:
                    r.append(j)
                    c.append(items.setdefault((self.vocab.key(label), label), len(items)))
            return r, c

        used_e = np.unique(ej)
        req_r, req_c = rows([entries[j].required_skills for j in used_e])
        pref_r, pref_c = rows([entries[j].preferred_skills for j in used_e])
        by_key: dict[str, list[int]] = {}
        for (key, _label), k in items.items():
            by_key.setdefault(key, []).append(k)
        # the names of two characters or more, by their first character: a summary can only
        # contain the names whose first character it has
        long_labels: dict[str, list[tuple[int, str]]] = {}
        for (_key, label), k in items.items():
            if len(label) >= 2:
                low = label.lower()
                long_labels.setdefault(low[0], []).append((k, low))
        h_r, h_c = [], []
        for i, p in enumerate(used_p.tolist()):
            have, text = self.holdings(profiles[p])
            held = {k for key in have for k in by_key.get(key, ())}
            if text:
                for first in long_labels.keys() & set(text):
                    held.update(k for k, low in long_labels[first] if low in text)
            h_r += [i] * len(held)
            h_c += list(held)
        shape_e = (len(used_e), max(len(items), 1))
        req = sparse.csr_matrix((np.ones(len(req_r)), (req_r, req_c)), shape=shape_e)
        pref = sparse.csr_matrix((np.ones(len(pref_r)), (pref_r, pref_c)), shape=shape_e)
        held_m = sparse.csr_matrix((np.ones(len(h_r)), (h_r, h_c)), shape=(len(used_p), shape_e[1]))
        pi, ejj = np.searchsorted(used_p, si), np.searchsorted(used_e, ej)
        m_req = np.asarray((held_m @ req.T).tocsr()[pi, ejj]).ravel().round().astype(np.int64)
        m_pref = np.asarray((held_m @ pref.T).tocsr()[pi, ejj]).ravel().round().astype(np.int64)
        n_req = np.array([len(entries[j].required_skills) for j in range(len(entries))], dtype=np.int64)[ej]
        n_pref = np.array([len(entries[j].preferred_skills) for j in range(len(entries))], dtype=np.int64)[ej]
        n_skills = np.array([len(p.skills) for p in profiles], dtype=np.int64)[si]
        return n_req, n_pref, m_req, m_pref, n_skills

    def _skill_counts_of_one(self, profile: TalentProfile, entries: Sequence[DemandEntry], si: np.ndarray,
                             ej: np.ndarray) -> tuple[np.ndarray, ...]:
        """:meth:`_skill_counts` when every pair has the same talent: whether it holds a skill
        (:func:`holds`) asked once per distinct skill name, the entries' counts summed from that
        (every entry is counted, those no pair uses too: cheaper than finding them)."""
        have, text = self.holdings(profile)
        key = self.vocab.key
        req_l = [e.required_skills for e in entries]
        pref_l = [e.preferred_skills for e in entries]
        n_req_all = np.fromiter(map(len, req_l), dtype=np.int64, count=len(entries))
        n_pref_all = np.fromiter(map(len, pref_l), dtype=np.int64, count=len(entries))
        flat_req, flat_pref = list(concat.from_iterable(req_l)), list(concat.from_iterable(pref_l))
        held = {label: int(holds(have, text, key(label), label)) for label in {*flat_req, *flat_pref}}
        rows = np.arange(len(entries))

        def counts(flat: list[str], lengths: np.ndarray) -> np.ndarray:
            if not flat:
                return np.zeros(len(entries), dtype=np.int64)
            got = np.fromiter(map(held.__getitem__, flat), dtype=np.int64, count=len(flat))
            return np.bincount(np.repeat(rows, lengths), weights=got, minlength=len(entries)).astype(np.int64)

        req, pref = counts(flat_req, n_req_all), counts(flat_pref, n_pref_all)
        n_skills = np.full(len(si), len(profile.skills), dtype=np.int64)
        return n_req_all[ej], n_pref_all[ej], req[ej], pref[ej], n_skills

    def top_many(self, query: TalentProfile | DemandEntry, target: Kind,
                 candidates: Sequence[tuple[TalentProfile | DemandEntry, float]], background: float, *,
                 top_k: int, min_score: float, include_ineligible: bool = False) -> list[Scored]:
        """``top(scored(query, target, candidates, background, ...), top_k, min_score)`` for a
        stored record (not free text): every candidate ``(record, cosine)`` is scored on arrays
        (:meth:`score_many`, the same floats), and only the ``top_k`` shown are scored pair by
        pair for their explanations. The same list, in the same order."""
        return self.rank_many(query, target, candidates, background).top(
            top_k, min_score, include_ineligible=include_ineligible)

    def remember(self, side: Kind, records: Sequence[TalentProfile | DemandEntry]) -> None:
        """Work out the keys of records a ranking will read as candidates (``side``: theirs), so
        that it finds them kept (:class:`~matcher.ranking.keyed.KeyMemo`); the records must not
        be changed afterwards (the record cache's models are not)."""
        self._keyed.remember(side, records, self._pair_keys(side))

    def rank_many(self, query: TalentProfile | DemandEntry, target: Kind,
                  candidates: Sequence[tuple[TalentProfile | DemandEntry, float]], background: float,
                  ids: Sequence[int] | None = None) -> RankedMany:
        """Every candidate ``(record, cosine)`` of a stored record scored on arrays, once, ready to
        give :meth:`RankedMany.top` lists (of all candidates, or of those a filter keeps): a pair's
        score does not depend on the other candidates, so each list is the one :meth:`top_many`
        gives for those candidates. ``ids``: the candidates' ids when the caller has them (else
        read from the records)."""
        n = len(candidates)
        others = [c for c, _ in candidates]
        cos = np.array([float(c) for _, c in candidates], dtype=np.float64)
        if n == 0:
            return RankedMany(self, query, target, others, cos, background, [], [],
                              self.score_many([], [], [], [], cos, background, target))
        one, idx = np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.int64)
        # the candidates' keys and the features of their key pairs, from earlier rankings (KeyMemo)
        keyed = self._keyed.features(query, others, target, self._pair_keys(target))
        if target == "demand":
            many = self.score_many([query], others, one, idx, cos, background, target, keyed)  # type: ignore[list-item]
        else:
            many = self.score_many(others, [query], idx, one, cos, background, target, keyed)  # type: ignore[arg-type]
        return RankedMany(self, query, target, others, cos, background, many.score.tolist(), many.eligible.tolist(),
                          many, ids)

    def scored(self, query: TalentProfile | DemandEntry, target: Kind,
               candidates: Iterable[tuple[TalentProfile | DemandEntry, float, float | None]], background: float, *,
               keep: Callable[[DemandEntry, TalentProfile], bool] | None = None,
               include_ineligible: bool = False, partial: bool = False,
               stated: frozenset[str] = frozenset()) -> list[Scored]:
        """The candidates of the ``target`` side for a query record, scored as the service scores
        them, in candidate order: each candidate is ``(record, cosine, relative BM25 score or
        None)``; ``keep`` (the caller's filters, given ``(entry, profile)``) drops candidates
        before scoring; ineligible pairs are dropped unless ``include_ineligible``; ``partial``
        and ``stated`` as for :meth:`score`."""
        for_seeker = target == "demand"
        out = []
        for other, cos, lexical in candidates:
            profile, entry = (query, other) if for_seeker else (other, query)
            if keep is not None and not keep(entry, profile):  # type: ignore[arg-type]
                continue
            sc = self.score(profile, entry, cos, background, target=target, partial=partial,  # type: ignore[arg-type]
                            lexical=lexical, stated=stated)
            if sc.eligible or include_ineligible:
                out.append(sc)
        return out

    def rank(self, query: TalentProfile | DemandEntry, target: Kind,
             candidates: Iterable[tuple[TalentProfile | DemandEntry, float, float | None]], background: float, *,
             top_k: int, min_score: float, keep: Callable[[DemandEntry, TalentProfile], bool] | None = None,
             include_ineligible: bool = False, partial: bool = False) -> list[Scored]:
        """The ``top_k`` best of :meth:`scored` by the weighted score (:func:`top`)."""
        return top(self.scored(query, target, candidates, background, keep=keep,
                               include_ineligible=include_ineligible, partial=partial), top_k, min_score)

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


@dataclass
class ScoredMany:
    """Scores of many pairs (arrays, pair by pair as :class:`Scored` has them)."""

    score: np.ndarray
    seeker: np.ndarray
    employer: np.ndarray
    eligible: np.ndarray
    comp: dict[str, np.ndarray]


class RankedMany:
    """The candidates of one query record scored on arrays (:meth:`PairScorer.rank_many`). A pair
    shown is made into a :class:`Scored` once, whichever lists show it: its score, sides and
    features taken from the arrays (the floats pair-by-pair scoring gives), and only what its
    explanation needs worked out pair by pair (the matched and missing skills, the unmet
    requirements)."""

    def __init__(self, scorer: PairScorer, query: TalentProfile | DemandEntry, target: Kind,
                 others: list[Any], cos: np.ndarray, background: float, score: list[float],
                 eligible: list[bool], many: ScoredMany, ids: Sequence[int] | None = None) -> None:
        self.scorer, self.query, self.target, self.others = scorer, query, target, others
        self.cos, self.background, self.score, self.eligible = cos, background, score, eligible
        self.many = many
        # Scored.sort_key of every candidate: (not eligible, -score, id)
        ids = (np.fromiter((int(o.id or 0) for o in others), dtype=np.int64, count=len(others)) if ids is None
               else np.asarray(ids, dtype=np.int64))
        self.order = np.lexsort((ids, -np.asarray(score, dtype=np.float64),
                                 ~np.asarray(eligible, dtype=bool))).tolist() if others else []
        self._pairs: dict[int, Scored] = {}
        self._holdings: tuple[set[str], str] | None = None  # the query's, when it is the talent

    def top(self, top_k: int, min_score: float, *, include_ineligible: bool = False,
            keep: Callable[[Any], bool] | None = None) -> list[Scored]:
        """The ``top_k`` best candidates scoring at least ``min_score`` (eligible ones only unless
        ``include_ineligible``; only those ``keep(record)`` accepts, when given), best first."""
        out: list[Scored] = []
        for k in self.order:
            if len(out) >= top_k:
                break
            if not (self.eligible[k] or include_ineligible) or self.score[k] < min_score:
                continue
            if keep is not None and not keep(self.others[k]):
                continue
            out.append(self.pair(k))
        return out

    def pair(self, k: int) -> Scored:
        """Candidate ``k`` as :meth:`PairScorer.score` gives it (the same floats, with the matched
        and missing skills and the unmet requirements of its explanation)."""
        got = self._pairs.get(k)
        if got is not None:
            return got
        sc = self.scorer
        if self.target == "demand":
            profile, entry = self.query, self.others[k]
            if self._holdings is None:
                self._holdings = sc.holdings(profile)  # type: ignore[arg-type]
            holdings = self._holdings
        else:
            profile, entry, holdings = self.others[k], self.query, None
        many, skills = self.many, sc.coverage(profile, entry, holdings)  # type: ignore[arg-type]
        got = self._pairs[k] = Scored(
            profile, entry, self.target, self.score[k], float(many.seeker[k]),  # type: ignore[arg-type]
            float(many.employer[k]), {name: float(a[k]) for name, a in many.comp.items()}, self.eligible[k],
            skills.matched, skills.missing + skills.pref_missing, sc.rules.unmet(profile, entry),  # type: ignore[arg-type]
            closed_to_fresh(profile, entry))  # type: ignore[arg-type]
        return got


def holds(have: set[str], text: str, key: str, label: str) -> bool:
    """Whether a talent holds an entry's skill: by the skill's key, or the skill's name (two
    characters or more) in its summary."""
    return key in have or (len(label) >= 2 and label.lower() in text)


def closed_to_fresh(profile: TalentProfile, entry: DemandEntry) -> bool:
    """A post closed to fresh graduates that asks for experience, and a fresh graduate short of
    it: a hard requirement."""
    return (not entry.fresh_graduates_ok and profile.fresh_graduate
            and profile.experience_years < max(entry.min_experience_years, 0.01))


def education_met(unmet: list[Any]) -> float:
    return 1.0 if not any(r.kind == "education" for r in unmet) else 0.0


def certificates_met(cert_reqs: list[Any], unmet: list[Any]) -> float:
    return F.ratio(sum(1 for r in cert_reqs if r not in unmet), len(cert_reqs))


def experience(profile: TalentProfile, entry: DemandEntry) -> float:
    return F.experience_fit(profile.experience_years, entry.min_experience_years)


def salary(profile: TalentProfile, entry: DemandEntry) -> float:
    return F.salary_fit(profile.salary_min, profile.salary_max, entry.salary_min, entry.salary_max)


def occupation(profile: TalentProfile, entry: DemandEntry) -> float:
    return F.occupation_fit([c for c in profile.desired_occupations if CODE_RE.match(c)], entry.occupation_code)


def chain(profile: TalentProfile, entry: DemandEntry) -> float:
    return F.chain_fit(profile.desired_chains, entry.chain_id)


def shortage(profile: TalentProfile, entry: DemandEntry) -> float:
    return F.shortage(entry.shortage_level)


def _qual_key(p: TalentProfile) -> tuple:
    """What the qualification rules read of a talent (``QualificationRules.meets``)."""
    return (p.education, p.title_level, p.skill_level, tuple((c.direction, c.grade) for c in p.digital_certs),
            tuple(p.certificates))


def _req_key(e: DemandEntry) -> tuple:
    """What the qualification rules read of an entry (``QualificationRules.requirements``)."""
    return (e.education, e.required_title_level, e.required_skill_level, tuple(e.required_certificates))


def by_keys(profiles: Sequence[Any], entries: Sequence[Any], si: np.ndarray, ej: np.ndarray,
            pkey: Callable[[Any], Any], ekey: Callable[[Any], Any], fn: Callable[[Any, Any], Any]) -> np.ndarray:
    """``fn(profiles[si[k]], entries[ej[k]])`` for every pair ``k``, evaluated once per distinct
    (``pkey`` of the profile, ``ekey`` of the entry) on the first profile and entry with those
    keys; ``fn`` must read only what the keys hold. A float64 array (one column per item when
    ``fn`` returns a tuple)."""
    if len(profiles) == 1 and len(entries) == len(ej) and bool((ej == np.arange(len(ej))).all()):
        # one talent and each entry once (a seeker's ranking): fn once per distinct entry key,
        # on the first entry with that key (a dict built from the reversed pairs keeps each
        # key's first entry), then looked up for every entry
        profile, keys = profiles[0], list(map(ekey, entries))
        first = dict(zip(reversed(keys), reversed(entries), strict=True))
        table = {k: fn(profile, e) for k, e in first.items()}
        return np.asarray(list(map(table.__getitem__, keys)), dtype=np.float64)
    pcode, prep = _factorize([pkey(profiles[i]) for i in range(len(profiles))])
    ecode, erep = _factorize([ekey(entries[j]) for j in range(len(entries))])
    combo = pcode[si] * len(erep) + ecode[ej]
    uniq, inv = np.unique(combo, return_inverse=True)
    vals = [fn(profiles[prep[c // len(erep)]], entries[erep[c % len(erep)]]) for c in uniq.tolist()]
    return np.asarray(vals, dtype=np.float64)[inv.ravel()]


def _factorize(keys: list[Any]) -> tuple[np.ndarray, list[int]]:
    """Codes of the keys (0, 1, ... by first appearance) and the first position of each code."""
    codes: dict[Any, int] = {}
    first: list[int] = []
    out = np.empty(len(keys), dtype=np.int64)
    for i, k in enumerate(keys):
        c = codes.get(k)
        if c is None:
            c = codes[k] = len(first)
            first.append(i)
        out[i] = c
    return out, first


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
