"""Security of the web pages over HTTP: escaping (every template, reflected and stored values),
fields a role may not set, out-of-range ids, security headers and the session cookie."""

from __future__ import annotations

import dataclasses
import io
import re
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from jinja2 import meta, nodes
from pydantic import BaseModel

from matcher.analytics.gap import GapQuery, gap_report
from matcher.analytics.report import TEMPLATES as REPORT_TEMPLATES
from matcher.analytics.report import render_gap_html
from tests.web.web_support import IMG, MARKUP, PAYLOAD, SCRIPT, csrf_of, unescaped, web_site

WEB_TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


@pytest.fixture
def site(tmp_path, fake_encoder):
    with web_site(tmp_path, fake_encoder) as s:
        yield s


@pytest.fixture
def db_site(tmp_path, fake_encoder, db_url):
    """The site on SQLite and (with TALENTMATCH_TEST_PG_URL) on PostgreSQL, whose ids are 32-bit."""
    with web_site(tmp_path, fake_encoder, db_url) as s:
        yield s


# -- every template escapes every value ------------------------------------------------------


def hostile(value: Any, text: str = PAYLOAD) -> Any:
    """``value`` with every string in it (in models, dataclasses, dicts, lists) replaced by ``text``.

    Enum members (vocabulary the code defines) and dict keys stay, so lookups still work; numbers,
    dates and other objects (the request) stay as they are.
    """
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return text
    if isinstance(value, BaseModel):
        return value.model_copy(update={k: hostile(getattr(value, k), text) for k in type(value).model_fields})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: hostile(getattr(value, f.name), text)
                                             for f in dataclasses.fields(value) if f.init})
    if isinstance(value, dict):
        return {k: hostile(v, text) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(hostile(v, text) for v in value)
    return value


def _visit_every_page(site) -> None:
    """Open every page in each of its states (empty, filled, with errors) as the role that uses it."""
    ids = site.ids
    site.client().get("/login", params={"next": "/app/me"})
    site.client().get("/app/nowhere")  # the error page
    site.client().get("/app/help")
    site.as_("admin").get("/app/reports/gap?region=淄博市&year=2026")  # the page that says the report is coming
    from tests.web.test_web_gap import wait_for_reports

    wait_for_reports(site)
    seeker, new_seeker = site.as_("seeker"), site.as_("new_seeker")
    for c, url in [(seeker, "/app/me"), (new_seeker, "/app/me"), (seeker, "/app/me/posts?city=淄博&chain=x&fresh=1"),
                   (seeker, "/app/zone")]:
        assert c.get(url).status_code == 200, url
    token = csrf_of(seeker, "/app/me")
    assert seeker.post("/app/me", data={"csrf": token, "name": "张三", "salary_min": "9", "salary_max": "1"}
                       ).status_code == 422
    assert seeker.post("/app/zone/subscriptions", data={"csrf": token, "chains": "没有这条产业链"}).status_code == 422
    ent, new_ent = site.as_("enterprise"), site.as_("new_enterprise")
    for c, url in [(ent, "/app/company?status=open"), (new_ent, "/app/company"), (ent, "/app/entries/new"),
                   (ent, f"/app/entries/{ids['own_demand']}/edit"), (ent, f"/app/entries/{ids['own_demand']}/candidates"),
                   (ent, "/app/company/edit")]:
        assert c.get(url).status_code == 200, url
    token = csrf_of(new_ent, "/app/company")
    assert new_ent.post("/app/company", data={"csrf": token, "name": ""}).status_code == 422
    token = csrf_of(ent, "/app/entries/new")
    assert ent.post("/app/entries/new", data={"csrf": token, "title": "x", "headcount": "0"}).status_code == 422
    admin = site.as_("admin")
    for url in ["/app/catalogues", "/app/reports", "/app/fairs", f"/app/fairs/{ids['fair']}",
                f"/app/fairs/{ids['fair']}/runs/{ids['run']}", "/app/zone?school=山东理工大学&graduation_year=2026"]:
        assert admin.get(url).status_code == 200, url
    token = csrf_of(admin, "/app/catalogues")
    bad = "岗位名称,需求人数\n数据分析师,很多\n".encode()
    assert admin.post("/app/catalogues", data={"csrf": token, "region": "淄博市", "year": "2026"},
                      files={"file": ("目录.csv", bad, "text/csv")}).status_code == 422
    own = ("企业名称,所属产业链,岗位名称,需求人数\n某公司,某新产业链,数据分析师,2\n,,运维工程师,1\n"
           "备注：仅供参考,,,\n").encode()  # chains created, warnings told; then the same again: 409
    for status in (200, 409):
        assert admin.post("/app/catalogues", data={"csrf": token, "region": "济南市", "year": "2026",
                                                   "create_chains": "1"},
                          files={"file": ("目录.csv", own, "text/csv")}).status_code == status
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "岗位"
    wb.active.append(["需求ID", "面试名额"])
    wb.active.append([ids["own_demand"], "很多"])
    wb.create_sheet("求职者").append(["人才ID"])
    buf = io.BytesIO()
    wb.save(buf)
    assert admin.post("/app/fairs", data={"csrf": token, "name": "x"},
                      files={"file": ("活动.xlsx", buf.getvalue(), "application/octet-stream")}).status_code == 422
    from matcher.fair.jobs import FAIR_RUN, submit_fair_run
    from matcher.storage.jobs_repo import Jobs

    job = submit_fair_run(site.service, ids["fair"], None)
    Jobs(site.service.store).claim("held-by-the-test", (FAIR_RUN,))  # stays running while the page is read
    assert admin.get(f"/app/fairs/{ids['fair']}/jobs/{job['id']}").status_code == 200
    from matcher.domain.schemas import Catalogue
    from matcher.imports.jobs import IMPORT, submit_import

    job = submit_import(site.service, "catalogue", "目录.csv", "岗位名称\n数据分析师\n".encode(),
                        catalogue=Catalogue(region="淄博市", year=2026))
    Jobs(site.service.store).claim("held-by-the-test", (IMPORT,))
    page = admin.get(f"/app/catalogues/jobs/{job['id']}")
    assert page.status_code == 200 and "正在导入" in page.text and "data-job-status" in page.text


def test_every_template_escapes_hostile_values_in_every_variable(site, monkeypatch):
    """Each page template is rendered with the context a real request gave it, every string in it
    (names, titles, errors, filters, labels) replaced by markup; no markup may come through."""
    from web.common import templates

    seen: dict[str, list[dict]] = {}
    original = templates.TemplateResponse

    def record(request, name, context, *args, **kwargs):
        seen.setdefault(name, []).append(dict(context))
        return original(request, name, context, *args, **kwargs)

    monkeypatch.setattr(templates, "TemplateResponse", record)
    _visit_every_page(site)
    env = templates.env
    pages = sorted(p.name for p in WEB_TEMPLATES.glob("*.j2"))
    partials = {"base.html.j2", "macros.html.j2"} | {p for p in pages if p.startswith("_")}  # macros only
    assert set(seen) == set(pages) - partials, "a page template was not visited"
    everything = [ctx for contexts in seen.values() for ctx in contexts]
    for name in pages:
        source = (WEB_TEMPLATES / name).read_text(encoding="utf-8")
        tree = env.parse(source)
        imported = {n if isinstance(n, str) else n[1] for i in tree.find_all(nodes.FromImport) for n in i.names}
        used = meta.find_undeclared_variables(tree) - set(env.globals) - imported - {"caller"}
        given = set().union(*(c.keys() for c in (everything if name == "base.html.j2" else seen.get(name, []))))
        assert used <= given, f"{name}: variables never given a value: {used - given}"
    for name, contexts in seen.items():
        for ctx in contexts:
            for text in (MARKUP, IMG):  # (the links the code writes, like the menu's, are not data)
                html = env.get_template(name).render(hostile(ctx, text))
                assert unescaped(html) == [], (name, unescaped(html), _around(html))
                assert "tm-x" in html or "img src=x" in html.replace("&lt;", "<"), name  # the values were shown


def test_the_gap_report_escapes_hostile_values(site):
    report = gap_report(site.service, GapQuery(region="淄博市", year=2026, demand="all", threshold=0))
    source = (REPORT_TEMPLATES / "gap_report.html.j2").read_text(encoding="utf-8")
    from matcher.analytics.report import _environment

    used = meta.find_undeclared_variables(_environment().parse(source))
    assert used == {"r", "charts", "salary", "worst", "stars", "nonce"}  # all built from the report below
    for text in (PAYLOAD, IMG):
        html = render_gap_html(hostile(report, text), nonce=text)
        assert unescaped(html) == [], (unescaped(html), _around(html))
        assert "&lt;" in html


def _around(html: str) -> str:
    i = max(html.find("<tm-x"), html.find("<img src=x"), html.find("<script>alert"))
    return html[max(i - 200, 0): i + 100] if i >= 0 else ""


# -- reflected values ------------------------------------------------------------------------


@pytest.mark.parametrize("who, url", [
    (None, "/login?next=" + quote('"><script>alert(document.domain)</script>')),
    ("seeker", "/app/me/posts?city=" + quote(PAYLOAD) + "&chain=" + quote(IMG)),
    ("admin", "/app/zone?school=" + quote(PAYLOAD) + "&major=" + quote(IMG)),
    ("admin", "/app/reports/gap?region=" + quote(PAYLOAD)),  # no year: the 422 page
    ("admin", "/app/reports/gap?year=x&region=" + quote(PAYLOAD)),
    ("admin", "/app/reports/gap?year=2026&region=" + quote(PAYLOAD)),
    ("enterprise", "/app/company?status=" + quote(PAYLOAD)),
    ("admin", "/app/nowhere/" + quote(PAYLOAD)),
])
def test_values_from_the_url_are_escaped(site, who, url):
    c = site.as_(who) if who else site.client()
    r = c.get(url)
    assert r.status_code < 500
    assert unescaped(r.text) == [], (url, unescaped(r.text))


def test_the_saved_flash_message_is_escaped(site):
    r = site.as_("seeker").get("/app/me/posts?saved=" + quote(SCRIPT))
    assert r.status_code == 200 and unescaped(r.text) == []


# -- stored values ---------------------------------------------------------------------------


def test_stored_markup_is_shown_as_text_on_every_page(site):
    """A seeker named with markup, read by an enterprise; a post titled with a script, read by
    seekers and by its enterprise."""
    svc, ids = site.service, site.ids
    seeker = site.client("new_seeker")
    token = csrf_of(seeker, "/app/me")
    r = seeker.post("/app/me", data={"csrf": token, "name": IMG, "phone": "13800001111", "skills": "Python、Spark",
                                     "city": "淄博", "consent": "1", "summary": SCRIPT, "major": PAYLOAD})
    assert r.status_code == 303, r.text
    ent = site.as_("enterprise")
    token = csrf_of(ent, "/app/entries/new")
    r = ent.post("/app/entries/new", data={"csrf": token, "title": "大数据开发" + SCRIPT, "required_skills": "Python、Spark",
                                          "city": "淄博", "headcount": "1", "description": IMG})
    assert r.status_code == 303, r.text
    new_id = int(re.search(r"/app/entries/(\d+)/", r.headers["location"]).group(1))
    assert svc.get("demand", new_id).title == "大数据开发" + SCRIPT  # stored as typed, shown as text
    pages = [(ent, f"/app/entries/{new_id}/candidates"), (ent, f"/app/entries/{ids['own_demand']}/candidates"),
             (ent, "/app/company"), (ent, f"/app/entries/{new_id}/edit"), (seeker, "/app/me/posts"),
             (seeker, "/app/me"), (seeker, "/app/zone"), (site.as_("seeker"), "/app/me/posts"),
             (site.as_("admin"), "/app/zone?school=山东理工大学")]
    shown = 0
    for c, url in pages:
        r = c.get(url)
        assert r.status_code == 200, (url, r.text[:300])
        assert unescaped(r.text) == [], (url, unescaped(r.text))
        shown += "&lt;script&gt;alert" in r.text or "&lt;img src=x" in r.text
    assert shown >= 5  # the values were on the pages, as text


# -- ids out of range --------------------------------------------------------------------------

BIG = 99_999_999_999  # over 2^31 - 1: no database column holds it


@pytest.mark.parametrize("who, method, url", [
    ("enterprise", "GET", f"/app/entries/{BIG}/candidates"),
    ("enterprise", "GET", f"/app/entries/{BIG}/edit"),
    ("enterprise", "POST", f"/app/entries/{BIG}/edit"),
    ("enterprise", "POST", f"/app/entries/{BIG}/close"),
    ("enterprise", "GET", "/app/entries/-1/candidates"),
    ("admin", "GET", f"/app/fairs/{BIG}"),
    ("admin", "POST", f"/app/fairs/{BIG}/run"),
    ("admin", "GET", f"/app/fairs/{BIG}/jobs/x"),
    ("admin", "GET", f"/app/fairs/{BIG}/jobs/x/status"),
    ("admin", "GET", f"/app/fairs/{BIG}/runs/1"),
    ("admin", "GET", f"/app/fairs/1/runs/{BIG}"),
    ("admin", "GET", f"/app/fairs/1/runs/{BIG}/download"),
    ("admin", "GET", "/app/fairs/0"),
    ("seeker", "POST", f"/app/zone/subscriptions/{BIG}/ack"),
    ("admin", "GET", f"/app/reports/gap?region=淄博市&year={BIG}"),
    ("admin", "GET", "/app/reports/gap?region=淄博市&year=2026&threshold=1e400"),
])
def test_ids_out_of_range_get_an_error_page(db_site, who, method, url):
    c = db_site.as_(who)
    data = {"csrf": csrf_of(c, "/app/zone" if who == "seeker" else "/app/fairs" if who == "admin" else "/app/company")
            } if method == "POST" else None
    r = c.request(method, url, data=data)
    assert r.status_code in (404, 422), (url, r.status_code, r.text[:300])
    if not url.endswith("/status"):
        assert r.headers["content-type"].startswith("text/html") and "Traceback" not in r.text


def test_a_cursor_out_of_range_gets_an_error_page(db_site):
    c = db_site.as_("seeker")
    token = csrf_of(c, "/app/zone")
    r = c.post(f"/app/zone/subscriptions/{db_site.ids['subscription']}/ack", data={"csrf": token, "cursor": str(BIG)})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")


# -- security headers ----------------------------------------------------------------------------


def _csp(r) -> dict[str, list[str]]:
    out = {}
    for part in r.headers["content-security-policy"].split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def _has_security_headers(r, url) -> None:
    assert r.headers.get("x-frame-options") == "DENY", url
    assert r.headers.get("x-content-type-options") == "nosniff", url
    assert r.headers.get("referrer-policy") in ("same-origin", "strict-origin-when-cross-origin"), url
    csp = _csp(r)
    assert "'unsafe-inline'" not in csp.get("script-src", csp.get("default-src")), url
    assert "'unsafe-eval'" not in csp.get("script-src", []), url
    assert csp["frame-ancestors"] == ["'none'"], url


def test_every_response_carries_the_security_headers(site):
    from fastapi import HTTPException

    def boom() -> None:
        raise RuntimeError("a bug")

    def teapot() -> None:
        raise HTTPException(418)

    site.app.add_api_route("/app/boom", boom)
    site.app.add_api_route("/v1/boom", boom)
    admin = site.as_("admin")
    anon = site.client(raise_server_exceptions=False)
    key = {"Authorization": f"Bearer {site.keys['admin']}"}
    checks = [
        (anon, "GET", "/login", {}), (anon, "GET", "/app/me", {}), (anon, "GET", "/", {}),
        (admin, "GET", "/app/fairs", {}), (admin, "GET", "/app/nowhere", {}),
        (admin, "GET", f"/app/fairs/{site.ids['fair']}/runs/{site.ids['run']}/download", {}),
        (anon, "GET", "/static/style.css", {}), (anon, "GET", "/static/app.js", {}),
        (anon, "GET", "/health", {}), (anon, "GET", "/openapi.json", {}), (anon, "GET", "/v1/me", {}),
        (anon, "GET", "/v1/me", key), (anon, "POST", "/v1/match", {**key, "content-type": "application/json"}),
        (anon, "GET", "/v1/talents/1?x=%00", key), (anon, "GET", "/app/boom", {}), (anon, "GET", "/v1/boom", {}),
        (admin, "GET", "/app/reports/gap?region=淄博市&year=2026", {}),
        (admin, "GET", "/app/reports/gap?region=淄博市&year=2026&go=1", {}),
    ]
    for c, method, url, headers in checks:
        r = c.request(method, url, headers=headers)
        _has_security_headers(r, url)
    from tests.web.test_web_gap import wait_for_reports

    wait_for_reports(site)
    assert anon.get("/app/boom").status_code == 500 and anon.get("/v1/boom").status_code == 500


def test_pages_allow_no_inline_script_or_style():
    """Templates and static files carry no inline script, event handler or style attribute; the
    policy of the pages allows scripts and styles from the site's own files only."""
    for path in [*WEB_TEMPLATES.glob("*.j2"), REPORT_TEMPLATES / "gap_report.html.j2"]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path.name
        assert not re.search(r"\son[a-z]+\s*=", text), path.name
        assert not re.search(r"\sstyle\s*=", text), path.name
        if path.parent == WEB_TEMPLATES:
            assert "<style" not in text, path.name


def test_page_policy_and_the_gap_reports_style_nonce(site):
    r = site.as_("admin").get("/app/fairs")
    csp = _csp(r)
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["style-src"] and csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"] and csp["form-action"] == ["'self'"]
    from tests.web.test_web_gap import report_page

    r = report_page(site, site.as_("admin"), "/app/reports/gap?region=淄博市&year=2026&go=1")
    nonce = re.search(r"<style nonce=\"([^\"]+)\">", r.text).group(1)
    assert f"'nonce-{nonce}'" in _csp(r)["style-src"]
    again = site.as_("admin").get("/app/reports/gap?region=淄博市&year=2026&go=1")
    assert nonce not in again.text  # one per response


def test_api_docs_run_their_own_scripts_only(site):
    import base64
    import hashlib

    for url in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        r = site.client().get(url)
        assert r.status_code == 200
        _has_security_headers(r, url)
        script_src = _csp(r)["script-src"]
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", r.text, re.S)
        for body in inline:
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in script_src, url
        for src in re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", r.text):
            assert any(src.startswith(s) for s in script_src), (url, src)


# -- the session cookie over TLS -------------------------------------------------------------------


def _session_cookie(r) -> str:
    return next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("tm_session="))


