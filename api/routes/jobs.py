"""Durable jobs (fair runs, file imports): their state and progress; a finished run's result URL,
an import's report (row errors of a refused file included)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Service, Staff
from api.params import Id
from matcher.fair.jobs import get_job

router = APIRouter(prefix="/v1/jobs", tags=["fairs"])


class JobView(BaseModel):
    id: int
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    progress: float
    message: str
    error: str | None = None
    attempts: int
    result: dict[str, Any] | None = None
    result_url: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


def job_view(job: dict[str, Any]) -> JobView:
    result = job.get("result") or {}
    url = f"/v1/fairs/{result['fair_id']}/runs/{result['run_id']}" if "run_id" in result else None
    if result.get("catalogue_id"):
        url = f"/v1/catalogues/{result['catalogue_id']}"
    return JobView(**{k: job.get(k) for k in JobView.model_fields if k != "result_url"}, result_url=url)


@router.get("/{job_id}", response_model=JobView, summary="任务状态与进度（完成后 result_url 为结果地址）")
def job(job_id: Id, svc: Service, _: Staff) -> JobView:
    return job_view(get_job(svc, job_id))
