"""Bulk encoding (``talentmatch batch encode``): every record text whose passage vector is not
in the embedding cache yet, encoded in shards by workers that keep the encoder loaded, and
written back to the cache (the ``embeddings`` table, keyed as :class:`CachedEncoder` keys it)
in one transaction per shard.

The job is resumable by construction: a restart finds what is cached and encodes the rest.
The indexes and every later job (``batch rematch``, fairs, the service) read the cached
vectors instead of encoding.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from matcher.core.errors import InvalidInput, TalentMatchError
from matcher.core.settings import Settings
from matcher.retrieval.encoders import build_encoder
from matcher.storage.batch_repo import BatchRepo
from matcher.storage.store import Store, StoreVectorCache
from models.encoders import Encoder, text_hash

Progress = Callable[[int, int], None]


def cache_key(text: str) -> str:
    """The embedding cache's key of a passage text (as ``CachedEncoder.passages`` keys it)."""
    return text_hash("p:" + text)


@dataclass(frozen=True)
class EncodeShard:
    index: int
    keys: tuple[str, ...]
    texts: tuple[str, ...]


class EncodeWorker:
    """Holds an encoder (loaded once) and writes a shard's vectors in one transaction."""

    def __init__(self, settings: dict[str, Any], model: str, *, threads: int | None = 1,
                 encoder: Encoder | None = None, store: Store | None = None) -> None:
        self.settings = Settings(**settings)
        self.encoder = encoder or build_encoder(self.settings.encoder, self.settings.encoder_model, threads=threads)
        if self.encoder.name != model:
            raise InvalidInput(f"工作进程的编码器 {self.encoder.name} 与任务的 {model} 不一致，请检查各节点的配置")
        self.store = store or Store(self.settings.db_url(), create=False)
        self.cache = StoreVectorCache(self.store)

    def run(self, shard: EncodeShard) -> tuple[int, int]:
        vecs = self.encoder.encode_passages(list(shard.texts))
        items = dict(zip(shard.keys, vecs, strict=True))
        try:
            self.cache.put_many(self.encoder.name, items)
        except IntegrityError:  # another writer cached some of them meanwhile: add the rest
            self.cache.put_many(self.encoder.name, items)
        return shard.index, len(items)


def plan_encode(store: Store, model: str, shard_size: int, kinds: Sequence[str] = ("talent", "demand")
                ) -> tuple[list[EncodeShard], int, int]:
    """Shards of the record texts not cached for ``model``: (shards, texts, cached already)."""
    if shard_size < 1:
        raise InvalidInput("分片大小必须是正整数")
    todo: dict[str, str] = {}
    total = 0
    for kind in kinds:
        for text in store.texts(kind).values():
            todo.setdefault(cache_key(text), text)
            total += 1
    cached = BatchRepo(store).cached_hashes(model, list(todo))
    keys = sorted(k for k in todo if k not in cached)
    shards = [EncodeShard(n, tuple(keys[i : i + shard_size]), tuple(todo[k] for k in keys[i : i + shard_size]))
              for n, i in enumerate(range(0, len(keys), shard_size))]
    return shards, total, len(cached)


def encode_all(service: Any, *, executor: str = "local", address: str | None = None,
               workers: int | None = None, shard_size: int = 512, progress: Progress | None = None) -> dict[str, Any]:
    """Encode every uncached record text of the service's store with its encoder's settings."""
    model = service.cached.name
    shards, total, cached = plan_encode(service.store, model, shard_size)
    started = time.perf_counter()
    encoded = 0
    settings = service.settings.model_dump(mode="json")
    if executor == "local":
        if shards:
            # in process: the service's own encoder and store, already loaded
            worker = EncodeWorker(settings, model, encoder=service.encoder, store=service.store)
            for n, shard in enumerate(shards, 1):
                encoded += worker.run(shard)[1]
                if progress:
                    progress(n, len(shards))
        used = 1
    elif executor == "ray":
        from matcher.batch.cluster import cluster_cpus, connected

        with connected(address, num_cpus=workers) as ray:
            from ray.util import ActorPool

            used = max(1, min(workers or cluster_cpus(ray), len(shards) or 1))
            if shards:
                remote = ray.remote(num_cpus=1, max_restarts=4, max_task_retries=4)(EncodeWorker)
                actors = [remote.remote(settings, model) for _ in range(used)]
                try:
                    for n, (_i, k) in enumerate(ActorPool(actors).map_unordered(lambda a, s: a.run.remote(s), shards), 1):
                        encoded += k
                        if progress:
                            progress(n, len(shards))
                except ray.exceptions.RayError as exc:  # retries exhausted: what committed stays
                    raise TalentMatchError(f"批量编码中断（{type(exc).__name__}）；已写入的向量已保存，重新运行即可续编") from exc
                for a in actors:
                    ray.kill(a)
    else:
        raise InvalidInput("executor 只能是 local 或 ray")
    return {"model": model, "records": total, "cached_before": cached, "encoded": encoded,
            "shards": len(shards), "workers": used, "seconds": round(time.perf_counter() - started, 3)}
