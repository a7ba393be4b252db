"""Commands that can ask a running server instead of loading the models in this process.

When ``TALENTMATCH_URL`` is set (e.g. ``http://127.0.0.1:8000``), ``talentmatch match text`` posts
to that server's ``/v1/match`` with the key in ``TALENTMATCH_API_KEY``: the shell then waits for
one HTTP call, not for the encoder to load. Only httpx is imported (no numpy, no models).
"""

from __future__ import annotations

import os
from typing import Any

from matcher.core.errors import TalentMatchError

URL_ENV = "TALENTMATCH_URL"
KEY_ENV = "TALENTMATCH_API_KEY"
TIMEOUT = 60.0


def server() -> tuple[str, str] | None:
    """(base URL, API key) of the configured server, or None when none is configured."""
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        return None
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        fail(f"已设置 {URL_ENV}（{url}），但未设置 {KEY_ENV}：请设置服务器签发的 API 密钥，"
             f"或取消 {URL_ENV} 以在本机计算。", 2)
    if not url.startswith(("http://", "https://")):
        fail(f"{URL_ENV} 应以 http:// 或 https:// 开头：{url}", 2)
    return url.rstrip("/"), key


class RemoteError(TalentMatchError):
    """The server could not be asked, or refused: the CLI prints ``detail`` (and ``errors``) and
    exits 2 for a request the server refused (4xx) or a configuration problem, 1 otherwise."""

    def __init__(self, detail: str, status: int, errors: list | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.errors = errors or []


def fail(message: str, code: int) -> None:
    raise RemoteError(message, 400 if code == 2 else 503)


def post(url: str, key: str, path: str, body: dict[str, Any], transport: Any = None) -> Any:
    """POST ``body`` to the server; its JSON answer, or a Chinese message and a non-zero exit."""
    import httpx

    try:
        with httpx.Client(base_url=url, timeout=TIMEOUT, transport=transport,
                          headers={"Authorization": f"Bearer {key}"}) as http:
            resp = http.post(path, json=body)
    except httpx.TimeoutException:
        fail(f"服务器 {url} 在 {TIMEOUT:.0f} 秒内没有响应。", 1)
    except httpx.HTTPError as exc:
        fail(f"无法连接服务器 {url}（{type(exc).__name__}）：请确认服务已启动、{URL_ENV} 正确。", 1)
    if resp.is_success:
        try:
            return resp.json()
        except ValueError:
            fail(f"服务器 {url} 的响应不是 JSON，{URL_ENV} 是否指向 talentmatch 服务？", 1)
    try:
        problem = resp.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = problem.get("detail") or problem.get("title") or resp.reason_phrase
    errors = problem.get("errors") if isinstance(problem.get("errors"), list) else []
    raise RemoteError(f"服务器返回 {resp.status_code}：{detail}", resp.status_code, errors)
