"""The outcome buttons of the pages: 申请 / 收藏 / 不感兴趣 on the seeker's posts, 约面试 / 不合适 /
已录用 on an enterprise's candidates; POST forms with the page's CSRF token, scoped like the API."""

from __future__ import annotations

import re

import pytest

from tests.web.web_support import csrf_of, web_site


@pytest.fixture
def site(tmp_path, fake_encoder):
    with web_site(tmp_path, fake_encoder) as s:
        yield s


def _forms(html: str) -> dict[str, list[str]]:
    """action -> the kinds its buttons post."""
    out = {}
    for action, body in re.findall(r'<form method="post" action="([^"]+/outcome)" class="outcome-actions">(.*?)</form>',
                                   html, re.S):
        assert 'name="csrf"' in body and "onclick" not in body and "style=" not in body
        out[action] = re.findall(r'name="kind" value="([^"]+)"', body)
    return out


def test_seeker_applies_from_a_post_card(site):
    seeker, own = site.as_("seeker"), site.ids["own_demand"]
    page = seeker.get("/app/me/posts")
    forms = _forms(page.text)
    action = f"/app/me/posts/{own}/outcome"
    assert forms[action] == ["applied", "saved", "dismissed"]
    assert ">申请<" in page.text and ">收藏<" in page.text and ">不感兴趣<" in page.text
    token = csrf_of(seeker, "/app/me/posts")
    r = seeker.post(action, data={"csrf": token, "kind": "applied"})
    assert r.status_code == 303 and r.headers["location"].startswith("/app/me/posts?saved=")
    [e], _ = site.service.outcomes.events(talent_id=site.ids["talent"])
    # the page's list was recorded: the event carries the rank the post was shown at
    assert (e["kind"], e["demand_id"], e["source"]) == ("applied", own, "seeker")
    assert e["rank"] == 1 + list(forms).index(action) and e["model"] == "weighted"
    # without the CSRF token, with another kind, or on an unknown post: refused, nothing stored
    assert seeker.post(action, data={"kind": "saved"}).status_code == 403
    assert seeker.post(action, data={"csrf": token, "kind": "hired"}).status_code == 422
    assert seeker.post("/app/me/posts/999999/outcome", data={"csrf": token, "kind": "saved"}).status_code == 404
    assert site.service.outcomes.events()[1] == 1


def test_enterprise_invites_and_hires_from_its_candidate_list(site):
    ent, own, zhang = site.as_("enterprise"), site.ids["own_demand"], site.ids["talent"]
    url = f"/app/entries/{own}/candidates"
    forms = _forms(ent.get(url).text)
    action = f"{url}/{zhang}/outcome"
    assert forms[action] == ["invited", "rejected", "hired"]
    token = csrf_of(ent, url)
    for kind in ("invited", "hired"):
        r = ent.post(action, data={"csrf": token, "kind": kind})
        assert r.status_code == 303 and r.headers["location"].startswith(url + "?saved=")
    events, total = site.service.outcomes.events(demand_id=own)
    assert total == 2 and [e["kind"] for e in events] == ["hired", "invited"]
    assert all(e["rank"] is not None and e["source"] == "enterprise" for e in events)
    # another enterprise's entry is not found; a seeker may not use the page
    other = f"/app/entries/{site.ids['other_demand']}/candidates/{zhang}/outcome"
    assert ent.post(other, data={"csrf": token, "kind": "invited"}).status_code == 404
    seeker_token = csrf_of(site.as_("seeker"), "/app/me")
    assert site.as_("seeker").post(action, data={"csrf": seeker_token, "kind": "hired"}).status_code == 403
    assert site.service.outcomes.events()[1] == 2
