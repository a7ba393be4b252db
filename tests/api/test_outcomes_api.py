"""Outcome events over the API: each role records only its own kinds on pairs it may act on,
with the snapshot of what was shown; listing is scoped; everything is audited."""

from __future__ import annotations

import pytest

from tests.api.test_api import is_problem, make_api


@pytest.fixture
def api(service, settings):
    yield from make_api(service, settings)


def post(api, who, **body):
    return api.call(who, "POST", "/v1/outcomes", json=body)


def test_seeker_applies_to_a_post_they_were_shown(api, service):
    shown = api.call("seeker", "GET", f"/v1/talents/{api.consenting}/matches").json()
    rank = 1 + [m["id"] for m in shown].index(api.own_demand)
    r = post(api, "seeker", demand_id=api.own_demand, kind="applied")  # talent_id: their own
    assert r.status_code == 201, r.text
    e = r.json()
    assert (e["talent_id"], e["demand_id"], e["kind"], e["kind_label"]) == (api.consenting, api.own_demand,
                                                                          "applied", "申请")
    assert e["source"] == "seeker" and e["rank"] == rank and e["model"] == "weighted"
    assert e["features"]["semantic"] == pytest.approx(shown[rank - 1]["components"]["semantic"], abs=1e-4)
    assert set(e["features"]) >= {"required_skills", "salary", "experience_years"}
    audit = api.call("admin", "GET", "/v1/audit", params={"resource": "outcome"}).json()["items"]
    assert audit[0]["actor_role"] == "seeker" and audit[0]["detail"]["kind"] == "applied"


def test_an_enterprises_view_of_its_candidates_is_recorded_and_audited(api):
    """The demand-matches route ranks on the event loop and writes in a thread: the list an
    enterprise saw is recorded (its later invitation has a rank) and audited, before the reply."""
    shown = api.call("enterprise", "GET", f"/v1/demands/{api.own_demand}/matches").json()
    assert shown
    audit = api.call("admin", "GET", "/v1/audit", params={"resource": "talent", "action": "view"}).json()["items"]
    seen = {int(a["resource_id"]) for a in audit
            if a["actor_role"] == "enterprise" and a["detail"].get("via") == "demand_matches"}
    assert seen == {m["id"] for m in shown}
    r = post(api, "enterprise", talent_id=shown[0]["id"], demand_id=api.own_demand, kind="invited")
    assert r.status_code == 201, r.text
    assert r.json()["rank"] == 1


def test_a_pair_never_shown_gets_its_features_now_and_no_rank(api):
    r = post(api, "enterprise", talent_id=api.private, demand_id=api.own_demand, kind="invited")
    assert r.status_code == 201, r.text
    assert r.json()["rank"] is None and r.json()["features"]["education"] in (0.0, 1.0)


@pytest.mark.parametrize(("who", "body", "status"), [
    ("seeker", {"kind": "invited"}, 403),  # an enterprise's event
    ("seeker", {"kind": "applied", "talent_id": "private"}, 404),  # another seeker's profile
    ("seeker", {"kind": "applied", "demand_id": 999_999}, 404),
    ("enterprise", {"kind": "applied", "talent_id": "consenting"}, 403),
    ("enterprise", {"kind": "invited", "talent_id": "consenting", "demand_id": "other_demand"}, 404),
    ("enterprise", {"kind": "invited", "talent_id": 999_999}, 404),
    ("other_enterprise", {"kind": "hired", "talent_id": "consenting"}, 404),
    ("organiser", {"kind": "applied", "talent_id": "consenting"}, 403),  # staff record a fair's events
    ("organiser", {"kind": "interviewed"}, 404),  # whose interview?
    ("seeker", {"kind": "promoted"}, 422),
    ("seeker", {"kind": "applied", "demand_id": True}, 422),
])
def test_roles_kinds_and_scopes(api, who, body, status):
    body = {"demand_id": "own_demand", **body}
    ids = {"own_demand": api.own_demand, "other_demand": api.other_demand, "consenting": api.consenting,
           "private": api.private}
    body = {k: ids.get(v, v) if isinstance(v, str) and k != "kind" else v for k, v in body.items()}
    is_problem(post(api, who, **body), status)
    assert api.call("admin", "GET", "/v1/outcomes").json()["total"] == 0  # nothing stored


