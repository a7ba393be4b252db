"""The per-process result cache of stored records' ranked lists: the same lists as without it,
and never a list older than the data once another process or connection writes."""

from __future__ import annotations

import threading
import time

import pytest

from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.domain.auth import Principal, Role
from matcher.domain.schemas import MatchFilters
from matcher.service import RecordCache, ResultCache
from matcher.wiring import build_service
from tests.conftest import demand, talent


def _service(db_url, data_dir, fake_encoder, cache: int = 4096):
    settings = Settings(data_dir=data_dir, reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        database_url=db_url, result_cache_size=cache)
    svc = build_service(settings, encoder=fake_encoder)
    svc.ensure_index("demand")
    svc.ensure_index("talent")
    return svc


@pytest.fixture
def pair(db_url, tmp_path, fake_encoder):
    """Two services on one database (two servers, each with its own index directory and its own
    connections): ``a`` caches, ``b`` does not."""
    a = _service(db_url, tmp_path / "a", fake_encoder)
    b = _service(db_url, tmp_path / "b", fake_encoder, cache=0)
    yield a, b
    a.close()
    b.close()


POSTS = [
    dict(title="大数据开发工程师", required_skills=["Python", "Spark", "Hive"], city="淄博", salary_min=8000,
         salary_max=12000),
    dict(title="PLC电气工程师", enterprise_name="济南自动化有限公司", city="济南", required_skills=["PLC编程"],
         education="大专"),
    dict(title="芯片验证工程师", enterprise_name="青岛芯片有限公司", city="青岛", education="硕士",
         required_skills=["UVM", "SystemVerilog"], fresh_graduates_ok=False, min_experience_years=3),
    dict(title="数据分析师", enterprise_name="淄博数据有限公司", city="淄博", required_skills=["Python", "SQL"]),
    dict(title="Java开发工程师", city="济南", required_skills=["Java", "Spring"]),
]
PEOPLE = [
    dict(name="张三", skills=["Python", "Spark"], desired_occupations=["大数据工程师"], salary_min=9000),
    dict(name="李四", skills=["PLC编程", "电气控制"], city="济南", education="大专", major="电气自动化技术"),
    dict(name="王五", skills=["SystemVerilog"], education="硕士", fresh_graduate=True, city="青岛"),
]


def _dump(matches):
    return [m.model_dump() for m in matches]


def _uncached(svc, call):
    """``call()`` with the service's cache switched off (its indexes as they are)."""
    kept, svc.results = svc.results, ResultCache(0)
    try:
        return _dump(call())
    finally:
        svc.results = kept


def _fill(svc):
    d = svc.add("demand", [demand(**p) for p in POSTS])
    t = svc.add("talent", [talent(**p) for p in PEOPLE])
    return d, t


def test_cached_lists_are_the_uncached_lists(pair):
    a, b = pair
    d, t = _fill(a)
    asks = [(10, None), (3, None), (10, MatchFilters(city="淄博")), (10, MatchFilters(include_ineligible=True))]
    for tid in t:
        for top_k, f in asks:
            first, again = _dump(a.match_talent(tid, top_k, f)), _dump(a.match_talent(tid, top_k, f))
            assert first == again == _uncached(a, lambda: a.match_talent(tid, top_k, f))  # noqa: B023
    for did in d:
        assert _dump(a.match_demand(did, 5)) == _dump(a.match_demand(did, 5)) == _uncached(a, lambda: a.match_demand(did, 5))  # noqa: B023
    assert a.results.hits == len(t) * len(asks) + len(d)
    b.match_talent(t[0])
    assert b.results.hits == 0 and not b.results.enabled


def test_a_served_list_is_a_copy(pair):
    a, _ = pair
    _d, t = _fill(a)
    first = a.match_talent(t[0])
    first[0].title = "改掉的标题"
    assert a.match_talent(t[0])[0].title != "改掉的标题"


