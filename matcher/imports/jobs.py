"""Import files as durable jobs: ``POST /v1/imports/{kind}`` (and the pages) store the uploaded
file in the job's row (``jobs.payload``, bounded by ``max_upload_bytes``) and answer 202 with the
job's URL; a worker (``talentmatch worker``, or the server's embedded worker thread) reads and
imports it with the synchronous import's rules: all or nothing (the row errors are the failed
job's ``result.errors`` and nothing is stored), or the valid rows with ``skip_invalid``.

Exactly once: the job records that its write is made (``result.committed``, the new ids) inside
the transaction that writes the records (``Database.riding``), so a worker killed before that
commit leaves nothing written and the job is queued again; killed after it, the worker that picks
the job up again finishes it from that record without importing twice.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from matcher.core.errors import ImportRejected, InvalidInput, TalentMatchError
from matcher.domain.auth import Principal
from matcher.domain.schemas import Catalogue
from matcher.ingest.fields import SUPPORTED_EXTENSIONS, load_mapping
from matcher.ingest.importer import read_records
from matcher.ingest.table_reader import ReadLimits
from matcher.reference.regions import resolve_region
from matcher.service import MatchService
from matcher.storage.engine import Database
from matcher.storage.jobs_repo import Jobs, job_actor

__all__ = ["HANDLERS", "IMPORT", "ImportKind", "run_import_job", "submit_import"]

IMPORT = "import"
ImportKind = Literal["talents", "demands", "catalogue"]
LABELS = {"talents": "人才档案", "demands": "需求条目", "catalogue": "目录条目"}


class JobLost(TalentMatchError):
    """The job passed to another worker (this one's heartbeat stopped): its write is rolled back."""

    status = 409
    title = "任务已由其他进程接手"


def _errors(errors: Any) -> list[dict[str, Any]]:
    return [{"row": e.row, "field": e.field, "reason": e.reason, "value": e.value} for e in errors]


def submit_import(service: MatchService, kind: ImportKind, filename: str, data: bytes, *,
                  mapping: bytes | None = None, sheet: str | None = None, skip_invalid: bool = False,
                  catalogue: Catalogue | None = None, replace: bool = False, create_chains: bool = False,
                  actor: Principal | None = None) -> dict[str, Any]:
    """Queue an import of ``data`` (a file named ``filename``); what can be checked without
    reading the rows is checked now (InvalidInput): the format, the size, the mapping, the
    catalogue's region. Returns the job."""
    if kind not in LABELS:
        raise InvalidInput(f"未知的导入类型：{kind}（可选 talents、demands、catalogue）")
    suffix = Path(filename or "").suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise InvalidInput(f"不支持的文件格式“{suffix or filename or '未命名'}”，支持 CSV、XLSX、JSONL",
                           [{"field": "file", "reason": "文件格式不支持"}])
    limit = service.settings.max_upload_bytes
    if len(data) > limit:
        raise InvalidInput(f"文件过大（{len(data) // 1024} KB），上限 {limit // 1024} KB",
                           [{"field": "file", "reason": "文件过大"}])
    if not data:
        raise InvalidInput("文件为空", [{"field": "file", "reason": "文件为空"}])
    mapping_doc = None
    if mapping:
        with tempfile.TemporaryDirectory(prefix="tm-mapping-") as tmp:
            path = Path(tmp) / "mapping.json"
            path.write_bytes(mapping)
            load_mapping(path, kind)  # a bad mapping is refused now, not in the worker
        mapping_doc = json.loads(mapping.decode("utf-8-sig"))
    if (catalogue is None) != (kind != "catalogue"):
        raise InvalidInput("目录导入需填写地区与年度" if catalogue is None else "只有目录导入可填写目录信息")
    if catalogue is not None:
        catalogue = catalogue.model_copy(update={"region": resolve_region(service.reference.regions,
                                                                          catalogue.region).name})
    params = {"kind": kind, "filename": Path(filename).name[:200], "suffix": suffix, "mapping": mapping_doc,
              "sheet": sheet, "skip_invalid": skip_invalid, "replace": replace, "create_chains": create_chains,
              "catalogue": catalogue.model_dump(mode="json") if catalogue else None}
    return Jobs(service.store).enqueue(IMPORT, params, actor, max_waiting=service.settings.max_waiting_jobs,
                                       payload=data)


def run_import_job(worker: Any, job: dict[str, Any], beat: Callable[[float, str], None]) -> None:
    """A worker's handler of import jobs (``matcher.fair.jobs.Worker``): it ends the job itself."""
    service: MatchService = worker.service
    jobs: Jobs = worker.jobs
    job_id, params = job["id"], job["params"]
    kind: ImportKind = params["kind"]
    if (job.get("result") or {}).get("committed"):  # written by a worker that stopped before finishing
        jobs.finish(job_id, worker.name, job["result"])
        return None
    data = jobs.payload(job_id)
    if data is None:
        raise InvalidInput("任务的文件已不在，请重新上传")
    beat(0.02, "读取文件")
    with tempfile.TemporaryDirectory(prefix="tm-import-") as tmp:
        path = Path(tmp) / f"upload{params['suffix']}"
        path.write_bytes(data)
        mp = None
        if params.get("mapping") is not None:
            mpath = Path(tmp) / "mapping.json"
            mpath.write_text(json.dumps(params["mapping"], ensure_ascii=False), encoding="utf-8")
            mp = load_mapping(mpath, kind)
        result = read_records(path, kind, mp, sheet=params.get("sheet"),
                              limits=ReadLimits.from_settings(service.settings))
    total = max(1, len(result.records))
    encoded = [0]

    def progress(n: int) -> None:
        encoded[0] += n
        beat(0.05 + 0.85 * min(1.0, encoded[0] / total), f"编码：{encoded[0]}/{total}")

    base = {"kind": kind, "total_rows": result.total_rows}

    def done_with_the_write(s: Session) -> None:
        ids = [i for k, i in s.info.get("records_created", ()) if k == ("talent" if kind == "talents" else "demand")]
        if not jobs.committed_in(s, job_id, worker.name, {**base, "imported": len(ids), "ids": ids}):
            raise JobLost("任务已由其他进程接手，本次写入已撤销")

    catalogue = Catalogue.model_validate(params["catalogue"]) if params.get("catalogue") else None
    try:
        with Database.riding(done_with_the_write):
            report = service.import_rows(kind, result.records, result.errors,
                                         skip_invalid=bool(params.get("skip_invalid")), catalogue=catalogue,
                                         progress=progress, actor=job_actor(job),
                                         headers={t: h for h, t in result.columns.items()},
                                         replace=bool(params.get("replace")),
                                         create_chains=bool(params.get("create_chains")))
    except ImportRejected as exc:
        jobs.fail(job_id, worker.name, exc.detail, {**base, "imported": 0, "errors": _errors(exc.errors)})
        return None
    full = {**base, "imported": len(report["ids"]), "ids": report["ids"], "errors": _errors(report["errors"]),
            "catalogue_id": report["catalogue_id"]}
    jobs.finish(job_id, worker.name, full)
    return None


HANDLERS = {IMPORT: run_import_job}