def test_the_session_cookie_is_secure_over_tls_and_behind_a_tls_proxy(site):
    from fastapi.testclient import TestClient
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    plain = site.client().post("/login", data={"key": site.keys["seeker"]})
    assert "secure" not in _session_cookie(plain).lower()
    tls = site.client(base_url="https://testserver").post("/login", data={"key": site.keys["seeker"]})
    assert "; secure" in _session_cookie(tls).lower()
    # behind a proxy that ends TLS: uvicorn's proxy headers (what `talentmatch serve --proxy-headers` runs)
    proxied = TestClient(ProxyHeadersMiddleware(site.app, trusted_hosts="*"), follow_redirects=False)
    r = proxied.post("/login", data={"key": site.keys["seeker"]}, headers={"X-Forwarded-Proto": "https"})
    assert "; secure" in _session_cookie(r).lower()
    untrusted = TestClient(ProxyHeadersMiddleware(site.app, trusted_hosts="10.0.0.1"), follow_redirects=False)
    r = untrusted.post("/login", data={"key": site.keys["seeker"]}, headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in _session_cookie(r).lower()


def test_serve_passes_the_proxy_options_to_uvicorn(monkeypatch, capsys, tmp_path):
    import uvicorn

    from tests.conftest import run_cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw))
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TALENTMATCH_ENCODER", "fake")
    code, _, err = run_cli(monkeypatch, capsys, "serve", "--proxy-headers", "--forwarded-allow-ips", "10.0.0.1,10.0.0.2")
    assert code == 0, err
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.1,10.0.0.2"
    code, _, err = run_cli(monkeypatch, capsys, "serve", "--no-proxy-headers")
    assert code == 0, err
    assert seen["proxy_headers"] is False


