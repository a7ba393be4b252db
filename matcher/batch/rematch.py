"""The nightly re-match: every active profile against every open post, and every open post
against every active profile, scored as the service scores them; the top-k of each record is
written to ``batch_matches`` under a run id.

Plan (driver): the searchable ids of both sides (sorted), their passage vectors (from the
embedding cache; ``batch encode`` fills it), each side's background cosine (the service's),
and shards of ``shard_size`` query records per side. A fingerprint of the data, the weights and
the parameters is stored with the run.

Shard (worker, :class:`ShardWorker`): the cosine of the shard's vectors with every record of
the other side; each query's ``pool`` nearest by cosine (ties by id) are the candidates, ranked
by :meth:`PairScorer.scored` and ordered as the service orders (its default filters, eligible
pairs only, ``min_score``; the promoted outcome model if any, else the weighted score); the shard's rows and its completion mark are committed in one
transaction (:meth:`BatchRepo.commit_shard`).

Resuming a run re-plans, checks the fingerprint (the data must not have changed) and runs the
shards not committed yet. The shards run in process (``executor="local"``, the single-process
reference) or on Ray actors that keep the reference data and vectors loaded; a Ray worker that
dies is restarted and its shard retried (a committed shard is never written twice).

Candidates differ from the live service in one way: the service fuses dense and BM25 retrieval
and cuts to ``candidate_pool``; the batch takes the exact cosine top ``pool``. With ``pool`` at
least the size of the other side both rank every record, and agree.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from matcher.core.errors import Conflict, InvalidInput, NotFound, TalentMatchError
from matcher.core.settings import Settings, Weights
from matcher.domain.schemas import MatchFilters
from matcher.ranking import learned
from matcher.ranking.scorer import PairScorer, passes, top
from matcher.reference.bundle import ReferenceData
from matcher.retrieval.indexes import SEARCHABLE
from matcher.storage.batch_repo import BatchRepo, MatchRow, RunInfo
from matcher.storage.store import Store

Side = Literal["talent", "demand"]
OTHER: dict[str, Side] = {"talent": "demand", "demand": "talent"}
Progress = Callable[[int, int], None]  # (shards done, shards total)


@dataclass(frozen=True)
class RematchParams:
    """What a run computes; stored with the run (a resume uses the stored values)."""

    top_k: int = 10
    pool: int = 200  # candidates by cosine per query record
    shard_size: int = 500  # query records per shard
    min_score: float = 0.0
    sides: tuple[str, ...] = ("talent", "demand")

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= 1000:
            raise InvalidInput("top_k 必须在 1 到 1000 之间")
        if self.pool < self.top_k:
            raise InvalidInput("候选数 pool 不能小于 top_k")
        if self.shard_size < 1:
            raise InvalidInput("分片大小必须是正整数")
        if not self.sides or any(s not in OTHER for s in self.sides):
            raise InvalidInput("sides 只能是 talent 和/或 demand")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RematchParams:
        return cls(top_k=int(d["top_k"]), pool=int(d["pool"]), shard_size=int(d["shard_size"]),
                   min_score=float(d["min_score"]), sides=tuple(d["sides"]))


@dataclass(frozen=True)
class ShardSpec:
    """Query records ``ids[side][start:stop]`` of a plan."""

    index: int
    side: str
    start: int
    stop: int


@dataclass
class Plan:
    """Everything a worker needs besides the database: ids and vectors of both sides (row i of
    ``vectors[side]`` is ``ids[side][i]``), backgrounds, weights and the settings to reach the
    database and reference data."""

    params: RematchParams
    settings: dict[str, Any]
    weights: dict[str, Any]
    ids: dict[str, np.ndarray]
    vectors: dict[str, np.ndarray]
    background: dict[str, float]
    fingerprint: str = ""
    shards: list[ShardSpec] = field(default_factory=list)
    watermark: dict[str, Any] = field(default_factory=dict)
    model_id: str = "weighted"  # the service's promoted outcome model, or "weighted"
    model: Any = None  # that model (a models.rerankers Reranker), shipped to the workers


def make_plan(service: Any, params: RematchParams) -> Plan:
    """Snapshot the searchable records of both sides (ids, vectors, backgrounds) and shard them.
    ``service`` is a :class:`matcher.service.MatchService`."""
    store: Store = service.store
    hashes = {side: store.text_hashes(side, status=SEARCHABLE[side]) for side in ("talent", "demand")}
    ids = {side: np.array(sorted(h), dtype=np.int64) for side, h in hashes.items()}
    vectors = {side: np.ascontiguousarray(service.vectors(side, ids[side].tolist()), dtype=np.float32)
               for side in ("talent", "demand")}
    background = {side: float(service.background(side)) if len(ids[side]) else 0.0 for side in ("talent", "demand")}
    weights = service.weights.model_dump()
    settings = service.settings.model_dump(mode="json")
    watermark = BatchRepo(store).watermark()
    model_id, model = service.active_model()
    digest = hashlib.sha256(json.dumps({
        "hashes": {side: sorted(h.items()) for side, h in hashes.items()},
        "watermark": watermark, "weights": weights, "params": asdict(params),
        "encoder": service.cached.name, "background": background, "model": model_id,
    }, sort_keys=True, default=str).encode()).hexdigest()
    shards: list[ShardSpec] = []
    for side in params.sides:
        n = len(ids[side])
        for start in range(0, n, params.shard_size):
            shards.append(ShardSpec(len(shards), side, start, min(start + params.shard_size, n)))
    return Plan(params, settings, weights, ids, vectors, background, digest, shards, watermark, model_id, model)


def candidate_order(cos_row: np.ndarray, ids: np.ndarray, pool: int) -> np.ndarray:
    """Positions of the ``pool`` largest cosines, best first, ties broken by the smaller id."""
    n = cos_row.shape[0]
    if pool < n:
        part = np.argpartition(-cos_row, pool - 1)[:pool]
        # the partition's cut may split a tie: take every position tied with the cut too
        cut = cos_row[part].min()
        part = np.union1d(part, np.nonzero(cos_row >= cut)[0])
    else:
        part = np.arange(n)
    order = np.lexsort((ids[part], -cos_row[part]))
    return part[order][:pool]


class ShardWorker:
    """Scores shards of a plan and commits them; keeps the reference data, the scorer, the
    vectors and the records it has loaded (a Ray actor holds one for the whole job)."""

    def __init__(self, plan: Plan, run_id: str, pause: float = 0.0) -> None:
        self.plan = plan
        self.run_id = run_id
        self.pause = pause
        self.settings = Settings(**plan.settings)
        ref = ReferenceData.load(self.settings.reference_dir)
        self.scorer = PairScorer.for_reference(ref, Weights(**plan.weights))
        self.regions = ref.regions
        self.store = Store(self.settings.db_url(), create=False)  # the driver created the schema
        self.repo = BatchRepo(self.store)
        self.records: dict[str, dict[int, Any]] = {"talent": {}, "demand": {}}
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def pid(self) -> int:
        return os.getpid()

    def _load(self, side: str, ids: Sequence[int]) -> dict[int, Any]:
        have = self.records[side]
        missing = [i for i in ids if i not in have]
        if missing:
            have.update(self.store.get_many(side, missing))
        return have

    def _keep(self, entry: Any, profile: Any, for_seeker: bool) -> bool:
        return passes(entry, profile, MatchFilters(), for_seeker=for_seeker, regions=self.regions,
                      resolve_chain=lambda c: c)

    def score(self, shard: ShardSpec) -> list[MatchRow]:
        """The top-k rows of a shard's query records (nothing written)."""
        p = self.plan
        side, other = shard.side, OTHER[shard.side]
        qids = p.ids[side][shard.start : shard.stop]
        tids = p.ids[other]
        if len(tids) == 0 or len(qids) == 0:
            return []
        cos = p.vectors[side][shard.start : shard.stop] @ p.vectors[other].T
        pool = min(p.params.pool, len(tids))
        cands = [candidate_order(cos[r], tids, pool) for r in range(len(qids))]
        queries = self._load(side, qids.tolist())
        targets = self._load(other, sorted({int(tids[j]) for c in cands for j in c}))
        for_seeker = other == "demand"
        rows: list[MatchRow] = []
        for r, qid in enumerate(qids.tolist()):
            query = queries.get(qid)
            if query is None:  # deleted since the plan: nothing to store
                continue
            candidates = [(targets[int(tids[j])], float(cos[r, j]), None) for j in cands[r]
                          if int(tids[j]) in targets]
            scored = self.scorer.scored(query, other, candidates, p.background[other],  # type: ignore[arg-type]
                                        keep=lambda e, t: self._keep(e, t, for_seeker))
            # ordered as the service orders a list: by a promoted outcome model if there is one
            shown = (learned.order(p.model, scored, p.params.top_k, p.params.min_score).scored if p.model is not None
                     else top(scored, p.params.top_k, p.params.min_score))
            rows += [MatchRow(side, qid, k, sc.other_id, round(sc.score, 6), round(sc.seeker, 6),
                              round(sc.employer, 6), sc.eligible) for k, sc in enumerate(shown, 1)]
        return rows

    def run(self, shard: ShardSpec) -> tuple[int, int, bool]:
        """Score and commit a shard: (shard index, rows, whether this call committed it)."""
        if shard.index in self.repo.done_shards(self.run_id):
            return shard.index, 0, False
        rows = self.score(shard)
        if self.pause:
            time.sleep(self.pause)  # a throttle for a shared database (and a window for the tests)
        return shard.index, len(rows), self.repo.commit_shard(self.run_id, shard.index, rows, self.name)


