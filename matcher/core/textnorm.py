"""Text normalisation shared by every text path: Traditional → Simplified, full-width → half-width."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import zhconv

_SPACE = re.compile(r"\s+")


def _required_characters() -> frozenset[str] | None:
    """One character of every key of zhconv's zh-cn table that changes text
    (``scripts/build_zh_required.py``); None when the file is missing (then every text is
    converted)."""
    try:
        return frozenset((Path(__file__).with_name("zh_required.txt")).read_text(encoding="utf-8").strip())
    except OSError:
        return None


# a text without any of these characters holds no key that zhconv would change, so converting it
# would return it as it is; skipping it saves zhconv's per-character scan (tested against the table)
ZH_REQUIRED = _required_characters()


@lru_cache(maxsize=65536)
def normalize_text(text: str) -> str:
    """NFKC (full-width → half-width), Traditional → Simplified, collapsed whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    if ZH_REQUIRED is None or not ZH_REQUIRED.isdisjoint(text):
        text = zhconv.convert(text, "zh-cn")
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=65536)
def normalize_key(text: str) -> str:
    """A comparison key: normalised, lower-cased, without spaces and common punctuation."""
    text = normalize_text(text).lower()
    return re.sub(r"[\s\-_·./（）()【】\[\]]+", "", text)