def test_a_write_by_another_connection_makes_a_new_list_at_once(pair):
    a, b = pair
    d, t = _fill(a)
    b.indexes.poll()
    before = a.match_talent(t[0])
    top = before[0].id
    # b (another server: its own connections) renames the post a ranked first
    b.save("demand", top, lambda e: e.model_copy(update={"title": "高级大数据开发工程师"}))
    after = a.match_talent(t[0])  # no poll yet: the change log's position alone misses the cache
    assert next(m for m in after if m.id == top).title.startswith("高级大数据开发工程师")
    # b closes it: a's index still holds it until a applies the log (what follow() does every
    # interval), and from then on the cached list is the uncached one
    b.save("demand", top, lambda e: e.model_copy(update={"status": "closed"}))
    a.indexes.poll()
    b.indexes.poll()
    now = a.match_talent(t[0])
    assert top not in [m.id for m in now] and top not in [m.id for m in b.match_talent(t[0])]
    assert _dump(now) == _dump(a.match_talent(t[0])) == _uncached(a, lambda: a.match_talent(t[0]))


def test_a_following_server_serves_another_servers_new_post_within_its_interval(pair):
    a, b = pair
    _d, t = _fill(a)
    a.match_talent(t[1])  # cached
    stop = a.indexes.follow(0.05)
    try:
        [new] = b.add("demand", [demand(title="PLC控制工程师", city="济南", required_skills=["PLC编程", "电气控制"],
                                        education="大专")])
        deadline = time.monotonic() + 60
        while new not in [m.id for m in a.match_talent(t[1])] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert new in [m.id for m in a.match_talent(t[1])]
        assert _dump(a.match_talent(t[1])) == _uncached(a, lambda: a.match_talent(t[1]))
    finally:
        stop.set()
        stop.stop()


def test_a_write_in_the_same_process_and_new_weights_make_new_lists(pair):
    a, _ = pair
    _d, t = _fill(a)
    a.match_talent(t[0])
    [new] = a.add("demand", [demand(title="大数据平台工程师", required_skills=["Python", "Spark", "Hive"], city="淄博")])
    assert new in [m.id for m in a.match_talent(t[0])]
    before = _dump(a.match_talent(t[0]))
    a.weights = a.weights.model_copy(update={"s_salary": a.weights.s_salary + 5.0})
    after = _dump(a.match_talent(t[0]))
    assert after != before and after == _uncached(a, lambda: a.match_talent(t[0]))


def test_a_cached_list_still_records_what_a_seeker_was_shown(pair):
    a, _ = pair
    _d, t = _fill(a)
    who = Principal(Role.SEEKER, key_id=1, talent_id=t[0])
    shown = a.match_talent(t[0], shown_to=who)
    a.match_talent(t[0], shown_to=who)
    assert a.results.hits == 1
    assert a.outcomes.counts()["impressions"]["real"] == 2 * len(shown)


def test_an_enterprise_renamed_shows_its_new_name_in_a_cached_list(pair):
    a, _ = pair
    _d, t = _fill(a)
    first = a.match_talent(t[1])
    plc = next(m for m in first if m.title.startswith("PLC电气工程师"))
    assert plc.title == "PLC电气工程师｜济南自动化有限公司"
    entry = a.get("demand", plc.id)
    a.store.save_enterprise(entry.enterprise_id, lambda e: e.model_copy(update={"name": "济南智能装备有限公司"}))
    again = next(m for m in a.match_talent(t[1]) if m.id == plc.id)
    assert again.title == "PLC电气工程师｜济南智能装备有限公司"


def test_kept_candidate_records_follow_every_write(pair):
    a, b = pair
    d, _t = _fill(a)
    first = a.candidate_records("demand", d)
    assert {i: m.model_dump() for i, m in first.items()} == {i: m.model_dump() for i, m in a.get_many("demand", d).items()}
    again = a.candidate_records("demand", d)
    assert all(again[i] is first[i] for i in d)  # kept: not read and validated again
    b.save("demand", d[1], lambda e: e.model_copy(update={"title": "PLC高级电气工程师"}))  # another connection
    b.delete("demand", d[2])
    now = a.candidate_records("demand", d)
    assert now[d[1]].title == "PLC高级电气工程师" and d[2] not in now
    assert now[d[0]] is first[d[0]]


