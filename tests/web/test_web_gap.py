"""The gap report page: the progress page while the report is computed in the background, the
report once it is ready, one computation for many viewers, a new computation after a write. No
timing is asserted: the tests wait for the background computation to end."""

from __future__ import annotations

import re

import pytest

from matcher.analytics.cache import report_cache
from tests.conftest import talent
from tests.gap_hold import WAIT, hold_gap_reports
from tests.web.web_support import web_site

URL = "/app/reports/gap?region=淄博市&year=2026"


@pytest.fixture
def site(tmp_path, fake_encoder):
    with web_site(tmp_path, fake_encoder) as s:
        yield s
        wait_for_reports(s)


def wait_for_reports(site) -> None:
    """Let every report being computed end (before the test's data is dropped)."""
    for build in report_cache(site.service).running():
        assert build.done.wait(WAIT), "a gap report never finished"


def report_page(site, client, url: str):
    """The report page of ``url``: asked once (the computation starts), waited for, asked again."""
    r = client.get(url)
    assert r.status_code == 200, r.text[:300]
    if "正在生成报告" in r.text:
        wait_for_reports(site)
        r = client.get(url)
    assert r.status_code == 200 and "正在生成报告" not in r.text and "适配度" in r.text
    return r


@pytest.fixture
def held(monkeypatch):
    yield from hold_gap_reports(monkeypatch, 0.42, "人岗评分：<b>20/48</b> 条需求")


def test_cold_the_page_shows_progress_without_inline_script(site, held):
    started, release, calls = held
    admin = site.as_("admin")
    r = admin.get(URL)
    assert r.status_code == 200
    assert started.wait(WAIT)
    r = admin.get(URL)  # while it runs: the stage and the percentage
    page = r.text
    assert "正在生成报告" in page and "淄博市 2026 年供需缺口" in page
    assert '<progress class="report-progress" max="100" value="42"' in page and "42%" in page
    assert "人岗评分：&lt;b&gt;20/48&lt;/b&gt; 条需求" in page  # escaped
    assert '<noscript><meta http-equiv="refresh" content="2;url=/app/reports/gap?' in page
    status_url = re.search(r'data-job-status="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert "<script>" not in page and "onload" not in page  # the CSP forbids inline script: app.js polls
    assert "script-src" in r.headers["content-security-policy"]
    status = admin.get(status_url).json()
    assert status["state"] == "running" and status["progress"] == 0.42
    assert "42%" in status["message"] and status["next"].startswith("/app/reports/gap?region=")
    release.set()
    wait_for_reports(site)
    report = admin.get(URL)
    assert "适配度" in report.text and "正在生成报告" not in report.text
    assert admin.get(status_url).json()["state"] == "done"
    assert calls == ["淄博市"]


def test_warm_the_report_is_shown_at_once_and_computed_once_for_everyone(site, held):
    started, release, calls = held
    admin, organiser = site.as_("admin"), site.as_("organiser")
    assert "正在生成报告" in admin.get(URL).text
    assert started.wait(WAIT)
    # others open the same report while it is computed: they are shown its progress, no new computation
    for c in (admin, organiser, organiser):
        assert "正在生成报告" in c.get(URL).text
    release.set()
    wait_for_reports(site)
    first, second = admin.get(URL), organiser.get(URL)
    assert "适配度" in first.text and "适配度" in second.text
    assert calls == ["淄博市"]
    assert report_cache(site.service).computed == 1


def test_a_write_makes_the_page_compute_again(site):
    admin = site.as_("admin")
    before = report_page(site, admin, URL)
    site.service.add("talent", [talent(name="新人才", city="淄博", skills=["Python"])])
    r = admin.get(URL)
    assert "正在生成报告" in r.text  # the kept report is of older data
    after = report_page(site, admin, URL)
    assert after.text != before.text
    assert report_cache(site.service).computed == 2


def test_a_failed_report_is_an_error_page(site):
    admin = site.as_("admin")
    url = "/app/reports/gap?region=淄博市&year=2031"  # no catalogue of that year
    admin.get(url)
    wait_for_reports(site)
    r = admin.get(url)
    assert r.status_code == 404 and "没有 2031 年的急需紧缺人才目录" in r.text


def test_bad_parameters_are_refused_before_anything_starts(site):
    admin = site.as_("admin")
    assert admin.get("/app/reports/gap?region=火星市&year=2026").status_code == 422
    assert admin.get("/app/reports/gap?region=淄博市&year=2026&demand=x").status_code == 422
    assert admin.get("/app/reports/gap/status?region=淄博市&year=1999").status_code == 422
    assert report_cache(site.service).running() == []
    assert site.as_("seeker").get(URL).status_code == 403


def test_progress_then_report_on_each_database(tmp_path, fake_encoder, db_url):
    """SQLite and (with TALENTMATCH_TEST_PG_URL) PostgreSQL: the data version the report is kept
    under is read from either."""
    with web_site(tmp_path, fake_encoder, db_url) as s:
        admin = s.as_("admin")
        assert "正在生成报告" in admin.get(URL).text
        report_page(s, admin, URL)
        s.service.add("talent", [talent(name="新人才", city="淄博", skills=["Python"])])
        assert "正在生成报告" in admin.get(URL).text
        wait_for_reports(s)
        assert report_cache(s.service).computed == 2