# -- fields a role may not set -------------------------------------------------------------------


def _api_body_model(method: str, path: str) -> type:
    """The class of the body of an API route (from the routers the app includes)."""
    import importlib
    import pkgutil

    from fastapi.routing import APIRoute

    import api.routes

    routes = [r for m in pkgutil.iter_modules(api.routes.__path__)
              for r in importlib.import_module(f"api.routes.{m.name}").router.routes]
    [route] = [r for r in routes if isinstance(r, APIRoute) and r.path == path and method in r.methods]
    [body] = route.dependant.body_params
    return body.field_info.annotation


def test_each_form_is_validated_by_the_api_input_model_of_its_route(site):
    from matcher.domain.views import DemandIn, EnterpriseDemandIn, SeekerTalentIn, TalentIn
    from web.forms import FORMS

    # the routes take the staff models and hold seekers and enterprises to their owner models
    # (no external id): the forms, used by seekers and enterprises only, take the owner models
    assert _api_body_model("POST", "/v1/talents") is TalentIn
    assert _api_body_model("PUT", "/v1/talents/{talent_id}") is TalentIn
    assert FORMS["profile"].model is SeekerTalentIn
    assert set(SeekerTalentIn.model_fields) == set(TalentIn.model_fields) - {"external_id"}
    assert FORMS["company"].model is _api_body_model("POST", "/v1/enterprises")
    assert _api_body_model("POST", "/v1/enterprises/{enterprise_id}/demands") is DemandIn
    assert _api_body_model("PUT", "/v1/enterprises/{enterprise_id}/demands/{demand_id}") is DemandIn
    assert FORMS["entry"].model is EnterpriseDemandIn
    assert set(EnterpriseDemandIn.model_fields) == set(DemandIn.model_fields) - {"external_id"}
    assert FORMS["subscription"].model is _api_body_model("POST", "/v1/zone/subscriptions")
    # what a form offers is what it accepts, and the API's model has each of those fields
    pages = {"profile": ("new_seeker", "/app/me"), "company": ("new_enterprise", "/app/company"),
             "entry": ("enterprise", "/app/entries/new"), "subscription": ("seeker", "/app/zone")}
    for name, (who, url) in pages.items():
        form = FORMS[name]
        html = site.as_(who).get(url).text
        action = {"subscription": "/app/zone/subscriptions", "entry": "/app/entries/new"}.get(name, url)
        block = re.search(rf'<form method="post" action="{action}".*?</form>', html, re.S).group(0)
        offered = set(re.findall(r'name="([^"]+)"', block)) - {"csrf"}
        assert offered == set(form.fields), name
        assert set(form.fields) <= set(form.model.model_fields), name


