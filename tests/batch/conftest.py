"""Batch-job fixtures: a store loaded with part of the demo data, and a real local Ray cluster.

The cluster is started with ``ray start --head --block`` in its own process group (temp dir,
free GCS port, loopback only, a token of its own) and stopped by ending that process group:
only the processes this fixture started, never every Ray process on the machine.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.domain.schemas import DemandEntry, TalentProfile
from tests.live_server import free_port

DEMO = PROJECT_ROOT / "data" / "demo"
RAY = str(Path(sys.executable).with_name("ray"))


def demo_rows(name: str, n: int) -> list[dict]:
    lines = (DEMO / name).read_text(encoding="utf-8").splitlines()[:n]
    return [json.loads(line) for line in lines if line.strip()]


def load_demo_subset(svc, talents: int = 48, demands: int = 30) -> None:
    """The first demo records of each side (their mix of statuses, cities and requirements)."""
    svc.add("demand", [DemandEntry.model_validate({k: v for k, v in r.items() if k != "enterprise_id"})
                       for r in demo_rows("demands.jsonl", demands)])
    svc.add("talent", [TalentProfile.model_validate(r) for r in demo_rows("talents.jsonl", talents)])


@pytest.fixture
def batch_settings(tmp_path: Path) -> Settings:
    """Settings every process (driver, Ray workers, CLI subprocesses) can rebuild: a SQLite file
    and the fake encoder by name."""
    return Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                    encoder_model="64")


@pytest.fixture
def loaded(batch_settings: Settings):
    from matcher.wiring import build_service

    svc = build_service(batch_settings)
    load_demo_subset(svc)
    yield svc
    svc.close()


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a subprocess build the same settings."""
    return {"TALENTMATCH_DATA_DIR": str(settings.data_dir), "TALENTMATCH_REFERENCE_DIR": str(settings.reference_dir),
            "TALENTMATCH_ENCODER": settings.encoder, "TALENTMATCH_ENCODER_MODEL": settings.encoder_model or "",
            "TALENTMATCH_DATABASE_URL": settings.db_url()}


class RayCluster:
    def __init__(self, address: str, env: dict[str, str], proc: subprocess.Popen, temp_dir: Path) -> None:
        self.address = address
        self.env = env  # what a driver needs to join (token, loopback)
        self.proc = proc
        self.temp_dir = temp_dir

    def worker_pids(self, actor_class: str) -> list[int]:
        """Live processes of this cluster running an actor of ``actor_class`` (by process title)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes().decode(errors="replace")
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if cmd.startswith(f"ray::{actor_class}") and str(self.temp_dir).encode() in environ + cmd.encode():
                pids.append(int(entry.name))
        return pids


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayCluster]:
    """A head node with 2 CPUs on loopback, started and stopped by this fixture."""
    temp = tmp_path_factory.mktemp("ray")
    token = temp / "auth_token"
    token.write_text(secrets.token_hex(32))
    ports = {name: free_port() for name in ("gcs", "agent_listen", "agent_grpc", "metrics", "runtime_env",
                                             "dashboard")}
    env = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token),
           "RAY_USAGE_STATS_ENABLED": "0", "TALENTMATCH_TEST_RAY_TMP": str(temp)}
    proc_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"}
    log = (temp / "head.log").open("w")
    proc = subprocess.Popen(
        [RAY, "start", "--head", "--block", "--num-cpus=2", f"--port={ports['gcs']}",
         f"--dashboard-agent-listen-port={ports['agent_listen']}",
         f"--dashboard-agent-grpc-port={ports['agent_grpc']}", f"--metrics-export-port={ports['metrics']}",
         f"--runtime-env-agent-port={ports['runtime_env']}", f"--dashboard-port={ports['dashboard']}",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}",
         "--object-store-memory=150000000"],
        env=proc_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=PROJECT_ROOT)
    address = f"127.0.0.1:{ports['gcs']}"
    deadline = time.monotonic() + 60
    while "Ray runtime started" not in (temp / "head.log").read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            pytest.fail("ray start failed:\n" + (temp / "head.log").read_text(errors="replace")[-3000:])
        time.sleep(0.3)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # this process joins as a driver too
    try:
        yield RayCluster(address, env, proc, temp)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """End the head's process group (ray start and what it started): politely, then for sure."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)