def test_warming_keeps_the_searchable_records_of_both_sides(pair):
    """``warm_records``: every open entry and active talent is kept (closed and inactive ones are
    not: no ranking retrieves them), a first ranking then reads none of its candidates, and what
    it returns is still what the database holds after another connection writes."""
    a, b = pair
    d, t = _fill(a)
    a.update("demand", d[4], demand(**{**POSTS[4], "status": "closed"}))
    a.update("talent", t[2], talent(**{**PEOPLE[2], "status": "inactive"}))
    a.record_cache = RecordCache(100)
    assert a.warm_records(batch=2) == len(d) - 1 + len(t) - 1
    assert not a.record_cache.warming and len(a.record_cache) == len(d) + len(t) - 2
    kept = a.record_cache.snapshot("demand", d)
    assert set(kept) == set(d[:4]) and set(a.record_cache.snapshot("talent", t)) == set(t[:2])
    stored = a.get_many("demand", d[:4])
    assert {i: m.model_dump() for i, (_, m) in kept.items()} == {i: m.model_dump() for i, m in stored.items()}
    assert all(v == a.get_versioned("demand", i)[1] for i, (v, _) in kept.items())
    got = a.candidate_records("demand", d[:4])
    assert all(got[i] is kept[i][1] for i in d[:4])  # kept: not read and validated again
    # and the scorer has their keys worked out, as a ranking reads them (KeyMemo)
    assert all(a.scorer._keyed.knows("demand", m) for _, m in kept.values())
    assert all(a.scorer._keyed.knows("talent", m) for _, m in a.record_cache.snapshot("talent", t).values())
    assert a.warm_records() == 0  # nothing new to keep
    b.save("demand", d[0], lambda e: e.model_copy(update={"title": "大数据高级开发工程师"}))
    assert a.candidate_records("demand", d[:4])[d[0]].title == "大数据高级开发工程师"
    assert a.warm_records() == 0 and a.record_cache.snapshot("demand", [d[0]])[d[0]][1].title == "大数据高级开发工程师"


def test_confirmed_records_are_not_read_again_until_something_is_written(pair, monkeypatch):
    """Kept records confirmed at the change log's position and the indexes' generation are
    served without reading their versions while neither moves; a write by another connection, or
    a change this process's indexes applied, and they are read again (once)."""
    a, b = pair
    d, _ = _fill(a)
    a.record_cache = RecordCache(100)
    a.warm_records()
    reads: list[list[int]] = []
    real = a.store.get_many_unless
    monkeypatch.setattr(a.store, "get_many_unless", lambda kind, ids, have: reads.append(list(ids)) or real(kind, ids, have))
    first = a.candidate_records("demand", d[:4])
    assert reads == [] and a.candidate_records("demand", d[:4]) == first
    b.save("demand", d[1], lambda e: e.model_copy(update={"title": "PLC高级电气工程师"}))
    now = a.candidate_records("demand", d[:4])
    assert len(reads) == 1 and now[d[1]].title == "PLC高级电气工程师" and now[d[0]] is first[d[0]]
    assert a.candidate_records("demand", d[:4]) == now and len(reads) == 1  # confirmed at the new position
    a.indexes.generation += 1  # as a poll that applied a change committed below a number already read
    assert a.candidate_records("demand", d[:4]) == now and len(reads) == 2
    [new] = b.add("demand", [demand(title="新岗位工程师")])  # not kept here yet: read
    assert set(a.candidate_records("demand", [*d[:4], new])) == {*d[:4], new} and len(reads) == 3
    b.delete("demand", d[2])  # gone from the database: gone from the answer
    assert set(a.candidate_records("demand", [*d[:4], new])) == {d[0], d[1], d[3], new} and len(reads) == 4


