"""The forms as a user meets them (over HTTP, no browser): every error beside its field in
Chinese, chains and occupations typed and shown by name, phone, city, headcount and credit-code
checks, an enterprise editing its registration, and no internals on any page."""

from __future__ import annotations

import re

import pytest

from matcher.domain.validators import CREDIT_CHARSET, credit_check_char, credit_code, phone
from tests.web.web_support import csrf_of, leaks, web_site


@pytest.fixture
def site(tmp_path, fake_encoder):
    with web_site(tmp_path, fake_encoder) as s:
        yield s


def field_error(html: str, name: str) -> str | None:
    m = re.search(rf'<div class="error" id="e-{name}">([^<]*)</div>', html)
    return m.group(1) if m else None


def marked(html: str) -> set[str]:
    return set(re.findall(r'<div class="error" id="e-([a-z_]+)">', html))


PROFILE = {"name": "王小明", "phone": "13812345678", "education": "本科", "city": "淄博", "skills": "Python、SQL"}


def post_profile(site, who: str, **changes: str):
    c = site.as_(who)
    data = {**PROFILE, **changes, "csrf": csrf_of(c, "/app/me")}
    return c.post("/app/me", data={k: v for k, v in data.items() if v is not None})


# -- the credit code (GB 32100-2015) ------------------------------------------------------------


def make_code(body17: str) -> str:
    return body17 + credit_check_char(body17)


def test_credit_code_check_character_follows_the_standard():
    # the example printed in GB 32100-2015 and codes made with the check character computed here
    assert credit_code("91350100M000100Y43") == "91350100M000100Y43"
    for body in ("91370303MA3C1234X", "12100000400000624", "51370300MJD6123R0"):
        code = make_code(body)
        assert credit_code(code.lower()) == code
        # any other final character is refused: the check catches a mistyped last character
        for wrong in CREDIT_CHARSET:
            if wrong != code[-1]:
                with pytest.raises(ValueError, match="校验位"):
                    credit_code(code[:-1] + wrong)
        # a swap of two different neighbours is caught too
        swapped = code[:9] + code[10] + code[9] + code[11:]
        if swapped != code:
            with pytest.raises(ValueError):
                credit_code(swapped)
    for bad, reason in (("123", "18 位"), ("91350100M000100I43", "无效字符"), ("9135010AM000100Y43", "无效字符")):
        with pytest.raises(ValueError, match=reason):
            credit_code(bad)


def test_phone_numbers_mobile_and_landline():
    for good in ("13812345678", "+8613812345678", "138 1234 5678", "0533-2345678", "010-62345678", "05332345678"):
        assert phone(good)
    for bad in ("12345", "12812345678", "1381234567", "abc", "0533-123"):
        with pytest.raises(ValueError, match="电话号码格式不正确"):
            phone(bad)


# -- the seeker's profile -----------------------------------------------------------------------


def test_the_hints_own_chain_example_is_accepted_and_shown_by_name(site):
    r = post_profile(site, "new_seeker", desired_chains="新一代信息技术", desired_occupations="数据分析师")
    assert r.status_code == 303, r.text
    stored = site.service.get("talent", site.service.store.list("talent", limit=10)[0][-1].id)
    assert stored.desired_chains and all(c.startswith("sd-") for c in stored.desired_chains)
    assert "sd-ai" in stored.desired_chains  # a sector stands for each of its chains
    page = site.as_("new_seeker").get("/app/me").text
    shown = re.search(r'id="f-desired_chains"[^>]*value="([^"]*)"', page).group(1)
    assert "人工智能" in shown and "sd-" not in shown
    assert leaks(page, allow=("王小明",)) == []


def test_unknown_chain_is_marked_beside_its_field(site):
    r = post_profile(site, "new_seeker", desired_chains="不存在的产业")
    assert r.status_code == 422
    assert marked(r.text) == {"desired_chains"}
    assert field_error(r.text, "desired_chains").startswith("未知产业链：不存在的产业")
    assert '<a href="#f-desired_chains">意向产业链</a>' in r.text  # the summary names the field in Chinese


