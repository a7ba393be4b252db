"""The migrations build exactly the schema of ``matcher.storage.tables``, on SQLite and PostgreSQL;
a database of the release before migrations upgrades keeping its data; the store refuses a
schema older or newer than the program's, naming the command to run."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from matcher.storage.engine import make_engine
from matcher.storage.migrations import (
    BASELINE,
    SchemaMismatch,
    current_revision,
    head_revision,
    upgrade,
)
from matcher.storage.store import Store
from matcher.storage.tables import Base
from tests.conftest import run_cli


def _differences(engine) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, Base.metadata)


def test_upgrade_head_on_an_empty_database_builds_exactly_the_tables(db_url):
    engine = make_engine(db_url)
    try:
        assert upgrade(engine) == (None, head_revision())
        assert _differences(engine) == []
        assert upgrade(engine) == (head_revision(), head_revision())  # idempotent
    finally:
        engine.dispose()
    Store(db_url).close()  # the store starts on it


def test_a_new_store_makes_the_schema_at_the_head_itself(db_url):
    store = Store(db_url)
    try:
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        assert _differences(store.engine) == []
    finally:
        store.close()


def _previous_release_database(url: str) -> None:
    """A database as release 0.2 left it: its create_all, its schema_version row, and data."""
    from tests.storage.fixtures import tables_bf19d79 as old

    engine = make_engine(url)
    old.Base.metadata.create_all(engine)
    json = "CAST(:d AS JSON)" if engine.dialect.name == "postgresql" else ":d"
    with engine.begin() as c:
        c.execute(text("INSERT INTO tm_meta (key, value) VALUES ('schema_version', '1')"))
        c.execute(text("INSERT INTO enterprises (name, description, created_at, updated_at) "
                       "VALUES ('淄博旧企业', '', '2025-01-01', '2025-01-01')"))
        for ext in ("A-1", "A-2", None):
            c.execute(text("INSERT INTO talents (external_id, external_owner, status, data, text, text_hash, "
                           "consent, fresh_graduate, experience_years, created_at, updated_at) VALUES "
                           f"(:e, :o, 'active', {json}, 't', 'h', false, false, 0, '2025-01-01', '2025-01-01')"),
                      {"e": ext, "o": "staff" if ext else None, "d": '{"name": "旧档案", "skills": ["Python"]}'})
        c.execute(text("INSERT INTO demand_entries (enterprise_id, status, data, text, text_hash, title, source, "
                       "fresh_graduates_ok, headcount, created_at, updated_at) VALUES "
                       f"(1, 'active', {json}, 't', 'h', '数据分析师', 'manual', true, 2, '2025-01-01', "
                       "'2025-01-01')"), {"d": '{"title": "数据分析师", "enterprise_name": "淄博旧企业"}'})
    engine.dispose()


def test_a_previous_release_database_is_refused_then_upgraded_keeping_its_data(db_url):
    _previous_release_database(db_url)
    with pytest.raises(SchemaMismatch) as exc:
        Store(db_url)
    assert "talentmatch db upgrade" in exc.value.detail
    engine = make_engine(db_url)
    try:
        assert upgrade(engine) == (None, head_revision())
        assert _differences(engine) == []
    finally:
        engine.dispose()
    store = Store(db_url)
    try:
        assert store.count("talent") == 3 and store.count("demand") == 1
        assert store.get("talent", 1).name == "旧档案"
        assert store.get("demand", 1).title == "数据分析师"
        assert store.get_enterprise(1).name == "淄博旧企业"
        assert store.taken_external_ids("talent", ["A-1", "A-2"], "staff") == {"A-1": 1, "A-2": 2}
    finally:
        store.close()


def test_a_newer_schema_is_refused_with_what_to_do(db_url):
    Store(db_url).close()
    engine = make_engine(db_url)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = 'zz99'"))
    try:
        with pytest.raises(SchemaMismatch) as exc:
            Store(db_url)
        assert "zz99" in exc.value.detail and "升级 talentmatch 程序" in exc.value.detail
        with pytest.raises(SchemaMismatch):  # and db upgrade does not touch it
            upgrade(engine)
    finally:
        engine.dispose()


def test_an_older_schema_is_refused_until_db_upgrade(monkeypatch, capsys, tmp_path):
    assert head_revision() != BASELINE  # migrations after the baseline exist: an older schema to refuse
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, BASELINE)
    engine.dispose()
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", url)
    code, stdout, stderr = run_cli(monkeypatch, capsys, "db", "current")
    assert code == 1 and "talentmatch db upgrade" in stderr and BASELINE in stdout
    with pytest.raises(SchemaMismatch) as exc:
        Store(url)
    assert "过旧" in exc.value.detail
    code, stdout, _ = run_cli(monkeypatch, capsys, "db", "upgrade")
    assert code == 0 and head_revision() in stdout
    code, stdout, _ = run_cli(monkeypatch, capsys, "db", "current")
    assert code == 0 and "一致" in stdout
    Store(url).close()


def test_a_failing_migration_leaves_the_database_as_it_was(db_url, monkeypatch):
    _previous_release_database(db_url)
    from matcher.storage.migrations import legacy

    def broken(conn):  # the additive step works, then something fails
        conn.execute(text("ALTER TABLE talents ADD COLUMN half_done INTEGER"))
        raise RuntimeError("boom")

    monkeypatch.setattr(legacy, "add_external_owner", broken)
    engine = make_engine(db_url)
    try:
        with pytest.raises(RuntimeError):
            upgrade(engine)
        with engine.connect() as c:
            cols = [r[1] for r in c.exec_driver_sql("PRAGMA table_info(talents)")] \
                if engine.dialect.name == "sqlite" else \
                [r[0] for r in c.execute(text("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'talents' AND table_schema = current_schema()"))]
            assert "half_done" not in cols
            assert "alembic_version" not in {r for r in c.dialect.get_table_names(c)}
    finally:
        engine.dispose()


@pytest.mark.parametrize("made_by", ["store", "migrations", "previous release"])
def test_a_deleted_highest_id_is_never_reused(db_url, made_by):
    from matcher.domain.schemas import Enterprise
    from tests.conftest import demand, talent
    from tests.storage.test_store import rec

    if made_by == "previous release":
        _previous_release_database(db_url)
    if made_by != "store":
        engine = make_engine(db_url)
        upgrade(engine)
        engine.dispose()
    store = Store(db_url)
    try:
        if engine_is_sqlite := store.engine.dialect.name == "sqlite":
            with store.engine.connect() as c:
                ddl = c.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'demand_entries'").scalar()
            assert "AUTOINCREMENT" in ddl
        for kind, make in (("talent", talent), ("demand", demand)):
            ids = store.add(kind, [rec(make()), rec(make())])
            store.delete(kind, ids[-1])
            [again] = store.add(kind, [rec(make())])
            assert again > ids[-1], (kind, ids, again)
        first = store.add_enterprise(Enterprise(name="甲公司")).id
        with store.engine.begin() as c:  # deleted by hand: no API deletes enterprises
            c.execute(text("DELETE FROM enterprises WHERE id = :i"), {"i": first})
        assert store.add_enterprise(Enterprise(name="乙公司")).id > first
        assert engine_is_sqlite or store.engine.dialect.name == "postgresql"
    finally:
        store.close()