def test_a_stored_talents_ranking_reads_its_own_profile_as_it_is_now(pair, monkeypatch):
    """The ranking of a stored talent reads the profile itself through the record cache (the
    matches route no longer reads it first): no read while it is confirmed, the profile another
    connection saved as soon as it is saved, and NotFound once another connection deleted it."""
    from matcher.core.errors import NotFound

    a, b = pair
    _, t = _fill(a)
    b.indexes.poll()
    a.warm_records()
    reads: list[str] = []
    real = a.store.get_many_unless
    monkeypatch.setattr(a.store, "get_many_unless", lambda kind, ids, have: reads.append(kind) or real(kind, ids, have))
    monkeypatch.setattr(a.store, "get", lambda *args: pytest.fail("the profile is read through the record cache"))
    first = a.match_talent(t[1])
    assert "talent" not in reads and first == b.match_talent(t[1])
    # b moves 李四 to 青岛 and gives him chip skills: a's next ranking uses that profile at once
    b.save("talent", t[1], lambda p: p.model_copy(update={"city": "青岛", "skills": ["SystemVerilog", "UVM"],
                                                          "experience_years": 5.0}))
    now = a.match_talent(t[1])  # no poll: the change log's position alone
    a.indexes.poll()
    b.indexes.poll()
    assert "talent" in reads and _dump(now) == _dump(b.match_talent(t[1])) != _dump(first)
    b.delete("talent", t[1])
    with pytest.raises(NotFound, match=f"人才档案 {t[1]} 不存在"):
        a.match_talent(t[1])


def test_a_server_that_wrote_and_one_that_followed_score_alike(pair):
    """The side's background (the mean cosine of unrelated pairs, which rescales the semantic
    feature) is drawn again on every change, from the same pairs for the same ids: the server
    that wrote the records (through) and one that applied the change log hold the same value,
    and so serve the same scores. The writer used to keep the background of its empty index."""
    a, b = pair
    _, t = _fill(a)
    b.indexes.poll()
    for kind in ("demand", "talent"):
        assert a.indexes._sides[kind].background == b.indexes._sides[kind].background > 0
    assert _dump(a.match_talent(t[0])) == _dump(b.match_talent(t[0]))
    b.delete("demand", a.match_talent(t[0])[0].id)
    a.indexes.poll()
    assert a.indexes._sides["demand"].background == b.indexes._sides["demand"].background
    assert _dump(a.match_talent(t[0])) == _dump(b.match_talent(t[0]))


def test_warming_stops_when_the_cache_is_full_and_keeps_newer_records(pair):
    a, _ = pair
    d, t = _fill(a)
    a.record_cache = RecordCache(3)
    newer = a.get("demand", d[0])
    a.record_cache.put_many("demand", {d[0]: (99, newer)})
    assert a.warm_records() == 2 and len(a.record_cache) == 3
    assert a.record_cache.snapshot("demand", [d[0]])[d[0]] == (99, newer)  # not replaced
    a.record_cache = RecordCache(0)
    assert a.warm_records() == 0 and len(a.record_cache) == 0
    a.record_cache = RecordCache(100)
    stop = threading.Event()
    stop.set()
    assert a.warm_records(stop) == 0 and not a.record_cache.warming


def test_a_stored_record_is_ranked_with_the_vector_and_tokens_its_indexes_hold(pair, monkeypatch):
    """The vector and BM25 tokens of an indexed record come from its side's indexes when they
    hold its current text (the very vector the embedding cache gives, the very tokens the
    tokenizer gives); otherwise None (the caller encodes and tokenizes), and the lists are the same."""
    a, _ = pair
    _d, t = _fill(a)
    [rec] = a.preparer.prepare_many("talent", [a.get("talent", t[0])])
    held, tokens = a.indexes.stored_query("talent", t[0], rec.text_hash)
    assert held is not None and held.tobytes() == a.cached.passages([rec.text])[0].tobytes()
    assert tokens == [x for x in a.tokenizer.tokenize(rec.text) if x] and tokens
    assert a.indexes.stored_query("talent", t[0], "another text") == (None, None)
    assert a.indexes.stored_query("talent", 10**6, rec.text_hash) == (None, None)
    from_index = [_uncached(a, lambda tid=tid: a.match_talent(tid)) for tid in t]
    monkeypatch.setattr(a.indexes, "stored_query", lambda *args, **kwargs: (None, None))
    assert [_uncached(a, lambda tid=tid: a.match_talent(tid)) for tid in t] == from_index  # as encoded
    monkeypatch.undo()
    a.update("talent", t[1], talent(**{**PEOPLE[1], "status": "inactive"}))  # leaves the index
    [gone] = a.preparer.prepare_many("talent", [a.get("talent", t[1])])
    assert a.indexes.stored_query("talent", t[1], gone.text_hash) == (None, None)
    assert _uncached(a, lambda: a.match_talent(t[1])) == from_index[1] != []  # encoded instead


