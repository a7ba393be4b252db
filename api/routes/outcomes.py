"""Outcome events: what seekers, enterprises and fairs did with a shown pair (learning from outcomes)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import Caller, Service
from api.params import Paging, QueryId
from matcher.domain.outcomes import Kind, OutcomeIn, OutcomeView, visible_filters
from matcher.domain.views import Page

router = APIRouter(prefix="/v1/outcomes", tags=["outcomes"])


@router.post("", response_model=OutcomeView, status_code=status.HTTP_201_CREATED,
             summary="记录结果事件（求职者：查看、收藏、申请、不感兴趣；企业：入围、约面试、不合适、已录用；"
                     "活动组织方与管理员：已面试、已发录用通知、已录用、未到场）")
def record(body: OutcomeIn, svc: Service, who: Caller, response: Response) -> OutcomeView:
    event = svc.record_outcome(who, body.talent_id, body.demand_id, body.kind, fair_id=body.fair_id, note=body.note)
    response.headers["Location"] = f"/v1/outcomes?talent_id={event['talent_id']}&demand_id={event['demand_id']}"
    return OutcomeView.of(event)


@router.get("", response_model=Page[OutcomeView],
            summary="结果事件列表（求职者只看到自己的，企业只看到本企业条目上的；模拟数据只对管理角色可见）")
def list_events(svc: Service, who: Caller, paging: Paging, talent_id: QueryId = None, demand_id: QueryId = None,
                kind: Kind | None = None, synthetic: bool | None = None) -> Page[OutcomeView]:
    filters = visible_filters(svc, who, talent_id, demand_id)
    if filters is None:
        return Page[OutcomeView](items=[], total=0, page=paging.page, page_size=paging.page_size)
    if who.is_staff:
        filters["synthetic"] = synthetic
    items, total = svc.outcomes.events(**filters, kind=kind, offset=paging.offset, limit=paging.page_size)
    return Page[OutcomeView](items=[OutcomeView.of(e) for e in items], total=total, page=paging.page,
                             page_size=paging.page_size)
