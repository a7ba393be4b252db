"""What each role reads (over HTTP, no browser): post cards a seeker can act on, one card per
catalogue line, the desired city said plainly, a zone that respects experience, one vocabulary
for scores, organiser terms explained, fair results paged with the seekers left without an
interview, Beijing time, and no internals on any page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from matcher.domain.schemas import Catalogue, DemandEntry
from tests.conftest import demand, talent
from tests.web.web_support import csrf_of, leaks, shown_text, web_site


@pytest.fixture
def site(tmp_path, fake_encoder):
    with web_site(tmp_path, fake_encoder) as s:
        yield s


def cards(html: str) -> list[str]:
    return re.findall(r'<article class="result post".*?</article>', html, re.S)


def _catalogue(site, year: int, rows: list) -> int:
    numbered = [(n + 2, r) for n, r in enumerate(rows)]
    return site.service.import_rows("catalogue", numbered, [], catalogue=Catalogue(
        region="淄博市", year=year, name=f"淄博市{year}年目录"))["catalogue_id"]


def _seeker(site, **kw) -> str:
    [tid] = site.service.add("talent", [talent(**kw)])
    return site.service.store.create_key("seeker", talent_id=tid, label="测试")[0]


def _client(site, key: str):
    site.keys[key] = key
    return site.as_(key)


# -- seeker cards -------------------------------------------------------------------------------


def test_post_cards_show_where_who_pay_validity_and_requirements(site):
    c = site.as_("seeker")
    html = c.get("/app/me/posts").text
    found = cards(html)
    assert found
    own = next(x for x in found if "大数据开发工程师" in x)
    assert '<dd class="employer">淄博云数科技有限公司</dd>' in own
    assert '<dd class="place">淄博市' in own
    assert "9,000–15,000 元/月" in own
    assert '<dd class="validity">长期有效</dd>' in own
    assert "要求：本科及以上" in own
    catalogue = next(x for x in found if "数据分析师" in x)
    assert '<dd class="employer">目录岗位（不具名）</dd>' in catalogue
    assert "2026 年急需紧缺目录" in catalogue
    # every score is a whole percentage that links to the one definition of 匹配度
    scores = re.findall(r'<a class="score" href="/app/help#score" title="匹配度：[^"]+">匹配度 (\d+)%</a>', html)
    assert len(scores) == len(found)
    assert not re.search(r"匹配度\s*0\.\d", shown_text(html))
    assert leaks(html) == []


def test_a_catalogue_line_of_two_years_is_one_card_the_newest(site):
    line = dict(title="工业互联网平台运维工程师", enterprise_name=None, source="catalogue", city="淄博市",
                required_skills=["Python", "Linux"], chain_id="zb-industrial-internet")
    old = _catalogue(site, 2025, [demand(**line, salary_min=6000, salary_max=8000)])
    new = _catalogue(site, 2027, [demand(**line, salary_min=7000, salary_max=9000)])
    assert old != new
    key = _seeker(site, skills=["Python", "Linux"], city="淄博", preferred_cities=["淄博"])
    html = _client(site, key).get("/app/me/posts").text
    same = [x for x in cards(html) if "工业互联网平台运维工程师" in x]
    assert len(same) == 1
    assert "2027 年急需紧缺目录" in same[0] and "7,000–9,000 元/月" in same[0]


def test_a_seeker_whose_desired_city_has_no_post_is_told_so(site):
    key = _seeker(site, name="段红鹏", city="枣庄", preferred_cities=["枣庄"], skills=["Python", "Spark"])
    html = _client(site, key).get("/app/me/posts").text
    assert "您期望的城市暂无岗位，以下为其他城市" in html
    assert cards(html) and all('data-city="枣庄市"' not in x for x in cards(html))
    # a seeker in 淄博 sees 淄博's posts first, then the other cities under their own heading
    html = site.as_("seeker").get("/app/me/posts").text
    assert "您期望的城市暂无岗位" not in html
    cities = re.findall(r'<article class="result post"[^>]*data-city="([^"]+)"', html)
    assert cities[0] == "淄博市"
    if "济南市" in cities:
        assert "其他城市的岗位" in html
        assert cities.index("济南市") > max(i for i, x in enumerate(cities) if x == "淄博市")


def test_the_zone_leaves_out_posts_that_ask_for_experience(site):
    site.service.add("demand", [
        demand(title="资深数据架构师", min_experience_years=3, fresh_graduates_ok=True, enterprise_name="淄博甲公司"),
        demand(title="数据开发助理", min_experience_years=0, fresh_graduates_ok=True, enterprise_name="淄博乙公司"),
    ])
    html = site.as_("seeker").get("/app/zone").text
    titles = [re.search(r'<span class="title">([^<]+)</span>', x).group(1) for x in cards(html)]
    assert "数据开发助理" in titles and "资深数据架构师" not in titles
    assert "3 年以上工作经验" not in html
    html = site.as_("seeker").get("/app/me/posts?fresh=1").text
    assert "资深数据架构师" not in html
    html = site.as_("seeker").get("/app/me/posts").text
    assert "资深数据架构师" in html and "3 年以上工作经验" in html  # shown to everyone else, with the requirement


def test_subscriptions_are_shown_by_name(site):
    c = site.as_("seeker")
    token = csrf_of(c, "/app/zone")
    r = c.post("/app/zone/subscriptions", data={"csrf": token, "chains": "大数据与人工智能", "occupations": "2-02-10"})
    assert r.status_code == 303, r.text
    html = c.get("/app/zone").text
    assert "大数据与人工智能" in html and "职业类别 2-02-10" in html
    assert leaks(html) == []


def test_the_staff_zone_view_leaves_out_posts_that_ask_for_experience(site):
    from matcher.zone.graduates import ZoneQuery, graduate_zone

    site.service.add("demand", [
        demand(title="资深数据架构师", min_experience_years=3, fresh_graduates_ok=True, enterprise_name="淄博甲公司"),
        demand(title="数据开发助理", min_experience_years=0, fresh_graduates_ok=True, enterprise_name="淄博乙公司"),
    ])
    titles = [e.title for e in graduate_zone(site.service, ZoneQuery(top_k=100)).entries]
    assert "数据开发助理" in titles and "资深数据架构师" not in titles
    html = site.as_("admin").get("/app/zone", params={"major": "数据科学"}).text
    assert "数据开发助理" in html and "资深数据架构师" not in html
    assert "rank_by" not in html


# -- organisers -----------------------------------------------------------------------------------


def test_fair_result_names_terms_for_organisers_and_lists_seekers_without_interview(site):
    admin = site.as_("admin")
    ids = site.ids
    html = admin.get(f"/app/fairs/{ids['fair']}/runs/{ids['run']}").text
    text = shown_text(html)
    # the technical name appears only inside the explanation, as the term's other name
    assert "阻塞对" not in text.replace("（也叫阻塞对）", "") and "福利差" not in text
    assert "稳定性</a>：双方都更愿意彼此的组合" in html and "总匹配度差距" in text
    assert re.search(r'<a class="term" href="/app/help#stability" title="[^"]*双方都更愿意彼此[^"]*">', html)
    assert re.search(r'title="[^"]*为了稳定[^"]*"', html)  # the gap, explained on hover
    assert 'id="unmatched"' in html
    assert "（北京时间）" in html
    assert leaks(html) == []
    fair_page = admin.get(f"/app/fairs/{ids['fair']}").text
    assert re.search(r'title="延迟接受算法：[^"]+">延迟接受</a>', fair_page)
    assert 'name="min_score" value="30"' in fair_page  # a percentage, as everywhere
    help_page = site.client().get("/app/help").text
    assert 'id="score"' in help_page and "延迟接受算法" in help_page and "总匹配度差距" in help_page


def test_fair_result_pages_its_assignments(site):
    from matcher.domain.fair import PostIn, SeekerIn
    from matcher.fair.engine import FairCreate, FairRunOptions, create_fair, run_fair

    s = site.service
    posts = s.add("demand", [demand(title=f"数据岗位{i}", enterprise_name=f"淄博企业{i}") for i in range(3)])
    seekers = s.add("talent", [talent(name=f"求职者{i}") for i in range(30)])
    fair = create_fair(s, FairCreate(name="大型招聘会", posts=[PostIn(demand_id=p, capacity=30) for p in posts],
                                     seekers=[SeekerIn(talent_id=t, limit=3) for t in seekers]))
    run = run_fair(s, fair.id, FairRunOptions(min_score=0))
    assert len(run.assignments) > 50
    admin = site.as_("admin")
    first = admin.get(f"/app/fairs/{fair.id}/runs/{run.run_id}").text
    rows = re.findall(r'<td class="nowrap" data-label="求职者">', first)
    assert len(rows) == 50
    assert '<a href="?page=2">2</a>' in first
    last_page = -(-len(run.assignments) // 50)
    last = admin.get(f"/app/fairs/{fair.id}/runs/{run.run_id}?page={last_page}").text
    assert len(re.findall(r'data-label="求职者"', last)) == len(run.assignments) - 50 * (last_page - 1)


def test_catalogue_import_refuses_an_unknown_region_beside_its_field(site):
    admin = site.as_("admin")
    token = csrf_of(admin, "/app/catalogues")
    before = site.service.store.list_catalogues()
    r = admin.post("/app/catalogues", data={"csrf": token, "region": "火星市", "year": "2026"},
                   files={"file": ("目录.csv", "岗位名称,需求人数\n数据分析师,2\n".encode(), "text/csv")})
    assert r.status_code == 422
    assert re.search(r'<div class="error" id="e-region">未知地区：火星市', r.text)
    assert site.service.store.list_catalogues() == before


def test_error_pages_show_reasons_never_python_literals(site):
    admin = site.as_("admin")
    r = admin.get("/app/reports/gap", params={"region": "火星市", "year": "2026"})
    assert r.status_code == 422
    assert "未知地区：火星市" in r.text
    assert leaks(r.text, allow=("火星市",)) == []
    from web.common import _error_line

    assert _error_line({"field": "region"}) == ""  # a marker adds nothing to the message
    assert _error_line({"row": 3, "sheet": "岗位", "field": "学历要求", "reason": "无法识别"}) == "工作表“岗位” 第 3 行：无法识别"


def test_the_gap_report_says_at_once_that_it_is_being_made(site):
    from tests.web.test_web_gap import report_page

    admin = site.as_("admin")
    r = admin.get("/app/reports/gap", params={"region": "淄博市", "year": "2026", "threshold_pct": "50"})
    assert r.status_code == 200 and "正在生成报告：淄博市 2026 年供需缺口" in r.text
    url = re.search(r'<meta http-equiv="refresh" content="2;url=([^"]+)">', r.text).group(1).replace("&amp;", "&")
    assert "threshold_pct=50" in url
    report = report_page(site, admin, url)
    assert "适配度" in report.text and "合格阈值：匹配度 50%" in report.text


def test_times_are_shown_in_beijing_time():
    from matcher.core.localtime import local_time as core_local_time
    from web.common import local_time

    assert core_local_time("2026-06-18T01:30:00+00:00") == "2026-06-18 09:30"  # the CLI's key and audit lists

    assert local_time(datetime(2026, 6, 18, 1, 30, tzinfo=UTC)) == "2026-06-18 09:30"
    assert local_time(datetime(2026, 6, 18, 20, 5)) == "2026-06-19 04:05"  # a naive stored time is UTC


# -- no page shows internals --------------------------------------------------------------------


def test_no_page_shows_field_names_literals_or_codes(site):
    ids = site.ids
    pages = {
        "seeker": ["/app/me", "/app/me/posts", "/app/me/posts?fresh=1", "/app/zone"],
        "new_seeker": ["/app/me"],
        "enterprise": ["/app/company", "/app/company/edit", "/app/entries/new", f"/app/entries/{ids['own_demand']}/edit",
                       f"/app/entries/{ids['own_demand']}/candidates"],
        "new_enterprise": ["/app/company"],
        "admin": ["/app/catalogues", "/app/reports", "/app/fairs", f"/app/fairs/{ids['fair']}",
                  f"/app/fairs/{ids['fair']}/runs/{ids['run']}", "/app/zone?school=山东理工大学&graduation_year=2026",
                  "/app/help"],
    }
    found = {}
    for who, urls in pages.items():
        for url in urls:
            r = site.as_(who).get(url)
            assert r.status_code == 200, (who, url)
            if bad := leaks(r.text):
                found[url] = bad
    assert found == {}
    # the check itself catches what it is for
    assert leaks("<p>{'field': 'region'}</p>") and leaks("<p>rank_by=members</p>") and leaks("<td>None</td>")
    assert leaks('<input type="text" name="desired_chains" value="sd-ai">') == ["chain id sd-ai"]
    assert leaks("<p>意向职业：4-08-08-06</p>") == ["occupation code 4-08-08-06"]
    assert leaks("<td>enterprise</td>") == ["English word enterprise"]
    assert leaks("<p>匹配度 48%</p>") == []


REAL_CATALOGUE = (  # blank "same as above" cells, a note under the table, chains no registry has
    "序号,企业名称,所属产业链,岗位名称,需求人数,年薪均值（万元）\n"
    "1,山东某药业股份有限公司,济宁生物医药产业链,QA专员,2,6.5\n"
    "2,,,QC检验员,3,4.8\n"
    "备注：年薪为税前，单位万元,,,,,\n"
).encode()


def test_catalogue_page_creates_chains_shows_warnings_and_offers_to_replace(site):
    admin = site.as_("admin")
    page = admin.get("/app/catalogues").text
    assert 'name="create_chains"' in page and 'name="replace"' in page
    before = site.service.store.list_catalogues()

    def upload(**flags):
        data = {"csrf": csrf_of(admin, "/app/catalogues"), "region": "济宁市", "year": "2026", **flags}
        return admin.post("/app/catalogues", data=data, files={"file": ("目录.csv", REAL_CATALOGUE, "text/csv")},
                          follow_redirects=False)

    r = upload()  # unknown chains: refused, the row error says which choice registers them
    assert r.status_code == 422 and "新建目录中的产业链" in r.text and site.service.store.list_catalogues() == before
    r = upload(create_chains="1")
    assert r.status_code == 200, r.text
    text = shown_text(r.text)
    assert "已导入 2 条目录条目" in text and "已新建 1 条产业链" in text
    [chain] = [c for c in site.service.store.list_chains() if c.name == "济宁生物医药产业链"]
    created = re.search(r'<div class="card" id="created-chains">.*?</div>\s*</div>', r.text, re.S).group(0)
    assert chain.id in created and "济宁生物医药产业链" in created
    warned = re.search(r'<div class="card" id="import-warnings">.*?</div>', r.text, re.S).group(0)
    assert "同上" in warned and "第 3 行" in warned and "备注" in warned
    [cat] = [c for c in site.service.store.list_catalogues() if c not in before]

    r = upload(create_chains="1")  # the same catalogue again: explained, 替换 offered (ticked), nothing doubled
    assert r.status_code == 409
    box = re.search(r'<div class="card" role="alert" id="duplicate">.*?</div>', r.text, re.S).group(0)
    assert "已经导入过" in box and f"目录编号 {cat['id']}" in box and "替换已有目录" in box
    assert re.search(r'name="replace" value="1"\s+checked', r.text)
    assert sorted(site.service.store.list_catalogues(), key=str) == sorted(before + [cat], key=str)

    r = upload(replace="1")
    assert r.status_code == 200, r.text
    assert f"已替换原目录（编号 {cat['id']}，2 条）" in shown_text(r.text)
    [now] = [c for c in site.service.store.list_catalogues() if c not in before]
    assert now["entries"] == 2 and now["id"] != cat["id"] and len(site.service.store.list_catalogues()) == len(before) + 1


def _unsettle(site, entry_id: int, confidence: float = 0.2) -> DemandEntry:
    """The entry as if the coder had coded its occupation below the confidence threshold."""
    entry = site.service.get("demand", entry_id)
    assert entry.occupation_code and entry.occupation_name
    site.service.update("demand", entry_id, entry.model_copy(update={"occupation_confidence": confidence}))
    stored = site.service.get("demand", entry_id)
    assert stored.occupation_confidence == confidence and not stored.occupation_settled
    return stored


def test_an_unsettled_occupation_is_shown_as_to_be_confirmed_everywhere(site):
    own, theirs = site.ids["own_demand"], site.ids["other_demand"]
    entry = _unsettle(site, own)
    settled = site.service.get("demand", theirs)
    assert settled.occupation_settled  # no confidence stored: the code stands as given
    company = site.as_("enterprise").get("/app/company").text
    row = re.search(rf'<tr data-entry-id="{own}">.*?</tr>', company, re.S).group(0)
    assert entry.occupation_name in row and "待确认" in row
    header = re.search(r"<p class=\"muted\">.*?</p>", site.as_("enterprise").get(
        f"/app/entries/{own}/candidates").text, re.S).group(0)
    assert entry.occupation_name in header and "待确认" in header

    posts = cards(site.as_("seeker").get("/app/me/posts").text)
    mine = [c for c in posts if f'data-match-id="{own}"' in c]
    other = [c for c in posts if f'data-match-id="{theirs}"' in c]
    assert mine and "待确认" in mine[0] and entry.occupation_name in mine[0]
    assert other and "待确认" not in other[0] and settled.occupation_name in other[0]


def test_editing_an_entry_keeps_the_coders_doubt_unless_the_code_is_changed(site):
    own = site.ids["own_demand"]
    entry = _unsettle(site, own)
    client = site.as_("enterprise")
    form = {"csrf": csrf_of(client, f"/app/entries/{own}/edit"), "title": entry.title,
            "occupation_code": entry.occupation_code, "city": "淄博", "headcount": "3", "education": "本科",
            "required_skills": "Python, Spark"}
    r = client.post(f"/app/entries/{own}/edit", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    now = site.service.get("demand", own)
    assert now.headcount == 3 and now.occupation_confidence == 0.2 and not now.occupation_settled
    other_code = site.service.get("demand", site.ids["other_demand"]).occupation_code
    assert other_code != entry.occupation_code
    form = {**form, "csrf": csrf_of(client, f"/app/entries/{own}/edit"), "occupation_code": other_code}
    assert client.post(f"/app/entries/{own}/edit", data=form, follow_redirects=False).status_code == 303
    now = site.service.get("demand", own)
    assert now.occupation_code == other_code and now.occupation_confidence is None and now.occupation_settled


def test_the_gap_report_counts_unsettled_entries_per_occupation(site):
    [first, second] = site.service.store.get_catalogue(site.ids["catalogue"]).entries
    _unsettle(site, first.id)
    from tests.web.test_web_gap import report_page

    r = report_page(site, site.as_("admin"), "/app/reports/gap?region=淄博市&year=2026")
    section = re.search(r'<section id="occupations">.*?</section>', r.text, re.S).group(0)
    assert "职业待确认" in section and "其中 1 个条目的职业" in section
    row = [tr for tr in re.findall(r"<tr.*?</tr>", section, re.S) if first.occupation_name in tr][0]
    assert re.search(r'<td class="n unsettled">1</td>', row)
    assert section.count('<td class="n unsettled">1</td>') == 1


def test_the_posts_page_ranks_the_seeker_once_for_every_desired_city(site, monkeypatch):
    """The overall list and each desired city's best posts come from one retrieval and one
    scoring; the page is the one the lists ranked one by one give."""
    from web.posts import seeker_posts

    key = _seeker(site, skills=["Python", "Spark"], city="淄博", preferred_cities=["淄博", "济南", "青岛"])
    svc = site.service
    tid = svc.accounts.authenticate(key).talent_id
    retrievals = []
    real = svc.indexes.candidates
    monkeypatch.setattr(svc.indexes, "candidates", lambda *a, **kw: retrievals.append(a[0]) or real(*a, **kw))
    html = _client(site, key).get("/app/me/posts").text
    assert retrievals == ["demand"] and cards(html)

    def one_by_one(talent_id, views, *, shown_to=None, profile=None):  # the lists asked one at a time
        return [svc.match_talent(talent_id, k, f, shown_to=shown_to if n == 0 else None, profile=profile)
                for n, (k, f) in enumerate(views)]

    from matcher.domain.schemas import MatchFilters

    svc.results.clear()
    together = seeker_posts(svc, tid, MatchFilters())
    svc.results.clear()
    monkeypatch.setattr(svc, "match_talent_views", one_by_one)
    apart = seeker_posts(svc, tid, MatchFilters())
    assert [(c.match.model_dump(), c.employer, c.city) for c in together[0]] == \
        [(c.match.model_dump(), c.employer, c.city) for c in apart[0]] and together[1] == apart[1]
    assert len(retrievals) > 2  # one by one: one retrieval per list