def test_several_lists_from_one_ranking_are_the_lists_asked_one_by_one(pair):
    """``match_talent_views``: one retrieval and one scoring for all the lists of a talent, each
    list the one ``match_talent`` gives alone (uncached), impressions for the first list only."""
    a, _ = pair
    _d, t = _fill(a)
    for p in ({"city": "淄博"}, {"city": "济南"}, {"city": "青岛", "include_ineligible": True}):
        a.add("demand", [demand(title=f"数据工程师{n}", city=p["city"], required_skills=["Python", "SQL"][: n % 2 + 1],
                                min_experience_years=n % 3, fresh_graduates_ok=n % 2 == 0) for n in range(6)])
    views = [(15, None), (10, MatchFilters(city="淄博")), (10, MatchFilters(city="济南")),
             (2, MatchFilters(city="青岛", include_ineligible=True)), (10, MatchFilters(city="上海")),
             (250 // 5, None)]  # a larger pool: ranked apart
    who = Principal(Role.SEEKER, key_id=1, talent_id=t[0])
    shown, in_city = 0, 0
    for tid in t:
        singles = [_uncached(a, lambda k=k, f=f: a.match_talent(tid, k, f)) for k, f in views]  # noqa: B023
        lists = a.match_talent_views(tid, views, shown_to=who if tid == t[0] else None)
        assert [_dump(x) for x in lists] == singles
        assert singles[4] == []  # a city without posts
        in_city += len(singles[1])
        assert [_dump(x) for x in a.match_talent_views(tid, views)] == singles  # cached, each list alone
        shown += len(lists[0]) if tid == t[0] else 0
    assert in_city and shown and a.outcomes.counts()["impressions"]["real"] == shown


def test_one_ranking_gives_every_list_under_a_changed_weighting(pair):
    a, _ = pair
    _d, t = _fill(a)
    a.weights = a.weights.model_copy(update={"s_location": a.weights.s_location + 3.0})
    views = [(5, None), (3, MatchFilters(city="济南")), (3, MatchFilters(education="大专"))]
    lists = a.match_talent_views(t[1], views)
    assert [_dump(x) for x in lists] == [_uncached(a, lambda k=k, f=f: a.match_talent(t[1], k, f)) for k, f in views]


def test_the_record_cache_keeps_the_two_sides_apart_and_drops_the_least_recently_used():
    cache = RecordCache(3)
    entry, person, other = object(), object(), object()
    cache.put_many("demand", {5: (1, entry)}, token="t0")
    cache.put_many("talent", {5: (7, person)}, token="t0")
    assert cache.confirmed("demand", [5], "t0") == {5: entry}
    assert cache.confirmed("talent", [5], "t0") == {5: person}
    assert cache.confirmed("talent", [5, 6], "t0") is None  # one not kept
    assert cache.confirmed("talent", [5], "t1") is None  # not confirmed at this token
    cache.confirm("talent", {5: 7}, "t1")
    cache.confirm("demand", {5: 2}, "t1")  # another version was read: not confirmed
    assert cache.confirmed("talent", [5], "t1") == {5: person}
    assert cache.confirmed("demand", [5], "t1") is None
    assert cache.snapshot("demand", [5, 6]) == {5: (1, entry)}  # demand 5 is now the most recent
    cache.put_many("talent", {6: (1, other)}, token="t1")
    cache.put_many("talent", {8: (1, other)}, token="t1")  # four kept: talent 5, used least recently, goes
    assert cache.snapshot("talent", [5]) == {} and set(cache.snapshot("demand", [5])) == {5}
    assert cache.put_absent("demand", {5: (9, other), 9: (1, other)}) == []  # full: nothing added, 5 kept as it was
    assert cache.snapshot("demand", [5])[5] == (1, entry) and len(cache) == 3
