"""The fast occupation coder: titles by static-e5, occupations and exemplars by their shipped e5
vectors, its own re-ranker (real weights, shipped files).

The cross-validated numbers (beside the e5 coder, BM25 and e5 alone) are in
bench/results/eval-realtitles-*.md; these tests pin what the fast mode is made of, typical real
titles, the confidence, the e5 re-check, the fallback and the CLI in both modes.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from matcher.core.settings import PROJECT_ROOT
from matcher.evaluation.metrics import code_hits
from matcher.reference.occupations import Taxonomy
from matcher.retrieval.encoders import build_encoder
from matcher.retrieval.occupation_coder import OccupationCoder
from matcher.retrieval.occupation_model import load_occupation_model
from matcher.retrieval.titles import clean_title
from models.encoders.static import StaticEncoder
from models.paths import ARTIFACT_DIR
from tests.conftest import run_cli

pytestmark = [pytest.mark.slow, pytest.mark.integration]
DATA = PROJECT_ROOT / "data"


class Counting:
    """An encoder wrapper counting the query texts it encodes (same name, so the same files)."""

    def __init__(self, inner, name: str | None = None) -> None:
        self.inner, self.name, self.dim = inner, name or inner.name, inner.dim
        self.meta = getattr(inner, "meta", {})
        self.queries: list[str] = []

    def encode_queries(self, texts):
        self.queries.extend(texts)
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts):
        return self.inner.encode_passages(texts)


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    tax = Taxonomy.load(DATA / "csco22_occupations.csv")
    e5 = Counting(build_encoder("e5"))
    static = Counting(StaticEncoder())
    fast = OccupationCoder(tax, e5, cache_dir=tmp_path_factory.mktemp("cache"), query_encoder=static)
    return tax, e5, static, fast


# title -> acceptable codes (an occupation, or a group ending -00)
TITLES = [
    ("Java后端开发工程师", ["2-02-10-03"]),
    ("销售业务员", ["4-01-02-00", "2-06-07-02"]),
    ("会计", ["2-06-03-00"]),
    ("焊工", ["6-18-02-04"]),
    ("小学语文老师", ["2-08-02-04", "2-08-99-00"]),
    ("保洁员（包吃住）", ["4-09-08-01"]),
    ("济南电商会计（急招）", ["2-06-03-00"]),
    ("急招！高级Java开发工程师（双休+五险一金）", ["2-02-10-03"]),
]


def test_fast_mode_is_static_titles_against_shipped_e5_vectors(parts):
    _, e5, static, fast = parts
    assert fast.mode == "fast" and fast.query_encoder is static
    assert fast.model is not None and fast.model.query_encoder == static.name and fast.model.encoder == e5.name
    assert load_occupation_model(fast=True).reranker.manifest["query_encoder"] == static.name
    # the occupations' vectors are the shipped e5 ones, not re-encoded
    assert (ARTIFACT_DIR / fast.artifact_name()).exists()
    # static-e5 was fitted on e5's query-side outputs: its query vectors are in e5's query space
    assert static.meta["teacher"] == e5.name
    e5.queries.clear()
    static.queries.clear()
    fast.code(["一个从未见过的岗位名称：区块链智能合约审计工程师"], top_k=3)
    assert e5.queries == [] and static.queries  # e5 encodes no title in fast mode


def test_typical_real_titles_get_sensible_codes_with_calibrated_confidence(parts):
    *_, fast = parts
    got = fast.code([t for t, _ in TITLES], top_k=5)
    wrong = [(t, c[0].code, c[0].name) for (t, ok), c in zip(TITLES, got, strict=True)
             if not any(code_hits(g, c[0].code) for g in ok)]
    assert not wrong, wrong
    for cands in got:
        assert len(cands) == 5
        assert all(c.confidence is not None and 0.0 <= c.confidence <= 1.0 for c in cands)
        assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
        assert cands[0].score == 1.0
    # an unambiguous title is confident, a vague one is not
    sure, vague = fast.code(["会计", "专员"], top_k=1)
    assert sure[0].confidence >= 0.5 > vague[0].confidence


def test_fast_and_e5_titles_agree_on_plain_titles(parts):
    *_, fast = parts
    e5 = fast.e5_coder()
    assert e5 is not None and e5.mode == "e5" and e5.query_encoder is None
    assert e5.model.query_encoder == e5.model.encoder  # the e5 re-ranker
    titles = ["焊工", "会计", "Java开发工程师", "小学教师"]
    a = [c[0].code for c in fast.code(titles, top_k=1)]
    b = [c[0].code for c in e5.code(titles, top_k=1)]
    assert a == b


def test_recheck_codes_uncertain_titles_again_with_e5(parts):
    _, e5, _, fast = parts
    titles = ["会计", "专员", "综合岗位"]
    plain = fast.code(titles, top_k=3)
    low = [t for t, c in zip(titles, plain, strict=True) if c[0].confidence < 0.5]
    assert low and "会计" not in low
    e5.queries.clear()
    again = fast.code(titles, top_k=3, recheck_below=0.5)
    assert set(e5.queries) <= {clean_title(t) for t in low}  # only the uncertain titles go to e5
    e5_alone = fast.e5_coder().code(low, top_k=3)
    by_title = dict(zip(titles, again, strict=True))
    for t, cands in zip(low, e5_alone, strict=True):
        assert by_title[t] == cands
    assert by_title["会计"] == plain[0]
    # recheck_below 0 (the default) leaves the fast result alone
    assert fast.code(titles, top_k=3) == plain


def test_a_static_encoder_the_fast_model_was_not_trained_with_falls_back_to_e5(parts, caplog):
    tax, e5, static, _ = parts
    other = Counting(static.inner, name="static-e5-other")
    with caplog.at_level(logging.WARNING, logger="talentmatch.occupations"):
        coder = OccupationCoder(tax, e5, query_encoder=other)
    assert coder.mode == "e5" and coder.query_encoder is None
    assert coder.model is not None and coder.model.query_encoder == e5.name
    assert "static-e5-other" in caplog.text
    with pytest.raises(ValueError):
        OccupationCoder(tax, e5, query_encoder=Counting(build_encoder("fake")))


def test_the_service_codes_with_the_fast_coder_by_default(tmp_path):
    from matcher.core.settings import Settings
    from matcher.wiring import build_service

    svc = build_service(Settings(data_dir=tmp_path / "a", reference_dir=DATA))
    try:
        assert svc.coder.mode == "fast" and svc.coder.query_encoder.name.startswith("static-e5-")
        assert svc.occupation_coder("e5").mode == "e5"
        fast, e5 = svc.code_occupations(["焊工"], 1)[0], svc.code_occupations(["焊工"], 1, queries="e5")[0]
        assert fast[0].code == e5[0].code == "6-18-02-04"
    finally:
        svc.close()
    svc = build_service(Settings(data_dir=tmp_path / "b", reference_dir=DATA, coder_queries="e5"))
    try:
        assert svc.coder.mode == "e5"
    finally:
        svc.close()


@pytest.mark.parametrize("queries", ["fast", "e5"])
def test_cli_occupations_code_in_both_modes(tmp_path, monkeypatch, capsys, queries):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "e5")
    src = tmp_path / "titles.txt"
    src.write_text("Java后端开发工程师\n\n会计\n焊工\n会计\n", encoding="utf-8")
    code, out, err = run_cli(monkeypatch, capsys, "occupations", "code", str(src), "--top-k", "3", "--queries", queries)
    assert code == 0, err
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r["query"] for r in rows] == ["Java后端开发工程师", "", "会计", "焊工", "会计"]
    assert rows[1]["candidates"] == [] and rows[2] == rows[4]
    assert [r["candidates"][0]["code"] for r in (rows[0], rows[2], rows[3])] == ["2-02-10-03", "2-06-03-00", "6-18-02-04"]
    conf = np.array([c["confidence"] for r in rows for c in r["candidates"]])
    assert ((conf >= 0) & (conf <= 1)).all()


def test_cli_rejects_a_bad_recheck_threshold(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    src = tmp_path / "titles.txt"
    src.write_text("会计\n", encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "occupations", "code", str(src), "--recheck-below", "1.5")
    assert code != 0 and "recheck-below" in err
