"""An edit page sends the version it showed; a save over someone else's change is refused with
已被他人修改, keeps what the user typed, and saves on the next submit."""

from __future__ import annotations

import re

import pytest

from tests.web.web_support import web_site

_VERSION = re.compile(r'name="version" value="(\d+)"')


@pytest.fixture
def site(tmp_path, fake_encoder):
    with web_site(tmp_path, fake_encoder) as s:
        yield s


def _form(html: str) -> dict[str, str]:
    csrf = re.search(r'name="csrf" value="([^"]*)"', html).group(1)
    return {"csrf": csrf, "version": _VERSION.search(html).group(1)}


def test_an_entry_changed_meanwhile_is_not_overwritten(site):
    client, svc, own = site.as_("enterprise"), site.service, site.ids["own_demand"]
    page = client.get(f"/app/entries/{own}/edit").text
    form = {**_form(page), "title": "大数据开发工程师", "description": "我写的职责", "headcount": "3"}
    # someone else saves the entry after the page was opened
    current = svc.get("demand", own)
    svc.update("demand", own, current.model_copy(update={"salary_min": 12000}))
    r = client.post(f"/app/entries/{own}/edit", data=form)
    assert r.status_code == 409 and "已被他人修改" in r.text
    assert "我写的职责" in r.text  # what the user typed is still on the page
    kept = svc.get("demand", own)
    assert kept.salary_min == 12000 and kept.description != "我写的职责"
    again = {**form, **_form(r.text)}
    r = client.post(f"/app/entries/{own}/edit", data=again)
    assert r.status_code == 303
    assert svc.get("demand", own).description == "我写的职责"


def test_a_profile_changed_meanwhile_is_not_overwritten(site):
    client, svc, tid = site.as_("seeker"), site.service, site.ids["talent"]
    page = client.get("/app/me").text
    form = {**_form(page), "name": "张三", "city": "淄博", "summary": "我的简介"}
    svc.update("talent", tid, svc.get("talent", tid).model_copy(update={"major": "软件工程"}))
    r = client.post("/app/me", data=form)
    assert r.status_code == 409 and "已被他人修改" in r.text
    assert svc.get("talent", tid).major == "软件工程"
    r = client.post("/app/me", data={**form, **_form(r.text)})
    assert r.status_code == 303 and svc.get("talent", tid).summary == "我的简介"
