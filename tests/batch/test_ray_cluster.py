"""Batch jobs on a real local Ray cluster (started and stopped by the ``ray_cluster`` fixture):
the same top-k as the single-process path, and no row lost when a worker or the job is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from matcher.batch.encode import cache_key, encode_all
from matcher.batch.rematch import RematchParams, rematch
from matcher.core.settings import PROJECT_ROOT
from matcher.storage.batch_repo import BatchRepo
from tests.batch.conftest import settings_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray")]

PARAMS = RematchParams(top_k=5, pool=40, shard_size=6)


def _cli(cluster, settings, *args: str) -> subprocess.Popen:
    env = {**os.environ, **cluster.env, **settings_env(settings), "PYTHONPATH": str(PROJECT_ROOT),
           "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "matcher.cli.main", "batch", *args], env=env, cwd=PROJECT_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_shards(repo: BatchRepo, at_least: int, proc: subprocess.Popen, timeout: float = 60) -> str:
    """The id of the running job once it has committed ``at_least`` shards."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = repo.runs("rematch", limit=1)
        if runs and runs[0].status == "running" and runs[0].done_shards >= at_least:
            return runs[0].id
        if proc.poll() is not None:
            pytest.fail(f"the job ended early: {proc.returncode}\n{proc.stderr.read()[-2000:]}")
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the job committed no shard in time")


def test_rematch_on_the_cluster_equals_the_single_process_run(ray_cluster, loaded):
    repo = BatchRepo(loaded.store)
    local = rematch(loaded, PARAMS, executor="local")
    on_ray = rematch(loaded, PARAMS, executor="ray", address=ray_cluster.address)
    assert on_ray.stats["workers"] == 2 and on_ray.stats["executor"] == "ray"
    assert on_ray.status == "done" and on_ray.done_shards == on_ray.shards == local.shards
    expected = repo.all_matches(local.id)
    assert expected  # both sides have stored top-k lists
    assert {side for side, _ in expected} == {"talent", "demand"}
    assert repo.all_matches(on_ray.id) == expected


def test_bulk_encode_on_the_cluster_writes_the_encoder_vectors(ray_cluster, loaded):
    from sqlalchemy import delete

    from matcher.storage.tables import EmbeddingRow

    with loaded.store.session() as s:
        s.execute(delete(EmbeddingRow))
    stats = encode_all(loaded, executor="ray", address=ray_cluster.address, shard_size=16)
    texts = [*loaded.store.texts("talent").values(), *loaded.store.texts("demand").values()]
    assert stats["encoded"] == len(set(texts)) and stats["shards"] >= 2 and stats["workers"] == 2
    keys = [cache_key(t) for t in texts]
    cached = loaded.store.get_many_vectors(loaded.cached.name, keys)
    assert set(cached) == set(keys)
    sample = texts[:5]
    np.testing.assert_allclose(np.stack([cached[cache_key(t)] for t in sample]),
                               loaded.encoder.encode_passages(sample), atol=1e-6)
    again = encode_all(loaded, executor="ray", address=ray_cluster.address, shard_size=16)
    assert again["encoded"] == 0 and again["cached_before"] == len(set(keys))


def test_a_killed_worker_loses_no_row(ray_cluster, loaded, batch_settings):
    repo = BatchRepo(loaded.store)
    expected = repo.all_matches(rematch(loaded, PARAMS, executor="local").id)
    proc = _cli(ray_cluster, batch_settings, "rematch", "--ray-address", ray_cluster.address, "--top-k", "5",
                "--pool", "40", "--shard-size", "6", "--pause", "0.4", "--format", "json")
    run_id = _wait_for_shards(repo, 1, proc)
    pids = ray_cluster.worker_pids("ShardWorker")
    assert pids, "no ShardWorker process found"
    os.kill(pids[0], signal.SIGKILL)
    out, errs = proc.communicate(timeout=120)
    assert proc.returncode == 0, errs[-2000:]
    assert out.lstrip().startswith("{"), (out[-1500:], errs[-1500:])
    info = json.loads(out)
    assert info["id"] == run_id and info["status"] == "done" and info["done_shards"] == info["shards"]
    assert all(declared == stored for declared, stored in repo.shard_rows(run_id).values())
    assert repo.all_matches(run_id) == expected


def test_a_killed_job_resumes_from_its_last_committed_shard(ray_cluster, loaded, batch_settings):
    repo = BatchRepo(loaded.store)
    expected = repo.all_matches(rematch(loaded, PARAMS, executor="local").id)
    proc = _cli(ray_cluster, batch_settings, "rematch", "--ray-address", ray_cluster.address, "--top-k", "5",
                "--pool", "40", "--shard-size", "6", "--pause", "0.4")
    run_id = _wait_for_shards(repo, 2, proc)
    proc.send_signal(signal.SIGKILL)  # the driver dies; its actors die with it
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 20
    while ray_cluster.worker_pids("ShardWorker") and time.monotonic() < deadline:
        time.sleep(0.2)  # the job's actors are ended with it
    info = repo.run(run_id)
    assert info.status == "running" and 2 <= info.done_shards < info.shards
    committed = repo.shard_rows(run_id)
    assert all(declared == stored for declared, stored in committed.values())  # whole shards only
    before = repo.all_matches(run_id)

    resumed = _cli(ray_cluster, batch_settings, "rematch", "--ray-address", ray_cluster.address, "--resume", run_id,
                   "--format", "json")
    out, errs = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, errs[-2000:]
    done = json.loads(out)
    assert done["id"] == run_id and done["done_shards"] == done["shards"]
    assert done["stats"]["last_pass_shards"] == info.shards - len(committed)  # committed shards were not redone
    after = repo.all_matches(run_id)
    assert {k: v for k, v in after.items() if k in before} == before
    assert after == expected
