"""The HTTP API: every route with each role, scoping, masking, audit, limits and problem responses."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from matcher.core.settings import PROJECT_ROOT
from matcher.domain.schemas import Enterprise
from tests.conftest import demand, talent
from tests.live_server import live_server

PROBLEM = "application/problem+json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEMO = PROJECT_ROOT / "data" / "demo"


@dataclass
class Api:
    client: TestClient
    keys: dict[str, str]
    ent: int  # the enterprise of the "enterprise" key
    other_ent: int
    own_demand: int
    other_demand: int
    consenting: int  # talent of the "seeker" key, consented
    private: int  # talent who did not consent

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"} if who in self.keys else {}

    def call(self, who: str, method: str, url: str, **kw) -> httpx.Response:
        headers = {**self.h(who), **kw.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kw)


@pytest.fixture
def api(service, settings):
    yield from make_api(service, settings)


def make_api(service, settings):
    """Two enterprises with an entry each, two talents, a key per role, and a client."""
    store = service.store
    ent = store.add_enterprise(Enterprise(name="淄博测试科技有限公司", city="淄博市"))
    other = store.add_enterprise(Enterprise(name="济南另一家科技有限公司", city="济南市"))
    [d1, d2] = service.add("demand", [
        demand(enterprise_id=ent.id, enterprise_name=None),
        demand(title="PLC电气工程师", required_skills=["PLC编程"], city="济南", enterprise_id=other.id,
               enterprise_name=None),
    ])
    [t1, t2] = service.add("talent", [
        talent(),
        talent(name="李四", phone="139 0000 1111", skills=["PLC编程", "Python"], city="济南", consent=False,
               national_id="370303199001011234"),
    ])
    keys = {
        "admin": store.create_key("admin")[0],
        "organiser": store.create_key("organiser")[0],
        "enterprise": store.create_key("enterprise", enterprise_id=ent.id)[0],
        "other_enterprise": store.create_key("enterprise", enterprise_id=other.id)[0],
        "seeker": store.create_key("seeker", talent_id=t1)[0],
        "other_seeker": store.create_key("seeker", talent_id=t2)[0],
    }
    with TestClient(create_app(settings, service)) as c:
        yield Api(c, keys, ent.id, other.id, d1, d2, t1, t2)


def is_problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["title"] and "detail" in body and body["type"].startswith("https://")
    assert "Traceback" not in r.text and "/work/" not in r.text and "site-packages" not in r.text
    return body


# -- authentication --------------------------------------------------------------------------


def test_health_and_ready_need_no_key(api):
    assert api.client.get("/health").json() == {"status": "ok"}
    r = api.client.get("/ready")
    assert r.status_code == 200 and r.json()["indexes"]["demand"]["in_step"]


def test_a_server_keeps_the_searchable_records_once_started(api, service):
    """The record cache fills in the background after start (``record_cache_warm``): /ready says
    how many records are kept and whether it is still filling; a ranking then reads none."""
    deadline = time.monotonic() + 30
    while (body := api.client.get("/ready").json())["records"]["warming"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert body["records"] == {"kept": 4, "warming": False}  # two entries, two talents
    kept = service.record_cache.snapshot("demand", [api.own_demand, api.other_demand])
    assert set(kept) == {api.own_demand, api.other_demand}
    got = service.candidate_records("demand", [api.own_demand, api.other_demand])
    assert got[api.own_demand] is kept[api.own_demand][1] and got[api.other_demand] is kept[api.other_demand][1]


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-key"},
    {"Authorization": "Bearer tm_AAAAAAAA_" + "B" * 32},  # well formed, unknown
    {"X-API-Key": "tm_short"},
])
def test_missing_or_bad_key_is_401(api, headers):
    r = api.client.get("/v1/demands", headers=headers)
    body = is_problem(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "密钥" in body["detail"]


def test_key_in_x_api_key_header_and_me(api):
    r = api.client.get("/v1/me", headers={"X-API-Key": api.keys["enterprise"]})
    assert r.status_code == 200
    assert r.json() == {"role": "enterprise", "key_id": r.json()["key_id"], "enterprise_id": api.ent,
                        "talent_id": None, "label": ""}


def test_revoked_key_is_401(api):
    r = api.call("admin", "POST", "/v1/keys", json={"role": "organiser", "label": "临时"})
    assert r.status_code == 201
    new = r.json()
    assert new["key"].startswith("tm_") and new["info"]["prefix"] in new["key"]
    assert api.client.get("/v1/me", headers={"Authorization": f"Bearer {new['key']}"}).status_code == 200
    assert api.call("admin", "DELETE", f"/v1/keys/{new['info']['id']}").status_code == 204
    is_problem(api.client.get("/v1/me", headers={"Authorization": f"Bearer {new['key']}"}), 401)
    listed = api.call("admin", "GET", "/v1/keys", params={"include_revoked": True}).json()
    assert any(k["id"] == new["info"]["id"] and k["revoked"] for k in listed)
    assert all("key" not in k and "key_hash" not in k for k in listed)


def test_keys_are_stored_hashed(api, service):
    from sqlalchemy import text

    with service.store.engine.connect() as c:
        stored = [tuple(r) for r in c.execute(text("SELECT prefix, key_hash FROM api_keys"))]
    for key in api.keys.values():
        assert all(key not in (p, h) for p, h in stored)
        assert any(key.split("_")[1] == p for p, _ in stored)


# -- the role matrix: who may call what ---------------------------------------------------------

ALL = ("admin", "organiser", "enterprise", "other_enterprise", "seeker", "other_seeker")


_counter = iter(range(1, 10_000))


def _fresh(api: Api, service, what: str) -> int:
    """A new record for a destructive route, so that every role's call meets the same state."""
    n = next(_counter)
    if what == "demand":
        return service.add("demand", [demand(title=f"临时岗位{n}", enterprise_id=api.ent, enterprise_name=None)])[0]
    if what == "talent":
        return service.add("talent", [talent(name=f"临时{n}")])[0]
    if what == "key":
        return service.store.create_key("seeker")[1]["id"]
    if what == "subscription":
        from matcher.zone.graduates import SubscriptionCreate, create_subscription

        return create_subscription(service, SubscriptionCreate(talent_id=api.consenting, cities=["淄博"])).id
    if what == "fair":
        from matcher.fair.engine import FairCreate, create_fair

        return create_fair(service, FairCreate(name=f"招聘会{n}", posts=[{"demand_id": api.own_demand, "capacity": 2}],
                                               seekers=[{"talent_id": api.consenting}, {"talent_id": api.private}])).id
    if what == "job":
        from matcher.fair.jobs import submit_fair_run

        return submit_fair_run(service, _fresh(api, service, "fair"), None)["id"]
    if what == "fair run":
        from matcher.fair.engine import run_fair

        fair = _fresh(api, service, "fair")
        return fair, run_fair(service, fair).run_id
    if what == "two catalogues":
        from matcher.domain.schemas import Catalogue

        if not service.store.list_catalogues():
            for year, titles in ((2024, ["数据分析师", "PLC电气工程师"]), (2025, ["数据分析师", "工业机器人运维员"])):
                service.import_rows("catalogue", [(i + 2, demand(title=t)) for i, t in enumerate(titles)], [],
                                    catalogue=Catalogue(region="淄博市", year=year, name=f"{year}目录"))
        return 1
    if what == "catalogue":
        from matcher.domain.schemas import Catalogue

        return service.store.add_catalogue(Catalogue(region="淄博市", year=2025, name=f"目录{n}"), [])[0]
    raise AssertionError(what)


