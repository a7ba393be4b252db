"""Hostile input through the HTTP API (security issue 11): claimed external ids, over-long list
items and strings, booleans and floats where an id or a count belongs.

Each test reproduces an attack or a leak that used to work; it fails if the hole comes back.
"""

from __future__ import annotations

import re

import pytest

from matcher.domain.auth import Principal, Role
from tests.api.test_api import Api, is_problem, make_api
from tests.conftest import talent

LEAKS = ("UNIQUE", "constraint", "IntegrityError", "duplicate key", "talents.", "demand_entries.", "DETAIL:",
         "psycopg", "sqlite")


@pytest.fixture
def api(service, settings):
    yield from make_api(service, settings)


def _no_leak(text: str) -> None:
    for word in LEAKS:
        assert word.lower() not in text.lower(), f"response leaks {word!r}: {text[:300]}"


def _new_key(api: Api, role: str) -> dict[str, str]:
    r = api.call("admin", "POST", "/v1/keys", json={"role": role})
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


def _field_error(body: dict, field: str) -> dict:
    hits = [e for e in body.get("errors", []) if e.get("field") == field]
    assert hits, f"no error for {field}: {body}"
    return hits[0]


# -- 1. external ids belong to whoever creates the record ---------------------------------------------


def test_seeker_cannot_set_an_external_id_on_create(api, service):
    seeker = _new_key(api, "seeker")
    before = service.store.count("talent")
    r = api.client.post("/v1/talents", headers=seeker,
                        json={"name": "求职者甲", "skills": ["Python"], "external_id": "ZB-2026-001"})
    err = _field_error(is_problem(r, 422), "external_id")
    assert "管理员" in err["reason"] or "组织方" in err["reason"]
    assert service.store.count("talent") == before


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_seeker_cannot_set_or_change_their_external_id(api, service, method):
    body = {"name": "张三", "skills": ["Python"], "external_id": "ZB-2026-001"}
    r = api.call("seeker", method, f"/v1/talents/{api.consenting}", json=body)
    _field_error(is_problem(r, 422), "external_id")
    assert service.get("talent", api.consenting).external_id is None
    # staff set one; the seeker may send it back unchanged (GET -> PUT), or leave it out, but not change it
    assert api.call("organiser", "PATCH", f"/v1/talents/{api.consenting}",
                    json={"external_id": "BUREAU-7"}).status_code == 200
    r = api.call("seeker", method, f"/v1/talents/{api.consenting}", json={**body, "external_id": "BUREAU-7"})
    assert r.status_code == 200, r.text
    r = api.call("seeker", method, f"/v1/talents/{api.consenting}", json={k: v for k, v in body.items()
                                                                          if k != "external_id"})
    assert r.status_code == 200 and r.json()["external_id"] == "BUREAU-7"  # a PUT keeps it too
    r = api.call("seeker", method, f"/v1/talents/{api.consenting}", json={**body, "external_id": None})
    _field_error(is_problem(r, 422), "external_id")
    assert service.get("talent", api.consenting).external_id == "BUREAU-7"


def test_enterprise_cannot_set_an_external_id(api, service):
    e, d = api.ent, api.own_demand
    r = api.call("enterprise", "POST", f"/v1/enterprises/{e}/demands",
                 json={"title": "数据分析师", "external_id": "P-1"})
    _field_error(is_problem(r, 422), "external_id")
    r = api.call("enterprise", "PATCH", f"/v1/enterprises/{e}/demands/{d}", json={"external_id": "P-1"})
    _field_error(is_problem(r, 422), "external_id")
    current = api.call("enterprise", "GET", f"/v1/enterprises/{e}/demands/{d}").json()
    full = {k: v for k, v in current.items() if k not in
            ("id", "enterprise_id", "enterprise_name", "catalogue_id", "occupation_name", "source",
             "occupation_confidence", "chain_suggested", "chain_confidence")}
    assert api.call("enterprise", "PUT", f"/v1/enterprises/{e}/demands/{d}", json=full).status_code == 200
    r = api.call("enterprise", "PUT", f"/v1/enterprises/{e}/demands/{d}", json={**full, "external_id": "P-1"})
    _field_error(is_problem(r, 422), "external_id")
    # staff may
    r = api.call("organiser", "PATCH", f"/v1/enterprises/{e}/demands/{d}", json={"external_id": "P-1"})
    assert r.status_code == 200 and r.json()["external_id"] == "P-1"
    r = api.call("admin", "POST", "/v1/talents", json={"name": "李雷", "external_id": "ZB-2026-009"})
    assert r.status_code == 201 and r.json()["external_id"] == "ZB-2026-009"


