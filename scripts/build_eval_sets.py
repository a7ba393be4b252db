#!/usr/bin/env python
"""Build the SYNTHETIC labelled evaluation sets (``data/eval/synthetic_*.jsonl``) from bundled
public reference data: sanity checks built by rule, not a measure of quality on real text.

Sources (both bundled in ``data/`` with their licences, see ``data/SOURCES.md``):

- ``data/csco22_occupations.csv``: the China Standard Classification of Occupations 2022 — the
  classification's own occupation names, 小类 names, definitions and task lists;
- ``data/mohrss_new_occupations.tsv``: the new occupations announced by MOHRSS since 2019
  (JobE ontology, CC BY 4.0).

Nothing here is written by hand: every query is a classification or announcement text
transformed by the fixed rules below, and every label comes from the classification's own
structure (the code of the occupation or 小类 the text was taken from). See
``data/eval/README.md`` for what each file holds and which split may be tuned on.

Usage::

    python -m scripts.build_eval_sets [--out data/eval]

The output is byte-identical for the same inputs: all choices are made by SHA-256 of fixed
strings (no random state, no set iteration), JSON keys are written in a fixed order.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.reference.occupations import Occupation, Taxonomy
from matcher.reference.skills import SkillVocab

PROJECT_ROOT = Path(__file__).resolve().parent.parent


SALT = "talentmatch-eval-2026"
LABEL_PREFIX = "csco22:"  # external_id of a corpus entry: csco22:<its gold code>
SYNTHETIC = "synthetic_"  # every file built here is a synthetic sanity check, and says so
DEV_SHARE = 40  # percent of 小类 groups in the dev split; the rest is held out
MATCH_CAP = {"dev": 250, "heldout": 400}  # match queries per split (each costs a real encode)
_MARKERS = re.compile(r"[SL/]+$")  # digital (S) and green (L) markers, also "L/S"
_TASK_SPLIT = re.compile(r"(?:^|\s)\d+[.．、]")

# Suffix rewrites seen in job advertisements: the classification's "…工程技术人员" is
# advertised as "…工程师", "…操作员" as "…操作工", and so on. The first alternative that
# differs from the corpus title is used for queries (see ``title_variant``).
SUFFIXES: list[tuple[str, list[str]]] = [
    ("工程技术人员", ["工程师", "技术工程师", "专业工程师"]),
    ("技术人员", ["技术员", "工程师", "技术岗"]),
    ("管理员", ["管理专员", "管理岗", "管理人员"]),
    ("运维员", ["运维工程师", "运维专员", "运维人员"]),
    ("操作员", ["操作工", "操作人员", "操作岗"]),
    ("操作工", ["操作员", "操作人员", "操作岗"]),
    ("人员", ["专员", "岗", "职员"]),
    ("员", ["专员", "人员", "岗"]),
    ("工", ["工人", "技工", "岗位工人"]),
]
# Common abbreviations of job advertisements (applied to the whole title).
ABBREVIATIONS: list[tuple[str, str]] = [
    ("人工智能", "AI"), ("虚拟现实", "VR"), ("集成电路", "芯片"), ("物联网", "IoT"),
    ("电子商务", "电商"), ("地理信息系统", "GIS"), ("建筑信息模型", "BIM"), ("计算机", "IT"),
]
PREFIXES = ["高级", "资深", "初级", "储备", "中级"]
SUFFIX_NOTES = ["（急招）", "（可接受应届生）", "（五险一金）", "（济南）", "（淄博）", "【双休】"]
WISH_TEMPLATES = [
    "求职{title}，做过：{duty}",
    "想找{title}相关工作，主要做过{duty}",
    "{title}，{duty}",
]


# --------------------------------------------------------------------------- helpers


def h(*parts: object) -> int:
    """A stable pseudo-random integer of the parts (SHA-256), for every choice made here."""
    return int(hashlib.sha256("|".join([SALT, *map(str, parts)]).encode("utf-8")).hexdigest()[:12], 16)


def clean_name(name: str) -> str:
    return _MARKERS.sub("", name.strip())


def minor_of(code: str) -> str:
    """The 小类 code (``X-XX-XX-00``) of an occupation code."""
    return code.rsplit("-", 1)[0] + "-00"


def split_of(code: str) -> str:
    """``dev`` or ``heldout``, decided per 小类 so that related occupations share a split."""
    return "dev" if h("split", minor_of(code)) % 100 < DEV_SHARE else "heldout"


def tasks_of(occ: Occupation) -> list[str]:
    """The numbered task items of an occupation, without numbers and final punctuation."""
    items = [t.strip(" 。；;") for t in _TASK_SPLIT.split(occ.tasks or "")]
    return [t for t in items if len(t) >= 4]


def title_variant(name: str, key: str, variant: int) -> tuple[str, list[str]]:
    """A rule paraphrase of a classification title and the rules applied.

    ``variant`` 0 is the corpus title of the match set, 1 the query title: both start from
    the same name but take different suffix alternatives and abbreviations, so a query never
    repeats its gold entry's title.
    """
    rules: list[str] = []
    out = name
    for conj in ("与", "和", "及"):  # "计算机与应用工程技术人员" -> "计算机应用工程技术人员"
        if conj in out[1:-1] and h("conj", key, variant) % 2 == 0:
            out = out.replace(conj, "", 1)
            rules.append(f"drop:{conj}")
            break
    if variant == 1:
        for long, short in ABBREVIATIONS:
            if long in out and out != long:
                out = out.replace(long, short, 1)
                rules.append(f"abbr:{long}→{short}")
                break
    for suffix, alternatives in SUFFIXES:
        stem = out[: -len(suffix)]
        if out.endswith(suffix) and len(stem) >= 2:
            alt = alternatives[(h("suffix", key) + variant) % len(alternatives)]
            out = stem + alt
            rules.append(f"suffix:{suffix}→{alt}")
            break
    return out, rules


def decorate(title: str, key: str, force: bool) -> tuple[str, list[str]]:
    """Advertisement decoration (a seniority prefix or a bracketed note), half of the time.
    Leaders of party and state bodies (major group 1) get no seniority prefix."""
    roll = h("decor", key)
    if not force and roll % 2:
        return title, []
    if (roll >> 1) % 2 and not key.startswith("1-"):
        p = PREFIXES[(roll >> 2) % len(PREFIXES)]
        return p + title, [f"prefix:{p}"]
    s = SUFFIX_NOTES[(roll >> 2) % len(SUFFIX_NOTES)]
    return title + s, [f"note:{s}"]


def query_title(name: str, key: str, decorated: bool = True) -> tuple[str, list[str]]:
    """The query form of a title: paraphrase (variant 1), then (for advertisement titles)
    decoration, so that an advertisement title never repeats the name itself."""
    title, rules = title_variant(name, key, 1)
    if not decorated:
        return title, rules
    title, more = decorate(title, key, force=title == name)
    return title, rules + more


def dumps(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, sort_keys=False)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    lines = [dumps(r) for r in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


# --------------------------------------------------------------------------- occupation coding


def unique_occupations(tax: Taxonomy) -> list[Occupation]:
    """Level-4 occupations, each code once (the source file repeats two rows verbatim)."""
    return list({o.code: o for o in reversed(tax.occupations)}.values())[::-1]


def occupation_queries(tax: Taxonomy, mohrss: list[dict[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """Title queries with their CSCO codes, per split."""
    out: dict[str, list[dict[str, Any]]] = {"dev": [], "heldout": []}
    for occ in unique_occupations(tax):
        name = clean_name(occ.name)
        query, rules = query_title(name, occ.code)
        out[split_of(occ.code)].append({
            "query": query, "gold": [occ.code], "type": "title",
            "meta": {"source": f"CSCO 2022 细类 {occ.code} {name}", "rules": rules}})
    names = {clean_name(o.name) for o in tax.occupations}
    for minor in (o for o in tax.rows if o.level == 3):
        name = clean_name(minor.name)
        if name in names:
            continue  # the same text as an occupation's title query
        query, rules = query_title(name, minor.code)
        out[split_of(minor.code)].append({
            "query": query, "gold": [minor.code], "type": "minor",
            "meta": {"source": f"CSCO 2022 小类 {minor.code} {name}", "rules": rules}})
    by_name: dict[str, list[str]] = {}
    for occ in tax.occupations:
        by_name.setdefault(clean_name(occ.name), []).append(occ.code)
    for row in mohrss:
        codes = by_name.get(row["name"], [])
        if row["kind"] != "occupation" or len(codes) != 1:
            continue  # not (yet) in CSCO 2022 under this name: no code to label it with
        out[split_of(codes[0])].append({
            "query": row["name"], "gold": codes, "type": "mohrss",
            "meta": {"source": f"MOHRSS {row['batch_name']} {row['document_no']} (JobE ontology)",
                     "rules": []}})
    ordered: dict[str, list[dict[str, Any]]] = {}
    for split, rows in out.items():
        rows.sort(key=lambda r: h("order", split, r["type"], r["gold"][0], r["query"]))
        ordered[split] = [{"id": f"occ-{'d' if split == 'dev' else 'h'}-{i:04d}", **r}
                          for i, r in enumerate(rows, 1)]
    return ordered


# --------------------------------------------------------------------------- matching


def corpus_entry(occ: Occupation, vocab: SkillVocab) -> tuple[dict[str, Any], list[str]]:
    """A demand entry made from an occupation: variant-0 title, definition and the first half
    of its tasks. Returns the entry and the held-back second half of the tasks."""
    name = clean_name(occ.name)
    title, _ = title_variant(name, occ.code, 0)
    tasks = tasks_of(occ)
    half = (len(tasks) + 1) // 2
    shown, held = tasks[:half], tasks[half:]
    description = occ.definition + ("主要工作任务：" + "；".join(shown) + "。" if shown else "")
    skills = vocab.extract(occ.definition + "；".join(shown), limit=6)
    # the gold code is in external_id only: an entry coded from its text, as a real import
    # codes it (an occupation_code here was rewarded by occupation_fit: the label leaked)
    entry = {"external_id": f"{LABEL_PREFIX}{occ.code}", "title": title[:200],
             "description": description, "required_skills": skills, "source": "post"}
    DemandEntry.model_validate(entry)
    return entry, held


def match_sets(tax: Taxonomy, vocab: SkillVocab) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The demand corpus (every occupation with a definition) and seeker queries per split."""
    corpus: list[dict[str, Any]] = []
    candidates: dict[str, list[tuple[tuple[int, int], dict[str, Any]]]] = {"dev": [], "heldout": []}
    for occ in unique_occupations(tax):
        if not occ.definition:
            continue
        entry, held = corpus_entry(occ, vocab)
        corpus.append(entry)
        if not held:
            continue  # nothing the entry does not already say
        name = clean_name(occ.name)
        title, rules = query_title(name, occ.code, decorated=False)
        duty = held[h("duty", occ.code) % len(held)]
        skills = vocab.extract("；".join(held), limit=5)
        meta = {"source": f"CSCO 2022 细类 {occ.code} {name}", "rules": rules,
                "duty": "a task item not included in the corpus entry"}
        if h("kind", occ.code) % 2 == 0:
            template = WISH_TEMPLATES[h("template", occ.code) % len(WISH_TEMPLATES)]
            row = {"query": template.format(title=title, duty=duty), "side": "demands",
                   "gold_occupations": [occ.code], "type": "wish", "meta": meta}
        else:
            profile = {"desired_occupations": [title], "skills": skills, "summary": duty}
            TalentProfile.model_validate(profile)
            row = {"profile": profile, "side": "demands", "gold_occupations": [occ.code],
                   "type": "profile", "meta": meta}
        # digital occupations (the programmes' focus) first, then a stable pseudo-random order
        rank = (0 if occ.digital else 1, h("pick", occ.code))
        candidates[split_of(occ.code)].append((rank, row))
    out: dict[str, list[dict[str, Any]]] = {}
    for split, rows in candidates.items():
        picked = [r for _, r in sorted(rows, key=lambda x: x[0])][: MATCH_CAP[split]]
        out[split] = [{"id": f"match-{'d' if split == 'dev' else 'h'}-{i:04d}", **r}
                      for i, r in enumerate(picked, 1)]
    return corpus, out


# --------------------------------------------------------------------------- main


def read_mohrss(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def build(ref: Path, out_dir: Path) -> dict[str, int]:
    """Write every evaluation file; returns the row count of each."""
    tax = Taxonomy.load(ref / "csco22_occupations.csv")
    vocab = SkillVocab.load(ref / "skills.json")
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    occ = occupation_queries(tax, read_mohrss(ref / "mohrss_new_occupations.tsv"))
    for split, rows in occ.items():
        name = f"{SYNTHETIC}occupations_{split}.jsonl"
        counts[name] = write_jsonl(out_dir / name, rows)
    corpus, match = match_sets(tax, vocab)
    counts[f"{SYNTHETIC}match_corpus.jsonl"] = write_jsonl(out_dir / f"{SYNTHETIC}match_corpus.jsonl", corpus)
    for split, rows in match.items():
        name = f"{SYNTHETIC}match_{split}.jsonl"
        counts[name] = write_jsonl(out_dir / name, rows)
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "eval")
    ap.add_argument("--reference", type=Path, default=PROJECT_ROOT / "data")
    args = ap.parse_args(argv)
    for name, n in build(args.reference, args.out).items():
        print(f"{args.out / name}: {n} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
