#!/usr/bin/env python
"""Generate the SYNTHETIC demo data set (enterprises, demand entries, talents, a catalogue).

Everything written here is invented: enterprise names, people, phone numbers and posts are
synthetic. They are built on the project's real taxonomies (CSCO 2022 occupation codes in
``data/csco22_occupations.csv``), its hand-compiled skill vocabulary (``data/skills.json``)
and its chain registries (``data/chains/*.json``), so that matching over them is meaningful.

Usage::

    python -m scripts.generate_demo [--out data/demo] [--seed 20261121]

The output is byte-identical for the same seed and inputs (a seeded ``random.Random``, no
set iteration, stable key order, ``ensure_ascii=False``). Only the standard library, pydantic
and ``matcher.domain.schemas`` are used.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
from pathlib import Path

from scripts.demo_archetypes import (
    DEFAULT_SEED,
    N_CATALOGUE_ROWS,
    PROJECT_ROOT,
)
from scripts.demo_records import (
    EDU_FACTOR,
    archetypes_for_chain,
    make_demands,
    make_enterprises,
    make_talents,
    pick_edu,
    sample_required,
    worker_factor,
)
from scripts.demo_vocab import CITIES, round_to
from scripts.generate_demo_ref import RefData, check_archetypes, load_refdata, title_spec

# ---------------------------------------------------------------------------------------
# Shortage catalogue (Chinese headers, as an official catalogue would have them)
# ---------------------------------------------------------------------------------------

CATALOGUE_HEADERS = ["序号", "岗位名称", "所属产业链", "紧缺星级", "学历要求", "专业要求", "任职能力要求",
                     "薪酬待遇", "工作经验", "需求人数", "工作地点"]
CATALOGUE_MAPPING = {
    "columns": {"岗位名称": "title", "所属产业链": "chain_id", "紧缺星级": "shortage_level",
                "学历要求": "education", "专业要求": "majors", "任职能力要求": "description",
                "薪酬待遇": "salary", "工作经验": "min_experience_years", "需求人数": "headcount",
                "工作地点": "city"},
    "ignore": ["序号"],
    "defaults": {"source": "catalogue"},
}
# catalogue metadata (not part of the mapping file, whose keys the importer checks strictly)
CATALOGUE_META = {"region": "淄博市", "year": 2025, "name": "淄博市急需紧缺数字工程师目录（2025年，示例）",
                  "chain_registry": "zibo"}
EDU_LABEL = {"高中/中专": ["中专/技校", "中职"], "大专": ["专科（高职）", "大专及以上", "专科"],
             "本科": ["大学本科", "本科及以上", "全日制本科"], "硕士": ["硕士研究生", "研究生"], "博士": ["博士研究生"]}


def make_catalogue(rng: random.Random, ref: RefData) -> list[list[str]]:
    zb = [c for c in ref.chains if c.startswith("zb-")]
    rows = []
    for i in range(1, N_CATALOGUE_ROWS + 1):
        chain_id = zb[(i - 1) % len(zb)] if i <= len(zb) else rng.choice(zb)
        arch, w = archetypes_for_chain(chain_id)
        w = [x if x >= 3 else x * 0.3 for x in w]  # a shortage catalogue lists chain-specific posts
        a = rng.choices(arch, weights=w, k=1)[0]
        title, _code, extra = title_spec(a, rng.choice(a.titles))
        stars = rng.choices([1, 2, 3, 4, 5, 0], weights=[1, 2, 5, 4, 3, 2], k=1)[0]
        star_txt = "—" if stars == 0 else (f"{stars}星" if rng.random() < 0.6 else "★" * stars)
        edu = pick_edu(rng, a, shift=-1 if rng.random() < 0.3 else 0)
        if _code[0] in "456" and edu in ("本科", "硕士", "博士"):
            edu = "大专"
        edu_txt = "不限" if rng.random() < 0.1 else rng.choice(EDU_LABEL[edu])
        majors = "、".join(rng.sample(a.major_cats, min(len(a.major_cats), rng.randint(1, 2))))
        if rng.random() < 0.08:
            majors = "不限"
        req, pref = sample_required(rng, a, extra, rng.randint(3, 5))
        ability = f"熟悉{'、'.join(req)}" + (f"，了解{'、'.join(pref[:2])}" if pref else "") + f"；{rng.choice(a.duties)}。"
        min_exp = rng.choices([0, 1, 3, 5], weights=[3, 3, 4, 2], k=1)[0]
        exp_txt = {0: rng.choice(["不限", "应届"]), 1: rng.choice(["1-3年", "1年以上"]), 3: rng.choice(["3年以上", "3-5年"]),
                   5: rng.choice(["5年以上", "5年及以上"])}[min_exp]
        base = a.base * worker_factor(a, _code) * CITIES["淄博"][2] * EDU_FACTOR[edu] * (1 + 0.07 * min_exp)
        r = rng.random()
        if r < 0.12:
            pay = "面议"
        elif r < 0.45:
            lo = max(3, round(base * 13 / 10000))
            pay = f"{lo}-{lo + rng.choice([2, 3, 4, 5, 8])}万元/年"
        elif r < 0.95:
            lo = round_to(base)
            pay = f"{lo}-{round_to(lo * rng.uniform(1.3, 1.6))}元/月"
        else:
            pay = f"不低于{round_to(base)}元/月"
        head = "若干" if rng.random() < 0.04 else str(rng.choices([1, 2, 3, 5, 10], weights=[4, 4, 3, 2, 1], k=1)[0])
        district = rng.choice(CITIES["淄博"][3])
        place = rng.choice([f"淄博市{district}", f"淄博市{district}", district if district.endswith("县") else f"淄博市{district}", "淄博高新区", "淄博经开区"])
        rows.append([str(i), title, ref.chains[chain_id]["name"], star_txt, edu_txt, majors, ability,
                     pay, exp_txt, head, place])
    return rows


# ---------------------------------------------------------------------------------------
# The next year's catalogue (2026), derived from the 2025 one so that a comparison of the
# two years has new, removed and changed entries. Documented changes, each drawn with its
# own seeded stream (seed + 4; new rows come from a fresh catalogue drawn with seed + 5):
#   - 8 rows of 2025 are dropped (removed entries);
#   - of the rest, each row independently: 25% change their shortage level by one or two
#     stars (up twice as often as down), 20% get another headcount, 35% raise a monthly
#     salary range by 6% (rounded to 500), 8% ask one experience band more;
#   - 3 rows get a new title of the same post ("高级" prefix), the same chain and duties;
#   - 12 rows are added from the fresh catalogue (title + chain not already listed);
#   - rows are renumbered (序号) in the new order.
# ---------------------------------------------------------------------------------------

NEXT_CATALOGUE_YEAR = 2026
N_NEXT_DROPPED = 8
N_NEXT_RENAMED = 3
N_NEXT_ADDED = 12
EXPERIENCE_NEXT = {"不限": "1年以上", "应届": "1年以上", "1-3年": "3年以上", "1年以上": "3年以上",
                   "3年以上": "5年以上", "3-5年": "5年以上"}


def _stars_text(rng: random.Random, stars: int) -> str:
    return "—" if stars == 0 else (f"{stars}星" if rng.random() < 0.6 else "★" * stars)


def _stars_of(text: str) -> int:
    if text == "—":
        return 0
    return int(text[0]) if text[0].isdigit() else len(text)


def _raise_monthly(pay: str) -> str:
    m = re.fullmatch(r"(\d+)-(\d+)元/月", pay)
    if m is None:
        return pay
    lo, hi = (round_to(int(x) * 1.06) for x in m.groups())
    return f"{lo}-{max(hi, lo + 500)}元/月"


def make_next_catalogue(rng: random.Random, fresh: list[list[str]], rows: list[list[str]]) -> list[list[str]]:
    """The 2026 catalogue: the 2025 rows with the documented changes above."""
    dropped = set(rng.sample(range(len(rows)), N_NEXT_DROPPED))
    kept = [list(r) for i, r in enumerate(rows) if i not in dropped]
    for r in kept:
        if rng.random() < 0.25:
            stars = _stars_of(r[3])
            step = rng.choice([1, 1, 2, -1])
            r[3] = _stars_text(rng, min(5, max(1, stars + step)) if stars else rng.choice([2, 3]))
        if rng.random() < 0.20 and r[9] != "若干":
            r[9] = str(rng.choice([v for v in (1, 2, 3, 5, 8, 10) if str(v) != r[9]]))
        if rng.random() < 0.35:
            r[7] = _raise_monthly(r[7])
        if rng.random() < 0.08 and r[8] in EXPERIENCE_NEXT:
            r[8] = EXPERIENCE_NEXT[r[8]]
    for i in rng.sample(range(len(kept)), N_NEXT_RENAMED):
        if not kept[i][1].startswith("高级"):
            kept[i][1] = "高级" + kept[i][1]
    listed = {(r[1], r[2]) for r in kept}
    added = [list(r) for r in fresh if (r[1], r[2]) not in listed]
    kept += rng.sample(added, min(N_NEXT_ADDED, len(added)))
    for n, r in enumerate(kept, start=1):
        r[0] = str(n)
    return kept


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------


def jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)


def readme(counts: dict[str, int], seed: int) -> str:
    return f"""# Demo data — SYNTHETIC

