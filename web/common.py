"""Web pages, what every page module shares: sign-in with a key, then per-role pages rendered on the server.

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

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from matcher.core.errors import InvalidInput, TalentMatchError
from matcher.core.localtime import local_time
from matcher.domain.auth import ROLE_LABELS, Principal, Role
from matcher.ingest.messages import zh_reason
from matcher.service import MatchService

HERE = Path(__file__).resolve().parent
COOKIE = "tm_session"
# every template is HTML: escape every value (Starlette's default escapes only *.html, *.htm and
# *.xml, and these are named *.html.j2)
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True))
templates.env.filters["local"] = local_time


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
    found = await call(request, svc(request).accounts.web_session, token) if token else None
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
    shown = [line for line in (_error_line(e) for e in (errors or [])) if line and line != detail][:50]
    return templates.TemplateResponse(request, "error.html.j2", {
        "request": request, "user": None, "csrf": "", "nav": [], "role_label": "", "active": "", "flashes": [],
        "heading": heading, "detail": detail, "errors": shown, "title": heading}, status_code=status)


def _error_line(e: Any) -> str:
    """One problem of an error, as a sentence: its reason with its row and column when it has
    them; a bare marker such as {"field": "region"} says nothing more than the message itself."""
    if not isinstance(e, dict):
        return str(e)
    reason = str(e.get("reason") or "")
    if not reason:
        return ""
    where = [f"工作表“{e['sheet']}”" if e.get("sheet") else "", f"第 {e['row']} 行" if e.get("row") else ""]
    place = " ".join(w for w in where if w)
    return f"{place}：{reason}" if place else reason


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


FORM_CONTROL = ("csrf", "version")  # hidden fields of every form, not record fields (see shown_version)


def model_from_form(spec: Form, form: FormData, *, keep: dict[str, Any] | None = None,
                    server: dict[str, Any] | None = None, build: Callable[[dict[str, Any]], Any] | None = None
                    ) -> tuple[Any, dict[str, str], dict[str, Any]]:
    """(model or None, field → Chinese error, values to show again) from a posted form.

    ``keep``: values of fields the form does not show (an update keeps them as they are);
    ``server``: values the server decides (the subscriber). Both go through the input model too.
    ``build``: the domain record from the input model's values, as the API route makes it (its
    whole-record rules, such as salary order, are shown next to their field too).
    """
    values = {k: str(v) for k, v in form.items() if k not in FORM_CONTROL and isinstance(v, str)}
    errors: dict[str, str] = {}
    refused = sorted({str(k)[:40] for k in form.keys() if k not in FORM_CONTROL and k not in spec.fields})
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
        # a whole-record rule pydantic skips when a field failed: still shown with the rest
        lo, hi = data.get("salary_min"), data.get("salary_max")
        if isinstance(lo, int | float) and isinstance(hi, int | float) and lo > hi:
            errors.setdefault("salary_min", "薪资下限不能大于上限")
        return None, errors, values
    return (None if errors else built), errors, values


def values_of(model: BaseModel, lists: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in model.model_dump(mode="json").items():
        if k in lists:
            out[k] = "、".join(v or [])
        elif isinstance(v, bool):
            out[k] = v
        elif v is not None:
            out[k] = str(v) if not isinstance(v, float) or not v.is_integer() else str(int(v))
    return out


def shown_version(form: Any) -> int | None:
    """The record version an edit form was filled from (its hidden ``version`` field)."""
    value = str(form.get("version", "")).strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None


def changed_meanwhile(now: int) -> str:
    return (f"已被他人修改：您打开此页后，记录已被保存过（现在是第 {now} 版），您的修改尚未保存。"
            "下面仍是您填写的内容：核对后再次保存将以它为准；要查看最新内容，请重新打开本页。")


def domain_errors(exc: TalentMatchError, default: str, fields: dict[str, str] | None = None) -> dict[str, str]:
    """A service error (unknown chain, unknown code, conflict) next to its field; ``fields`` maps
    the service's field name to the form's (a profile's chains are the service's chain_id)."""
    field = default
    if isinstance(exc, InvalidInput) and exc.errors:
        field = str(exc.errors[0].get("field") or default)
    return {(fields or {}).get(field, field): exc.detail}


# -- sign-in ---------------------------------------------------------------------------------
