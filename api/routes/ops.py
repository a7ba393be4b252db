"""Liveness, readiness and the caller's own identity."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import Caller, Service
from matcher.domain.views import Me

router = APIRouter()


@router.get("/health", tags=["ops"], summary="存活检查")
def health() -> dict:
    return {"status": "ok"}


@router.get("/ready", tags=["ops"], summary="就绪检查：数据库可达，索引已加载且与数据库一致")
def ready(svc: Service) -> JSONResponse:
    db = svc.ping()
    status = svc.index_status() if db else {}
    ok = db and all(v["loaded"] and v["in_step"] for v in status.values())
    cache = svc.record_cache
    # the record cache fills in the background after start (MatchService.warm_records): ready
    # before it is done, only slower at first
    body = {"status": "ready" if ok else "not ready", "database": db, "indexes": status,
            "records": {"kept": len(cache), "warming": cache.warming}}
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/v1/me", response_model=Me, tags=["auth"], summary="当前密钥的角色与绑定范围")
def me(who: Caller) -> Me:
    return Me(role=str(who.role), key_id=who.key_id, enterprise_id=who.enterprise_id,
              talent_id=who.talent_id, label=who.label)
