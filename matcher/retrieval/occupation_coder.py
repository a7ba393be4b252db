"""CSCO 2022 occupation coding: free-text job title -> top-k occupations with a confidence.

Two stages. Candidates and features come from the cleaned title (``titles.clean_title``): e5
cosine to every occupation, BM25 over the occupation texts, name overlap, the alias lexicon and
the nearest labelled real titles (exemplars); a logistic re-ranker trained on real titles
orders the top 50 and an isotonic calibration of each candidate's share of the probability
mass gives ``confidence``
(``occupation_model``, shipped in ``models/artifacts/``); a title that is an occupation's name
is that occupation. Without a re-ranker (``reranker=None``; an encoder other than the one the
shipped model was trained with; or ``use_reranker = False`` as the evaluation's baselines do)
the coder is the plain fusion of query-relative dense and BM25 scores at ``dense_weight``, and
its candidates have no ``confidence``.

The fast mode (``query_encoder``, e.g. ``static-e5`` beside e5): the titles and contexts are
encoded by a static encoder distilled from ``encoder`` into its own space (a table look-up,
thousands of texts a second), while the occupations and the exemplars keep their ``encoder``
vectors (shipped); the re-ranker and calibration are the ones trained on features computed
that way (``occupation-reranker-fast.json``). Without such a model matching both encoders the
coder logs a warning and encodes titles with ``encoder``. With ``recheck_below`` > 0 the fast
coder codes again, with ``encoder``'s title vectors and the e5 re-ranker, the titles whose top
confidence stays below it (slower, as many e5 encodings as such titles; more accurate).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import OCCUPATION_CONFIDENCE_THRESHOLD, OccupationCandidate
from matcher.reference.occupations import Taxonomy
from matcher.retrieval.lexical import (
    BM25Index,
    Tokenizer,
    default_tokenizer,
    load_token_cache,
    save_token_cache,
)
from matcher.retrieval.occupation_features import ExemplarSet, OccupationFeaturizer, Taxon
from matcher.retrieval.occupation_model import OccupationModel, load_occupation_model, rerank
from matcher.retrieval.titles import clean_title
from models.paths import ARTIFACT_DIR

# below this calibrated confidence a caller shows the code as 待确认 (to be confirmed):
# the code is then more likely wrong than right (DemandEntry.occupation_settled)
CONFIDENCE_THRESHOLD = OCCUPATION_CONFIDENCE_THRESHOLD
# weight of the context's (description's) relative dense score in the re-ranker's logit
CONTEXT_WEIGHT = 2.0
CONTEXT_CHARS = 200
# the occupation texts' BM25 token lists, shipped in models/artifacts and cached in a data directory
TOKENS_ARTIFACT = "csco22-bm25-tokens.npz"
log = logging.getLogger("talentmatch.occupations")


class OccupationCoder:
    """Re-ranked hybrid coder over the level-4 occupations (see the module docstring)."""

    def __init__(self, taxonomy: Taxonomy, encoder, cache_dir: Path | None = None,
                 dense_weight: float = 0.6,
                 reranker: OccupationModel | Literal["shipped"] | None = "shipped",
                 tokenizer: Tokenizer | None = None, query_encoder=None) -> None:
        self.taxonomy = taxonomy
        self.encoder = encoder
        # the fast mode's title encoder (same space and dimension as ``encoder``), or None
        if query_encoder is not None and query_encoder.dim != encoder.dim:
            raise ValueError(f"query_encoder {query_encoder.name} has {query_encoder.dim} dims, "
                             f"{encoder.name} {encoder.dim}")
        self.query_encoder = query_encoder
        self.items = taxonomy.occupations
        self.dense_weight = dense_weight
        self.cache_dir = cache_dir
        # ``tokenizer`` should keep the occupation names whole (a service passes its own, which
        # does); without one, the coder derives one that does
        self.tokenizer = tokenizer or default_tokenizer().derive(o.name for o in self.items)
        docs = self._doc_tokens([f"{o.name} {o.name} {o.name} {o.definition} {o.tasks[:300]}" for o in self.items])
        self._bm25 = BM25Index()
        self._bm25.upsert(list(range(len(self.items))), docs)
        self._matrix = self._load_vectors(cache_dir)
        if reranker == "shipped":
            # the shipped weights were learned on features of the encoder named in its manifest;
            # with another encoder (tests' fake one, a local sentence-transformers model) the
            # coder keeps its plain fusion unless a model is passed explicitly
            reranker = _shipped_model(encoder, query_encoder)
            if reranker is None and query_encoder is not None:
                log.warning("no shipped fast occupation re-ranker for %s over %s: titles are encoded by %s",
                            query_encoder.name, encoder.name, encoder.name)
                self.query_encoder = None
                reranker = _shipped_model(encoder, None)
        self.model = reranker
        self.use_reranker = self.model is not None
        # evaluation on the exemplars themselves: a title does not see its own exemplar
        self.leave_one_out = False
        self._featurizer: OccupationFeaturizer | None = None
        self._docs = docs
        # an encoder into the same space as ``encoder`` (e.g. static-e5 beside e5) for the
        # contexts only: they are long and one per record, the titles stay on ``encoder``
        self.context_encoder = None
        # fast mode: titles whose top confidence is below this are coded again the e5 way
        self.recheck_below = 0.0
        self._e5_coder: OccupationCoder | None = None

    def _doc_tokens(self, texts: list[str]) -> list[list[str]]:
        """The BM25 token lists of the occupation texts, from ``cache_dir`` when it holds them
        under this tokenizer's fingerprint (tokenising the 1,600 texts is most of a cold start),
        else tokenised and saved there."""
        fingerprint = self.tokenizer.fingerprint()
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        # the shipped lists (made by scripts/build_artifacts.py --coder-tokens) hold for the bundled
        # reference data; a tokenizer with other words has another fingerprint and reads none of them
        cached = load_token_cache(ARTIFACT_DIR / TOKENS_ARTIFACT, fingerprint)
        if self.cache_dir is not None and any(k not in cached for k in keys):
            cached = {**load_token_cache(Path(self.cache_dir) / TOKENS_ARTIFACT, fingerprint), **cached}
        docs = [cached[k] if k in cached else self.tokenizer.tokenize(t) for k, t in zip(keys, texts, strict=True)]
        if self.cache_dir is not None and any(k not in cached for k in keys):
            path = Path(self.cache_dir) / TOKENS_ARTIFACT
            try:
                save_token_cache(path, dict(zip(keys, docs, strict=True)), fingerprint)
            except OSError as exc:  # a read-only cache directory: the next start tokenises again
                log.warning("cannot save the occupation token cache %s: %s", path, exc)
        return docs

    @property
    def mode(self) -> str:
        """``"fast"`` (titles by the static query encoder) or ``"e5"`` (titles by ``encoder``)."""
        return "fast" if self.query_encoder is not None else "e5"

    # -- vectors ---------------------------------------------------------------------------

    def _fingerprint(self) -> str:
        h = hashlib.sha256(self.encoder.name.encode())
        for o in self.items:
            h.update(o.dense_text.encode())
        return h.hexdigest()[:16]

    def _load_vectors(self, cache_dir: Path | None) -> np.ndarray:
        return _load_or_encode(self.artifact_name(), (len(self.items), self.encoder.dim), cache_dir,
                               lambda: self.encoder.encode_passages([o.dense_text for o in self.items]))

    def artifact_name(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.encoder.name)
        return f"csco22-{safe}-{self._fingerprint()}.npy"

    @property
    def featurizer(self) -> OccupationFeaturizer:
        """The re-ranker's feature extractor, with the exemplars encoded by this coder's encoder."""
        if self._featurizer is None:
            m = self.model
            if m is None:
                raise RuntimeError("no occupation re-ranker loaded")
            vecs = _load_or_encode(m.vectors_file(self.encoder.name), (len(m.titles), self.encoder.dim),
                                   self.cache_dir, lambda: self.encoder.encode_queries([clean_title(t) for t in m.titles]),
                                   dirs=(m.directory,))
            taxon = Taxon([o.code for o in self.items], [o.name for o in self.items],
                          [o.dense_text for o in self.items], np.array([o.digital for o in self.items]))
            self._featurizer = OccupationFeaturizer(taxon, self._matrix, self._docs,
                                                    ExemplarSet(m.titles, m.codes, vecs), m.aliases)
            self._by_title: dict[str, list[int]] = {}
            for i, t in enumerate(m.titles):
                self._by_title.setdefault(normalize_text(t), []).append(i)
            # an exemplar's vector is the query vector of its cleaned title: a title that cleans
            # to the same text needs no encoding (same encoder, same text, same prompt)
            self._known = {clean_title(t): vecs[i] for i, t in enumerate(m.titles)}
        return self._featurizer

    def _encode_distinct(self, texts: Sequence[str], known: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Query vectors of ``texts`` (titles): each distinct text encoded once. The fast mode
        encodes every one with ``query_encoder`` (what its re-ranker was trained on); the e5
        mode encodes ``known`` ones (the exemplars, whose vectors ship) not at all."""
        if self.query_encoder is not None:
            return _encode_with(self.query_encoder, texts, self.encoder.dim)
        if not texts:
            return np.zeros((0, self.encoder.dim), np.float32)
        known = known or {}
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        found = dict(zip(todo, self.encoder.encode_queries(todo), strict=True)) if todo else {}
        return np.stack([found[t] if t in found else known[t] for t in texts]).astype(np.float32)

    def _encode_contexts(self, texts: list[str]) -> np.ndarray:
        """Query vectors of contexts: by ``context_encoder`` when one is set, else as titles."""
        enc = self.context_encoder
        if enc is None or enc.dim != self.encoder.dim:
            return self._encode_distinct(texts)
        return _encode_with(enc, texts, self.encoder.dim)

    # -- coding ----------------------------------------------------------------------------

    def code(self, texts: list[str], top_k: int = 10, context: Sequence[str | None] | None = None,
             recheck_below: float | None = None) -> list[list[OccupationCandidate]]:
        """Top-k occupations for each text, best first: ``score`` in [0, 1] orders them and
        ``confidence`` is the calibrated probability that the code is right.

        ``context`` (optional, one per text, None for none): text about the same job — a
        description, requirements, a chain or majors — that re-ranks the title's candidates
        by its similarity to each occupation. The title decides which candidates there are.
        ``recheck_below``: the fast mode's re-check threshold for this call (default the
        coder's ``recheck_below``; see the module docstring).
        """
        if context is not None and len(context) != len(texts):
            raise ValueError("context must have one entry (or None) per text")
        clean = [normalize_text(t) for t in texts]
        out: list[list[OccupationCandidate]] = [[] for _ in texts]
        todo = [i for i, t in enumerate(clean) if t]
        if not todo:
            return out
        if not self.use_reranker or self.model is None:
            q = self._encode_distinct([clean[i] for i in todo])
            sims = q @ self._matrix.T
            for row, i in enumerate(todo):
                out[i] = self._rank(clean[i], sims[row], top_k)
            return out
        self._code_reranked(clean, todo, top_k, context, out)
        below = self.recheck_below if recheck_below is None else recheck_below
        if self.query_encoder is not None and below > 0:
            self._recheck(texts, [i for i in todo if out[i] and (out[i][0].confidence or 0.0) < below],
                          top_k, context, out)
        return out

    def _recheck(self, texts: list[str], low: list[int], top_k: int, context: Sequence[str | None] | None,
                 out: list[list[OccupationCandidate]]) -> None:
        """Code the titles ``low`` again the e5 way (see the module docstring)."""
        e5 = self.e5_coder()
        if not low or e5 is None:
            return
        again = e5.code([texts[i] for i in low], top_k, context=None if context is None else [context[i] for i in low])
        for i, cands in zip(low, again, strict=True):
            out[i] = cands

    def e5_coder(self) -> OccupationCoder | None:
        """This coder with titles encoded by ``encoder`` and the e5 re-ranker (itself in e5
        mode; None when that re-ranker does not ship). It shares the features and vectors."""
        if self.query_encoder is None:
            return self
        if self._e5_coder is None:
            model = _shipped_model(self.encoder, None)
            if model is None:
                return None
            self.featurizer  # noqa: B018 - built once, shared by both coders
            twin = copy.copy(self)
            twin.query_encoder, twin.model, twin.use_reranker, twin.recheck_below = None, model, True, 0.0
            self._e5_coder = twin
        return self._e5_coder

    def _code_reranked(self, clean: list[str], todo: list[int], top_k: int,
                       context: Sequence[str | None] | None,
                       out: list[list[OccupationCandidate]]) -> list[list[OccupationCandidate]]:
        fz = self.featurizer
        assert self.model is not None
        titles = [clean[i] for i in todo]
        vecs = self._encode_distinct([clean_title(t) for t in titles], self._known)
        exclude = [self._by_title.get(t, []) for t in titles] if self.leave_one_out else None
        ctx_rel = None
        if context is not None:
            ctx = [normalize_text(context[i] or "")[:CONTEXT_CHARS] for i in todo]
            has = [j for j, c in enumerate(ctx) if c]
            if has:
                ctx_rel = np.full((len(titles), len(self.items)), np.nan, dtype=np.float32)
                ctx_rel[has] = _relative(self._encode_contexts([ctx[j] for j in has]) @ self._matrix.T)
        ranked = rerank(fz, self.model.reranker, titles, vecs, exclude=exclude, context_rel=ctx_rel,
                        context_weight=CONTEXT_WEIGHT)
        k = min(top_k, ranked.order.shape[1])
        conf = self.model.reranker.calibrate(ranked.share[:, :k])
        top = np.maximum(ranked.proba[:, :1], 1e-12)
        score = ranked.proba[:, :k] / top
        for row, i in enumerate(todo):
            out[i] = [OccupationCandidate(code=self.items[j].code, name=self.items[j].name,
                                          score=round(float(s), 4), confidence=round(float(c), 4))
                      for j, s, c in zip(ranked.order[row, :k].tolist(), score[row].tolist(),
                                         conf[row].tolist(), strict=True)]
        return out

    def _rank(self, text: str, sims: np.ndarray, top_k: int) -> list[OccupationCandidate]:
        """Convex fusion of query-relative dense and lexical scores (the coder without its
        re-ranker; the evaluation's BM25-alone and dense-alone baselines are its extremes).

        e5 cosines of unrelated pairs sit near 0.85, so raw cosines barely separate; each
        query's cosines are rescaled between their mean (0) and their maximum (1).
        """
        dense = _relative(sims[None, :])[0]
        lexical = np.zeros_like(dense)
        hits = self._bm25.search(self.tokenizer.tokenize(text), max(100, top_k * 5))
        best_lex = max((s for _, s in hits), default=0.0)
        for i, s in hits:
            lexical[i] = s / best_lex
        score = self.dense_weight * dense + (1 - self.dense_weight) * lexical
        order = np.lexsort((np.arange(len(score)), -score))[:top_k]
        return [OccupationCandidate(code=self.items[i].code, name=self.items[i].name,
                                    score=round(float(score[i]), 4)) for i in order]

    def best(self, text: str, context: str | None = None) -> OccupationCandidate | None:
        res = self.code([text], top_k=1, context=None if context is None else [context])[0]
        return res[0] if res else None


