"""The skill vocabulary (data/skills.json): canonical names, aliases, training directions."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from matcher.core.textnorm import normalize_key, normalize_text

_ASCII = re.compile(r"^[a-z0-9+#.\- ]+$")


class SkillVocab:
    def __init__(self, data: dict) -> None:
        self._canon: dict[str, str] = {}
        self.directions: dict[str, list[str]] = {}
        for item in data.get("skills", []):
            name = normalize_text(item["name"])
            self.directions[name] = list(item.get("directions", []))
            for alias in [name, *item.get("aliases", [])]:
                key = normalize_key(alias)
                if key:
                    self._canon.setdefault(key, name)
        self._key_memo: dict[str, str] = {}
        # longest aliases first, so "Spark SQL" wins over "Spark" when extracting
        self._keys = sorted(self._canon, key=len, reverse=True)

    @classmethod
    def load(cls, path: Path) -> SkillVocab:
        if not path.exists():
            return cls({})
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def canonical(self, skill: str) -> str:
        """The vocabulary's name for a skill, or the normalised input if unknown."""
        return self._canon.get(normalize_key(skill), normalize_text(skill))

    def key(self, skill: str) -> str:
        """The matching key of a skill (its canonical name, normalised); memoised, since
        scoring asks for the same few hundred skills millions of times."""
        found = self._key_memo.get(skill)
        if found is None:
            found = normalize_key(self.canonical(skill))
            if len(self._key_memo) < 100_000:
                self._key_memo[skill] = found
        return found

    def names(self) -> list[str]:
        return list(self.directions)

    def directions_of(self, skill: str) -> list[str]:
        return self.directions.get(self.canonical(skill), [])

    def extract(self, text: str, limit: int = 30) -> list[str]:
        """Known skills mentioned in free text, in order of first mention."""
        hay = normalize_key(text)
        found: list[tuple[int, str]] = []
        taken = [False] * len(hay)
        for key in self._keys:
            if len(key) < 2:
                continue
            start = hay.find(key)
            while start != -1:
                end = start + len(key)
                if _ASCII.match(key):  # an English alias must not sit inside a longer word
                    before = hay[start - 1] if start else ""
                    after = hay[end] if end < len(hay) else ""
                    if (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum()):
                        start = hay.find(key, start + 1)
                        continue
                if not any(taken[start:end]):
                    for j in range(start, end):
                        taken[j] = True
                    found.append((start, self._canon[key]))
                    break
                start = hay.find(key, start + 1)
        out: list[str] = []
        for _, name in sorted(found):
            if name not in out:
                out.append(name)
        return out[:limit]


@lru_cache(maxsize=4)
def load_vocab(path: Path) -> SkillVocab:
    return SkillVocab.load(path)