def test_a_claimed_external_id_is_not_reused_by_a_fair(api, service):
    """A seeker set their external id to the one an organiser later used for a new seeker (before
    the API refused it; such rows stay in old databases): the fair must create the new person."""
    seeker = Principal(role=Role.SEEKER, key_id=999, talent_id=None, label="自助注册")
    [claimed] = service.add("talent", [talent(name="冒用者", phone="13700000000", external_id="ZB-2026-001")],
                            actor=seeker)
    r = api.call("organiser", "POST", "/v1/fairs", json={
        "name": "淄博高校专场",
        "posts": [{"demand_id": api.own_demand, "capacity": 2}],
        "seekers": [{"external_id": "ZB-2026-001",
                     "profile": {"name": "王五", "phone": "13900000000", "skills": ["Python", "Spark"]}}]})
    assert r.status_code == 201, r.text
    fair = r.json()
    assert fair["created"]["new_seekers"] == 1 and fair["created"]["reused_seekers"] == 0
    [s] = fair["seekers"]
    assert s["talent_id"] != claimed and s["name"] == "王五"
    _no_leak(r.text)
    assert service.get("talent", claimed).name == "冒用者"  # the claimant's own profile is untouched
    # an external id alone (no profile columns) finds the organiser's record, not the claimed one
    r = api.call("admin", "POST", "/v1/fairs", json={
        "name": "第三场", "posts": [{"demand_id": api.own_demand}],
        "seekers": [{"external_id": "ZB-2026-001"}]})
    assert r.status_code == 201 and r.json()["seekers"][0]["talent_id"] == s["talent_id"]


def test_a_match_that_would_merge_two_people_is_reported(api, service):
    r = api.call("organiser", "POST", "/v1/talents",
                 json={"name": "赵六", "phone": "13811112222", "skills": ["PLC编程"], "external_id": "ZB-2026-002"})
    assert r.status_code == 201
    stored = r.json()["id"]
    r = api.call("organiser", "POST", "/v1/fairs", json={
        "name": "合并检查", "posts": [{"demand_id": api.own_demand}],
        "seekers": [{"external_id": "ZB-2026-002",
                     "profile": {"name": "钱七", "phone": "13933334444", "skills": ["Python"]}}]})
    assert r.status_code == 201, r.text
    fair = r.json()
    assert fair["seekers"][0]["talent_id"] == stored
    merged = [w for w in fair["warnings"] if "ZB-2026-002" in w]
    assert merged and "姓名" in merged[0] and "电话" in merged[0], fair["warnings"]
    assert "赵六" not in merged[0] and "13811112222" not in merged[0]  # the stored data is not echoed


def test_conflicts_do_not_reveal_database_internals(api, service):
    body = {"name": "韩梅梅", "external_id": "ZB-DUP-1"}
    assert api.call("organiser", "POST", "/v1/talents", json=body).status_code == 201
    r = api.call("organiser", "POST", "/v1/talents", json={**body, "name": "另一人"})
    problem = is_problem(r, 409)
    _no_leak(r.text)
    assert "ZB-DUP-1" in problem["detail"] and "另一人" not in r.text and "韩梅梅" not in r.text
    t = api.call("organiser", "POST", "/v1/talents", json={"name": "第三人"}).json()["id"]
    r = api.call("organiser", "PATCH", f"/v1/talents/{t}", json={"external_id": "ZB-DUP-1"})
    is_problem(r, 409)
    _no_leak(r.text)
    e, d = api.ent, api.own_demand
    assert api.call("admin", "PATCH", f"/v1/enterprises/{e}/demands/{d}", json={"external_id": "D-DUP"}).status_code == 200
    r = api.call("admin", "POST", f"/v1/enterprises/{e}/demands", json={"title": "测试岗位", "external_id": "D-DUP"})
    is_problem(r, 409)
    _no_leak(r.text)


