"""The re-ranked coding path without model weights: the shipped re-ranker on the fake encoder.

The fake encoder's vectors are not e5's, so these tests pin plumbing, not quality: when the
re-ranker is used, the shape of the output, the exact-name rule, leave-one-out and context.
Quality is pinned with e5 in test_occupation_coder_realtitles.py.
"""

from __future__ import annotations

import pytest

from matcher.reference.occupations import Occupation, Taxonomy
from matcher.retrieval.occupation_coder import OccupationCoder
from matcher.retrieval.occupation_model import load_occupation_model

ROWS = [
    Occupation(4, "2-02-10-03", "计算机软件工程技术人员", "从事计算机软件研究、设计、测试的工程技术人员。", "", True, False),
    Occupation(4, "2-02-38-03", "大数据工程技术人员", "从事大数据采集、清洗、分析的工程技术人员。", "", True, False),
    Occupation(4, "6-18-02-04", "焊工", "操作焊接设备，进行金属工件焊接的人员。", "", False, False),
    Occupation(4, "4-01-02-01", "营销员", "从事市场调查、营销策划、商品与服务推广等工作的人员", "", False, False),
    Occupation(4, "4-04-05-03", "呼叫中心服务员", "在呼叫中心从事客户服务的人员。", "", False, False),
]


@pytest.fixture(scope="module")
def model():
    m = load_occupation_model()
    assert m is not None, "models/artifacts/occupation-reranker.json is missing"
    return m


def test_the_shipped_reranker_is_only_used_with_its_own_encoder(fake_encoder, model, tmp_path):
    plain = OccupationCoder(Taxonomy(ROWS), fake_encoder, cache_dir=tmp_path)
    assert model.encoder == "e5-small-q4" and fake_encoder.name != model.encoder
    assert not plain.use_reranker and plain.model is None
    cands = plain.code(["焊工"], top_k=2)[0]
    assert cands[0].code == "6-18-02-04" and cands[0].confidence is None


def test_reranked_output_exact_names_context_and_leave_one_out(fake_encoder, model, tmp_path):
    coder = OccupationCoder(Taxonomy(ROWS), fake_encoder, cache_dir=tmp_path, reranker=model)
    assert coder.use_reranker
    res = coder.code(["焊工", "", "招聘急！呼叫中心服务员（双休）", "销售代表"], top_k=3)
    assert res[1] == [] and all(len(r) == 3 for r in (res[0], res[2], res[3]))
    # a title that is (once cleaned) an occupation's name is that occupation
    assert res[0][0].code == "6-18-02-04" and res[2][0].code == "4-04-05-03"
    for cands in (res[0], res[2], res[3]):
        assert cands[0].score == 1.0 and [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
        assert all(c.confidence is not None and 0 <= c.confidence <= 1 for c in cands)
    # the exemplars' vectors were encoded once with this encoder, into the cache directory
    assert (tmp_path / model.vectors_file(fake_encoder.name)).exists()
    # context: one entry per text; None is no context
    assert coder.code(["销售代表"], top_k=3, context=[None]) == [res[3]]
    with pytest.raises(ValueError):
        coder.code(["销售代表"], context=[None, None])
    # evaluation mode: a query does not see an exemplar with its own text
    coder.leave_one_out = True
    assert len(coder.code(["销售代表"], top_k=3)[0]) == 3


def test_a_context_encoder_encodes_the_contexts_and_only_them(fake_encoder, model, tmp_path):
    """With ``context_encoder`` (a fast encoder into the same space), contexts go through it
    and titles through the coder's own encoder; the same encoder gives the same codes."""
    from models.encoders import FakeEncoder

    class Counting(FakeEncoder):
        def __init__(self, dim: int) -> None:
            super().__init__(dim)
            self.seen: list[str] = []

        def _encode(self, texts, is_query):
            self.seen.extend(texts)
            return super()._encode(texts, is_query)

    coder = OccupationCoder(Taxonomy(ROWS), fake_encoder, cache_dir=tmp_path, reranker=model)
    titles, ctx = ["软件开发", "数据平台开发"], ["负责Java后端开发与测试", "负责Hadoop与Spark数据清洗分析"]
    before = coder.code(titles, top_k=3, context=ctx)
    side = Counting(fake_encoder.dim)
    coder.context_encoder = side
    after = coder.code(titles, top_k=3, context=ctx)
    assert sorted(side.seen) == sorted(ctx)  # the contexts, each once, and no title
    assert [[c.code for c in r] for r in after] == [[c.code for c in r] for r in before]
    coder.context_encoder = Counting(8)  # another space (dimension): not used
    assert coder.code(titles, top_k=3, context=ctx) == before and coder.context_encoder.seen == []


def test_occupation_token_lists_are_cached_under_the_tokenizer_fingerprint(fake_encoder, tmp_path, monkeypatch):
    """A second coder over the same cache directory reads the occupation texts' BM25 token lists
    instead of tokenising them again, and codes exactly as the first; another tokenizer
    (another fingerprint) does not read them."""
    from matcher.retrieval.lexical import Tokenizer

    first = OccupationCoder(Taxonomy(ROWS), fake_encoder, cache_dir=tmp_path)
    assert (tmp_path / "csco22-bm25-tokens.npz").exists()
    calls = []
    real = Tokenizer.tokenize
    monkeypatch.setattr(Tokenizer, "tokenize", lambda self, text, **kw: calls.append(text) or real(self, text, **kw))
    second = OccupationCoder(Taxonomy(ROWS), fake_encoder, cache_dir=tmp_path, tokenizer=first.tokenizer)
    assert calls == [] and second._docs == first._docs
    assert [c.code for c in second.code(["软件开发工程师"], top_k=5)[0]] == \
           [c.code for c in first.code(["软件开发工程师"], top_k=5)[0]]
    other = Tokenizer(["焊接"])
    assert other.fingerprint() != first.tokenizer.fingerprint()
    calls.clear()
    OccupationCoder(Taxonomy(ROWS), fake_encoder, cache_dir=tmp_path, tokenizer=other)
    assert len(calls) == len(ROWS)


def test_the_shipped_occupation_token_lists_are_current_and_read(fake_encoder, tmp_path, monkeypatch):
    """models/artifacts/csco22-bm25-tokens.npz holds the token lists of every CSCO text under the
    tokenizer a service builds from the bundled reference data (else run
    ``python -m scripts.build_artifacts --coder-tokens``): a coder over a new, empty data
    directory tokenises none of them, and its lists equal freshly tokenised ones."""
    from matcher.core.settings import load_settings
    from matcher.reference.bundle import ReferenceData
    from matcher.retrieval.lexical import Tokenizer
    from matcher.retrieval.shared import SharedModels

    ref = ReferenceData.load(load_settings().reference_dir)
    tokenizer = SharedModels().tokenizer(ref.domain_words())
    calls = []
    real = Tokenizer.tokenize
    monkeypatch.setattr(Tokenizer, "tokenize", lambda self, text, **kw: calls.append(text) or real(self, text, **kw))
    coder = OccupationCoder(ref.taxonomy, fake_encoder, cache_dir=tmp_path / "new", tokenizer=tokenizer)
    assert calls == [], "the shipped token lists are stale: python -m scripts.build_artifacts --coder-tokens"
    assert not (tmp_path / "new" / "csco22-bm25-tokens.npz").exists()  # nothing to cache
    sample = list(range(0, len(coder.items), 97))
    texts = [f"{o.name} {o.name} {o.name} {o.definition} {o.tasks[:300]}" for o in coder.items]
    assert [coder._docs[i] for i in sample] == [real(tokenizer, texts[i]) for i in sample]
