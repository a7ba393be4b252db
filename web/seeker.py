"""The seeker's pages: profile and ranked posts."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from matcher.core.errors import Conflict, InvalidInput, PreconditionFailed
from matcher.domain.auth import Role
from matcher.domain.schemas import (
    Education,
    MatchFilters,
    SkillLevel,
    TalentProfile,
    TitleLevel,
)
from web.common import (
    PageError,
    WebUser,
    call,
    changed_meanwhile,
    domain_errors,
    form_of,
    model_from_form,
    render,
    shown_version,
    svc,
    user,
    values_of,
)
from web.forms import FORMS, LABELS, PROFILE_KEEP, PROFILE_LISTS
from web.names import chain_choices, check_form, shown_values
from web.params import Id
from web.posts import seeker_posts

router = APIRouter(include_in_schema=False)


def _profile_page(request: Request, u: WebUser, values: dict, errors: dict, has: bool, status: int = 200,
                  version: int | None = None) -> Response:
    return render(request, "profile.html.j2", u, status, values=values, errors=errors, has_profile=has,
                  labels=LABELS["profile"], chain_choices=chain_choices(svc(request)), version=version,
                  educations=[e.value for e in Education], title_levels=[t.value for t in TitleLevel],
                  skill_levels=[s.value for s in SkillLevel], title="我的求职档案")


@router.get("/app/me", response_class=HTMLResponse)
async def my_profile(request: Request) -> Response:
    u = await user(request, Role.SEEKER)
    if u.who.talent_id is None:
        return _profile_page(request, u, {"fresh_graduate": False, "consent": False}, {}, False)
    profile, version = await call(request, svc(request).get_versioned, "talent", u.who.talent_id)
    return _profile_page(request, u, shown_values(svc(request), values_of(profile, PROFILE_LISTS)), {}, True,
                         version=version)


@router.post("/app/me", response_class=HTMLResponse)
async def save_profile(request: Request) -> Response:
    u = await user(request, Role.SEEKER)
    form = await form_of(request, u)
    s = svc(request)
    has = u.who.talent_id is not None
    keep: dict[str, Any] = {}
    if has:  # fields the form does not show (national ID, status) stay as they are
        current = await call(request, s.get, "talent", u.who.talent_id)
        keep = current.model_dump(include=set(PROFILE_KEEP))
    profile, errors, values = model_from_form(FORMS["profile"], form, keep=keep, build=TalentProfile.model_validate)
    if not values.get("name", "").strip():
        errors, profile = {**errors, "name": "必填，不能为空"}, None
    more, stored = check_form(s, values, cities=("city",), city_lists=("preferred_cities",),
                              chain_list="desired_chains")
    errors = {**more, **errors}
    shown = shown_version(form)  # the version the form was filled from
    if profile is None or errors:
        return _profile_page(request, u, values, errors, has, 422, shown)
    profile = profile.model_copy(update=stored)
    try:
        if has:
            await call(request, s.update, "talent", u.who.talent_id, profile, actor=u.who, expected_version=shown)
        else:
            await call(request, s.add, "talent", [profile], actor=u.who, bind_key=u.who.key_id)
    except PreconditionFailed:
        _, now = await call(request, s.get_versioned, "talent", u.who.talent_id)
        return _profile_page(request, u, values, {"_": changed_meanwhile(now)}, has, 409, now)
    except (InvalidInput, Conflict) as exc:
        return _profile_page(request, u, values, domain_errors(exc, "desired_occupations", {"chain_id": "desired_chains"}),
                             has, 422, shown)
    return RedirectResponse("/app/me/posts?saved=" + quote("档案已保存"), status_code=303)


def _filters(request: Request) -> tuple[MatchFilters, dict[str, Any]]:
    q = request.query_params
    shown = {"city": q.get("city", "").strip()[:50], "chain": q.get("chain", "").strip()[:64], "fresh": bool(q.get("fresh"))}
    return MatchFilters(city=shown["city"] or None, chain_id=shown["chain"] or None,
                        fresh_graduates_only=shown["fresh"]), shown


@router.get("/app/me/posts", response_class=HTMLResponse)
async def my_posts(request: Request) -> Response:
    u = await user(request, Role.SEEKER)
    if u.who.talent_id is None:
        return RedirectResponse("/app/me", status_code=303)
    filters, shown = _filters(request)
    error, cards, note = None, [], None
    s = svc(request)
    try:
        cards, note = await call(request, seeker_posts, s, u.who.talent_id, filters, fresh_only=shown["fresh"],
                                 shown_to=u.who)
    except InvalidInput as exc:
        error = exc.detail
    desired = not filters.city
    return render(request, "posts.html.j2", u, cards=cards, note=note, desired=desired, filters=shown, error=error,
                  heading="为您推荐的岗位", action="/app/me/posts", title="推荐岗位",
                  outcome_action="/app/me/posts/", outcome_kinds=SEEKER_BUTTONS,
                  intro="您意向城市的岗位在前，各自按匹配度排序；每个岗位列出单位、地点、薪资、有效期和要求，"
                        "以及匹配理由、已具备和待补充的技能和可补齐差距的数字技术工程师培训方向。")


SEEKER_BUTTONS = [("applied", "申请", ""), ("saved", "收藏", "secondary"), ("dismissed", "不感兴趣", "secondary")]


@router.post("/app/me/posts/{demand_id}/outcome")
async def post_outcome(request: Request, demand_id: Id) -> Response:
    """申请 / 收藏 / 不感兴趣 on a recommended post: an outcome event of the seeker's own."""
    u = await user(request, Role.SEEKER)
    form = await form_of(request, u)
    kind = str(form.get("kind", ""))
    labels = {k: label for k, label, _ in SEEKER_BUTTONS}
    if kind not in labels:
        raise PageError(422, "操作无效", "请选择申请、收藏或不感兴趣。")
    if u.who.talent_id is None:
        return RedirectResponse("/app/me", status_code=303)
    await call(request, svc(request).record_outcome, u.who, None, demand_id, kind)
    return RedirectResponse("/app/me/posts?saved=" + quote(f"已记录：{labels[kind]}"), status_code=303)


# -- enterprises -------------------------------------------------------------------------------
