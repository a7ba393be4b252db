"""The nightly re-match: every active profile against every open post, and every open post
against every active profile, scored as the service scores them; the top-k of each record is
written to ``batch_matches`` under a run id.

Plan (driver): the searchable ids of both sides (sorted), the posts' passage vectors (from the
embedding cache; ``batch encode`` fills it), each side's background cosine (the service's), and
the shards. A fingerprint of the data, the weights and the parameters is stored with the run.
Neither the driver nor a worker holds the profile matrix: a worker reads its shard's profile
vectors from the embedding cache.

Two passes (:class:`ShardWorker`):

1. **Profile shards** (``talent`` shards of ``shard_size`` profiles): the exact cosine of the
   shard's profiles with every post (:func:`matcher.batch.partials.exact_cos`). Each profile's
   ``pool`` nearest posts (ties by id) are its candidates, ranked by :meth:`PairScorer.scored`
   and ordered as the service orders (its default filters, eligible pairs only, ``min_score``;
   the promoted outcome model if any, else the weighted score). The same cosines give each
   post's ``pool`` nearest profiles WITHIN the shard (its partial list). The shard's rows, its
   partial lists and its completion mark are committed in one transaction.
2. **Post shards** (``demand`` shards, once every profile shard is committed): each post's
   partial lists merged into its ``pool`` nearest profiles over all shards (the same pool, order
   and ties as the cosine over every profile: see :mod:`matcher.batch.partials`), scored and
   ordered as above, and committed with the shard's mark. The partial lists are deleted when the
   run ends.

Resuming a run re-plans, checks the fingerprint (the data must not have changed) and runs the
shards not committed yet. The shards run in process (``executor="local"``, the single-process
reference) or on Ray actors that keep the reference data and post vectors loaded; a Ray worker
that dies is restarted and its shard retried (a committed shard is never written twice).

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

from matcher.batch.encode import cache_key
from matcher.batch.partials import (
    CHUNK,
    PRIME_SAMPLE,
    Floors,
    exact_cos,
    merge_order,
    quantize,
    shard_top,
)
from matcher.core.errors import Conflict, InvalidInput, NotFound, TalentMatchError
from matcher.core.settings import Settings, Weights
from matcher.domain.schemas import MatchFilters
from matcher.ranking import learned
from matcher.ranking.scorer import PairScorer, passes, top
from matcher.reference.bundle import ReferenceData
from matcher.retrieval.indexes import INDEX_FORMAT, SEARCHABLE
from matcher.storage.batch_repo import BatchRepo, MatchRow, RunInfo
from matcher.storage.store import Store

Side = Literal["talent", "demand"]
OTHER: dict[str, Side] = {"talent": "demand", "demand": "talent"}
Progress = Callable[[int, int], None]  # (shards done, shards total)
ALGORITHM = "merge-1"  # the shard layout and cosine a run was planned with (in its fingerprint)
PLAN_CHUNK = 10_000  # profiles read at a time while planning


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
    """Records ``ids[side][start:stop]`` of a plan: profiles (``talent``, the first pass) or
    posts (``demand``, the second)."""

    index: int
    side: str
    start: int
    stop: int


@dataclass
class Plan:
    """Everything a worker needs besides the database: the ids of both sides (sorted), the
    posts' quantized vectors (row i is ``ids["demand"][i]``), backgrounds, weights, the
    embedding cache's model name and the settings to reach the database and reference data."""

    params: RematchParams
    settings: dict[str, Any]
    weights: dict[str, Any]
    ids: dict[str, np.ndarray]
    posts: np.ndarray  # int32, quantized (matcher.batch.partials.quantize)
    background: dict[str, float]
    encoder: str  # the embedding cache's model name
    fingerprint: str = ""
    shards: list[ShardSpec] = field(default_factory=list)
    watermark: dict[str, Any] = field(default_factory=dict)
    model_id: str = "weighted"  # the service's promoted outcome model, or "weighted"
    model: Any = None  # that model (a models.rerankers Reranker), shipped to the workers

    def first_pass(self) -> list[ShardSpec]:
        return [s for s in self.shards if s.side == "talent"]


