"""Fair runs as durable jobs: queued in the database, run by a worker, recovered after a worker
stops (queued again, or failed cleanly after too many attempts), capped, and served over HTTP as
202 + a job URL."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from matcher.core.errors import NotFound, QueueFull
from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.fair.engine import FairRunOptions, create_fair, list_runs
from matcher.fair.jobs import Worker, get_job, submit_fair_run
from matcher.storage.jobs_repo import Jobs
from matcher.wiring import build_service
from tests.fair.test_fair import _fair


@pytest.fixture
def svc(db_url, tmp_path, fake_encoder):
    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        database_url=db_url, max_waiting_jobs=3)
    service = build_service(settings, encoder=fake_encoder)
    yield service
    service.close()


def _stop_beating(svc, job_id: int) -> None:
    """What a kill -9 leaves: a running job whose heartbeat is long past."""
    with svc.store.engine.begin() as c:
        c.execute(text("UPDATE jobs SET heartbeat_at = :t WHERE id = :i"),
                  {"t": "2000-01-01 00:00:00+00:00", "i": job_id})


def test_a_queued_run_is_done_by_a_worker(svc):
    fair = create_fair(svc, _fair())
    job = submit_fair_run(svc, fair.id, FairRunOptions(min_score=0), actor=None)
    assert job["state"] == "queued" and list_runs(svc, fair.id) == []
    worker = Worker(svc)
    assert worker.run_once()
    done = get_job(svc, job["id"])
    assert done["state"] == "done" and done["progress"] == 1.0 and done["attempts"] == 1
    [run] = list_runs(svc, fair.id)
    assert done["result"] == {"run_id": run.run_id, "fair_id": fair.id}
    assert not worker.run_once()  # nothing left
    with pytest.raises(NotFound):
        submit_fair_run(svc, 999_999, None)


def test_a_job_of_a_killed_worker_runs_again_and_is_written_once(svc):
    fair = create_fair(svc, _fair())
    job = submit_fair_run(svc, fair.id, FairRunOptions(min_score=0))
    jobs = Jobs(svc.store)
    assert jobs.claim("killed-worker", ("fair_run",))["state"] == "running"
    assert Worker(svc).run_once() is False  # its worker is alive (beating): left alone
    _stop_beating(svc, job["id"])
    assert Worker(svc).run_once()
    again = get_job(svc, job["id"])
    assert again["state"] == "done" and again["attempts"] == 2
    assert len(list_runs(svc, fair.id)) == 1
    assert not jobs.finish(job["id"], "killed-worker", {"run_id": -1})  # the old worker cannot overwrite it


def test_a_job_that_keeps_losing_its_worker_fails_cleanly(svc):
    fair = create_fair(svc, _fair())
    job = submit_fair_run(svc, fair.id, None)
    jobs = Jobs(svc.store)
    for attempt in range(svc.settings.job_max_attempts):
        assert jobs.claim(f"worker-{attempt}", ("fair_run",))["id"] == job["id"]
        _stop_beating(svc, job["id"])
        jobs.recover(svc.settings.job_stale_seconds, svc.settings.job_max_attempts)
    failed = get_job(svc, job["id"])
    assert failed["state"] == "failed" and "中断" in failed["error"]
    assert list_runs(svc, fair.id) == []  # nothing half-written


def test_the_queue_is_capped(svc):
    fair = create_fair(svc, _fair())
    for _ in range(3):
        submit_fair_run(svc, fair.id, None)
    with pytest.raises(QueueFull) as exc:
        submit_fair_run(svc, fair.id, None)
    assert "排队" in exc.value.detail
    assert Jobs(svc.store).depth() == {"queued": 3}


def test_the_api_answers_202_with_a_job_url_and_an_embedded_worker_runs_it(svc):
    fair = create_fair(svc, _fair())
    key, _ = svc.store.create_key("organiser")
    with TestClient(create_app(svc.settings, svc)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        r = client.post(f"/v1/fairs/{fair.id}/jobs", json={"min_score": 0})
        assert r.status_code == 202 and r.json()["state"] in ("queued", "running", "done")
        url = r.headers["Location"]
        assert url == f"/v1/jobs/{r.json()['id']}"
        deadline = time.monotonic() + 120
        while (body := client.get(url).json())["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert body["state"] == "done", body
        assert client.get(body["result_url"]).status_code == 200
        assert client.post("/v1/fairs/999999/jobs").status_code == 404
        assert client.get("/v1/jobs/999999").status_code == 404


def test_kill_9_of_the_worker_mid_run_leaves_the_job_resumable(tmp_path):
    """A real `talentmatch worker` process killed with SIGKILL while it scores: nothing of the run
    is stored, the job is queued again once its heartbeat is stale, and a second worker finishes it
    exactly once."""
    import os
    import signal
    import subprocess
    import sys

    from matcher.fair.engine import FairCreate
    from tests.conftest import demand, talent

    env = {**os.environ, "TALENTMATCH_DATA_DIR": str(tmp_path / "var"), "TALENTMATCH_ENCODER": "fake",
           "TALENTMATCH_JOB_STALE_SECONDS": "2", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake")
    svc = build_service(settings)  # the encoder the worker builds too
    try:
        titles = ["数据分析师", "大数据开发工程师", "PLC电气工程师"]
        fair = create_fair(svc, FairCreate.model_validate({
            "name": "大型对接会",
            "posts": [{"entry": demand(external_id=f"p{i}", title=titles[i % 3]).model_dump(exclude_none=True),
                       "capacity": 3} for i in range(120)],
            "seekers": [{"profile": talent(external_id=f"t{i}", name=f"人{i}").model_dump(exclude_none=True)}
                        for i in range(600)]}))
        job = submit_fair_run(svc, fair.id, FairRunOptions(min_score=0))
        cmd = [sys.executable, "-m", "matcher.cli.main", "worker"]
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            now = get_job(svc, job["id"])
            if now["state"] != "queued" and now["progress"] > 0.05 or first.poll() is not None:
                break
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        killed = get_job(svc, job["id"])
        assert killed["state"] == "running" and 0 < killed["progress"] < 1, killed  # killed mid-run
        assert list_runs(svc, fair.id) == []  # nothing of the run was written
        time.sleep(2.5)  # the heartbeat goes stale
        done = subprocess.run([*cmd, "--once"], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        finished = get_job(svc, job["id"])
        assert finished["state"] == "done" and finished["attempts"] == 2
        assert len(list_runs(svc, fair.id)) == 1
    finally:
        svc.close()
