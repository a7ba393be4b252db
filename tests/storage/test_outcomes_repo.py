"""Outcome events and impressions on SQLite and PostgreSQL: snapshots, audit, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from matcher.domain.auth import Principal, Role
from matcher.storage.outcomes_repo import NewEvent, OutcomeRepo, Outcomes, Shown
from matcher.storage.store import Store

SEEKER = Principal(role=Role.SEEKER, key_id=7, talent_id=3, label="某求职者")
ENTERPRISE = Principal(role=Role.ENTERPRISE, key_id=8, enterprise_id=1)


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


def test_event_takes_the_snapshot_of_the_latest_impression(store):
    repo = OutcomeRepo(store)
    t0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with store.session() as s:
        Outcomes(s).add_impressions("demand", "L1", [Shown(3, 10, 4, 0.61, {"semantic": 0.5}),
                                                    Shown(3, 11, 5, 0.60, {"semantic": 0.4})],
                                    "weighted", SEEKER, at=t0)
        Outcomes(s).add_impressions("demand", "L2", [Shown(3, 10, 1, 0.70, {"semantic": 0.9})],
                                    "hgb-1", SEEKER, at=t0 + timedelta(days=2))
    # an event before the second list is tied to the first impression, a later one to the second
    [early] = repo.add_events([NewEvent(3, 10, "saved", "seeker", at=t0 + timedelta(days=1))], SEEKER)
    [late] = repo.add_events([NewEvent(3, 10, "applied", "seeker")], SEEKER)
    assert (early["rank"], early["model"], early["features"]) == (4, "weighted", {"semantic": 0.5})
    assert (late["rank"], late["model"], late["features"]) == (1, "hgb-1", {"semantic": 0.9})
    assert late["impression_id"] != early["impression_id"] and late["actor_role"] == "seeker"
    # a pair never shown keeps the caller's features, with no rank
    [cold] = repo.add_events([NewEvent(3, 99, "hired", "fair", features={"semantic": 0.2},
                                       detail={"fair_id": 2})], ENTERPRISE)
    assert cold["impression_id"] is None and cold["rank"] is None and cold["features"] == {"semantic": 0.2}
    assert cold["detail"] == {"fair_id": 2}
    # audited, one row per event, in the event's transaction
    audit, total = store.list_audit(resource="outcome")
    assert total == 3 and {a["detail"]["kind"] for a in audit} == {"saved", "applied", "hired"}
    assert {a["actor_role"] for a in audit} == {"seeker", "enterprise"}


def test_listing_filters_and_counts(store):
    repo = OutcomeRepo(store)
    repo.add_events([NewEvent(1, 10, "applied", "seeker"), NewEvent(2, 10, "invited", "enterprise"),
                     NewEvent(2, 11, "hired", "enterprise")], ENTERPRISE)
    items, total = repo.events(demand_id=10)
    assert total == 2 and [e["kind"] for e in items] == ["invited", "applied"]  # newest first
    assert repo.events(demand_ids=[11])[1] == 1 and repo.events(demand_ids=[])[1] == 0
    assert repo.events(talent_id=2, kind="hired")[0][0]["demand_id"] == 11
    c = repo.counts()
    assert c["events"] == {"real": 3, "synthetic": 0} and c["by_kind"]["hired"] == {"real": 1, "synthetic": 0}


def test_a_failing_batch_writes_no_event_and_no_audit(store):
    with pytest.raises(RuntimeError), store.session() as s:
        Outcomes(s).add_events([NewEvent(1, 10, "applied", "seeker")], SEEKER)
        raise RuntimeError("the import failed after the first row")
    assert OutcomeRepo(store).events()[1] == 0 and store.list_audit(resource="outcome")[1] == 0


def test_synthetic_rows_are_flagged_linked_and_removable(store):
    repo = OutcomeRepo(store)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    imps = [{"talent_id": 1, "demand_id": 10 + i, "side": "demand", "list_id": "sim-1", "rank": i + 1,
             "score": 0.5, "model": "weighted", "features": {"semantic": i / 10}, "randomised": i == 0,
             "shown_at": at} for i in range(3)]
    events = [{"impression": 2, "kind": "applied", "at": at + timedelta(days=1)}]
    assert repo.add_synthetic(imps, events) == (3, 1)
    repo.add_events([NewEvent(1, 10, "applied", "seeker")], SEEKER)
    shown, evs = repo.training_rows()
    assert len(shown) == 3 and all(r["synthetic"] for r in shown) and shown[0]["randomised"]
    linked = [e for e in evs if e["synthetic"]]
    assert len(linked) == 1 and linked[0]["impression_id"] == shown[2]["id"]
    # a real event never takes its snapshot from a simulated list
    assert not [e for e in evs if not e["synthetic"]] and repo.events(synthetic=False)[0][0]["impression_id"] is None
    assert repo.counts()["events"] == {"real": 1, "synthetic": 1}
    assert repo.delete_synthetic() == (3, 1)
    assert repo.counts()["impressions"] == {"real": 0, "synthetic": 0}
