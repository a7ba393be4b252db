"""Ranking quality with numbers: metrics, labelled files, the project's rankers and two baselines.

A labelled file is JSON Lines, one query per line:

- task ``occupations``: ``{"query": "大数据工程师", "gold": ["2-02-10-05"]}`` — free text and the
  CSCO 2022 codes that are right for it. A gold 小类 code (ending ``-00``, e.g. ``2-02-10-00``)
  is hit by any occupation of that 小类.
- task ``match``: exactly one of ``query`` (free text), ``profile`` (a TalentProfile) or
  ``entry`` (a DemandEntry), optionally ``side`` (``demands`` | ``talents``), and the gold as
  database ids (``gold``) and/or occupation codes (``gold_occupations``: any demand entry of
  that occupation — or 小类 — is right; on the talents side, any talent who wishes for it).

Optional keys: ``id``, ``type`` (results are also broken down by it) and ``meta`` (kept, unused).

Three rankers run over the same queries, data and indexes: the project's ranking, BM25 alone
over jieba tokens and the dense encoder alone. For occupation coding they are the same
``OccupationCoder`` at dense weight (its default), 0 and 1; for matching, the service's full
ranking (fused retrieval, hard filters, two-sided scoring) against a search of the same side's
BM25 index or FAISS index alone. Each query is encoded once for all three.

Metrics (cut-off 10, mean over queries): Acc@1 (the first result is right), Recall@5/@10 (share
of the gold items found), MRR@10 (1 / rank of the first right result) and nDCG@10 (binary
gains, ideal = all gold items first). Each result position is credited to at most one gold item
and each gold item at most once (an exact match before a 小类 match), so several occupations of
one gold 小类 count once.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from matcher.core.errors import Conflict, ImportRejected, InvalidInput, RowError, TalentMatchError
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import DemandEntry, MatchFilters, TalentProfile
from matcher.ingest.importer import zh_reason
from matcher.ingest.parsing import read_utf8
from matcher.reference.occupations import CODE_RE, Taxonomy
from matcher.retrieval.lexical import tokenize
from matcher.retrieval.occupation_coder import OccupationCoder
from models.encoders import Encoder

Task = Literal["occupations", "match"]
Progress = Callable[[int], None]
K = 10
METRICS: tuple[str, ...] = ("acc_at_1", "recall_at_5", "recall_at_10", "mrr_at_10", "ndcg_at_10")
METRIC_LABELS = {"acc_at_1": "Acc@1", "recall_at_5": "Recall@5", "recall_at_10": "Recall@10",
                 "mrr_at_10": "MRR@10", "ndcg_at_10": "nDCG@10"}
MAX_QUERIES = 100_000

__all__ = [
    "METRICS", "METRIC_LABELS", "Candidate", "Delta", "EvalFileInvalid", "EvalQuery", "EvalReport",
    "EvalRequest", "Metrics", "QueryOutcome", "QueryMemo", "Ranker", "RankerResult", "aggregate", "bootstrap_ci",
    "code_hits", "corpus_settings", "credited_ranks", "evaluate", "evaluate_match",
    "evaluate_occupations", "load_corpus", "match_rankers", "occupation_rankers", "parse_eval_lines",
    "query_scores", "read_eval_file", "run_eval_request", "run_rankers", "validate_queries",
]


# --------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Candidate:
    """One ranked result: its keys (``id:12``) and occupation codes."""

    keys: frozenset[str] = frozenset()
    codes: frozenset[str] = frozenset()


def code_hits(gold: str, code: str) -> bool:
    """Whether an occupation code satisfies a gold code: equal, or inside a gold 小类 (``-00``)."""
    if gold == code:
        return True
    return gold.endswith("-00") and code.rsplit("-", 1)[0] == gold.rsplit("-", 1)[0]


def _hit_strength(gold: str, cand: Candidate) -> int:
    """2 for an exact match (key or code), 1 for a 小类 match, 0 for none."""
    if gold in cand.keys or gold in cand.codes:
        return 2
    if gold.endswith("-00") and any(code_hits(gold, c) for c in cand.codes):
        return 1
    return 0


def credited_ranks(ranking: Sequence[Candidate], gold: Sequence[str], k: int = K) -> list[int | None]:
    """For each gold item, the 1-based position in the top ``k`` credited to it, or None.

    Each position is credited to at most one gold item (an exact match before a 小类 match,
    then the earlier gold item), and each gold item at most once, at its first position.
    """
    ranks: list[int | None] = [None] * len(gold)
    for pos, cand in enumerate(ranking[:k], 1):
        best, best_i = 0, None
        for i, g in enumerate(gold):
            if ranks[i] is None:
                strength = _hit_strength(g, cand)
                if strength > best:
                    best, best_i = strength, i
        if best_i is not None:
            ranks[best_i] = pos
    return ranks


def query_scores(ranks: Sequence[int | None], n_gold: int) -> dict[str, float]:
    """Acc@1, Recall@5/@10, MRR@10 and nDCG@10 of one query from its credited ranks."""
    if n_gold < 1:
        raise InvalidInput("每条查询至少需要一个标准答案")
    got = sorted(r for r in ranks if r is not None and r <= K)
    first = got[0] if got else None
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_gold, K) + 1))
    return {
        "acc_at_1": 1.0 if first == 1 else 0.0,
        "recall_at_5": sum(r <= 5 for r in got) / n_gold,
        "recall_at_10": len(got) / n_gold,
        "mrr_at_10": 1.0 / first if first else 0.0,
        "ndcg_at_10": sum(1.0 / math.log2(r + 1) for r in got) / ideal,
    }


class Metrics(BaseModel):
    """Means over queries, each in [0, 1]."""

    queries: int
    acc_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    ndcg_at_10: float


class Delta(BaseModel):
    """A ranker's mean minus the project's on the same queries, with a paired bootstrap 95% CI."""

    mean: float
    ci95: tuple[float, float]


def aggregate(rows: Sequence[dict[str, float]]) -> Metrics:
    """Means of per-query scores (rounded to 4 places)."""
    n = len(rows)
    return Metrics(queries=n, **{m: round(float(np.mean([r[m] for r in rows])), 4) if n else 0.0
                                 for m in METRICS})


def bootstrap_ci(values: Sequence[float] | np.ndarray, *, resamples: int = 1000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap 95% interval of the mean of ``values`` (seeded, so repeatable)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return (0.0, 0.0)
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(resamples, arr.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (round(float(lo), 4), round(float(hi), 4))


# --------------------------------------------------------------------------- labelled files


class EvalQuery(BaseModel):
    """One labelled query of an evaluation file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = Field(default=None, max_length=100)
    query: str | None = Field(default=None, max_length=20_000, validation_alias=AliasChoices("query", "text"))
    profile: TalentProfile | None = None
    entry: DemandEntry | None = None
    side: Literal["demands", "talents"] | None = None
    gold: list[str | int] = Field(default_factory=list, max_length=1000)
    gold_occupations: list[str] = Field(default_factory=list, max_length=1000)
    type: str | None = Field(default=None, max_length=50)
    meta: dict[str, Any] = Field(default_factory=dict)
    _line: int = PrivateAttr(default=0)

    @property
    def line(self) -> int:
        """Line number in the file it was read from (1-based; 0 if not read from a file)."""
        return self._line

    def target_side(self) -> Literal["demands", "talents"]:
        """The side searched: an entry looks for talents, a profile for demands, text as asked."""
        if self.entry is not None:
            return "talents"
        if self.profile is not None:
            return "demands"
        return self.side or "demands"

    def gold_keys(self) -> list[str]:
        """Gold items as candidate keys (``id:N``) and occupation codes, without duplicates."""
        items = [f"id:{g}" if isinstance(g, int) else g for g in self.gold] + list(self.gold_occupations)
        return list(dict.fromkeys(items))


