"""Fair scoring on Ray: a large fair's candidate pairs scored in shards by workers that keep the
reference data loaded (``talentmatch fair run … --executor ray``).

The driver (:func:`matcher.fair.run.run_fair`) finds the candidates as always and hands them to
a :class:`RayPairScorer`; it cuts them into shards of consecutive pairs, ships each shard with
the records it names, and concatenates the workers' scores in shard order. A worker scores its
shard with :meth:`PairScorer.score_many`, the same code the in-process run uses, so the result
is the in-process result. Workers read no database: the shards carry the records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from matcher.core.errors import InvalidInput, TalentMatchError
from matcher.core.settings import Settings, Weights
from matcher.domain.schemas import DemandEntry, TalentProfile
from matcher.ranking.scorer import PairScorer, ScoredMany
from matcher.reference.bundle import ReferenceData


@dataclass(frozen=True)
class FairShard:
    """Pairs ``k`` of a shard: ``profiles[si[k]]`` with ``entries[ej[k]]`` at cosine ``cos[k]``."""

    index: int
    profiles: list[TalentProfile]
    entries: list[DemandEntry]
    si: np.ndarray
    ej: np.ndarray
    cos: np.ndarray
    background: float


def make_shards(profiles: list[TalentProfile], entries: list[DemandEntry], si: np.ndarray, ej: np.ndarray,
                cos: np.ndarray, background: float, shard_pairs: int) -> list[FairShard]:
    """Shards of ``shard_pairs`` consecutive pairs, each with only the records it names."""
    if shard_pairs < 1:
        raise InvalidInput("分片大小必须是正整数")
    shards = []
    for n, start in enumerate(range(0, len(si), shard_pairs)):
        s, e = si[start : start + shard_pairs], ej[start : start + shard_pairs]
        ps, si_local = np.unique(s, return_inverse=True)
        es, ej_local = np.unique(e, return_inverse=True)
        shards.append(FairShard(n, [profiles[i] for i in ps.tolist()], [entries[j] for j in es.tolist()],
                                si_local.ravel(), ej_local.ravel(), cos[start : start + shard_pairs], background))
    return shards


class FairShardWorker:
    """Scores fair shards with the reference data and weights loaded once."""

    def __init__(self, settings: dict[str, Any], weights: dict[str, Any]) -> None:
        ref = ReferenceData.load(Settings(**settings).reference_dir)
        self.scorer = PairScorer.for_reference(ref, Weights(**weights))

    def score(self, shard: FairShard) -> tuple[int, ScoredMany]:
        sc = self.scorer.score_many(shard.profiles, shard.entries, shard.si, shard.ej, shard.cos, shard.background)
        return shard.index, ScoredMany(sc.score, sc.seeker, sc.employer, sc.eligible, {})


def concat(parts: list[ScoredMany]) -> ScoredMany:
    if not parts:
        empty = np.zeros(0)
        return ScoredMany(empty, empty, empty, np.zeros(0, dtype=bool), {})
    return ScoredMany(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("score", "seeker", "employer",
                                                                               "eligible")), {})


class RayPairScorer:
    """A fair's pair scorer (``run_fair(..., scorer=...)``) that scores shards on Ray actors: on
    the cluster at ``address`` (or ``TALENTMATCH_RAY_ADDRESS``), else on a local Ray of
    ``workers`` CPUs started for the run. ``workers``: actors (default: the cluster's CPUs)."""

    def __init__(self, settings: Settings, weights: Weights, *, address: str | None = None,
                 workers: int | None = None, shard_pairs: int = 25_000) -> None:
        if workers is not None and workers < 1:
            raise InvalidInput("workers 必须是正整数")
        self.settings = settings.model_dump(mode="json")
        self.weights = weights.model_dump()
        self.address = address
        self.workers = workers
        self.shard_pairs = shard_pairs
        self.used = 0  # actors of the last call
        self.timings: dict[str, float] = {}  # seconds of the last call: connect (and start Ray), score

    def __call__(self, profiles: list[TalentProfile], entries: list[DemandEntry], si: np.ndarray, ej: np.ndarray,
                 cos: np.ndarray, background: float) -> ScoredMany:
        from matcher.batch.cluster import cluster_cpus, connected

        shards = make_shards(profiles, entries, si, ej, cos, background, self.shard_pairs)
        if not shards:
            return concat([])
        t0 = time.perf_counter()
        with connected(self.address, num_cpus=self.workers) as ray:
            from ray.util import ActorPool

            n = max(1, min(self.workers or cluster_cpus(ray), len(shards)))
            remote = ray.remote(num_cpus=1, max_restarts=2, max_task_retries=2)(FairShardWorker)
            actors = [remote.remote(self.settings, self.weights) for _ in range(n)]
            try:
                ray.get([a.__ray_ready__.remote() for a in actors])  # started, reference data loaded
                t1 = time.perf_counter()
                done = dict(ActorPool(actors).map_unordered(lambda a, s: a.score.remote(s), shards))
                self.timings = {"connect": round(t1 - t0, 3), "score": round(time.perf_counter() - t1, 3),
                                "shards": len(shards)}
            except ray.exceptions.RayError as exc:
                raise TalentMatchError(f"Ray 评分中断（{type(exc).__name__}），请重新运行本次匹配") from exc
            finally:
                for a in actors:
                    ray.kill(a)
        self.used = n
        return concat([done[i] for i in range(len(shards))])
