"""The read-only record reader of ``talentmatch index status`` (SQLAlchemy Core, no ORM): the
same text hashes as the store, on SQLite and PostgreSQL, and nothing read before set-up."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from matcher.storage.peek import RECORD_TABLES, RecordHashes
from matcher.storage.records import ROWS
from matcher.storage.store import Store, StoredRecord
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
    peek = RecordHashes(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert not peek.ready()
        with pytest.raises(DBAPIError):  # the driver's own "no such table"
            peek.text_hashes("talent")
    finally:
        peek.close()
