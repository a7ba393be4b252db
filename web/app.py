"""Web pages: sign-in with a key, then per-role pages rendered on the server.

Sessions: the sign-in form takes an API key once; the browser then holds only a random session
token in an HttpOnly, SameSite=Strict cookie (the table keeps its hash). Every form that changes
data carries the session's CSRF token, and a cross-site Origin is refused. Keys never appear in
URLs. Errors render as pages, never as tracebacks.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from matcher.core.errors import Conflict, InvalidInput, NotFound, TalentMatchError
from matcher.domain.access import talent_view
from matcher.domain.auth import ROLE_LABELS, Principal, Role
from matcher.domain.schemas import (
    DemandEntry,
    Education,
    Enterprise,
    MatchFilters,
    SkillLevel,
    TalentProfile,
    TitleLevel,
)
from matcher.domain.views import DemandIn, EnterpriseIn, TalentIn
from matcher.ingest.importer import zh_reason
from matcher.service import MatchService
from matcher.zone.graduates import SubscriptionIn
from web.params import Id
from web.security import install_security_headers

HERE = Path(__file__).resolve().parent
COOKIE = "tm_session"
# every template is HTML: escape every value (Starlette's default escapes only *.html, *.htm and
# *.xml, and these are named *.html.j2)
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))
router = APIRouter(include_in_schema=False)

NAV = {
    Role.SEEKER: [("/app/me", "我的档案"), ("/app/me/posts", "推荐岗位"), ("/app/zone", "高校人才直通车")],
    Role.ENTERPRISE: [("/app/company", "本企业需求"), ("/app/entries/new", "发布需求")],
    Role.ORGANISER: [("/app/fairs", "招聘活动"), ("/app/catalogues", "目录导入"), ("/app/reports", "供需报告")],
    Role.ADMIN: [("/app/fairs", "招聘活动"), ("/app/catalogues", "目录导入"), ("/app/reports", "供需报告")],
}
HOME = {Role.SEEKER: "/app/me", Role.ENTERPRISE: "/app/company", Role.ORGANISER: "/app/fairs",
        Role.ADMIN: "/app/fairs"}
STAFF = (Role.ADMIN, Role.ORGANISER)
STATUS_LABELS = {"open": "招聘中", "closed": "已关闭", "draft": "草稿"}
_LIST_SPLIT = re.compile(r"[,，、;；\n]+")
WEB_PREFIXES = ("/app", "/login", "/logout")


class WebUser:
    def __init__(self, who: Principal, csrf: str, token: str) -> None:
        self.who = who
        self.csrf = csrf
        self.token = token


class Redirect(Exception):
    """Leave the current page for another (sign-in, home)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def svc(request: Request) -> MatchService:
    return request.app.state.service


