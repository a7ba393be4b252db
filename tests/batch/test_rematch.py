"""The re-match in process: the service's own ranking, whole shards only, resume, freshness, CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from matcher.batch.rematch import (
    RematchParams,
    ShardWorker,
    candidate_order,
    make_plan,
    rematch,
    stored_matches,
)
from matcher.core.errors import Conflict, InvalidInput, NotFound
from matcher.storage.batch_repo import BatchRepo, MatchRow
from tests.batch.conftest import load_demo_subset, settings_env
from tests.conftest import run_cli


@pytest.fixture
def loaded_any(batch_settings, db_url):
    """The demo subset on SQLite and (with TALENTMATCH_TEST_PG_URL) on PostgreSQL."""
    from matcher.wiring import build_service

    svc = build_service(batch_settings.model_copy(update={"database_url": db_url}))
    load_demo_subset(svc, talents=30, demands=20)
    yield svc
    svc.close()


def test_stored_top_k_is_what_the_service_shows(loaded_any):
    """With every record of the other side a candidate, each stored list equals the live
    service's (same scorer, filters, eligibility and order) for every record; preparing a stored
    record again gives its stored text (the live path encodes that text)."""
    svc = loaded_any
    n = max(svc.store.count("talent"), svc.store.count("demand"))
    info = rematch(svc, RematchParams(top_k=5, pool=n, shard_size=7))
    stored = BatchRepo(svc.store).all_matches(info.id)
    compared = 0
    for (side, qid), rows in stored.items():
        record = svc.store.get(side, qid)
        [again] = svc.preparer.prepare_many(side, [record])
        assert again.text == svc.store.texts(side, [qid])[qid], (side, qid)
        live = svc.match_talent(qid, 5) if side == "talent" else svc.match_demand(qid, 5)
        assert [r.other_id for r in rows] == [m.id for m in live], (side, qid)
        assert [r.score for r in rows] == pytest.approx([m.score for m in live], abs=1e-4)
        compared += 1
    assert compared >= 0.7 * len(stored) and {s for s, _ in stored} == {"talent", "demand"}
    # every searchable record of each side has a list (the demo subset has eligible pairs for all)
    assert info.rows == sum(len(v) for v in stored.values())


def test_candidates_are_the_nearest_with_ties_by_id():
    import numpy as np

    cos = np.array([0.5, 0.9, 0.5, 0.1, 0.5], dtype=np.float32)
    ids = np.array([50, 10, 20, 40, 30])
    assert ids[candidate_order(cos, ids, 3)].tolist() == [10, 20, 30]
    assert ids[candidate_order(cos, ids, 10)].tolist() == [10, 20, 30, 50, 40]


def test_a_shard_is_committed_whole_or_not_at_all(batch_settings, db_url):
    from matcher.storage.store import Store

    repo = BatchRepo(Store(db_url))
    run = repo.create_run("rematch", {}, "f" * 64, 2)
    row = MatchRow("talent", 1, 1, 7, 0.5, 0.4, 0.6, True)
    partials = [(7, 1, 0.25), (8, 1, 0.5)]  # (post, profile, cosine)
    with pytest.raises(Exception):  # noqa: B017 - the database's integrity error, whichever driver
        repo.commit_shard(run, 0, [row, row], partials=partials)  # the same (run, side, query, rank) twice
    assert repo.done_shards(run) == set() and repo.shard_rows(run) == {} and repo.partial_count(run) == 0
    assert repo.commit_shard(run, 0, [row, replace(row, rank=2, other_id=8)], "w1", partials) is True
    assert repo.commit_shard(run, 0, [row], "w2", [(9, 1, 0.1)]) is False  # a retried shard writes nothing
    assert repo.shard_rows(run) == {0: (2, 2)}
    assert [m.other_id for m in repo.matches(run, "talent", 1)] == [7, 8]
    assert repo.partials(run, [7, 8, 9]) == {7: [(1, 0.25)], 8: [(1, 0.5)]}
    repo.delete_run(run)
    assert repo.partial_count(run) == 0


def test_a_resumed_run_runs_only_the_missing_shards_and_ends_as_a_fresh_run(loaded):
    params = RematchParams(top_k=4, pool=20, shard_size=5)
    repo = BatchRepo(loaded.store)
    fresh = rematch(loaded, params)
    plan = make_plan(loaded, params)
    first = plan.first_pass()
    second = [s for s in plan.shards if s.side == "demand"]
    assert first and second and len(first) + len(second) == len(plan.shards)
    # a job that died in the profile pass, and one that died in the post pass
    for committed in (first[::2], first + second[::2]):
        run_id = repo.create_run("rematch", fresh.params, plan.fingerprint, len(plan.shards))
        worker = ShardWorker(plan, run_id)
        for shard in committed:
            worker.run(shard)
        assert repo.partial_count(run_id) > 0  # the partial lists are durable until the run ends
        resumed = rematch(loaded, resume=run_id)
        assert resumed.stats["last_pass_shards"] == len(plan.shards) - len(committed)
        assert resumed.status == "done" and repo.all_matches(run_id) == repo.all_matches(fresh.id)
        assert repo.partial_count(run_id) == 0
    # a post shard does not run before every profile shard is committed
    run_id = repo.create_run("rematch", fresh.params, plan.fingerprint, len(plan.shards))
    worker = ShardWorker(plan, run_id)
    worker.run(first[0])
    with pytest.raises(Conflict, match="档案分片未完成"):
        worker.run(second[0])
    assert repo.done_shards(run_id) == {first[0].index}


def test_a_run_does_not_resume_over_changed_data(loaded):
    params = RematchParams(top_k=3, pool=10, shard_size=50)
    repo = BatchRepo(loaded.store)
    plan = make_plan(loaded, params)
    run_id = repo.create_run("rematch", {"top_k": 3, "pool": 10, "shard_size": 50, "min_score": 0.0,
                                         "sides": ["talent", "demand"]}, plan.fingerprint, len(plan.shards))
    talent = loaded.store.get("talent", 1)
    loaded.update("talent", 1, talent.model_copy(update={"salary_min": (talent.salary_min or 0) + 1000}))
    with pytest.raises(Conflict, match="不能续跑"):
        rematch(loaded, resume=run_id)
    assert repo.done_shards(run_id) == set()


def test_stored_matches_say_whether_they_are_fresh(loaded):
    info = rematch(loaded, RematchParams(top_k=3, pool=10, shard_size=50))
    got = stored_matches(loaded, "talent", 1)
    assert got["run_id"] == info.id and got["fresh"] is True and got["kind"] == "demand"
    assert [m["rank"] for m in got["matches"]] == list(range(1, len(got["matches"]) + 1))
    talent = loaded.store.get("talent", 2)
    loaded.update("talent", 2, talent.model_copy(update={"summary": talent.summary + "熟悉Kubernetes。"}))
    assert stored_matches(loaded, "talent", 1)["fresh"] is False
    with pytest.raises(InvalidInput):
        stored_matches(loaded, "fair", 1)
    with pytest.raises(NotFound):
        stored_matches(loaded, "talent", 99999)


def test_parameters_are_checked():
    with pytest.raises(InvalidInput, match="pool"):
        RematchParams(top_k=10, pool=5)
    with pytest.raises(InvalidInput):
        RematchParams(sides=("fair",))


def test_cli_runs_shows_and_rejects(loaded, batch_settings, monkeypatch, capsys):
    for k, v in settings_env(batch_settings).items():
        monkeypatch.setenv(k, v)
    code, out, err = run_cli(monkeypatch, capsys, "batch", "rematch", "--local", "--top-k", "3", "--format", "json")
    assert code == 0, err
    run = json.loads(out)
    assert run["status"] == "done" and run["params"]["top_k"] == 3
    code, out, err = run_cli(monkeypatch, capsys, "batch", "show", "demand", "1")
    assert code == 0 and json.loads(out)["run_id"] == run["id"]
    code, out, err = run_cli(monkeypatch, capsys, "batch", "show", "talent", "99999")
    assert code == 2 and "不存在" in err
    code, out, err = run_cli(monkeypatch, capsys, "batch", "rematch", "--local", "--resume", "nope")
    assert code == 2 and "nope 不存在" in err
    code, out, err = run_cli(monkeypatch, capsys, "batch", "encode", "--local", "--format", "json")
    assert code == 0 and json.loads(out)["encoded"] == 0  # adding the records cached their vectors


class _SalaryFirst:
    """A stand-in promoted outcome model: ranks by the salary component alone."""

    calibrated = False

    def __init__(self) -> None:
        from matcher.ranking.learned import FEATURES

        self.feature_names = list(FEATURES)
        self._salary = self.feature_names.index("salary")

    def score(self, X):
        return X[:, self._salary] + 1e-3 * X[:, 0]

    def contributions(self, X):
        import numpy as np

        return np.zeros_like(X)


def test_lists_follow_the_promoted_model_as_the_live_service_does(loaded, monkeypatch):
    model = _SalaryFirst()
    n = max(loaded.store.count("talent"), loaded.store.count("demand"))
    weighted = rematch(loaded, RematchParams(top_k=5, pool=n, shard_size=20))
    monkeypatch.setattr(loaded, "active_model", lambda: ("salary-first", model))
    info = rematch(loaded, RematchParams(top_k=5, pool=n, shard_size=20))
    assert info.stats["model"] == "salary-first" and weighted.stats["model"] == "weighted"
    repo = BatchRepo(loaded.store)
    stored, before = repo.all_matches(info.id), repo.all_matches(weighted.id)
    assert stored != before  # the model changed the order
    compared = 0
    for (side, qid), rows in stored.items():
        [again] = loaded.preparer.prepare_many(side, [loaded.store.get(side, qid)])
        assert again.text == loaded.store.texts(side, [qid])[qid], (side, qid)
        if side != "talent":
            continue
        assert [r.other_id for r in rows] == [m.id for m in loaded.match_talent(qid, 5)], qid
        compared += 1
    assert compared >= 20
    assert stored_matches(loaded, "talent", 1)["fresh"] is True
    monkeypatch.setattr(loaded, "active_model", lambda: ("weighted", None))
    assert stored_matches(loaded, "talent", 1)["fresh"] is False  # another ranker is live now
