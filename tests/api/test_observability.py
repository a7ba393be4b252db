"""Request ids (echoed, in problem bodies, in log lines), /metrics per route template with index
gauges, and JSON logs that never carry a seeker's personal data."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.observability import JsonFormatter
from tests.conftest import talent

NAME, PHONE, ID_CARD = "欧阳青青", "13977770001", "370303199202024321"


@pytest.fixture
def client(service, settings):
    with TestClient(create_app(settings, service), raise_server_exceptions=False) as c:
        key, _ = service.store.create_key("admin")
        c.headers["Authorization"] = f"Bearer {key}"
        yield c


def test_a_request_id_is_echoed_and_written_in_problems(client):
    r = client.get("/health", headers={"X-Request-ID": "trace-42"})
    assert r.headers["X-Request-ID"] == "trace-42"
    r = client.get("/v1/talents/999999")
    body = r.json()
    assert r.status_code == 404 and body["request_id"] == r.headers["X-Request-ID"]
    assert len(body["request_id"]) == 32  # made up when the caller sent none
    r = client.get("/health", headers={"X-Request-ID": "bad id\twith\"quotes" + "x" * 80})
    assert r.headers["X-Request-ID"] != "bad id" and len(r.headers["X-Request-ID"]) == 32


def test_metrics_per_route_template_and_index_gauges(client, service):
    [tid] = service.add("talent", [talent()])
    for _ in range(3):
        assert client.get(f"/v1/talents/{tid}").status_code == 200
    client.get("/v1/talents/999999")
    text = client.get("/metrics").text
    assert 'talentmatch_http_requests_total{method="GET",route="/v1/talents/{talent_id}",status="200"} 3.0' in text
    assert 'route="/v1/talents/{talent_id}",status="404"} 1.0' in text
    assert f"/v1/talents/{tid}" not in text  # templates, never raw paths
    assert 'talentmatch_index_records{side="talent"} 1.0' in text
    assert 'talentmatch_index_in_step{side="talent"} 1.0' in text
    assert "talentmatch_http_request_duration_seconds_bucket" in text
    assert 'talentmatch_jobs{state="queued"} 0.0' in text
    assert f"talentmatch_encoder_passages_total {float(service.cached.encoded)}" in text
    assert service.cached.encoded >= 1  # the profile added above was encoded


def test_logs_are_json_with_request_ids_and_no_personal_data(client, service, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    r = client.post("/v1/talents", json={"name": NAME, "phone": PHONE, "national_id": ID_CARD,
                                         "skills": ["Python"], "city": "淄博", "consent": True},
                    headers={"X-Request-ID": "create-1"})
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    client.get(f"/v1/talents/{tid}")
    client.patch(f"/v1/talents/{tid}", json={"summary": f"{NAME} 的简介，电话 {PHONE}"})
    client.get("/v1/talents", params={"city": PHONE})
    client.post("/v1/match/text", json={"text": f"{NAME} {PHONE}", "side": "demands"})
    client.post("/v1/talents", json={"name": NAME, "phone": "not-a-phone-" + PHONE})  # 422
    # an unexpected error whose message quotes personal data
    monkeypatch.setattr(service, "get_versioned", lambda *a: (_ for _ in ()).throw(ValueError(f"{NAME} {PHONE}")))
    assert client.get(f"/v1/talents/{tid}", headers={"X-Request-ID": "boom-1"}).status_code == 500

    # the server's log lines (the test client's own httpx lines are not the service's)
    lines = [JsonFormatter().format(rec) for rec in caplog.records if not rec.name.startswith("httpx")]
    for line in lines:
        assert NAME not in line and PHONE not in line and ID_CARD not in line, line
        json.loads(line)
    access = [json.loads(x) for x in lines if '"logger": "talentmatch.access"' in x]
    assert len(access) >= 7 and all(a.get("request_id") and a["http"]["route"] for a in access)
    assert any(a["request_id"] == "create-1" and a["http"] == {**a["http"], "route": "/v1/talents", "status": 201}
               for a in access)
    [boom] = [json.loads(x) for x in lines if '"unhandled' in x]
    assert boom["request_id"] == "boom-1" and boom["error"] == "ValueError" and "trace" in boom
