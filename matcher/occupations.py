"""CSCO 2022 occupation coding: free-text job title -> top-k occupations, dense + BM25."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matcher.lexical import BM25Index, add_words, tokenize
from matcher.schemas import OccupationCandidate
from matcher.textnorm import normalize_key, normalize_text

ARTIFACT_DIR = Path(__file__).resolve().parent.parent / "models" / "artifacts"
_MARKERS = re.compile(r"[SL]+$")
CODE_RE = re.compile(r"^\d-\d{2}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Occupation:
    level: int
    code: str
    name: str
    definition: str
    tasks: str
    digital: bool
    green: bool

    @property
    def dense_text(self) -> str:
        return normalize_text(f"{self.name}：{self.definition}")[:400]

    @property
    def core(self) -> str:
        """The name without generic suffixes, for exact-name evidence."""
        return re.sub(r"(工程技术人员|技术人员|人员|工|员|师)$", "", self.name)


def load_taxonomy(path: Path) -> list[Occupation]:
    rows: list[Occupation] = []
    with path.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            raw = r["name"].strip()
            marker = _MARKERS.search(raw)
            flags = marker.group(0) if marker else ""
            rows.append(Occupation(
                level=int(r["level"]), code=r["code"].strip(), name=_MARKERS.sub("", raw),
                definition=(r.get("definition") or "").strip(), tasks=(r.get("tasks") or "").strip(),
                digital="S" in flags, green="L" in flags,
            ))
    return rows


class Taxonomy:
    """All levels of CSCO 2022, with lookups by code."""

    def __init__(self, rows: list[Occupation]) -> None:
        self.rows = rows
        self.by_code = {o.code: o for o in rows}
        self.occupations = [o for o in rows if o.level == 4]

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        return cls(load_taxonomy(path))

    def name(self, code: str) -> str | None:
        o = self.by_code.get(code)
        return o.name if o else None

    def minor_group(self, code: str) -> str:
        """The 小类 (level 3) code of an occupation code."""
        return code[:-2] + "00"


class OccupationCoder:
    """Hybrid dense + BM25 coder over the level-4 occupations."""

    def __init__(self, taxonomy: Taxonomy, encoder, cache_dir: Path | None = None,
                 dense_weight: float = 0.7) -> None:
        self.taxonomy = taxonomy
        self.encoder = encoder
        self.items = taxonomy.occupations
        self.dense_weight = dense_weight
        add_words(o.name for o in self.items)
        self._bm25 = BM25Index()
        self._bm25.upsert(
            list(range(len(self.items))),
            [tokenize(f"{o.name} {o.name} {o.name} {o.definition} {o.tasks[:300]}") for o in self.items],
        )
        self._cores = [normalize_key(o.core) for o in self.items]
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
        pool = max(50, top_k * 5)
        dense_top = np.argsort(-sims)[:pool]
        lex = self._bm25.search(tokenize(text), pool)
        cand = set(int(i) for i in dense_top) | {i for i, _ in lex}
        lex_scores = dict(lex)
        top_lex = max(lex_scores.values(), default=0.0)
        key = normalize_key(text)
        scored = []
        for i in cand:
            dense = float(np.clip(sims[i], 0.0, 1.0))
            lexical = lex_scores.get(i, 0.0) / top_lex if top_lex > 0 else 0.0
            score = self.dense_weight * dense + (1 - self.dense_weight) * lexical
            core = self._cores[i]
            if len(core) >= 2 and (core in key or key in core):
                score += 0.1  # the title names the occupation itself
            scored.append((min(score, 1.0), i))
        scored.sort(key=lambda x: (-x[0], self.items[x[1]].code))
        return [OccupationCandidate(code=self.items[i].code, name=self.items[i].name, score=round(s, 4))
                for s, i in scored[:top_k]]

    def best(self, text: str) -> OccupationCandidate | None:
        res = self.code([text], top_k=1)[0]
        return res[0] if res else None
