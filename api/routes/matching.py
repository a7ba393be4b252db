"""Free-text and unsaved-record matching, and the shared query parameters of match routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from pydantic import TypeAdapter

from api.deps import Caller, Forbidden, Service
from api.params import Digits
from matcher.core.errors import InvalidInput
from matcher.domain.access import shown_talents
from matcher.domain.auth import Role
from matcher.domain.schemas import DemandEntry, Education, Match, MatchFilters, TalentProfile
from matcher.domain.views import MatchRequest

router = APIRouter(tags=["matches"])

_Str = Annotated[str | None, Query(max_length=64)]
_Salary = Annotated[int | None, Query(ge=0, le=10_000_000, description="元/月"), Digits]


async def match_filters(city: _Str = None, province: _Str = None, chain: _Str = None,
                        education: Education | None = None, salary_min: _Salary = None,
                        fresh_graduates_only: bool = False, include_ineligible: bool = False) -> MatchFilters:
    """The match filters of a GET request's query string (``async``: no blocking, on the event
    loop, see ``api.deps.get_service``)."""
    return MatchFilters(city=city, province=province, chain_id=chain, education=education,
                        salary_min=salary_min, fresh_graduates_only=fresh_graduates_only,
                        include_ineligible=include_ineligible)


Filters = Annotated[MatchFilters, Depends(match_filters)]

_MATCHES = TypeAdapter(list[Match])


def matches_json(matches: list[Match]) -> Response:
    """A ranked list as the JSON body FastAPI would write for ``response_model=list[Match]``,
    without validating the service's own models again (in a second thread hop)."""
    return Response(_MATCHES.dump_json(matches, by_alias=True), media_type="application/json")


@router.post("/v1/match", response_model=list[Match],
             summary="自由文本、未保存的档案或岗位，与一侧匹配（side=demands 找岗位，side=talents 找人才）")
def match(body: MatchRequest, svc: Service, who: Caller) -> Response:
    given = [x for x in (body.text, body.profile, body.entry) if x is not None]
    if len(given) != 1:
        raise InvalidInput("请只提供 text、profile、entry 中的一项")
    side = "talents" if body.entry is not None else "demands" if body.profile is not None else body.side
    if side == "talents" and who.role == Role.SEEKER:
        raise Forbidden("求职者不能检索人才库")
    if body.text is not None:
        found = svc.match_text(body.text, body.side, body.top_k, body.filters)
    elif body.profile is not None:
        found = svc.match_profile(TalentProfile.model_validate(body.profile.model_dump()), body.top_k, body.filters)
    else:
        assert body.entry is not None
        found = svc.match_entry(DemandEntry.model_validate(body.entry.model_dump()), body.top_k, body.filters)
    return matches_json(shown_talents(svc, who, found, "match"))