def _shipped_model(encoder, query_encoder) -> OccupationModel | None:
    """The shipped re-ranker trained on features of these encoders (titles by
    ``query_encoder`` or, without one, by ``encoder``), or None."""
    m = load_occupation_model(fast=query_encoder is not None)
    want = (query_encoder or encoder).name
    if m is None or m.encoder != encoder.name or m.query_encoder != want:
        return None
    return m


def _encode_with(encoder, texts: Sequence[str], dim: int) -> np.ndarray:
    """Query vectors of ``texts`` by ``encoder``, each distinct text encoded once."""
    if not texts:
        return np.zeros((0, dim), np.float32)
    distinct = list(dict.fromkeys(texts))
    found = dict(zip(distinct, encoder.encode_queries(distinct), strict=True))
    return np.stack([found[t] for t in texts]).astype(np.float32)


def stored_confidence(candidate: OccupationCandidate) -> float:
    """The confidence stored with a coded occupation: the calibrated one, or, for a coder
    without a re-ranker, its score (held to 0..1), so that is_settled and the stored value agree."""
    if candidate.confidence is not None:
        return float(candidate.confidence)
    return min(1.0, max(0.0, float(candidate.score)))


def is_settled(candidate: OccupationCandidate) -> bool:
    """Whether a coded occupation may be stored as settled: its calibrated confidence reaches
    CONFIDENCE_THRESHOLD (a coder without a re-ranker has no confidence: its score must reach 0.5)."""
    if candidate.confidence is None:
        return candidate.score >= 0.5
    return candidate.confidence >= CONFIDENCE_THRESHOLD


def _relative(sims: np.ndarray) -> np.ndarray:
    """Each row rescaled between its mean (0) and its maximum (1), clipped to [0, 1]."""
    mu = sims.mean(axis=1, keepdims=True)
    top = sims.max(axis=1, keepdims=True)
    span = np.where(top > mu, top - mu, 1.0)
    return np.clip((sims - mu) / span, 0.0, 1.0).astype(np.float32)


def _load_or_encode(fname: str, shape: tuple[int, int], cache_dir: Path | None, encode,
                    dirs: Sequence[Path] = (ARTIFACT_DIR,)) -> np.ndarray:
    """A shipped or cached matrix of that name and shape, else ``encode()`` (saved to the cache)."""
    for d in (*dirs, cache_dir):
        if d is not None and (d / fname).exists():
            try:
                m = np.load(d / fname).astype(np.float32)
                if m.shape == shape:
                    return m
            except (OSError, ValueError):
                pass  # unreadable cache: re-encode below
    m = encode()
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / (fname + ".tmp.npy")
        np.save(tmp, m.astype(np.float16 if m.dtype == np.float16 else np.float32))
        tmp.replace(cache_dir / fname)
    return m
