"""The store's hot reads (authentication, the change log's position, enterprise names): on an
SQLite file through a read-only ``sqlite3`` connection per thread, elsewhere through
SQLAlchemy; the same answers either way, and nothing can be written through them."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from matcher.domain.auth import Role
from matcher.domain.schemas import Enterprise
from matcher.storage import hot
from matcher.storage.hot import HotReads
from matcher.storage.store import Store, StoredRecord
from matcher.storage.tables import ApiKeyRow, ChangeRow, EnterpriseRow
from tests.conftest import talent


def test_the_statements_name_the_schemas_tables_and_columns():
    assert hot._KEY_BY_PREFIX.split(" FROM ")[1].startswith(ApiKeyRow.__tablename__ + " ")
    assert set(hot.KEY_COLUMNS) | {"prefix"} <= set(ApiKeyRow.__table__.columns.keys())
    assert f"FROM {ChangeRow.__tablename__}" in hot._LAST_CHANGE and "seq" in ChangeRow.__table__.columns
    assert f"FROM {EnterpriseRow.__tablename__} " in hot._NAMES
    assert {"id", "name"} <= set(EnterpriseRow.__table__.columns.keys())


def _answers(store: Store, keys: list[str], ids: list[int]) -> tuple:
    return ([store.authenticate(k) for k in keys], store.last_change(), store.enterprise_names(ids))


def test_hot_reads_give_what_sqlalchemy_gives(db_url):
    store = Store(db_url)
    try:
        assert store.hot.enabled == db_url.startswith("sqlite")
        ent = store.add_enterprise(Enterprise(name="淄博智造装备有限公司"))
        admin, _ = store.create_key("admin", label="运维")
        seeker, info = store.create_key("seeker", label="求职者")
        revoked, rinfo = store.create_key(Role.ENTERPRISE, enterprise_id=ent.id)
        store.revoke_key(rinfo["id"])
        store.add("talent", [StoredRecord(talent(name="王一"), "文本", "hash-t", "山东省")])
        keys = [admin, seeker, revoked, seeker[:-1] + ("x" if seeker[-1] != "x" else "y"), "not a key", ""]
        ids = [ent.id, ent.id, 10**6]
        got = _answers(store, keys, ids)
        who = got[0]
        assert who[0].role == Role.ADMIN and who[1].key_id == info["id"] and who[1].role == Role.SEEKER
        assert who[2:] == [None, None, None, None]  # revoked, wrong hash, malformed, empty
        assert got[1] > 0 and got[2] == {ent.id: "淄博智造装备有限公司"}
        if store.hot.enabled:  # the same through SQLAlchemy
            saved, store.hot.path = store.hot.path, None
            try:
                assert _answers(store, keys, ids) == got
            finally:
                store.hot.path = saved
        # other connections' commits are seen at once by this thread's connection, already used
        store.add("talent", [StoredRecord(talent(name="王二"), "文本2", "hash-t2", "山东省")])
        assert store.last_change() > got[1]
        later, _ = store.create_key("organiser", label="活动组织方")
        store.revoke_key(info["id"])
        assert store.authenticate(later).role == Role.ORGANISER and store.authenticate(seeker) is None
    finally:
        store.close()


def test_nothing_can_be_written_through_the_hot_connection(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'talentmatch.db'}")
    try:
        assert store.hot.last_change() == 0
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.hot._conn().execute("DELETE FROM api_keys")
    finally:
        store.close()


def test_each_thread_reads_on_its_own_connection_and_close_closes_them_all(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'talentmatch.db'}")
    conns: list[sqlite3.Connection] = []

    def read() -> None:
        store.hot.last_change()
        conns.append(store.hot._conn())

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    read()
    assert len({id(c) for c in conns}) == 4
    store.close()
    for c in conns:
        with pytest.raises(sqlite3.ProgrammingError):  # closed
            c.execute("SELECT 1")
    assert store.hot.last_change() == 0  # a read after close opens a new connection


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "postgresql://u@h/db"])
def test_no_file_no_hot_reads(url):
    assert not HotReads(url).enabled


def test_a_file_that_does_not_exist_yet_is_not_read(tmp_path):
    assert not HotReads(f"sqlite:///{tmp_path / 'new.db'}").enabled
    assert not (tmp_path / "new.db").exists()