Everything in this folder is **synthetic**: the enterprises, people, names, phone numbers,
posts and the catalogue are invented by `scripts/generate_demo.py`. Any resemblance to a real
company or person is accidental. No national ID numbers are generated.

The records are built on the project's real taxonomies, so that matching over them is
meaningful: occupation codes are real CSCO 2022 level-4 codes (`data/csco22_occupations.csv`),
skills are canonical names from `data/skills.json` (talents sometimes write an alias or a
different casing), chain ids come from `data/chains/*.json` (both registries are samples, not
the official lists). Each talent is drawn around a latent target occupation (an "archetype"
shared with the posts) plus noise. About 5% of talent summaries are written in Traditional
characters and about 5% with full-width characters, to exercise text normalisation.

Regenerate (byte-identical for the same seed):

```
python -m scripts.generate_demo --out data/demo --seed {seed}
```

| file | rows | model / format |
|---|---|---|
| `enterprises.jsonl` | {counts['enterprises']} | `matcher.domain.schemas.Enterprise` (with `id`) |
| `demands.jsonl` | {counts['demands']} | `matcher.domain.schemas.DemandEntry`, `source` = `post`, `enterprise_id` refers to `enterprises.jsonl` |
| `talents.jsonl` | {counts['talents']} | `matcher.domain.schemas.TalentProfile` |
| `catalogue_zibo_2025.csv` | {counts['catalogue']} | shortage catalogue of 淄博市 for 2025, Chinese headers, UTF-8 (no BOM) |
| `catalogue_zibo_2025.mapping.json` | — | header → `DemandEntry` field mapping for the catalogue importer |
| `catalogue_zibo_{NEXT_CATALOGUE_YEAR}.csv` | {counts['catalogue_next']} | the same catalogue for {NEXT_CATALOGUE_YEAR}, derived from 2025 (see below) |
| `catalogue_zibo_{NEXT_CATALOGUE_YEAR}.mapping.json` | — | the same mapping |