def _refused(r, *fields: str) -> None:
    assert r.status_code == 422, r.text[:500]
    assert "不允许" in r.text
    for f in fields:
        assert f in r.text


def test_an_enterprise_cannot_post_into_a_catalogue_or_as_another_company(site):
    svc, ids = site.service, site.ids
    ent = site.as_("enterprise")
    token = csrf_of(ent, "/app/entries/new")
    before = svc.store.count("demand")
    catalogue = [c for c in svc.store.list_catalogues() if c["id"] == ids["catalogue"]][0]["entries"]
    post = {"csrf": token, "title": "数据分析师", "required_skills": "SQL", "headcount": "1"}
    for extra in ({"catalogue_id": str(ids["catalogue"]), "source": "catalogue"},
                  {"enterprise_name": "济南另一家科技有限公司"}, {"enterprise_id": str(ids["other_enterprise"])},
                  {"external_id": "P-1"}, {"occupation_name": "伪造职业"}, {"id": "1"}):
        r = ent.post("/app/entries/new", data={**post, **extra})
        _refused(r, *extra)
        assert 'value="数据分析师"' in r.text  # what was typed stays in the form
    assert svc.store.count("demand") == before
    assert [c for c in svc.store.list_catalogues() if c["id"] == ids["catalogue"]][0]["entries"] == catalogue
    own = ids["own_demand"]
    r = ent.post(f"/app/entries/{own}/edit", data={**post, "enterprise_name": "济南另一家科技有限公司",
                                                     "catalogue_id": str(ids["catalogue"])})
    _refused(r, "enterprise_name", "catalogue_id")
    entry = svc.get("demand", own)
    assert entry.title == "大数据开发工程师" and entry.catalogue_id is None and entry.source == "post"
    # the form as offered still works, and the post is the enterprise's own
    r = ent.post("/app/entries/new", data=post)
    assert r.status_code == 303, r.text[:500]
    new = svc.get("demand", int(re.search(r"/app/entries/(\d+)/", r.headers["location"]).group(1)))
    assert new.enterprise_id == ids["enterprise"] and new.source == "post" and new.catalogue_id is None