@dataclass
class EvalFileInvalid(ImportRejected):
    """An evaluation file has bad lines; nothing was evaluated."""

    title = "评测文件无效"

    def __post_init__(self) -> None:
        TalentMatchError.__init__(self, f"评测文件中有 {len(self.errors)} 处错误，未进行评测")


def _shown(line: str) -> str:
    return line if len(line) <= 60 else line[:57] + "…"


def parse_eval_lines(text: str) -> tuple[list[EvalQuery], list[RowError]]:
    """Evaluation queries of JSON Lines text (blank lines skipped) and the errors of bad lines."""
    queries: list[EvalQuery] = []
    errors: list[RowError] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if len(queries) + len(errors) >= MAX_QUERIES:
            raise InvalidInput(f"评测文件超过 {MAX_QUERIES} 条查询，请拆分后再评测")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(number, "整行", f"JSON 格式错误（第 {exc.colno} 列）", _shown(line)))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(number, "整行", "每行应为一个 JSON 对象", _shown(line)))
            continue
        try:
            q = EvalQuery.model_validate(obj)
        except ValidationError as exc:
            for e in exc.errors():
                where = ".".join(str(p) for p in e.get("loc", ())) or "整行"
                errors.append(RowError(number, where, zh_reason(dict(e))))
            continue
        q._line = number
        queries.append(q)
    return queries, errors


