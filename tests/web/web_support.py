"""Shared set-up for tests of the web pages over HTTP (no browser): an app with one record of each
kind, a signed-in client per role, the CSRF token of a page, and hostile values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.domain.schemas import Catalogue, Enterprise
from matcher.fair.engine import FairCreate, FairRunOptions, create_fair, run_fair
from matcher.service import MatchService
from matcher.wiring import build_service
from matcher.zone.graduates import SubscriptionCreate, create_subscription
from tests.conftest import demand, talent

# what an attacker types: a tag, an event handler, both kinds of quote, a javascript: URL
SCRIPT = "<script>alert(document.domain)</script>"
IMG = "<img src=x onerror=alert(1)>"
MARKUP = "\"'><tm-x onerror=alert(1)>" + SCRIPT
PAYLOAD = "javascript:alert(1)//" + MARKUP
PAYLOADS = [SCRIPT, IMG, PAYLOAD, '" autofocus onfocus="alert(1)', "'><svg onload=alert(1)>"]
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def unescaped(html: str) -> list[str]:
    """The pieces of markup in ``html`` that can only come from a value rendered without escaping."""
    found = []
    for bad in ("<script>alert", "<img src=x", "<tm-x", "<svg onload", '" autofocus onfocus', "\"'>"):
        if bad in html:
            found.append(bad)
    if re.search(r"""\b(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", html, re.I):
        found.append("javascript: URL")
    return found


@dataclass
class WebSite:
    app: FastAPI
    service: MatchService
    keys: dict[str, str]
    ids: dict[str, int]
    clients: dict[str, TestClient] = field(default_factory=dict)

    def client(self, who: str | None = None, **kw) -> TestClient:
        """A new client, signed in as ``who`` (a key name) unless None."""
        c = TestClient(self.app, follow_redirects=False, **kw)
        if who is not None:
            r = c.post("/login", data={"key": self.keys[who], "next": ""})
            assert r.status_code == 303, r.text
        return c

    def as_(self, who: str) -> TestClient:
        """A signed-in client kept for the test (one per role)."""
        if who not in self.clients:
            self.clients[who] = self.client(who)
        return self.clients[who]


def csrf_of(client: TestClient, page: str) -> str:
    r = client.get(page)
    assert r.status_code == 200, (page, r.status_code, r.text[:500])
    m = _CSRF.search(r.text)
    assert m, page
    return m.group(1)


@contextmanager
def web_site(tmp_path, fake_encoder, db_url: str | None = None) -> Iterator[WebSite]:
    settings = Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="fake",
                        **({"database_url": db_url} if db_url else {}))
    svc = build_service(settings, encoder=fake_encoder)
    svc.load_chain_registries()
    ent = svc.store.add_enterprise(Enterprise(name="淄博云数科技有限公司", city="淄博市"))
    other = svc.store.add_enterprise(Enterprise(name="济南另一家科技有限公司", city="济南市"))
    [own, theirs] = svc.add("demand", [
        demand(title="大数据开发工程师", enterprise_id=ent.id, enterprise_name=None, salary_min=9000,
               salary_max=15000),
        demand(title="PLC电气工程师", required_skills=["PLC编程", "Python"], city="济南", enterprise_id=other.id,
               enterprise_name=None),
    ])
    [zhang, li] = svc.add("talent", [
        talent(fresh_graduate=True, graduation_year=2026, school="山东理工大学"),
        talent(name="李四", phone="13900001111", skills=["PLC编程", "Python"], consent=False),
    ])
    fair = create_fair(svc, FairCreate.model_validate({
        "name": "淄博高校数字人才招聘会", "posts": [{"demand_id": own, "booth": "A01"}, {"demand_id": theirs}],
        "seekers": [{"talent_id": zhang}, {"talent_id": li}]}))
    run = run_fair(svc, fair.id, FairRunOptions(min_score=0))
    rows = [(n + 2, demand(title=t, enterprise_name=None, source="catalogue", shortage_level=4, city="淄博市"))
            for n, t in enumerate(["数据分析师", "工业机器人运维工程师"])]
    catalogue = svc.import_rows("catalogue", rows, [], catalogue=Catalogue(region="淄博市", year=2026,
                                                                             name="淄博市2026年目录"))
    sub = create_subscription(svc, SubscriptionCreate(talent_id=zhang, cities=["淄博"], start="beginning"))
    keys = {
        "admin": svc.store.create_key("admin", label="人社局")[0],
        "organiser": svc.store.create_key("organiser", label="组委会")[0],
        "enterprise": svc.store.create_key("enterprise", enterprise_id=ent.id, label="HR")[0],
        "new_enterprise": svc.store.create_key("enterprise", label="新企业")[0],
        "seeker": svc.store.create_key("seeker", talent_id=zhang, label="应届生")[0],
        "new_seeker": svc.store.create_key("seeker", label="新用户")[0],
    }
    app = create_app(settings, svc)
    with TestClient(app):  # the lifespan: indexes loaded, app.state.service set
        yield WebSite(app, svc, keys, {"enterprise": ent.id, "other_enterprise": other.id, "own_demand": own,
                                       "other_demand": theirs, "talent": zhang, "private_talent": li,
                                       "fair": fair.id, "run": run.run_id, "subscription": sub.id,
                                       "catalogue": catalogue["catalogue_id"]})
    svc.close()


# -- what a page must never show: internals instead of words ----------------------------------

_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # a field name (rank_by, chain_id, welfare_gap)
_ENGLISH_WORDS = re.compile(r"\b(?:enterprise|seeker|post|region|field|lp|members|scoring|load|None|True|False|null)\b")
_CHAIN_ID = re.compile(r"\b(?:sd|zb)-[a-z][a-z-]*\b")
_OCCUPATION_CODE = re.compile(r"\b\d-\d{2}-\d{2}-\d{2}\b")


class _Shown(HTMLParser):
    """The text a reader sees: text outside scripts and styles, hover titles, the values of
    the text fields and options (what a form shows as saved)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        if a.get("title"):
            self.parts.append(a["title"])
        if tag == "input" and a.get("type", "text") in ("text", "tel", "number") and a.get("name") != "occupation_code":
            self.parts.append(a.get("value", ""))
        if tag == "option" and "value" in a and a.get("value") and not a["value"].isascii():
            self.parts.append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def shown_text(html: str) -> str:
    p = _Shown()
    p.feed(html)
    return "\n".join(x for x in p.parts if x.strip())


def leaks(html: str, *, allow: tuple[str, ...] = ()) -> list[str]:
    """Internals a page shows a reader: English field names, Python literals, chain ids and
    occupation codes where names belong. ``allow``: strings the page may show (a user's input)."""
    text = shown_text(html)
    for a in allow:
        text = text.replace(a, "")
    found = []
    if "{'" in text or "['" in text or "':" in text:
        found.append("Python literal")
    found += [f"field name {m}" for m in sorted(set(_SNAKE.findall(text)))]
    found += [f"English word {m}" for m in sorted(set(_ENGLISH_WORDS.findall(text)))]
    found += [f"chain id {m}" for m in sorted(set(_CHAIN_ID.findall(text)))]
    found += [f"occupation code {m}" for m in sorted(set(_OCCUPATION_CODE.findall(text)))]
    return found
