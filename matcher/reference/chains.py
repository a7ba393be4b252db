"""Chain suggestion for demand entries.

``suggest_chain`` classifies an entry without a chain: the enterprise's chain when it is known
and belongs to a registry covering the entry's place, else keywords of the chains found in the
entry's text (title hits count double, a keyword shared by several chains counts for each
a fraction). Its confidence is calibrated on the demo data (see ``CONFIDENCE``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from matcher.core.textnorm import normalize_key
from matcher.domain.schemas import IndustryChain
from matcher.reference.regions import Regions, place_of

# Confidence of a suggestion, by how it was made; measured on the demo set (bench/chain_suggest.md):
# the enterprise's chain was right for 703 of 703 posts; a keyword suggestion with a clear winner
# (its score at least twice the runner-up's) was right for 0.80 of them, a contested one for 0.45.
CONFIDENCE = {"enterprise": 0.95, "enterprise_name": 0.9, "text_title": 0.25, "text": 0.1}
MIN_CONFIDENCE = 0.5  # a suggestion below this is shown but not stored on the entry


class ChainSuggestion(BaseModel):
    """A suggested chain for a demand entry and how sure it is."""

    chain_id: str
    confidence: float = Field(ge=0, le=1)
    method: str = Field(description="enterprise | enterprise_name | text_title | text")
    keywords: list[str] = Field(default_factory=list, description="keywords of the chain found in the text")


# -- suggestion ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    key: str
    label: str
    owners: frozenset[str]  # chains holding the term


def _contains(hay: str, key: str) -> bool:
    """Whether a normalised key occurs in a normalised text; an ASCII key ("PLC", "GMP") must
    not sit inside a longer ASCII word."""
    start = hay.find(key)
    if start < 0 or not key.isascii():
        return start >= 0
    while start >= 0:
        end = start + len(key)
        before = hay[start - 1] if start else ""
        after = hay[end] if end < len(hay) else ""
        if not (before.isascii() and before.isalnum()) and not (after.isascii() and after.isalnum()):
            return True
        start = hay.find(key, start + 1)
    return False


class ChainSuggester:
    """Keyword classifier over the chains of the registries (built once per set of chains)."""

    def __init__(self, chains: Iterable[IndustryChain], regions: Regions | None = None) -> None:
        self.chains: dict[str, IndustryChain] = {c.id: c for c in chains}
        self.regions = regions
        owners: dict[str, set[str]] = {}
        labels: dict[tuple[str, str], str] = {}
        for c in self.chains.values():
            for label in [c.name, c.name.removesuffix("产业链"), *c.keywords]:
                key = normalize_key(label)
                if key and not (key.isascii() and len(key) < 2):
                    owners.setdefault(key, set()).add(c.id)
                    labels.setdefault((c.id, key), label)
        self._terms: dict[str, list[_Term]] = {}
        for key, ids in owners.items():
            for cid in sorted(ids):
                self._terms.setdefault(cid, []).append(_Term(key, labels[(cid, key)], frozenset(ids)))
        self._by_region: dict[str, list[str]] = {}
        for c in self.chains.values():
            self._by_region.setdefault(c.region, []).append(c.id)

    def candidates(self, city: str | None) -> list[str]:
        """Chains of the most local registry covering a place: the city's own registry if it has
        one, else its province's; all chains when the place is unknown or no registry covers it."""
        if not city or self.regions is None:
            return list(self.chains)
        place = place_of(self.regions, city)
        if place is None:
            return list(self.chains)
        for region in (place.city, place.province):
            if region and region in self._by_region:
                return list(self._by_region[region])
        return []

    def covers(self, chain_id: str, city: str | None) -> bool:
        """Whether a chain's registry covers a place (its city or its province); True when the
        place is unknown."""
        place = place_of(self.regions, city) if city and self.regions is not None else None
        if place is None:
            return True
        return self.chains[chain_id].region in (place.city, place.province)

    def scores(self, text: str, title: str = "", candidates: Sequence[str] | None = None
               ) -> dict[str, tuple[float, list[str]]]:
        """Keyword score and matched keywords of each candidate chain found in the text: a
        keyword counts 1 (2 in the title), shared by n candidate chains 1/n for each ("医药中间体"
        says less than "原料药")."""
        hay = normalize_key(text)
        head = normalize_key(title)
        cands = list(candidates if candidates is not None else self.chains)
        pool = set(cands)
        out: dict[str, tuple[float, list[str]]] = {}
        for cid in cands:
            total, found = 0.0, []
            for term in self._terms.get(cid, []):
                in_head = _contains(head, term.key)
                if in_head or _contains(hay, term.key):
                    total += (2.0 if in_head else 1.0) / len(term.owners & pool)
                    found.append(term.label)
            if total > 0:
                out[cid] = (total, found)
        return out

    def _ranked(self, text: str, title: str, cands: Sequence[str]) -> list[tuple[str, float, list[str]]]:
        scored = self.scores(text, title, cands)
        return [(cid, sc, found) for cid, (sc, found) in sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0]))]

    def suggest(self, text: str, *, title: str = "", enterprise_chain: str | None = None,
                enterprise_name: str | None = None, city: str | None = None) -> ChainSuggestion | None:
        """The most likely chain of an entry, or None when nothing points to one.

        In order: the enterprise's registered chain (when a registry covering the entry's place
        holds it); chain keywords in the enterprise's name; chain keywords in the entry's text.
        """
        cands = self.candidates(city)
        if enterprise_chain and enterprise_chain in self.chains and (
                not cands or self.covers(enterprise_chain, city)):
            return ChainSuggestion(chain_id=enterprise_chain, confidence=CONFIDENCE["enterprise"],
                                   method="enterprise")
        if enterprise_name:
            ranked = self._ranked(enterprise_name, "", cands)
            if ranked and (len(ranked) == 1 or ranked[0][1] >= 2 * ranked[1][1]):
                cid, _, found = ranked[0]
                return ChainSuggestion(chain_id=cid, confidence=CONFIDENCE["enterprise_name"],
                                       method="enterprise_name", keywords=found)
        ranked = self._ranked(text, title, cands)
        if not ranked:
            return None
        cid, best, found = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        in_title = any(_contains(normalize_key(title), normalize_key(k)) for k in found)
        method = "text_title" if in_title and best >= 2.0 and best >= 2 * runner_up else "text"
        return ChainSuggestion(chain_id=cid, confidence=CONFIDENCE[method], method=method, keywords=found)


@dataclass(frozen=True)
class EnterpriseRef:
    id: int
    name: str
    chain_id: str | None


def suggest_chain(text: str, enterprise_chain: str | None, *, chains: Iterable[IndustryChain] | ChainSuggester,
                  title: str = "", enterprise_name: str | None = None, city: str | None = None,
                  regions: Regions | None = None) -> tuple[str | None, float]:
    """(chain id, confidence) for an entry's text and its enterprise's chain; (None, 0.0) when
    nothing points to a chain. ``chains`` is a list of chains or a built ChainSuggester."""
    suggester = chains if isinstance(chains, ChainSuggester) else ChainSuggester(chains, regions)
    s = suggester.suggest(text, title=title, enterprise_chain=enterprise_chain,
                          enterprise_name=enterprise_name, city=city)
    return (s.chain_id, s.confidence) if s is not None else (None, 0.0)
