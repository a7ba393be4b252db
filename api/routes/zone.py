"""The graduates' direct-train zone (高校人才直通车) and its subscriptions."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import Field

from api.deps import Caller, Forbidden, Service
from api.params import Digits, Id
from matcher.core.errors import NotFound
from matcher.domain.auth import Principal, Role
from matcher.domain.schemas import MAX_ID, StrictInt
from matcher.domain.views import InputModel
from matcher.zone.graduates import (
    Feed,
    Subscription,
    SubscriptionCreate,
    SubscriptionIn,
    ZoneQuery,
    ZoneResult,
    acknowledge,
    create_subscription,
    delete_subscription,
    feed,
    get_subscription,
    graduate_zone,
    list_subscriptions,
)

router = APIRouter(prefix="/v1/zone", tags=["zone"])
Text = Annotated[str | None, Query(max_length=100)]


@router.get("", response_model=ZoneResult, summary="面向应届毕业生的岗位，按学校、专业或届别排序")
def zone(svc: Service, _: Caller, school: Text = None, major: Text = None,
         graduation_year: Annotated[int | None, Query(ge=1950, le=2100), Digits] = None,
         city: Annotated[str | None, Query(max_length=50)] = None, chain: Text = None,
         occupation: Annotated[str | None, Query(max_length=20)] = None,
         rank_by: Literal["profile", "members"] = "profile",
         top_k: Annotated[int, Query(ge=1, le=200), Digits] = 20) -> ZoneResult:
    return graduate_zone(svc, ZoneQuery(school=school, major=major, graduation_year=graduation_year, city=city,
                                        chain=chain, occupation=occupation, rank_by=rank_by, top_k=top_k))


class Cursor(InputModel):
    cursor: StrictInt = Field(ge=0, le=MAX_ID)


def _mine(svc: Service, who: Principal, sub_id: int) -> Subscription:
    """A subscription the caller may use: staff any, a seeker only their own (404 otherwise)."""
    if who.role == Role.ENTERPRISE:
        raise Forbidden("企业不能使用订阅")
    sub = get_subscription(svc, sub_id)
    if who.is_staff or (who.role == Role.SEEKER and sub.talent_id is not None and sub.talent_id == who.talent_id):
        return sub
    raise NotFound(f"订阅 {sub_id} 不存在")


@router.post("/subscriptions", response_model=Subscription, status_code=status.HTTP_201_CREATED,
             summary="订阅产业链、职业或城市的新岗位")
def subscribe(body: SubscriptionIn, svc: Service, who: Caller, response: Response) -> Subscription:  # type: ignore[valid-type]
    data = body.model_dump()
    if who.role == Role.ENTERPRISE:
        raise Forbidden("企业不能使用订阅")
    if who.role == Role.SEEKER:
        if who.talent_id is None:
            raise Forbidden("请先创建求职档案，再订阅岗位")
        if body.school or (body.talent_id not in (None, who.talent_id)):
            raise Forbidden("求职者只能为自己订阅")
        data["talent_id"] = who.talent_id
    sub = create_subscription(svc, SubscriptionCreate.model_validate(data), actor=who)
    response.headers["Location"] = f"/v1/zone/subscriptions/{sub.id}"
    return sub


@router.get("/subscriptions", response_model=list[Subscription], summary="订阅列表（求职者只看到自己的）")
def subscriptions(svc: Service, who: Caller, school: Text = None) -> list[Subscription]:
    if who.role == Role.ENTERPRISE:
        raise Forbidden("企业不能使用订阅")
    if who.role == Role.SEEKER:
        return list_subscriptions(svc, talent_id=who.talent_id) if who.talent_id else []
    return list_subscriptions(svc, school=school)


@router.delete("/subscriptions/{sub_id}", status_code=status.HTTP_204_NO_CONTENT, summary="取消订阅")
def unsubscribe(sub_id: Id, svc: Service, who: Caller) -> Response:
    _mine(svc, who, sub_id)
    delete_subscription(svc, sub_id, actor=who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/subscriptions/{sub_id}/feed", response_model=Feed,
            summary="订阅的新岗位（自上次确认的游标之后；读取不移动游标）")
def subscription_feed(sub_id: Id, svc: Service, who: Caller,
                      limit: Annotated[int, Query(ge=1, le=500), Digits] = 100) -> Feed:
    _mine(svc, who, sub_id)
    return feed(svc, sub_id, limit=limit, advance=False)


@router.post("/subscriptions/{sub_id}/ack", response_model=Subscription, summary="确认已读到游标处")
def subscription_ack(sub_id: Id, body: Cursor, svc: Service, who: Caller) -> Subscription:
    _mine(svc, who, sub_id)
    return acknowledge(svc, sub_id, body.cursor)