def test_a_seeker_cannot_set_status_national_id_or_external_id(site):
    svc, ids = site.service, site.ids
    new = site.as_("new_seeker")
    token = csrf_of(new, "/app/me")
    before = svc.store.count("talent")
    post = {"csrf": token, "name": "王五", "skills": "Python", "city": "淄博"}
    for extra in ({"status": "inactive"}, {"national_id": "370303200201011234"}, {"external_id": "ZB-2026-001"},
                  {"digital_certs": "x"}, {"id": "1"}):
        _refused(new.post("/app/me", data={**post, **extra}), *extra)
    assert svc.store.count("talent") == before
    me = site.as_("seeker")
    token = csrf_of(me, "/app/me")
    r = me.post("/app/me", data={"csrf": token, "name": "张三", "skills": "Python", "status": "inactive",
                                 "external_id": "ZB-2026-001"})
    _refused(r, "status", "external_id")
    profile = svc.get("talent", ids["talent"])
    assert profile.status == "active" and profile.external_id is None
    r = me.post("/app/me", data={"csrf": token, "name": "张三", "skills": "Python、Spark", "consent": "1"})
    assert r.status_code == 303


def test_forms_refuse_fields_they_do_not_offer(site):
    ids = site.ids
    new_ent = site.as_("new_enterprise")
    token = csrf_of(new_ent, "/app/company")
    _refused(new_ent.post("/app/company", data={"csrf": token, "name": "某公司", "id": "1"}), "id")
    assert site.service.store.count_enterprises() == 2
    seeker = site.as_("seeker")
    token = csrf_of(seeker, "/app/zone")
    for extra in ({"school": "山东理工大学"}, {"talent_id": str(ids["private_talent"])}, {"start": "beginning"}):
        _refused(seeker.post("/app/zone/subscriptions", data={"csrf": token, "cities": "淄博", **extra}), *extra)


def test_an_api_without_pages_carries_the_security_headers(service, settings):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings, service, web=False)) as c:
        for url in ("/health", "/openapi.json", "/v1/me"):
            _has_security_headers(c.get(url), url)
