"""How often chain suggestion recovers the chain of entries whose chain is known."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from matcher.domain.texts import demand_text
from matcher.reference.chains import CONFIDENCE, MIN_CONFIDENCE, ChainSuggester
from matcher.service import MatchService
from matcher.storage.chains_repo import enterprise_of

EvalMode = Literal["enterprise", "name", "text"]


class SuggestionTier(BaseModel):
    method: str
    suggested: int
    right: int
    accuracy: float | None


class SuggestionEvaluation(BaseModel):
    """How often the suggestion recovers the chain of entries whose chain is known."""

    mode: EvalMode
    entries: int = Field(description="entries with a given (not suggested) chain")
    suggested: int
    right: int
    accuracy: float | None = Field(description="right / entries")
    stored: int = Field(description="suggestions at or above MIN_CONFIDENCE (they would be stored)")
    stored_right: int
    tiers: list[SuggestionTier]


def evaluate_suggestions(service: MatchService, *, mode: EvalMode = "enterprise", limit: int | None = None
                         ) -> SuggestionEvaluation:
    """Hide the chain of every stored entry with a given chain, suggest one, and count.

    ``mode``: ``enterprise`` uses the enterprise's registered chain and name, ``name`` only the
    enterprise's name, ``text`` only the entry's own text."""
    suggester: ChainSuggester = service.chain_suggester()
    entries = []
    offset = 0
    while True:
        page, total = service.store.list("demand", offset=offset, limit=500)
        entries += [e for e in page if e.chain_id and not e.chain_suggested]
        offset += len(page)
        if not page or offset >= total or (limit and len(entries) >= limit):
            break
    entries = entries[:limit] if limit else entries
    tiers: dict[str, list[int]] = {}
    right = stored = stored_right = 0
    for e in entries:
        ent = enterprise_of(service.store, e.enterprise_id, e.enterprise_name) if mode != "text" else None
        s = suggester.suggest(demand_text(e), title=e.title, city=e.city,
                              enterprise_chain=ent.chain_id if ent and mode == "enterprise" else None,
                              enterprise_name=(ent.name if ent else e.enterprise_name) if mode != "text" else None)
        if s is None:
            continue
        ok = s.chain_id == e.chain_id
        t = tiers.setdefault(s.method, [0, 0])
        t[0] += 1
        t[1] += ok
        right += ok
        if s.confidence >= MIN_CONFIDENCE:
            stored += 1
            stored_right += ok
    order = list(CONFIDENCE)
    return SuggestionEvaluation(
        mode=mode, entries=len(entries), suggested=sum(t[0] for t in tiers.values()),
        right=right, accuracy=round(right / len(entries), 4) if entries else None, stored=stored,
        stored_right=stored_right,
        tiers=[SuggestionTier(method=m, suggested=tiers[m][0], right=tiers[m][1],
                              accuracy=round(tiers[m][1] / tiers[m][0], 4))
               for m in sorted(tiers, key=order.index)])
