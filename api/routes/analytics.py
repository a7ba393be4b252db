"""Gap analysis, salary reference, catalogue comparison and chain registries (issue 5)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from fastapi.responses import HTMLResponse

from api.deps import Caller, Service, Staff
from api.params import Digits
from matcher.analytics.catalogues import CatalogueComparison, compare_catalogues
from matcher.analytics.gap import (
    DEFAULT_POOL,
    DEFAULT_THRESHOLD,
    GapQuery,
    GapReport,
    SalaryQuery,
    SalaryReport,
)
from matcher.analytics.gap import gap_report as build_gap_report
from matcher.analytics.gap import salary_report as build_salary_report
from matcher.analytics.registries import RegistryInfo, list_registries, load_registry
from matcher.analytics.report import render_gap_html
from matcher.core.errors import InvalidInput
from matcher.ingest.registries import RegistryLoadResult

router = APIRouter(tags=["analytics"])

Region = Annotated[str, Query(min_length=1, max_length=50, description="地区，如 淄博市、山东省")]
Year = Annotated[int, Query(ge=2000, le=2100), Digits]
Scope = Literal["catalogue", "posts", "all"]


@router.get("/v1/analytics/gap", response_model=GapReport,
            responses={200: {"content": {"text/html": {}}, "description": "JSON，或 format=html 时的报告页面"}},
            summary="供需缺口与适配度（按产业链、职业；口径与阈值随数字一并给出）")
def gap(svc: Service, _: Staff, region: Region, year: Year,
        threshold: Annotated[float, Query(ge=0, le=1)] = DEFAULT_THRESHOLD,
        demand: Scope = "catalogue",
        pool: Annotated[int, Query(ge=0, le=100_000, description="每个岗位评分的最近人才数；0 表示全部"), Digits] = DEFAULT_POOL,
        format: Literal["json", "html"] = "json",
        ranker: Annotated[Literal["auto", "weighted"], Query(
            description="auto：已上线校准排序模型时按正向结果概率判定合格；weighted：按双向匹配得分")] = "auto",
        probability_threshold: Annotated[float, Query(gt=0, le=1, description="按概率判定时的合格阈值")] = 0.1):
    report = build_gap_report(svc, GapQuery(region=region, year=year, threshold=threshold, demand=demand,
                                            pool=pool or None, ranker=ranker,
                                            probability_threshold=probability_threshold))
    if format == "html":
        return HTMLResponse(render_gap_html(report))
    return report


@router.get("/v1/analytics/salary", response_model=SalaryReport, summary="工资价位：各职业岗位薪酬分位数")
def salary(svc: Service, _: Caller, region: Region, year: Year, demand: Scope = "all") -> SalaryReport:
    return build_salary_report(svc, SalaryQuery(region=region, year=year, demand=demand))


@router.get("/v1/catalogues/compare", response_model=CatalogueComparison,
            summary="同一地区两个年度目录的比较：新增、移除、紧缺星级等变化")
def compare(svc: Service, _: Caller, region: Region,
            year_from: Annotated[int, Query(alias="from", ge=2000, le=2100), Digits],
            year_to: Annotated[int, Query(alias="to", ge=2000, le=2100), Digits]) -> CatalogueComparison:
    return compare_catalogues(svc, region, year_from, year_to)


@router.get("/v1/chains/registries", response_model=list[RegistryInfo], summary="产业链名录文件")
def registries(svc: Service, _: Caller) -> list[RegistryInfo]:
    return list_registries(svc)


@router.post("/v1/chains/registries", response_model=RegistryLoadResult, status_code=status.HTTP_201_CREATED,
             summary="导入官方产业链名录（JSON、CSV 或 XLSX），替换同名名录")
def upload_registry(svc: Service, who: Staff, response: Response,
                    file: Annotated[UploadFile, File(description="名录文件")],
                    registry: Annotated[str | None, Form(max_length=50)] = None,
                    region: Annotated[str | None, Form(max_length=50)] = None,
                    sheet: Annotated[str | None, Form(max_length=100)] = None) -> RegistryLoadResult:
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".json", ".csv", ".xlsx"):
        raise InvalidInput(f"不支持的名录格式“{suffix or '未命名'}”，支持 JSON、CSV、XLSX",
                           [{"field": "file", "reason": "文件格式不支持"}])
    with tempfile.TemporaryDirectory(prefix="tm-upload-") as tmp:
        # the registry is named after the file unless given: keep the upload's own stem
        path = Path(tmp) / f"{Path(file.filename or 'registry').stem[:50] or 'registry'}{suffix}"
        path.write_bytes(file.file.read())
        result = load_registry(svc, path, registry=registry, region=region, sheet=sheet, actor=who)
    response.headers["Location"] = "/v1/chains/registries"
    return result
