"""The skill vocabulary (data/skills.json): canonical names, aliases, training directions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matcher.core.textnorm import normalize_key, normalize_text

_ASCII = re.compile(r"^[a-z0-9+#.\- ]+$")


@dataclass(frozen=True)
class _Alias:
    """A way of writing a skill; an ambiguous one ("QA", "标注") counts only in a text that
    holds one of ``needs`` and none of ``unless``."""

    key: str
    name: str
    needs: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()

    def fits(self, context: str) -> bool:
        if any(w in context for w in self.unless):
            return False
        return not self.needs or any(w in context for w in self.needs)


class SkillVocab:
    def __init__(self, data: dict) -> None:
        self._canon: dict[str, str] = {}
        self.directions: dict[str, list[str]] = {}
        gated: list[_Alias] = []
        for item in data.get("skills", []):
            name = normalize_text(item["name"])
            self.directions[name] = list(item.get("directions", []))
            for alias in [name, *item.get("aliases", [])]:
                key = normalize_key(alias)
                if key:
                    self._canon.setdefault(key, name)
            for alias in item.get("tag_aliases", []):  # a skill tag as people type it, never text
                self._canon.setdefault(normalize_key(alias), name)
            for ctx in item.get("context_aliases", []):
                gated.append(_Alias(normalize_key(ctx["alias"]), name,
                                    tuple(normalize_key(w) for w in ctx.get("needs", [])),
                                    tuple(normalize_key(w) for w in ctx.get("unless", []))))
        self._key_memo: dict[str, str] = {}
        # longest aliases first, so "Spark SQL" wins over "Spark" when extracting
        tags_only = {normalize_key(a) for item in data.get("skills", []) for a in item.get("tag_aliases", [])}
        plain = [_Alias(k, n) for k, n in self._canon.items() if k not in tags_only]
        self._aliases = sorted([*plain, *gated], key=lambda a: len(a.key), reverse=True)

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

    def extract(self, text: str, limit: int = 30, context: str | None = None) -> list[str]:
        """Known skills mentioned in free text, in order of first mention. An ambiguous alias
        counts when ``context`` (the whole text the clause comes from; ``text`` by default)
        fits it: "QA" is 软件测试 in a software post, 质量保证 in a GMP one."""
        hay = normalize_key(text)
        where = normalize_key(context) if context is not None else hay
        found: list[tuple[int, str]] = []
        taken = [False] * len(hay)
        for alias in self._aliases:
            key = alias.key
            if len(key) < 2:
                continue
            start = hay.find(key)
            if start != -1 and (alias.needs or alias.unless) and not alias.fits(where):
                continue
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
                    found.append((start, alias.name))
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


# -- skills of 任职能力要求 ----------------------------------------------------------------------

_SENTENCE = re.compile(r"[；;。！!？?\n]")
_CLAUSE = re.compile(r"[，,]")
_PREFERRED_START = re.compile(r"^\s*(了解|知道|接触过|有.*者优先|优先|加分|最好)")
_REQUIRED_START = re.compile(r"^\s*(熟悉|熟练|掌握|精通|具备|具有|能够|能|会|懂|需|须|要求|精于|擅长)")
_OTHER_START = re.compile(r"^\s*(负责|参与|完成|协助|主导|推进|落实|开展|从事|承担)")


def requirement_skills(vocab: SkillVocab, text: str) -> tuple[list[str], list[str]]:
    """(required, preferred) known skills of a requirement text such as
    "熟悉PLC编程、电气控制，了解博途TIA Portal；负责……".

    Clauses after 了解/优先 are preferred, after 熟悉/掌握/具备 required; a clause without a
    lead word continues the previous clause of its sentence. A sentence without a lead word
    counts as required when it is the first (a bare skill list), else it is skipped (duties
    such as "处理电气故障"). A clause mentioning 优先 is preferred."""
    required: list[str] = []
    preferred: list[str] = []
    for n, sentence in enumerate(_SENTENCE.split(text or "")):
        mode = "required" if n == 0 else "other"
        for clause in _CLAUSE.split(sentence):
            if not clause.strip():
                continue
            if _PREFERRED_START.match(clause):
                mode = "preferred"
            elif _REQUIRED_START.match(clause):
                mode = "required"
            elif _OTHER_START.match(clause):
                mode = "other"
            if mode == "preferred" or "优先" in clause:
                target = preferred
            elif mode == "required":
                target = required
            else:
                continue
            for skill in vocab.extract(clause, context=text):
                if skill not in required and skill not in preferred:
                    target.append(skill)
    return required, preferred
