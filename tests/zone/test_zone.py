"""The graduates' direct-train zone: zone entries, cohort ranking, subscriptions and feeds."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import ValidationError
from sqlalchemy import inspect

from matcher.core.errors import InvalidInput, NotFound
from matcher.zone.graduates import (
    SubscriptionCreate,
    ZoneQuery,
    acknowledge,
    aggregate_profile,
    cohort_members,
    create_subscription,
    delete_subscription,
    feed,
    graduate_zone,
    list_subscriptions,
)
from tests.conftest import demand, talent
from tests.conftest import run_cli as _run

DAY = date(2026, 6, 1)


@pytest.fixture
def zone(service):
    """Five posts, three of them in the zone on DAY; four graduates of two schools and a worker."""
    d = service.add("demand", [
        demand(title="大数据开发工程师（应届）", city="淄博", chain_id="zb-data", occupation_code="2-02-38-03",
               required_skills=["Python", "Spark"], valid_from=date(2026, 1, 1), valid_until=date(2026, 12, 31)),
        demand(title="PLC工程师", city="济南", chain_id="sd-robot", occupation_code="2-02-07-07", education="大专",
               required_skills=["PLC编程"], valid_until=date(2026, 12, 31)),
        demand(title="资深架构师", city="淄博", fresh_graduates_ok=False, min_experience_years=5,
               occupation_code="2-02-10-03"),                                   # not for fresh graduates
        demand(title="过期岗位", city="淄博", occupation_code="2-02-10-03", valid_until=date(2026, 1, 31)),
        demand(title="Java开发工程师", city="淄博市张店区", chain_id="zb-software", occupation_code="2-02-10-03",
               required_skills=["Java", "MySQL"]),
    ])
    t = service.add("talent", [
        talent(name="甲", school="山东理工大学", major="数据科学与大数据技术", graduation_year=2026, fresh_graduate=True,
               skills=["Python", "Spark", "SQL"]),
        talent(name="乙", school="山东理工大学", major="数据科学与大数据技术", graduation_year=2026, fresh_graduate=True,
               skills=["Python", "Hive"]),
        talent(name="丙", school="山东理工大学", major="软件工程", graduation_year=2025, fresh_graduate=True,
               skills=["Java", "MySQL"], education="本科"),
        talent(name="丁", school="淄博职业学院", major="电气自动化技术", graduation_year=2026, fresh_graduate=True,
               skills=["PLC编程"], education="大专"),
        talent(name="戊", school="山东理工大学", major="软件工程", graduation_year=2015, experience_years=10),
    ])
    return d, t


def test_zone_entries_without_a_cohort_are_newest_first(service, zone):
    d, _ = zone
    r = graduate_zone(service, ZoneQuery(as_of=DAY))
    assert r.total == 3 and [e.id for e in r.entries] == [d[4], d[1], d[0]]
    assert r.cohort.ranked_by == "none" and all(e.score is None for e in r.entries)
    assert [e.id for e in graduate_zone(service, ZoneQuery(as_of=DAY, city="淄博")).entries] == [d[4], d[0]]
    assert [e.id for e in graduate_zone(service, ZoneQuery(as_of=DAY, chain="大数据与人工智能")).entries] == [d[0]]
    assert [e.id for e in graduate_zone(service, ZoneQuery(as_of=DAY, occupation="2-02-10")).entries] == [d[4]]
    # a catalogue line is not a post: only with sources=["catalogue", ...]
    later = graduate_zone(service, ZoneQuery(as_of=date(2027, 6, 1)))
    assert [e.id for e in later.entries] == [d[4]]  # the others expired at the end of 2026


def test_cohorts(service, zone):
    _, t = zone
    assert [m.id for m in cohort_members(service, school="山东理工大学", major=None, graduation_year=None)] == [
        t[0], t[1], t[2]]  # fresh graduates only: 戊 graduated in 2015
    assert [m.id for m in cohort_members(service, school="山东理工大学", major=None, graduation_year=2026)] == [
        t[0], t[1]]
    assert [m.id for m in cohort_members(service, school=None, major="软件工程", graduation_year=2015)] == [t[4]]
    members = cohort_members(service, school="山东理工大学", major="数据科学与大数据技术", graduation_year=None)
    p = aggregate_profile(members)
    # both hold Python; Spark, SQL and Hive are held by one of two (50% >= 20%)
    assert p.skills == ["Python", "Hive", "SQL", "Spark"] and p.fresh_graduate and p.experience_years == 0
    assert p.major == "数据科学与大数据技术" and p.education is not None and p.education.value == "本科"


def test_ranking_for_a_class(service, zone):
    d, t = zone
    r = graduate_zone(service, ZoneQuery(school="山东理工大学", graduation_year=2026, as_of=DAY, threshold=0.0))
    assert r.cohort.members == 2 and r.cohort.ranked_by == "cohort" and r.total == 3
    assert r.entries[0].id == d[0] and r.entries[0].matched_skills == ["Python", "Spark"]
    # on their own both meet the hard requirements of each zone entry (threshold 0)
    assert [e.members_qualified for e in r.entries] == [2, 2, 2]
    by_members = graduate_zone(service, ZoneQuery(school="淄博职业学院", as_of=DAY, threshold=0.0,
                                                  rank_by="members"))
    counts = {e.id: e.members_qualified for e in by_members.entries}
    # 丁 is 大专: the 本科 posts are out of reach, the PLC post (大专) is not
    assert counts == {d[1]: 1, d[0]: 0, d[4]: 0} and by_members.entries[0].id == d[1]


def test_ranking_by_major_alone_and_errors(service, zone):
    r = graduate_zone(service, ZoneQuery(major="电子商务", as_of=DAY))
    assert r.cohort.ranked_by == "major" and r.cohort.members == 0 and len(r.entries) == 3
    assert all(e.score is not None and e.members_qualified is None for e in r.entries)
    with pytest.raises(NotFound, match="库中没有不存在大学毕业生的档案"):
        graduate_zone(service, ZoneQuery(school="不存在大学", as_of=DAY))
    with pytest.raises(InvalidInput, match="未知职业"):
        graduate_zone(service, ZoneQuery(occupation="火箭专家", as_of=DAY))
    with pytest.raises(InvalidInput, match="未知城市"):
        graduate_zone(service, ZoneQuery(city="火星", as_of=DAY))


def test_subscription_table_is_created(service):
    assert "zone_subscriptions" in inspect(service.store.engine).get_table_names()


def test_subscriptions_and_feed(service, zone):
    d, t = zone
    with pytest.raises(ValidationError):
        SubscriptionCreate()
    with pytest.raises(ValidationError):
        SubscriptionCreate(talent_id=t[0], school="山东理工大学")
    with pytest.raises(NotFound):
        create_subscription(service, SubscriptionCreate(talent_id=99999))
    with pytest.raises(InvalidInput, match="未知产业链"):
        create_subscription(service, SubscriptionCreate(school="山东理工大学", chains=["没有这条链"]))
    mine = create_subscription(service, SubscriptionCreate(talent_id=t[0], cities=["淄博市"], start="beginning"))
    school = create_subscription(service, SubscriptionCreate(school=" 山东理工大学 ", chains=["zb-data", "zb-software"],
                                                             occupations=["2-02"]))
    assert (school.school, school.chains, school.occupations, school.last_seen_id) == (
        "山东理工大学", ["zb-data", "zb-software"], ["2-02"], d[4])  # "now": past every current entry
    assert mine.cities == ["淄博市"] and mine.last_seen_id == 0
    assert [s.id for s in list_subscriptions(service, school="山东理工大学")] == [school.id]

    f = feed(service, mine.id, as_of=DAY)
    assert [i.id for i in f.items] == [d[0], d[4]] and f.cursor == d[4] and not f.more
    assert f.items[0].score is not None and f.items[0].eligible is True  # scored for the talent
    assert f.subscription.last_seen_id == 0  # a read does not move the cursor
    page = feed(service, mine.id, as_of=DAY, limit=1)
    # the cursor passes the 济南 post too: looked at, not wanted
    assert [i.id for i in page.items] == [d[0]] and page.more and page.cursor == d[1]
    assert acknowledge(service, mine.id, page.cursor).last_seen_id == d[1]
    assert acknowledge(service, mine.id, 0).last_seen_id == d[1]  # never back
    with pytest.raises(InvalidInput, match="游标"):
        acknowledge(service, mine.id, 10**6)
    rest = feed(service, mine.id, as_of=DAY, advance=True)
    assert [i.id for i in rest.items] == [d[4]] and rest.subscription.last_seen_id == d[4]
    assert feed(service, mine.id, as_of=DAY).items == []

    # new posts reach the school's feed; with the school's fresh graduates who qualify
    assert feed(service, school.id, as_of=DAY).items == []
    new = service.add("demand", [
        demand(title="数据标注员", city="淄博", chain_id="zb-data", occupation_code="4-04-05-05"),  # 4-: filtered
        demand(title="Python开发", city="淄博", chain_id="zb-data", occupation_code="2-02-10-03",
               required_skills=["Python"]),
        demand(title="算法工程师", city="青岛", chain_id="sd-ai", occupation_code="2-02-38-01"),  # other chain
    ])
    sf = feed(service, school.id, as_of=DAY, threshold=0.0)
    assert [i.id for i in sf.items] == [new[1]] and sf.cursor == new[2]
    assert sf.items[0].members_qualified == 3  # 甲, 乙, 丙 are 本科 fresh graduates
    delete_subscription(service, school.id)
    with pytest.raises(NotFound):
        feed(service, school.id)


def test_deleting_a_talent_deletes_its_subscriptions(service, zone):
    _, t = zone
    sub = create_subscription(service, SubscriptionCreate(talent_id=t[3]))
    service.delete("talent", t[3])
    assert list_subscriptions(service, talent_id=t[3]) == []
    with pytest.raises(NotFound):
        feed(service, sub.id)


def test_cli_zone(tmp_path, monkeypatch, capsys, fake_encoder):
    from matcher.core.settings import Settings
    from matcher.wiring import build_service

    svc = build_service(Settings(data_dir=tmp_path / "var", encoder="fake"), encoder=fake_encoder)
    d = svc.add("demand", [demand(title="数据开发（应届）", city="淄博", chain_id="zb-data", occupation_code="2-02-38-03"),
                           demand(title="Java开发", city="淄博", chain_id="zb-software", occupation_code="2-02-10-03")])
    svc.add("talent", [talent(name="甲", school="山东理工大学", major="软件工程", fresh_graduate=True, graduation_year=2026)])
    svc.close()
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    code, out, err = _run(monkeypatch, capsys, "zone", "list", "--school", "山东理工大学", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["cohort"]["members"] == 1 and {e["id"] for e in data["entries"]} == set(d)
    code, out, err = _run(monkeypatch, capsys, "zone", "subscribe", "--school", "山东理工大学", "--chain", "zb-data",
                          "--from-beginning")
    assert code == 0 and "已创建订阅 1（游标 0）" in out
    code, out, err = _run(monkeypatch, capsys, "zone", "feed", "1", "--peek")
    assert code == 0 and [json.loads(x)["id"] for x in out.splitlines()] == [d[0]] and "游标" not in err
    dest = tmp_path / "feed.jsonl"
    code, out, err = _run(monkeypatch, capsys, "zone", "feed", "1", "--out", str(dest))
    assert code == 0 and f"游标移至 {d[1]}" in err
    assert [json.loads(x)["title"] for x in dest.read_text(encoding="utf-8").splitlines()] == ["数据开发（应届）"]
    code, out, err = _run(monkeypatch, capsys, "zone", "feed", "1")
    assert code == 0 and out == "" and "0 个新岗位" in err
    code, out, err = _run(monkeypatch, capsys, "zone", "subscriptions", "--format", "json")
    assert json.loads(out)[0]["last_seen_id"] == d[1]
    code, out, err = _run(monkeypatch, capsys, "zone", "subscribe")
    assert code == 2 and "二选一" in err
    code, out, err = _run(monkeypatch, capsys, "zone", "unsubscribe", "1")
    assert code == 0
    code, out, err = _run(monkeypatch, capsys, "zone", "unsubscribe", "1")
    assert code == 2 and "订阅 1 不存在" in err