def test_listing_is_scoped_to_the_caller(api):
    assert post(api, "seeker", demand_id=api.own_demand, kind="saved").status_code == 201
    assert post(api, "other_seeker", demand_id=api.other_demand, kind="dismissed").status_code == 201
    assert post(api, "enterprise", talent_id=api.consenting, demand_id=api.own_demand,
                kind="shortlisted").status_code == 201
    assert post(api, "organiser", talent_id=api.private, demand_id=api.other_demand, kind="no_show",
                fair_id=3).status_code == 201

    def kinds(who, **params):
        r = api.call(who, "GET", "/v1/outcomes", params=params)
        assert r.status_code == 200, r.text
        return sorted(e["kind"] for e in r.json()["items"])

    assert kinds("seeker") == ["saved", "shortlisted"]  # events on their own profile
    assert kinds("other_seeker") == ["dismissed", "no_show"]
    assert kinds("enterprise") == ["saved", "shortlisted"]  # events on its own entries
    assert kinds("other_enterprise") == ["dismissed", "no_show"]
    assert kinds("admin") == ["dismissed", "no_show", "saved", "shortlisted"]
    assert kinds("admin", kind="no_show") == ["no_show"]
    is_problem(api.call("seeker", "GET", "/v1/outcomes", params={"talent_id": api.private}), 404)
    is_problem(api.call("other_enterprise", "GET", "/v1/outcomes", params={"demand_id": api.own_demand}), 404)
    fair = api.call("admin", "GET", "/v1/outcomes", params={"kind": "no_show"}).json()["items"][0]
    assert fair["detail"] == {"fair_id": 3} and fair["source"] == "fair"


def test_demo_flow_apply_invite_hire_train_promote_and_the_ranking_changes(api, service):
    """A seeker applies, the enterprise invites and hires; a model trained on the simulator's
    outcomes and these events is promoted; the seeker's ranking changes and its reasons are the
    model's."""
    from matcher.outcomes.training import (
        model_status,
        promote_model,
        simulate_into_store,
        train_model,
    )

    ent = api.ent
    extra = [("数据分析师", "淄博", ["Python", "SQL", "Hadoop"], 8000, 12000),
             ("Python开发工程师", "青岛", ["Python"], None, None),
             ("数据仓库工程师", "淄博", ["Spark", "Hive", "Kafka"], None, None)]
    for title, city, skills, lo, hi in extra:
        r = api.call("enterprise", "POST", f"/v1/enterprises/{ent}/demands", json={
            "title": title, "city": city, "required_skills": skills, "salary_min": lo, "salary_max": hi})
        assert r.status_code == 201, r.text
    r = api.call("seeker", "PATCH", f"/v1/talents/{api.consenting}", json={
        "experience_years": 6, "salary_min": 7000, "salary_max": 11000, "desired_occupations": ["数据分析师"]})
    assert r.status_code == 200, r.text

    before = api.call("seeker", "GET", f"/v1/talents/{api.consenting}/matches").json()
    assert {m["ranker"] for m in before} == {"weighted"} and all(m["outcome_probability"] is None for m in before)
    applied = before[0]["id"]
    assert post(api, "seeker", demand_id=applied, kind="applied").status_code == 201
    candidates = api.call("enterprise", "GET", f"/v1/demands/{applied}/matches").json()
    assert api.consenting in [c["id"] for c in candidates]
    for kind in ("invited", "hired"):
        r = post(api, "enterprise", talent_id=api.consenting, demand_id=applied, kind=kind)
        assert r.status_code == 201 and r.json()["rank"] is not None  # from the candidate list just served

    simulate_into_store(service, seekers=600, per_seeker=40)
    info = train_model(service, kind="logistic")
    assert info["events"] > 0 and info["synthetic_impressions"] < info["impressions"]  # the real lists are in
    report = promote_model(service, info["model"], resamples=300)
    assert report["metrics"]["vs_baseline"][info["model"]]["ndcg_at_10"]["ci95"][0] > 0
    assert model_status(service)["active"] == info["model"]

    after = api.call("seeker", "GET", f"/v1/talents/{api.consenting}/matches").json()
    assert [m["id"] for m in after] != [m["id"] for m in before]  # the ranking changed
    assert sorted(m["id"] for m in after) == sorted(m["id"] for m in before)
    for m in after:
        assert m["ranker"] == info["model"] and 0 <= m["outcome_probability"] <= 1
        assert m["explanation"]["reasons"] and all("排序模型贡献" in x for x in m["explanation"]["reasons"])
    probs = [m["outcome_probability"] for m in after if m["eligible"]]
    assert probs == sorted(probs, reverse=True)  # calibration keeps the model's order (ties allowed)
    # the next event is tied to the list the model ordered
    r = post(api, "seeker", demand_id=after[0]["id"], kind="saved")
    assert r.json()["model"] == info["model"] and r.json()["rank"] == 1
