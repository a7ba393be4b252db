"""Web pages: sign-in with a key, then per-role pages rendered on the server.

Sessions: the sign-in form takes an API key once; the browser then holds only a random session
token in an HttpOnly, SameSite=Strict cookie (the table keeps its hash). Every form that changes
data carries the session's CSRF token, and a cross-site Origin is refused. Keys never appear in
URLs. Errors render as pages, never as tracebacks.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from web import enterprise, fairs, seeker, session_pages, staff
from web.common import HERE, Redirect, error_page, wants_html
from web.security import install_security_headers


def install(app: FastAPI, extra_routers: list[APIRouter] | None = None) -> None:
    """Mount the pages, their static files and their error pages on the API's app."""
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="web-static")
    for module in (session_pages, seeker, enterprise, staff, fairs):
        app.include_router(module.router)
    for r in extra_routers or []:
        app.include_router(r)
    app.state.html_errors = error_page
    app.state.wants_html = wants_html
    install_security_headers(app)  # pages and API alike

    @app.exception_handler(Redirect)
    async def _redirect(_: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.url, status_code=303)
