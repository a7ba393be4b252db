"""A seeker's desired occupation written as text is stored as a code only when the coder is
confident enough; otherwise the text is kept as written (shown as 待确认, never a wrong code)."""

from __future__ import annotations

from matcher.domain.schemas import OccupationCandidate
from matcher.retrieval.occupation_coder import CONFIDENCE_THRESHOLD, is_settled
from tests.conftest import talent


class _StubCoder:
    def __init__(self, by_text: dict[str, OccupationCandidate]) -> None:
        self.by_text = by_text

    def code(self, texts, top_k=10, context=None):
        return [[self.by_text[t]] if t in self.by_text else [] for t in texts]

    def best(self, text, context=None):
        return self.by_text.get(text)


def _cand(code: str, conf: float | None, score: float = 1.0) -> OccupationCandidate:
    return OccupationCandidate(code=code, name="x", score=score, confidence=conf)


def test_is_settled_uses_the_calibrated_confidence_when_there_is_one():
    # the re-ranked coder's best candidate always has score 1.0: the score says nothing
    assert not is_settled(_cand("2-02-10-03", CONFIDENCE_THRESHOLD - 0.01))
    assert is_settled(_cand("2-02-10-03", CONFIDENCE_THRESHOLD))
    # a coder without a re-ranker has no confidence: its score decides
    assert is_settled(_cand("2-02-10-03", None, score=0.6))
    assert not is_settled(_cand("2-02-10-03", None, score=0.4))


def test_a_low_confidence_desired_occupation_keeps_its_text(service):
    service.preparer.coder = lambda: _StubCoder({
        "大数据开发": _cand("2-02-38-03", 0.83),
        "技术工程师": _cand("2-02-10-03", 0.12),
    })
    stored = service.preparer.prepare_talent(talent(desired_occupations=["大数据开发", "技术工程师"]))
    assert stored.model.desired_occupations == ["2-02-38-03", "技术工程师"]
    # the batch path (imports) applies the same rule
    coded = service.preparer.code_batch(["大数据开发", "技术工程师"])
    stored = service.preparer.prepare_talent(talent(desired_occupations=["技术工程师", "大数据开发"]), coded)
    assert stored.model.desired_occupations == ["技术工程师", "2-02-38-03"]


def test_a_wish_given_twice_is_stored_once_and_preparing_again_changes_nothing(service):
    service.preparer.coder = lambda: _StubCoder({"大数据开发": _cand("2-02-38-03", 0.83)})
    first = service.preparer.prepare_talent(talent(desired_occupations=["大数据开发", "2-02-38-03"]))
    assert first.model.desired_occupations == ["2-02-38-03"]
    again = service.preparer.prepare_talent(first.model)
    assert again.text == first.text and again.model.desired_occupations == first.model.desired_occupations