def read_eval_file(path: Path) -> tuple[list[EvalQuery], list[RowError]]:
    """Parse an evaluation file (UTF-8 JSON Lines); see :func:`parse_eval_lines`."""
    return parse_eval_lines(read_utf8(path, "评测文件"))


def _known_code(code: str, taxonomy: Taxonomy) -> bool:
    occ = taxonomy.by_code.get(code)
    return occ is not None and (occ.level == 4 or (occ.level == 3 and code.endswith("-00")))


def _code_errors(line: int, field: str, codes: Sequence[Any], taxonomy: Taxonomy) -> list[RowError]:
    out = []
    for c in codes:
        if not isinstance(c, str) or not CODE_RE.match(c):
            out.append(RowError(line, field, "职业编码格式应如 2-02-10-03（小类如 2-02-10-00）", str(c)))
        elif not _known_code(c, taxonomy):
            out.append(RowError(line, field, "未知职业编码（应为 CSCO 2022 细类或小类编码）", c))
    return out


def _query_errors(q: EvalQuery, task: Task, taxonomy: Taxonomy) -> list[RowError]:
    n = q.line
    errs: list[RowError] = []
    given = [name for name in ("query", "profile", "entry") if getattr(q, name) is not None]
    if task == "occupations":
        if given != ["query"]:
            errs.append(RowError(n, "query", "职业编码评测每行需要一个 query（自由文本），不能给 profile 或 entry"))
        elif not normalize_text(q.query or ""):
            errs.append(RowError(n, "query", "查询文本不能为空"))
        if q.gold_occupations:
            errs.append(RowError(n, "gold_occupations", "职业编码评测请把标准编码写在 gold 中"))
        if not q.gold:
            errs.append(RowError(n, "gold", "缺少标准答案（gold：CSCO 2022 职业编码列表）"))
        errs += _code_errors(n, "gold", q.gold, taxonomy)
        return errs
    if len(given) != 1:
        errs.append(RowError(n, "query", "请只提供 query、profile、entry 中的一项"))
    elif q.query is not None and not normalize_text(q.query):
        errs.append(RowError(n, "query", "查询文本不能为空"))
    if q.profile is not None and q.side == "talents":
        errs.append(RowError(n, "side", "人才档案（profile）只能检索岗位（side 应为 demands）"))
    if q.entry is not None and q.side == "demands":
        errs.append(RowError(n, "side", "需求条目（entry）只能检索人才（side 应为 talents）"))
    if not q.gold and not q.gold_occupations:
        errs.append(RowError(n, "gold", "缺少标准答案（gold：记录编号；或 gold_occupations：职业编码）"))
    for g in q.gold:
        if isinstance(g, bool) or not isinstance(g, int) or g < 1:
            errs.append(RowError(n, "gold", "匹配评测的 gold 应为正整数记录编号", str(g)))
    errs += _code_errors(n, "gold_occupations", q.gold_occupations, taxonomy)
    return errs


