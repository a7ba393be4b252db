#!/usr/bin/env python
"""Convert the real job-title development set (CSV) into an evaluation file (JSON Lines).

``data/eval/real_titles_dev.csv`` (``job_name,expected_code,expected_name``; the test cases of
the ``cscoder`` 0.2.4 package, MIT, Antao Li) becomes ``data/eval/real_titles_dev.jsonl`` for
``talentmatch eval --task occupations``: one line per row, ``gold`` the expected code, ``type``
the level of that code (细类, 小类, 中类 or 大类; a coarser gold is hit by any occupation under
it), ``meta.expected_name`` the name the source gives. Deterministic; rows keep their order.

    python scripts/build_real_titles.py
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "data" / "eval" / "real_titles_dev.csv"
DST = ROOT / "data" / "eval" / "real_titles_dev.jsonl"
LEVELS = {1: "大类", 2: "中类", 3: "小类", 4: "细类"}


def levels(path: Path = ROOT / "data" / "csco22_occupations.csv") -> dict[str, int]:
    """Level of every CSCO 2022 code (some level-4 codes of 大类 1 end in -00 too)."""
    with path.open(encoding="utf-8") as fh:
        return {r["code"]: int(r["level"]) for r in csv.DictReader(fh)}


def build(src: Path = SRC) -> list[dict]:
    level_of = levels()
    rows = []
    with src.open(encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh), 1):
            code = r["expected_code"].strip()
            rows.append({"id": f"rt-{i:04d}", "query": r["job_name"], "gold": [code],
                         "type": LEVELS[level_of[code]],
                         "meta": {"expected_name": r["expected_name"], "source": "cscoder 0.2.4 testcases.csv"}})
    return rows


def main() -> int:
    rows = build()
    DST.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {len(rows)} queries to {DST.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