def rematch(service: Any, params: RematchParams | None = None, *, executor: str = "local",
            address: str | None = None, workers: int | None = None, resume: str | None = None,
            pause: float = 0.0, progress: Progress | None = None) -> RunInfo:
    """Run (or resume) a re-match and return the finished run.

    ``executor``: ``local`` (in process) or ``ray`` (actors on ``address`` or a local Ray of
    ``workers`` CPUs). ``resume``: a run id whose uncommitted shards to run (its stored
    parameters are used; the data must be unchanged since it started)."""
    repo = BatchRepo(service.store)
    if resume:
        info = repo.run(resume)
        if info.job != "rematch":
            raise InvalidInput(f"任务 {resume} 不是重新匹配任务")
        params = RematchParams.from_dict(info.params)
        plan = make_plan(service, params)
        if plan.fingerprint != info.fingerprint:
            raise Conflict(f"任务 {resume} 开始后数据、权重或参数已改变，不能续跑；请重新运行（不带 --resume）")
        run_id = resume
    else:
        params = params or RematchParams(pool=service.settings.candidate_pool)
        plan = make_plan(service, params)
        run_id = repo.create_run("rematch", asdict(params), plan.fingerprint, len(plan.shards))
    done = repo.done_shards(run_id)
    todo = [s for s in plan.shards if s.index not in done]
    started = time.perf_counter()
    if executor == "local":
        worker = ShardWorker(plan, run_id, pause)
        for n, shard in enumerate(todo, 1):
            worker.run(shard)
            if progress:
                progress(len(done) + n, len(plan.shards))
        used = 1
    elif executor == "ray":
        used = _run_on_ray(plan, run_id, todo, address=address, workers=workers, pause=pause,
                           progress=progress, already=len(done))
    else:
        raise InvalidInput("executor 只能是 local 或 ray")
    missing = set(s.index for s in plan.shards) - repo.done_shards(run_id)
    if missing:
        raise Conflict(f"任务 {run_id} 还有 {len(missing)} 个分片未完成；用 --resume {run_id} 续跑")
    elapsed = time.perf_counter() - started
    info = repo.run(run_id)
    stats = {**info.stats, "talents": len(plan.ids["talent"]), "demands": len(plan.ids["demand"]),
             "rows": info.rows, "executor": executor, "watermark": plan.watermark, "weights": plan.weights,
             "encoder": service.cached.name, "model": plan.model_id, "workers": used,
             "last_pass_seconds": round(elapsed, 3), "last_pass_shards": len(todo)}
    repo.finish_run(run_id, stats)
    return repo.run(run_id)