def test_bad_phone_city_and_cities_are_refused_beside_their_fields(site):
    before = site.service.store.count("talent")
    r = post_profile(site, "new_seeker", phone="12345", city="Gotham", preferred_cities="济南、火星市")
    assert r.status_code == 422
    assert marked(r.text) == {"phone", "city", "preferred_cities"}
    assert "电话号码格式不正确" in field_error(r.text, "phone")
    assert field_error(r.text, "city").startswith("未知城市：Gotham")
    assert field_error(r.text, "preferred_cities").startswith("未知城市：火星市")
    assert "共" not in r.text.split("</h1>")[1][:80] or "处" in r.text
    assert site.service.store.count("talent") == before


def test_every_error_of_a_form_is_listed_with_its_field(site):
    r = post_profile(site, "new_seeker", phone="1", graduation_year="abc", salary_min="9000", salary_max="100")
    assert r.status_code == 422
    assert {"phone", "graduation_year", "salary_min"} <= marked(r.text)
    summary = r.text.split('class="error-list">')[1].split("</ul>")[0]
    assert summary.count("<li>") == len(marked(r.text))
    assert leaks(r.text, allow=("王小明",)) == []


# -- the enterprise -----------------------------------------------------------------------------


def test_enterprise_registration_checks_the_credit_code_and_can_be_edited(site):
    c = site.as_("new_enterprise")
    token = csrf_of(c, "/app/company")
    base = {"csrf": token, "name": "淄博数智科技有限公司", "city": "淄博市"}
    r = c.post("/app/company", data={**base, "credit_code": "123"})
    assert r.status_code == 422 and "18 位" in field_error(r.text, "credit_code")
    wrong = make_code("91370303MA3C1234X")[:-1] + "0"
    if wrong == make_code("91370303MA3C1234X"):
        wrong = wrong[:-1] + "1"
    r = c.post("/app/company", data={**base, "credit_code": wrong})
    assert r.status_code == 422 and "校验位" in field_error(r.text, "credit_code")
    r = c.post("/app/company", data={**base, "city": "Gotham", "chain_id": "新一代信息技术"})
    assert r.status_code == 422 and marked(r.text) == {"city", "chain_id"}
    assert "人工智能" in field_error(r.text, "chain_id")  # a sector: the chains to pick from
    good = make_code("91370303MA3C1234X")
    r = c.post("/app/company", data={**base, "credit_code": good, "chain_id": "人工智能"})
    assert r.status_code == 303
    page = c.get("/app/company").text
    assert "人工智能" in page and "sd-ai" not in page and good in page
    # edit: the form shows names, a change is saved
    edit = c.get("/app/company/edit").text
    assert re.search(r'id="f-chain_id"[^>]*value="人工智能"', edit)
    r = c.post("/app/company/edit", data={"csrf": token, "name": "淄博数智科技有限公司", "city": "济南",
                                         "credit_code": good, "chain_id": "集成电路", "description": "芯片设计"})
    assert r.status_code == 303, r.text
    ent = [e for e in site.service.store.list_enterprises(0, 50) if e.name == "淄博数智科技有限公司"]
    assert len(ent) == 1 and ent[0].chain_id == "sd-ic" and ent[0].description == "芯片设计"
    r = c.post("/app/company/edit", data={"csrf": token, "name": "", "credit_code": "123"})
    assert r.status_code == 422 and {"name", "credit_code"} <= marked(r.text)
    assert [e.name for e in site.service.store.list_enterprises(0, 50) if e.id == ent[0].id] == ["淄博数智科技有限公司"]


def test_entry_headcount_range_and_names_not_codes(site):
    c = site.as_("enterprise")
    token = csrf_of(c, "/app/entries/new")
    base = {"csrf": token, "title": "数据分析师", "city": "淄博", "required_skills": "SQL"}
    for n, reason in (("0", "不能小于 1"), ("100000", "不能大于 9999")):
        r = c.post("/app/entries/new", data={**base, "headcount": n})
        assert r.status_code == 422 and field_error(r.text, "headcount") == reason or reason in field_error(r.text, "headcount")
    r = c.post("/app/entries/new", data={**base, "headcount": "3", "chain_id": "大数据与人工智能"})
    assert r.status_code == 303
    entry_id = int(r.headers["location"].split("/")[3])
    edit = c.get(f"/app/entries/{entry_id}/edit").text
    assert re.search(r'id="f-chain_id"[^>]*value="大数据与人工智能"', edit)
    assert "当前职业：" in edit
    assert '<option value="open"' in edit and ">招聘中<" in edit and ">open<" not in edit
    assert leaks(edit) == []
    assert leaks(c.get("/app/company").text) == []
