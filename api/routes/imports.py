"""File imports as durable jobs: ``POST /v1/imports/{kind}`` always answers 202 with the job's URL
(``/v1/jobs/{id}``), whatever the file's size, so a client has one contract to follow: poll the job
until ``done`` (``result``: imported count, ids, skipped rows) or ``failed`` (``error``; a refused
file's row errors in ``result.errors``, nothing stored). ``POST /v1/catalogues`` stays the
synchronous way for small catalogues."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Response, UploadFile, status

from api.deps import Service, Staff
from api.params import Digits
from api.routes.jobs import JobView, job_view
from matcher.core.errors import InvalidInput
from matcher.domain.schemas import Catalogue
from matcher.imports.jobs import submit_import

router = APIRouter(prefix="/v1/imports", tags=["imports"])


@router.post("/{kind}", response_model=JobView, status_code=status.HTTP_202_ACCEPTED,
             summary="提交导入任务（人才 talents、需求 demands、目录 catalogue；CSV/XLSX/JSONL）：后台工作进程导入，"
                     "Location 为任务地址；有错误时整份拒绝（逐行错误见任务 result.errors），或用 skip_invalid 跳过")
def submit(
    kind: Literal["talents", "demands", "catalogue"],
    svc: Service,
    who: Staff,
    response: Response,
    file: Annotated[UploadFile, File(description="导入文件：.csv、.xlsx 或 .jsonl")],
    mapping: Annotated[UploadFile | None, File(description="列映射 JSON（可选）")] = None,
    sheet: Annotated[str | None, Form(max_length=100)] = None,
    skip_invalid: Annotated[bool, Form(description="跳过有错误的行，导入其余行")] = False,
    region: Annotated[str | None, Form(max_length=50, description="目录所属地区（仅目录）")] = None,
    year: Annotated[int | None, Form(ge=2000, le=2100, description="目录年度（仅目录）"), Digits] = None,
    name: Annotated[str | None, Form(max_length=200)] = None,
    registry: Annotated[str | None, Form(max_length=50, description="产业链名录（仅目录）")] = None,
    replace: Annotated[bool, Form(description="替换同地区同年度的同一份目录（仅目录）")] = False,
) -> JobView:
    cat = None
    if kind == "catalogue" or region is not None or year is not None:
        if not region or year is None:
            raise InvalidInput("目录导入需填写地区与年度" if kind == "catalogue" else "只有目录导入可填写地区与年度",
                               [{"field": "region" if not region else "year", "reason": "必填"}])
        cat = Catalogue(region=region, year=year, name=name, chain_registry=registry)
    data = file.file.read(svc.settings.max_upload_bytes + 1)
    mp = mapping.file.read(svc.settings.max_body_bytes) if mapping is not None and mapping.filename else None
    job = submit_import(svc, kind, file.filename or "", data, mapping=mp, sheet=sheet, skip_invalid=skip_invalid,
                        catalogue=cat, replace=replace, actor=who)
    response.headers["Location"] = f"/v1/jobs/{job['id']}"
    return job_view(job)
