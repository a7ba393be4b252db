"""Pages for fair organisers: upload a fair workbook, run matching with progress, read and download results.

A run takes seconds to a minute; it is a job stored in the database (``matcher.fair.jobs``), run by
a worker (a ``talentmatch worker`` process or the server's worker thread), and the page polls its
progress. A restart loses nothing: a job whose worker stopped is queued again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from matcher.core.errors import ImportRejected, InvalidInput, NotFound, TalentMatchError
from matcher.fair.engine import (
    REPORT_DEFINITIONS,
    FairRunOptions,
    get_fair,
    get_run,
    list_fairs,
    list_runs,
)
from matcher.fair.files import export_download, import_fair_file, template_workbook
from matcher.fair.jobs import FAIR_RUN, get_job, submit_fair_run
from web.common import STAFF, call, form_of, render, svc, user
from web.params import Id

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50  # assignments per page of a result (the XLSX has them all)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fairs_page(request: Request, u: Any, status: int = 200, **ctx: Any) -> Response:
    ctx.setdefault("errors", {})
    ctx.setdefault("values", {})
    ctx.setdefault("fairs", list_fairs(svc(request)))
    return render(request, "fairs.html.j2", u, status, title="招聘活动", **ctx)


@router.get("/app/fairs", response_class=HTMLResponse)
async def fairs(request: Request) -> Response:
    u = await user(request, *STAFF)
    return _fairs_page(request, u)


@router.get("/app/fairs/template")
async def template(request: Request) -> Response:
    await user(request, *STAFF)
    return Response(template_workbook(), media_type=XLSX,
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''fair-template.xlsx"})


@router.post("/app/fairs", response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    u = await user(request, *STAFF)
    form = await form_of(request, u)
    values = {"name": str(form.get("name", ""))[:200]}
    upload_file = form.get("file")
    if not isinstance(upload_file, UploadFile) or not upload_file.filename:
        return _fairs_page(request, u, 422, errors={"file": "请选择活动表格"}, values=values)
    if Path(upload_file.filename).suffix.lower() not in (".xlsx", ".xlsm"):
        return _fairs_page(request, u, 422, errors={"file": "请上传 XLSX 工作簿"}, values=values)

    def work() -> Any:
        with tempfile.TemporaryDirectory(prefix="tm-web-") as tmp:
            path = Path(tmp) / "fair.xlsx"
            path.write_bytes(upload_file.file.read())
            return import_fair_file(svc(request), path, name=values["name"].strip() or None, actor=u.who)

    try:
        detail = await call(request, work)
    except ImportRejected as exc:
        return _fairs_page(request, u, 422, values=values, row_errors=exc.errors)
    except (InvalidInput, TalentMatchError) as exc:
        return _fairs_page(request, u, 422, values=values, errors={"file": exc.detail})
    return RedirectResponse(f"/app/fairs/{detail.id}?saved=" + quote("活动已创建"), status_code=303)


@router.get("/app/fairs/{fair_id}", response_class=HTMLResponse)
async def fair(request: Request, fair_id: Id) -> Response:
    u = await user(request, *STAFF)
    s = svc(request)
    detail = await call(request, get_fair, s, fair_id)
    runs = await call(request, list_runs, s, fair_id)
    return render(request, "fair.html.j2", u, fair=detail, runs=runs, definitions=REPORT_DEFINITIONS,
                  title=detail.name)


@router.post("/app/fairs/{fair_id}/run")
async def start_run(request: Request, fair_id: Id) -> Response:
    u = await user(request, *STAFF)
    form = await form_of(request, u)
    s = svc(request)
    await call(request, get_fair, s, fair_id)
    try:
        percent = float(str(form.get("min_score", "30")).strip().rstrip("%") or 30)
        if not 0 <= percent <= 100:
            raise ValueError(percent)
        options = FairRunOptions(mode=str(form.get("mode", "optimal")),  # type: ignore[arg-type]
                                 min_score=percent / 100)
    except (ValueError, TalentMatchError, ValidationError) as exc:
        raise InvalidInput("匹配模式或最低匹配度无效（最低匹配度为 0–100 之间的百分数）") from exc
    job = await call(request, submit_fair_run, s, fair_id, options, u.who)
    job_id = job["id"]
    return RedirectResponse(f"/app/fairs/{fair_id}/jobs/{job_id}", status_code=303)


async def _job(request: Request, fair_id: int, job_id: int) -> dict[str, Any]:
    try:
        job = await call(request, get_job, svc(request), job_id)
    except NotFound:
        job = None
    if job is None or job["kind"] != FAIR_RUN or job["params"].get("fair_id") != fair_id:
        raise NotFound("该匹配任务不存在")
    return job


def _run_url(fair_id: int, job: dict[str, Any]) -> str:
    return f"/app/fairs/{fair_id}/runs/{(job.get('result') or {}).get('run_id')}"


@router.get("/app/fairs/{fair_id}/jobs/{job_id}", response_class=HTMLResponse)
async def job_page(request: Request, fair_id: Id, job_id: Id) -> Response:
    u = await user(request, *STAFF)
    job = await _job(request, fair_id, job_id)
    if job["state"] == "done":
        return RedirectResponse(_run_url(fair_id, job), status_code=303)
    if job["state"] == "failed":
        raise InvalidInput(job["error"] or "匹配失败")
    detail = await call(request, get_fair, svc(request), fair_id)
    return render(request, "job.html.j2", u, fair=detail, job_id=job_id, title="正在匹配")


@router.get("/app/fairs/{fair_id}/jobs/{job_id}/status")
async def job_status(request: Request, fair_id: Id, job_id: Id) -> Response:
    await user(request, *STAFF)
    job = await _job(request, fair_id, job_id)
    state = "running" if job["state"] == "queued" else job["state"]  # the page knows running | done | failed
    nxt = _run_url(fair_id, job) if state == "done" else f"/app/fairs/{fair_id}/jobs/{job_id}"
    return JSONResponse({"state": state, "progress": round(job["progress"], 3), "message": job["message"],
                         "next": nxt})


async def _result(request: Request, fair_id: int, run_id: int) -> Any:
    result = await call(request, get_run, svc(request), run_id)
    if result.fair_id != fair_id:
        raise NotFound(f"匹配结果 {run_id} 不存在")
    return result


@router.get("/app/fairs/{fair_id}/runs/{run_id}", response_class=HTMLResponse)
async def run_page(request: Request, fair_id: Id, run_id: Id) -> Response:
    u = await user(request, *STAFF)
    result = await _result(request, fair_id, run_id)
    ordered = sorted(result.assignments, key=lambda a: (a.start or "99", a.booth, a.seeker_name or ""))
    pages = max(1, -(-len(ordered) // PAGE_SIZE))
    try:
        page = min(max(1, int(request.query_params.get("page", "1"))), pages)
    except ValueError:
        page = 1
    first = (page - 1) * PAGE_SIZE
    return render(request, "run.html.j2", u, result=result, shown=ordered[first:first + PAGE_SIZE], first=first,
                  page=page, pages=pages, definitions=REPORT_DEFINITIONS, title="匹配结果")


@router.get("/app/fairs/{fair_id}/runs/{run_id}/download")
async def download(request: Request, fair_id: Id, run_id: Id, format: str = "xlsx") -> Response:
    await user(request, *STAFF)
    if format not in ("xlsx", "csv", "json"):
        raise InvalidInput("下载格式应为 xlsx、csv 或 json")
    result = await _result(request, fair_id, run_id)
    body, media, name = await call(request, export_download, result, format, f"fair-{fair_id}-run-{run_id}")
    return Response(body, media_type=media, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})