async def call(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a (blocking) service call off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


async def user(request: Request, *roles: Role) -> WebUser:
    """The signed-in user, or a redirect to sign-in; a role outside ``roles`` gets a 403 page."""
    token = request.cookies.get(COOKIE, "")
    found = await call(request, svc(request).store.web_session, token) if token else None
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise Redirect(f"/login?next={quote(target)}")
    who, csrf = found
    if roles and who.role not in roles:
        raise PageError(403, "无权访问", "当前账号的角色不能使用这个页面。")
    return WebUser(who, csrf, token)


class PageError(TalentMatchError):
    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title


def _same_origin(request: Request) -> bool:
    """A cross-site form post is refused even before the CSRF token is looked at."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # same-origin form posts from old browsers may omit both
    host = request.headers.get("host", "")
    return urlparse(origin).netloc == host


async def form_of(request: Request, u: WebUser | None) -> FormData:
    """The posted form, after the origin and (for signed-in users) the CSRF token are checked."""
    form = await request.form()
    if not _same_origin(request):
        raise PageError(403, "请求被拒绝", "跨站提交的表单不被接受。")
    if u is not None and not hmac.compare_digest(str(form.get("csrf", "")), u.csrf):
        raise PageError(403, "页面已过期", "表单校验失败（可能是页面停留过久或在其他窗口退出了登录），请刷新页面后重试。")
    return form


def render(request: Request, name: str, u: WebUser | None, status: int = 200, **ctx: Any) -> HTMLResponse:
    role = u.who.role if u else None
    flashes = [("ok", request.query_params["saved"])] if request.query_params.get("saved") else []
    base = {"request": request, "user": u.who if u else None, "csrf": u.csrf if u else "",
            "nav": NAV.get(role, []) if role else [], "role_label": ROLE_LABELS.get(role, "") if role else "",
            "active": request.url.path, "flashes": flashes + ctx.pop("flashes", [])}
    return templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status)


def error_page(request: Request, status: int, title: str, detail: str, errors: list | None = None) -> HTMLResponse:
    """A page for an error met on a web route (the API answers problem+json instead)."""
    heading = {404: "页面或记录不存在", 403: "无权访问", 413: "文件过大"}.get(status, title)
    shown = [str(e.get("reason", e)) if isinstance(e, dict) else str(e) for e in (errors or [])][:50]
    return templates.TemplateResponse(request, "error.html.j2", {
        "request": request, "user": None, "csrf": "", "nav": [], "role_label": "", "active": "", "flashes": [],
        "heading": heading, "detail": detail, "errors": shown, "title": heading}, status_code=status)


def wants_html(request: Request) -> bool:
    return request.url.path.startswith(WEB_PREFIXES) and not request.url.path.startswith("/app/suggest")


# -- forms ---------------------------------------------------------------------------------------


def split_list(value: str | None) -> list[str]:
    return [v.strip() for v in _LIST_SPLIT.split(value or "") if v.strip()]


@dataclass(frozen=True)
class Form:
    """A page's form for one role: the API input model that validates it (the same class as the
    API route's body, so a page accepts what the API accepts) and the fields the form offers,
    the only ones it takes from the browser. Any other posted field (a status, another
    company's name, a catalogue) is refused next to the form, never dropped nor honoured."""

    model: type[BaseModel]
    fields: tuple[str, ...]
    lists: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()


REFUSED = "不允许设置此字段"


def model_from_form(spec: Form, form: FormData, *, keep: dict[str, Any] | None = None,
                    server: dict[str, Any] | None = None, build: Callable[[dict[str, Any]], Any] | None = None
                    ) -> tuple[Any, dict[str, str], dict[str, Any]]:
    """(model or None, field → Chinese error, values to show again) from a posted form.

    ``keep``: values of fields the form does not show (an update keeps them as they are);
    ``server``: values the server decides (the subscriber). Both go through the input model too.
    ``build``: the domain record from the input model's values, as the API route makes it (its
    whole-record rules, such as salary order, are shown next to their field too).
    """
    values = {k: str(v) for k, v in form.items() if k != "csrf" and isinstance(v, str)}
    errors: dict[str, str] = {}
    refused = sorted({str(k)[:40] for k in form.keys() if k != "csrf" and k not in spec.fields})
    for name in refused:
        errors[name] = REFUSED
    if refused:
        errors["_"] = "表单中有不允许设置的字段：" + "、".join(refused[:10])
    data: dict[str, Any] = {}
    for name in spec.fields:
        if name in spec.checks:
            data[name] = name in form
            values[name] = name in form
        elif name in spec.lists:
            data[name] = split_list(values.get(name))
        elif name in values:
            raw = values[name].strip()
            if not raw:
                continue
            if name in spec.numbers:
                try:
                    data[name] = float(raw) if "." in raw else int(raw)
                except ValueError:
                    errors[name] = "请输入数字"
                    continue
            else:
                data[name] = raw
    try:
        given = {**(keep or {}), **data, **(server or {})}
        # a kept field the role's model does not take (an external id) goes straight to the record
        built = spec.model.model_validate({k: v for k, v in given.items() if k in spec.model.model_fields})
        if build is not None:
            built = build({**given, **built.model_dump()})
    except ValidationError as exc:
        for err in exc.errors():
            loc = err.get("loc") or ()
            field = str(loc[0]) if loc else ""
            reason = zh_reason(err)
            if not field:  # a whole-model rule: show it at the field it is about
                field = "salary_min" if "薪资" in reason else "valid_from" if "有效期" in reason else "_"
            errors.setdefault(field, reason)
        return None, errors, values
    return (None if errors else built), errors, values


def _values_of(model: BaseModel, lists: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in model.model_dump(mode="json").items():
        if k in lists:
            out[k] = "、".join(v or [])
        elif isinstance(v, bool):
            out[k] = v
        elif v is not None:
            out[k] = str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))
    return out


def _domain_errors(exc: TalentMatchError, default: str) -> dict[str, str]:
    """A service error (unknown chain, unknown code, conflict) next to its field."""
    field = default
    if isinstance(exc, InvalidInput) and exc.errors:
        field = str(exc.errors[0].get("field") or default)
    return {field: exc.detail}


# -- sign-in ---------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def root() -> Response:
    return RedirectResponse("/app", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html.j2", None, errors={}, next=next, title="登录")


def _safe_next(target: str) -> str:
    return target if target.startswith("/app") and "//" not in target else "/app"


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await form_of(request, None)
    key = str(form.get("key", "")).strip()
    if not key:
        return render(request, "login.html.j2", None, 422, errors={"key": "请输入访问密钥"}, title="登录")
    # failed sign-ins count with the API's, per client and per key prefix (matcher.domain.ratelimit)
    from matcher.domain.ratelimit import throttle_of

    throttle, client = throttle_of(request.app), request.client.host if request.client else None
    wait = await call(request, throttle.retry_after, client, key)
    if wait is not None:
        resp = render(request, "login.html.j2", None, 429, errors={"key": f"尝试次数过多，请 {wait} 秒后再试"},
                      title="登录", next=str(form.get("next", "")))
        resp.headers["Retry-After"] = str(wait)
        return resp
    made = await call(request, svc(request).store.create_web_session, key)
    if made is None:
        await call(request, throttle.failed, client, key)
        return render(request, "login.html.j2", None, 401, errors={"key": "密钥无效或已吊销"}, title="登录",
                      next=str(form.get("next", "")))
    token, _, _ = made
    resp = RedirectResponse(_safe_next(str(form.get("next", ""))), status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                    max_age=12 * 3600, path="/")
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    u = await user(request)
    await form_of(request, u)
    await call(request, svc(request).store.end_web_session, u.token)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/app", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    u = await user(request)
    return RedirectResponse(HOME[Role(u.who.role)], status_code=303)


# -- seekers -----------------------------------------------------------------------------------

_PROFILE_LISTS = ("skills", "certificates", "preferred_cities", "desired_occupations", "desired_chains")
_PROFILE_NUMBERS = ("graduation_year", "experience_years", "salary_min", "salary_max")
_PROFILE_CHECKS = ("fresh_graduate", "consent")
_PROFILE_KEEP = ("national_id", "external_id", "digital_certs", "status")  # not on the form: kept as they are


def _profile_page(request: Request, u: WebUser, values: dict, errors: dict, has: bool, status: int = 200) -> Response:
    return render(request, "profile.html.j2", u, status, values=values, errors=errors, has_profile=has,
                  educations=[e.value for e in Education], title_levels=[t.value for t in TitleLevel],
                  skill_levels=[s.value for s in SkillLevel], title="我的求职档案")


@router.get("/app/me", response_class=HTMLResponse)
async def my_profile(request: Request) -> Response:
    u = await user(request, Role.SEEKER)
    if u.who.talent_id is None:
        return _profile_page(request, u, {"fresh_graduate": False, "consent": False}, {}, False)
    profile = await call(request, svc(request).get, "talent", u.who.talent_id)
    return _profile_page(request, u, _values_of(profile, _PROFILE_LISTS), {}, True)


@router.post("/app/me", response_class=HTMLResponse)
async def save_profile(request: Request) -> Response:
    u = await user(request, Role.SEEKER)
    form = await form_of(request, u)
    s = svc(request)
    has = u.who.talent_id is not None
    keep: dict[str, Any] = {}
    if has:  # fields the form does not show (national ID, status) stay as they are
        current = await call(request, s.get, "talent", u.who.talent_id)
        keep = current.model_dump(include=set(_PROFILE_KEEP))
    profile, errors, values = model_from_form(FORMS["profile"], form, keep=keep, build=TalentProfile.model_validate)
    if not values.get("name", "").strip():
        errors, profile = {**errors, "name": "必填，不能为空"}, None
    if profile is None:
        return _profile_page(request, u, values, errors, has, 422)
    try:
        if has:
            await call(request, s.update, "talent", u.who.talent_id, profile, actor=u.who)
        else:
            await call(request, s.add, "talent", [profile], actor=u.who, bind_key=u.who.key_id)
    except (InvalidInput, Conflict) as exc:
        return _profile_page(request, u, values, _domain_errors(exc, "desired_occupations"), has, 422)
    return RedirectResponse("/app/me/posts?saved=" + quote("档案已保存"), status_code=303)


def _filters(request: Request) -> tuple[MatchFilters, dict[str, Any]]:
    q = request.query_params
    shown = {"city": q.get("city", "").strip()[:50], "chain": q.get("chain", "").strip()[:64], "fresh": bool(q.get("fresh"))}
    return MatchFilters(city=shown["city"] or None, chain_id=shown["chain"] or None,
                        fresh_graduates_only=shown["fresh"]), shown


@router.get("/app/me/posts", response_class=HTMLResponse)
async def my_posts(request: Request) -> Response:
    u = await user(request, Role.SEEKER)
    if u.who.talent_id is None:
        return RedirectResponse("/app/me", status_code=303)
    filters, shown = _filters(request)
    error, matches = None, []
    try:
        matches = await call(request, svc(request).match_talent, u.who.talent_id, 20, filters)
    except InvalidInput as exc:
        error = exc.detail
    return render(request, "posts.html.j2", u, matches=matches, filters=shown, error=error,
                  heading="为您推荐的岗位", action="/app/me/posts", title="推荐岗位",
                  intro="按匹配度排序；每个岗位列出匹配理由、已具备和待补充的技能，以及可补齐差距的数字技术工程师培训方向。")


# -- enterprises -------------------------------------------------------------------------------

_ENTRY_LISTS = ("required_skills", "preferred_skills", "majors")
_ENTRY_NUMBERS = ("headcount", "min_experience_years", "salary_min", "salary_max")
_ENTRY_KEEP = ("external_id", "required_certificates", "required_title_level", "required_skill_level",
               "shortage_level", "valid_from", "valid_until")

FORMS = {
    "profile": Form(TalentIn, ("name", "phone", "education", "major", "school", "graduation_year", "city",
                               "experience_years", "fresh_graduate", "skills", "certificates", "title_level",
                               "skill_level", "desired_occupations", "desired_chains", "preferred_cities",
                               "salary_min", "salary_max", "summary", "consent"),
                    lists=_PROFILE_LISTS, numbers=_PROFILE_NUMBERS, checks=_PROFILE_CHECKS),
    "company": Form(EnterpriseIn, ("name", "credit_code", "city", "chain_id", "description")),
    "entry": Form(DemandIn, ("title", "occupation_code", "city", "chain_id", "headcount", "education",
                             "required_skills", "preferred_skills", "majors", "min_experience_years", "salary_min",
                             "salary_max", "status", "fresh_graduates_ok", "description"),
                  lists=_ENTRY_LISTS, numbers=_ENTRY_NUMBERS, checks=("fresh_graduates_ok",)),
    "subscription": Form(SubscriptionIn, ("cities", "chains", "occupations"),
                         lists=("cities", "chains", "occupations")),
}


@router.get("/app/company", response_class=HTMLResponse)
async def company(request: Request, status: str = "") -> Response:
    u = await user(request, Role.ENTERPRISE)
    s = svc(request)
    if u.who.enterprise_id is None:
        return render(request, "company.html.j2", u, enterprise=None, values={}, errors={}, title="登记企业")
    ent = await call(request, s.store.get_enterprise, u.who.enterprise_id)
    status = status if status in STATUS_LABELS else ""
    entries, total = await call(request, s.store.list, "demand", offset=0, limit=200,
                                enterprise_id=ent.id, status=status or None)
    return render(request, "company.html.j2", u, enterprise=ent, entries=entries, total=total, status_filter=status,
                  status_labels=STATUS_LABELS, title=ent.name)


@router.post("/app/company", response_class=HTMLResponse)
async def register_company(request: Request) -> Response:
    u = await user(request, Role.ENTERPRISE)
    form = await form_of(request, u)
    if u.who.enterprise_id is not None:
        raise PageError(409, "已登记", "此密钥已绑定企业。")
    ent, errors, values = model_from_form(FORMS["company"], form, build=Enterprise.model_validate)
    s = svc(request)
    if ent is not None:
        try:
            if ent.chain_id:
                ent = ent.model_copy(update={"chain_id": s.resolve_chain(ent.chain_id)})
            await call(request, s.store.add_enterprise, ent, u.who, u.who.key_id)
        except (InvalidInput, Conflict) as exc:
            ent, errors = None, _domain_errors(exc, "name")
    if ent is None:
        return render(request, "company.html.j2", u, 422, enterprise=None, values=values, errors=errors,
                      title="登记企业")
    return RedirectResponse("/app/company?saved=" + quote("企业已登记"), status_code=303)


def _entry_page(request: Request, u: WebUser, values: dict, errors: dict, entry_id: int | None,
                status: int = 200) -> Response:
    action = f"/app/entries/{entry_id}/edit" if entry_id else "/app/entries/new"
    return render(request, "entry.html.j2", u, status, values=values, errors=errors, entry_id=entry_id,
                  action=action, educations=[e.value for e in Education],
                  title="修改需求" if entry_id else "发布新需求")


async def _own_entry(request: Request, u: WebUser, entry_id: int) -> DemandEntry:
    if u.who.enterprise_id is None:
        raise Redirect("/app/company")
    entry = await call(request, svc(request).get, "demand", entry_id)
    if entry.enterprise_id != u.who.enterprise_id:
        raise NotFound(f"需求条目 {entry_id} 不存在")
    return entry


@router.get("/app/entries/new", response_class=HTMLResponse)
async def new_entry(request: Request) -> Response:
    u = await user(request, Role.ENTERPRISE)
    if u.who.enterprise_id is None:
        return RedirectResponse("/app/company", status_code=303)
    return _entry_page(request, u, {"headcount": "1", "fresh_graduates_ok": True}, {}, None)


async def _save_entry(request: Request, entry_id: int | None) -> Response:
    u = await user(request, Role.ENTERPRISE)
    if u.who.enterprise_id is None:
        return RedirectResponse("/app/company", status_code=303)
    current = await _own_entry(request, u, entry_id) if entry_id else None
    form = await form_of(request, u)
    # fields the form does not show stay as they are; the server decides the owner and the source
    keep = current.model_dump(include=set(_ENTRY_KEEP)) if current is not None else {}
    server = {"enterprise_id": u.who.enterprise_id, "enterprise_name": None,
              "source": current.source if current is not None else "post",
              "catalogue_id": current.catalogue_id if current is not None else None}
    entry, errors, values = model_from_form(FORMS["entry"], form, keep=keep,
                                            build=lambda data: DemandEntry.model_validate({**data, **server}))
    s = svc(request)
    if entry is not None:
        try:
            if entry_id:
                await call(request, s.update, "demand", entry_id, entry, actor=u.who)
            else:
                [entry_id] = await call(request, s.add, "demand", [entry], actor=u.who)
        except (InvalidInput, Conflict) as exc:
            entry, errors = None, _domain_errors(exc, "title")
    if entry is None:
        return _entry_page(request, u, values, errors, entry_id, 422)
    return RedirectResponse(f"/app/entries/{entry_id}/candidates?saved=" + quote("需求已保存"), status_code=303)


@router.post("/app/entries/new", response_class=HTMLResponse)
async def create_entry(request: Request) -> Response:
    return await _save_entry(request, None)


@router.get("/app/entries/{entry_id}/edit", response_class=HTMLResponse)
async def edit_entry(request: Request, entry_id: Id) -> Response:
    u = await user(request, Role.ENTERPRISE)
    entry = await _own_entry(request, u, entry_id)
    return _entry_page(request, u, _values_of(entry, _ENTRY_LISTS), {}, entry_id)


@router.post("/app/entries/{entry_id}/edit", response_class=HTMLResponse)
async def update_entry(request: Request, entry_id: Id) -> Response:
    return await _save_entry(request, entry_id)


@router.post("/app/entries/{entry_id}/close")
async def close_entry(request: Request, entry_id: Id) -> Response:
    u = await user(request, Role.ENTERPRISE)
    entry = await _own_entry(request, u, entry_id)
    await form_of(request, u)
    await call(request, svc(request).update, "demand", entry_id, entry.model_copy(update={"status": "closed"}),
               actor=u.who)
    return RedirectResponse("/app/company?saved=" + quote("需求已关闭"), status_code=303)


@router.get("/app/entries/{entry_id}/candidates", response_class=HTMLResponse)
async def candidates(request: Request, entry_id: Id) -> Response:
    from matcher.domain.access import shown_talents

    u = await user(request, Role.ENTERPRISE)
    entry = await _own_entry(request, u, entry_id)
    s = svc(request)

    def work() -> tuple[list, dict]:
        found = s.match_demand(entry_id, 20)
        profiles = s.store.get_many("talent", [m.id for m in found])  # read once: masking and contacts
        shown = shown_talents(s, u.who, found, "web_candidates", profiles=profiles, demand_id=entry_id)
        return shown, {i: talent_view(u.who, p) for i, p in profiles.items()}

    matches, contacts = await call(request, work)
    return render(request, "candidates.html.j2", u, entry=entry, matches=matches, contacts=contacts,
                  title="推荐人才")


@router.get("/app/suggest/occupations")
async def suggest_occupations(request: Request, q: str = "") -> Response:
    await user(request, Role.ENTERPRISE, Role.ORGANISER, Role.ADMIN)
    q = q.strip()[:100]
    if len(q) < 2:
        return JSONResponse([])
    [cands] = await call(request, svc(request).code_occupations, [q], 5)
    return JSONResponse([{"code": c.code, "name": c.name, "score": c.score} for c in cands])


# -- installation ------------------------------------------------------------------------------


def install(app: FastAPI, extra_routers: list[APIRouter] | None = None) -> None:
    """Mount the pages, their static files and their error pages on the API's app."""
    from web import fairs, staff

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="web-static")
    app.include_router(router)
    app.include_router(staff.router)
    app.include_router(fairs.router)
    for r in extra_routers or []:
        app.include_router(r)
    app.state.html_errors = error_page
    app.state.wants_html = wants_html
    install_security_headers(app)  # pages and API alike

    @app.exception_handler(Redirect)
    async def _redirect(_: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.url, status_code=303)

