"""The gap report over HTTP without waiting: Prefer: respond-async answers 202 with the status
URL, the status tells the progress, the report is then served at once. No timing is asserted."""

from __future__ import annotations

import threading

import pytest

from matcher.analytics.cache import report_cache
from tests.api.test_api import is_problem, make_api
from tests.gap_hold import WAIT, hold_gap_reports

PARAMS = {"region": "山东省", "year": 2026, "demand": "posts", "threshold": 0.3}
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture
def api(service, settings):
    yield from make_api(service, settings)
    for build in report_cache(service).running():
        build.done.wait(WAIT)


@pytest.fixture
def held(monkeypatch):
    yield from hold_gap_reports(monkeypatch, 0.3, "人岗评分：1/2 条需求")


def test_respond_async_gives_202_then_the_status_then_the_report(api, service, held):
    started, release, calls = held
    r = api.call("organiser", "GET", "/v1/analytics/gap", params=PARAMS, headers=ASYNC)
    assert r.status_code == 202 and r.headers["Preference-Applied"] == "respond-async"
    assert r.headers["Retry-After"] == "2"
    location = r.headers["Location"]
    assert location.startswith("/v1/analytics/gap/status?") and "region=" in location and "format" not in location
    assert r.json()["state"] in ("queued", "running") and r.json()["status_url"] == location
    assert started.wait(WAIT)
    status = api.call("organiser", "GET", location)
    assert status.status_code == 200 and status.json()["state"] == "running"
    assert status.json()["progress"] == 0.3 and status.json()["stage"] == "人岗评分：1/2 条需求"
    # another client asking the blocking way meanwhile waits for the same computation
    got = []
    waiter = threading.Thread(target=lambda: got.append(api.call("admin", "GET", "/v1/analytics/gap", params=PARAMS)))
    waiter.start()
    release.set()
    waiter.join(WAIT)
    assert got[0].status_code == 200
    done = api.call("organiser", "GET", location).json()
    assert done["state"] == "done" and done["progress"] == 1.0
    report = api.call("organiser", "GET", done["report_url"], headers=ASYNC)
    assert report.status_code == 200 and report.json()["overall"]["headcount"] == 2
    assert report.json() == got[0].json()
    assert calls == ["山东省"]
    page = api.call("organiser", "GET", "/v1/analytics/gap", params={**PARAMS, "format": "html"}, headers=ASYNC)
    assert page.status_code == 200 and "适配度" in page.text


def test_async_errors_are_problems(api, service):
    r = api.call("organiser", "GET", "/v1/analytics/gap/status", params={"region": "淄博市", "year": 2031})
    for build in report_cache(service).running():
        build.done.wait(WAIT)
    r = api.call("organiser", "GET", "/v1/analytics/gap/status", params={"region": "淄博市", "year": 2031})
    is_problem(r, 404)
    is_problem(api.call("organiser", "GET", "/v1/analytics/gap/status", params={"region": "火星市", "year": 2026}), 422)
    assert api.call("seeker", "GET", "/v1/analytics/gap/status", params=PARAMS).status_code == 403


def test_the_openapi_documents_both_ways(api):
    spec = api.call("admin", "GET", "/openapi.json").json()
    op = spec["paths"]["/v1/analytics/gap"]["get"]
    assert "202" in op["responses"] and "respond-async" in op["description"]
    assert any(p["name"] == "prefer" and p["in"] == "header" for p in op["parameters"])
    assert "/v1/analytics/gap/status" in spec["paths"]
