"""CSCO 2022 occupation coding: free-text job title -> top-k occupations, dense + BM25."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import OccupationCandidate
from matcher.reference.occupations import Taxonomy
from matcher.retrieval.lexical import BM25Index, Tokenizer, default_tokenizer
from models.paths import ARTIFACT_DIR


class OccupationCoder:
    """Hybrid dense + BM25 coder over the level-4 occupations."""

    def __init__(self, taxonomy: Taxonomy, encoder, cache_dir: Path | None = None,
                 dense_weight: float = 0.6, *, tokenizer: Tokenizer | None = None) -> None:
        """``tokenizer`` should keep the occupation names whole (a service passes its own,
        which does); without one, the coder derives one that does."""
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.items = taxonomy.occupations
        self.dense_weight = dense_weight
        self.tokenizer = tokenizer or default_tokenizer().derive(o.name for o in self.items)
        self._bm25 = BM25Index()
        self._bm25.upsert(
            list(range(len(self.items))),
            [self.tokenizer.tokenize(f"{o.name} {o.name} {o.name} {o.definition} {o.tasks[:300]}")
             for o in self.items],
        )
        self._matrix = self._load_vectors(cache_dir)

    def _fingerprint(self) -> str:
        h = hashlib.sha256(self.encoder.name.encode())
        for o in self.items:
            h.update(o.dense_text.encode())
        return h.hexdigest()[:16]

    def _load_vectors(self, cache_dir: Path | None) -> np.ndarray:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.encoder.name)
        fname = f"csco22-{safe}-{self._fingerprint()}.npy"
        for d in (ARTIFACT_DIR, cache_dir):
            if d is not None and (d / fname).exists():
                try:
                    m = np.load(d / fname).astype(np.float32)
                    if m.shape == (len(self.items), self.encoder.dim):
                        return m
                except (OSError, ValueError):
                    pass  # unreadable cache: re-encode below
        m = self.encoder.encode_passages([o.dense_text for o in self.items])
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache_dir / (fname + ".tmp.npy")
            np.save(tmp, m.astype(np.float16 if m.dtype == np.float16 else np.float32))
            tmp.replace(cache_dir / fname)
        return m

    def artifact_name(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.encoder.name)
        return f"csco22-{safe}-{self._fingerprint()}.npy"

    def code(self, texts: list[str], top_k: int = 10) -> list[list[OccupationCandidate]]:
        """Top-k occupations for each text; scores in [0, 1], best first."""
        clean = [normalize_text(t) for t in texts]
        out: list[list[OccupationCandidate]] = [[] for _ in texts]
        todo = [i for i, t in enumerate(clean) if t]
        if not todo:
            return out
        q = self.encoder.encode_queries([clean[i] for i in todo])
        sims = q @ self._matrix.T
        for row, i in enumerate(todo):
            out[i] = self._rank(clean[i], sims[row], top_k)
        return out

    def _rank(self, text: str, sims: np.ndarray, top_k: int) -> list[OccupationCandidate]:
        """Convex fusion of query-relative dense and lexical scores.

        e5 cosines of unrelated pairs sit near 0.85, so raw cosines barely separate; each
        query's cosines are rescaled between their mean (0) and their maximum (1).
        """
        mu, top = float(sims.mean()), float(sims.max())
        dense = np.clip((sims - mu) / (top - mu), 0.0, 1.0) if top > mu else np.zeros_like(sims)
        lexical = np.zeros_like(dense)
        hits = self._bm25.search(self.tokenizer.tokenize(text), max(100, top_k * 5))
        best_lex = max((s for _, s in hits), default=0.0)
        for i, s in hits:
            lexical[i] = s / best_lex
        score = self.dense_weight * dense + (1 - self.dense_weight) * lexical
        order = np.lexsort((np.arange(len(score)), -score))[:top_k]
        return [OccupationCandidate(code=self.items[i].code, name=self.items[i].name,
                                    score=round(float(score[i]), 4)) for i in order]

    def best(self, text: str) -> OccupationCandidate | None:
        res = self.code([text], top_k=1)[0]
        return res[0] if res else None
