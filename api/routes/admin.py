"""API keys and the audit log (administrators only)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from api.deps import Admin, Service
from api.params import Id, Paging, QueryId
from matcher.domain.views import AuditEntry, KeyInfo, KeyRequest, NewKey, Page

router = APIRouter(tags=["admin"])


@router.post("/v1/keys", response_model=NewKey, status_code=status.HTTP_201_CREATED,
             summary="创建 API 密钥（明文只返回这一次）")
def create_key(body: KeyRequest, svc: Service, who: Admin) -> NewKey:
    key, info = svc.accounts.create_key(body.role, enterprise_id=body.enterprise_id, talent_id=body.talent_id,
                                        label=body.label, actor=who)
    return NewKey(key=key, info=KeyInfo(**info))


@router.get("/v1/keys", response_model=list[KeyInfo], summary="API 密钥列表（不含明文）")
def list_keys(svc: Service, _: Admin, include_revoked: bool = False) -> list[dict]:
    return svc.accounts.list_keys(include_revoked=include_revoked)


@router.delete("/v1/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, summary="吊销 API 密钥")
def revoke_key(key_id: Id, svc: Service, who: Admin) -> Response:
    svc.accounts.revoke_key(key_id, actor=who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/audit", response_model=Page[AuditEntry], summary="审计日志（最新在前）")
def audit_log(svc: Service, _: Admin, paging: Paging,
              action: Literal["create", "update", "delete", "view", "revoke"] | None = None,
              resource: Annotated[str | None, Query(max_length=32)] = None,
              resource_id: Annotated[str | None, Query(max_length=64)] = None,
              actor_key_id: QueryId = None) -> Page[AuditEntry]:
    items, total = svc.audit_log.page(offset=paging.offset, limit=paging.page_size, action=action,
                                      resource=resource, resource_id=resource_id, actor_key_id=actor_key_id)
    return Page[AuditEntry](items=[AuditEntry(**i) for i in items], total=total, page=paging.page,
                            page_size=paging.page_size)
