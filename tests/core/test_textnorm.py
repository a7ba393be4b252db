"""normalize_text skips zhconv for texts without a character that a changing key needs: the
result must be exactly zhconv's, for every text."""

from __future__ import annotations

import csv
import json
import unicodedata

import zhconv
import zhconv.zhconv as zc
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.core import textnorm
from matcher.core.settings import PROJECT_ROOT

TABLE = zc.getdict("zh-cn")
CHANGING = [k for k, v in TABLE.items() if k != v]


def uncovered(required: frozenset[str]) -> list[str]:
    """Changing keys without any character of ``required`` (must be none)."""
    return [k for k in CHANGING if required.isdisjoint(k)]


def reference(text: str) -> str:
    """normalize_text as it was: zhconv on every text."""
    if not text:
        return ""
    text = zhconv.convert(unicodedata.normalize("NFKC", text), "zh-cn")
    return textnorm._SPACE.sub(" ", text).strip()


def test_every_changing_key_holds_a_required_character():
    assert textnorm.ZH_REQUIRED is not None, "matcher/core/zh_required.txt is missing"
    assert len(CHANGING) > 5_000
    assert uncovered(textnorm.ZH_REQUIRED) == [], "run python -m scripts.build_zh_required"


def test_the_check_sees_a_missing_character():
    some_key = next(k for k in CHANGING if len(k) == 1)
    assert some_key in uncovered(textnorm.ZH_REQUIRED - set(some_key))


def _corpus() -> list[str]:
    texts: list[str] = []
    with (PROJECT_ROOT / "data" / "csco22_occupations.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            texts.extend(v for v in row.values() if v)
    with (PROJECT_ROOT / "data" / "eval" / "real_titles_dev.jsonl").open(encoding="utf-8") as fh:
        texts.extend(json.loads(line)["query"] for line in fh)
    with (PROJECT_ROOT / "data" / "demo" / "talents.jsonl").open(encoding="utf-8") as fh:
        for line in list(fh)[:300]:
            texts.extend(v for v in json.loads(line).values() if isinstance(v, str))
    return texts


def test_same_result_as_converting_every_text_on_real_texts():
    texts = _corpus() + ["軟體工程師", "資料庫管理員（台北）", "乾隆", "幹部", "程式設計師", "行人路", "ＡＩ演算法"]
    skipped = sum(1 for t in texts if textnorm.ZH_REQUIRED.isdisjoint(unicodedata.normalize("NFKC", t)))
    assert skipped > len(texts) // 3  # the shortcut is taken (else the test checks nothing new)
    textnorm.normalize_text.cache_clear()
    assert [textnorm.normalize_text(t) for t in texts] == [reference(t) for t in texts]


KEY_CHARS = sorted({c for k in TABLE for c in k})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(CHANGING), st.sampled_from(KEY_CHARS),
                          st.sampled_from(list("的工程师开发数据管理 ABC123，、（）"))), max_size=12))
def test_same_result_as_converting_every_text_on_mixed_texts(parts):
    text = "".join(parts)
    assert textnorm.normalize_text(text) == reference(text)
