"""The store on SQLite and PostgreSQL: round trips, transactions, nothing half-written."""

from __future__ import annotations

import re

import numpy as np
import pytest

from matcher.core.errors import Conflict, NotFound
from matcher.domain.schemas import Catalogue, Enterprise
from matcher.storage.store import Store, StoredRecord
from tests.conftest import demand, talent


def rec(model, text="t", h="h", province="山东省"):
    return StoredRecord(model, text, h, province)


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


def test_round_trip_both_sides(store):
    d_ids = store.add("demand", [rec(demand(external_id="D1")), rec(demand(title="PLC工程师"))])
    t_ids = store.add("talent", [rec(talent(skills=["Python"]))])
    d = store.get("demand", d_ids[0])
    assert d.title == "大数据开发工程师" and d.enterprise_id is not None and d.external_id == "D1"
    assert store.get("talent", t_ids[0]).skills == ["Python"]
    # demand entries naming the same enterprise share one enterprise row
    assert store.get("demand", d_ids[1]).enterprise_id == d.enterprise_id
    assert store.count("demand") == 2 and store.count("talent") == 1


def test_failed_batch_writes_nothing(store):
    store.add("demand", [rec(demand(external_id="X"))])
    with pytest.raises(Conflict):
        store.add("demand", [rec(demand(external_id="Y")), rec(demand(external_id="X"))])
    assert store.count("demand") == 1
    assert store.list("demand", external_id="Y")[1] == 0


def test_update_delete_and_not_found(store):
    [i] = store.add("talent", [rec(talent())])
    store.update("talent", i, rec(talent(city="济南市"), h="h2"))
    assert store.get("talent", i).city == "济南市"
    assert store.text_hashes("talent") == {i: "h2"}
    store.delete("talent", i)
    with pytest.raises(NotFound):
        store.get("talent", i)
    with pytest.raises(NotFound):
        store.update("talent", i, rec(talent()))
    with pytest.raises(NotFound):
        store.delete("talent", 999)


def test_list_filters_and_paging(store):
    store.add("demand", [rec(demand(title=f"岗位{i}", status="closed" if i % 2 else "open")) for i in range(7)])
    page, total = store.list("demand", offset=0, limit=2, status="open")
    assert total == 4 and len(page) == 2 and all(p.status == "open" for p in page)
    assert set(store.text_hashes("demand", status="closed")) == {2, 4, 6}


def test_catalogue_with_entries_is_atomic(store):
    cat = Catalogue(region="淄博市", year=2025, name="目录")
    cid, ids = store.add_catalogue(cat, [rec(demand(title="A")), rec(demand(title="B"))])
    got = store.get_catalogue(cid)
    assert [e.title for e in got.entries] == ["A", "B"] and all(e.source == "catalogue" for e in got.entries)
    assert store.list_catalogues()[0]["entries"] == 2
    with pytest.raises(Conflict):  # same region, year and name
        store.add_catalogue(cat, [rec(demand(title="C"))])
    assert store.count("demand") == 2


def test_enterprises(store):
    e = store.add_enterprise(Enterprise(name="青岛某科技有限公司", city="青岛市"))
    with pytest.raises(Conflict):
        store.add_enterprise(Enterprise(name="青岛某科技有限公司"))
    assert store.get_enterprise(e.id).city == "青岛市"
    with pytest.raises(NotFound):
        store.add("demand", [rec(demand(enterprise_id=9999, enterprise_name=None))])


def test_vector_cache(store):
    v = np.arange(8, dtype=np.float32)
    store.put_many_vectors("m", {"a": v})
    store.put_many_vectors("m", {"a": v * 2})  # first write wins: same text, same vector
    got = store.get_many_vectors("m", ["a", "b"])
    assert list(got) == ["a"] and np.array_equal(got["a"], v)
    assert store.get_many_vectors("other", ["a"]) == {}


# -- external ids belong to a numbering (issue 11) -------------------------------------------------


def test_external_ids_are_unique_per_owner_and_found_only_in_their_scope(store):
    from matcher.domain.auth import Principal, Role
    from matcher.storage.store import STAFF_SCOPE, external_scope

    seeker = Principal(role=Role.SEEKER, key_id=7)
    organiser = Principal(role=Role.ORGANISER, key_id=3)
    assert external_scope(None) == external_scope(organiser) == STAFF_SCOPE
    [claimed] = store.add("talent", [rec(talent(name="冒用者", external_id="S-1"))], actor=seeker)
    [own] = store.add("talent", [rec(talent(name="王五", external_id="S-1"))], actor=organiser)
    assert claimed != own
    assert store.taken_external_ids("talent", ["S-1", "S-2"], STAFF_SCOPE) == {"S-1": own}
    assert store.taken_external_ids("talent", ["S-1"], external_scope(seeker)) == {"S-1": claimed}
    with pytest.raises(Conflict) as exc:  # the same numbering: refused, in words, before the database
        store.add("talent", [rec(talent(external_id="S-1"))])
    assert "S-1" in exc.value.detail and "UNIQUE" not in exc.value.detail
    with pytest.raises(Conflict):
        store.add("talent", [rec(talent(external_id="S-9")), rec(talent(external_id="S-9"))])
    # a record changed without touching its external id keeps its owner; a new id is the actor's
    store.update("talent", claimed, rec(talent(name="冒用者", city="济南市", external_id="S-1")), actor=seeker)
    assert store.taken_external_ids("talent", ["S-1"], external_scope(seeker)) == {"S-1": claimed}
    with pytest.raises(Conflict):
        store.update("talent", claimed, rec(talent(external_id="S-1")), actor=organiser, claim_external=True)
    store.update("talent", claimed, rec(talent(external_id="S-3")), actor=organiser)
    assert store.taken_external_ids("talent", ["S-3"], STAFF_SCOPE) == {"S-3": claimed}


