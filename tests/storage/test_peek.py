"""The read-only record reader of ``talentmatch index status`` (the standard library's sqlite3
for an SQLite file, SQLAlchemy Core for others; no ORM): the same text hashes as the store, on
SQLite and PostgreSQL, nothing read before set-up and nothing written."""

from __future__ import annotations

import sqlite3

import pytest

from matcher.storage.peek import RECORD_TABLES, RecordHashes
from matcher.storage.records import ROWS
from matcher.storage.store import Store, StoredRecord
from matcher.storage.urls import sqlite_file
from tests.conftest import demand, talent


def test_record_tables_are_the_stores():
    assert RECORD_TABLES == {kind: row.__tablename__ for kind, row in ROWS.items()}
    for row in ROWS.values():
        assert {"id", "text_hash", "status"} <= set(row.__table__.columns.keys())


def test_the_same_text_hashes_as_the_store(db_url):
    store = Store(db_url)
    try:
        store.add("demand", [StoredRecord(demand(title=f"岗位{i}", status="closed" if i % 3 == 0 else "open"),
                                          f"文本{i}", f"hash-d{i}", "山东省") for i in range(7)])
        store.add("talent", [StoredRecord(talent(name=f"人才{i}"), f"文本{i}", f"hash-t{i}", "山东省")
                             for i in range(4)])
        peek = RecordHashes(db_url)
        try:
            assert peek.ready()
            for kind, status in (("demand", "open"), ("demand", "closed"), ("demand", None), ("talent", "active"),
                                 ("talent", None)):
                got = peek.text_hashes(kind, status)
                assert got == store.text_hashes(kind, status)
            assert len(peek.text_hashes("demand", "open")) == 4 and len(peek.text_hashes("demand")) == 7
        finally:
            peek.close()
    finally:
        store.close()


def test_a_database_not_set_up_is_not_ready(tmp_path):
    sqlite3.connect(tmp_path / "empty.db").close()  # a file without the tables
    for name in ("new.db", "empty.db"):
        peek = RecordHashes(f"sqlite:///{tmp_path / name}")
        try:
            assert not peek.ready()
            with pytest.raises(sqlite3.OperationalError, match="no such table"):
                peek.text_hashes("talent")
        finally:
            peek.close()
    assert not (tmp_path / "new.db").exists()  # a look creates no database


def test_an_sqlite_file_is_read_without_sqlalchemy_and_never_written(tmp_path):
    url = f"sqlite:///{tmp_path / 'talentmatch.db'}"
    store = Store(url)
    try:
        store.add("talent", [StoredRecord(talent(name="人才"), "文本", "hash-t", "山东省")])
        peek = RecordHashes(url)
        try:
            assert peek.engine is None and peek.ready()
            assert peek.text_hashes("talent", "active") == store.text_hashes("talent", "active")
            conn = peek._sqlite()
            assert conn is not None
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                conn.execute("DELETE FROM talents")
        finally:
            peek.close()
        assert len(store.text_hashes("talent")) == 1
    finally:
        store.close()


def test_which_urls_are_read_as_sqlite_files(tmp_path):
    assert sqlite_file(f"sqlite:///{tmp_path}/a.db") == tmp_path / "a.db"
    assert sqlite_file("sqlite+pysqlite:///var/a.db") is not None
    for url in ("sqlite://", "sqlite:///:memory:", "sqlite:///a.db?timeout=5", "postgresql://u@h/db"):
        assert sqlite_file(url) is None, url