def test_catalogue_rows_with_taken_external_ids_are_row_errors(api, service):
    csv = "编号,岗位名称,需求人数\nC-1,数据分析师,2\nC-2,PLC工程师,1\nC-1,运维工程师,1\n".encode()
    r = api.call("admin", "POST", "/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                 files={"file": ("c.csv", csv, "text/csv")})
    body = is_problem(r, 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(4, "编号")]
    _no_leak(r.text)
    r = api.call("admin", "POST", "/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                 files={"file": ("c.csv", csv.replace(b"C-1,\xe8\xbf\x90", b"C-3,\xe8\xbf\x90"), "text/csv")})
    assert r.status_code == 201, r.text
    r = api.call("admin", "POST", "/v1/catalogues", data={"region": "淄博市", "year": "2027"},
                 files={"file": ("c.csv", "编号,岗位名称\nC-2,数据工程师\n".encode(), "text/csv")})
    body = is_problem(r, 422)
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(2, "编号")]
    _no_leak(r.text)


# -- 2. a length limit on every string and every list item ---------------------------------------------


def test_a_huge_skill_is_refused(api, service):
    seeker = _new_key(api, "seeker")
    before = service.store.count("talent")
    r = api.client.post("/v1/talents", headers=seeker, json={"name": "甲", "skills": ["Python", "技" * 300_000]})
    err = _field_error(is_problem(r, 422), "skills.1")
    assert "过长" in err["reason"]
    assert service.store.count("talent") == before
    assert len(r.content) < 5_000  # the value is not echoed back


@pytest.mark.parametrize("body, field", [
    ({"profile": {"name": "甲", "skills": ["数" * 60_000]}}, "profile.skills.0"),
    ({"profile": {"name": "甲", "summary": "数" * 60_000}}, "profile.summary"),
    ({"entry": {"title": "岗位", "required_skills": ["x" * 51]}}, "entry.required_skills.0"),
    ({"entry": {"title": "岗位", "majors": ["x" * 51]}}, "entry.majors.0"),
    ({"text": "熟悉PLC编程" * 2_000}, "text"),
    ({"text": "PLC", "filters": {"city": "淄" * 1_000}}, "filters.city"),
])
def test_match_refuses_oversized_input(api, body, field):
    r = api.call("seeker", "POST", "/v1/match", json=body)
    _field_error(is_problem(r, 422), field)


@pytest.mark.parametrize("method, url, body, field", [
    ("POST", "/v1/talents", {"name": "甲", "certificates": ["证" * 51]}, "certificates.0"),
    ("POST", "/v1/talents", {"name": "甲", "preferred_cities": ["城" * 51]}, "preferred_cities.0"),
    ("POST", "/v1/talents", {"name": "甲", "desired_occupations": ["职" * 51]}, "desired_occupations.0"),
    ("POST", "/v1/talents", {"name": "甲", "summary": "简" * 5_001}, "summary"),
    ("POST", "/v1/enterprises", {"name": "企业", "description": "简" * 5_001}, "description"),
    ("POST", "/v1/enterprises/1/demands", {"title": "岗" * 201}, "title"),
    ("POST", "/v1/enterprises/1/demands", {"title": "岗", "preferred_skills": ["技" * 51]}, "preferred_skills.0"),
    ("POST", "/v1/enterprises/1/demands", {"title": "岗", "description": "简" * 5_001}, "description"),
    ("POST", "/v1/occupations/code", {"texts": ["数据" * 1_001]}, "texts.0"),
    ("POST", "/v1/zone/subscriptions", {"talent_id": 1, "cities": ["城" * 51]}, "cities.0"),
    ("POST", "/v1/fairs", {"name": "会", "posts": [{"demand_id": 1, "booth": "展" * 51}],
                           "seekers": [{"talent_id": 1}]}, "posts.0.booth"),
    ("POST", "/v1/fairs", {"name": "会", "posts": [{"demand_id": 1}], "seekers": [{"talent_id": 1}],
                           "slots": [{"start": "9" * 100_000}]}, "slots.0.start"),
])
def test_every_oversized_field_is_a_field_error(api, method, url, body, field):
    r = api.call("admin", method, url, json=body)
    _field_error(is_problem(r, 422), field)
    assert len(r.content) < 5_000


def _walk(schema: dict, spec: dict, where: str, seen: set[str]):
    """(where, schema) of every string and array in a request schema, following $refs."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        yield from _walk(spec["components"]["schemas"][name], spec, f"{where}<{name}>", seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _walk(sub, spec, where, seen)
    if schema.get("type") == "string":
        yield where, schema
    if schema.get("type") == "array":
        yield where, schema
        yield from _walk(schema.get("items", {}), spec, f"{where}[]", seen)
    for name, sub in schema.get("properties", {}).items():
        yield from _walk(sub, spec, f"{where}.{name}", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk(schema["additionalProperties"], spec, f"{where}{{}}", seen)


def test_every_input_string_and_list_is_bounded(api):
    """Every string (parameter, JSON or form field) has a maximum length unless it is an enum, a
    date or an uploaded file (bounded by the upload limit), and every list a maximum number of
    items, in the OpenAPI document."""
    spec = api.client.get("/openapi.json").json()
    unbounded = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            found = [(f"{method.upper()} {path} {p['in']}:{p['name']}", s)
                     for p in op.get("parameters", []) for s in [p.get("schema", {})]
                     for _, s in _walk(s, spec, "", set())]
            for media in op.get("requestBody", {}).get("content", {}).values():
                found += [(f"{method.upper()} {path} body{w}", s)
                          for w, s in _walk(media["schema"], spec, "", set())]
            for where, s in found:
                if s.get("type") == "array":
                    if "maxItems" not in s:
                        unbounded.append(where)
                elif "enum" not in s and "const" not in s and "contentMediaType" not in s and s.get(
                        "format") not in ("date", "date-time", "binary") and "maxLength" not in s:
                    unbounded.append(where)
    assert not unbounded, "\n".join(sorted(set(unbounded)))


def test_import_reports_overlong_cells_in_chinese(api, service):
    csv = ("岗位名称,技能要求,需求人数\n数据分析师,SQL,2\n" + "岗" * 201 + ",SQL,1\n数据工程师,"
           + "技" * 51 + "、Python,1\n").encode()
    r = api.call("admin", "POST", "/v1/catalogues", data={"region": "淄博市", "year": "2026"},
                 files={"file": ("c.csv", csv, "text/csv")})
    body = is_problem(r, 422)
    got = {(e["row"], e["field"]): e["reason"] for e in body["errors"]}
    assert set(got) == {(3, "岗位名称"), (4, "技能要求")}
    assert all(re.search(r"过长（最多 \d+ 个字符）", reason) for reason in got.values()), got


# -- 3. strict types: a boolean or a float is not an id or a count ---------------------------------------


@pytest.mark.parametrize("body, field", [
    ({"text": "PLC", "top_k": True}, "top_k"),
    ({"text": "PLC", "top_k": 2.0}, "top_k"),
    ({"text": "PLC", "top_k": "3"}, "top_k"),
])
def test_top_k_in_a_body_must_be_an_integer(api, body, field):
    _field_error(is_problem(api.call("seeker", "POST", "/v1/match", json=body), 422), field)


@pytest.mark.parametrize("method, url, body, field", [
    ("POST", "/v1/occupations/code", {"texts": ["数据分析师"], "top_k": True}, "top_k"),
    ("POST", "/v1/keys", {"role": "seeker", "talent_id": True}, "talent_id"),
    ("POST", "/v1/keys", {"role": "enterprise", "enterprise_id": 1.0}, "enterprise_id"),
    ("POST", "/v1/zone/subscriptions", {"talent_id": True, "cities": ["淄博"]}, "talent_id"),
    ("POST", "/v1/fairs", {"name": "会", "posts": [{"demand_id": True}], "seekers": [{"talent_id": 1}]},
     "posts.0.demand_id"),
    ("POST", "/v1/fairs", {"name": "会", "posts": [{"demand_id": 1}], "seekers": [{"talent_id": 1.0}]},
     "seekers.0.talent_id"),
])
def test_ids_in_a_body_must_be_integers(api, method, url, body, field):
    _field_error(is_problem(api.call("admin", method, url, json=body), 422), field)


def test_a_float_or_boolean_id_in_the_path_is_refused(api):
    r = api.call("admin", "GET", f"/v1/talents/{api.consenting}.0")
    body = is_problem(r, 422)
    assert _field_error(body, "talent_id")["in"] == "path"
    is_problem(api.call("admin", "GET", "/v1/talents/true"), 422)
    is_problem(api.call("admin", "GET", f"/v1/demands/{api.own_demand}.0"), 422)


def test_every_integer_path_and_query_parameter_refuses_floats_and_booleans(api):
    spec = api.client.get("/openapi.json").json()
    accepted = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            params = op.get("parameters", [])
            ints = [p for p in params if _is_int(p.get("schema", {}))]
            for p in ints:
                for bad in ("1.0", "true"):
                    url = path
                    query = {}
                    for q in params:
                        if q["in"] == "path":
                            url = url.replace("{" + q["name"] + "}", bad if q is p else "1")
                    if p["in"] == "query":
                        query[p["name"]] = bad
                    r = api.call("admin", method.upper(), url, params=query)
                    errors = r.json().get("errors", []) if r.headers.get("content-type", "").startswith(
                        "application/problem+json") else []
                    if not (r.status_code == 422 and any(e.get("field") == p["name"] and e.get("in") == p["in"]
                                                         for e in errors)):
                        accepted.append(f"{method.upper()} {path} {p['in']}:{p['name']}={bad} -> {r.status_code}")
    assert not accepted, "\n".join(accepted)


def _is_int(schema: dict) -> bool:
    return schema.get("type") == "integer" or any(s.get("type") == "integer" for s in schema.get("anyOf", []))


@pytest.mark.parametrize("params", [{"page": "1.0"}, {"page_size": "true"}, {"page_size": "20.0"}])
def test_paging_must_be_integers(api, params):
    r = api.call("seeker", "GET", "/v1/demands", params=params)
    body = is_problem(r, 422)
    _field_error(body, next(iter(params)))