def _rematched(service, talent_id: int) -> int:
    """``talent_id``, once a finished batch re-match exists (its stored lists are read)."""
    from matcher.batch.rematch import RematchParams, rematch
    from matcher.storage.batch_repo import BatchRepo

    if BatchRepo(service.store).latest_done() is None:
        rematch(service, RematchParams(top_k=2, pool=2, shard_size=4))
    return talent_id


def _route(api: Api, service, name: str) -> tuple[str, str, dict]:
    """(method, url, request kwargs) of a named call; destructive ones get a fresh record."""
    e, o, d, od, t, pt = api.ent, api.other_ent, api.own_demand, api.other_demand, api.consenting, api.private
    n = next(_counter)
    entry = {"title": "大数据开发工程师", "city": "淄博", "required_skills": ["Python", "Spark"]}
    profile = {"name": f"新人{n}", "skills": ["Python"], "city": "淄博"}
    routes = {
        "health": lambda: ("GET", "/health", {}),
        "ready": lambda: ("GET", "/ready", {}),
        "metrics": lambda: ("GET", "/metrics", {}),
        "me": lambda: ("GET", "/v1/me", {}),
        "create key": lambda: ("POST", "/v1/keys", {"json": {"role": "seeker"}}),
        "list keys": lambda: ("GET", "/v1/keys", {}),
        "revoke key": lambda: ("DELETE", f"/v1/keys/{_fresh(api, service, 'key')}", {}),
        "audit": lambda: ("GET", "/v1/audit", {}),
        "register enterprise": lambda: ("POST", "/v1/enterprises", {"json": {"name": f"新企业{n}"}}),
        "list enterprises": lambda: ("GET", "/v1/enterprises", {}),
        "read enterprise": lambda: ("GET", f"/v1/enterprises/{e}", {}),
        "replace enterprise": lambda: ("PUT", f"/v1/enterprises/{e}",
                                       {"json": {"name": "淄博测试科技有限公司", "city": "淄博市"}}),
        "patch enterprise": lambda: ("PATCH", f"/v1/enterprises/{e}", {"json": {"description": "新简介"}}),
        "create demand": lambda: ("POST", f"/v1/enterprises/{e}/demands", {"json": entry}),
        "list own demands": lambda: ("GET", f"/v1/enterprises/{e}/demands", {}),
        "read own demand": lambda: ("GET", f"/v1/enterprises/{e}/demands/{d}", {}),
        "entry under wrong enterprise": lambda: ("GET", f"/v1/enterprises/{o}/demands/{d}", {}),
        "replace demand": lambda: ("PUT", f"/v1/enterprises/{e}/demands/{d}", {"json": entry}),
        "patch demand": lambda: ("PATCH", f"/v1/enterprises/{e}/demands/{d}", {"json": {"headcount": 3}}),
        "close demand": lambda: ("POST", f"/v1/enterprises/{e}/demands/{_fresh(api, service, 'demand')}/close", {}),
        "delete demand": lambda: ("DELETE", f"/v1/enterprises/{e}/demands/{_fresh(api, service, 'demand')}", {}),
        "public demands": lambda: ("GET", "/v1/demands", {}),
        "public demand": lambda: ("GET", f"/v1/demands/{od}", {}),
        "demand matches": lambda: ("GET", f"/v1/demands/{d}/matches", {}),
        "create talent": lambda: ("POST", "/v1/talents", {"json": profile}),
        "list talents": lambda: ("GET", "/v1/talents", {}),
        "read talent": lambda: ("GET", f"/v1/talents/{t}", {}),
        "replace talent": lambda: ("PUT", f"/v1/talents/{t}", {"json": {"name": "张三", "skills": ["Python", "Spark"],
                                                                        "city": "淄博", "consent": True}}),
        "patch talent": lambda: ("PATCH", f"/v1/talents/{t}", {"json": {"summary": "更新了简介"}}),
        "delete talent": lambda: ("DELETE", f"/v1/talents/{_fresh(api, service, 'talent')}", {}),
        "talent matches": lambda: ("GET", f"/v1/talents/{t}/matches", {}),
        "talent stored matches": lambda: ("GET", f"/v1/talents/{_rematched(service, t)}/matches/precomputed", {}),
        "private talent": lambda: ("GET", f"/v1/talents/{pt}", {}),
        "match text for posts": lambda: ("POST", "/v1/match", {"json": {"text": "熟悉PLC编程", "side": "demands"}}),
        "match text for talents": lambda: ("POST", "/v1/match", {"json": {"text": "熟悉PLC编程", "side": "talents"}}),
        "code occupations": lambda: ("POST", "/v1/occupations/code", {"json": {"texts": ["数据分析师"], "top_k": 2}}),
        "search occupations": lambda: ("GET", "/v1/occupations", {"params": {"q": "人工智能"}}),
        "chains": lambda: ("GET", "/v1/chains", {"params": {"region": "zibo"}}),
        "catalogues": lambda: ("GET", "/v1/catalogues", {}),
        "read catalogue": lambda: ("GET", f"/v1/catalogues/{_fresh(api, service, 'catalogue')}", {}),
        "upload catalogue": lambda: ("POST", "/v1/catalogues", {
            "data": {"region": "淄博市", "year": "2024", "name": f"上传{n}"},
            "files": {"file": ("c.csv", "岗位名称,需求人数\n数据分析师,2\n".encode(), "text/csv")}}),
        "gap report": lambda: ("GET", "/v1/analytics/gap", {"params": {"region": "山东省", "year": 2026,
                                                                         "demand": "posts"}}),
        "gap report page": lambda: ("GET", "/v1/analytics/gap", {"params": {"region": "山东省", "year": 2026,
                                                                              "demand": "posts", "format": "html"}}),
        "gap report status": lambda: _warm_gap(service) and ("GET", "/v1/analytics/gap/status", {
            "params": {"region": "山东省", "year": 2026, "demand": "posts"}}),
        "salary reference": lambda: ("GET", "/v1/analytics/salary", {"params": {"region": "淄博市", "year": 2025}}),
        "compare catalogues": lambda: _fresh(api, service, "two catalogues") and ("GET", "/v1/catalogues/compare",
                                       {"params": {"region": "淄博市", "from": 2024, "to": 2025}}),
        "registries": lambda: ("GET", "/v1/chains/registries", {}),
        "upload registry": lambda: ("POST", "/v1/chains/registries", {
            "data": {"registry": "uploaded", "region": "测试市"},
            "files": {"file": ("测试名录.csv", "编号,名称,关键词\ntest-ai,人工智能,人工智能;大模型\n".encode(),
                               "text/csv")}}),
        "zone": lambda: ("GET", "/v1/zone", {"params": {"city": "淄博"}}),
        "subscribe": lambda: ("POST", "/v1/zone/subscriptions", {"json": {"talent_id": t, "cities": ["淄博"]}}),
        "list subscriptions": lambda: ("GET", "/v1/zone/subscriptions", {}),
        "unsubscribe": lambda: ("DELETE", f"/v1/zone/subscriptions/{_fresh(api, service, 'subscription')}", {}),
        "feed": lambda: ("GET", f"/v1/zone/subscriptions/{_fresh(api, service, 'subscription')}/feed", {}),
        "acknowledge": lambda: ("POST", f"/v1/zone/subscriptions/{_fresh(api, service, 'subscription')}/ack",
                                {"json": {"cursor": 0}}),
        "list fairs": lambda: ("GET", "/v1/fairs", {}),
        "create fair": lambda: ("POST", "/v1/fairs", {"json": {
            "name": f"校园招聘会{n}", "posts": [{"demand_id": d, "capacity": 3}],
            "seekers": [{"talent_id": t}, {"profile": {"name": f"新求职者{n}", "skills": ["Python"]}}]}}),
        "fair template": lambda: ("GET", "/v1/fairs/template", {}),
        "import fair": lambda: ("POST", "/v1/fairs/import", {
            "data": {"name": f"导入的招聘会{n}"},
            "files": {"file": ("fair.xlsx", (PROJECT_ROOT / "data/demo/fair_demo.xlsx").read_bytes(), XLSX)}}),
        "read fair": lambda: ("GET", f"/v1/fairs/{_fresh(api, service, 'fair')}", {}),
        "delete fair": lambda: ("DELETE", f"/v1/fairs/{_fresh(api, service, 'fair')}", {}),
        "run fair": lambda: ("POST", f"/v1/fairs/{_fresh(api, service, 'fair')}/runs", {"json": {"mode": "stable"}}),
        "list runs": lambda: ("GET", f"/v1/fairs/{_fresh(api, service, 'fair')}/runs", {}),
        "submit run job": lambda: ("POST", f"/v1/fairs/{_fresh(api, service, 'fair')}/jobs", {"json": {"mode": "stable"}}),
        "read job": lambda: ("GET", f"/v1/jobs/{_fresh(api, service, 'job')}", {}),
        "submit import job": lambda: ("POST", "/v1/imports/talents", {
            "files": {"file": ("people.jsonl", json.dumps(profile, ensure_ascii=False).encode(), "application/jsonl")}}),
        "read run": lambda: ("GET", "/v1/fairs/{}/runs/{}".format(*_fresh(api, service, "fair run")), {}),
        "export run": lambda: ("GET", "/v1/fairs/{}/runs/{}/export".format(*_fresh(api, service, "fair run")), {}),
        "record outcome": lambda: ("POST", "/v1/outcomes", {"json": {"talent_id": t, "demand_id": d, "kind": "hired"}}),
        "list outcomes": lambda: ("GET", "/v1/outcomes", {}),
    }
    return routes[name]()


