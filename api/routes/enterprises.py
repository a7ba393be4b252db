"""Enterprises and their demand entries."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from api.deps import Caller, Forbidden, Service
from api.params import Id, Paging
from api.versions import IfMatch, Versioned, expected_version, set_etag
from matcher.core.errors import Conflict
from matcher.domain.access import enterprise_scope, entry_of
from matcher.domain.auth import Role
from matcher.domain.schemas import DemandEntry, Enterprise
from matcher.domain.views import (
    DemandIn,
    DemandPatch,
    EnterpriseIn,
    EnterprisePatch,
    Page,
    owner_body,
)

router = APIRouter(prefix="/v1/enterprises", tags=["enterprises"])

Status = Literal["open", "closed", "draft"]
Filter = Annotated[str | None, Query(max_length=64)]
Code = Annotated[str | None, Query(max_length=10, pattern=r"^\d-\d{2}-\d{2}-\d{2}$", description="CSCO 职业编码")]


@router.post("", response_model=Enterprise, status_code=status.HTTP_201_CREATED,
             summary="登记企业（企业密钥首次使用时登记本企业并与之绑定）")
def create_enterprise(body: EnterpriseIn, svc: Service, who: Caller, response: Response) -> Enterprise:  # type: ignore[valid-type]
    bind = None
    if who.role == Role.SEEKER:
        raise Forbidden("求职者不能登记企业")
    if who.role == Role.ENTERPRISE:
        if who.enterprise_id is not None:
            raise Conflict(f"该密钥已绑定企业 {who.enterprise_id}")
        bind = who.key_id
    e = Enterprise.model_validate(body.model_dump())
    if e.chain_id:
        e = e.model_copy(update={"chain_id": svc.resolve_chain(e.chain_id)})
    created = svc.enterprises.add(e, actor=who, bind_key=bind)
    response.headers["Location"] = f"/v1/enterprises/{created.id}"
    return created


@router.get("", response_model=Page[Enterprise], summary="企业列表")
def list_enterprises(svc: Service, _: Caller, paging: Paging) -> Page[Enterprise]:
    items = svc.enterprises.page(paging.offset, paging.page_size)
    return Page[Enterprise](items=items, total=svc.enterprises.count(), page=paging.page,
                            page_size=paging.page_size)


@router.get("/{enterprise_id}", response_model=Enterprise, summary="企业信息")
def get_enterprise(enterprise_id: Id, svc: Service, _: Caller, response: Response) -> Enterprise:
    e, version = svc.enterprises.get_versioned(enterprise_id)
    set_etag(response, version)
    return e


def _save_enterprise(svc: Service, who: Caller, enterprise_id: int, data: dict | None, response: Response,
                     if_match: str | None, patch: dict | None = None) -> Enterprise:
    enterprise_scope(who, enterprise_id)

    def change(current: Enterprise) -> Enterprise:  # runs in the transaction holding the row
        merged = data if data is not None else {**current.model_dump(exclude={"id"}), **(patch or {})}
        e = Enterprise.model_validate(merged)
        if e.chain_id:
            e = e.model_copy(update={"chain_id": svc.resolve_chain(e.chain_id)})
        return e

    saved, version = svc.enterprises.save(enterprise_id, change, actor=who, if_match=expected_version(if_match))
    set_etag(response, version)
    return saved


@router.put("/{enterprise_id}", response_model=Enterprise, summary="修改企业信息（整体替换；可带 If-Match）")
def replace_enterprise(enterprise_id: Id, body: EnterpriseIn, svc: Service, who: Caller,  # type: ignore[valid-type]
                       response: Response, if_match: IfMatch = None) -> Enterprise:
    return _save_enterprise(svc, who, enterprise_id, body.model_dump(), response, if_match)


@router.patch("/{enterprise_id}", response_model=Enterprise, summary="修改企业信息（部分字段；可带 If-Match）")
def patch_enterprise(enterprise_id: Id, body: EnterprisePatch, svc: Service, who: Caller,  # type: ignore[valid-type]
                     response: Response, if_match: IfMatch = None) -> Enterprise:
    return _save_enterprise(svc, who, enterprise_id, None, response, if_match,
                            patch=body.model_dump(exclude_unset=True))


# -- demand entries of an enterprise ----------------------------------------------------------


def _entry(data: dict, enterprise_id: int, keep: DemandEntry | None = None) -> DemandEntry:
    data = {**data, "enterprise_id": enterprise_id, "enterprise_name": None}
    if keep is not None:
        data["source"] = keep.source
        data["catalogue_id"] = keep.catalogue_id
    return DemandEntry.model_validate(data)


@router.post("/{enterprise_id}/demands", response_model=DemandEntry, status_code=status.HTTP_201_CREATED,
             summary="发布需求条目")
def create_demand(enterprise_id: Id, body: DemandIn, svc: Service, who: Caller,  # type: ignore[valid-type]
                  response: Response) -> DemandEntry:
    enterprise_scope(who, enterprise_id)
    svc.enterprises.get(enterprise_id)  # 404 before any work
    [new_id] = svc.add("demand", [_entry(owner_body(who, body), enterprise_id)], actor=who)
    response.headers["Location"] = f"/v1/enterprises/{enterprise_id}/demands/{new_id}"
    return svc.get("demand", new_id)  # type: ignore[return-value]


@router.get("/{enterprise_id}/demands", response_model=Page[DemandEntry], summary="本企业的需求条目（分页、筛选）")
def list_demands(enterprise_id: Id, svc: Service, who: Caller, paging: Paging,
                 status: Status | None = None, chain: Filter = None, city: Filter = None,
                 occupation: Code = None) -> Page[DemandEntry]:
    enterprise_scope(who, enterprise_id)
    svc.enterprises.get(enterprise_id)
    items, total = svc.list_records(
        "demand", offset=paging.offset, limit=paging.page_size, enterprise_id=enterprise_id, status=status,
        chain_id=svc.resolve_chain(chain), city=svc.regions.city(city) if city else None,
        occupation_code=occupation)
    return Page[DemandEntry](items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.get("/{enterprise_id}/demands/{demand_id}", response_model=DemandEntry, summary="需求条目详情")
def get_demand(enterprise_id: Id, demand_id: Id, svc: Service, who: Caller, response: Response) -> DemandEntry:
    src = Versioned(svc)
    entry = entry_of(src, who, enterprise_id, demand_id)
    set_etag(response, src.version)
    return entry


def _save_demand(svc: Service, who: Caller, enterprise_id: int, demand_id: int, change, response: Response,  # type: ignore[no-untyped-def]
                 if_match: str | None, sent_external: bool = False) -> DemandEntry:
    entry_of(svc, who, enterprise_id, demand_id)
    updated, version = svc.save("demand", demand_id, change, actor=who, if_match=expected_version(if_match),
                                claim_external=who.is_staff and sent_external)
    set_etag(response, version)
    return updated


@router.put("/{enterprise_id}/demands/{demand_id}", response_model=DemandEntry,
            summary="修改需求条目（整体替换；可带 If-Match）")
def replace_demand(enterprise_id: Id, demand_id: Id, body: DemandIn, svc: Service,  # type: ignore[valid-type]
                   who: Caller, response: Response, if_match: IfMatch = None) -> DemandEntry:
    def change(current: DemandEntry) -> DemandEntry:
        data = {**body.model_dump(), **owner_body(who, body, current.external_id)}
        if not who.is_staff:  # the enterprise replaces its entry; the external id is not its to drop
            data["external_id"] = current.external_id
        if data.get("occupation_code") == current.occupation_code:  # the coder's code sent back: as sure as it was
            data["occupation_confidence"] = current.occupation_confidence
        return _entry(data, enterprise_id, current)

    return _save_demand(svc, who, enterprise_id, demand_id, change, response, if_match,
                        "external_id" in body.model_fields_set)


@router.patch("/{enterprise_id}/demands/{demand_id}", response_model=DemandEntry,
              summary="修改需求条目（部分字段；可带 If-Match）")
def patch_demand(enterprise_id: Id, demand_id: Id, body: DemandPatch, svc: Service,  # type: ignore[valid-type]
                 who: Caller, response: Response, if_match: IfMatch = None) -> DemandEntry:
    def change(current: DemandEntry) -> DemandEntry:
        # only the fields sent change; send "occupation_code": null to have a new title coded again
        data = {**current.model_dump(exclude={"id", "occupation_name"}), **owner_body(who, body, current.external_id)}
        if "occupation_code" in body.model_fields_set:  # a code sent is the caller's: settled (or coded anew)
            data["occupation_confidence"] = None
        return _entry(data, enterprise_id, current)

    return _save_demand(svc, who, enterprise_id, demand_id, change, response, if_match,
                        "external_id" in body.model_fields_set)


@router.post("/{enterprise_id}/demands/{demand_id}/close", response_model=DemandEntry, summary="关闭需求条目（不再参与匹配）")
def close_demand(enterprise_id: Id, demand_id: Id, svc: Service, who: Caller, response: Response) -> DemandEntry:
    current = entry_of(svc, who, enterprise_id, demand_id)
    if current.status == "closed":
        return current
    return _save_demand(svc, who, enterprise_id, demand_id,
                        lambda now: now.model_copy(update={"status": "closed"}), response, None)


@router.delete("/{enterprise_id}/demands/{demand_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="删除需求条目")
def delete_demand(enterprise_id: Id, demand_id: Id, svc: Service, who: Caller) -> Response:
    entry_of(svc, who, enterprise_id, demand_id)
    svc.delete("demand", demand_id, actor=who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
