"""GET /v1/talents/{id}/matches/precomputed: a talent's stored top-k, with its freshness."""

from __future__ import annotations

import pytest

from matcher.batch.rematch import RematchParams, rematch
from matcher.storage.batch_repo import BatchRepo
from tests.api.test_api import is_problem, make_api


@pytest.fixture
def api(service, settings):
    yield from make_api(service, settings)


def test_a_seeker_reads_their_stored_matches_and_their_freshness(api, service):
    url = f"/v1/talents/{api.consenting}/matches/precomputed"
    is_problem(api.call("seeker", "GET", url), 404)  # no run yet
    info = rematch(service, RematchParams(top_k=2, pool=2, shard_size=1))
    r = api.call("seeker", "GET", url)
    assert r.status_code == 200, r.text
    body = r.json()
    stored = BatchRepo(service.store).matches(info.id, "talent", api.consenting)
    assert body["run_id"] == info.id and body["fresh"] is True and body["kind"] == "demand"
    assert [(m["id"], m["score"]) for m in body["matches"]] == [(s.other_id, s.score) for s in stored]
    assert all(m["title"] for m in body["matches"])
    assert api.call("admin", "GET", url).status_code == 200
    is_problem(api.call("other_seeker", "GET", url), 404)
    is_problem(api.call("enterprise", "GET", url), 403)
    is_problem(api.call("seeker", "GET", url + "?run=../x"), 422)
    is_problem(api.call("seeker", "GET", url + "?run=abc"), 404)
    assert api.call("seeker", "PATCH", f"/v1/talents/{api.consenting}", json={"city": "济南"}).status_code == 200
    assert api.call("seeker", "GET", url).json()["fresh"] is False