def make_plan(service: Any, params: RematchParams) -> Plan:
    """Snapshot the searchable records of both sides (ids, post vectors, backgrounds) and shard
    them; every profile's vector is made sure to be cached (encoded if missing), in chunks,
    without keeping them. ``service`` is a :class:`matcher.service.MatchService`."""
    store: Store = service.store
    hashes = {side: store.text_hashes(side, status=SEARCHABLE[side]) for side in ("talent", "demand")}
    ids = {side: np.array(sorted(h), dtype=np.int64) for side, h in hashes.items()}
    posts = quantize(np.ascontiguousarray(service.vectors("demand", ids["demand"].tolist()), dtype=np.float32)) \
        if len(ids["demand"]) else np.zeros((0, service.encoder.dim), dtype=np.int32)
    repo = BatchRepo(store)
    for start in range(0, len(ids["talent"]), PLAN_CHUNK):
        chunk = ids["talent"][start : start + PLAN_CHUNK].tolist()
        texts = store.texts("talent", chunk)
        keys = {i: cache_key(t) for i, t in texts.items()}
        cached = repo.cached_hashes(service.cached.name, list(keys.values()))
        missing = [i for i, k in keys.items() if k not in cached]
        if missing:
            service.vectors("talent", missing)  # encodes and caches them
    background = {side: _background(service, side, hashes[side]) for side in ("talent", "demand")}
    weights = service.weights.model_dump()
    settings = service.settings.model_dump(mode="json")
    watermark = repo.watermark()
    model_id, model = service.active_model()
    digest = hashlib.sha256(json.dumps({
        "hashes": {side: sorted(h.items()) for side, h in hashes.items()},
        "watermark": watermark, "weights": weights, "params": asdict(params),
        "encoder": service.cached.name, "background": background, "model": model_id, "algorithm": ALGORITHM,
    }, sort_keys=True, default=str).encode()).hexdigest()
    shards: list[ShardSpec] = []
    # profile shards first (per-profile lists and the posts' partial lists), then post shards
    for side in ("talent", "demand") if "demand" in params.sides else ("talent",):
        n = len(ids[side])
        for start in range(0, n, params.shard_size):
            shards.append(ShardSpec(len(shards), side, start, min(start + params.shard_size, n)))
    return Plan(params, settings, weights, ids, posts, background, service.cached.name, digest, shards,
                watermark, model_id, model)


def _background(service: Any, side: str, hashes: dict[int, str]) -> float:
    """The service's background cosine of a side. An index this process has not loaded is not
    loaded for it (the profile index is the profile matrix): its saved manifest gives the value
    the service would load, if it was saved for these very records with this encoder; else the
    service loads (or builds) the index."""
    if not hashes:
        return 0.0
    if side not in getattr(service.indexes, "_sides", {}):
        path = service.settings.index_dir() / side / "manifest.json"
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            m = None
        if (isinstance(m, dict) and m.get("model") == service.cached.name and m.get("model_dim") == service.cached.dim
                and m.get("index_format") == INDEX_FORMAT and m.get("backend") == service.settings.index_backend
                and m.get("hashes") == {str(k): v for k, v in hashes.items()} and "background" in m):
            return float(m["background"])
    return float(service.background(side))


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


@dataclass
class ShardResult:
    """What a shard run hands back: its index, rows, whether this call committed it, and (for a
    profile shard it committed) its partial list entries as post positions and cosines, for
    the driver's floors."""

    index: int
    rows: int
    committed: bool
    post_pos: np.ndarray | None = None
    cos: np.ndarray | None = None