# expected status per role, in the order of ALL; every route of the API appears here
MATRIX = {
    "health": (200, 200, 200, 200, 200, 200),
    "metrics": (200, 200, 200, 200, 200, 200),
    "ready": (200, 200, 200, 200, 200, 200),
    "me": (200, 200, 200, 200, 200, 200),
    "create key": (201, 403, 403, 403, 403, 403),
    "list keys": (200, 403, 403, 403, 403, 403),
    "revoke key": (204, 403, 403, 403, 403, 403),
    "audit": (200, 403, 403, 403, 403, 403),
    "register enterprise": (201, 201, 409, 409, 403, 403),
    "list enterprises": (200, 200, 200, 200, 200, 200),
    "read enterprise": (200, 200, 200, 200, 200, 200),
    "replace enterprise": (200, 200, 200, 404, 403, 403),
    "patch enterprise": (200, 200, 200, 404, 403, 403),
    "create demand": (201, 201, 201, 404, 403, 403),
    "list own demands": (200, 200, 200, 404, 403, 403),
    "read own demand": (200, 200, 200, 404, 403, 403),
    "entry under wrong enterprise": (404, 404, 404, 404, 403, 403),
    "replace demand": (200, 200, 200, 404, 403, 403),
    "patch demand": (200, 200, 200, 404, 403, 403),
    "close demand": (200, 200, 200, 404, 403, 403),
    "delete demand": (204, 204, 204, 404, 403, 403),
    "public demands": (200, 200, 200, 200, 200, 200),
    "public demand": (200, 200, 200, 200, 200, 200),
    "demand matches": (200, 200, 200, 404, 403, 403),
    "create talent": (201, 201, 403, 403, 409, 409),
    "list talents": (200, 200, 403, 403, 403, 403),
    "read talent": (200, 200, 200, 200, 200, 404),
    "replace talent": (200, 200, 403, 403, 200, 404),
    "patch talent": (200, 200, 403, 403, 200, 404),
    "delete talent": (204, 204, 403, 403, 404, 404),
    "talent matches": (200, 200, 403, 403, 200, 404),
    "talent stored matches": (200, 200, 403, 403, 200, 404),
    "private talent": (200, 200, 200, 200, 404, 200),
    "match text for posts": (200, 200, 200, 200, 200, 200),
    "match text for talents": (200, 200, 200, 200, 403, 403),
    "code occupations": (200, 200, 200, 200, 200, 200),
    "search occupations": (200, 200, 200, 200, 200, 200),
    "chains": (200, 200, 200, 200, 200, 200),
    "catalogues": (200, 200, 200, 200, 200, 200),
    "read catalogue": (200, 200, 200, 200, 200, 200),
    "upload catalogue": (201, 201, 403, 403, 403, 403),
    "gap report": (200, 200, 403, 403, 403, 403),
    "gap report page": (200, 200, 403, 403, 403, 403),
    "gap report status": (200, 200, 403, 403, 403, 403),
    "salary reference": (200, 200, 200, 200, 200, 200),
    "compare catalogues": (200, 200, 200, 200, 200, 200),
    "registries": (200, 200, 200, 200, 200, 200),
    "upload registry": (201, 201, 403, 403, 403, 403),
    "zone": (200, 200, 200, 200, 200, 200),
    "subscribe": (201, 201, 403, 403, 201, 403),
    "list subscriptions": (200, 200, 403, 403, 200, 200),
    "unsubscribe": (204, 204, 403, 403, 204, 404),
    "feed": (200, 200, 403, 403, 200, 404),
    "acknowledge": (200, 200, 403, 403, 200, 404),
    "list fairs": (200, 200, 403, 403, 403, 403),
    "create fair": (201, 201, 403, 403, 403, 403),
    "fair template": (200, 200, 403, 403, 403, 403),
    "import fair": (201, 201, 403, 403, 403, 403),
    "read fair": (200, 200, 403, 403, 403, 403),
    "delete fair": (204, 204, 403, 403, 403, 403),
    "run fair": (201, 201, 403, 403, 403, 403),
    "submit run job": (202, 202, 403, 403, 403, 403),
    "submit import job": (202, 202, 403, 403, 403, 403),
    "read job": (200, 200, 403, 403, 403, 403),
    "list runs": (200, 200, 403, 403, 403, 403),
    "read run": (200, 200, 403, 403, 403, 403),
    "export run": (200, 200, 403, 403, 403, 403),
    "record outcome": (201, 201, 201, 404, 403, 403),  # hired: a fair's or an enterprise's (own entry) event
    "list outcomes": (200, 200, 200, 200, 200, 200),
}


