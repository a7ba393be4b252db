"""The one settings object, read from the environment (prefix TALENTMATCH_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Weights(BaseSettings):
    """Feature weights of the two one-sided scores; each side is normalised by its sum."""

    model_config = SettingsConfigDict(env_prefix="TALENTMATCH_WEIGHT_", extra="ignore")

    # employer side: does the talent fit the post?
    e_semantic: float = 0.30
    e_required_skills: float = 0.30
    e_preferred_skills: float = 0.05
    e_education: float = 0.10
    e_major: float = 0.10
    e_experience: float = 0.10
    e_certificates: float = 0.05
    # seeker side: does the post fit the talent?
    s_semantic: float = 0.30
    s_skill_use: float = 0.20
    s_salary: float = 0.15
    s_location: float = 0.15
    s_occupation: float = 0.10
    s_chain: float = 0.05
    s_shortage: float = 0.05
    # combination of the two sides
    employer_share: float = Field(default=0.5, ge=0, le=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TALENTMATCH_", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str | None = None
    reference_dir: Path = PROJECT_ROOT / "data"
    encoder: str = "e5"
    encoder_model: str | None = None
    # the occupation coder's encoder (None: ``encoder``). With ``encoder = "static-e5"`` (bulk
    # indexing at thousands of texts a second) ``coder_encoder = "e5"`` keeps occupation coding
    # on the encoder its shipped re-ranker was trained with
    coder_encoder: str | None = None
    # how the occupation coder encodes titles: "fast" — by the static encoder distilled from the
    # coder's (static-e5 beside e5, thousands of titles a second) against the e5 vectors of the
    # occupations and exemplars, with the re-ranker trained that way (when both ship; otherwise
    # as "e5"); "e5" — by the coder's own encoder (about 20 new titles a second on 2 cores)
    coder_queries: Literal["fast", "e5"] = "fast"
    index_backend: Literal["faiss", "numpy"] = "faiss"
    # "auto": exact flat below ``hnsw_threshold`` vectors, IVF (``ivf``) at and above it
    index_kind: Literal["auto", "flat", "hnsw", "ivf"] = "auto"
    # the exact (flat) index scans a compact fp16 copy of its vectors (+50% of their memory),
    # re-scores the best max(2k, k + 64) from the float32 ones and proves them the exact top k
    # (else scans them all): same results as a full scan, about half the memory read per query
    flat_two_stage: bool = True
    hnsw_threshold: int = 200_000  # where "auto" leaves exact search (the name predates IVF)
    hnsw_m: int = 32
    hnsw_ef_search: int = 256
    # IVF lists (0: from the size at build, the power of two nearest 4·√n) and lists probed
    ivf_nlist: int = Field(default=0, ge=0, le=65_536)
    # 64: at 10^6 static-e5 (rank 256) vectors 0.970 recall@10 at 549 q/s on one thread; 96: 0.974 at 427
    ivf_nprobe: int = Field(default=64, ge=1, le=65_536)
    candidate_pool: int = 200
    # OpenMP threads of the one FAISS search of a request's candidates (0: faiss's default, one
    # per core). The search of one query is bound by memory and the cores are shared by the
    # concurrent requests and the worker processes: a second thread mostly waits (10^5 entries,
    # 2 busy cores: 60 ms with one thread, 165 ms with two). Batch searches keep the default.
    search_threads: int = Field(default=1, ge=0, le=256)
    # rankings a process computes at once (0: no limit). Ranking is Python under one interpreter
    # lock: requests ranked side by side in one process take turns on it and each costs more CPU
    # (10^5 entries, one process, 4 concurrent requests: 14.4 ms of CPU each side by side, 12.6
    # ms one at a time); the others wait for a slot instead. Run more worker processes to use
    # more cores.
    rank_concurrency: int = Field(default=1, ge=0, le=1024)
    # after loading, freeze the loaded heap out of the garbage collector's walks and make
    # collections rarer (matcher.core.heap: full collections were the p99 at 10^5 entries);
    # `talentmatch serve` turns it on for its processes
    settle_heap: bool = False
    fusion: Literal["rrf", "convex"] = "rrf"
    rrf_k: int = 60
    min_score: float = 0.0
    max_top_k: int = 200
    # ranked lists of stored records kept per process (keyed by the change-log position and the
    # indexes' state, so any write of any process makes a new key); 0: no cache
    result_cache_size: int = Field(default=4096, ge=0, le=1_000_000)
    # candidate records kept per process as validated models, by (id, version): a ranking reads
    # only the versions of its candidates and fetches the records changed or not kept; 0: none
    # (about 4 KB each: 10^5 entries kept take some 430 MB)
    record_cache_size: int = Field(default=200_000, ge=0, le=10_000_000)
    # a server fills the record cache with the searchable records of both sides in the background
    # once its indexes are loaded (``MatchService.warm_records``; /ready says when it is done), so
    # that a first ranking does not read and validate its candidates
    record_cache_warm: bool = True
    # dense-search pools kept per side, one per stored record searched from (its vector's
    # candidates and the bound that proves them; VectorIndex.search_reusing): a stored record's
    # next ranking re-scores its ~400 candidates instead of scanning every vector, with the
    # same results. About 1.6 KB each; 0 turns them off. With ``record_cache_warm`` a server
    # also makes them in the background for stored records, newest first, in batch searches
    dense_pool_cache: int = Field(default=20_000, ge=0, le=10_000_000)
    max_body_bytes: int = 1_048_576  # JSON request bodies
    max_upload_bytes: int = 50 * 1024 * 1024  # multipart file uploads (the importer's own limit)
    # reading import files (catalogues, posts, profiles, fair workbooks, chain registries); see
    # matcher/ingest/table_reader for why these numbers. Refusals are 413 with a Chinese message.
    import_max_unpacked_bytes: int = 200 * 1024 * 1024  # an XLSX's parts, unpacked
    import_max_rows: int = 200_000  # data rows of one table
    import_max_columns: int = 200  # up to the last non-empty cell of a row
    import_max_cell_chars: int = 10_000  # characters of one cell
    # how often a server applies other processes' writes (the change log) to its indexes; 0: never
    index_poll_seconds: float = Field(default=1.0, ge=0, le=3600)
    # durable jobs (fair runs): a worker thread in each server process unless false (then run
    # `talentmatch worker`); jobs allowed to wait; a running job whose worker stopped beating this
    # long is queued again (at most job_max_attempts runs)
    embedded_worker: bool = True
    max_waiting_jobs: int = Field(default=20, ge=1, le=10_000)
    # an import file of the pages larger than this is a job run by the worker, its page showing progress
    import_job_bytes: int = Field(default=1_048_576, ge=0)
    job_stale_seconds: float = Field(default=60.0, ge=1)
    job_max_attempts: int = Field(default=3, ge=1, le=20)
    host: str = "127.0.0.1"
    port: int = 8000
    # failed authentications (API keys, web sign-in) allowed per client address and per key prefix,
    # in the `limits` notation ("10/minute", "10/minute;100/hour"); empty turns a limit off
    auth_failures_per_ip: str = "10/minute"
    auth_failures_per_key: str = "10/minute"
    # where the counters live: a `limits` storage URL (memory://, redis://host:6379/0, …); unset:
    # redis_url if set, else memory:// (per process: use Redis with several workers or hosts)
    ratelimit_storage_url: str | None = None
    redis_url: str | None = None
    ratelimit_namespace: str = "talentmatch"  # key prefix, for deployments sharing one Redis

    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'talentmatch.db'}"

    def index_dir(self) -> Path:
        return self.data_dir / "indexes"

    def ratelimit_storage(self) -> str:
        return self.ratelimit_storage_url or self.redis_url or "memory://"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