def validate_queries(queries: Sequence[EvalQuery], task: Task, *, taxonomy: Taxonomy,
                     store: Any | None = None, errors: Sequence[RowError] = ()) -> None:
    """Raise :class:`EvalFileInvalid` listing every problem (with the parser's ``errors``):
    missing or malformed gold, unknown occupation codes, ids not in ``store``, repeated ids."""
    all_errors = list(errors)
    seen: dict[str, int] = {}
    for q in queries:
        all_errors += _query_errors(q, task, taxonomy)
        if q.id is not None:
            if q.id in seen:
                all_errors.append(RowError(q.line, "id", f"查询编号与第 {seen[q.id]} 行重复", q.id))
            seen.setdefault(q.id, q.line)
    if task == "match" and store is not None:
        for side in ("demands", "talents"):
            kind = "demand" if side == "demands" else "talent"
            wanted = [q for q in queries if q.target_side() == side]
            ids = sorted({g for q in wanted for g in q.gold if isinstance(g, int) and not isinstance(g, bool)})
            known = set(store.texts(kind, ids)) if ids else set()
            label = "需求条目" if kind == "demand" else "人才档案"
            for q in wanted:
                for g in q.gold:
                    if isinstance(g, int) and not isinstance(g, bool) and g >= 1 and g not in known:
                        all_errors.append(RowError(q.line, "gold", f"编号 {g} 的{label}不存在", str(g)))
    if all_errors:
        all_errors.sort(key=lambda e: e.row)
        raise EvalFileInvalid(all_errors)
    if not queries:
        raise InvalidInput("评测文件中没有查询")


# --------------------------------------------------------------------------- rankers


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
    """The coder's fused ranking and its two halves alone (BM25: dense weight 0; dense: 1).

    All share ``memo`` (a :class:`QueryMemo` over the coder's encoder), so each query is
    encoded once. ``weights`` adds rankers ``{name: dense weight}`` (e.g. a sweep on a dev set).
    """
    memo = memo or QueryMemo(coder.encoder)
    w = coder.dense_weight
    spec = [("talentmatch", f"talentmatch（稠密 {w:g} + BM25 {1 - w:g}）", w, False),
            ("bm25", "BM25 基线（jieba 分词）", 0.0, True),
            ("dense", f"稠密向量基线（{coder.encoder.name}）", 1.0, False)]
    spec += [(name, f"稠密 {x:g} + BM25 {1 - x:g}", x, False) for name, x in (weights or {}).items()]
    rankers = []
    for name, label, weight, drop_zero in spec:
        variant = copy.copy(coder)  # shares the taxonomy, BM25 index and vectors
        variant.dense_weight = weight
        variant.encoder = memo
        rankers.append(Ranker(name, label, _coder_rank(variant, drop_zero)))
    return rankers


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
class _Prepared:
    """A match query ready for every ranker: the side searched, its vector and BM25 tokens."""

    query: EvalQuery
    kind: Literal["demand", "talent"]
    vector: np.ndarray
    tokens: list[str]


def _prepare_match(service: Any, q: EvalQuery) -> _Prepared:
    """The query vector and tokens exactly as the service's own match methods compute them."""
    kind: Literal["demand", "talent"] = "demand" if q.target_side() == "demands" else "talent"
    if q.query is not None:
        text = normalize_text(q.query)
        return _Prepared(q, kind, service.cached.query(text), tokenize(text))
    model, model_kind = (q.profile, "talent") if q.profile is not None else (q.entry, "demand")
    rec = service.prepare_records(model_kind, [model])[0]
    if isinstance(rec, InvalidInput):
        raise rec
    return _Prepared(q, kind, service.cached.passages([rec.text])[0], tokenize(rec.text))


def _candidates(service: Any, kind: str, ids: Sequence[int]) -> list[Candidate]:
    """Candidates (id key and occupation codes) of stored records, in the given order."""
    records = service.store.get_many(kind, list(ids))
    out = []
    for i in ids:
        rec = records.get(i)
        if kind == "demand":
            codes = {rec.occupation_code} if rec is not None and rec.occupation_code else set()
        else:
            codes = {c for c in (rec.desired_occupations if rec is not None else []) if CODE_RE.match(c)}
        out.append(Candidate(keys=frozenset({f"id:{i}"}), codes=frozenset(codes)))
    return out