def _warm_gap(service) -> bool:
    """The report computed first, so that asking its status starts no background computation."""
    from matcher.analytics.gap import GapQuery, gap_report

    return gap_report(service, GapQuery(region="山东省", year=2026, demand="posts")) is not None


def test_matrix_covers_every_operation(api):
    spec = api.client.get("/openapi.json").json()
    operations = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops}
    covered = set()
    for name in MATRIX:
        method, url, _ = _route(api, api.client.app.state.service, name)
        covered |= {(method, p) for p in spec["paths"]
                    if _template_matches(p, url.split("?")[0])}
    assert operations == covered & operations, sorted(operations - covered)


def _template_matches(template: str, url: str) -> bool:
    a, b = template.strip("/").split("/"), url.strip("/").split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_role_matrix(api, service, name):
    for who, expected in zip(ALL, MATRIX[name], strict=True):
        method, url, kw = _route(api, service, name)
        r = api.call(who, method, url, **kw)
        assert r.status_code == expected, f"{name} as {who}: {r.status_code} {r.text[:200]}"
        if expected >= 400:
            is_problem(r, expected)
    # without a key, only the operational routes answer
    method, url, kw = _route(api, service, name)
    r = api.client.request(method, url, **kw)
    assert r.status_code == (200 if name in ("health", "ready", "metrics") else 401)


# -- enterprises and demand entries ---------------------------------------------------------


def test_enterprise_demand_lifecycle(api, service):
    e = api.ent
    r = api.call("enterprise", "POST", f"/v1/enterprises/{e}/demands", json={
        "title": "数据分析师", "city": "淄博", "required_skills": ["SQL", "Python"], "headcount": 2,
        "education": "本科", "salary_min": 8000, "salary_max": 12000, "chain_id": "zb-new-generation-it"
        if "zb-new-generation-it" in service.chains() else None})
    assert r.status_code == 201, r.text
    created = r.json()
    new_id = created["id"]
    assert r.headers["location"] == f"/v1/enterprises/{e}/demands/{new_id}"
    assert created["enterprise_id"] == e and created["source"] == "post" and created["occupation_code"]
    assert service.get("demand", new_id).title == "数据分析师"  # committed before the response

    listed = api.call("enterprise", "GET", f"/v1/enterprises/{e}/demands", params={"page_size": 1}).json()
    assert listed["total"] == 2 and len(listed["items"]) == 1 and listed["page_size"] == 1
    by_code = api.call("enterprise", "GET", f"/v1/enterprises/{e}/demands",
                       params={"occupation": created["occupation_code"]}).json()
    assert new_id in [i["id"] for i in by_code["items"]]
    by_city = api.call("enterprise", "GET", f"/v1/enterprises/{e}/demands", params={"city": "济南"}).json()
    assert by_city["total"] == 0

    r = api.call("enterprise", "PATCH", f"/v1/enterprises/{e}/demands/{new_id}", json={"headcount": 5})
    assert r.status_code == 200 and r.json()["headcount"] == 5 and r.json()["title"] == "数据分析师"
    full = {k: v for k, v in r.json().items() if k not in
            ("id", "enterprise_id", "enterprise_name", "catalogue_id", "occupation_name", "source",
             "occupation_confidence", "chain_suggested", "chain_confidence")}
    full["title"] = "高级数据分析师"
    r = api.call("enterprise", "PUT", f"/v1/enterprises/{e}/demands/{new_id}", json=full)
    assert r.status_code == 200 and r.json()["title"] == "高级数据分析师"

    # closing takes the entry out of matching
    def talent_hits():
        return [m["id"] for m in api.call("admin", "GET", f"/v1/talents/{api.consenting}/matches",
                                                            params={"top_k": 20}).json()]
    assert new_id in talent_hits()
    r = api.call("enterprise", "POST", f"/v1/enterprises/{e}/demands/{new_id}/close")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert new_id not in talent_hits()
    assert api.call("enterprise", "GET", f"/v1/enterprises/{e}/demands",
                    params={"status": "closed"}).json()["total"] == 1
    # a closed entry is no longer public
    is_problem(api.call("seeker", "GET", f"/v1/demands/{new_id}"), 404)
    assert api.call("enterprise", "GET", f"/v1/demands/{new_id}").status_code == 200

    assert api.call("enterprise", "DELETE", f"/v1/enterprises/{e}/demands/{new_id}").status_code == 204
    is_problem(api.call("enterprise", "GET", f"/v1/enterprises/{e}/demands/{new_id}"), 404)
    actions = [(a["action"], a["resource"]) for a in
               api.call("admin", "GET", "/v1/audit", params={"resource_id": str(new_id), "resource": "demand"}
                        ).json()["items"]]
    assert actions == [("delete", "demand"), ("update", "demand"), ("update", "demand"), ("update", "demand"),
                       ("create", "demand")]


def test_another_enterprises_entry_is_404_for_every_verb(api):
    d, e, o = api.other_demand, api.ent, api.other_ent
    for method, url, kw in [
        ("GET", f"/v1/enterprises/{o}/demands/{d}", {}),
        ("PATCH", f"/v1/enterprises/{o}/demands/{d}", {"json": {"headcount": 9}}),
        ("PUT", f"/v1/enterprises/{o}/demands/{d}", {"json": {"title": "改名"}}),
        ("DELETE", f"/v1/enterprises/{o}/demands/{d}", {}),
        ("POST", f"/v1/enterprises/{o}/demands/{d}/close", {}),
        ("GET", f"/v1/enterprises/{e}/demands/{d}", {}),  # own enterprise id, other's entry
        ("DELETE", f"/v1/enterprises/{e}/demands/{d}", {}),
        ("GET", f"/v1/demands/{d}/matches", {}),
        ("POST", f"/v1/enterprises/{o}/demands", {"json": {"title": "冒名发布"}}),
    ]:
        is_problem(api.call("enterprise", method, url, **kw), 404)
    r = api.call("other_enterprise", "GET", f"/v1/enterprises/{o}/demands/{d}")
    assert r.status_code == 200 and r.json()["headcount"] == 1 and r.json()["title"] == "PLC电气工程师"


