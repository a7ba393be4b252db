"""Demand entries across enterprises (open posts are public to every role) and their candidates."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import Caller, Service
from api.params import Id, Paging, QueryId, TopK
from api.routes.matching import Filters, matches_json, rank_stored
from api.versions import Versioned, set_etag
from matcher.domain.access import managed_entry, readable_entry, shown_talents
from matcher.domain.auth import Role
from matcher.domain.schemas import DemandEntry, Match
from matcher.domain.views import Page

router = APIRouter(prefix="/v1/demands", tags=["demands"])

Filter = Annotated[str | None, Query(max_length=64)]


@router.get("", response_model=Page[DemandEntry], summary="需求条目列表（非管理角色只能看到招聘中的条目）")
def list_demands(svc: Service, who: Caller, paging: Paging,
                 status: Literal["open", "closed", "draft"] | None = None, chain: Filter = None,
                 city: Filter = None,
                 occupation: Annotated[str | None, Query(max_length=10, pattern=r"^\d-\d{2}-\d{2}-\d{2}$")] = None,
                 enterprise_id: QueryId = None,
                 catalogue_id: QueryId = None,
                 source: Literal["post", "catalogue", "fair"] | None = None,
                 fresh_graduates_ok: bool | None = None) -> Page[DemandEntry]:
    if not who.is_staff:
        status = "open"
    items, total = svc.list_records(
        "demand", offset=paging.offset, limit=paging.page_size, status=status,
        chain_id=svc.resolve_chain(chain), city=svc.regions.city(city) if city else None,
        occupation_code=occupation, enterprise_id=enterprise_id, catalogue_id=catalogue_id, source=source,
        fresh_graduates_ok=fresh_graduates_ok)
    return Page[DemandEntry](items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.get("/{demand_id}", response_model=DemandEntry, summary="需求条目详情")
def get_demand(demand_id: Id, svc: Service, who: Caller, response: Response) -> DemandEntry:
    src = Versioned(svc)
    entry = readable_entry(src, who, demand_id)
    set_etag(response, src.version)
    return entry


@router.get("/{demand_id}/matches", response_model=list[Match], tags=["matches"],
            summary="为需求条目推荐人才（企业只能查看本企业的条目；未授权公开的联系方式已脱敏）")
async def demand_matches(demand_id: Id, svc: Service, who: Caller, f: Filters, top_k: TopK = 10) -> Response:
    managed_entry(svc, who, demand_id)
    # ranked on the event loop; an enterprise's view is written (impressions, the audit log of the
    # talents it saw), in a thread (see api.routes.matching)
    enterprise = who.role == Role.ENTERPRISE
    found, record = await rank_stored(svc, "demand", demand_id, top_k, f, who if enterprise else None)

    def shown() -> list[Match]:
        if record is not None:
            record()
        return shown_talents(svc, who, found, "demand_matches", demand_id=demand_id)

    return matches_json(await run_in_threadpool(shown) if enterprise else shown())  # staff: nothing written

