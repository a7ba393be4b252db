"""Majors as a taxonomy (data/majors.json): 门类 → 专业类 → 专业, undergraduate and vocational.

The data are the Ministry of Education's catalogues — 《普通高等学校本科专业目录（2024年）》 and
the 高职专科 part of 《职业教育专业目录（2021年）》 — typed into ``data/majors_*.tsv`` and built into
``data/majors.json`` by ``python -m matcher.reference.majors`` (data/majors_README.md says how).

A post asks for "自动化类", "机械类", "计算机相关专业", a named major or a code ("0809",
"080902"); a seeker writes a major ("机械设计制造及其自动化", "计算机应用技术").
``MajorTaxonomy.fit`` says how well the major meets the request: 1.0 when it is the major asked
for or a member of the 专业类 (or 门类) asked for, 0.7 when it shares a 专业类 with a major asked
for, 0.0 otherwise; None when the taxonomy knows neither side (the caller falls back to comparing
names), so an unknown major or request degrades to the name rules, never to an error.
"""

from __future__ import annotations

import json
import re
import sys
from functools import lru_cache
from pathlib import Path

from matcher.core.textnorm import normalize_key

_REQUEST_SUFFIX = re.compile(r"(类专业|相关专业|等相关专业|等专业|相关|专业|方向|等)+$")
_BRACKETS = re.compile(r"[(（][^)）]*[)）]")
_CODE = re.compile(r"^(\d{6}|\d{4})(?!\d)")
FIT_MEMO = 100_000  # remembered (major, request) pairs before the memo starts again


def _key(text: str) -> str:
    return normalize_key(_BRACKETS.sub("", text or ""))


def _name(item: str | dict) -> str:
    return item if isinstance(item, str) else item["name"]


class MajorTaxonomy:
    """Majors by name, with the 专业类 and 门类 each belongs to (a name in both lists belongs to
    a class of each: 自动化类 is an undergraduate class of 工学 and a vocational one of
    装备制造大类)."""

    def __init__(self, data: dict) -> None:
        self.classes: dict[str, set[str]] = {}  # class key -> major keys
        self.class_names: dict[str, str] = {}  # class key -> its name as written
        self.categories_of: dict[str, set[str]] = {}  # class key -> 门类 / 大类 keys
        self.of_major: dict[str, set[str]] = {}  # major key -> class keys
        self.codes: dict[str, str] = {}  # "0809" / "080902" -> class or major key
        self.major_names: dict[str, str] = {}  # major key -> its name as written
        for listing in data.get("lists", []):
            for cat in listing.get("categories", []):
                cat_key = _key(cat["name"])
                for cls in cat.get("classes", []):
                    ck = _key(cls["name"])
                    self.class_names[ck] = cls["name"]
                    self.categories_of.setdefault(ck, set()).add(cat_key)
                    if cls.get("code"):
                        self.codes[cls["code"]] = ck
                    members = self.classes.setdefault(ck, set())
                    for major in cls.get("majors", []):
                        mk = _key(_name(major))
                        members.add(mk)
                        self.major_names.setdefault(mk, _name(major))
                        self.of_major.setdefault(mk, set()).add(ck)
                        if isinstance(major, dict) and major.get("code"):
                            self.codes[major["code"][:6]] = mk
        self.categories = set().union(*self.categories_of.values()) if self.categories_of else set()
        self._fits: dict[tuple[str | None, str], float | None] = {}

    @property
    def category_of(self) -> dict[str, str]:
        """class key -> one 门类 key (the first listed; ``categories_of`` has them all)."""
        return {k: sorted(v)[0] for k, v in self.categories_of.items()}

    def members(self, request: str) -> set[str]:
        """The majors (names as written) a request covers: a class ("计算机类", "计算机相关专业",
        "0809"), a 门类 ("工学") or one major; empty when the taxonomy does not know it."""
        w = self._resolve(_key(request))
        if w in self.of_major:
            return {self.major_names[w]}
        cat = w if w in self.categories else _REQUEST_SUFFIX.sub("", w)
        if cat in self.categories:
            return {self.major_names[m] for c, cats in self.categories_of.items() if cat in cats
                    for m in self.classes[c]}
        return {self.major_names[m] for c in self._classes_named(w) for m in self.classes[c]}

    def _resolve(self, k: str) -> str:
        """A request by code ("0809计算机类", "080902 软件工程") as the key of what it names."""
        m = _CODE.match(k)
        if m and m.group(1) in self.codes:
            return self.codes[m.group(1)]
        return k

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
        k = self._resolve(k)
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
        w = self._resolve(_key(wanted))
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
            return 1.0 if any(cat in self.categories_of[c] for c in have) else 0.0
        asked = self._classes_named(w)
        if asked:
            if not have:
                return None
            return 1.0 if have & asked else 0.0
        return None


@lru_cache(maxsize=4)
def load_majors(path: Path) -> MajorTaxonomy:
    return MajorTaxonomy.load(path)


# -- building data/majors.json from the typed catalogues ------------------------------------------

SOURCES = (
    ("majors_undergraduate_2024.tsv", "本科", "教育部《普通高等学校本科专业目录（2024年）》"),
    ("majors_vocational_2021.tsv", "高职专科", "教育部《职业教育专业目录（2021年）》高职专科部分"),
)


def read_tsv(path: Path) -> list[dict]:
    """A typed catalogue: "code<TAB>name" lines (2 digits: 门类 / 大类; 4: 专业类; 6 with T/K:
    专业) or "-<TAB>name" (a 专业 without its code), under the class above; # starts a comment."""
    cats: list[dict] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        code, _, name = line.partition("\t")
        name = name.strip()
        if not name:
            raise ValueError(f"{path.name}:{n}: no name")
        if re.fullmatch(r"\d{2}", code):
            cats.append({"code": code, "name": name, "classes": []})
        elif re.fullmatch(r"\d{4}", code):
            if not cats or not code.startswith(cats[-1]["code"]):
                raise ValueError(f"{path.name}:{n}: class {code} outside its 门类")
            cats[-1]["classes"].append({"code": code, "name": name, "majors": []})
        elif code == "-" or re.fullmatch(r"\d{6}[TK]{0,2}", code):
            cls = cats[-1]["classes"][-1] if cats and cats[-1]["classes"] else None
            if cls is None or (code != "-" and not code.startswith(cls["code"])):
                raise ValueError(f"{path.name}:{n}: major {code} {name} outside its class")
            cls["majors"].append(name if code == "-" else {"code": code, "name": name})
        else:
            raise ValueError(f"{path.name}:{n}: unreadable code {code!r}")
    return cats


def build(data_dir: Path) -> dict:
    """data/majors.json's content from the typed catalogues beside it."""
    lists = []
    for file, level, source in SOURCES:
        lists.append({"level": level, "source": source, "file": file,
                      "categories": read_tsv(data_dir / file)})
    return {"note": "由 data/majors_*.tsv 生成（python -m matcher.reference.majors），说明见 data/majors_README.md。",
            "sources": [s for _, _, s in SOURCES], "lists": lists}


if __name__ == "__main__":  # python -m matcher.reference.majors [data dir]
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "data"
    out = directory / "majors.json"
    out.write_text(json.dumps(build(directory), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(out)
