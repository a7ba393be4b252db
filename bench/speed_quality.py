"""Quality of the static first-stage encoder against its e5 teacher, on real titles.

Occupation coding candidate generation on the real dev titles (``data/eval/real_titles_dev.jsonl``)
that ``scripts/build_static_encoder.py`` kept out of training (:func:`real_title_half` ==
``"eval"``): each title (normalised, as the coder's dense baseline reads it) is a query against
the level-4 CSCO occupations; Recall@10 with the gold's hierarchy (a 小类/中类/大类 gold is hit
by any occupation under it), bootstrap 95% intervals and the paired difference to e5, all on the
same titles in the same run. Rows:

- ``e5``: e5 query vs e5 occupation vectors (the shipped matrix) — the teacher;
- ``static``: static query vs static occupation vectors (both sides static);
- ``static→e5 passages``: static query vs the e5 occupation matrix (same space);
- ``static pool 50 → e5``: the top 50 of ``static`` re-scored by e5 (e5 query vs e5 passages).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _r_at_k(order: np.ndarray, golds: list[str], codes: list[str], k: int = 10) -> np.ndarray:
    from matcher.evaluation.metrics import code_hits

    return np.array([any(code_hits(g, codes[j]) for j in row[:k]) for row, g in zip(order, golds, strict=True)],
                    dtype=np.float64)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    rows = np.arange(len(scores))[:, None]
    return part[rows, np.argsort(-scores[rows, part], axis=1)]


def _ci(values: np.ndarray) -> list[float]:
    from matcher.evaluation.metrics import bootstrap_ci

    return list(bootstrap_ci(values))


def realtitle_quality(e5: Any, static: Any, cache_dir: Path | None = None, pool: int = 50) -> dict[str, Any]:
    """Recall@10 rows (see the module docstring) with intervals and paired differences to e5."""
    from matcher.core.textnorm import normalize_text
    from matcher.evaluation.occupation_cv import encode_cached
    from matcher.reference.occupations import Taxonomy
    from matcher.retrieval.occupation_coder import OccupationCoder
    from scripts.build_static_encoder import real_title_half

    rows = [json.loads(line) for line in (ROOT / "data" / "eval" / "real_titles_dev.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if real_title_half(r["query"]) == "eval"]
    titles = [normalize_text(r["query"]) for r in rows]
    golds = [r["gold"][0] for r in rows]
    tax = Taxonomy.load(ROOT / "data" / "csco22_occupations.csv")
    codes = [o.code for o in tax.occupations]
    e5_occ = OccupationCoder(tax, e5, cache_dir=cache_dir, reranker=None)._matrix
    static_occ = static.encode_passages([o.dense_text for o in tax.occupations])
    q_e5 = np.asarray(encode_cached(e5, titles, cache_dir), dtype=np.float32)
    q_st = static.encode_queries(titles)
    hits: dict[str, np.ndarray] = {}
    hits["e5"] = _r_at_k(_top(q_e5 @ e5_occ.T, 10), golds, codes)
    st_scores = q_st @ static_occ.T
    hits["static"] = _r_at_k(_top(st_scores, 10), golds, codes)
    hits["static→e5 passages"] = _r_at_k(_top(q_st @ e5_occ.T, 10), golds, codes)
    pool_ids = _top(st_scores, pool)
    rescored = np.einsum("nd,nkd->nk", q_e5, e5_occ[pool_ids])
    reorder = np.take_along_axis(pool_ids, np.argsort(-rescored, axis=1), axis=1)
    hits[f"static pool {pool} → e5"] = _r_at_k(reorder, golds, codes)
    hits[f"static recall@{pool} (pool)"] = _r_at_k(pool_ids, golds, codes, k=pool)
    out: dict[str, Any] = {"titles": len(titles), "split": "real_titles_dev.jsonl, the half kept out of training",
                           "static_model": static.name, "rows": []}
    for name, h in hits.items():
        diff = h - hits["e5"]
        out["rows"].append({"encoder": name, "recall@10": round(float(h.mean()), 4), "ci": _ci(h),
                            "delta_vs_e5": round(float(diff.mean()), 4), "delta_ci": _ci(diff)})
    cos = np.sum(q_st * q_e5, axis=1)
    out["mean_cosine_static_vs_e5_queries"] = round(float(cos.mean()), 4)
    return out


if __name__ == "__main__":  # quick look: python -m bench.speed_quality [artifact]
    import sys

    from matcher.retrieval.encoders import build_encoder
    from models.encoders.static import StaticEncoder

    res = realtitle_quality(build_encoder("e5"), StaticEncoder(sys.argv[1] if len(sys.argv) > 1 else None),
                            cache_dir=ROOT / "var" / "cache")
    print(json.dumps(res, ensure_ascii=False, indent=1))
