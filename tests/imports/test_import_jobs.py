"""Imports as durable jobs: queued with the file in the job's row, run by a worker with the
synchronous import's all-or-nothing rule, marked done in the very transaction that writes the
records (so a killed worker never leaves a half-written or a twice-written import), and served
over HTTP as 202 + a job URL."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from api.app import create_app
from matcher.core.errors import InvalidInput
from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.fair.jobs import Worker, get_job
from matcher.imports.jobs import HANDLERS, submit_import
from matcher.storage.jobs_repo import Jobs
from matcher.storage.tables import ChangeRow, TalentRow
from matcher.wiring import build_service
from tests.conftest import talent


@pytest.fixture
def svc(db_url, tmp_path, fake_encoder):
    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        database_url=db_url, max_waiting_jobs=5)
    service = build_service(settings, encoder=fake_encoder)
    yield service
    service.close()


def _talents(n: int, bad_rows: tuple[int, ...] = ()) -> bytes:
    lines = []
    for i in range(n):
        row = json.loads(talent(external_id=f"imp-{i}", name=f"导入{i}").model_dump_json(exclude_none=True))
        if i in bad_rows:
            row["education"] = "不存在的学历"
        lines.append(json.dumps(row, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode()


def _count(svc) -> int:
    with svc.store.session() as s:
        return s.scalar(select(func.count()).select_from(TalentRow)) or 0


def _worker(svc) -> Worker:
    return Worker(svc, handlers=HANDLERS)


def test_a_queued_import_is_written_by_a_worker_and_its_file_dropped(svc):
    svc.ensure_index("talent")
    job = submit_import(svc, "talents", "people.jsonl", _talents(5))
    assert job["state"] == "queued" and _count(svc) == 0
    assert Jobs(svc.store).payload(job["id"]) is not None
    assert _worker(svc).run_once()
    done = get_job(svc, job["id"])
    assert done["state"] == "done" and done["progress"] == 1.0, done
    assert done["result"]["imported"] == 5 and len(done["result"]["ids"]) == 5 and done["result"]["errors"] == []
    assert _count(svc) == 5
    status = svc.indexes.status()["talent"]
    assert status["indexed"] == 5 and status["in_step"]  # the worker's own index has them
    assert Jobs(svc.store).payload(job["id"]) is None  # the file goes when the job ends


def test_a_file_with_bad_rows_fails_with_its_row_errors_and_stores_nothing(svc):
    job = submit_import(svc, "talents", "people.jsonl", _talents(6, bad_rows=(2, 4)))
    assert _worker(svc).run_once()
    failed = get_job(svc, job["id"])
    assert failed["state"] == "failed" and "2 处错误" in failed["error"], failed
    assert sorted(e["row"] for e in failed["result"]["errors"]) == [3, 5]  # JSONL lines
    assert all(e["field"] == "education" for e in failed["result"]["errors"])
    assert _count(svc) == 0
    skipping = submit_import(svc, "talents", "people.jsonl", _talents(6, bad_rows=(2, 4)), skip_invalid=True)
    assert _worker(svc).run_once()
    done = get_job(svc, skipping["id"])
    assert done["state"] == "done" and done["result"]["imported"] == 4 and len(done["result"]["errors"]) == 2
    assert _count(svc) == 4


def test_what_cannot_run_is_refused_at_submission(svc):
    with pytest.raises(InvalidInput, match="格式"):
        submit_import(svc, "talents", "people.pdf", b"x")
    with pytest.raises(InvalidInput, match="映射|字段"):
        submit_import(svc, "talents", "p.csv", b"a\n1\n", mapping=b'{"columns": {"a": "no_such_field"}}')
    svc.settings.max_upload_bytes = 10
    with pytest.raises(InvalidInput, match="过大"):
        submit_import(svc, "talents", "p.jsonl", _talents(1))
    assert Jobs(svc.store).depth() == {}


def test_the_job_is_done_in_the_transaction_of_the_write(svc):
    """A worker whose job passed to another (its heartbeat stopped) writes nothing; the job's
    state and the records commit together, so a requeued job never imports twice."""
    job = submit_import(svc, "talents", "people.jsonl", _talents(3))
    jobs = Jobs(svc.store)
    lost = jobs.claim("slow-worker", ("import",))
    with svc.store.engine.begin() as c:  # another worker took it over meanwhile
        c.execute(text("UPDATE jobs SET worker = 'other' WHERE id = :i"), {"i": job["id"]})
    w = _worker(svc)
    w.name = "slow-worker"
    w._run(lost)
    assert _count(svc) == 0
    with svc.store.session() as s:
        assert s.scalar(select(func.count()).select_from(ChangeRow)) == 0
    assert get_job(svc, job["id"])["state"] == "running"  # still the other worker's


def test_the_api_answers_202_with_a_job_url_and_an_embedded_worker_imports(svc):
    key, _ = svc.store.create_key("organiser")
    with TestClient(create_app(svc.settings, svc)) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        r = client.post("/v1/imports/talents", files={"file": ("people.jsonl", _talents(4), "application/jsonl")})
        assert r.status_code == 202, r.text
        url = r.headers["Location"]
        assert url == f"/v1/jobs/{r.json()['id']}"
        deadline = time.monotonic() + 120
        while (body := client.get(url).json())["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert body["state"] == "done" and body["result"]["imported"] == 4, body
        ids = body["result"]["ids"]
        assert client.get(f"/v1/talents/{ids[0]}").status_code == 200
        catalogue = (PROJECT_ROOT / "data/demo/catalogue_zibo_2025.csv").read_bytes()
        mapping = (PROJECT_ROOT / "data/demo/catalogue_zibo_2025.mapping.json").read_bytes()
        r = client.post("/v1/imports/catalogue", data={"region": "淄博", "year": "2025"},
                        files={"file": ("cat.csv", catalogue, "text/csv"),
                               "mapping": ("m.json", mapping, "application/json")})
        assert r.status_code == 202, r.text
        url = r.headers["Location"]
        while (body := client.get(url).json())["state"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert body["state"] == "done", body
        assert body["result_url"].startswith("/v1/catalogues/")
        assert client.get(body["result_url"]).status_code == 200
        bad = client.post("/v1/imports/catalogue", files={"file": ("cat.csv", catalogue, "text/csv")})
        assert bad.status_code == 422 and "地区" in bad.json()["detail"]
        assert client.post("/v1/imports/things", files={"file": ("x.csv", b"a\n", "text/csv")}).status_code == 422
        assert client.post("/v1/imports/talents", files={"file": ("x.pdf", b"a", "application/pdf")}).status_code == 422


def test_kill_9_of_the_worker_mid_import_leaves_nothing_and_the_job_runs_once(tmp_path):
    """A real `talentmatch worker` process killed with SIGKILL while it imports: no record is
    stored, the job is queued again once its heartbeat is stale, and a second worker imports the
    file exactly once."""
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "TALENTMATCH_DATA_DIR": str(tmp_path / "var"), "TALENTMATCH_ENCODER": "fake",
           "TALENTMATCH_JOB_STALE_SECONDS": "2", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake")
    svc = build_service(settings)
    try:
        n = 3000
        job = submit_import(svc, "talents", "people.jsonl", _talents(n))
        cmd = [sys.executable, "-m", "matcher.cli.main", "worker"]
        first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if get_job(svc, job["id"])["state"] != "queued" or first.poll() is not None:
                break
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        killed = get_job(svc, job["id"])
        assert killed["state"] == "running", killed  # killed mid-import
        assert _count(svc) == 0  # nothing of it was written
        time.sleep(2.5)  # the heartbeat goes stale
        done = subprocess.run([*cmd, "--once"], env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        finished = get_job(svc, job["id"])
        assert finished["state"] == "done" and finished["attempts"] == 2, finished
        assert finished["result"]["imported"] == n
        assert _count(svc) == n
    finally:
        svc.close()


def test_a_worker_that_stops_after_the_write_commits_is_not_imported_twice(svc):
    """Killed between the write's commit and marking the job done: the job carries what was
    written (same transaction), so the worker that runs it again finishes without importing."""
    job = submit_import(svc, "talents", "people.jsonl", _talents(4))
    jobs = Jobs(svc.store)
    claimed = jobs.claim("dies-after-commit", ("import",))
    dying = _worker(svc)
    dying.name = "dies-after-commit"
    dying.jobs.finish = lambda *a, **k: True  # it stops before it can finish the job
    HANDLERS["import"](dying, claimed, lambda *_: None)
    assert _count(svc) == 4
    half = get_job(svc, job["id"])
    assert half["state"] == "running" and half["result"]["committed"] and len(half["result"]["ids"]) == 4
    with svc.store.engine.begin() as c:  # its heartbeat stops
        c.execute(text("UPDATE jobs SET heartbeat_at = :t WHERE id = :i"),
                  {"t": "2000-01-01 00:00:00+00:00", "i": job["id"]})
    assert _worker(svc).run_once()
    done = get_job(svc, job["id"])
    assert done["state"] == "done" and done["attempts"] == 2 and done["result"]["ids"] == half["result"]["ids"]
    assert _count(svc) == 4