The catalogue is region `{CATALOGUE_META['region']}`, year {CATALOGUE_META['year']}, chain registry
`{CATALOGUE_META['chain_registry']}` (`data/chains/zibo.json`); name: {CATALOGUE_META['name']}.

The {NEXT_CATALOGUE_YEAR} catalogue exists so that two years can be compared
(`talentmatch catalogue compare --region 淄博市 --from 2025 --to {NEXT_CATALOGUE_YEAR}`). It is the
2025 catalogue with documented changes (`make_next_catalogue` in the generator): {N_NEXT_DROPPED} rows
dropped; of the rest, independently, 25% change their shortage level by one or two stars, 20%
get another headcount, 35% raise a monthly salary range by 6%, 8% ask one experience band more;
{N_NEXT_RENAMED} rows get a new title of the same post (“高级” prefix); {N_NEXT_ADDED} rows are added
from a freshly drawn catalogue; rows are renumbered.

Notes on the catalogue: `所属产业链` holds the chain **name** from `data/chains/zibo.json`
(resolve it to an id); `紧缺星级` is `N星`, `★…` or `—` (none); `学历要求` uses official
wording (大学本科, 专科（高职）, 硕士研究生, 中专/技校, 不限 …); `薪酬待遇` is a range such as
`8-12万元/年`, `6000-9000元/月`, `不低于7000元/月` or `面议` (the virtual field `salary`,
parsed into `salary_min`/`salary_max` in 元/月); `工作经验` is `3年以上`, `1-3年`, `应届`,
`不限` …; `需求人数` is a number or `若干`; `工作地点` is a district of 淄博 (sometimes
`淄博高新区`/`淄博经开区`, which are not in `cn_regions.csv`).
"""


def generate(out_dir: Path, seed: int, data_dir: Path) -> dict[str, int]:
    ref = load_refdata(data_dir)
    check_archetypes(ref)
    enterprises = make_enterprises(random.Random(seed), ref)
    demands = make_demands(random.Random(seed + 1), ref, enterprises)
    talents = make_talents(random.Random(seed + 2), ref)
    catalogue = make_catalogue(random.Random(seed + 3), ref)
    next_catalogue = make_next_catalogue(random.Random(seed + 4), make_catalogue(random.Random(seed + 5), ref),
                                          catalogue)
    enterprises = [{k: v for k, v in e.items() if not k.startswith("_")} for e in enterprises]

    out_dir.mkdir(parents=True, exist_ok=True)

    def write(name: str, text: str) -> None:
        (out_dir / name).write_bytes(text.encode("utf-8"))

    write("enterprises.jsonl", jsonl(enterprises))
    write("demands.jsonl", jsonl(demands))
    write("talents.jsonl", jsonl(talents))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CATALOGUE_HEADERS)
    w.writerows(catalogue)
    write("catalogue_zibo_2025.csv", buf.getvalue())
    write("catalogue_zibo_2025.mapping.json", json.dumps(CATALOGUE_MAPPING, ensure_ascii=False, indent=2) + "\n")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CATALOGUE_HEADERS)
    w.writerows(next_catalogue)
    write(f"catalogue_zibo_{NEXT_CATALOGUE_YEAR}.csv", buf.getvalue())
    write(f"catalogue_zibo_{NEXT_CATALOGUE_YEAR}.mapping.json",
          json.dumps(CATALOGUE_MAPPING, ensure_ascii=False, indent=2) + "\n")
    counts = {"enterprises": len(enterprises), "demands": len(demands), "talents": len(talents),
              "catalogue": len(catalogue), "catalogue_next": len(next_catalogue)}
    write("README.md", readme(counts, seed))
    return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Generate the synthetic demo data set.")
    p.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "demo")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--data-dir", type=Path, default=PROJECT_ROOT / "data",
                   help="folder with csco22_occupations.csv, skills.json and chains/")
    args = p.parse_args(argv)
    counts = generate(args.out, args.seed, args.data_dir)
    print(json.dumps(counts, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
