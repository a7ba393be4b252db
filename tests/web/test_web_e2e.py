"""The web pages, driven in headless Chromium (Debian's package) against a real server on loopback.

Each journey is what a user does: sign in with a key, fill the forms (with a mistake first),
read the results. Screenshots of the main pages go to ``tests/artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from api.app import create_app
from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.domain.schemas import Enterprise
from matcher.service import MatchService
from matcher.wiring import build_service
from tests.conftest import demand, talent
from tests.live_server import live_server

CHROMIUM = os.environ.get("TALENTMATCH_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(__file__).parents[1] / "artifacts" / "screenshots"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]

if not Path(CHROMIUM).exists():  # a laptop without the browser; `make test` installs it
    pytest.skip(f"browser tests skipped: no Chromium at {CHROMIUM} (`make browser` installs Debian's)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


@dataclass
class Site:
    url: str
    service: MatchService
    keys: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory, fake_encoder) -> Iterator[Site]:

    # every journey signs in from 127.0.0.1 after one wrong key, on one server for the module: more
    # failures a minute than the default limit allows one address (tests/test_ratelimit.py tests it)
    settings = Settings(data_dir=tmp_path_factory.mktemp("web") / "var", reference_dir=PROJECT_ROOT / "data",
                        encoder="fake", auth_failures_per_ip="1000/minute")
    svc = build_service(settings, encoder=fake_encoder)
    ent = svc.store.add_enterprise(Enterprise(name="淄博云数科技有限公司", city="淄博市"))
    svc.add("demand", [
        demand(title="大数据开发工程师", enterprise_id=ent.id, enterprise_name=None, required_skills=["Python", "Spark", "Hive"],
               salary_min=9000, salary_max=15000, description="负责数据仓库与实时计算平台开发"),
        demand(title="PLC电气工程师", required_skills=["PLC编程", "电气控制"], city="济南", enterprise_name="济南智造装备有限公司"),
        demand(title="数据分析师", required_skills=["SQL", "Python", "Tableau"], city="淄博", shortage_level=4,
               enterprise_name="淄博新材料集团"),
    ])
    [_, zhao] = svc.add("talent", [
        talent(name="李四", phone="13900001111", skills=["PLC编程", "电气控制", "Python"], consent=False),
        talent(name="赵敏", phone="13700002222", skills=["Python", "Spark", "SQL"], consent=True),
    ])
    keys = {"seeker": svc.store.create_key("seeker", label="2026届毕业生")[0],
            "graduate": svc.store.create_key("seeker", talent_id=zhao, label="应届生")[0],
            "enterprise": svc.store.create_key("enterprise", label="HR")[0],
            "admin": svc.store.create_key("admin", label="人社局")[0],
            "organiser": svc.store.create_key("organiser", label="招聘会组委会")[0]}
    with live_server(create_app(settings, svc)) as base:
        yield Site(base, svc, keys)
    svc.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    phone = "phone" in request.node.name
    context = browser.new_context(viewport={"width": 390, "height": 844} if phone else {"width": 1200, "height": 900},
                                  locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []

    def watch(p) -> None:
        p.on("pageerror", lambda e: errors.append(str(e)))
        # anything the Content-Security-Policy blocked (an inline style or script) is a failure too
        p.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)

    watch(pg)
    context.on("page", watch)  # pages opened from this one (the gap report's new window)
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors or blocked content: {errors}"


DOC_SHOTS = Path(__file__).parents[2] / "docs" / "img"


def shot(page, name: str, *, doc: str | None = None) -> None:
    """A screenshot into tests/artifacts/screenshots; with ``doc`` and TALENTMATCH_DOC_SHOTS=1,
    also into docs/img (the README's pictures), viewport-sized so the files stay small."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    if doc and os.environ.get("TALENTMATCH_DOC_SHOTS") == "1":
        page.screenshot(path=str(DOC_SHOTS / f"{doc}.png"), full_page=False)


def no_internals(page, allow: tuple[str, ...] = ()) -> None:
    """The page shows no English field name, Python literal or raw code where a name belongs."""
    from tests.web.web_support import leaks

    assert leaks(page.content(), allow=allow) == [], (page.url, leaks(page.content(), allow=allow))


def sign_in(page, site: Site, who: str) -> None:
    page.goto(site.url + "/app")
    assert "/login" in page.url  # not signed in: sent to the sign-in page, the target remembered
    page.fill("#f-key", "tm_wrong_key")
    page.click("button[type=submit]")
    assert page.locator("#e-key").inner_text() == "密钥无效或已吊销"
    page.fill("#f-key", site.keys[who])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def test_seeker_creates_a_profile_and_sees_posts_with_reasons_phone(site, page):
    sign_in(page, site, "seeker")
    assert page.url.endswith("/app/me")
    cookie = next(c for c in page.context.cookies() if c["name"] == "tm_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and site.keys["seeker"] not in cookie["value"]
    talents_before = site.service.store.count("talent")
    page.fill("#f-name", "王小明")
    page.fill("#f-phone", "13812345678")
    page.select_option("#f-education", "本科")
    page.fill("#f-major", "数据科学与大数据技术")
    page.check("input[name=fresh_graduate]")
    page.fill("#f-skills", "Python、Spark，SQL")
    page.fill("#f-city", "淄博")
    page.fill("#f-salary_min", "12000")
    page.fill("#f-salary_max", "8000")  # a mistake: shown next to the field, nothing saved
    page.click("button:has-text('保存档案')")
    assert page.locator("#e-salary_min").inner_text() == "薪资下限不能大于上限"
    assert page.locator("#f-skills").input_value() == "Python、Spark，SQL"  # what was typed stays
    assert site.service.store.count("talent") == talents_before
    page.fill("#f-salary_max", "16000")
    page.click("button:has-text('保存档案')")
    page.wait_for_url("**/app/me/posts**")
    assert page.locator(".flash.ok").inner_text() == "档案已保存"
    cards = page.locator("article.result")
    assert cards.count() >= 2
    first = cards.first
    assert first.locator(".title").inner_text() == "大数据开发工程师"
    # the card says who, where, what it pays, until when and what it asks, and links 匹配度 to its definition
    assert first.locator(".employer").inner_text() == "淄博云数科技有限公司"
    assert first.locator(".place").inner_text().startswith("淄博市")
    assert first.locator(".salary").inner_text() == "9,000–15,000 元/月"
    assert first.locator(".validity").inner_text()
    assert "本科及以上" in first.locator(".requirements").inner_text()
    assert first.locator("a.score").get_attribute("href") == "/app/help#score"
    assert first.locator(".chip.ok").all_inner_texts() == ["Python", "Spark"]
    assert first.locator(".chip.miss").all_inner_texts() == ["Hive"]
    assert "数字技术工程师" in first.locator(".training").inner_text()
    no_internals(page, allow=("王小明",))
    shot(page, "seeker-posts-phone", doc="web-seeker-posts-phone")
    # the profile page shows what was saved; the filter narrows the list
    page.goto(site.url + "/app/me/posts?city=济南")
    assert all("PLC" in t for t in page.locator("article .title").all_inner_texts())
    page.goto(site.url + "/app/me")
    assert page.locator("#f-name").input_value() == "王小明"
    # the hint's own example is accepted, and saved chains come back as names
    page.fill("#f-desired_chains", "新一代信息技术")
    page.locator("#f-desired_occupations").press_sequentially("数据分析")  # names are suggested as one types
    page.locator("#desired-occupation-suggestions button").first.wait_for()
    suggested = page.locator("#desired-occupation-suggestions button").first.inner_text()
    page.locator("#desired-occupation-suggestions button").first.click()
    assert page.locator("#f-desired_occupations").input_value() == suggested
    page.fill("#f-phone", "12345")  # a mistake, marked beside its field
    page.click("button:has-text('保存档案')")
    assert "电话号码格式不正确" in page.locator("#e-phone").inner_text()
    assert page.locator("#e-desired_chains").count() == 0
    assert page.locator(".error-list a[href='#f-phone']").inner_text() == "手机号"
    shot(page, "seeker-profile-errors-phone", doc="web-seeker-form-errors-phone")
    page.fill("#f-phone", "13812345678")
    page.click("button:has-text('保存档案')")
    page.wait_for_url("**/app/me/posts**")
    page.goto(site.url + "/app/me")
    assert "人工智能" in page.locator("#f-desired_chains").input_value()
    assert page.locator("#f-desired_occupations").input_value() == suggested  # stored as a code, shown as the name
    [me] = [t for t in site.service.store.list("talent", limit=100)[0] if t.name == "王小明"]
    assert len(me.desired_occupations) == 1 and re.fullmatch(r"\d-\d{2}-\d{2}-\d{2}", me.desired_occupations[0])
    no_internals(page, allow=("王小明",))
    shot(page, "seeker-profile-phone")


def test_enterprise_posts_an_entry_and_sees_masked_candidates(site, page):
    sign_in(page, site, "enterprise")
    assert page.url.endswith("/app/company")
    page.fill("#f-name", "")
    page.click("button:has-text('登记')")
    assert page.locator("#e-name").is_visible()
    page.fill("#f-name", "淄博智能装备有限公司")
    page.fill("#f-city", "淄博市")
    page.click("button:has-text('登记')")
    page.wait_for_url("**/app/company**")
    page.click("text=发布新需求")
    page.fill("#f-title", "PLC电气工程师")  # typing suggests occupation codes
    page.locator("#occupation-suggestions button").first.wait_for()
    suggestion = page.locator("#occupation-suggestions button").first.inner_text()
    page.locator("#occupation-suggestions button").first.click()
    assert page.locator("#f-occupation_code").input_value() == suggestion.split()[0]
    page.fill("#f-required_skills", "PLC编程、电气控制")
    page.fill("#f-city", "淄博")
    page.fill("#f-headcount", "0")  # a mistake
    page.click("button:has-text('发布')")
    assert page.locator("#e-headcount").inner_text() == "不能小于 1"
    page.fill("#f-headcount", "2")
    page.click("button:has-text('发布')")
    page.wait_for_url("**/candidates**")
    shot(page, "enterprise-candidates")
    names = page.locator("article .title").all_inner_texts()
    assert names[0] == "李*"  # the best candidate did not consent: masked
    assert "139****1111" in page.locator("article").first.inner_text()
    assert "13900001111" not in page.content() and "李四" not in page.content()
    assert "赵敏" in names  # consented: shown
    views = site.service.store.list_audit(action="view", resource="talent")[1]
    assert views >= 2
    page.click("text=返回需求列表")
    assert page.locator("tr[data-entry-id]").count() == 1
    no_internals(page)
    shot(page, "enterprise-entries")
    # the registration can be edited; a wrong credit code is marked beside its field
    page.click("text=修改企业信息")
    page.fill("#f-credit_code", "91350100M000100Y44")
    page.click("button:has-text('保存')")
    assert "校验位" in page.locator("#e-credit_code").inner_text()
    page.fill("#f-credit_code", "91350100M000100Y43")  # the example printed in GB 32100-2015
    page.fill("#f-chain_id", "智能装备与工业机器人")
    page.click("button:has-text('保存')")
    page.wait_for_url("**/app/company?saved=**")
    assert "智能装备与工业机器人" in page.locator("p.muted").first.inner_text()
    assert "91350100M000100Y43" in page.content()


def test_pages_refuse_cross_site_posts_and_show_no_tracebacks(site, page):
    sign_in(page, site, "seeker")
    resp = page.request.post(site.url + "/app/me", form={"csrf": "forged", "name": "X"},
                             headers={"Origin": "https://evil.example"})
    assert resp.status == 403 and "跨站" in resp.text()
    resp = page.request.post(site.url + "/app/me", form={"csrf": "forged", "name": "X"})
    assert resp.status == 403 and "Traceback" not in resp.text()
    resp = page.request.get(site.url + "/app/entries/99999/candidates")
    assert resp.status == 403  # a seeker may not use enterprise pages
    page.goto(site.url + "/app/nowhere")
    assert "页面或记录不存在" in page.content()


def test_no_key_in_any_url(site, page):
    sign_in(page, site, "seeker")
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(site.url + "/app/me/posts")
    assert seen and all("tm_" not in u for u in seen)


def test_administrator_imports_a_catalogue_and_opens_the_gap_report(site, page, tmp_path):
    bad = tmp_path / "目录.csv"
    bad.write_text("岗位名称,所属产业链,紧缺星级,学历要求,任职能力要求,需求人数,工作地点\n"
                   "大数据开发工程师,大数据与人工智能,★★★★,本科,熟悉Python、Spark,3,淄博\n"
                   "数据分析师,大数据与人工智能,★★★,本科,熟悉SQL、Python,很多,淄博\n", encoding="utf-8")
    sign_in(page, site, "admin")
    page.goto(site.url + "/app/catalogues")
    page.set_input_files("#f-file", str(bad))
    page.fill("#f-region", "淄博市")
    page.fill("#f-year", "2026")
    page.click("button:has-text('导入')")
    rows = page.locator("table.row-errors tbody tr")
    assert rows.count() == 1 and rows.first.locator("td").first.inner_text() == "3"
    assert "需求人数" in rows.first.inner_text()
    shot(page, "admin-catalogue-errors")
    assert site.service.store.list_catalogues() == []
    bad.write_text(bad.read_text(encoding="utf-8").replace("很多", "2"), encoding="utf-8")
    page.set_input_files("#f-file", str(bad))
    page.fill("#f-region", "淄博市")
    page.fill("#f-year", "2026")
    page.click("button:has-text('导入')")
    assert page.locator(".flash.ok").inner_text() == "已导入 2 条目录条目"
    page.goto(site.url + "/app/reports")
    with page.context.expect_page() as report_page:
        page.click("button:has-text('生成报告')")
    report = report_page.value
    # a page shows the progress (app.js follows the background computation), then the report
    report.wait_for_selector("text=适配度", timeout=120_000)
    report.wait_for_load_state()
    assert "适配度" in report.content() and "淄博市" in report.content()
    shot(report, "admin-gap-report")


def _fair_workbook(path: Path, seeker_limit: object) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    posts = wb.active
    posts.title = "岗位"
    posts.append(["需求ID", "面试名额", "展位"])
    posts.append([1, 2, "A01"])
    posts.append([2, 2, "B02"])
    posts.append([None, 1, "C03"])  # a new post, given in full
    posts["D1"], posts["E1"], posts["F1"] = "岗位名称", "企业名称", "技能要求"
    posts["D4"], posts["E4"], posts["F4"] = "Java开发工程师", "淄博软件园有限公司", "Java、Spring"
    seekers = wb.create_sheet("求职者")
    seekers.append(["人才ID", "姓名", "技能", "面试上限"])
    seekers.append([1, None, None, 2])
    seekers.append([None, "孙悟", "Python、SQL", seeker_limit])
    seekers.append([2, None, None, 3])
    wb.save(path)
    return path


def test_organiser_uploads_a_fair_fixes_a_row_runs_and_downloads(site, page, tmp_path):
    from openpyxl import load_workbook

    sign_in(page, site, "organiser")
    assert page.url.endswith("/app/fairs")
    page.set_input_files("#f-file", str(_fair_workbook(tmp_path / "招聘会.xlsx", "很多")))
    page.fill("#f-name", "淄博高校数字人才招聘会")
    page.click("button:has-text('上传并创建活动')")
    errors = page.locator("table.row-errors tbody tr")
    assert errors.count() == 1
    cells = errors.first.locator("td").all_inner_texts()
    assert cells[0] == "求职者" and cells[1] == "3" and cells[4] == "很多"
    shot(page, "organiser-fair-errors")
    page.set_input_files("#f-file", str(_fair_workbook(tmp_path / "招聘会.xlsx", 2)))
    page.fill("#f-name", "淄博高校数字人才招聘会")
    page.click("button:has-text('上传并创建活动')")
    page.wait_for_url("**/app/fairs/*")
    assert "3 个岗位" in page.content() and "3 位求职者" in page.content()
    page.check("input[value=stable]")
    page.fill("#f-min_score", "0")
    page.click("button:has-text('开始匹配')")
    page.wait_for_url("**/runs/*", timeout=120_000)  # the progress page follows the job, then moves on
    summary = page.locator("[data-summary]")
    assert summary.locator("[data-k=blocking_pairs]").inner_text() == "0"  # stable: no pair prefers each other
    assert int(summary.locator("[data-k=interviews]").inner_text()) >= 3
    assert "总匹配度差距" in summary.inner_text() and "福利差" not in summary.inner_text()
    no_internals(page)
    shot(page, "organiser-fair-result")
    with page.expect_download() as dl:
        page.click("text=下载 XLSX")
    saved = tmp_path / "result.xlsx"
    dl.value.save_as(saved)
    book = load_workbook(saved)
    assert {"分配结果", "展位日程", "求职者日程", "未安排面试", "汇总"} <= set(book.sheetnames)
    assert book["分配结果"].max_row >= 4  # a header and the interviews


def test_graduate_sees_the_zone_and_subscribes_phone(site, page):
    sign_in(page, site, "graduate")  # a seeker whose profile exists, whatever ran before
    page.goto(site.url + "/app/zone")
    assert page.locator("article.result").count() >= 1
    page.fill("#f-chains", "没有这条产业链")
    page.click("button:has-text('订阅')")
    assert "未知产业链" in page.locator("#e-chains").inner_text()
    page.fill("#f-chains", "")
    page.fill("#f-cities", "淄博")
    page.click("button:has-text('订阅')")
    assert page.locator(".flash.ok").is_visible()
    shot(page, "seeker-zone-phone")


def _big_fair(site: Site) -> str:
    """A fair with more seekers than interviews: some get none. Returns its result page."""
    from matcher.domain.fair import PostIn, SeekerIn
    from matcher.fair.engine import FairCreate, FairRunOptions, create_fair, run_fair

    s = site.service
    posts = s.add("demand", [demand(title=t, enterprise_name=e, required_skills=k) for t, e, k in (
        ("大数据开发工程师", "淄博市高新区数字经济产业园管理有限公司", ["Python", "Spark"]),
        ("工业机器人运维工程师", "山东鲁中智能装备制造集团股份有限公司", ["PLC编程", "工业机器人"]),
        ("数据分析师", "淄博新材料集团", ["SQL", "Python"]))])
    names = ["欧阳明轩", "司马思雨", "王芳", "李建国", "张晓燕", "刘洋", "陈静怡", "杨帆", "赵磊", "黄晓丽", "周杰", "吴敏"]
    seekers = s.add("talent", [talent(name=n, phone=f"1390000{i:04d}", skills=["Python", "SQL", "PLC编程"][: 1 + i % 3],
                                       school="山东理工大学") for i, n in enumerate(names)])
    fair = create_fair(s, FairCreate(name="淄博市数字人才对接会", posts=[PostIn(demand_id=p, capacity=3) for p in posts],
                                     seekers=[SeekerIn(talent_id=t, limit=1) for t in seekers]))
    run = run_fair(s, fair.id, FairRunOptions(min_score=0))
    assert run.report.unmatched  # 12 seekers, 9 interviews
    return f"{site.url}/app/fairs/{fair.id}/runs/{run.run_id}"


def test_fair_results_are_a_card_list_on_a_phone_phone(site, page):
    url = _big_fair(site)
    sign_in(page, site, "organiser")
    page.goto(url)
    assert page.locator("table[data-assignments] thead").is_hidden()  # cards, not a wide table
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing to scroll sideways: the reasons are all on the screen
    first = page.locator("table[data-assignments] tbody tr").first
    assert first.locator("td[data-label=理由]").is_visible()
    box = first.locator("td.reason").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    rows = page.locator("table[data-unmatched] tbody tr")
    assert rows.count() == 3 and rows.first.locator("td.reason").inner_text()
    no_internals(page)
    shot(page, "organiser-fair-result-phone", doc="web-organiser-fair-result-phone")


def test_fair_result_names_stay_whole_on_desktop(site, page):
    url = _big_fair(site)
    sign_in(page, site, "organiser")
    page.goto(url)
    cells = page.locator("table[data-assignments] tbody tr td[data-label=求职者] span.nm")
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    for i in range(cells.count()):
        assert cells.nth(i).bounding_box()["height"] < 1.5 * line  # one line, not a character per line
    ent = page.locator("table[data-assignments] tbody tr td[data-label=企业] span.nm").first
    assert ent.bounding_box()["height"] < 1.5 * line
    stat = page.locator("[data-summary] a.term[href='/app/help#stability']")
    assert "双方都更愿意彼此" in stat.get_attribute("title")
    no_internals(page)
    shot(page, "organiser-fair-result", doc="web-organiser-fair-result")


def test_seeker_far_from_every_post_is_told_so_phone(site, page):
    [tid] = site.service.add("talent", [talent(name="段红鹏", city="枣庄", preferred_cities=["枣庄"],
                                               skills=["Python", "SQL"])])
    site.keys["zaozhuang"] = site.service.store.create_key("seeker", talent_id=tid, label="枣庄求职者")[0]
    sign_in(page, site, "zaozhuang")
    page.goto(site.url + "/app/me/posts")
    assert page.locator("[data-note]").inner_text() == "您期望的城市暂无岗位，以下为其他城市"
    places = page.locator("article.result .place").all_inner_texts()
    assert places and not any("枣庄" in p for p in places)
    page.locator("article.result a.score").first.click()
    page.wait_for_url("**/app/help#score")
    assert "匹配度" in page.locator("#score").inner_text()
    shot(page, "seeker-help-phone")


@pytest.fixture(scope="session", autouse=True)
def _clean_shots() -> None:
    shutil.rmtree(SHOTS, ignore_errors=True)


HOSTILE_NAME = "<img src=x onerror=alert('name')>"
HOSTILE_TITLE = "PLC运维工程师<script>alert('title')</script>"
HOSTILE_TEXT = "\"'><svg onload=alert('text')><tm-x onclick=alert(1)>"


def _assert_nothing_injected(page, dialogs: list[str], where: str) -> None:
    page.wait_for_load_state("load")
    assert dialogs == [], (where, dialogs)
    injected = page.evaluate("""() => ({
        inline_scripts: [...document.scripts].filter(s => !s.src).length,
        handlers: [...document.querySelectorAll('*')].filter(e =>
            [...e.attributes].some(a => a.name.startsWith('on'))).length,
        foreign: document.querySelectorAll('img[src="x"], svg[onload], tm-x').length,
    })""")
    assert injected == {"inline_scripts": 0, "handlers": 0, "foreign": 0}, (where, injected)


def test_hostile_names_and_titles_are_shown_as_text_and_never_run(site, page):
    """A seeker and an enterprise type markup into their names, titles and texts; every page that
    shows them runs no script and holds no element the markup would have made."""
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    keys = {"hostile_seeker": site.service.store.create_key("seeker", label=HOSTILE_TEXT)[0],
            "hostile_enterprise": site.service.store.create_key("enterprise", label=HOSTILE_NAME)[0]}
    site.keys.update(keys)
    sign_in(page, site, "hostile_seeker")
    page.fill("#f-name", HOSTILE_NAME)
    page.fill("#f-phone", "13811112222")
    page.fill("#f-skills", "PLC编程、电气控制、Python")
    page.fill("#f-major", HOSTILE_TEXT)
    page.fill("#f-summary", HOSTILE_TITLE)
    page.check("input[name=consent]")
    page.click("button:has-text('保存档案')")
    page.wait_for_url("**/app/me/posts**")
    page.context.clear_cookies()
    sign_in(page, site, "hostile_enterprise")
    page.fill("#f-name", HOSTILE_NAME + "淄博")
    page.fill("#f-description", HOSTILE_TITLE)
    page.click("button:has-text('登记')")
    page.wait_for_url("**/app/company**")
    _assert_nothing_injected(page, dialogs, "company page")
    assert HOSTILE_NAME + "淄博" in page.locator("h1").inner_text()  # shown as the text it is
    page.goto(site.url + "/app/entries/new")
    page.fill("#f-title", HOSTILE_TITLE)
    page.fill("#f-required_skills", "PLC编程、电气控制")
    page.fill("#f-description", HOSTILE_TEXT)
    page.fill("#f-city", "淄博")
    page.click("button:has-text('发布')")
    page.wait_for_url("**/candidates**")
    _assert_nothing_injected(page, dialogs, "candidates page")
    assert HOSTILE_TITLE in page.locator("h1").inner_text()
    assert HOSTILE_NAME in page.locator("article .title").all_inner_texts()  # consented: the name, as text
    page.goto(site.url + "/app/company")
    _assert_nothing_injected(page, dialogs, "company page with the post")
    assert HOSTILE_TITLE in page.locator("tr[data-entry-id] td").first.inner_text()
    page.locator("tr[data-entry-id] a:has-text('修改')").first.click()
    _assert_nothing_injected(page, dialogs, "edit page")
    assert page.locator("#f-title").input_value() == HOSTILE_TITLE
    page.context.clear_cookies()
    sign_in(page, site, "hostile_seeker")
    for url in ("/app/me/posts", "/app/me/posts?city=" + HOSTILE_NAME + "&chain=" + HOSTILE_TEXT, "/app/me",
                "/app/zone", "/login?next=\"><script>alert(document.domain)</script>"):
        page.goto(site.url + url)
        _assert_nothing_injected(page, dialogs, url)
    page.goto(site.url + "/app/me/posts")
    assert any(HOSTILE_TITLE in t for t in page.locator("article .title").all_inner_texts())
    shot(page, "hostile-posts")


def test_seeker_applies_and_the_enterprise_invites_and_hires_with_the_outcome_buttons(site, page):
    """The outcome buttons: the graduate applies from a post card; the enterprise invites and
    then hires from its candidate list. Each click is one POST form (CSRF token, no script)."""
    store = site.service.store
    entry = next(e for e in store.list("demand")[0] if e.title == "大数据开发工程师")
    zhao = next(t for t in store.list("talent")[0] if t.name == "赵敏")
    site.keys.setdefault("hr", store.create_key("enterprise", enterprise_id=entry.enterprise_id, label="HR2")[0])
    sign_in(page, site, "graduate")
    page.goto(site.url + "/app/me/posts")
    card = page.locator(f"article.result[data-match-id='{entry.id}']")
    assert card.locator(".outcome-actions button").all_inner_texts() == ["申请", "收藏", "不感兴趣"]
    card.locator("button:has-text('申请')").click()
    page.wait_for_url("**/app/me/posts?saved=**")
    assert page.locator(".flash.ok").inner_text() == "已记录：申请"
    [applied], _ = site.service.outcomes.events(talent_id=zhao.id, kind="applied")
    assert applied["demand_id"] == entry.id and applied["rank"] >= 1 and applied["source"] == "seeker"
    page.context.clear_cookies()

    sign_in(page, site, "hr")
    url = f"{site.url}/app/entries/{entry.id}/candidates"
    for label, kind in (("约面试", "invited"), ("已录用", "hired")):
        page.goto(url)
        card = page.locator(f"article.result[data-match-id='{zhao.id}']")
        assert card.locator(".outcome-actions button").all_inner_texts() == ["约面试", "不合适", "已录用"]
        card.locator(f"button:has-text('{label}')").click()
        page.wait_for_url("**/candidates?saved=**")
        assert page.locator(".flash.ok").inner_text() == f"已记录：{label}"
        [event], _ = site.service.outcomes.events(talent_id=zhao.id, demand_id=entry.id, kind=kind)
        assert event["source"] == "enterprise" and event["rank"] >= 1
    shot(page, "enterprise-candidates-outcomes")
