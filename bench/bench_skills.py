#!/usr/bin/env python
"""Precision of skill extraction from requirement texts, on a hand-labelled sample.

A measurement script, not a test. ``data/eval/requirement_skills_sample.jsonl`` holds 40
requirement texts written by hand the way companies write them (QA posts in pharma and in
software, CAD drafting with 尺寸标注, data labelling, management posts that mention 测试 ...),
each with the vocabulary skills a careful reader finds in it. The extraction measured is the
one a catalogue import stores: ``requirement_skills`` (required ∪ preferred).

Prints micro precision and recall with 95% bootstrap intervals (texts resampled) and every false
positive. ``--vocab`` measures another vocabulary file (e.g. the one before a change); the code
measured is the ``matcher`` on PYTHONPATH. Writes ``bench/results/skills-precision-<label>.json``.

    python -m bench.bench_skills [--vocab data/skills.json] [--label after]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "eval" / "requirement_skills_sample.jsonl"


def _scores(rows: list[tuple[set[str], set[str]]]) -> tuple[float, float]:
    tp = sum(len(p & g) for p, g in rows)
    n_pred = sum(len(p) for p, _ in rows)
    n_gold = sum(len(g) for _, g in rows)
    return (tp / n_pred if n_pred else 1.0), (tp / n_gold if n_gold else 1.0)


def _interval(rows: list[tuple[set[str], set[str]]], n: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    rng = random.Random(seed)
    ps, rs = [], []
    for _ in range(n):
        sample = [rows[rng.randrange(len(rows))] for _ in rows]
        p, r = _scores(sample)
        ps.append(p)
        rs.append(r)
    ps.sort()
    rs.sort()
    lo, hi = int(0.025 * n), int(0.975 * n) - 1
    return {"precision": [round(ps[lo], 3), round(ps[hi], 3)], "recall": [round(rs[lo], 3), round(rs[hi], 3)]}


def main() -> None:
    from matcher.reference.skills import SkillVocab, requirement_skills

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vocab", type=Path, default=ROOT / "data" / "skills.json")
    ap.add_argument("--label", default="after")
    ap.add_argument("--sample", type=Path, default=SAMPLE)
    args = ap.parse_args()
    vocab = SkillVocab(json.loads(args.vocab.read_text(encoding="utf-8")))
    items = [json.loads(line) for line in args.sample.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows: list[tuple[set[str], set[str]]] = []
    false_pos: list[dict[str, object]] = []
    for it in items:
        required, preferred = requirement_skills(vocab, it["text"])
        pred, gold = set(required) | set(preferred), set(it["gold"])
        rows.append((pred, gold))
        if pred - gold:
            false_pos.append({"id": it["id"], "title": it["title"], "wrong": sorted(pred - gold)})
    precision, recall = _scores(rows)
    result = {
        "label": args.label, "vocab": str(args.vocab), "texts": len(items),
        "predicted": sum(len(p) for p, _ in rows), "gold": sum(len(g) for _, g in rows),
        "precision": round(precision, 3), "recall": round(recall, 3), "ci95": _interval(rows),
        "false_positives": false_pos,
    }
    out = ROOT / "bench" / "results" / f"skills-precision-{args.label}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "false_positives"}, ensure_ascii=False))
    for fp in false_pos:
        print(f"  误取 #{fp['id']} {fp['title']}: {'、'.join(fp['wrong'])}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
