"""The store on SQLite and PostgreSQL: round trips, transactions, nothing half-written."""

from __future__ import annotations

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
