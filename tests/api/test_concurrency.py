"""No lost updates: versions, ETag / If-Match, and two simultaneous PATCHes of one entry over
real HTTP (uvicorn, real threads) on SQLite and PostgreSQL, 100 rounds."""

from __future__ import annotations

import threading

import httpx
import pytest

from api.app import create_app
from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.domain.schemas import Enterprise
from tests.api.test_api import is_problem
from tests.conftest import demand, talent
from tests.live_server import live_server

ROUNDS = 100


@pytest.fixture
def live(db_url, tmp_path, fake_encoder):
    """A real server on loopback over ``db_url``: (base URL, admin headers, service)."""

    from matcher.wiring import build_service

    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        database_url=db_url)
    svc = build_service(settings, encoder=fake_encoder)
    key, _ = svc.store.create_key("admin")
    try:
        with live_server(create_app(settings, svc)) as base:
            yield base, {"Authorization": f"Bearer {key}"}, svc
    finally:
        svc.close()


def _race(base: str, headers: dict, url: str, bodies: list[dict]) -> list[httpx.Response]:
    """Send ``bodies`` as simultaneous PATCHes to ``url``, one real thread and connection each."""
    barrier = threading.Barrier(len(bodies))
    results: list[httpx.Response | None] = [None] * len(bodies)

    def send(i: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            http.get("/health")  # connected before the start line
            barrier.wait()
            results[i] = http.patch(url, json=bodies[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results  # type: ignore[return-value]


def test_two_simultaneous_patches_of_different_fields_are_both_kept(live):
    base, admin, svc = live
    ent = svc.store.add_enterprise(Enterprise(name="淄博并发测试有限公司"))
    [did] = svc.add("demand", [demand(enterprise_id=ent.id, enterprise_name=None, occupation_code="2-02-10-03")])
    [tid] = svc.add("talent", [talent()])
    entry_url = f"/v1/enterprises/{ent.id}/demands/{did}"
    lost = []
    for i in range(ROUNDS):
        if i % 2:  # a talent profile in odd rounds, the demand entry in even ones
            url, bodies = f"/v1/talents/{tid}", [{"summary": f"简介{i}"}, {"experience_years": i % 40}]
        else:
            url, bodies = entry_url, [{"description": f"描述{i}"}, {"salary_min": 1000 + i}]
        responses = _race(base, admin, url, bodies)
        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        with httpx.Client(base_url=base, headers=admin) as http:
            stored = http.get(url).json()
        if any(stored[k] != v for body in bodies for k, v in body.items()):
            lost.append((i, stored))
    assert lost == [], f"{len(lost)}/{ROUNDS} rounds lost a change"
    _, version = svc.get_versioned("demand", did)
    assert version == 1 + ROUNDS  # every change counted, none twice


def test_etag_and_if_match(live):
    base, admin, svc = live
    [tid] = svc.add("talent", [talent()])
    with httpx.Client(base_url=base, headers=admin) as http:
        r = http.get(f"/v1/talents/{tid}")
        assert r.headers["ETag"] == '"1"'
        r = http.patch(f"/v1/talents/{tid}", json={"city": "济南"}, headers={"If-Match": '"1"'})
        assert r.status_code == 200 and r.headers["ETag"] == '"2"'
        stale = http.patch(f"/v1/talents/{tid}", json={"city": "青岛"}, headers={"If-Match": '"1"'})
        body = is_problem(stale, 412)
        assert "已被他人修改" in body["detail"]
        assert is_problem(http.put(f"/v1/talents/{tid}", json={"name": "王五"}, headers={"If-Match": "abc"}),
                          412)
        assert http.get(f"/v1/talents/{tid}").json()["city"] == "济南市"  # neither refused write landed
        assert http.patch(f"/v1/talents/{tid}", json={"city": "青岛"}, headers={"If-Match": "*"}).status_code == 200
        r = http.get(f"/v1/talents/{tid}")
        assert r.headers["ETag"] == '"3"'
        ent = http.post("/v1/enterprises", json={"name": "甲公司"}).json()
        r = http.get(f"/v1/enterprises/{ent['id']}")
        assert r.headers["ETag"] == '"1"'
        assert http.patch(f"/v1/enterprises/{ent['id']}", json={"city": "淄博市"},
                          headers={"If-Match": '"1"'}).headers["ETag"] == '"2"'
        is_problem(http.patch(f"/v1/enterprises/{ent['id']}", json={"city": "济南市"},
                              headers={"If-Match": '"1"'}), 412)
        assert http.get(f"/v1/enterprises/{ent['id']}").json()["city"] == "淄博市"


def test_two_simultaneous_enterprise_patches_are_both_kept(live):
    base, admin, svc = live
    ent = svc.store.add_enterprise(Enterprise(name="乙公司"))
    for i in range(20):
        bodies = [{"description": f"介绍{i}"}, {"city": "淄博市" if i % 2 else "济南市"}]
        responses = _race(base, admin, f"/v1/enterprises/{ent.id}", bodies)
        assert [r.status_code for r in responses] == [200, 200]
        got = svc.enterprises.get(ent.id)
        assert (got.description, got.city) == (bodies[0]["description"], bodies[1]["city"])
