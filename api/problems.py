"""One mapping from errors to RFC 9457 problem responses, and the request body limit.

Every error leaves the API as ``application/problem+json`` with ``type``, ``title``, ``status``,
``detail`` (and ``errors`` for field problems); never a traceback or an internal path.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.observability import REQUEST_ID
from matcher.core.errors import ImportRejected, TalentMatchError
from matcher.ingest.messages import zh_reason

PROBLEM = "application/problem+json"
log = logging.getLogger("talentmatch.api")

_TITLES = {400: "请求错误", 401: "未认证", 403: "无权限", 404: "未找到", 405: "方法不允许", 406: "无法提供所需格式",
           409: "冲突", 413: "请求体过大", 415: "不支持的媒体类型", 422: "输入无效", 429: "请求过于频繁", 500: "内部错误",
           503: "服务未就绪"}
_DETAILS = {404: "请求的资源不存在", 405: "该路径不支持此 HTTP 方法"}


def problem(status: int, title: str | None = None, detail: str = "", errors: list | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": f"https://talentmatch.dev/problems/{status}",
                            "title": title or _TITLES.get(status, "请求错误"), "status": status,
                            "detail": detail or _DETAILS.get(status, "")}
    if errors:
        body["errors"] = errors
    request_id = REQUEST_ID.get()
    if request_id:  # what a user quotes to find the log lines of their request
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_errors(errors: list[dict[str, Any]], skip_root: bool) -> list[dict[str, str]]:
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        if skip_root and loc and loc[0] in ("body", "query", "path", "header", "cookie"):
            where = loc[0]
            loc = loc[1:]
        else:
            where = "body"
        msg = e.get("msg", "")
        if not msg.startswith("JSON decode error"):
            msg = zh_reason(e)
        out.append({"field": ".".join(loc) or where, "in": where, "reason": msg})
    return out


def respond(request: Request, status: int, title: str | None = None, detail: str = "",
            errors: list | None = None, headers: dict[str, str] | None = None) -> Response:
    """A problem response, or an error page for the web pages (``app.state.html_errors``)."""
    wants_html = getattr(request.app.state, "wants_html", None)
    if wants_html is not None and wants_html(request):
        return request.app.state.html_errors(request, status, title or _TITLES.get(status, "请求错误"),
                                             detail or _DETAILS.get(status, ""), errors)
    return problem(status, title, detail, errors, headers)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ImportRejected)
    async def _rejected(request: Request, exc: ImportRejected) -> Response:
        errors = []
        for e in exc.errors:
            item = {"row": e.row, "field": e.field, "reason": e.reason, "value": e.value}
            if getattr(e, "sheet", None):  # a fair file's sheet (or JSON list)
                item["sheet"] = e.sheet
            errors.append(item)
        return respond(request, exc.status, exc.title, exc.detail, errors)

    @app.exception_handler(TalentMatchError)
    async def _domain(request: Request, exc: TalentMatchError) -> Response:
        headers = {"WWW-Authenticate": 'Bearer realm="talentmatch"'} if exc.status == 401 else None
        if getattr(exc, "retry_after", None):  # RateLimited (429)
            headers = {"Retry-After": str(exc.retry_after)}
        errors = getattr(exc, "errors", None) or None
        return respond(request, exc.status, exc.title, exc.detail, errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(list(exc.errors()), skip_root=True)
        if any(e["reason"].startswith("JSON decode error") for e in errors):
            return respond(request, 400, "请求体不是有效的 JSON", "请求体无法按 JSON 解析", errors)
        return respond(request, 422, "输入无效", "请求参数或请求体不符合要求", errors)

    @app.exception_handler(ValidationError)
    async def _model_validation(request: Request, exc: ValidationError) -> Response:
        # a merged patch or a derived model failed its own checks (e.g. salary_min > salary_max)
        return respond(request, 422, "输入无效", "数据不符合要求", _field_errors(list(exc.errors()), skip_root=False))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code not in _DETAILS else ""
        return respond(request, exc.status_code, None, detail or _DETAILS.get(exc.status_code, ""),
                       headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # the route template and the error's type only: a path or an error message may carry personal data
        route = getattr(request.scope.get("route"), "path", "unmatched")
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, route,
                  exc_info=(type(exc), exc, exc.__traceback__))
        return respond(request, 500, "内部错误", "服务器内部错误，请稍后重试")


class BodyLimit:
    """Reject request bodies above a limit with 413, by Content-Length or while streaming.

    Multipart uploads (catalogue and fair files) get their own, larger limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_control(scope.get("query_string", b"")) or "\x00" in scope.get("path", ""):
            await self._reject(send, 400, "请求路径或参数中含有不允许的控制字符")
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = self.max_upload_bytes if ctype.startswith("multipart/") else self.max_bytes
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                await self._reject(send, 400, "Content-Length 无效")
                return
            if too_big:
                await self._reject(send, 413, f"请求体超过上限 {limit // 1024} KB")
                return
        seen = 0
        started = False

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except BodyTooLarge as exc:  # read outside a route's body parsing (which maps it itself)
            if not started:
                await self._reject(send, 413, exc.detail)

    @staticmethod
    async def _reject(send: Send, status: int, detail: str) -> None:
        body = json.dumps({"type": f"https://talentmatch.dev/problems/{status}", "title": _TITLES[status],
                           "status": status, "detail": detail}, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", PROBLEM.encode()), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _has_control(query: bytes) -> bool:
    """Whether a raw query string carries a C0 control character, raw or percent-encoded."""
    q = query.lower()
    if any(b < 0x20 for b in q):
        return True
    i = q.find(b"%")
    while i != -1:
        code = q[i + 1 : i + 3]
        if len(code) == 2 and code[0:1] in (b"0", b"1") and code[1:2] in b"0123456789abcdef" and code != b"09":
            return True
        i = q.find(b"%", i + 1)
    return False


class BodyTooLarge(StarletteHTTPException):
    """Raised while a body streams in; FastAPI re-raises HTTP exceptions from body parsing."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"请求体超过上限 {limit // 1024} KB")