def _run_on_ray(plan: Plan, run_id: str, todo: list[ShardSpec], *, address: str | None, workers: int | None,
                pause: float, progress: Progress | None, already: int) -> int:
    from matcher.batch.cluster import cluster_cpus, connected

    with connected(address, num_cpus=workers) as ray:
        from ray.util import ActorPool

        n = workers or cluster_cpus(ray)
        n = max(1, min(n, len(todo) or 1))
        # a worker that dies is restarted (its constructor reloads the plan from the object
        # store) and the shard retried on it; a committed shard is skipped, never re-written
        remote = ray.remote(num_cpus=1, max_restarts=4, max_task_retries=4)(ShardWorker)
        plan_ref = ray.put(plan)
        actors = [remote.remote(plan_ref, run_id, pause) for _ in range(n)]
        pool = ActorPool(actors)
        try:
            for k, _result in enumerate(pool.map_unordered(lambda a, s: a.run.remote(s), todo), 1):
                if progress:
                    progress(already + k, len(plan.shards))
        except ray.exceptions.RayError as exc:  # retries exhausted: what committed stays
            raise TalentMatchError(f"重新匹配任务 {run_id} 中断（{type(exc).__name__}）；已提交的分片已保存，"
                                   f"用 --resume {run_id} 续跑") from exc
        for a in actors:
            ray.kill(a)
        return n


def is_fresh(service: Any, info: RunInfo) -> bool:
    """Whether a finished run still describes the data: no record was added, changed or
    deleted since it was planned (same counts and latest change time on both sides), and the
    service ranks with the same weights, encoder and promoted model."""
    s = info.stats
    return (info.status == "done" and s.get("watermark") == BatchRepo(service.store).watermark()
            and s.get("weights") == service.weights.model_dump() and s.get("encoder") == service.cached.name
            and s.get("model", "weighted") == service.active_model()[0])


def stored_matches(service: Any, side: str, record_id: int, run_id: str | None = None) -> dict[str, Any]:
    """A record's stored top-k in a run (default: the latest finished re-match), with the run
    and whether it is still fresh (:func:`is_fresh`)."""
    if side not in OTHER:
        raise InvalidInput("side 只能是 talent 或 demand")
    repo = BatchRepo(service.store)
    info = repo.run(run_id) if run_id else repo.latest_done("rematch")
    if info is None:
        raise NotFound("还没有完成的重新匹配任务：先运行 talentmatch batch rematch")
    service.store.get(side, record_id)  # NotFound for an unknown record
    rows = repo.matches(info.id, side, record_id)
    return {"run_id": info.id, "finished_at": info.finished_at.isoformat() if info.finished_at else None,
            "fresh": is_fresh(service, info), "kind": OTHER[side], "top_k": info.params.get("top_k"),
            "matches": [{"rank": r.rank, "id": r.other_id, "score": r.score, "seeker_score": r.seeker_score,
                         "employer_score": r.employer_score, "eligible": r.eligible} for r in rows]}
