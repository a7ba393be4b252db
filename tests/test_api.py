"""The HTTP API over the matching core: matches, occupation coding, health, problem responses."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import demand, talent

PROBLEM = "application/problem+json"


@pytest.fixture
def client(service, settings):
    service.add("demand", [demand(), demand(title="PLC电气工程师", required_skills=["PLC编程"], city="济南")])
    service.add("talent", [talent(), talent(name="李四", skills=["PLC编程"], city="济南")])
    with TestClient(create_app(settings, service)) as c:
        yield c


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    r = client.get("/ready")
    assert r.status_code == 200 and r.json()["indexes"]["demand"]["in_step"]


def test_matches_both_ways(client):
    r = client.get("/v1/talents/1/matches", params={"top_k": 2})
    assert r.status_code == 200
    body = r.json()
    assert body[0]["id"] == 1 and body[0]["kind"] == "demand"
    assert {"score", "seeker_score", "employer_score", "components", "explanation"} <= set(body[0])
    r = client.get("/v1/demands/2/matches", params={"city": "济南"})
    assert r.status_code == 200 and [m["id"] for m in r.json()] == [2]


def test_free_text_and_unsaved_records(client):
    r = client.post("/v1/match", json={"text": "熟悉PLC编程", "side": "demands", "top_k": 1})
    assert r.status_code == 200 and r.json()[0]["id"] == 2
    r = client.post("/v1/match", json={"profile": talent().model_dump(mode="json", exclude={"id"}),
                                       "side": "demands"})
    assert r.status_code == 200 and r.json()[0]["id"] == 1
    r = client.post("/v1/match", json={"entry": {"title": "PLC工程师", "required_skills": ["PLC编程"]},
                                       "side": "talents"})
    assert r.status_code == 200 and r.json()[0]["id"] == 2


def test_occupation_coding(client):
    r = client.post("/v1/occupations/code", json={"texts": ["人工智能工程师"], "top_k": 3})
    assert r.status_code == 200
    [res] = r.json()
    assert res["query"] == "人工智能工程师" and len(res["candidates"]) == 3
    r = client.get("/v1/occupations", params={"q": "人工智能"})
    assert any(o["code"] == "2-02-38-01" for o in r.json())


@pytest.mark.parametrize("method, url, kwargs, status", [
    ("get", "/v1/talents/999/matches", {}, 404),
    ("get", "/v1/talents/abc/matches", {}, 422),
    ("get", "/v1/talents/1/matches", {"params": {"top_k": 100000}}, 422),
    ("post", "/v1/match", {"json": {"text": "x", "profile": {}}}, 422),
    ("post", "/v1/match", {"json": {}}, 422),
    ("post", "/v1/match", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422),
    ("post", "/v1/occupations/code", {"json": {"texts": []}}, 422),
    ("get", "/v1/nowhere", {}, 404),
])
def test_problem_responses(client, method, url, kwargs, status):
    r = getattr(client, method)(url, **kwargs)
    assert r.status_code == status
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["title"] and "detail" in body
    assert "Traceback" not in r.text and "/work/" not in r.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_real_server_over_http(service, settings):
    """uvicorn on loopback, called over real HTTP."""
    import uvicorn

    service.add("demand", [demand()])
    service.add("talent", [talent()])
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, service), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            assert http.get("/health").json() == {"status": "ok"}
            r = http.get("/v1/talents/1/matches")
            assert r.status_code == 200 and r.json()[0]["id"] == 1
            assert http.get("/openapi.json").json()["info"]["title"] == "talentmatch"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
