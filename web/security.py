"""Security headers on every response of the app (pages, API, static files, errors).

Pages get a Content-Security-Policy that runs scripts and styles from the site's own files only;
a page that needs an inline ``<style>`` (the gap report) marks it with the request's nonce
(``request.state.csp_nonce``). The interactive API docs (/docs, /redoc) are FastAPI's pages: they
load Swagger UI and ReDoc from the jsDelivr CDN and start them with one inline script, so their
policy allows that CDN and exactly the inline scripts of the page sent (by their SHA-256), and
inline styles (ReDoc writes its styles at run time) -- never inline scripts in general.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CDN = "https://cdn.jsdelivr.net"
DOCS_PATHS = ("/docs", "/redoc")
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def page_policy(nonce: str) -> str:
    return ("default-src 'self'; script-src 'self'; "
            f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def docs_policy(script_hashes: list[str]) -> str:
    hashes = " ".join(f"'sha256-{h}'" for h in script_hashes)
    return (f"default-src 'none'; script-src {CDN} {hashes}; "
            f"style-src {CDN} https://fonts.googleapis.com 'unsafe-inline'; font-src https://fonts.gstatic.com; "
            "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; connect-src 'self'; "
            "worker-src blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _hashes(body: bytes) -> list[str]:
    return [base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() for m in _INLINE_SCRIPT.finditer(body)]


class SecurityHeaders:
    """An ASGI middleware: a fresh CSP nonce per request, and the headers on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        path = scope.get("path", "")
        if path in DOCS_PATHS or path.startswith("/docs/"):
            await self._docs(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with(message.get("headers", []), page_policy(nonce))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The docs pages are small and static: hold the body to hash its inline scripts."""
        start: Message | None = None
        body = b""

        async def hold(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                body += message.get("body", b"")
                if message.get("more_body"):
                    return
                assert start is not None
                start["headers"] = _with(start.get("headers", []), docs_policy(_hashes(body)))
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, hold)


_FIXED = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
          (b"referrer-policy", b"same-origin")]


def _with(headers: list[tuple[bytes, bytes]], policy: str) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in headers}
    out = list(headers)
    for name, value in [(b"content-security-policy", policy.encode()), *_FIXED]:
        if name not in names:
            out.append((name, value))
    return out


def install_security_headers(app) -> None:  # noqa: ANN001 - a FastAPI/Starlette app
    """Wrap the app's whole middleware stack, so that responses made by the outermost error handler
    (an unexpected error's 500) carry the headers too; call once, where the app is built."""
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build())

    app.build_middleware_stack = build_with_headers
