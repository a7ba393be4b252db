"""Majors as a taxonomy (data/majors.json): 门类 → 专业类 → 专业, undergraduate and vocational.

A post asks for "自动化类", "机械类", "计算机相关专业" or a named major; a seeker writes a major
("机械设计制造及其自动化", "计算机应用技术"). ``MajorTaxonomy.fit`` says how well the major
meets the request: 1.0 when it is the major asked for or a member of the 专业类 (or 门类) asked
for, 0.7 when it shares a 专业类 with a major asked for, 0.0 otherwise; None when the taxonomy
knows neither side (the caller falls back to comparing names).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from matcher.core.textnorm import normalize_key

_REQUEST_SUFFIX = re.compile(r"(类专业|相关专业|等相关专业|等专业|相关|专业|方向|等)+$")
_BRACKETS = re.compile(r"[(（][^)）]*[)）]")
FIT_MEMO = 100_000  # remembered (major, request) pairs before the memo starts again


def _key(text: str) -> str:
    return normalize_key(_BRACKETS.sub("", text or ""))


class MajorTaxonomy:
    """Majors by name, with the 专业类 and 门类 each belongs to (a name in both lists belongs to
    a class of each)."""

    def __init__(self, data: dict) -> None:
        self.classes: dict[str, set[str]] = {}  # class key -> major keys
        self.class_names: dict[str, str] = {}  # class key -> its name as written
        self.category_of: dict[str, str] = {}  # class key -> 门类 key
        self.of_major: dict[str, set[str]] = {}  # major key -> class keys
        for listing in data.get("lists", []):
            for cat in listing.get("categories", []):
                cat_key = _key(cat["name"])
                for cls in cat.get("classes", []):
                    ck = _key(cls["name"])
                    self.class_names[ck] = cls["name"]
                    self.category_of[ck] = cat_key
                    members = self.classes.setdefault(ck, set())
                    for major in cls.get("majors", []):
                        mk = _key(major)
                        members.add(mk)
                        self.of_major.setdefault(mk, set()).add(ck)
        self.categories = set(self.category_of.values())
        self._fits: dict[tuple[str | None, str], float | None] = {}

    @classmethod
    def load(cls, path: Path) -> MajorTaxonomy:
        if not path.exists():
            return cls({})
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def __bool__(self) -> bool:
        return bool(self.classes)

    def classes_of(self, major: str | None) -> set[str]:
        """The 专业类 keys of a major as written ("计算机应用技术" → {"计算机类"}); a bare class
        stem ("计算机") names its class."""
        if not major:
            return set()
        k = _key(major)
        if k in self.of_major:
            return set(self.of_major[k])
        return self._classes_named(k)

    def _classes_named(self, stem: str) -> set[str]:
        """Classes a request names: "自动化类", "机械", "计算机相关专业" → 计算机类, "化工" → 化工与制药类."""
        stem = _REQUEST_SUFFIX.sub("", stem)
        if not stem:
            return set()
        for k in (stem, stem + "类"):
            if k in self.classes:
                return {k}
        if len(stem) >= 2:
            return {c for c in self.classes if c.startswith(stem)}
        return set()

    def fit(self, major: str | None, wanted: str) -> float | None:
        """How well ``major`` meets one requested major or class (see the module doc); None when
        the taxonomy knows neither. Remembered per (major, request): a gap report asks for the
        same few pairs of names hundreds of thousands of times."""
        pair = (major, wanted)
        try:
            return self._fits[pair]
        except KeyError:
            pass
        if len(self._fits) >= FIT_MEMO:
            self._fits.clear()
        fit = self._fits[pair] = self._fit(major, wanted)
        return fit

    def _fit(self, major: str | None, wanted: str) -> float | None:
        w = _key(wanted)
        m = _key(major or "")
        if not w or not m:
            return None
        have = self.classes_of(major)
        if w in self.of_major:  # a named major
            if w == m:
                return 1.0
            if have:
                return 0.7 if have & self.of_major[w] else 0.0
            return None
        if w in self.categories or _REQUEST_SUFFIX.sub("", w) in self.categories:  # 工学, 理学
            if not have:
                return None
            cat = w if w in self.categories else _REQUEST_SUFFIX.sub("", w)
            return 1.0 if any(self.category_of[c] == cat for c in have) else 0.0
        asked = self._classes_named(w)
        if asked:
            if not have:
                return None
            return 1.0 if have & asked else 0.0
        return None


@lru_cache(maxsize=4)
def load_majors(path: Path) -> MajorTaxonomy:
    return MajorTaxonomy.load(path)