def match_rankers(service: Any, *, filters: MatchFilters | None = None) -> list[Ranker]:
    """The service's ranking, and BM25 alone and FAISS alone over the same side's indexes."""
    filters = filters or MatchFilters()

    def project(batch: Sequence[_Prepared]) -> list[list[Candidate]]:
        out = []
        for p in batch:
            q = p.query
            if q.query is not None:
                found = service.match_text(q.query, q.target_side(), K, filters)
            elif q.profile is not None:
                found = service.match_profile(q.profile, K, filters)
            else:
                found = service.match_entry(q.entry, K, filters)
            out.append(_candidates(service, p.kind, [m.id for m in found]))
        return out

    def bm25(batch: Sequence[_Prepared]) -> list[list[Candidate]]:
        return [_candidates(service, p.kind, [i for i, _ in service.ensure_index(p.kind).lexical.search(p.tokens, K)])
                for p in batch]

    def dense(batch: Sequence[_Prepared]) -> list[list[Candidate]]:
        out = []
        for p in batch:
            _, ids = service.ensure_index(p.kind).dense.search(p.vector[None, :].astype(np.float32), K)
            out.append(_candidates(service, p.kind, [int(i) for i in ids[0] if i >= 0]))
        return out

    return [Ranker("talentmatch", "talentmatch（融合检索 + 双向打分）", project),
            Ranker("bm25", "BM25 基线（jieba 分词）", bm25),
            Ranker("dense", f"稠密向量基线（{service.encoder.name}）", dense)]


# --------------------------------------------------------------------------- running


class RankerResult(BaseModel):
    name: str
    label: str
    metrics: Metrics
    ci95: dict[str, tuple[float, float]] = Field(description="bootstrap 95% interval of each mean")
    by_type: dict[str, Metrics] = Field(default_factory=dict)
    delta_vs_project: dict[str, Delta] | None = Field(
        default=None, description="this ranker minus the project's ranking, paired over queries")
    seconds: float = Field(description="ranking time of all queries, query encoding excluded")


class QueryOutcome(BaseModel):
    id: str | None
    line: int
    type: str | None
    gold: list[str]
    ranked: dict[str, list[str]] = Field(description="per ranker: the top results (codes or id:N)")
    first_hit: dict[str, int | None]


class EvalReport(BaseModel):
    task: Task
    file: str | None = None
    queries: int
    k: int = K
    encoder: str
    types: dict[str, int] = Field(default_factory=dict)
    rankers: list[RankerResult]
    encode_seconds: float = Field(description="encoding the queries (once, shared by the rankers)")
    seconds: float
    outcomes: list[QueryOutcome] = Field(default_factory=list)

    def ranker(self, name: str) -> RankerResult:
        for r in self.rankers:
            if r.name == name:
                return r
        raise KeyError(name)


def _shown_candidate(c: Candidate) -> str:
    keys = sorted(c.keys)
    return ",".join(keys + sorted(c.codes)) if keys else ",".join(sorted(c.codes))


