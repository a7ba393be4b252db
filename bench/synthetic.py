"""Synthetic vectors shaped like real e5 embeddings (archetypes plus noise), and how alike they are."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from bench.corpus import JobCorpus

# --------------------------------------------------------------------------- synthetic vectors


class SyntheticVectors:
    """Compositional vectors shaped like real e5 embeddings of job postings.

    A record of archetype ``a`` with title ``t``, skills ``S``, chain ``c`` and city ``y`` gets

        v = normalise(B[a] + w_t·C(t) + w_s·ΣC(s)/√|S| + w_c·C(c) + w_y·C(y) + w_r·C(record) + w_i·e)

    where ``B[a]`` is the real e5 passage embedding of a text of archetype ``a`` (archetypes
    beyond the encoded texts reuse one plus an own offset), every ``C(·)`` is a fixed random
    vector per distinct title/skill/chain/city (seeded by the value) drawn from a Gaussian with
    the covariance of the real embeddings, and ``e`` is a small isotropic term. So the noise
    follows the anisotropic spread of real embeddings, and records sharing a title, skills,
    chain or city are close, as postings are — a multi-scale structure, not i.i.d. points in a
    ball (on which HNSW is unrealistically hard) nor exact duplicates (unrealistically easy).
    """

    WEIGHTS = {"archetype": 0.5, "title": 0.35, "skills": 0.35, "chain": 0.2, "city": 0.1,
               "record": 0.2, "isotropic": 0.1}

    def __init__(self, bases: np.ndarray, corpus: JobCorpus, seed: int = 0) -> None:
        self.bases = np.asarray(bases, dtype=np.float32)
        self.corpus = corpus
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        centred = self.bases - self.bases.mean(0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        self.proj = ((s / np.sqrt(max(len(self.bases) - 1, 1)))[:, None] * vt).astype(np.float32)
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self.dim = self.bases.shape[1]

    def component(self, kind: str, key: str) -> np.ndarray:
        """The fixed covariance-shaped random vector of one field value."""
        ck = (kind, key)
        v = self._cache.get(ck)
        if v is None:
            h = int.from_bytes(hashlib.blake2b(f"{self.seed}|{kind}|{key}".encode(), digest_size=8).digest(), "little")
            z = np.random.default_rng(h).standard_normal(len(self.proj), dtype=np.float32)
            v = self._cache[ck] = z @ self.proj
        return v

    def centre(self, a: int) -> np.ndarray:
        base = self.bases[a % len(self.bases)]
        if a < len(self.bases):
            return base
        return base + self.WEIGHTS["archetype"] * self.component("archetype", str(a))

    def vectors(self, records: Sequence[tuple[int, dict[str, Any]]]) -> np.ndarray:
        """Vectors of (archetype, demand-entry dict) pairs."""
        w = self.WEIGHTS
        out = np.empty((len(records), self.dim), dtype=np.float32)
        rec_noise = self.rng.standard_normal((len(records), len(self.proj)), dtype=np.float32) @ self.proj
        iso = self.rng.standard_normal((len(records), self.dim), dtype=np.float32) / np.sqrt(self.dim)
        for i, (a, d) in enumerate(records):
            skills = list(d.get("required_skills", [])) + list(d.get("preferred_skills", []))
            v = self.centre(a) + w["title"] * self.component("title", d.get("title", ""))
            if skills:
                v = v + w["skills"] * sum(self.component("skill", x) for x in skills) / np.sqrt(len(skills))
            v = v + w["chain"] * self.component("chain", d.get("chain_id") or "")
            v = v + w["city"] * self.component("city", d.get("city") or "")
            out[i] = v
        out += w["record"] * rec_noise + w["isotropic"] * iso
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def talent_vectors(self, records: Sequence[tuple[int, dict[str, Any]]]) -> np.ndarray:
        """Vectors of (archetype, talent-profile dict) pairs, built the same way."""
        as_entries = [(a, {"title": self.corpus.name(a), "required_skills": d.get("skills", []),
                           "chain_id": (d.get("desired_chains") or [""])[0], "city": d.get("city")})
                      for a, d in records]
        return self.vectors(as_entries)

    def sample(self, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``n`` vectors of freshly generated entries (section 2) and their archetypes."""
        r = random.Random(seed)
        arche = np.array([r.randrange(len(self.corpus.archetypes)) for _ in range(n)], dtype=np.int64)
        out = np.empty((n, self.dim), dtype=np.float32)
        for s in range(0, n, 5000):
            out[s : s + 5000] = self.vectors([(int(a), self.corpus.demand(int(a), r)) for a in arche[s : s + 5000]])
        return out, arche

    def describe(self) -> str:
        w = self.WEIGHTS
        return (f"compositional: normalise(real e5 embedding of the archetype's job text "
                f"({len(self.bases)} real texts) + {w['title']}·C(title) + {w['skills']}·ΣC(skill)/√k + "
                f"{w['chain']}·C(chain) + {w['city']}·C(city) + {w['record']}·C(record) + "
                f"{w['isotropic']}·isotropic), each C a fixed Gaussian vector per distinct value with "
                "the covariance of the real embeddings; archetypes beyond the real texts add "
                f"{w['archetype']}·C(archetype) to a reused base")


def similarity_stats(real: np.ndarray, synth: np.ndarray) -> dict[str, Any]:
    """Cosine statistics of the real base embeddings vs a synthetic sample, to judge realism."""
    rng = np.random.default_rng(1)

    def background(x: np.ndarray) -> float:
        a, b = rng.integers(0, len(x), 4000), rng.integers(0, len(x), 4000)
        keep = a != b
        return float(np.mean(np.sum(x[a[keep]] * x[b[keep]], axis=1)))

    def nn(x: np.ndarray, m: int) -> float:
        x = x[:m]
        sims = x @ x.T
        np.fill_diagonal(sims, -1)
        return float(np.median(sims.max(1)))

    m = len(real)
    return {
        "real_texts": m,
        "real_mean_pair_cos": round(background(real), 4),
        "real_median_1nn_cos": round(nn(real, m), 4),
        "synthetic_mean_pair_cos": round(background(synth), 4),
        "synthetic_median_1nn_cos_same_count": round(nn(synth, m), 4),
        "synthetic_median_1nn_cos_in_4000": round(nn(synth, 4000), 4),
    }
