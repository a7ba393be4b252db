"""The CSCO 2022 occupation classification: levels, codes, names, digital and green markers."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from matcher.core.textnorm import normalize_text

_MARKERS = re.compile(r"[SL](?:/[SL])*$")  # "S", "L" or "L/S": digital and/or green
CODE_RE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Occupation:
    level: int
    code: str
    name: str
    definition: str
    tasks: str
    digital: bool
    green: bool

    @property
    def dense_text(self) -> str:
        return normalize_text(f"{self.name}：{self.definition}")[:400]


def load_taxonomy(path: Path) -> list[Occupation]:
    rows: list[Occupation] = []
    with path.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            raw = r["name"].strip()
            marker = _MARKERS.search(raw)
            flags = marker.group(0) if marker else ""
            rows.append(Occupation(
                level=int(r["level"]), code=r["code"].strip(), name=_MARKERS.sub("", raw),
                definition=(r.get("definition") or "").strip(), tasks=(r.get("tasks") or "").strip(),
                digital="S" in flags, green="L" in flags,
            ))
    return rows


class Taxonomy:
    """All levels of CSCO 2022, with lookups by code."""

    def __init__(self, rows: list[Occupation]) -> None:
        self.rows = rows
        self.by_code = {o.code: o for o in rows}
        self.occupations = [o for o in rows if o.level == 4]

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        return cls(load_taxonomy(path))

    def name(self, code: str) -> str | None:
        o = self.by_code.get(code)
        return o.name if o else None

    def search(self, q: str, limit: int = 20) -> list[Occupation]:
        """Occupations whose name contains ``q`` or whose code starts with it."""
        key = normalize_text(q)
        if not key:
            return []
        return [o for o in self.occupations if key in o.name or o.code.startswith(key)][:limit]

    def minor_group(self, code: str) -> str:
        """The 小类 (level 3) code of an occupation code."""
        return code[:-2] + "00"
