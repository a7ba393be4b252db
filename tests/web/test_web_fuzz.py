"""Fuzzing the web pages: every form and every query parameter, as the role that uses it, with
hostile values (markup, quotes, huge and negative numbers, control characters, 10^6-character
strings, invalid UTF-8, a missing or wrong CSRF token, fields the form does not offer). No
response may be a 5xx, and no page may carry markup from a value unescaped.

Bounded by TALENTMATCH_FUZZ_EXAMPLES per form or page (``make fuzz`` raises it); runs on SQLite
and, when TALENTMATCH_TEST_PG_URL is set, on PostgreSQL (32-bit ids, no NUL in text).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.web_support import PAYLOADS, csrf_of, unescaped, web_site

EXAMPLES = int(os.environ.get("TALENTMATCH_FUZZ_EXAMPLES", "8"))
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("webfuzz")]

SPECIAL = ["", " ", "0", "-1", "1.5", "1e400", "nan", "inf", "2147483648", str(2**63), "9" * 5000, "true",
           "\x00", "a\x00b", "\x1b[31m", "\u202e\u200b", "\ud7ff", "𠀀", "、、、", ",,,", "open", "closed",
           "stable", "optimal", "../../etc/passwd", "%00", "{{ 7*7 }}", "${7*7}", "'; DROP TABLE talents; --"]
LONG = "长" * 1000 + "<script>alert(1)</script>"
value = st.one_of(
    st.sampled_from(PAYLOADS + SPECIAL),
    st.builds(lambda a, p, b: a + p + b, st.text(max_size=20), st.sampled_from(PAYLOADS), st.text(max_size=20)),
    st.text(max_size=60),
    st.integers().map(str),
    st.just(LONG),
    st.just("x" * 1_000_000),  # a million characters: under the 1 MiB body limit, or refused with 413
)
path_id = st.one_of(st.sampled_from(["1", "0", "-1", "abc", "2147483648", str(2**63), str(10**30), "1e3", "%00"]),
                    st.integers(min_value=-10, max_value=2**40).map(str))


@dataclass
class Endpoint:
    who: str | None  # the key that signs in (None: not signed in)
    method: str
    path: str  # {own}, {fair}, {run}, {sub}: the site's ids; {id}: fuzzed
    fields: tuple[str, ...]
    multipart: tuple[str, ...] = ()  # file fields

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.who}"


PROFILE = ("name", "phone", "education", "major", "school", "graduation_year", "city", "experience_years",
           "fresh_graduate", "skills", "certificates", "title_level", "skill_level", "desired_occupations",
           "desired_chains", "preferred_cities", "salary_min", "salary_max", "summary", "consent")
ENTRY = ("title", "occupation_code", "city", "chain_id", "headcount", "education", "required_skills",
         "preferred_skills", "majors", "min_experience_years", "salary_min", "salary_max", "status",
         "fresh_graduates_ok", "description")
# fields no form offers: each is refused, never honoured
FOREIGN = ("status", "national_id", "external_id", "catalogue_id", "source", "enterprise_name", "enterprise_id", "id",
           "talent_id", "school")

FORMS = [
    Endpoint(None, "POST", "/login", ("key", "next")),
    Endpoint("logout", "POST", "/logout", ()),
    Endpoint("seeker", "POST", "/app/me", PROFILE),
    Endpoint("new_seeker", "POST", "/app/me", PROFILE),
    Endpoint("new_enterprise", "POST", "/app/company", ("name", "credit_code", "city", "chain_id", "description")),
    Endpoint("enterprise", "POST", "/app/entries/new", ENTRY),
    Endpoint("enterprise", "POST", "/app/entries/{own}/edit", ENTRY),
    Endpoint("enterprise", "POST", "/app/entries/{id}/edit", ENTRY),
    Endpoint("enterprise", "POST", "/app/entries/{id}/close", ()),
    Endpoint("seeker", "POST", "/app/me/posts/{own}/outcome", ("kind",)),
    Endpoint("seeker", "POST", "/app/me/posts/{id}/outcome", ("kind",)),
    Endpoint("enterprise", "POST", "/app/entries/{own}/candidates/{id}/outcome", ("kind",)),
    Endpoint("seeker", "POST", "/app/zone/subscriptions", ("cities", "chains", "occupations")),
    Endpoint("seeker", "POST", "/app/zone/subscriptions/{sub}/ack", ("cursor",)),
    Endpoint("seeker", "POST", "/app/zone/subscriptions/{id}/ack", ("cursor",)),
    Endpoint("admin", "POST", "/app/fairs/{id}/run", ("mode", "min_score")),
    Endpoint("admin", "POST", "/app/fairs/{fair}/run", ("mode", "min_score")),
    Endpoint("admin", "POST", "/app/catalogues", ("region", "year", "name", "registry", "skip_invalid", "replace",
                                                    "create_chains"),
             multipart=("file", "mapping")),
    Endpoint("organiser", "POST", "/app/fairs", ("name",), multipart=("file",)),
]
PAGES = [
    Endpoint(None, "GET", "/login", ("next",)),
    Endpoint("seeker", "GET", "/app/me/posts", ("city", "chain", "fresh", "saved")),
    Endpoint("seeker", "GET", "/app/me", ("saved",)),
    Endpoint("seeker", "GET", "/app/zone", ("saved",)),
    Endpoint("enterprise", "GET", "/app/company", ("status", "saved")),
    Endpoint("enterprise", "GET", "/app/entries/{id}/candidates", ()),
    Endpoint("enterprise", "GET", "/app/entries/{id}/edit", ()),
    Endpoint("enterprise", "GET", "/app/suggest/occupations", ("q",)),
    Endpoint("admin", "GET", "/app/zone", ("school", "major", "graduation_year")),
    Endpoint("admin", "GET", "/app/reports/gap", ("region", "year", "demand", "threshold")),
    Endpoint("admin", "GET", "/app/reports/gap/status", ("region", "year", "demand", "threshold")),
    Endpoint("admin", "GET", "/app/fairs/{id}", ()),
    Endpoint("admin", "GET", "/app/fairs/{fair}/runs/{id}", ()),
    Endpoint("admin", "GET", "/app/fairs/{id}/jobs/{id}/status", ()),
    Endpoint("admin", "GET", "/app/fairs/{fair}/runs/{run}/download", ("format",)),
    Endpoint("organiser", "GET", "/app/catalogues", ("saved",)),
]


@pytest.fixture
def fuzz_site(tmp_path, fake_encoder, db_url):
    with web_site(tmp_path, fake_encoder, db_url) as site:
        site.keys["logout"] = site.service.store.create_key("seeker", talent_id=site.ids["private_talent"])[0]
        yield site


def _check(r, where: str) -> None:
    assert r.status_code < 500, (where, r.status_code, r.text[:500])
    if r.headers.get("content-type", "").startswith("text/html"):
        assert unescaped(r.text) == [], (where, unescaped(r.text))


def _path(ep: Endpoint, site, data) -> str:
    path = ep.path.format(own=site.ids["own_demand"], fair=site.ids["fair"], run=site.ids["run"],
                          sub=site.ids["subscription"], id="{id}")
    while "{id}" in path:
        path = path.replace("{id}", data.draw(path_id, label="id"), 1)
    return path


@pytest.mark.parametrize("ep", FORMS, ids=str)
def test_forms_take_hostile_values_without_a_server_error(fuzz_site, ep):
    site = fuzz_site
    tokens: dict[str, str] = {}

    def client():
        if ep.who is None:
            return site.client(raise_server_exceptions=False)
        c = site.as_(ep.who)
        if ep.who == "logout" and "tm_session" not in c.cookies:  # signed out by an earlier example
            site.clients.pop("logout")
            c = site.as_("logout")
            tokens.pop("logout", None)
        if ep.who not in tokens:
            tokens[ep.who] = csrf_of(c, {"enterprise": "/app/company", "new_enterprise": "/app/company",
                                         "admin": "/app/fairs", "organiser": "/app/fairs"}.get(ep.who, "/app/me"))
        return c

    @given(data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(data) -> None:
        c = client()
        url = _path(ep, site, data)
        shown = data.draw(st.lists(st.sampled_from(ep.fields), unique=True), label="fields") if ep.fields else []
        form = {f: data.draw(value, label=f) for f in shown}
        if data.draw(st.booleans(), label="foreign field"):
            form[data.draw(st.sampled_from(FOREIGN), label="foreign")] = data.draw(value, label="foreign value")
        csrf = data.draw(st.sampled_from(["valid", "valid", "valid", "missing", "wrong"]), label="csrf")
        if csrf != "missing":
            form["csrf"] = tokens.get(ep.who or "", "") if csrf == "valid" else "forged" + "x" * 40
        raw = data.draw(st.booleans(), label="raw body") if not ep.multipart else False
        if raw:  # urlencoded by hand: invalid UTF-8, bare and broken percent escapes
            junk = data.draw(st.sampled_from([b"\xff\xfe", b"%ff%fe", b"%", b"%zz", b"\xc3(", b"a=b=c", b"&&&",
                                              b"\x00", b"%00", b"+%2B+"]), label="junk")
            body = b"&".join(f"{k}=".encode() + quote_from_bytes(v.encode("utf-8", "surrogatepass")).encode()
                             for k, v in form.items())
            body += b"&" + (data.draw(st.sampled_from(ep.fields or ("x",)), label="junk field").encode() + b"=" + junk)
            r = c.request(ep.method, url, content=body,
                          headers={"content-type": "application/x-www-form-urlencoded"})
        elif ep.multipart:
            files = {f: (data.draw(value, label=f"{f} name")[:300] or "x.csv",
                         data.draw(st.sampled_from([b"", b"\xff\xfe\x00", "岗位名称,需求人数\n<script>,2\n".encode(),
                                                    b"PK\x03\x04garbage", b"{\"columns\": 1}", b"a" * 10_000]),
                                   label=f"{f} bytes"),
                         "application/octet-stream") for f in ep.multipart if data.draw(st.booleans(), label=f)}
            r = c.request(ep.method, url, data=_encodable(form), files=files or None)
        else:
            r = c.request(ep.method, url, data=_encodable(form))
        _check(r, f"{ep} {url}")

    fuzz()


def _encodable(form: dict[str, str]) -> dict[str, str]:
    """httpx encodes str values as UTF-8: a lone surrogate is sent as its replacement."""
    return {k: v.encode("utf-8", "replace").decode("utf-8") for k, v in form.items()}


@pytest.mark.parametrize("ep", PAGES, ids=str)
def test_pages_take_hostile_query_values_without_a_server_error(fuzz_site, ep):
    site = fuzz_site

    @given(data=st.data())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(data) -> None:
        c = site.as_(ep.who) if ep.who else site.client(raise_server_exceptions=False)
        url = _path(ep, site, data)
        params = {f: data.draw(value, label=f) for f in
                  (data.draw(st.lists(st.sampled_from(ep.fields), unique=True), label="fields") if ep.fields else [])}
        if data.draw(st.booleans(), label="raw query"):
            junk = data.draw(st.sampled_from(["%ff%fe", "%", "%zz", "%c3(", "a=b=c", "&&&", "%00", "%e2%80%ae"]),
                             label="junk")
            url += "?" + (data.draw(st.sampled_from(ep.fields or ("x",)), label="junk field") + "=" + junk)
            params = {}
        r = c.get(url, params={k: v[:8000] for k, v in _encodable(params).items()} or None)  # URLs stay under 64 KB
        _check(r, f"{ep} {url}")

    fuzz()