def run_rankers(items: Sequence[Any], queries: Sequence[EvalQuery], rankers: Sequence[Ranker], *,
                batch: int = 64, progress: Progress | None = None,
                details: bool = False) -> tuple[list[RankerResult], list[QueryOutcome]]:
    """Rank every item with every ranker and score it against its query's gold.

    ``items[i]`` is what the rankers take for ``queries[i]``. The first ranker is the
    project's: the others also get their paired difference to it.
    """
    rows: dict[str, list[dict[str, float]]] = {r.name: [] for r in rankers}
    tops: dict[str, list[list[Candidate]]] = {r.name: [] for r in rankers}
    ranks: dict[str, list[int | None]] = {r.name: [] for r in rankers}
    seconds = dict.fromkeys(rows, 0.0)
    for start in range(0, len(items), batch):
        chunk_items = items[start : start + batch]
        chunk_queries = queries[start : start + batch]
        for r in rankers:
            t0 = time.perf_counter()
            ranked = r.rank(chunk_items)
            seconds[r.name] += time.perf_counter() - t0
            for q, cands in zip(chunk_queries, ranked, strict=True):
                gold = q.gold_keys()
                credited = credited_ranks(cands, gold)
                rows[r.name].append(query_scores(credited, len(gold)))
                hits = [x for x in credited if x is not None]
                ranks[r.name].append(min(hits) if hits else None)
                if details:
                    tops[r.name].append(cands[:K])
        if progress:
            progress(len(chunk_items))
    types = [q.type or "" for q in queries]
    base = rankers[0].name
    results = []
    for r in rankers:
        per = rows[r.name]
        by_type = {}
        if len(set(types)) > 1:
            for t in sorted(set(types)):
                by_type[t or "（无类型）"] = aggregate([x for x, tt in zip(per, types, strict=True) if tt == t])
        ci = {m: bootstrap_ci([x[m] for x in per]) for m in METRICS}
        delta = None
        if r.name != base:
            delta = {}
            for m in METRICS:
                diff = np.array([x[m] for x in per]) - np.array([x[m] for x in rows[base]])
                delta[m] = Delta(mean=round(float(diff.mean()), 4), ci95=bootstrap_ci(diff))
        results.append(RankerResult(name=r.name, label=r.label, metrics=aggregate(per), ci95=ci,
                                    by_type=by_type, delta_vs_project=delta, seconds=round(seconds[r.name], 3)))
    outcomes = []
    if details:
        for i, q in enumerate(queries):
            outcomes.append(QueryOutcome(
                id=q.id, line=q.line, type=q.type, gold=q.gold_keys(),
                ranked={r.name: [_shown_candidate(c) for c in tops[r.name][i]] for r in rankers},
                first_hit={r.name: ranks[r.name][i] for r in rankers}))
    return results, outcomes


