"""Weak labels from a fair run: each seeker's interview list as impressions, first wishes as
applications, must-see pairs as shortlists; taken once, all or nothing."""

from __future__ import annotations

import pytest

from matcher.core.errors import Conflict, NotFound
from matcher.fair.engine import create_fair, run_fair
from matcher.outcomes.fair_labels import weak_labels_from_run
from matcher.outcomes.training import stored_log
from tests.fair.test_fair import _fair


def test_a_runs_wishes_and_must_sees_become_weak_labels(service):
    detail = create_fair(service, _fair())
    run = run_fair(service, detail.id)
    assigned = [(a.talent_id, a.demand_id, a.wish_rank, a.must_see) for a in run.assignments]
    report = weak_labels_from_run(service, run.run_id)
    assert report["impressions"] == len(assigned) and report["skipped"] == 0
    assert report["lists"] == len({t for t, *_ in assigned})
    events, total = service.outcomes.events(limit=100)
    got = sorted((e["talent_id"], e["demand_id"], e["kind"]) for e in events)
    expected = sorted([(t, d, "applied") for t, d, w, _ in assigned if w == 1]
                      + [(t, d, "shortlisted") for t, d, _, m in assigned if m])
    assert got == expected and total >= 2  # the fixture has a first wish and a must-see that are assigned
    for e in events:
        assert e["source"] == "fair" and e["detail"]["run_id"] == run.run_id and e["rank"] >= 1
        assert e["detail"]["weak"] == ("first_wish" if e["kind"] == "applied" else "must_see")
        assert e["features"] and e["model"] == "weighted"
    # each seeker's list is ranked 1..n in the run's order; the training log reads them
    log = stored_log(service).log
    assert len(log.shown) == len(assigned) and len(log.event_kind) == total
    with pytest.raises(Conflict, match="已导入"):
        weak_labels_from_run(service, run.run_id)
    with pytest.raises(NotFound):
        weak_labels_from_run(service, 999)
    assert service.outcomes.counts()["impressions"]["real"] == len(assigned)  # nothing more written


def test_from_fair_command(tmp_path, monkeypatch, capsys, fake_encoder):
    from matcher.core.settings import load_settings
    from matcher.wiring import build_service
    from tests.conftest import run_cli

    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    svc = build_service(load_settings(), encoder=fake_encoder)
    run = run_fair(svc, create_fair(svc, _fair()).id)
    svc.close()
    code, out, err = run_cli(monkeypatch, capsys, "outcomes", "from-fair", str(run.run_id))
    assert code == 0, err
    assert f"已从匹配结果 {run.run_id} 导入" in out and "第一志愿→申请 1" in out
    code, _, err = run_cli(monkeypatch, capsys, "outcomes", "from-fair", str(run.run_id))
    assert code == 2 and "已导入过" in err
