"""Joining or starting a Ray cluster for a batch job.

``address`` (or ``TALENTMATCH_RAY_ADDRESS``) joins a running cluster (``auto``, ``host:port``
or ``ray://host:10001``); without one, a local single-machine Ray is started for the job and
stopped after it (Ray's local mode). Workers must be able to import this project and reach the
database URL the job passes them (the same image on every node; PostgreSQL for a fleet).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from matcher.core.errors import InvalidInput, MissingDependency

ADDRESS_ENV = "TALENTMATCH_RAY_ADDRESS"


def ray_address(address: str | None) -> str | None:
    """The cluster to join: the given address, else ``TALENTMATCH_RAY_ADDRESS``, else None (local)."""
    return address or os.environ.get(ADDRESS_ENV) or None


def import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a dependency
        raise MissingDependency("批处理需要 Ray：pip install ray") from exc
    return ray


@contextmanager
def connected(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[Any]:
    """Ray, connected for the duration of the block (to ``address`` or a local cluster of
    ``num_cpus``); disconnects afterwards (a local cluster is stopped)."""
    address = ray_address(address)
    if address is None:
        # a job's own local cluster lives on this machine: keep it on the loopback interface
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = import_ray()
    if ray.is_initialized():  # the caller manages the connection
        yield ray
        return
    env = {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    kwargs: dict[str, Any] = {"logging_level": "WARNING", "log_to_driver": False,
                              "runtime_env": {"env_vars": env} if env else None}
    if address is None:
        kwargs.update(num_cpus=num_cpus, include_dashboard=False)
    try:
        ray.init(address=address, **kwargs)
    except ConnectionError as exc:
        raise InvalidInput(f"无法连接 Ray 集群 {address}：{exc}") from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def cluster_cpus(ray: Any) -> int:
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