def test_enterprise_key_registers_its_enterprise_once(api):
    key = api.call("admin", "POST", "/v1/keys", json={"role": "enterprise"}).json()["key"]
    h = {"Authorization": f"Bearer {key}"}
    r = api.client.post("/v1/enterprises", headers=h, json={"name": "新注册数字科技有限公司", "city": "淄博市"})
    assert r.status_code == 201
    eid = r.json()["id"]
    assert api.client.get("/v1/me", headers=h).json()["enterprise_id"] == eid
    is_problem(api.client.post("/v1/enterprises", headers=h, json={"name": "第二家"}), 409)
    r = api.client.post(f"/v1/enterprises/{eid}/demands", headers=h, json={"title": "Java开发工程师"})
    assert r.status_code == 201 and r.json()["enterprise_id"] == eid
    is_problem(api.call("seeker", "POST", "/v1/enterprises", json={"name": "求职者开的公司"}), 403)
    is_problem(api.call("admin", "POST", "/v1/enterprises", json={"name": "淄博测试科技有限公司"}), 409)


# -- talents: own profile, masking, audit ------------------------------------------------------


def test_enterprise_sees_masked_contacts_unless_consented(api):
    r = api.call("enterprise", "GET", f"/v1/talents/{api.private}")
    body = r.json()
    assert body["name"] == "李*" and body["phone"] == "139****1111" and body["contact_visible"] is False
    assert "national_id" not in body
    body = api.call("enterprise", "GET", f"/v1/talents/{api.consenting}").json()
    assert body["name"] == "张三" and body["phone"] == "13812345678" and body["contact_visible"] is True
    staff = api.call("organiser", "GET", f"/v1/talents/{api.private}").json()
    assert staff["name"] == "李四" and "national_id" not in staff
    listed = api.call("admin", "GET", "/v1/talents").json()
    assert listed["total"] == 2 and all("national_id" not in t for t in listed["items"])
    views = api.call("admin", "GET", "/v1/audit", params={"action": "view"}).json()["items"]
    assert {(v["resource_id"], v["detail"]["contact_visible"]) for v in views} == {
        (str(api.private), False), (str(api.consenting), True)}
    assert all(v["actor_role"] == "enterprise" for v in views)


def test_candidate_lists_mask_names_and_are_audited(api):
    r = api.call("other_enterprise", "GET", f"/v1/demands/{api.other_demand}/matches", params={"top_k": 5})
    assert r.status_code == 200
    titles = {m["id"]: m["title"] for m in r.json()}
    assert titles[api.private] == "李*" and titles[api.consenting] == "张三"
    views = api.call("admin", "GET", "/v1/audit", params={"action": "view", "resource": "talent"}).json()
    assert views["total"] == len(titles)
    assert {v["detail"]["demand_id"] for v in views["items"]} == {api.other_demand}
    # staff see names; their reads are not the enterprise views the log is for
    staff = {m["id"]: m["title"] for m in api.call("admin", "GET", f"/v1/demands/{api.other_demand}/matches").json()}
    assert staff[api.private] == "李四"
    free = api.call("enterprise", "POST", "/v1/match", json={"text": "PLC编程 Python", "side": "talents"}).json()
    assert "李四" not in [m["title"] for m in free]


def test_seeker_creates_and_manages_only_their_own_profile(api):
    key = api.call("admin", "POST", "/v1/keys", json={"role": "seeker"}).json()["key"]
    h = {"Authorization": f"Bearer {key}"}
    profile = {"name": "王五", "phone": "13700001234", "education": "本科", "skills": ["Python", "SQL"],
               "city": "淄博", "fresh_graduate": True, "national_id": "370303200201011234"}
    r = api.client.post("/v1/talents", headers=h, json=profile)
    assert r.status_code == 201, r.text
    tid = r.json()["id"]
    assert "national_id" not in r.json() and r.json()["consent"] is False
    assert api.client.get("/v1/me", headers=h).json()["talent_id"] == tid
    is_problem(api.client.post("/v1/talents", headers=h, json=profile), 409)
    r = api.client.patch(f"/v1/talents/{tid}", headers=h, json={"consent": True})
    assert r.status_code == 200 and r.json()["consent"] is True and r.json()["skills"] == ["Python", "SQL"]
    assert api.call("enterprise", "GET", f"/v1/talents/{tid}").json()["name"] == "王五"
    matches = api.client.get(f"/v1/talents/{tid}/matches", headers=h)
    assert matches.status_code == 200 and matches.json()
    is_problem(api.client.get(f"/v1/talents/{api.private}", headers=h), 404)
    is_problem(api.client.delete(f"/v1/talents/{api.private}", headers=h), 404)
    assert api.client.delete(f"/v1/talents/{tid}", headers=h).status_code == 204
    is_problem(api.call("admin", "GET", f"/v1/talents/{tid}"), 404)
    # the key survives, unbound, and may create a profile again
    assert api.client.get("/v1/me", headers=h).json()["talent_id"] is None
    is_problem(api.call("enterprise", "POST", "/v1/talents", json=profile), 403)


def test_free_text_and_unsaved_records(api):
    r = api.call("seeker", "POST", "/v1/match", json={"text": "熟悉PLC编程", "side": "demands", "top_k": 1})
    assert r.status_code == 200 and r.json()[0]["id"] == api.other_demand
    r = api.call("seeker", "POST", "/v1/match", json={"profile": {"skills": ["Python", "Spark"], "city": "淄博",
                                                                  "education": "本科"}})
    assert r.status_code == 200 and r.json()[0]["id"] == api.own_demand
    r = api.call("enterprise", "POST", "/v1/match", json={"entry": {"title": "PLC工程师",
                                                                    "required_skills": ["PLC编程"]}})
    assert r.status_code == 200 and r.json()[0]["id"] == api.private and r.json()[0]["title"] == "李*"
    is_problem(api.call("seeker", "POST", "/v1/match", json={"entry": {"title": "PLC工程师"}}), 403)


def test_matches_both_ways_with_filters(api):
    r = api.call("seeker", "GET", f"/v1/talents/{api.consenting}/matches", params={"top_k": 2})
    body = r.json()
    assert body[0]["id"] == api.own_demand and body[0]["kind"] == "demand"
    assert {"score", "seeker_score", "employer_score", "components", "explanation"} <= set(body[0])
    r = api.call("organiser", "GET", f"/v1/demands/{api.other_demand}/matches", params={"city": "济南"})
    assert [m["id"] for m in r.json()] == [api.private]


def test_occupation_coding(api):
    r = api.call("seeker", "POST", "/v1/occupations/code", json={"texts": ["人工智能工程师"], "top_k": 3})
    [res] = r.json()
    assert res["query"] == "人工智能工程师" and len(res["candidates"]) == 3
    r = api.call("seeker", "GET", "/v1/occupations", params={"q": "人工智能"})
    assert any(o["code"] == "2-02-38-01" for o in r.json())