def _old_schema(url: str) -> None:
    """The tables as they were before external ids had owners: one database-wide UNIQUE."""
    from sqlalchemy.schema import CreateIndex, CreateTable

    from matcher.storage.engine import make_engine
    from tests.storage.fixtures.tables_bf19d79 import Base

    engine = make_engine(url)
    with engine.begin() as c:
        for table in Base.metadata.sorted_tables:
            ddl = str(CreateTable(table).compile(engine))
            if table.name in ("talents", "demand_entries"):
                lines = [ln for ln in ddl.splitlines() if "external_owner" not in ln]
                ddl = re.sub(r",\s*\n\)", "\n)", "\n".join(lines))
                ddl = ddl.replace("external_id VARCHAR(100),", "external_id VARCHAR(100) UNIQUE,")
                assert "UNIQUE" in ddl
            c.exec_driver_sql(ddl)
            for index in table.indexes:
                c.execute(CreateIndex(index))
        c.exec_driver_sql("INSERT INTO tm_meta (key, value) VALUES ('schema_version', '1')")
    engine.dispose()


def test_an_old_database_gets_owners_without_losing_rows(db_url):
    from sqlalchemy import text

    from matcher.domain.auth import Principal, Role
    from matcher.storage.store import LEGACY_SCOPE, STAFF_SCOPE, Store

    _old_schema(db_url)
    old = Store(db_url, create=False)
    now = "2025-01-01 00:00:00"
    json = "CAST(:d AS JSON)" if old.engine.dialect.name == "postgresql" else ":d"
    with old.engine.begin() as c:
        for i, ext in ((1, "A-1"), (2, "A-2"), (3, None)):
            c.execute(text("INSERT INTO talents (id, external_id, status, data, text, text_hash, consent, "
                           "fresh_graduate, experience_years, created_at, updated_at) VALUES "
                           f"(:i, :e, 'active', {json}, 't', 'h', false, false, 0, :now, :now)"),
                      {"i": i, "e": ext, "d": '{"name": "旧档案", "skills": ["' + "技" * 80 + '"]}', "now": now})
        # talent 2 was created by a seeker, who may have chosen its external id
        c.execute(text("INSERT INTO audit_log (at, actor_key_id, actor_role, actor_label, action, resource, "
                       f"resource_id, detail) VALUES (:now, 9, 'seeker', '', 'create', 'talent', '2', {json})"),
                  {"now": now, "d": "{}"})
        if old.engine.dialect.name == "postgresql":  # rows inserted with explicit ids
            c.execute(text("SELECT setval(pg_get_serial_sequence('talents', 'id'), 3)"))
    old.close()
    from matcher.storage.migrations import SchemaMismatch, upgrade

    with pytest.raises(SchemaMismatch):  # refused until upgraded
        Store(db_url)
    upgrade(old.engine)  # `talentmatch db upgrade`
    old.engine.dispose()
    store = Store(db_url)
    with store.engine.connect() as c:
        owners = dict(c.execute(text("SELECT id, external_owner FROM talents ORDER BY id")).all())
    assert owners == {1: STAFF_SCOPE, 2: LEGACY_SCOPE, 3: None}
    assert store.taken_external_ids("talent", ["A-1", "A-2"], STAFF_SCOPE) == {"A-1": 1}
    got = store.get("talent", 1)  # a stored value above today's limits is clipped, not unreadable
    assert got.name == "旧档案" and len(got.skills[0]) == 50
    [new] = store.add("talent", [rec(talent(external_id="B-1"))])
    assert store.taken_external_ids("talent", ["B-1"], STAFF_SCOPE) == {"B-1": new}
    seeker = Principal(role=Role.SEEKER, key_id=9)
    # the old database-wide UNIQUE is gone on both (SQLite's went with the table rebuild of
    # migration 0002): an external id is unique per owner
    store.add("talent", [rec(talent(external_id="A-1"))], actor=seeker)
    with pytest.raises(Conflict):
        store.add("talent", [rec(talent(external_id="A-1"))])
    assert upgrade(store.engine)[0] == upgrade(store.engine)[1]  # idempotent
    store.close()


def test_a_batch_insert_returns_each_record_its_own_id_in_order(store):
    """One flush for the whole batch: the ids still come back in the order of the records, and
    every record is logged once in the change log."""
    from matcher.storage.changes import changes_since, last_change

    with store.session() as s:
        before = last_change(s)
    t_ids = store.add("talent", [rec(talent(name=f"人才{i}", external_id=f"T{i:03d}")) for i in range(120)])
    d_ids = store.add("demand", [rec(demand(title=f"岗位{i}", external_id=f"D{i:03d}",
                                            enterprise_name=f"公司{i % 3}")) for i in range(30)])
    assert len(set(t_ids)) == 120 and len(set(d_ids)) == 30
    assert [store.get("talent", i).external_id for i in t_ids] == [f"T{i:03d}" for i in range(120)]
    assert [store.get("demand", i).title for i in d_ids] == [f"岗位{i}" for i in range(30)]
    with store.session() as s:
        logged = [(k, r) for _, k, r in changes_since(s, before)]
    assert sorted(logged) == sorted([("talent", i) for i in t_ids] + [("demand", i) for i in d_ids])
