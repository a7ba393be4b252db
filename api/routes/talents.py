"""Talent profiles: a seeker manages only their own; enterprises read them masked, audited."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import Caller, Forbidden, Service, Staff
from api.params import Id, Paging, TopK
from api.routes.matching import Filters, matches_json, rank_stored
from api.versions import IfMatch, Versioned, expected_version, set_etag
from matcher.core.errors import Conflict
from matcher.domain.access import own_profile, profile_access, talent_view
from matcher.domain.auth import Role
from matcher.domain.schemas import Match, TalentProfile
from matcher.domain.views import Page, TalentIn, TalentPatch, TalentView, owner_body

router = APIRouter(prefix="/v1/talents", tags=["talents"])


@router.post("", response_model=TalentView, status_code=status.HTTP_201_CREATED,
             summary="创建人才档案（求职者密钥创建本人档案并与之绑定）")
def create_talent(body: TalentIn, svc: Service, who: Caller, response: Response):  # type: ignore[valid-type]
    bind = None
    if who.role == Role.ENTERPRISE:
        raise Forbidden("企业不能创建人才档案")
    if who.role == Role.SEEKER:
        if who.talent_id is not None:
            raise Conflict(f"该密钥已绑定人才档案 {who.talent_id}，请修改已有档案")
        bind = who.key_id
    data = owner_body(who, body)  # a seeker may not set an external id
    [new_id] = svc.add("talent", [TalentProfile.model_validate(data)], actor=who, bind_key=bind)
    response.headers["Location"] = f"/v1/talents/{new_id}"
    return talent_view(who, svc.get("talent", new_id))  # type: ignore[arg-type]


@router.get("", response_model=Page[TalentView], summary="人才档案列表（管理员、活动组织方）")
def list_talents(svc: Service, who: Staff, paging: Paging,
                 status: Literal["active", "inactive"] | None = None,
                 city: Annotated[str | None, Query(max_length=64)] = None,
                 consent: bool | None = None, fresh_graduate: bool | None = None):
    items, total = svc.list_records("talent", offset=paging.offset, limit=paging.page_size, status=status,
                                    city=svc.regions.city(city) if city else None, consent=consent,
                                    fresh_graduate=fresh_graduate)
    return Page[TalentView](items=[talent_view(who, t) for t in items], total=total, page=paging.page,
                            page_size=paging.page_size)


@router.get("/{talent_id}", response_model=TalentView,
            summary="人才档案（企业查看时，未授权公开的姓名、电话已脱敏，并记入审计日志）")
def get_talent(talent_id: Id, svc: Service, who: Caller, response: Response):
    src = Versioned(svc)
    profile = own_profile(src, who, talent_id)
    set_etag(response, src.version)
    if who.role == Role.ENTERPRISE:
        svc.audit_log.record(who, "view", "talent", [talent_id],
                             {"via": "profile", "contact_visible": profile.consent})
    return talent_view(who, profile)


@router.put("/{talent_id}", response_model=TalentView, summary="修改人才档案（整体替换；可带 If-Match）")
def replace_talent(talent_id: Id, body: TalentIn, svc: Service, who: Caller, response: Response,  # type: ignore[valid-type]
                   if_match: IfMatch = None):
    own_profile(svc, who, talent_id, write=True)

    def change(current: TalentProfile) -> TalentProfile:
        data = owner_body(who, body, current.external_id)
        if not who.is_staff:  # the owner replaces their profile; the external id is not theirs to drop
            data["external_id"] = current.external_id
        return TalentProfile.model_validate(data)

    return _save(svc, who, talent_id, change, response, if_match, "external_id" in body.model_fields_set)


@router.patch("/{talent_id}", response_model=TalentView,
              summary="修改人才档案（部分字段，如同意公开联系方式 consent；可带 If-Match）")
def patch_talent(talent_id: Id, body: TalentPatch, svc: Service, who: Caller, response: Response,  # type: ignore[valid-type]
                 if_match: IfMatch = None):
    own_profile(svc, who, talent_id, write=True)

    def change(current: TalentProfile) -> TalentProfile:
        data = {**current.model_dump(exclude={"id"}), **owner_body(who, body, current.external_id)}
        return TalentProfile.model_validate(data)

    return _save(svc, who, talent_id, change, response, if_match, "external_id" in body.model_fields_set)


def _save(svc, who, talent_id: int, change, response: Response, if_match: str | None,  # type: ignore[no-untyped-def]
          sent_external: bool):
    updated, version = svc.save("talent", talent_id, change, actor=who, if_match=expected_version(if_match),
                                claim_external=who.is_staff and sent_external)
    set_etag(response, version)
    return talent_view(who, updated)


@router.delete("/{talent_id}", status_code=status.HTTP_204_NO_CONTENT, summary="删除人才档案")
def delete_talent(talent_id: Id, svc: Service, who: Caller) -> Response:
    own_profile(svc, who, talent_id, write=True)
    svc.delete("talent", talent_id, actor=who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{talent_id}/matches", response_model=list[Match], tags=["matches"],
            summary="为人才推荐岗位（含理由、缺少的技能与培训方向）")
async def talent_matches(talent_id: Id, svc: Service, who: Caller, f: Filters, top_k: TopK = 10) -> Response:
    if who.role == Role.ENTERPRISE:
        raise Forbidden("企业不能查看求职者的岗位推荐")
    profile_access(who, talent_id)  # the profile is read by the ranking (from the record cache)
    # ranked on the event loop, its write in a thread (see api.routes.matching):
    # the list a seeker reads is recorded (impressions), what their later events are about
    found, record = await rank_stored(svc, "talent", talent_id, top_k, f, who if who.role == Role.SEEKER else None)
    if record is not None:
        await run_in_threadpool(record)
    return matches_json(found)


class StoredMatch(BaseModel):
    rank: int
    id: int
    title: str | None = None  # None: the post was closed or deleted since the run
    score: float
    seeker_score: float
    employer_score: float
    eligible: bool


class StoredMatches(BaseModel):
    run_id: str
    finished_at: str | None
    fresh: bool  # no record changed since the run was planned (and the same weights and encoder)
    kind: str
    top_k: int | None
    matches: list[StoredMatch]


@router.get("/{talent_id}/matches/precomputed", response_model=StoredMatches, tags=["matches"],
            summary="最近一次全量重新匹配（talentmatch batch rematch）为该人才保存的岗位推荐；fresh=false 表示其后数据已变")
def talent_stored_matches(talent_id: Id, svc: Service, who: Caller,
                          run: Annotated[str | None, Query(max_length=32, pattern="^[0-9a-f]{1,32}$")] = None):
    from matcher.batch.rematch import stored_matches

    if who.role == Role.ENTERPRISE:
        raise Forbidden("企业不能查看求职者的岗位推荐")
    own_profile(svc, who, talent_id)
    data = stored_matches(svc, "talent", talent_id, run)
    entries = svc.get_many("demand", [m["id"] for m in data["matches"]])
    for m in data["matches"]:  # a post closed since the run keeps its id, not its title
        e = entries.get(m["id"])
        m["title"] = e.title if e is not None and (e.status == "open" or who.is_staff) else None
    return data
