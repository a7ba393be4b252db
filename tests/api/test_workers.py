"""`talentmatch serve --workers 2`: two processes behind one port, each with its own indexes and
caches, serve the same lists; a write taken by either reaches the other through the change log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.storage.store import Store
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def _until(cond, seconds: float = 90.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


@pytest.fixture
def two_workers(tmp_path):
    data = tmp_path / "var"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TALENTMATCH_DATA_DIR": str(data), "TALENTMATCH_ENCODER": "fake",
           "TALENTMATCH_ENCODER_MODEL": "128", "TALENTMATCH_INDEX_POLL_SECONDS": "0.2", "HF_HUB_OFFLINE": "1"}
    for k in ("TALENTMATCH_DATABASE_URL", "TALENTMATCH_URL", "TALENTMATCH_API_KEY"):
        env.pop(k, None)
    store = Store(Settings(data_dir=data, reference_dir=PROJECT_ROOT / "data").db_url())
    key, _ = store.create_key("admin", label="workers test")
    store.close()
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "matcher.cli", "serve", "--port", str(port), "--workers", "2"],
                            cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        assert _until(lambda: _ready(url), 180), (tmp_path / "serve.log").read_text(errors="replace")[-2000:]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            yield client, proc
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _children(pid: int) -> set[int]:
    out = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = task / "children"
        if children.exists():
            out |= {int(c) for c in children.read_text().split()}
    return out


def test_two_workers_serve_the_same_lists_and_each_others_writes(two_workers):
    client, proc = two_workers
    assert len(_children(proc.pid)) >= 2  # uvicorn's supervisor and its two worker processes
    r = client.post("/v1/talents", json={"name": "张三", "skills": ["Python", "Spark"], "city": "淄博",
                                         "education": "本科", "consent": True})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    r = client.post("/v1/enterprises", json={"name": "淄博测试科技有限公司", "city": "淄博"})
    assert r.status_code == 201, r.text
    eid = r.json()["id"]
    posted = []
    for title, skills in (("大数据开发工程师", ["Python", "Spark", "Hive"]), ("数据分析师", ["Python", "SQL"])):
        r = client.post(f"/v1/enterprises/{eid}/demands", json={"title": title, "city": "淄博",
                                                                "required_skills": skills, "education": "本科"})
        assert r.status_code == 201, r.text
        posted.append(r.json()["id"])

    def lists() -> list[list[int]]:  # new connections: the kernel spreads them over both workers
        out = []
        for _ in range(12):
            with httpx.Client(base_url=str(client.base_url), headers=client.headers, timeout=60) as c:
                r = c.get(f"/v1/talents/{tid}/matches?top_k=5")
                assert r.status_code == 200, r.text
                out.append([m["id"] for m in r.json()])
        return out

    # whichever worker took each write, every worker serves both posts (and the same list) once
    # it has applied the change log
    assert _until(lambda: all(set(posted) <= set(ids) for ids in lists()))
    seen = lists()
    assert all(ids == seen[0] for ids in seen)
    # a post closed through one worker leaves every worker's list
    r = client.post(f"/v1/enterprises/{eid}/demands/{posted[0]}/close")
    assert r.status_code == 200, r.text
    assert _until(lambda: all(posted[0] not in ids for ids in lists()))