def test_a_coded_occupation_keeps_its_confidence_and_a_code_sent_is_settled(api, service):
    from matcher.domain.schemas import DemandEntry
    from matcher.retrieval.occupation_coder import stored_confidence

    url = f"/v1/enterprises/{api.ent}/demands"
    body = {"title": "数据标注员", "city": "淄博", "description": "对图像和文本数据进行标注与质检"}
    r = api.call("enterprise", "POST", url, json=body)
    assert r.status_code == 201, r.text
    made = r.json()
    best = service.coder.best(*service.preparer.demand_query(DemandEntry.model_validate(body)))
    assert made["occupation_code"] == best.code and made["occupation_confidence"] == stored_confidence(best)
    assert service.get("demand", made["id"]).occupation_confidence == made["occupation_confidence"]
    # other changes keep the coder's confidence; a code sent is the caller's and stands settled
    r = api.call("enterprise", "PATCH", f"{url}/{made['id']}", json={"headcount": 4})
    assert r.json()["occupation_confidence"] == made["occupation_confidence"]
    full = {k: v for k, v in r.json().items() if k not in
            ("id", "enterprise_id", "enterprise_name", "catalogue_id", "occupation_name", "source",
             "occupation_confidence", "chain_suggested", "chain_confidence")}
    r = api.call("enterprise", "PUT", f"{url}/{made['id']}", json={**full, "headcount": 5})  # read, sent back whole
    assert r.status_code == 200 and r.json()["occupation_confidence"] == made["occupation_confidence"]
    r = api.call("enterprise", "PATCH", f"{url}/{made['id']}", json={"occupation_code": "2-02-10-03"})
    assert r.status_code == 200, r.text
    assert r.json()["occupation_code"] == "2-02-10-03" and r.json()["occupation_confidence"] is None
    # a caller cannot state the confidence itself
    is_problem(api.call("enterprise", "POST", url, json={**body, "occupation_confidence": 0.99}), 422)


# -- catalogues ------------------------------------------------------------------------------


def test_catalogue_upload_with_mapping(api, service):
    before = service.store.count("demand")
    with open(DEMO / "catalogue_zibo_2025.csv", "rb") as f, \
            open(DEMO / "catalogue_zibo_2025.mapping.json", "rb") as m:
        r = api.call("organiser", "POST", "/v1/catalogues",
                     data={"region": "淄博市", "year": "2025", "registry": "zibo", "name": "测试目录"},
                     files={"file": ("目录.csv", f, "text/csv"), "mapping": ("m.json", m, "application/json")})
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["imported"] == report["total_rows"] > 10 and not report["errors"]
    assert service.store.count("demand") == before + report["imported"]
    cat = api.call("seeker", "GET", f"/v1/catalogues/{report['catalogue_id']}").json()
    assert cat["entries"] == report["imported"] and cat["year"] == 2025
    page = api.call("seeker", "GET", "/v1/demands", params={"catalogue_id": report["catalogue_id"],
                                                           "page_size": 200}).json()
    assert page["total"] == report["imported"] and all(e["source"] == "catalogue" for e in page["items"])


