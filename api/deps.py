"""Request dependencies: the service, the caller (API key → principal), paging."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from matcher.core.errors import Forbidden, RateLimited, Unauthorized
from matcher.domain.auth import Principal, Role
from matcher.domain.ratelimit import throttle_of
from matcher.service import MatchService

_bearer = HTTPBearer(auto_error=False, description="API 密钥：Authorization: Bearer tm_…")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API 密钥（另一种传法）")


def service_of(request: Request) -> MatchService:
    return request.app.state.service


async def get_service(request: Request) -> MatchService:
    """The app's service. ``async``: a dependency that does not block runs on the event loop;
    a plain ``def`` one costs a hop to the thread pool and back per request."""
    return service_of(request)


Service = Annotated[MatchService, Depends(get_service)]


async def principal(request: Request, bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
                    header: Annotated[str | None, Security(_header)]) -> Principal:
    """The caller of a request, from its API key; 401 without a valid key, 429 after too many
    failed attempts from the client or on the key's prefix (matcher.domain.ratelimit).

    ``async``: on the event loop, as the rankings are (``api.routes.matching``). Its
    reads are short: one indexed row, and the failure counters (in memory, or Redis with a
    one-second timeout after which the check fails open for a while)."""
    key = bearer.credentials if bearer is not None else header
    if not key:
        raise Unauthorized("缺少 API 密钥：请在请求头中提供 Authorization: Bearer <密钥>")
    throttle, client = throttle_of(request.app), request.client.host if request.client else None
    wait = throttle.retry_after(client, key)  # failed attempts per client and per key prefix
    if wait is not None:
        raise RateLimited(wait)
    who = service_of(request).accounts.authenticate(key)
    if who is None:
        throttle.failed(client, key)
        raise Unauthorized("API 密钥无效或已吊销")
    return who


Caller = Annotated[Principal, Depends(principal)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only the given roles (403 for the others)."""
    allowed = frozenset(roles)

    async def check(who: Caller) -> Principal:  # no blocking: on the event loop (get_service)
        if who.role not in allowed:
            names = "、".join(r.value for r in roles)
            raise Forbidden(f"当前角色（{who.role}）无权执行此操作，需要：{names}")
        return who

    return check


Staff = Annotated[Principal, Depends(require(Role.ADMIN, Role.ORGANISER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
