"""``talentmatch serve``: the HTTP API and pages under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from matcher.cli.common import out, run_settings


def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    proxy_headers: Annotated[bool, typer.Option(
        "--proxy-headers/--no-proxy-headers",
        help="信任反向代理的 X-Forwarded-Proto / X-Forwarded-For（仅限 --forwarded-allow-ips 中的代理）；"
             "经 TLS 代理访问时会话 Cookie 因此带 Secure")] = True,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        help="可信代理的 IP（逗号分隔，* 表示全部）；默认取环境变量 FORWARDED_ALLOW_IPS，否则 127.0.0.1")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="工作进程数（各自加载模型与索引，经数据库变更日志保持一致）")] = 1,
) -> None:
    """启动 HTTP API（Ctrl-C 停止）。"""
    import uvicorn

    from matcher.storage.engine import make_engine
    from matcher.storage.migrations import ensure_schema

    engine = make_engine(run_settings().db_url())
    try:  # a schema older or newer than this program's stops here, with the command to run
        ensure_schema(engine)
    finally:
        engine.dispose()
    out.print(f"API 服务：http://{host}:{port}/docs （Ctrl-C 停止）")
    # the server's processes (this one, or the workers uvicorn starts with this environment)
    # settle their heap once loaded (matcher.core.heap) unless told otherwise
    os.environ.setdefault("TALENTMATCH_SETTLE_HEAP", "true")
    # the HTTP layer is named, not imported: the core knows no HTTP (settings come from the
    # environment, as here)
    # JSON log lines with request ids; uvicorn's own access log (raw paths and queries) is off
    log_config = {"version": 1, "disable_existing_loggers": False,
                  "formatters": {"json": {"()": "api.observability.JsonFormatter"}},
                  "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json",
                                          "stream": "ext://sys.stdout"}},
                  "root": {"handlers": ["stdout"], "level": "INFO"}}
    options = dict(factory=True, host=host, port=port, log_level="info", proxy_headers=proxy_headers,
                   forwarded_allow_ips=forwarded_allow_ips, log_config=log_config, access_log=False)
    if workers == 1:
        uvicorn.run("api.app:create_app", **options)  # type: ignore[arg-type]
        return
    # several processes: uvicorn.run's own multi-worker path, with a listening socket that says it
    # is TCP (matcher.cli.tcpserve), else every kept-alive response waits ~40 ms for a delayed ACK
    from uvicorn.supervisors import Multiprocess

    from matcher.cli.tcpserve import TcpConfig

    config = TcpConfig("api.app:create_app", workers=workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
