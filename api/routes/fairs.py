"""Job fairs (人才对接活动): create or import a fair, run matching, read and export results."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from api.deps import Service, Staff
from api.params import Digits, Id
from api.routes.jobs import JobView, job_view
from matcher.core.errors import InvalidInput, NotFound
from matcher.fair.engine import (
    FairCreate,
    FairDetail,
    FairRunOptions,
    FairRunResult,
    FairRunSummary,
    FairSummary,
    create_fair,
    delete_fair,
    get_fair,
    get_run,
    list_fairs,
    list_runs,
    run_fair,
)
from matcher.fair.files import (
    FairMapping,
    export_download,
    import_fair_file,
    load_fair_mapping,
    template_workbook,
)
from matcher.fair.jobs import submit_fair_run

router = APIRouter(prefix="/v1/fairs", tags=["fairs"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FAIR_SUFFIXES = (".xlsx", ".xlsm")


@router.get("", response_model=list[FairSummary], summary="招聘活动列表")
def fairs(svc: Service, _: Staff) -> list[FairSummary]:
    return list_fairs(svc)


@router.post("", response_model=FairDetail, status_code=status.HTTP_201_CREATED,
             summary="创建招聘活动（JSON：岗位、求职者、志愿、时段）；有错误时整体拒绝并逐项说明")
def create(body: FairCreate, svc: Service, who: Staff, response: Response) -> FairDetail:
    detail = create_fair(svc, body, actor=who)
    response.headers["Location"] = f"/v1/fairs/{detail.id}"
    return detail


@router.get("/template", response_class=Response, responses={200: {"content": {XLSX: {}}}},
            summary="招聘活动表格模板（XLSX）")
def template(_: Staff) -> Response:
    return Response(template_workbook(), media_type=XLSX,
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''fair-template.xlsx"})


@router.post("/import", response_model=FairDetail, status_code=status.HTTP_201_CREATED,
             summary="上传招聘活动表格（XLSX：岗位、求职者、意向、时段、活动）；有错误时整体拒绝，逐行说明")
def import_fair(svc: Service, who: Staff, response: Response,
                file: Annotated[UploadFile, File(description="活动表格 .xlsx")],
                name: Annotated[str | None, Form(max_length=200)] = None,
                mapping: Annotated[UploadFile | None, File(description="列映射 JSON（可选）")] = None) -> FairDetail:
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in FAIR_SUFFIXES:
        raise InvalidInput(f"不支持的文件格式“{suffix or '未命名'}”：请上传 XLSX 工作簿（CSV/JSONL 请用命令行导入文件夹）",
                           [{"field": "file", "reason": "文件格式不支持"}])
    with tempfile.TemporaryDirectory(prefix="tm-upload-") as tmp:
        path = Path(tmp) / f"fair{suffix}"
        path.write_bytes(file.file.read())
        mp: FairMapping | None = None
        if mapping is not None and mapping.filename:
            mpath = Path(tmp) / "mapping.json"
            mpath.write_bytes(mapping.file.read())
            mp = load_fair_mapping(mpath)
        detail = import_fair_file(svc, path, mapping=mp, name=name, actor=who)
    response.headers["Location"] = f"/v1/fairs/{detail.id}"
    return detail


@router.get("/{fair_id}", response_model=FairDetail, summary="招聘活动详情")
def fair(fair_id: Id, svc: Service, _: Staff) -> FairDetail:
    return get_fair(svc, fair_id)


@router.delete("/{fair_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="删除招聘活动及其结果（活动新建的岗位与人才档案保留在库中）")
def remove(fair_id: Id, svc: Service, who: Staff) -> Response:
    delete_fair(svc, fair_id, actor=who)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{fair_id}/runs", response_model=FairRunSummary, status_code=status.HTTP_201_CREATED,
             summary="运行匹配并等待结果（占用请求直到完成；大型活动请用 POST /v1/fairs/{fair_id}/jobs）；"
                     "返回汇总，完整结果见 Location")
def run(fair_id: Id, svc: Service, who: Staff, response: Response,
        body: FairRunOptions | None = None) -> FairRunSummary:
    options = (body or FairRunOptions()).model_copy(update={"save": True})
    result = run_fair(svc, fair_id, options, actor=who)
    response.headers["Location"] = f"/v1/fairs/{fair_id}/runs/{result.run_id}"
    return FairRunSummary.of(result)


@router.post("/{fair_id}/jobs", response_model=JobView, status_code=status.HTTP_202_ACCEPTED,
             summary="提交匹配任务（后台工作进程运行，不占用本请求）；Location 为任务地址，完成后其 result 给出结果地址")
def submit_run(fair_id: Id, svc: Service, who: Staff, response: Response,
               body: FairRunOptions | None = None) -> JobView:
    job = submit_fair_run(svc, fair_id, body, actor=who)
    response.headers["Location"] = f"/v1/jobs/{job['id']}"
    return job_view(job)


@router.get("/{fair_id}/runs", response_model=list[FairRunSummary], summary="匹配运行记录")
def runs(fair_id: Id, svc: Service, _: Staff) -> list[FairRunSummary]:
    get_fair(svc, fair_id)
    return list_runs(svc, fair_id)


def _run_of(svc: Service, fair_id: int, run_id: int) -> FairRunResult:
    result = get_run(svc, run_id)
    if result.fair_id != fair_id:
        raise NotFound(f"匹配结果 {run_id} 不存在")
    return result


@router.get("/{fair_id}/runs/{run_id}", response_model=FairRunResult,
            summary="一次匹配的完整结果：分配、排期与汇总报告（含各指标口径）")
def result(fair_id: Id, run_id: Id, svc: Service, _: Staff,
           limit: Annotated[int, Query(ge=0, le=100_000, description="最多返回的分配条数"), Digits] = 10_000) -> FairRunResult:
    res = _run_of(svc, fair_id, run_id)
    return res.model_copy(update={"assignments": res.assignments[:limit]})


@router.get("/{fair_id}/runs/{run_id}/export", response_class=Response,
            responses={200: {"content": {XLSX: {}, "application/zip": {}, "application/json": {}}}},
            summary="下载结果：xlsx（分配结果、展位日程、求职者日程、汇总）、csv（zip）或 json")
def export(fair_id: Id, run_id: Id, svc: Service, _: Staff,
           format: Literal["xlsx", "csv", "json"] = "xlsx") -> Response:
    body, media, name = export_download(_run_of(svc, fair_id, run_id), format, f"fair-{fair_id}-run-{run_id}")
    return Response(body, media_type=media, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
