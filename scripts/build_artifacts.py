"""Precompute the CSCO 2022 occupation vectors for the default encoder (models/artifacts/).

The occupation coder loads a matching artifact instead of encoding 1,634 occupations at start;
the file name carries the encoder name and a fingerprint of the texts, so a stale file is
never used. Run: python -m scripts.build_artifacts [--encoder e5]

``--coder-tokens`` instead writes the occupation texts' BM25 token lists under the bundled
reference data's tokenizer (``csco22-bm25-tokens.npz``): a new data directory then reads them
instead of tokenising the 1,634 texts. The file carries the tokenizer's fingerprint, so after a
change of the reference words or of rjieba it is simply not used (a test says it is stale).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from matcher.core.settings import load_settings
from matcher.reference.occupations import Taxonomy
from matcher.retrieval.occupation_coder import OccupationCoder
from models.encoders import create_encoder
from models.paths import ARTIFACT_DIR


def export_demo_vectors(url: str, encoder: str, model: str | None) -> None:
    from sqlalchemy import select

    from matcher.cli.demo import vector_seed_path
    from matcher.storage.store import Store
    from matcher.storage.tables import EmbeddingRow

    name = create_encoder(encoder, model).name
    store = Store(url, create=False)
    from models.encoders import text_hash

    # the cache keys passages by the hash of "p:" + text (CachedEncoder)
    used = {text_hash("p:" + t) for kind in ("demand", "talent") for t in store.texts(kind).values()}
    with store.session() as s:
        rows = s.execute(select(EmbeddingRow.text_hash, EmbeddingRow.vector)
                         .where(EmbeddingRow.model == name).order_by(EmbeddingRow.text_hash)).all()
    if used:  # only the vectors of the texts the demo records have now
        rows = [(h, v) for h, v in rows if h in used]
    hashes = np.array([h for h, _ in rows])
    vectors = np.stack([np.frombuffer(v, dtype="<f4") for _, v in rows]).astype(np.float16)
    path = vector_seed_path(load_settings().reference_dir / "demo", name)
    np.savez_compressed(path, hashes=hashes, vectors=vectors)
    print(f"wrote {path}: {len(hashes)} vectors")


def export_coder_tokens() -> None:
    import shutil
    import tempfile
    from pathlib import Path

    from matcher.reference.bundle import ReferenceData
    from matcher.retrieval.occupation_coder import TOKENS_ARTIFACT
    from matcher.retrieval.shared import SharedModels

    settings = load_settings()
    ref = ReferenceData.load(settings.reference_dir)
    tokenizer = SharedModels().tokenizer(ref.domain_words())  # the service's own (matcher.service)
    shipped = ARTIFACT_DIR / TOKENS_ARTIFACT
    shipped.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        OccupationCoder(ref.taxonomy, create_encoder("e5"), cache_dir=Path(tmp), tokenizer=tokenizer)
        shutil.copy(Path(tmp) / TOKENS_ARTIFACT, shipped)
    print(f"wrote {shipped} (tokenizer {tokenizer.fingerprint()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--encoder", default="e5")
    ap.add_argument("--model", default=None)
    ap.add_argument("--demo-vectors-from", metavar="DATABASE_URL", default=None,
                    help="instead: export the cached vectors of a database loaded by `talentmatch demo` "
                         "to data/demo/vectors-<encoder>.npz, so later demo loads encode nothing")
    ap.add_argument("--coder-tokens", action="store_true",
                    help="instead: write the occupation texts' BM25 token lists (models/artifacts/csco22-bm25-tokens.npz)")
    args = ap.parse_args()
    if args.coder_tokens:
        export_coder_tokens()
        return
    if args.demo_vectors_from:
        export_demo_vectors(args.demo_vectors_from, args.encoder, args.model)
        return
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