def test_catalogue_with_bad_rows_is_rejected_whole(api, service, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("岗位名称,紧缺星级,需求人数\n数据分析师,★★★,2\n,★★,1\nPLC工程师,★★★★,很多\n", encoding="utf-8")
    before = (service.store.count("demand"), len(service.store.list_catalogues()))
    with open(bad, "rb") as f:
        r = api.call("admin", "POST", "/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                     files={"file": ("bad.csv", f, "text/csv")})
    body = is_problem(r, 422)
    assert {e["row"] for e in body["errors"]} == {3, 4}
    assert all(e["reason"] for e in body["errors"])
    assert (service.store.count("demand"), len(service.store.list_catalogues())) == before
    with open(bad, "rb") as f:
        r = api.call("admin", "POST", "/v1/catalogues", data={"region": "淄博市", "year": "2026", "skip_invalid": "true"},
                     files={"file": ("bad.csv", f, "text/csv")})
    assert r.status_code == 201 and r.json()["imported"] == 1 and len(r.json()["errors"]) == 2
    is_problem(api.call("admin", "POST", "/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                        files={"file": ("x.pdf", b"%PDF", "application/pdf")}), 422)
    is_problem(api.call("enterprise", "POST", "/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                        files={"file": ("bad.csv", b"a,b\n", "text/csv")}), 403)


REAL_CATALOGUE = (  # as city catalogues are written: blank "same as above" cells, a note row, chains of its own
    "序号,企业名称,所属产业链,岗位名称,需求人数,年薪均值（万元）\n"
    "1,山东某药业股份有限公司,济宁生物医药产业链,QA专员,2,6.5\n"
    "2,,,QC检验员,3,4.8\n"
    "3,济宁某重工有限公司,济宁高端装备产业链,焊工,10,7\n"
    "备注：年薪为税前，单位万元,,,,,\n"
).encode()


def test_catalogue_upload_creates_its_chains_tells_warnings_and_replaces_only_when_asked(api, service):
    def upload(**flags):
        return api.call("admin", "POST", "/v1/catalogues", data={"region": "济宁", "year": "2026", **flags},
                        files={"file": ("济宁目录.csv", REAL_CATALOGUE, "text/csv")})

    # chains the catalogue names are unknown: refused once per chain, saying how to register them
    body = is_problem(upload(), 422)
    assert {e["field"] for e in body["errors"]} == {"所属产业链"} and "新建目录中的产业链" in body["errors"][0]["reason"]
    assert service.store.list_catalogues() == []
    r = upload(create_chains="true")
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["imported"] == 3 and first["replaced_catalogue_id"] is None
    assert sorted(c["name"] for c in first["created_chains"]) == ["济宁生物医药产业链", "济宁高端装备产业链"]
    assert {c.id for c in service.store.list_chains()} >= {c["id"] for c in first["created_chains"]}
    assert any("同上" in w and "第 3 行" in w for w in first["warnings"])  # the blank cells, filled and told
    assert any("说明" in w and "备注" in w for w in first["warnings"])  # the note under the table
    [cat] = service.store.list_catalogues()
    assert cat["region"] == "济宁市" and cat["entries"] == 3
    # the same catalogue again: 409 with a reason, nothing doubled
    body = is_problem(upload(), 409)
    assert "已导入" in body["detail"] and "替换" in body["detail"] and f"目录编号 {cat['id']}" in body["detail"]
    assert service.store.list_catalogues() == [cat]
    # replaced whole when asked
    r = upload(replace="true")
    assert r.status_code == 201, r.text
    second = r.json()
    assert (second["replaced_catalogue_id"], second["replaced_entries"]) == (cat["id"], 3)
    assert second["created_chains"] == []  # the chains exist now
    [now] = service.store.list_catalogues()
    assert now["entries"] == 3 and now["id"] == second["catalogue_id"]
    assert service.store.count("demand") == 2 + 3  # make_api's two entries and one catalogue
    # an unknown region is a field error, not a catalogue of 火星市
    r = api.call("admin", "POST", "/v1/catalogues", data={"region": "火星市", "year": "2026"},
                 files={"file": ("c.csv", REAL_CATALOGUE, "text/csv")})
    assert is_problem(r, 422)["errors"][0]["field"] == "region"


# -- limits and malformed input ---------------------------------------------------------------


@pytest.mark.parametrize("method, url, kwargs, status", [
    ("GET", "/v1/talents/999/matches", {}, 404),
    ("GET", "/v1/talents/abc/matches", {}, 422),
    ("GET", "/v1/talents/1/matches", {"params": {"top_k": 100000}}, 422),
    ("GET", "/v1/demands", {"params": {"page_size": 1000}}, 422),
    ("GET", "/v1/demands", {"params": {"page": 0}}, 422),
    ("GET", "/v1/demands", {"params": {"chain": "没有这条产业链"}}, 422),
    ("POST", "/v1/match", {"json": {"text": "x", "profile": {}}}, 422),
    ("POST", "/v1/match", {"json": {}}, 422),
    ("POST", "/v1/match", {"json": {"text": "x", "unknown": 1}}, 422),
    ("POST", "/v1/match", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
    ("POST", "/v1/match", {"json": {"text": "x" * 20001}}, 422),
    ("POST", "/v1/occupations/code", {"json": {"texts": []}}, 422),
    ("POST", "/v1/occupations/code", {"json": {"texts": ["x" * 2001]}}, 422),
    ("POST", "/v1/talents", {"json": {"salary_min": 9000, "salary_max": 100}}, 422),
    ("POST", "/v1/talents", {"json": {"education": "小学"}}, 422),
    ("POST", "/v1/talents", {"json": {"skills": "Python"}}, 422),
    ("PATCH", "/v1/talents/1", {"json": {"salary_min": 9000, "salary_max": 100}}, 422),
    ("PATCH", "/v1/talents/1", {"json": {"experience_years": -1}}, 422),
    ("POST", "/v1/enterprises/1/demands", {"json": {"title": ""}}, 422),
    ("POST", "/v1/enterprises/1/demands", {"json": {"title": "x", "occupation_code": "9-99-99-99"}}, 422),
    ("POST", "/v1/enterprises/999/demands", {"json": {"title": "x"}}, 404),
    ("DELETE", "/v1/keys/999", {}, 404),
    ("POST", "/v1/keys", {"json": {"role": "root"}}, 422),
    ("POST", "/v1/keys", {"json": {"role": "seeker", "enterprise_id": 1}}, 422),
    ("POST", "/v1/keys", {"json": {"role": "seeker", "talent_id": 999}}, 404),
    ("PUT", "/v1/demands/1", {"json": {}}, 405),
    ("GET", "/v1/nowhere", {}, 404),
])
def test_problem_responses(api, method, url, kwargs, status):
    body = is_problem(api.call("admin", method, url, **kwargs), status)
    if status == 422 and "errors" in body:
        assert all(e.get("field") or e.get("row") for e in body["errors"])


def test_field_errors_name_the_field(api):
    body = is_problem(api.call("admin", "POST", "/v1/talents", json={"education": "小学", "graduation_year": 1800}), 422)
    assert {e["field"] for e in body["errors"]} == {"education", "graduation_year"}


def test_oversized_body_is_413_and_nothing_is_written(api, service):
    before = service.store.count("talent")
    big = {"name": "大", "summary": "x" * 1_100_000}
    is_problem(api.call("admin", "POST", "/v1/talents", json=big), 413)

    def chunks():  # no Content-Length: the limit applies while the body streams in
        for _ in range(40):
            yield b"x" * 32_768

    r = api.call("admin", "POST", "/v1/talents", content=chunks(), headers={"content-type": "application/json"})
    is_problem(r, 413)
    assert service.store.count("talent") == before


def test_unexpected_error_is_a_bare_500(api, service, monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("secret /work/main/var/talentmatch.db")

    monkeypatch.setattr(service, "match_stored_unrecorded", boom)  # what the route calls
    client = TestClient(api.client.app, raise_server_exceptions=False)
    r = client.get(f"/v1/talents/{api.consenting}/matches", headers=api.h("admin"))
    body = is_problem(r, 500)
    assert "secret" not in r.text and body["detail"] == "服务器内部错误，请稍后重试"


def test_a_ranking_that_would_wait_for_the_indexes_waits_in_a_thread_not_on_the_event_loop(api, service,
                                                                                           monkeypatch):
    """The matches routes rank on the event loop; while a poll holds the indexes (here: this
    thread), the ranking is made in the thread pool instead, and the loop goes on serving."""
    import threading

    real = service.match_stored_unrecorded
    waiting = threading.Event()

    def spy(*args, **kwargs):
        if kwargs.get("wait", True):  # the thread pool's call, which waits for the lock
            waiting.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "match_stored_unrecorded", spy)
    got: dict[str, httpx.Response] = {}
    path = f"/v1/talents/{api.consenting}/matches"
    asker = threading.Thread(target=lambda: got.setdefault("r", api.call("admin", "GET", path)))
    with service.indexes._lock:
        asker.start()
        assert waiting.wait(30), "the ranking was not handed to a thread"
        assert api.client.get("/health").json() == {"status": "ok"}  # the loop is free meanwhile
        assert "r" not in got  # still waiting for the indexes
    asker.join(30)
    assert got["r"].status_code == 200 and got["r"].json()
    assert got["r"].json() == api.call("admin", "GET", path).json()  # as ranked on the loop


def test_without_waiting_a_busy_index_changes_nothing(api, service):
    """``wait=False`` gives WouldBlock before anything is kept: the result cache is untouched."""
    import threading

    from matcher.core.errors import WouldBlock

    service.results.clear()
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with service.indexes._lock:
            held.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        with pytest.raises(WouldBlock):
            service.match_stored_unrecorded("talent", api.consenting, wait=False)
        assert len(service.results._items) == 0
    finally:
        done.set()
        holder.join(30)
    found, record = service.match_stored_unrecorded("talent", api.consenting)  # (the server's poll may hold it)
    assert found and record is None and len(service.results._items) == (1 if service.results.enabled else 0)


def test_openapi_and_docs(api):
    spec = api.client.get("/openapi.json").json()
    assert spec["info"]["title"] == "talentmatch"
    schemes = spec["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schemes)
    assert "national_id" not in spec["components"]["schemas"]["TalentView"]["properties"]
    assert api.client.get("/docs").status_code == 200


# -- a real server ---------------------------------------------------------------------------


def test_real_server_over_http(service, settings):
    """uvicorn on loopback, called over real HTTP: a key, a post, a profile, matches both ways."""
    admin_key, _ = service.store.create_key("admin", label="test")
    with live_server(create_app(settings, service)) as base:
        with httpx.Client(base_url=base, timeout=30) as http:
            assert http.get("/health").json() == {"status": "ok"}
            admin = {"Authorization": f"Bearer {admin_key}"}
            ent_key = http.post("/v1/keys", headers=admin, json={"role": "enterprise"}).json()["key"]
            ent = {"Authorization": f"Bearer {ent_key}"}
            eid = http.post("/v1/enterprises", headers=ent, json={"name": "淄博智造有限公司"}).json()["id"]
            r = http.post(f"/v1/enterprises/{eid}/demands", headers=ent,
                          json={"title": "大数据开发工程师", "required_skills": ["Python", "Spark"], "city": "淄博"})
            assert r.status_code == 201
            did = r.json()["id"]
            seeker_key = http.post("/v1/keys", headers=admin, json={"role": "seeker"}).json()["key"]
            seeker = {"Authorization": f"Bearer {seeker_key}"}
            r = http.post("/v1/talents", headers=seeker,
                          json={"name": "赵六", "skills": ["Python", "Spark"], "city": "淄博", "consent": False})
            tid = r.json()["id"]
            assert http.get(f"/v1/talents/{tid}/matches", headers=seeker).json()[0]["id"] == did
            cands = http.get(f"/v1/demands/{did}/matches", headers=ent).json()
            assert cands[0]["id"] == tid and cands[0]["title"] == "赵*"
            big = http.post("/v1/match", headers={**seeker, "content-type": "application/json"},
                            content=b"{" + b" " * 2_000_000 + b"}")
            assert big.status_code == 413 and big.headers["content-type"].startswith(PROBLEM)
            assert http.get("/openapi.json").json()["info"]["title"] == "talentmatch"


# -- analytics and the graduates' zone ------------------------------------------------------------


def test_gap_report_over_http_is_the_library_report(api, service):
    from matcher.analytics.gap import GapQuery, gap_report

    params = {"region": "山东省", "year": 2026, "demand": "posts", "threshold": 0.3}
    body = api.call("organiser", "GET", "/v1/analytics/gap", params=params).json()
    direct = gap_report(service, GapQuery(region="山东省", year=2026, demand="posts", threshold=0.3))
    expected = direct.model_dump(mode="json")
    body.pop("generated_at", None), expected.pop("generated_at", None)
    assert body == expected
    assert body["overall"]["headcount"] == 2 and 0 <= body["overall"]["fit_rate"] <= 1
    page = api.call("organiser", "GET", "/v1/analytics/gap", params={**params, "format": "html"})
    assert page.headers["content-type"].startswith("text/html") and "适配度" in page.text
    is_problem(api.call("admin", "GET", "/v1/analytics/gap", params={"region": "山东省", "year": 1999}), 422)


def test_seeker_subscription_feed_and_acknowledge(api, service):
    r = api.call("seeker", "POST", "/v1/zone/subscriptions", json={"cities": ["淄博"], "label": "淄博的新岗位"})
    assert r.status_code == 201 and r.json()["talent_id"] == api.consenting
    sub = r.json()["id"]
    assert api.call("seeker", "GET", f"/v1/zone/subscriptions/{sub}/feed").json()["items"] == []
    new = api.call("enterprise", "POST", f"/v1/enterprises/{api.ent}/demands",
                   json={"title": "Python开发工程师", "city": "淄博", "required_skills": ["Python"]}).json()["id"]
    feed = api.call("seeker", "GET", f"/v1/zone/subscriptions/{sub}/feed").json()
    assert [i["id"] for i in feed["items"]] == [new] and feed["cursor"] == new
    # reading does not move the cursor; acknowledging does
    assert [i["id"] for i in api.call("seeker", "GET", f"/v1/zone/subscriptions/{sub}/feed").json()["items"]] == [new]
    assert api.call("seeker", "POST", f"/v1/zone/subscriptions/{sub}/ack", json={"cursor": new}).status_code == 200
    assert api.call("seeker", "GET", f"/v1/zone/subscriptions/{sub}/feed").json()["items"] == []
    assert [s["id"] for s in api.call("seeker", "GET", "/v1/zone/subscriptions").json()] == [sub]
    assert api.call("other_seeker", "GET", "/v1/zone/subscriptions").json() == []
    assert api.call("seeker", "DELETE", f"/v1/zone/subscriptions/{sub}").status_code == 204
    logged, _ = service.store.list_audit(resource="subscription")
    assert [(a["action"], a["actor_role"]) for a in logged] == [("delete", "seeker"), ("create", "seeker")]


# -- job fairs -------------------------------------------------------------------------------------


def test_fair_upload_run_and_export(api, service, tmp_path):
    import io

    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "岗位"
    ws.append(["需求ID", "面试名额", "展位"])
    ws.append([api.own_demand, 2, "A1"])
    ws.append([api.other_demand, 1, "B2"])
    seekers = wb.create_sheet("求职者")
    seekers.append(["人才ID", "面试上限"])
    seekers.append([api.consenting, 2])
    seekers.append([api.private, "很多"])  # a bad cell
    buf = io.BytesIO()
    wb.save(buf)
    before = len(service.store.list_audit(resource="fair")[0])
    r = api.call("organiser", "POST", "/v1/fairs/import", data={"name": "淄博高校招聘会"},
                 files={"file": ("fair.xlsx", buf.getvalue(), XLSX)})
    body = is_problem(r, 422)
    assert [(e["sheet"], e["row"]) for e in body["errors"]] == [("求职者", 3)]
    assert len(service.store.list_audit(resource="fair")[0]) == before  # nothing stored
    seekers.cell(row=3, column=2, value=1)
    buf = io.BytesIO()
    wb.save(buf)
    r = api.call("organiser", "POST", "/v1/fairs/import", data={"name": "淄博高校招聘会"},
                 files={"file": ("fair.xlsx", buf.getvalue(), XLSX)})
    assert r.status_code == 201, r.text
    fair = r.json()["id"]
    r = api.call("organiser", "POST", f"/v1/fairs/{fair}/runs", json={"mode": "optimal", "min_score": 0})
    assert r.status_code == 201
    summary = r.json()
    [run_audit], _ = service.store.list_audit(resource="fair_run")
    assert run_audit["resource_id"] == str(summary["run_id"]) and run_audit["actor_role"] == "organiser"
    full = api.call("organiser", "GET", r.headers["location"]).json()
    assert summary["interviews"] == len(full["assignments"]) > 0
    per_seeker = {}
    for a in full["assignments"]:
        per_seeker[a["talent_id"]] = per_seeker.get(a["talent_id"], 0) + 1
    assert per_seeker.get(api.private, 0) <= 1 and per_seeker.get(api.consenting, 0) <= 2
    x = api.call("organiser", "GET", f"{r.headers['location']}/export", params={"format": "xlsx"})
    assert x.headers["content-type"] == XLSX
    sheets = load_workbook(io.BytesIO(x.content)).sheetnames
    assert {"分配结果", "展位日程", "求职者日程", "汇总"} <= set(sheets)
    z = api.call("organiser", "GET", f"{r.headers['location']}/export", params={"format": "csv"})
    assert z.headers["content-type"] == "application/zip" and z.content[:2] == b"PK"
    is_problem(api.call("organiser", "GET", f"/v1/fairs/{fair + 1000}/runs/{summary['run_id']}"), 404)
