"""The FastAPI app: one composition root. Routes stay thin: validate, call matcher, return schemas.

Serves the matching core read-only (matches, occupation coding, health). Authenticated writes,
roles and privacy masking are the API issue's scope; until then the server binds to loopback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher.errors import InvalidInput, TalentMatchError
from matcher.schemas import (
    DemandEntry,
    Education,
    Match,
    MatchFilters,
    OccupationCandidate,
    TalentProfile,
)
from matcher.service import MatchService
from matcher.settings import Settings, load_settings

PROBLEM = "application/problem+json"

# query parameter types (module level: annotations are resolved by name)
TopK = Annotated[int, Query(ge=1, le=200)]
Str = Annotated[str | None, Query(max_length=64)]
Salary = Annotated[int | None, Query(ge=0, le=10_000_000)]


def problem(status: int, title: str, detail: str, errors: list | None = None) -> JSONResponse:
    body: dict = {"type": f"https://talentmatch.dev/problems/{status}", "title": title, "status": status,
                  "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


class CodeRequest(BaseModel):
    texts: list[Annotated[str, Field(max_length=2000)]] = Field(min_length=1, max_length=1000)
    top_k: int = Field(default=10, ge=1, le=100)


class CodeResult(BaseModel):
    query: str
    candidates: list[OccupationCandidate]


class MatchRequest(BaseModel):
    """Free text, or an unsaved profile or entry, to match against one side."""

    side: Literal["demands", "talents"] = "demands"
    text: str | None = Field(default=None, max_length=20000)
    profile: TalentProfile | None = None
    entry: DemandEntry | None = None
    top_k: int = Field(default=10, ge=1, le=200)
    filters: MatchFilters = Field(default_factory=MatchFilters)


def match_filters(city: Str = None, province: Str = None, chain: Str = None,
                  education: Education | None = None, salary_min: Salary = None,
                  fresh_graduates_only: bool = False, include_ineligible: bool = False) -> MatchFilters:
    """The match filters of a GET request's query string."""
    return MatchFilters(city=city, province=province, chain_id=chain, education=education,
                        salary_min=salary_min, fresh_graduates_only=fresh_graduates_only,
                        include_ineligible=include_ineligible)


def create_app(settings: Settings | None = None, service: MatchService | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = service or MatchService(settings)
        svc.ensure_index("demand")
        svc.ensure_index("talent")
        app.state.service = svc
        try:
            yield
        finally:
            svc.save_all()
            if service is None:
                svc.close()

    app = FastAPI(title="talentmatch", version="0.1.0", lifespan=lifespan,
                  description="数字人才供需匹配服务：人岗双向匹配、职业编码、解释与培训方向建议。")

    @app.exception_handler(TalentMatchError)
    async def _domain(_: Request, exc: TalentMatchError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, getattr(exc, "errors", None) or None)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "reason": e.get("msg", "")}
                  for e in exc.errors()]
        return problem(422, "输入无效", "请求参数或请求体不符合要求", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "请求错误", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        return problem(500, "内部错误", "服务器内部错误，请稍后重试")

    def svc(request: Request) -> MatchService:
        return request.app.state.service

    @app.get("/health", tags=["ops"])
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"])
    def ready(request: Request) -> JSONResponse:
        s = svc(request)
        db = s.store.ping()
        status = s.index_status() if db else {}
        ok = db and all(v["loaded"] and v["in_step"] for v in status.values())
        body = {"status": "ready" if ok else "not ready", "database": db, "indexes": status}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.post("/v1/occupations/code", response_model=list[CodeResult], tags=["occupations"])
    def code_occupations(body: CodeRequest, request: Request) -> list[CodeResult]:
        res = svc(request).code_occupations(body.texts, body.top_k)
        return [CodeResult(query=t, candidates=c) for t, c in zip(body.texts, res, strict=True)]

    @app.get("/v1/occupations", tags=["occupations"])
    def search_occupations(request: Request, q: Annotated[str, Query(min_length=1, max_length=100)],
                           limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[dict]:
        return svc(request).search_occupations(q, limit)

    @app.get("/v1/talents/{talent_id}/matches", response_model=list[Match], tags=["matches"])
    def talent_matches(request: Request, talent_id: int, f: Annotated[MatchFilters, Depends(match_filters)],
                       top_k: TopK = 10) -> list[Match]:
        return svc(request).match_talent(talent_id, top_k, f)

    @app.get("/v1/demands/{demand_id}/matches", response_model=list[Match], tags=["matches"])
    def demand_matches(request: Request, demand_id: int, f: Annotated[MatchFilters, Depends(match_filters)],
                       top_k: TopK = 10) -> list[Match]:
        return svc(request).match_demand(demand_id, top_k, f)

    @app.post("/v1/match", response_model=list[Match], tags=["matches"])
    def match(body: MatchRequest, request: Request) -> list[Match]:
        s = svc(request)
        given = [x for x in (body.text, body.profile, body.entry) if x is not None]
        if len(given) != 1:
            raise InvalidInput("请只提供 text、profile、entry 中的一项")
        if body.text is not None:
            return s.match_text(body.text, body.side, body.top_k, body.filters)
        if body.profile is not None:
            return s.match_profile(body.profile, body.top_k, body.filters)
        assert body.entry is not None
        return s.match_entry(body.entry, body.top_k, body.filters)

    return app
