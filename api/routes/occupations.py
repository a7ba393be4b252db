"""CSCO 2022 occupation coding and search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import Caller, Service
from api.params import Digits
from matcher.domain.schemas import OccupationCandidate
from matcher.domain.views import CodeRequest

router = APIRouter(prefix="/v1/occupations", tags=["occupations"])


class CodeResult(BaseModel):
    query: str
    candidates: list[OccupationCandidate]


class Occupation(BaseModel):
    code: str
    name: str
    digital: bool
    definition: str


@router.post("/code", response_model=list[CodeResult], summary="文本 → CSCO 2022 职业编码（前 k 个候选）")
def code_occupations(body: CodeRequest, svc: Service, _: Caller) -> list[CodeResult]:
    res = svc.code_occupations(body.texts, body.top_k)
    return [CodeResult(query=t, candidates=c) for t, c in zip(body.texts, res, strict=True)]


@router.get("", response_model=list[Occupation], summary="按名称或关键词查职业")
def search_occupations(svc: Service, _: Caller, q: Annotated[str, Query(min_length=1, max_length=100)],
                       limit: Annotated[int, Query(ge=1, le=200), Digits] = 20) -> list[dict]:
    return svc.search_occupations(q, limit)
