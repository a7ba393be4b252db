"""The fair page's run is a stored job: the page polls it to the result, and it outlives the
process that queued it."""

from __future__ import annotations

import time

from tests.web.web_support import csrf_of, web_site


def test_a_run_from_the_page_is_a_stored_job_that_reaches_its_result(tmp_path, fake_encoder):
    with web_site(tmp_path, fake_encoder) as site:
        admin, fair = site.as_("admin"), site.ids["fair"]
        token = csrf_of(admin, f"/app/fairs/{fair}")
        r = admin.post(f"/app/fairs/{fair}/run", data={"csrf": token, "mode": "stable", "min_score": "0"})
        assert r.status_code == 303
        page = r.headers["location"]
        job_id = int(page.rsplit("/", 1)[1])
        from matcher.fair.jobs import get_job

        assert get_job(site.service, job_id)["params"]["fair_id"] == fair  # in the database, not in memory
        deadline = time.monotonic() + 120
        while (status := admin.get(f"{page}/status").json())["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status["state"] == "done" and "/runs/" in status["next"]
        assert admin.get(status["next"]).status_code == 200
        assert admin.get(page).status_code == 303  # the job page now leads to the result


def test_a_large_catalogue_from_the_page_is_an_import_job_whose_page_shows_progress(tmp_path, fake_encoder):
    from matcher.core.settings import PROJECT_ROOT

    with web_site(tmp_path, fake_encoder) as site:
        site.service.settings.import_job_bytes = 0  # every file counts as large here
        admin = site.as_("admin")
        before = len(site.service.catalogues.list())
        token = csrf_of(admin, "/app/catalogues")
        bad = "岗位名称,需求人数\n数据分析师,很多\n".encode()
        r = admin.post("/app/catalogues", data={"csrf": token, "region": "淄博市", "year": "2026"},
                       files={"file": ("目录.csv", bad, "text/csv")})
        assert r.status_code == 303 and r.headers["location"].startswith("/app/catalogues/jobs/")
        page = r.headers["location"]
        deadline = time.monotonic() + 120
        while (status := admin.get(f"{page}/status").json())["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status["state"] == "failed" and status["next"] == page
        shown = admin.get(page)
        assert shown.status_code == 422 and "未导入任何条目" in shown.text and "很多" in shown.text
        assert len(site.service.catalogues.list()) == before  # nothing stored

        token = csrf_of(admin, "/app/catalogues")
        good = (PROJECT_ROOT / "data/demo/catalogue_zibo_2025.csv").read_bytes()
        mapping = (PROJECT_ROOT / "data/demo/catalogue_zibo_2025.mapping.json").read_bytes()
        r = admin.post("/app/catalogues", data={"csrf": token, "region": "淄博市", "year": "2025"},
                       files={"file": ("目录.csv", good, "text/csv"), "mapping": ("m.json", mapping, "application/json")})
        page = r.headers["location"]
        assert r.status_code == 303 and page.startswith("/app/catalogues/jobs/")
        first = admin.get(page)
        assert first.status_code in (200, 303)
        if first.status_code == 200:
            assert "data-job-status" in first.text and "正在导入" in first.text
        while (status := admin.get(f"{page}/status").json())["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status["state"] == "done" and status["next"].startswith("/app/catalogues?saved=")
        assert len(site.service.catalogues.list()) == before + 1
        assert admin.get(page).status_code == 303
