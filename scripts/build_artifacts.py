"""Precompute the CSCO 2022 occupation vectors for the default encoder (models/artifacts/).

The occupation coder loads a matching artifact instead of encoding 1,634 occupations at start;
the file name carries the encoder name and a fingerprint of the texts, so a stale file is
never used. Run: python scripts/build_artifacts.py [--encoder e5]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from matcher.occupations import ARTIFACT_DIR, OccupationCoder, Taxonomy
from matcher.settings import load_settings
from models.encoders import create_encoder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--encoder", default="e5")
    ap.add_argument("--model", default=None)
    args = ap.parse_args()
    settings = load_settings()
    enc = create_encoder(args.encoder, args.model)
    tax = Taxonomy.load(settings.reference_dir / "csco22_occupations.csv")
    t0 = time.perf_counter()
    coder = OccupationCoder(tax, enc, cache_dir=None)
    ARTIFACT_DIR.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACT_DIR.glob(f"csco22-{coder.artifact_name().split('-')[1]}-*.npy"):
        old.unlink()
    path = ARTIFACT_DIR / coder.artifact_name()
    np.save(path, coder._matrix.astype(np.float32))
    print(f"wrote {path} ({coder._matrix.shape}) in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
