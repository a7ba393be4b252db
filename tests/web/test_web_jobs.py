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