def _type_counts(queries: Sequence[EvalQuery]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in queries:
        counts[q.type or "（无类型）"] = counts.get(q.type or "（无类型）", 0) + 1
    return dict(sorted(counts.items()))


def evaluate_occupations(coder: OccupationCoder, queries: Sequence[EvalQuery], *,
                         weights: dict[str, float] | None = None, progress: Progress | None = None,
                         details: bool = False, file: str | None = None) -> EvalReport:
    """Occupation coding quality of the coder and its two halves on validated queries."""
    t0 = time.perf_counter()
    memo = QueryMemo(coder.encoder)
    texts = [normalize_text(q.query or "") for q in queries]
    for start in range(0, len(texts), 256):  # encode once, up front (the coder normalises the same way)
        memo.encode_queries(texts[start : start + 256])
    encode_s = time.perf_counter() - t0
    rankers = occupation_rankers(coder, memo=memo, weights=weights)
    results, outcomes = run_rankers(queries, queries, rankers, batch=256, progress=progress, details=details)
    return EvalReport(task="occupations", file=file, queries=len(queries), encoder=coder.encoder.name,
                      types=_type_counts(queries), rankers=results, encode_seconds=round(encode_s, 3),
                      seconds=round(time.perf_counter() - t0, 3), outcomes=outcomes)


_SWAP_LOCK = threading.Lock()  # one match evaluation at a time swaps the service's encoders


@contextmanager
def _memo_queries(service: Any, with_coder: bool) -> Iterator[QueryMemo]:
    """Memoise the service's query encodings (and, ``with_coder``, the occupation coder's: a
    profile's desired occupations are coded by the evaluation and again by the match) for the
    duration of an evaluation; the encoders are restored afterwards. Evaluations are
    serialised so that a swap never wraps another; other requests meanwhile get the same
    vectors (the wrapper only remembers them until the evaluation ends)."""
    with _SWAP_LOCK:
        cached = service.cached
        inner = cached.encoder
        memo = QueryMemo(inner)
        coder = service.coder if with_coder else None
        coder_inner = coder.encoder if coder is not None else None
        cached.encoder = memo
        if coder is not None:
            coder.encoder = memo if coder_inner is inner else QueryMemo(coder_inner)
        try:
            yield memo
        finally:
            cached.encoder = inner
            if coder is not None:
                coder.encoder = coder_inner


def evaluate_match(service: Any, queries: Sequence[EvalQuery], *, filters: MatchFilters | None = None,
                   progress: Progress | None = None, details: bool = False,
                   file: str | None = None) -> EvalReport:
    """Matching quality of the service's ranking and the two baselines on validated queries."""
    t0 = time.perf_counter()
    with _memo_queries(service, with_coder=any(q.query is None for q in queries)):
        items = [_prepare_match(service, q) for q in queries]
        encode_s = time.perf_counter() - t0
        results, outcomes = run_rankers(items, queries, match_rankers(service, filters=filters),
                                        batch=32, progress=progress, details=details)
    return EvalReport(task="match", file=file, queries=len(queries), encoder=service.encoder.name,
                      types=_type_counts(queries), rankers=results, encode_seconds=round(encode_s, 3),
                      seconds=round(time.perf_counter() - t0, 3), outcomes=outcomes)


def evaluate(service: Any, queries: Sequence[EvalQuery], task: Task, *, errors: Sequence[RowError] = (),
             filters: MatchFilters | None = None, progress: Progress | None = None,
             details: bool = False, file: str | None = None) -> EvalReport:
    """Validate labelled queries against the service's data, then evaluate them (one entry
    point for the CLI and the API). Bad queries raise :class:`EvalFileInvalid`; queries not
    read from a file are numbered by position in its row errors."""
    for i, q in enumerate(queries, 1):
        if not q.line:
            q._line = i
    validate_queries(queries, task, taxonomy=service.taxonomy, store=service.store, errors=errors)
    if task == "occupations":
        return evaluate_occupations(service.coder, queries, progress=progress, details=details, file=file)
    return evaluate_match(service, queries, filters=filters, progress=progress, details=details, file=file)


class EvalRequest(BaseModel):
    """An evaluation asked for over the API: labelled queries against the live data."""

    model_config = ConfigDict(extra="forbid")

    task: Task = "occupations"
    queries: list[EvalQuery] = Field(min_length=1, max_length=10_000)
    include_ineligible: bool = Field(default=False, description="match: keep results that fail hard requirements")
    details: bool = Field(default=False, description="include each query's top results per ranker")


def run_eval_request(service: Any, request: EvalRequest) -> EvalReport:
    """:func:`evaluate` for an :class:`EvalRequest` (what an API route calls)."""
    return evaluate(service, request.queries, request.task,
                    filters=MatchFilters(include_ineligible=request.include_ineligible), details=request.details)


# --------------------------------------------------------------------------- match corpus


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except FileNotFoundError:
        raise InvalidInput(f"文件不存在：{path}") from None


def corpus_settings(settings: Any, corpus: Path, work_dir: Path | None = None) -> Any:
    """Settings of the separate data directory that holds a match corpus (never the user's
    database): ``work_dir`` or ``<data_dir>/eval/<corpus name>-<content hash>``."""
    directory = work_dir or settings.data_dir / "eval" / f"{Path(corpus).stem}-{_digest(corpus)[:12]}"
    return settings.model_copy(update={"data_dir": Path(directory), "database_url": None})


def load_corpus(service: Any, corpus: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Import a demand-entry corpus into the service's (empty) store once, and index it.

    A marker file records the corpus hash, so a later run on the same directory reuses it.
    A directory holding other data is refused (nothing is deleted or mixed).
    """
    from matcher.ingest.importer import read_records

    digest = _digest(corpus)
    marker = service.settings.data_dir / "eval-corpus.json"
    if marker.exists():
        info = json.loads(marker.read_text(encoding="utf-8"))
        if info.get("sha256") == digest and service.store.count("demand") == info.get("entries"):
            service.sync("demand")
            return {**info, "reused": True}
        raise Conflict(f"工作目录 {service.settings.data_dir} 中是另一个语料，请换一个目录或删除它")
    if service.store.count("demand") or service.store.count("talent"):
        raise Conflict(f"工作目录 {service.settings.data_dir} 中已有数据，请指定一个空目录（--work-dir）")
    result = read_records(Path(corpus), "demands")
    report = service.import_rows("demands", result.records, result.errors, progress=progress)
    service.sync("demand")
    info = {"corpus": str(corpus), "sha256": digest, "entries": len(report["ids"]),
            "encoder": service.encoder.name}
    marker.write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {**info, "reused": False}
