"""The project's rankers and the two baselines (BM25 alone, the dense encoder alone)."""


from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from matcher.core.errors import InvalidInput
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import MatchFilters
from matcher.evaluation.metrics import Candidate, K
from matcher.evaluation.queries import EvalQuery
from matcher.reference.occupations import CODE_RE
from matcher.retrieval.occupation_coder import OccupationCoder
from matcher.service import MatchService
from models.encoders import Encoder


class QueryMemo(Encoder):
    """An encoder whose query encodings are memoised by text, so that the three rankers of an
    evaluation encode each query once. Same name and dimension as the wrapped encoder."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._memo: dict[str, np.ndarray] = {}
        self.encoded = 0

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            for t, v in zip(todo, self.inner.encode_queries(todo), strict=True):
                self._memo[t] = v
            self.encoded += len(todo)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts]).astype(np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_passages(texts)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self.encode_queries(texts) if is_query else self.encode_passages(texts)


@dataclass
class Ranker:
    """A named ranking function over a batch of prepared queries (top ``K`` each)."""

    name: str
    label: str
    rank: Callable[[Sequence[Any]], list[list[Candidate]]]


def occupation_rankers(coder: OccupationCoder, *, memo: QueryMemo | None = None,
                       weights: dict[str, float] | None = None) -> list[Ranker]:
    """The coder's ranking (re-ranked, when it has its re-ranker) and the two halves of its
    plain fusion alone (BM25: dense weight 0; dense: 1).

    All share ``memo`` (a :class:`QueryMemo` over the coder's encoder), so each query is
    encoded once. ``weights`` adds rankers ``{name: dense weight}`` (e.g. a sweep on a dev set).
    """
    memo = memo or QueryMemo(coder.encoder)
    w = coder.dense_weight
    reranked = coder.use_reranker and coder.model is not None
    fast = "快速，" if getattr(coder, "query_encoder", None) is not None else ""
    label = (f"talentmatch（{fast}重排序 {coder.model.version}：e5 + BM25 + 词表 + 真实样例）" if reranked
             else f"talentmatch（稠密 {w:g} + BM25 {1 - w:g}）")
    spec = [("talentmatch", label, w, False, reranked),
            ("bm25", "BM25 基线（jieba 分词）", 0.0, True, False),
            ("dense", f"稠密向量基线（{_dense_name(coder)}）", 1.0, False, False)]
    spec += [(name, f"稠密 {x:g} + BM25 {1 - x:g}", x, False, False) for name, x in (weights or {}).items()]
    if reranked:
        coder.featurizer  # noqa: B018 - built once here, shared by the copies below
    rankers = []
    for name, label, weight, drop_zero, rerank in spec:
        variant = copy.copy(coder)  # shares the taxonomy, BM25 index, vectors and re-ranker
        variant.dense_weight = weight
        variant.encoder = memo
        variant.use_reranker = rerank
        # the coder's exemplars are labelled real titles (its dev set): a query never sees an
        # exemplar with its own text, so that set is not scored on itself
        variant.leave_one_out = rerank
        rankers.append(Ranker(name, label, _coder_rank(variant, drop_zero)))
    return rankers


def _dense_name(coder: OccupationCoder) -> str:
    """The dense half's encoders: in fast mode titles are encoded by the static query encoder."""
    q = getattr(coder, "query_encoder", None)
    return coder.encoder.name if q is None else f"{q.name} 查询 × {coder.encoder.name} 职业向量"


def _coder_rank(coder: OccupationCoder, drop_zero: bool) -> Callable[[Sequence[Any]], list[list[Candidate]]]:
    def rank(queries: Sequence[EvalQuery]) -> list[list[Candidate]]:
        results = coder.code([q.query or "" for q in queries], top_k=K)
        # BM25 ranks only what shares a token with the query (score 0 = no evidence); at dense
        # weight 1 the order is the cosine order (the coder clips cosines below the query's
        # mean to 0, which never reaches the top 10 of a real taxonomy)
        return [[Candidate(codes=frozenset({c.code})) for c in cands if not drop_zero or c.score > 0]
                for cands in results]
    return rank


@dataclass
class PreparedQuery:
    """A match query ready for every ranker: the side searched, its vector and BM25 tokens."""

    query: EvalQuery
    kind: Literal["demand", "talent"]
    vector: np.ndarray
    tokens: list[str]


def prepare_match(service: MatchService, q: EvalQuery) -> PreparedQuery:
    """The query vector and tokens exactly as the service's own match methods compute them."""
    kind: Literal["demand", "talent"] = "demand" if q.target_side() == "demands" else "talent"
    if q.query is not None:
        text = normalize_text(q.query)
        return PreparedQuery(q, kind, service.cached.query(text), service.tokenizer.tokenize(text))
    model, model_kind = (q.profile, "talent") if q.profile is not None else (q.entry, "demand")
    rec = service.prepare_records(model_kind, [model])[0]
    if isinstance(rec, InvalidInput):
        raise rec
    return PreparedQuery(q, kind, service.cached.passages([rec.text])[0],
                         service.tokenizer.tokenize(rec.text))


LABEL_PREFIX = "csco22:"  # a corpus entry's gold code, in its external_id (never read by the ranking)


def label_code(entry: Any) -> str | None:
    """The occupation a demand entry is labelled with: ``csco22:<code>`` in its external_id (the
    evaluation corpus keeps its labels there, where no ranker reads them), else its stored
    occupation_code."""
    ext = entry.external_id or ""
    if ext.startswith(LABEL_PREFIX) and CODE_RE.match(ext[len(LABEL_PREFIX):]):
        return ext[len(LABEL_PREFIX):]
    return entry.occupation_code


def stored_candidates(service: MatchService, kind: str, ids: Sequence[int]) -> list[Candidate]:
    """Candidates (id key and labelled occupation codes) of stored records, in the given order."""
    records = service.store.get_many(kind, list(ids))
    out = []
    for i in ids:
        rec = records.get(i)
        if kind == "demand":
            code = label_code(rec) if rec is not None else None
            codes = {code} if code else set()
        else:
            codes = {c for c in (rec.desired_occupations if rec is not None else []) if CODE_RE.match(c)}
        out.append(Candidate(keys=frozenset({f"id:{i}"}), codes=frozenset(codes)))
    return out


def match_rankers(service: MatchService, *, filters: MatchFilters | None = None) -> list[Ranker]:
    """The service's ranking, and BM25 alone and FAISS alone over the same side's indexes."""
    filters = filters or MatchFilters()

    def project(batch: Sequence[PreparedQuery]) -> list[list[Candidate]]:
        out = []
        for p in batch:
            q = p.query
            if q.query is not None:
                found = service.match_text(q.query, q.target_side(), K, filters)
            elif q.profile is not None:
                found = service.match_profile(q.profile, K, filters)
            else:
                found = service.match_entry(q.entry, K, filters)
            out.append(stored_candidates(service, p.kind, [m.id for m in found]))
        return out

    def bm25(batch: Sequence[PreparedQuery]) -> list[list[Candidate]]:
        return [stored_candidates(service, p.kind, [i for i, _ in service.ensure_index(p.kind).lexical.search(p.tokens, K)])
                for p in batch]

    def dense(batch: Sequence[PreparedQuery]) -> list[list[Candidate]]:
        out = []
        for p in batch:
            _, ids = service.ensure_index(p.kind).dense.search(p.vector[None, :].astype(np.float32), K)
            out.append(stored_candidates(service, p.kind, [int(i) for i in ids[0] if i >= 0]))
        return out

    return [Ranker("talentmatch", "talentmatch（融合检索 + 双向打分）", project),
            Ranker("bm25", "BM25 基线（jieba 分词）", bm25),
            Ranker("dense", f"稠密向量基线（{service.encoder.name}）", dense)]
