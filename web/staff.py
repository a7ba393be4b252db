"""Pages for programme staff (catalogues, gap reports) and the graduates' zone."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from matcher.analytics.gap import GapQuery, submit_gap_report
from matcher.analytics.report import render_gap_html
from matcher.core.errors import Conflict, ImportRejected, InvalidInput, NotFound, TalentMatchError
from matcher.domain.auth import Role
from matcher.domain.schemas import Catalogue, MatchFilters
from matcher.fair.jobs import get_job
from matcher.imports.jobs import IMPORT, submit_import
from matcher.ingest.fields import SUPPORTED_EXTENSIONS, load_mapping
from matcher.ingest.importer import read_records
from matcher.ingest.table_reader import ReadLimits
from matcher.reference.regions import resolve_region
from matcher.zone.graduates import (
    SubscriptionCreate,
    ZoneQuery,
    acknowledge,
    create_subscription,
    feed,
    graduate_zone,
)
from matcher.zone.graduates import list_subscriptions as subscriptions_of
from web.common import (
    STAFF,
    PageError,
    call,
    form_of,
    model_from_form,
    render,
    split_list,
    svc,
    user,
)
from web.forms import FORMS
from web.names import chain_names, occupation_name
from web.params import Id
from web.posts import seeker_posts

router = APIRouter(include_in_schema=False)


# -- catalogues ----------------------------------------------------------------------------------


def _catalogue_page(request: Request, u: Any, status: int = 200, **ctx: Any) -> Response:
    ctx.setdefault("errors", {})
    ctx.setdefault("values", {"year": str(date.today().year)})
    ctx.setdefault("catalogues", svc(request).catalogues.list())
    return render(request, "catalogues.html.j2", u, status, title="目录导入", **ctx)


@router.get("/app/catalogues", response_class=HTMLResponse)
async def catalogues(request: Request) -> Response:
    u = await user(request, *STAFF)
    return _catalogue_page(request, u)


@router.post("/app/catalogues", response_class=HTMLResponse)
async def import_catalogue(request: Request) -> Response:
    u = await user(request, *STAFF)
    form = await form_of(request, u)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    for flag in ("skip_invalid", "replace", "create_chains"):
        values[flag] = flag in form
    errors: dict[str, str] = {}
    upload, mapping = form.get("file"), form.get("mapping")
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "请选择目录文件"
    elif Path(upload.filename).suffix.lower() not in SUPPORTED_EXTENSIONS:
        errors["file"] = "不支持的文件格式，请上传 CSV、XLSX 或 JSONL"
    region = values.get("region", "").strip()
    if not region:
        errors["region"] = "必填，不能为空"
    else:
        try:
            region = resolve_region(svc(request).reference.regions, region).name
        except InvalidInput as exc:
            errors["region"] = exc.detail
    try:
        year = int(values.get("year", ""))
        if not 2000 <= year <= 2100:
            raise ValueError
    except ValueError:
        errors["year"] = "请输入 2000 到 2100 之间的年份"
    if errors:
        return _catalogue_page(request, u, 422, errors=errors, values=values)
    assert isinstance(upload, UploadFile)
    suffix = Path(upload.filename or "").suffix.lower()
    if (upload.size or 0) > svc(request).settings.import_job_bytes:  # a large file: a job with a progress page
        data = await upload.read()
        mp = await mapping.read() if isinstance(mapping, UploadFile) and mapping.filename else None
        cat = Catalogue(region=region, year=year, name=values.get("name") or None,
                        chain_registry=values.get("registry") or None)
        try:
            job = await call(request, lambda: submit_import(
                svc(request), "catalogue", upload.filename or "", data, mapping=mp, catalogue=cat,
                skip_invalid=bool(values["skip_invalid"]), actor=u.who))
        except TalentMatchError as exc:
            return _catalogue_page(request, u, 422, values=values, errors={"file": exc.detail})
        return RedirectResponse(f"/app/catalogues/jobs/{job['id']}", status_code=303)

    def work() -> tuple[dict[str, Any], list[str]]:
        with tempfile.TemporaryDirectory(prefix="tm-web-") as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(upload.file.read())
            mp = None
            if isinstance(mapping, UploadFile) and mapping.filename:
                mpath = Path(tmp) / "mapping.json"
                mpath.write_bytes(mapping.file.read())
                mp = load_mapping(mpath, "catalogue")
            result = read_records(path, "catalogue", mp, limits=ReadLimits.from_settings(svc(request).settings))
        cat = Catalogue(region=region, year=year, name=values.get("name") or None,
                        chain_registry=values.get("registry") or None)
        report = svc(request).import_rows("catalogue", result.records, result.errors,
                                          skip_invalid=bool(values["skip_invalid"]), catalogue=cat, actor=u.who,
                                          headers={t: h for h, t in result.columns.items()},
                                          replace=bool(values["replace"]), create_chains=bool(values["create_chains"]))
        return report, result.warnings

    try:
        report, warnings = await call(request, work)
    except ImportRejected as exc:
        return _catalogue_page(request, u, 422, values=values, row_errors=exc.errors, imported=0)
    except Conflict as exc:  # the same catalogue is already in: say so and offer to replace it
        return _catalogue_page(request, u, 409, values={**values, "replace": True}, duplicate=exc.detail)
    except TalentMatchError as exc:
        return _catalogue_page(request, u, 422, values=values, errors={"file": exc.detail})
    n = len(report["ids"])
    if report["errors"] or warnings or report["created_chains"] or report["replaced"]:
        said = f"已导入 {n} 条目录条目（目录编号 {report['catalogue_id']}）"
        if report["errors"]:
            said += f"，跳过 {len(report['errors'])} 处错误"
        if report["replaced"]:
            said += f"；已替换原目录（编号 {report['replaced']['id']}，{report['replaced']['entries']} 条）"
        return _catalogue_page(request, u, 200, values=values, row_errors=report["errors"], imported=n,
                               warnings=warnings, created_chains=report["created_chains"],
                               flashes=[("ok", said)])
    return RedirectResponse("/app/catalogues?saved=" + quote(f"已导入 {len(report['ids'])} 条目录条目"),
                            status_code=303)


async def _import_job(request: Request, job_id: int) -> dict[str, Any]:
    try:
        job = await call(request, get_job, svc(request), job_id)
    except NotFound:
        job = None
    if job is None or job["kind"] != IMPORT or job["params"].get("kind") != "catalogue":
        raise NotFound("该导入任务不存在")
    return job


def _saved_url(job: dict[str, Any]) -> str:
    result = job.get("result") or {}
    return "/app/catalogues?saved=" + quote(f"已导入 {result.get('imported', 0)} 条目录条目")


@router.get("/app/catalogues/jobs/{job_id}", response_class=HTMLResponse)
async def import_job_page(request: Request, job_id: Id) -> Response:
    u = await user(request, *STAFF)
    job = await _import_job(request, job_id)
    result = job.get("result") or {}
    if job["state"] == "done" and not result.get("errors"):
        return RedirectResponse(_saved_url(job), status_code=303)
    if job["state"] in ("done", "failed"):
        imported = int(result.get("imported") or 0)
        flashes = [("ok", f"已导入 {imported} 条，跳过 {len(result.get('errors') or [])} 处错误")] if imported else []
        return _catalogue_page(request, u, 200 if job["state"] == "done" else 422,
                               errors={} if result.get("errors") else {"file": job["error"] or "导入失败"},
                               row_errors=result.get("errors") or [], imported=imported, flashes=flashes)
    return render(request, "import_job.html.j2", u, job=job, title="正在导入")


@router.get("/app/catalogues/jobs/{job_id}/status")
async def import_job_status(request: Request, job_id: Id) -> Response:
    await user(request, *STAFF)
    job = await _import_job(request, job_id)
    state = "running" if job["state"] == "queued" else job["state"]
    nxt = _saved_url(job) if state == "done" and not (job.get("result") or {}).get("errors") \
        else f"/app/catalogues/jobs/{job_id}"
    return JSONResponse({"state": state, "progress": round(job["progress"], 3), "message": job["message"],
                         "next": nxt})


# -- gap reports -------------------------------------------------------------------------------


@router.get("/app/reports", response_class=HTMLResponse)
async def reports(request: Request) -> Response:
    u = await user(request, *STAFF)
    cats = svc(request).catalogues.list()
    latest = cats[-1] if cats else None
    return render(request, "reports.html.j2", u, catalogues=cats, title="供需报告",
                  region=latest["region"] if latest else "", year=latest["year"] if latest else date.today().year)


def _gap_query(request: Request, region: str, year: int, demand: str, threshold: float,
               threshold_pct: float | None) -> GapQuery:
    if demand not in ("catalogue", "posts", "all"):
        raise InvalidInput("需求口径应为 catalogue、posts 或 all")
    if threshold_pct is not None:  # the page's form gives a percentage, as every score on the pages
        threshold = threshold_pct / 100
    if not 0 <= threshold <= 1:
        raise InvalidInput("合格阈值应在 0–100% 之间")
    if not 2000 <= year <= 2100:
        raise InvalidInput("年度应在 2000 到 2100 之间")
    resolve_region(svc(request).reference.regions, region.strip()[:50])  # an unknown region: said at once
    return GapQuery(region=region.strip()[:50], year=year, demand=demand, threshold=threshold)  # type: ignore[arg-type]


def _gap_params(request: Request) -> str:
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "go"])


@router.get("/app/reports/gap", response_class=HTMLResponse)
async def gap_page(request: Request, region: str, year: int, demand: str = "catalogue",
                   threshold: float = 0.6, threshold_pct: float | None = None, go: int = 0) -> Response:
    """The report when it is kept; else its computation is started (or found) in the background
    and a page shows its progress, refreshing itself (meta refresh; app.js polls the status when
    scripts run) until the report is ready. ``go`` (older links) is ignored."""
    u = await user(request, *STAFF)
    query = _gap_query(request, region, year, demand, threshold, threshold_pct)
    build = await call(request, submit_gap_report, svc(request), query)
    if build.state == "failed":
        if isinstance(build.exc, TalentMatchError):
            raise build.exc
        raise PageError(500, "报告生成失败", build.error or "报告生成失败，请稍后重试。")
    if build.state == "done":
        return HTMLResponse(render_gap_html(build.value, nonce=request.state.csp_nonce))
    params = _gap_params(request)
    return render(request, "gap_progress.html.j2", u, title="正在生成供需报告",
                  heading=f"正在生成报告：{query.region} {year} 年供需缺口", percent=round(build.progress * 100),
                  stage=build.stage, elapsed=round(build.elapsed), queued=build.state == "queued",
                  next_url="/app/reports/gap?" + params, status_url="/app/reports/gap/status?" + params)


@router.get("/app/reports/gap/status")
async def gap_status(request: Request, region: str, year: int, demand: str = "catalogue",
                     threshold: float = 0.6, threshold_pct: float | None = None) -> Response:
    """The progress of a report as app.js reads it: state, progress, message, next (the page)."""
    await user(request, *STAFF)
    query = _gap_query(request, region, year, demand, threshold, threshold_pct)
    build = await call(request, submit_gap_report, svc(request), query)
    message = build.error if build.state == "failed" else f"{build.stage}（{round(build.progress * 100)}%）"
    return JSONResponse({"state": build.state, "progress": round(build.progress, 3), "message": message,
                         "next": "/app/reports/gap?" + _gap_params(request)})


# -- the graduates' zone -------------------------------------------------------------------------


def subscription_label(s: Any, sub: Any) -> str:
    """What a subscription follows, in names: cities, chain names, occupation names (a code
    prefix stays a prefix: 职业类别 2-02-10)."""
    chains = chain_names(s)
    occupations = [occupation_name(s, o) or f"职业类别 {o}" for o in sub.occupations]
    return "、".join([*sub.cities, *(chains.get(c, c) for c in sub.chains), *occupations]) or "全部岗位"


def zone_cards(s: Any, talent_id: int) -> list:
    """Posts open to fresh graduates (which ask for no years of experience), best first."""
    cards, _ = seeker_posts(s, talent_id, MatchFilters(fresh_graduates_only=True), fresh_only=True)
    return sorted(cards, key=lambda c: -c.match.score)


@router.get("/app/zone", response_class=HTMLResponse)
async def zone(request: Request) -> Response:
    u = await user(request, Role.SEEKER, *STAFF)
    s = svc(request)
    if u.who.role == Role.SEEKER:
        if u.who.talent_id is None:
            return RedirectResponse("/app/me", status_code=303)
        tid = u.who.talent_id

        def work() -> tuple[list, list]:
            found = zone_cards(s, tid)
            subs = subscriptions_of(s, talent_id=tid)
            return found, [(sub, feed(s, sub.id, limit=20)) for sub in subs]

        cards, feeds = await call(request, work)
        return render(request, "zone.html.j2", u, seeker=True, cards=cards, feeds=feeds, errors={}, values={},
                      sub_labels={sub.id: subscription_label(s, sub) for sub, _ in feeds},
                      title="高校人才直通车")
    q = request.query_params
    query: dict[str, Any] = {"school": q.get("school") or None, "major": q.get("major") or None}
    error, result = None, None
    try:
        if q.get("graduation_year"):
            query["graduation_year"] = int(q["graduation_year"])
        result = await call(request, graduate_zone, s, ZoneQuery(**query))
    except (ValueError, NotFound, InvalidInput) as exc:
        error = exc.detail if isinstance(exc, TalentMatchError) else "毕业年份应为数字"
    return render(request, "zone.html.j2", u, seeker=False, zone=result, q=query, error=error, title="高校人才直通车")


@router.post("/app/zone/subscriptions", response_class=HTMLResponse)
async def subscribe(request: Request) -> Response:
    u = await user(request, Role.SEEKER)
    form = await form_of(request, u)
    if u.who.talent_id is None:
        return RedirectResponse("/app/me", status_code=303)
    label = "、".join(split_list(str(form.get("cities", ""))) + split_list(str(form.get("chains", ""))))[:200]
    req, errors, values = model_from_form(FORMS["subscription"], form, server={"talent_id": u.who.talent_id,
                                          "label": label}, build=SubscriptionCreate.model_validate)
    s = svc(request)
    if req is not None:
        try:
            await call(request, create_subscription, s, req, u.who)
        except InvalidInput as exc:
            raw = str(exc.errors[0].get("field", "")) if exc.errors else ""
            field = next((f for key, f in (("chain", "chains"), ("occup", "occupations"), ("cit", "cities"))
                          if key in raw), "_")
            errors = {field: exc.detail}
    if errors:
        cards = await call(request, zone_cards, s, u.who.talent_id)
        return render(request, "zone.html.j2", u, 422, seeker=True, cards=cards, feeds=[], values=values,
                      errors=errors, title="高校人才直通车")
    return RedirectResponse("/app/zone?saved=" + quote("已订阅，新岗位会出现在本页"), status_code=303)


@router.post("/app/zone/subscriptions/{sub_id}/ack")
async def ack(request: Request, sub_id: Id) -> Response:
    u = await user(request, Role.SEEKER)
    form = await form_of(request, u)
    s = svc(request)
    mine = {sub.id for sub in subscriptions_of(s, talent_id=u.who.talent_id)} if u.who.talent_id else set()
    if sub_id not in mine:
        raise NotFound(f"订阅 {sub_id} 不存在")
    try:
        cursor = int(str(form.get("cursor", "")))
    except ValueError:
        raise InvalidInput("游标无效") from None
    await call(request, acknowledge, s, sub_id, cursor)
    return RedirectResponse("/app/zone", status_code=303)
