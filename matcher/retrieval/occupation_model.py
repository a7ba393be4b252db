"""The occupation coder's learned part: exemplars, alias lexicon and re-ranker, shipped as files.

``models/artifacts/`` holds

- ``occupation-reranker.json``: the logistic re-ranker over ``occupation_features.FEATURES``
  with its isotonic calibration (``models.reranker``), and a manifest (version, sources with
  SHA-256, training settings, cross-validated scores, the alias lexicon it was trained with);
- ``occupation-reranker-fast.json``: the same, trained on features whose title vectors come
  from the static encoder distilled from e5 (``static-e5``, named in the manifest's
  ``query_encoder``) while occupations and exemplars keep their e5 vectors: the fast coder;
- ``occupation-exemplars.json``: the labelled real titles (title, code) the kNN features use;
- ``occupation-exemplars-<encoder>-<fingerprint>.npy``: their query vectors for the default
  encoder (another encoder encodes them once into the coder's cache directory).

Built by ``scripts/build_occupation_model.py``; training and cross-validation live here so the
build script and the evaluation (``bench/bench_realtitles.py``) share them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from matcher.retrieval.occupation_features import FEATURES, ExemplarSet, OccupationFeaturizer
from models.paths import ARTIFACT_DIR
from models.reranker import LinearReranker

RERANKER_FILE = "occupation-reranker.json"
FAST_RERANKER_FILE = "occupation-reranker-fast.json"
EXEMPLARS_FILE = "occupation-exemplars.json"
N_CANDIDATES = 50
# added to the logit of the occupation whose name the cleaned title is ("焊工", "云计算工程技术人员")
EXACT_NAME_BONUS = 20.0
# share of training titles whose own code is hidden from the kNN features (all exemplars with
# that code left out), so the model also learns to rank codes no exemplar carries
UNSEEN_SHARE = 0.3


@dataclass
class OccupationModel:
    """The loaded files: re-ranker, exemplars (titles and codes) and the alias lexicon."""

    reranker: LinearReranker
    titles: list[str]
    codes: list[str]
    aliases: dict[str, list[str]]
    directory: Path

    @property
    def encoder(self) -> str | None:
        """The encoder whose features the re-ranker was trained on."""
        return self.reranker.manifest.get("encoder")

    @property
    def query_encoder(self) -> str | None:
        """The encoder of the title (query) vectors it was trained on: ``encoder`` unless the
        manifest names another one (the fast model's static encoder)."""
        return self.reranker.manifest.get("query_encoder") or self.encoder

    @property
    def version(self) -> str:
        return str(self.reranker.manifest.get("version", "?"))

    def vectors_file(self, encoder_name: str) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", encoder_name)
        return f"occupation-exemplars-{safe}-{exemplar_fingerprint(self.titles, encoder_name)}.npy"


def exemplar_fingerprint(titles: Sequence[str], encoder_name: str) -> str:
    h = hashlib.sha256(encoder_name.encode())
    for t in titles:
        h.update(t.encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def load_occupation_model(directory: Path = ARTIFACT_DIR, *, fast: bool = False) -> OccupationModel | None:
    """The shipped model (``fast``: the one trained on static title vectors), or None when its
    files are absent."""
    path = directory / (FAST_RERANKER_FILE if fast else RERANKER_FILE)
    ex_path = directory / EXEMPLARS_FILE
    if not path.exists() or not ex_path.exists():
        return None
    reranker = LinearReranker.load(path)
    data = json.loads(ex_path.read_text(encoding="utf-8"))
    aliases = {k: list(v) for k, v in (reranker.manifest.get("aliases") or {}).items()}
    return OccupationModel(reranker, list(data["titles"]), list(data["codes"]), aliases, directory)


def load_aliases(path: Path) -> dict[str, list[str]]:
    """The alias lexicon of ``data/occupation_aliases.json``."""
    return {k: list(v) for k, v in json.loads(path.read_text(encoding="utf-8"))["aliases"].items()}


def load_exclusions(path: Path) -> list[dict[str, str]]:
    """The exemplar exclusions of ``data/occupation_aliases.json`` (code, ``unless`` regex)."""
    return list(json.loads(path.read_text(encoding="utf-8")).get("exemplar_exclusions", []))


def exemplar_mask(titles: Sequence[str], codes: Sequence[str], exclusions: Sequence[dict[str, str]]) -> np.ndarray:
    """True for the labelled titles that may serve as exemplars and training titles."""
    rules = [(e["code"], re.compile(e["unless"])) for e in exclusions]
    return np.array([not any(c == code and not rx.search(t) for code, rx in rules)
                     for t, c in zip(titles, codes, strict=True)], dtype=bool)


# -- ranking with a re-ranker ---------------------------------------------------------------

@dataclass
class Ranked:
    """Per title: candidate occupation indices best first, and their probabilities."""

    order: np.ndarray  # (titles, N_CANDIDATES) occupation indices
    proba: np.ndarray  # (titles, N_CANDIDATES) re-ranker probabilities, same order

    @property
    def share(self) -> np.ndarray:
        """Each candidate's share of its title's probability mass: what the calibration reads
        (one code is right, so a candidate's chance depends on its rivals, not only on itself)."""
        return self.proba / np.maximum(self.proba.sum(axis=1, keepdims=True), 1e-12)


def rerank(featurizer: OccupationFeaturizer, reranker: LinearReranker, titles: Sequence[str],
           vectors: np.ndarray, *, exclude: Sequence[Sequence[int]] | None = None,
           context_rel: np.ndarray | None = None, context_weight: float = 0.0,
           n: int = N_CANDIDATES, batch: int = 256) -> Ranked:
    """Candidates of each title ranked by the re-ranker (in batches, to bound memory).

    ``context_rel`` (titles × occupations, each row scaled to [0, 1]) adds ``context_weight ×``
    that value to the candidates' logits and to the candidate selection (NaN rows: no context).
    """
    orders, probas = [], []
    for s in range(0, len(titles), batch):
        sl = slice(s, s + batch)
        extra = None
        if context_rel is not None and context_weight:  # the context also proposes candidates
            extra = np.nan_to_num(context_rel[sl], nan=0.0)
        exact = featurizer.exact_names(titles[sl])
        # a title that is an occupation's name has it among its candidates
        cand, x = featurizer.candidate_features(titles[sl], vectors[sl], n, extra=extra, must=exact,
                                                exclude=None if exclude is None else exclude[sl])
        logit = reranker.logits(x)
        for r, hit in enumerate(exact):  # ... and comes first: the rule beats the learned scores
            if hit:
                logit[r, np.isin(cand[r], hit)] += EXACT_NAME_BONUS
        if context_rel is not None and context_weight:
            ctx = np.take_along_axis(context_rel[sl], cand, axis=1)
            logit = logit + context_weight * np.nan_to_num(ctx, nan=0.0)
        p = 1.0 / (1.0 + np.exp(-logit))
        o = np.argsort(-p, axis=1, kind="stable")
        orders.append(np.take_along_axis(cand, o, axis=1))
        probas.append(np.take_along_axis(p, o, axis=1))
    if not orders:
        return Ranked(np.zeros((0, n), np.int64), np.zeros((0, n)))
    return Ranked(np.concatenate(orders), np.concatenate(probas))


# -- training -------------------------------------------------------------------------------

def training_exclusions(codes: Sequence[str], *, unseen_share: float = UNSEEN_SHARE,
                        seed: int = 0) -> list[list[int]]:
    """For each exemplar used as a training title: the exemplars it may not see — itself, or
    (for ``unseen_share`` of them, drawn with ``seed``) every exemplar of its code."""
    rng = np.random.default_rng(seed)
    by_code: dict[str, list[int]] = {}
    for i, c in enumerate(codes):
        by_code.setdefault(c, []).append(i)
    return [by_code[c] if rng.random() < unseen_share else [i] for i, c in enumerate(codes)]


def training_rows(featurizer: OccupationFeaturizer, exemplars: ExemplarSet, hits: Callable[[str], np.ndarray],
                  *, unseen_share: float = UNSEEN_SHARE, seed: int = 0, n: int = N_CANDIDATES,
                  batch: int = 256, use_exemplars: bool = True,
                  query_vectors: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and 0/1 labels of the exemplars' own candidates, each exemplar ranked
    against the others (see :func:`training_exclusions`). ``hits(code)`` gives the occupation
    indices a gold code is hit by. Without ``use_exemplars`` the kNN features stay 0 (the
    featurizer is left without exemplars). ``query_vectors`` (one per exemplar; default its
    own vector) are what each exemplar is ranked with as a title: the fast coder's static
    vectors, while the exemplars it is compared with keep theirs."""
    qv = exemplars.vectors if query_vectors is None else query_vectors
    if len(qv) != len(exemplars.titles):
        raise ValueError("query_vectors must have one row per exemplar")
    featurizer.set_exemplars(exemplars if use_exemplars else None)
    excl = training_exclusions(exemplars.codes, unseen_share=unseen_share, seed=seed) if use_exemplars else None
    xs, ys = [], []
    for s in range(0, len(exemplars.titles), batch):
        sl = slice(s, s + batch)
        feats = featurizer.features(exemplars.titles[sl], qv[sl], exclude=None if excl is None else excl[sl])
        cand = featurizer.candidates(feats, n)
        xs.append(np.take_along_axis(feats, cand[:, :, None], axis=1).reshape(-1, len(FEATURES)))
        y = np.zeros(cand.shape, dtype=np.int8)
        for r, code in enumerate(exemplars.codes[sl]):
            y[r] = np.isin(cand[r], hits(code))
        ys.append(y.ravel())
    return np.concatenate(xs), np.concatenate(ys)


def train_reranker(featurizer: OccupationFeaturizer, exemplars: ExemplarSet, hits: Callable[[str], np.ndarray],
                   *, unseen_share: float = UNSEEN_SHARE, seed: int = 0, c: float = 1.0,
                   use_exemplars: bool = True, query_vectors: np.ndarray | None = None) -> LinearReranker:
    x, y = training_rows(featurizer, exemplars, hits, unseen_share=unseen_share, seed=seed,
                         use_exemplars=use_exemplars, query_vectors=query_vectors)
    return LinearReranker.fit(x, y, FEATURES, c=c)
