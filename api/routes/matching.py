"""Free-text and unsaved-record matching, and the shared query parameters of match routes.

Stored records' rankings run on the event loop (``async`` routes: ``GET /v1/talents/{id}/matches``,
``GET /v1/demands/{id}/matches``), and only their writes (impressions, the audit log) in the
thread pool. A ranking is Python work under the GIL and its reads are short (the change log's
position, versions of cached records): a thread adds no parallelism, only hops there and back
and a contended GIL between the thread and the loop. Measured with one worker at 10^5 entries,
first calls at concurrency 4: 17.6 / 19.8 ms of server CPU per request in threads against 12.2 /
13.3 ms on the loop (two alternating rounds). A process ranks one list at a time either way
(``rank_concurrency``, 1 by default); what waits for a ranking on the loop is the rest of that
process's requests, for the few milliseconds it takes. A ranking that would wait (an index
being updated by a poll, which holds it for as long as a bulk import takes; a ranking slot
taken by a thread) is made in the thread pool instead (:func:`rank_stored`). Free text is
encoded by the model (tens of milliseconds) and stays in the thread pool."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import TypeAdapter

from api.deps import Caller, Forbidden, Service
from api.params import Digits
from matcher.core.errors import InvalidInput, WouldBlock
from matcher.domain.access import shown_talents
from matcher.domain.auth import Principal, Role
from matcher.domain.schemas import DemandEntry, Education, Match, MatchFilters, TalentProfile
from matcher.domain.schemas import RecordKind as Kind
from matcher.domain.views import MatchRequest
from matcher.service import MatchService

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


async def rank_stored(svc: MatchService, kind: Kind, record_id: int, top_k: int, filters: MatchFilters,
                      shown_to: Principal | None) -> tuple[list[Match], Callable[[], None] | None]:
    """A stored record's list and the call that records it as shown
    (``MatchService.match_stored_unrecorded``): ranked on the event loop, or in the thread pool
    when it would wait for a lock (see the module docstring)."""
    try:
        return svc.match_stored_unrecorded(kind, record_id, top_k, filters, shown_to=shown_to, wait=False)
    except WouldBlock:
        return await run_in_threadpool(partial(svc.match_stored_unrecorded, kind, record_id, top_k, filters,
                                               shown_to=shown_to))

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
