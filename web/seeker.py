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
from web.forms import FORMS, PROFILE_KEEP, PROFILE_LISTS

router = APIRouter(include_in_schema=False)


def _profile_page(request: Request, u: WebUser, values: dict, errors: dict, has: bool, status: int = 200,
                  version: int | None = None) -> Response:
    return render(request, "profile.html.j2", u, status, values=values, errors=errors, has_profile=has,
                  version=version,
                  educations=[e.value for e in Education], title_levels=[t.value for t in TitleLevel],
                  skill_levels=[s.value for s in SkillLevel], title="我的求职档案")


@router.get("/app/me", response_class=HTMLResponse)
async def my_profile(request: Request) -> Response:
    u = await user(request, Role.SEEKER)
    if u.who.talent_id is None:
        return _profile_page(request, u, {"fresh_graduate": False, "consent": False}, {}, False)
    profile, version = await call(request, svc(request).get_versioned, "talent", u.who.talent_id)
    return _profile_page(request, u, values_of(profile, PROFILE_LISTS), {}, True, version=version)


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
    shown = shown_version(form)  # the version the form was filled from
    if profile is None:
        return _profile_page(request, u, values, errors, has, 422, shown)
    try:
        if has:
            await call(request, s.update, "talent", u.who.talent_id, profile, actor=u.who, expected_version=shown)
        else:
            await call(request, s.add, "talent", [profile], actor=u.who, bind_key=u.who.key_id)
    except PreconditionFailed:
        _, now = await call(request, s.get_versioned, "talent", u.who.talent_id)
        return _profile_page(request, u, values, {"_": changed_meanwhile(now)}, has, 409, now)
    except (InvalidInput, Conflict) as exc:
        return _profile_page(request, u, values, domain_errors(exc, "desired_occupations"), has, 422, shown)
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
    error, matches = None, []
    try:
        matches = await call(request, svc(request).match_talent, u.who.talent_id, 20, filters)
    except InvalidInput as exc:
        error = exc.detail
    return render(request, "posts.html.j2", u, matches=matches, filters=shown, error=error,
                  heading="为您推荐的岗位", action="/app/me/posts", title="推荐岗位",
                  intro="按匹配度排序；每个岗位列出匹配理由、已具备和待补充的技能，以及可补齐差距的数字技术工程师培训方向。")


# -- enterprises -------------------------------------------------------------------------------
