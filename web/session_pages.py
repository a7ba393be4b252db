"""Sign-in with a key, sign-out and the home redirect."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from matcher.domain.auth import Role
from web.common import (
    COOKIE,
    HOME,
    WebUser,
    call,
    form_of,
    render,
    svc,
    user,
)

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def root() -> Response:
    return RedirectResponse("/app", status_code=303)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html.j2", None, errors={}, next=next, title="登录")


def safe_next(target: str) -> str:
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
    made = await call(request, svc(request).accounts.create_web_session, key)
    if made is None:
        await call(request, throttle.failed, client, key)
        return render(request, "login.html.j2", None, 401, errors={"key": "密钥无效或已吊销"}, title="登录",
                      next=str(form.get("next", "")))
    token, _, _ = made
    resp = RedirectResponse(safe_next(str(form.get("next", ""))), status_code=303)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                    max_age=12 * 3600, path="/")
    return resp


@router.post("/logout")
async def logout(request: Request) -> Response:
    u = await user(request)
    await form_of(request, u)
    await call(request, svc(request).accounts.end_web_session, u.token)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


@router.get("/app", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    u = await user(request)
    return RedirectResponse(HOME[Role(u.who.role)], status_code=303)


# -- seekers -----------------------------------------------------------------------------------


@router.get("/app/help", response_class=HTMLResponse)
async def help_page(request: Request) -> Response:
    """What 匹配度 and the organisers' terms mean: open to everyone, signed in or not."""
    from matcher.domain.fair import REPORT_DEFINITIONS

    token = request.cookies.get(COOKIE, "")
    found = await call(request, svc(request).accounts.web_session, token) if token else None
    u = WebUser(found[0], found[1], token) if found else None
    return render(request, "help.html.j2", u, definitions=REPORT_DEFINITIONS, title="用语说明")
