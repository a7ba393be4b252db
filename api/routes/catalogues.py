"""Chain registries and shortage catalogues (import with the CLI's row-level validation)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status

from api.deps import Caller, Service, Staff
from api.params import Digits, Id
from matcher.core.errors import InvalidInput, NotFound
from matcher.domain.schemas import Catalogue, IndustryChain
from matcher.domain.views import CatalogueInfo, CreatedChain, ImportReport, RowErrorOut
from matcher.ingest.importer import SUPPORTED_EXTENSIONS, load_mapping, read_records
from matcher.ingest.table_reader import ReadLimits
from matcher.reference.regions import resolve_region

router = APIRouter(tags=["catalogues"])


@router.get("/v1/chains", response_model=list[IndustryChain], summary="产业链名录")
def list_chains(svc: Service, _: Caller,
                region: Annotated[str | None, Query(max_length=50, description="地区或名录名，如 淄博市、zibo")] = None
                ) -> list[IndustryChain]:
    return svc.chain_book.list(region)


@router.get("/v1/catalogues", response_model=list[CatalogueInfo], summary="急需紧缺人才目录列表")
def list_catalogues(svc: Service, _: Caller) -> list[dict]:
    return svc.catalogues.list()


@router.get("/v1/catalogues/{catalogue_id}", response_model=CatalogueInfo,
            summary="目录信息（条目用 GET /v1/demands?catalogue_id= 分页读取）")
def get_catalogue(catalogue_id: Id, svc: Service, _: Caller) -> dict:
    for c in svc.catalogues.list():
        if c["id"] == catalogue_id:
            return c
    raise NotFound(f"目录 {catalogue_id} 不存在")


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise InvalidInput(f"不支持的文件格式“{suffix or filename or '未命名'}”，支持 CSV、XLSX、JSONL",
                           [{"field": "file", "reason": "文件格式不支持"}])
    return suffix


@router.post("/v1/catalogues", response_model=ImportReport, status_code=status.HTTP_201_CREATED,
             summary="导入急需紧缺人才目录文件（CSV/XLSX/JSONL，可附列映射 JSON）；有错误时整份拒绝并逐行说明")
def import_catalogue(
    svc: Service,
    who: Staff,
    response: Response,
    file: Annotated[UploadFile, File(description="目录文件：.csv、.xlsx 或 .jsonl")],
    region: Annotated[str, Form(min_length=1, max_length=50, description="目录所属地区，如 淄博市")],
    year: Annotated[int, Form(ge=2000, le=2100, description="目录年度"), Digits],
    name: Annotated[str | None, Form(max_length=200)] = None,
    registry: Annotated[str | None, Form(max_length=50, description="产业链名录，如 zibo")] = None,
    mapping: Annotated[UploadFile | None, File(description="列映射 JSON（可选）")] = None,
    sheet: Annotated[str | None, Form(max_length=100)] = None,
    skip_invalid: Annotated[bool, Form(description="跳过有错误的行，导入其余行")] = False,
    replace: Annotated[bool, Form(description="同一地区、年度的这份目录已导入时，整体替换它（否则 409）")] = False,
    create_chains: Annotated[bool, Form(description="登记目录中出现、尚无名录的产业链")] = False,
) -> ImportReport:
    suffix = _suffix(file.filename)
    region = resolve_region(svc.reference.regions, region).name  # 淄博 -> 淄博市; 火星市 is refused
    with tempfile.TemporaryDirectory(prefix="tm-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(file.file.read())
        mp = None
        if mapping is not None and mapping.filename:
            mpath = Path(tmp) / "mapping.json"
            mpath.write_bytes(mapping.file.read())
            mp = load_mapping(mpath, "catalogue")
        result = read_records(path, "catalogue", mp, sheet=sheet, limits=ReadLimits.from_settings(svc.settings))
    cat = Catalogue(region=region, year=year, name=name, chain_registry=registry)
    report = svc.import_rows("catalogue", result.records, result.errors, skip_invalid=skip_invalid,
                             catalogue=cat, actor=who, headers={t: h for h, t in result.columns.items()},
                             replace=replace, create_chains=create_chains)
    response.headers["Location"] = f"/v1/catalogues/{report['catalogue_id']}"
    old = report.get("replaced") or {}
    return ImportReport(imported=len(report["ids"]), total_rows=result.total_rows,
                        catalogue_id=report["catalogue_id"], ids=report["ids"],
                        errors=[RowErrorOut(row=e.row, field=e.field, reason=e.reason, value=e.value)
                                for e in report["errors"]],
                        warnings=result.warnings,
                        created_chains=[CreatedChain(id=c["id"], name=c["name"]) for c in report["created_chains"]],
                        replaced_catalogue_id=old.get("id"), replaced_entries=old.get("entries"))
