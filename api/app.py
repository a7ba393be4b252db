"""The FastAPI app: one composition root. Routes stay thin: validate, call matcher, return schemas.

Every /v1 route needs an API key (``Authorization: Bearer tm_…`` or ``X-API-Key``); roles and
scopes are checked per route (matcher.domain.access). Errors leave as problem+json (api.problems).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.observability import install_observability
from api.problems import BodyLimit, install_handlers
from api.routes import (
    admin,
    analytics,
    catalogues,
    demands,
    enterprises,
    fairs,
    imports,
    jobs,
    matching,
    occupations,
    ops,
    outcomes,
    talents,
    zone,
)
from matcher.core.background import Background
from matcher.core.heap import freeze_heap, settle_heap
from matcher.core.settings import Settings, load_settings
from matcher.domain.ratelimit import AuthThrottle
from matcher.fair.jobs import Worker
from matcher.imports.jobs import HANDLERS as IMPORT_HANDLERS
from matcher.service import MatchService
from matcher.wiring import build_service

log = logging.getLogger("talentmatch.api")

DESCRIPTION = """数字人才供需匹配服务：人岗双向匹配、职业编码、解释与培训方向建议。

认证：除 /health、/ready 外，所有 /v1 接口都需要 API 密钥（请求头 `Authorization: Bearer <密钥>`）。
密钥由管理员用 `talentmatch keys create --role admin|organiser|enterprise|seeker` 创建，明文只显示一次。
角色：admin（全部）、organiser（活动组织方：人才库、目录、匹配）、enterprise（本企业及其需求条目）、
seeker（本人档案与岗位推荐）。企业查看未同意公开联系方式的人才时，姓名与电话脱敏；身份证号从不返回。
"""


def _warm_records(stop: threading.Event, svc: MatchService, settle: bool) -> None:
    """Fill the service's record cache (``MatchService.warm_records``) and make the stored
    records' dense-search pools (``IndexManager.warm_pools``); with a settled heap, what they
    kept is then frozen out of the collector's walks as the rest of what was loaded."""
    try:
        added = svc.warm_records(stop)
        svc.record_cache.warming = False  # (set before this thread started, also when the cache is off)
        pools = svc.indexes.warm_pools(stop)
    except Exception as exc:  # the cache fills as requests come instead
        svc.record_cache.warming = False
        log.warning("record cache not filled (%s: %s)", type(exc).__name__, exc)
        return
    if settle and not stop.is_set():
        freeze_heap()
    log.info("record cache filled: %d records added, %d kept; %d dense-search pools made",
             added, len(svc.record_cache), pools)


def create_app(settings: Settings | None = None, service: MatchService | None = None, *, web: bool = True) -> FastAPI:
    """The API (and, unless ``web=False``, the web pages) over one MatchService."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = service or build_service(settings)  # models and indexes load once, here
        svc.ensure_index("demand")
        svc.ensure_index("talent")
        app.state.service = svc
        if settings.settle_heap:  # what was loaded is never walked by the collector again
            settle_heap()
        warm = None
        if settings.record_cache_warm and (svc.record_cache.enabled or settings.dense_pool_cache > 0):
            # first rankings read no records and scan no vectors
            svc.record_cache.warming = True  # /ready says so from now on
            warm = Background(_warm_records, "record-warmer", svc, settings.settle_heap).start()
        # other processes' writes (imports, the CLI, other workers) reach this server's indexes
        stop = svc.indexes.follow(settings.index_poll_seconds) if settings.index_poll_seconds > 0 else None
        # durable jobs (fair runs) run in a thread here unless `talentmatch worker` processes do
        worker = Worker(svc, handlers=IMPORT_HANDLERS).start_thread() if svc.settings.embedded_worker else None
        try:
            yield
        finally:
            # stop the loops and wait for them: a job or a poll in flight must end before the
            # indexes are saved and the database is closed
            for loop in (stop, worker, warm):
                if loop is not None:
                    loop.set()
            for loop in (stop, worker, warm):
                if loop is not None and not loop.stop():
                    log.warning("a background loop (%s) did not stop in time", loop.thread.name)
            svc.save_all()
            if service is None:
                svc.close()

    app = FastAPI(title="talentmatch", version="0.2.0", lifespan=lifespan, description=DESCRIPTION)
    app.state.auth_throttle = AuthThrottle.from_settings(settings)  # per app: failed sign-ins (api.deps, web)
    install_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    for module in (ops, admin, enterprises, demands, talents, matching, occupations, analytics, catalogues, zone,
                   fairs, outcomes, jobs, imports):
        app.include_router(module.router)
    if web:
        from web.app import install

        install(app)
    else:
        from web.security import install_security_headers

        install_security_headers(app)  # the API alone carries the same headers
    install_observability(app)  # last: its middleware is the outermost (ids on every response)
    return app
