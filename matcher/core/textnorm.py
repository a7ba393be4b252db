"""Text normalisation shared by every text path: Traditional → Simplified, full-width → half-width."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import zhconv

_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=65536)
def normalize_text(text: str) -> str:
    """NFKC (full-width → half-width), Traditional → Simplified, collapsed whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = zhconv.convert(text, "zh-cn")
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=65536)
def normalize_key(text: str) -> str:
    """A comparison key: normalised, lower-cased, without spaces and common punctuation."""
    text = normalize_text(text).lower()
    return re.sub(r"[\s\-_·./（）()【】\[\]]+", "", text)
