"""Gap analysis, salary reference, catalogue comparison and chain registries (issue 5)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Header, Query, Request, Response, UploadFile, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

from api.deps import Caller, Service, Staff
from api.params import Digits
from matcher.analytics.cache import Build
from matcher.analytics.catalogues import CatalogueComparison, compare_catalogues
from matcher.analytics.gap import (
    DEFAULT_POOL,
    DEFAULT_THRESHOLD,
    GapQuery,
    GapReport,
    SalaryQuery,
    SalaryReport,
    submit_gap_report,
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


Threshold = Annotated[float, Query(ge=0, le=1)]
Pool = Annotated[int, Query(ge=0, le=100_000, description="每个岗位评分的最近人才数；0 表示全部"), Digits]
Ranker = Annotated[Literal["auto", "weighted"], Query(
    description="auto：已上线校准排序模型时按正向结果概率判定合格；weighted：按双向匹配得分")]
ProbabilityThreshold = Annotated[float, Query(gt=0, le=1, description="按概率判定时的合格阈值")]
RETRY_AFTER = "2"  # seconds a poller is asked to wait between status calls


class GapStatus(BaseModel):
    """A gap report being computed: poll ``status_url`` until ``state`` is done, then GET ``report_url``."""

    state: Literal["queued", "running", "done", "failed"]
    progress: float  # 0–1
    stage: str  # what is being done, in Chinese
    elapsed_s: float
    error: str | None = None
    status_url: str
    report_url: str


def _query(region: str, year: int, threshold: float, demand: str, pool: int, ranker: str,
           probability_threshold: float) -> GapQuery:
    return GapQuery(region=region, year=year, threshold=threshold, demand=demand,  # type: ignore[arg-type]
                    pool=pool or None, ranker=ranker, probability_threshold=probability_threshold)  # type: ignore[arg-type]


def _status(request: Request, build: Build[GapReport]) -> GapStatus:
    params = request.url.query
    report_params = "&".join(p for p in params.split("&") if p and not p.startswith("format="))
    return GapStatus(state=build.state, progress=round(build.progress, 3), stage=build.stage,
                     elapsed_s=round(build.elapsed, 1), error=build.error,
                     status_url=f"/v1/analytics/gap/status?{report_params}",
                     report_url=f"/v1/analytics/gap?{report_params}")


@router.get("/v1/analytics/gap", response_model=GapReport,
            responses={200: {"content": {"text/html": {}}, "description": "JSON，或 format=html 时的报告页面"},
                       202: {"model": GapStatus, "description": "请求头 Prefer: respond-async 且报告尚未算好："
                             "已在后台开始计算；按 Location（状态地址）轮询，完成后再次请求本地址即得报告"}},
            summary="供需缺口与适配度（按产业链、职业；口径与阈值随数字一并给出）",
            description="报告按参数与数据版本缓存在服务进程中，任何写入后重新计算；同一报告同时只计算一次"
                        "（并发请求等待同一次计算）。未缓存时计算可能需要数十秒：默认本请求等待至算好；"
                        "带请求头 `Prefer: respond-async` 时立即返回 202 与 `Location`（"
                        "`/v1/analytics/gap/status?…`，同样的查询参数），轮询到 state=done 后再请求本地址"
                        "（此时直接返回）。")
def gap(request: Request, svc: Service, _: Staff, region: Region, year: Year,
        threshold: Threshold = DEFAULT_THRESHOLD, demand: Scope = "catalogue", pool: Pool = DEFAULT_POOL,
        format: Literal["json", "html"] = "json", ranker: Ranker = "auto",
        probability_threshold: ProbabilityThreshold = 0.1,
        prefer: Annotated[str | None, Header(max_length=200, description="respond-async：未算好时返回 202 而不等待")] = None):
    query = _query(region, year, threshold, demand, pool, ranker, probability_threshold)
    if prefer and "respond-async" in prefer.lower():
        build = submit_gap_report(svc, query)
        if build.state == "failed" and build.exc is not None:
            raise build.exc
        if build.state != "done":
            st = _status(request, build)
            return JSONResponse(st.model_dump(), status_code=status.HTTP_202_ACCEPTED,
                                headers={"Location": st.status_url, "Retry-After": RETRY_AFTER,
                                         "Preference-Applied": "respond-async"})
        report = build.value
    else:
        report = build_gap_report(svc, query)
    if format == "html":
        return HTMLResponse(render_gap_html(report))
    return report


@router.get("/v1/analytics/gap/status", response_model=GapStatus,
            summary="供需缺口报告的计算进度（按与报告相同的查询参数；尚未开始时即开始计算）")
def gap_status(request: Request, response: Response, svc: Service, _: Staff, region: Region, year: Year,
               threshold: Threshold = DEFAULT_THRESHOLD, demand: Scope = "catalogue", pool: Pool = DEFAULT_POOL,
               ranker: Ranker = "auto", probability_threshold: ProbabilityThreshold = 0.1) -> GapStatus:
    build = submit_gap_report(svc, _query(region, year, threshold, demand, pool, ranker, probability_threshold))
    if build.state == "failed" and build.exc is not None:
        raise build.exc
    if build.state != "done":
        response.headers["Retry-After"] = RETRY_AFTER
    return _status(request, build)


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
