"""A run's assignments are stored with one executemany INSERT: on SQLite and PostgreSQL the rows
are the rows the ORM wrote one object at a time (every column, in order), a run reads back as it
was, and a failing audit write leaves no run and no assignment behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.fair.engine import FairRunOptions, SeekerIn, create_fair, get_fair, get_run, run_fair
from matcher.storage.fair_repo import _ASSIGNMENT_COLUMNS
from matcher.storage.tables import FairAssignmentRow, FairRunRow
from tests.conftest import talent
from tests.fair.test_fair import _fair


@pytest.fixture
def db_service(db_url, tmp_path, fake_encoder):
    from matcher.wiring import build_service

    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        database_url=db_url)
    svc = build_service(settings, encoder=fake_encoder)
    yield svc
    svc.close()


def _rows(svc, run_id: int) -> list[tuple]:
    cols = [getattr(FairAssignmentRow, c) for c in ("position", *_ASSIGNMENT_COLUMNS, "starts", "ends")]
    with svc.store.session() as s:
        return [tuple(r) for r in s.execute(select(*cols).where(FairAssignmentRow.run_id == run_id)
                                           .order_by(FairAssignmentRow.position))]


def test_the_fair_reads_its_seekers_names_out_of_the_profiles(db_service) -> None:
    svc = db_service
    fair = create_fair(svc, _fair(seekers=[SeekerIn(profile=talent(external_id="t1", name="赵一")),
                                           SeekerIn(profile=talent(external_id="t2", name=None)),
                                           SeekerIn(profile=talent(external_id="t3", name="O'Brien \"王\""))], wishes=[]))
    names = [s.name for s in get_fair(svc, fair.id).seekers]
    assert names == ["赵一", None, "O'Brien \"王\""]


def test_bulk_stored_assignments_equal_the_orm_rows(db_service) -> None:
    svc = db_service
    fair = create_fair(svc, _fair())
    res = run_fair(svc, fair.id, FairRunOptions(min_score=0.0))
    assert len(res.assignments) >= 5 and any(a.wish_rank for a in res.assignments)
    assert any(a.must_see for a in res.assignments) and any(a.fresh_graduate for a in res.assignments)
    # the same assignments written as the repository wrote them before: one ORM object each
    with svc.store.session() as s:
        old = FairRunRow(fair_id=fair.id, mode="optimal", options={}, report={})
        s.add(old)
        s.flush()
        s.add_all(FairAssignmentRow(run_id=old.id, position=n, starts=a.start, ends=a.end,
                                    **{k: getattr(a, k) for k in _ASSIGNMENT_COLUMNS})
                  for n, a in enumerate(res.assignments))
        old_id = old.id
    assert _rows(svc, res.run_id) == _rows(svc, old_id)
    assert len(_rows(svc, res.run_id)) == len(res.assignments)
    again = get_run(svc, res.run_id)
    assert again.assignments == res.assignments and again.report == res.report


def test_a_failing_save_stores_nothing(db_service, monkeypatch) -> None:
    import matcher.storage.fair_repo as repo_mod

    svc = db_service
    fair = create_fair(svc, _fair())

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(repo_mod, "write_audit", broken)
    with pytest.raises(RuntimeError):
        run_fair(svc, fair.id, FairRunOptions(min_score=0.0))
    with svc.store.session() as s:
        assert s.scalar(select(func.count()).select_from(FairRunRow)) == 0
        assert s.scalar(select(func.count()).select_from(FairAssignmentRow)) == 0
