"""Ranking quality with numbers: metrics, labelled files, the project's rankers and two baselines.

A labelled file is JSON Lines, one query per line:

- task ``occupations``: ``{"query": "大数据工程师", "gold": ["2-02-10-05"]}`` — free text and the
  CSCO 2022 codes that are right for it. A gold 小类 code (ending ``-00``, e.g. ``2-02-10-00``)
  is hit by any occupation of that 小类; likewise a 中类 (``6-02-00-00``) or 大类
  (``8-00-00-00``) code by any occupation under it (real labels are sometimes that coarse).
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

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from matcher.core.errors import Conflict, InvalidInput, RowError
from matcher.core.textnorm import normalize_text
from matcher.domain.schemas import MatchFilters
from matcher.evaluation.metrics import (  # noqa: F401 - the harness is the package's front door
    METRIC_LABELS,
    METRICS,
    Candidate,
    Delta,
    K,
    Metrics,
    Progress,
    Task,
    aggregate,
    bootstrap_ci,
    code_hits,
    credited_ranks,
    query_scores,
)
from matcher.evaluation.queries import (
    EvalFileInvalid,
    EvalQuery,
    parse_eval_lines,
    read_eval_file,
    validate_queries,
)
from matcher.evaluation.rankers import (
    QueryMemo,
    Ranker,
    match_rankers,
    occupation_rankers,
    prepare_match,
)
from matcher.retrieval.occupation_coder import OccupationCoder
from matcher.service import MatchService

__all__ = [
    "METRICS", "METRIC_LABELS", "Candidate", "Delta", "EvalFileInvalid", "EvalQuery", "EvalReport",
    "EvalRequest", "Metrics", "QueryOutcome", "QueryMemo", "Ranker", "RankerResult", "aggregate", "bootstrap_ci",
    "code_hits", "corpus_settings", "credited_ranks", "evaluate", "evaluate_match",
    "evaluate_occupations", "load_corpus", "match_rankers", "occupation_rankers", "parse_eval_lines",
    "query_scores", "read_eval_file", "run_eval_request", "run_rankers", "validate_queries",
]





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


def type_counts(queries: Sequence[EvalQuery]) -> dict[str, int]:
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
                      types=type_counts(queries), rankers=results, encode_seconds=round(encode_s, 3),
                      seconds=round(time.perf_counter() - t0, 3), outcomes=outcomes)


def _memo_service(service: MatchService, with_coder: bool) -> MatchService:
    """A service over the same data and indexes whose query encodings (and, ``with_coder``,
    its occupation coder's: a profile's desired occupations are coded by the evaluation and
    again by the match) are memoised for one evaluation; ``service`` itself is untouched."""
    memo = QueryMemo(service.encoder)
    coder_memo = None
    if with_coder:
        coder = service.coder
        coder_memo = memo if coder.encoder is service.encoder else QueryMemo(coder.encoder)
    return service.with_encoder(memo, coder_encoder=coder_memo)


def evaluate_match(service: MatchService, queries: Sequence[EvalQuery], *, filters: MatchFilters | None = None,
                   progress: Progress | None = None, details: bool = False,
                   file: str | None = None) -> EvalReport:
    """Matching quality of the service's ranking and the two baselines on validated queries."""
    t0 = time.perf_counter()
    memo_service = _memo_service(service, with_coder=any(q.query is None for q in queries))
    items = [prepare_match(memo_service, q) for q in queries]
    encode_s = time.perf_counter() - t0
    results, outcomes = run_rankers(items, queries, match_rankers(memo_service, filters=filters),
                                    batch=32, progress=progress, details=details)
    return EvalReport(task="match", file=file, queries=len(queries), encoder=service.encoder.name,
                      types=type_counts(queries), rankers=results, encode_seconds=round(encode_s, 3),
                      seconds=round(time.perf_counter() - t0, 3), outcomes=outcomes)


def evaluate(service: MatchService, queries: Sequence[EvalQuery], task: Task, *, errors: Sequence[RowError] = (),
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


def run_eval_request(service: MatchService, request: EvalRequest) -> EvalReport:
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


def load_corpus(service: MatchService, corpus: Path, progress: Progress | None = None) -> dict[str, Any]:
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
