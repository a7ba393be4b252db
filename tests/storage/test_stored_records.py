"""Stored records read back as the models that were validated and written (SQLite and
PostgreSQL), and the validator's control-character rule applied once per model."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from matcher.domain.schemas import DemandEntry, DigitalCert, TalentProfile, scrub_fields
from matcher.storage.store import Store, StoredRecord


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


def _entry(**kw) -> DemandEntry:
    base = dict(title="  芯片验证工程师 ", description="负责SoC验证\n熟悉UVM\t方法学", city="青岛",
                required_skills=["UVM", " UVM", "SystemVerilog", ""], preferred_skills=["Python"],
                majors=["微电子科学与工程"], education="硕士", required_title_level="中级",
                required_skill_level="技师", min_experience_years=2.5, salary_min=15000, salary_max=25000,
                occupation_code="2-02-09-06", occupation_name="集成电路工程技术人员", occupation_confidence=0.42,
                chain_id="qd-ic", chain_suggested=True, chain_confidence=0.7, shortage_level=4,
                fresh_graduates_ok=False, source="catalogue", valid_from=date(2026, 1, 1),
                valid_until=date(2026, 12, 31), headcount=3, enterprise_name="青岛芯片有限公司")
    base.update(kw)
    return DemandEntry.model_validate(base)


def _profile(**kw) -> TalentProfile:
    base = dict(name="王五", phone="13900000000", education="硕士", major="微电子", school="山东大学",
                graduation_year=2026, fresh_graduate=True, skills=["SystemVerilog", "UVM"],
                certificates=["CET-6"], title_level="初级", skill_level="高级工",
                digital_certs=[{"direction": "集成电路", "grade": "中级"}], experience_years=0.5, city="青岛",
                preferred_cities=["青岛", "济南"], desired_occupations=["芯片验证"], desired_chains=["qd-ic"],
                salary_min=9000, salary_max=15000, summary="做过 UVM 验证平台", consent=True)
    base.update(kw)
    return TalentProfile.model_validate(base)


def test_records_read_back_equal_the_validated_ones(store):
    entries = [_entry(), _entry(title="数据分析师", education=None, valid_until=None, required_title_level=None),
               DemandEntry(title="最少字段的岗位")]
    profiles = [_profile(), TalentProfile()]
    d_ids = store.add("demand", [StoredRecord(e, "t", "h", None) for e in entries])
    t_ids = store.add("talent", [StoredRecord(p, "t", "h", None) for p in profiles])
    got_d = store.get_many("demand", d_ids)
    for i, e in zip(d_ids, entries, strict=True):
        want = e.model_copy(update={"id": i, "enterprise_id": got_d[i].enterprise_id})
        assert got_d[i] == want and got_d[i].model_dump() == want.model_dump()
        assert type(got_d[i].education) is type(e.education) and type(got_d[i].valid_until) is type(e.valid_until)
    versions, fetched = store.get_many_unless("talent", t_ids, lambda i, v: False)
    for i, p in zip(t_ids, profiles, strict=True):
        assert fetched[i] == p.model_copy(update={"id": i}) and store.get("talent", i) == fetched[i]
    assert isinstance(fetched[t_ids[0]].digital_certs[0], DigitalCert)


def test_control_characters_are_dropped_field_by_field_and_in_nested_models():
    p = TalentProfile.model_validate({"name": "张\x00三", "skills": ["Py\x07thon", "Python", "Go\x1f"],
                                      "summary": "行一\n行二\t\x0b", "digital_certs": [{"direction": "大\x01数据",
                                                                                         "grade": "初级"}]})
    assert p.name == "张三" and p.skills == ["Python", "Go"] and p.summary == "行一\n行二"
    assert p.digital_certs[0].direction == "大数据"
    clean = {"name": "张三", "skills": ["Python"]}
    assert scrub_fields(TalentProfile, clean) is clean  # nothing to drop: the input as it is
    assert scrub_fields(TalentProfile, "not a dict") == "not a dict"
    with pytest.raises(ValidationError):  # unknown fields are still refused (not scrubbed away)
        TalentProfile.model_validate({"name": "x", "nickname\x00": "y\x00"})
    with pytest.raises(ValidationError):  # limits apply after the characters are dropped
        TalentProfile.model_validate({"name": "名" * 101 + "\x00"})
    assert TalentProfile.model_validate({"name": "名" * 100 + "\x00"}).name == "名" * 100


def test_versions_are_read_from_their_index_and_pages_of_records_in_id_order(store):
    """``get_many_unless`` reads the versions of many ids from the (id, version) index (on SQLite
    the planner is told to: it would read every row up to its version otherwise); the versions
    are those of the rows, updated ones included. ``versioned_after`` pages through a side in id
    order, with a status when asked."""
    from matcher.storage.records import _versions_reader, sqlite_versions_sql

    d_ids = store.add("demand", [StoredRecord(_entry(title=f"岗位{n}", status="closed" if n == 2 else "open"),
                                              "t", "h", None) for n in range(5)])
    store.update("demand", d_ids[1], StoredRecord(_entry(title="岗位1改"), "t", "h2", None))
    versions, fetched = store.get_many_unless("demand", [*d_ids, 999_999], lambda i, v: i != d_ids[1])
    assert versions == {i: (2 if i == d_ids[1] else 1) for i in d_ids}
    assert list(fetched) == [d_ids[1]] and fetched[d_ids[1]].title == "岗位1改"
    with store.session() as s:
        read = _versions_reader(s.connection(), "demand")
        assert sorted(read(d_ids[:2])) == [(d_ids[0], 1), (d_ids[1], 2)] and list(read([])) == []
        if s.get_bind().dialect.name == "sqlite":
            conn = s.connection()
            plan = " ".join(str(r) for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sqlite_versions_sql("demand", 2), (1, 2)))
            assert "COVERING INDEX ix_demand_entries_id_version" in plan, plan
    page = store.versioned_after("demand", d_ids[0], 2, "open")
    assert [(i, v, m.title) for i, v, m in page] == [(d_ids[1], 2, "岗位1改"), (d_ids[3], 1, "岗位3")]
    assert [i for i, _, _ in store.versioned_after("demand", 0, 10)] == d_ids
    assert store.versioned_after("demand", d_ids[-1], 10) == []