class ShardWorker:
    """Scores shards of a plan and commits them; keeps the reference data, the scorer, the post
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

    def profile_vectors(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The quantized cached vectors of profiles ``ids`` and the ids they are for (a profile
        deleted since the plan, or whose new text has no cached vector, is left out)."""
        texts = self.store.texts("talent", ids.tolist())
        keys = {i: cache_key(texts[i]) for i in ids.tolist() if i in texts}
        found = self.store.get_many_vectors(self.plan.encoder, list(set(keys.values())))
        have = np.array([i for i in ids.tolist() if i in keys and keys[i] in found], dtype=np.int64)
        dim = self.plan.posts.shape[1]
        vecs = np.stack([found[keys[i]] for i in have.tolist()]).astype(np.float32) if len(have) else \
            np.zeros((0, dim), dtype=np.float32)
        return quantize(vecs), have

    def _rank(self, side: str, qid: int, query: Any, candidates: list[tuple[Any, float, None]]) -> list[MatchRow]:
        p = self.plan
        other = OTHER[side]
        for_seeker = other == "demand"
        scored = self.scorer.scored(query, other, candidates, p.background[other],  # type: ignore[arg-type]
                                    keep=lambda e, t: self._keep(e, t, for_seeker))
        # ordered as the service orders a list: by a promoted outcome model if there is one
        shown = (learned.order(p.model, scored, p.params.top_k, p.params.min_score).scored if p.model is not None
                 else top(scored, p.params.top_k, p.params.min_score))
        return [MatchRow(side, qid, k, sc.other_id, round(sc.score, 6), round(sc.seeker, 6),
                         round(sc.employer, 6), sc.eligible) for k, sc in enumerate(shown, 1)]

    def score_profiles(self, shard: ShardSpec, floors: np.ndarray | None = None
                       ) -> tuple[list[MatchRow], tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """A profile shard: the top-k rows of its profiles (if the run lists profiles) and the
        posts' partial lists (if it lists posts) as (post positions, profile ids, cosines);
        nothing written. ``floors``: per post, drop the entries below it."""
        p = self.plan
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        qvecs, qids = self.profile_vectors(p.ids["talent"][shard.start : shard.stop])
        dids = p.ids["demand"]
        if len(dids) == 0 or len(qids) == 0:
            return [], empty
        cos = exact_cos(qvecs, p.posts)  # profiles of the shard x every post
        rows: list[MatchRow] = []
        if "talent" in p.params.sides:
            pool = min(p.params.pool, len(dids))
            cands = [candidate_order(cos[r], dids, pool) for r in range(len(qids))]
            queries = self._load("talent", qids.tolist())
            targets = self._load("demand", sorted({int(dids[j]) for c in cands for j in c}))
            for r, qid in enumerate(qids.tolist()):
                query = queries.get(qid)
                if query is None:  # deleted since the plan: nothing to store
                    continue
                rows += self._rank("talent", qid, query, [(targets[int(dids[j])], float(cos[r, j]), None)
                                                          for j in cands[r] if int(dids[j]) in targets])
        partial = empty
        if "demand" in p.params.sides:
            post_pos, col = shard_top(cos.T, min(p.params.pool, len(p.ids["talent"])), floors)
            partial = (post_pos, qids[col], cos[col, post_pos])
        return rows, partial

    def score_posts(self, shard: ShardSpec) -> list[MatchRow]:
        """A post shard: its posts' partial lists merged into their pools, scored; nothing written."""
        p = self.plan
        pids = p.ids["demand"][shard.start : shard.stop]
        pool = min(p.params.pool, len(p.ids["talent"]))
        merged: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for qid, entries in self.repo.partials(self.run_id, pids.tolist()).items():
            oids = np.array([o for o, _ in entries], dtype=np.int64)
            cos = np.array([c for _, c in entries], dtype=np.float64)
            order = merge_order(oids, cos, pool)
            merged[qid] = (oids[order], cos[order])
        queries = self._load("demand", pids.tolist())
        targets = self._load("talent", sorted({int(o) for oids, _ in merged.values() for o in oids}))
        rows: list[MatchRow] = []
        for qid in pids.tolist():
            query = queries.get(qid)
            if query is None or qid not in merged:  # deleted since the plan, or no profile
                continue
            oids, cos = merged[qid]
            rows += self._rank("demand", qid, query, [(targets[int(o)], float(c), None)
                                                      for o, c in zip(oids, cos, strict=True) if int(o) in targets])
        return rows

    def run(self, shard: ShardSpec, floors: np.ndarray | None = None) -> ShardResult:
        """Score and commit a shard. A post shard runs only once every profile shard is
        committed (its partial lists are complete)."""
        done = self.repo.done_shards(self.run_id)
        if shard.index in done:
            return ShardResult(shard.index, 0, False)
        if shard.side == "demand":
            waiting = [s.index for s in self.plan.first_pass() if s.index not in done]
            if waiting:
                raise Conflict(f"任务 {self.run_id} 还有 {len(waiting)} 个档案分片未完成，不能合并岗位的候选")
            rows = self.score_posts(shard)
            partial: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        else:
            rows, partial = self.score_profiles(shard, floors)
        if self.pause:
            time.sleep(self.pause)  # a throttle for a shared database (and a window for the tests)
        entries = [] if partial is None else list(zip(self.plan.ids["demand"][partial[0]].tolist(),
                                                      partial[1].tolist(), partial[2].tolist(), strict=True))
        committed = self.repo.commit_shard(self.run_id, shard.index, rows, self.name, entries)
        if committed and partial is not None:
            return ShardResult(shard.index, len(rows), True, partial[0].astype(np.int32), partial[2])
        return ShardResult(shard.index, len(rows), committed)


def rematch(service: Any, params: RematchParams | None = None, *, executor: str = "local",
            address: str | None = None, workers: int | None = None, resume: str | None = None,
            pause: float = 0.0, progress: Progress | None = None, prime: int = PRIME_SAMPLE) -> RunInfo:
    """Run (or resume) a re-match and return the finished run.

    ``executor``: ``local`` (in process) or ``ray`` (actors on ``address`` or a local Ray of
    ``workers`` CPUs). ``resume``: a run id whose uncommitted shards to run (its stored
    parameters are used; the data must be unchanged since it started). ``prime``: profiles
    sampled to prime the posts' floors (0: none; the lists are the same either way)."""
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
    passes_todo = [[s for s in todo if s.side == "talent"], [s for s in todo if s.side == "demand"]]
    floors = Floors(len(plan.ids["demand"]), min(params.pool, len(plan.ids["talent"])))
    if "demand" in params.sides and passes_todo[0]:
        prime_floors(service, plan, floors, prime)
    started = time.perf_counter()
    if executor == "local":
        worker = ShardWorker(plan, run_id, pause)
        n = len(done)
        for shards in passes_todo:
            for shard in shards:
                _fold(floors, worker.run(shard, floors.values() if shard.side == "talent" else None))
                n += 1
                if progress:
                    progress(n, len(plan.shards))
        used = 1
    elif executor == "ray":
        used = _run_on_ray(plan, run_id, passes_todo, floors, address=address, workers=workers, pause=pause,
                           progress=progress, already=len(done))
    else:
        raise InvalidInput("executor 只能是 local 或 ray")
    missing = set(s.index for s in plan.shards) - repo.done_shards(run_id)
    if missing:
        raise Conflict(f"任务 {run_id} 还有 {len(missing)} 个分片未完成；用 --resume {run_id} 续跑")
    elapsed = time.perf_counter() - started
    partials = repo.partial_count(run_id)
    repo.delete_partials(run_id)  # merged into the post shards' rows
    info = repo.run(run_id)
    stats = {**info.stats, "talents": len(plan.ids["talent"]), "demands": len(plan.ids["demand"]),
             "rows": info.rows, "executor": executor, "watermark": plan.watermark, "weights": plan.weights,
             "encoder": service.cached.name, "model": plan.model_id, "workers": used,
             "last_pass_seconds": round(elapsed, 3), "last_pass_shards": len(todo),
             "partial_entries": partials}
    repo.finish_run(run_id, stats)
    return repo.run(run_id)


def prime_floors(service: Any, plan: Plan, floors: Floors, sample: int) -> int:
    """Fold an evenly spread sample of at most ``sample`` profiles into the posts' floors (their
    exact cosines with every post, a block of posts at a time); the sample's size."""
    tids = plan.ids["talent"]
    if sample <= 0 or len(tids) == 0 or len(plan.ids["demand"]) == 0:
        return 0
    picked = np.unique(np.linspace(0, len(tids) - 1, min(sample, len(tids))).round().astype(np.int64))
    try:
        vecs = quantize(service.vectors("talent", tids[picked].tolist()))
    except NotFound:  # a profile deleted since the plan: no priming (still exact)
        return 0
    for start in range(0, len(plan.ids["demand"]), CHUNK // 4):
        floors.prime(start, exact_cos(plan.posts[start : start + CHUNK // 4], vecs))
    return len(picked)


def _fold(floors: Floors, result: ShardResult) -> None:
    if result.post_pos is not None and result.cos is not None:
        floors.add(result.post_pos, result.cos)


def _run_on_ray(plan: Plan, run_id: str, passes_todo: list[list[ShardSpec]], floors: Floors, *,
                address: str | None, workers: int | None, pause: float, progress: Progress | None,
                already: int) -> int:
    from matcher.batch.cluster import cluster_cpus, connected

    with connected(address, num_cpus=workers) as ray:
        from ray.util import ActorPool

        n = workers or cluster_cpus(ray)
        n = max(1, min(n, max(len(t) for t in passes_todo) or 1))
        # a worker that dies is restarted (its constructor reloads the plan from the object
        # store) and the shard retried on it; a committed shard is skipped, never re-written
        remote = ray.remote(num_cpus=1, max_restarts=4, max_task_retries=4)(ShardWorker)
        plan_ref = ray.put(plan)
        actors = [remote.remote(plan_ref, run_id, pause) for _ in range(n)]
        pool = ActorPool(actors)
        k = already

        def submit(actor: Any, shard: ShardSpec) -> Any:
            # a profile shard gets the floors known when it is dispatched
            return actor.run.remote(shard, floors.values() if shard.side == "talent" else None)

        try:
            for shards in passes_todo:  # the post shards start once every profile shard is committed
                for result in pool.map_unordered(submit, shards):
                    _fold(floors, result)
                    k += 1
                    if progress:
                        progress(k, len(plan.shards))
        except ray.exceptions.RayError as exc:  # retries exhausted: what committed stays
            raise TalentMatchError(f"重新匹配任务 {run_id} 中断（{type(exc).__name__}）；已提交的分片已保存，"
                                   f"用 --resume {run_id} 续跑") from exc
        for a in actors:
            ray.kill(a)
        return n


def broadcast_post_lists(service: Any, params: RematchParams) -> dict[int, list[MatchRow]]:
    """The per-post lists as the algorithm the merge replaced computes them: each post's ``pool``
    nearest by cosine over the WHOLE profile matrix (same exact cosines, ties by id), scored by
    the same code. Holds every profile vector: a reference for checks and tests, not for scale."""
    plan = make_plan(service, params)
    worker = ShardWorker(plan, "broadcast")
    tids = plan.ids["talent"]
    if len(tids) == 0:
        return {}
    profiles = quantize(service.vectors("talent", tids.tolist()))
    pool = min(params.pool, len(tids))
    out: dict[int, list[MatchRow]] = {}
    for start in range(0, len(plan.ids["demand"]), params.shard_size):
        pids = plan.ids["demand"][start : start + params.shard_size]
        cos = exact_cos(plan.posts[start : start + len(pids)], profiles)
        cands = [candidate_order(cos[r], tids, pool) for r in range(len(pids))]
        queries = worker._load("demand", pids.tolist())
        targets = worker._load("talent", sorted({int(tids[j]) for c in cands for j in c}))
        for r, qid in enumerate(pids.tolist()):
            if qid in queries:
                rows = worker._rank("demand", qid, queries[qid], [(targets[int(tids[j])], float(cos[r, j]), None)
                                                                  for j in cands[r] if int(tids[j]) in targets])
                if rows:
                    out[qid] = rows
    return out


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
