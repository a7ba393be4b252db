"""The enterprise's pages: registration, entries, masked candidates, occupation suggestions."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from matcher.core.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from matcher.domain.access import talent_view
from matcher.domain.auth import Role
from matcher.domain.schemas import (
    DemandEntry,
    Education,
    Enterprise,
)
from web.common import (
    STATUS_LABELS,
    PageError,
    Redirect,
    WebUser,
    call,
    changed_meanwhile,
    domain_errors,
    form_of,
    model_from_form,
    render,
    shown_version,
    svc,
    user,
    values_of,
)
from web.forms import ENTRY_KEEP, ENTRY_LISTS, FORMS, LABELS
from web.names import chain_choices, chain_names, check_form, occupation_name, shown_values
from web.params import Id

router = APIRouter(include_in_schema=False)


def _company_form(request: Request, u: WebUser, values: dict, errors: dict, *, editing: bool,
                  status: int = 200) -> Response:
    return render(request, "company.html.j2", u, status, enterprise=None, values=values, errors=errors,
                  editing=editing, labels=LABELS["company"], chain_choices=chain_choices(svc(request)),
                  title="修改企业信息" if editing else "登记企业")


@router.get("/app/company", response_class=HTMLResponse)
async def company(request: Request, status: str = "") -> Response:
    u = await user(request, Role.ENTERPRISE)
    s = svc(request)
    if u.who.enterprise_id is None:
        return _company_form(request, u, {}, {}, editing=False)
    ent = await call(request, s.enterprises.get, u.who.enterprise_id)
    status = status if status in STATUS_LABELS else ""
    entries, total = await call(request, s.list_records, "demand", offset=0, limit=200,
                                enterprise_id=ent.id, status=status or None)
    chain = chain_names(s).get(ent.chain_id or "", "")
    return render(request, "company.html.j2", u, enterprise=ent, entries=entries, total=total, status_filter=status,
                  status_labels=STATUS_LABELS, chain_name=chain, title=ent.name)


async def _save_company(request: Request, u: WebUser, *, editing: bool) -> Response:
    form = await form_of(request, u)
    s = svc(request)
    ent, errors, values = model_from_form(FORMS["company"], form, build=Enterprise.model_validate)
    more, stored = check_form(s, values, cities=("city",), chain="chain_id")
    errors = {**more, **errors}
    if ent is not None and not errors:
        try:
            ent = ent.model_copy(update=stored)
            if editing:
                await call(request, s.enterprises.update, u.who.enterprise_id, ent, u.who)
            else:
                await call(request, s.enterprises.add, ent, u.who, u.who.key_id)
        except (InvalidInput, Conflict) as exc:
            errors = domain_errors(exc, "name")
    if errors:
        return _company_form(request, u, values, errors, editing=editing, status=422)
    return RedirectResponse("/app/company?saved=" + quote("企业信息已保存" if editing else "企业已登记"),
                            status_code=303)


@router.post("/app/company", response_class=HTMLResponse)
async def register_company(request: Request) -> Response:
    u = await user(request, Role.ENTERPRISE)
    if u.who.enterprise_id is not None:
        await form_of(request, u)
        raise PageError(409, "已登记", "此密钥已绑定企业；要修改企业信息，请点击“修改企业信息”。")
    return await _save_company(request, u, editing=False)


@router.get("/app/company/edit", response_class=HTMLResponse)
async def edit_company(request: Request) -> Response:
    u = await user(request, Role.ENTERPRISE)
    if u.who.enterprise_id is None:
        return RedirectResponse("/app/company", status_code=303)
    ent = await call(request, svc(request).enterprises.get, u.who.enterprise_id)
    return _company_form(request, u, shown_values(svc(request), values_of(ent, ())), {}, editing=True)


@router.post("/app/company/edit", response_class=HTMLResponse)
async def update_company(request: Request) -> Response:
    u = await user(request, Role.ENTERPRISE)
    if u.who.enterprise_id is None:
        return RedirectResponse("/app/company", status_code=303)
    return await _save_company(request, u, editing=True)


def _entry_page(request: Request, u: WebUser, values: dict, errors: dict, entry_id: int | None,
                status: int = 200, version: int | None = None) -> Response:
    action = f"/app/entries/{entry_id}/edit" if entry_id else "/app/entries/new"
    s = svc(request)
    return render(request, "entry.html.j2", u, status, values=values, errors=errors, entry_id=entry_id,
                  action=action, educations=[e.value for e in Education], labels=LABELS["entry"],
                  statuses=list(STATUS_LABELS.items()), chain_choices=chain_choices(s),
                  occupation_name=occupation_name(s, values.get("occupation_code")), version=version,
                  title="修改需求" if entry_id else "发布新需求")


async def _own_entry(request: Request, u: WebUser, entry_id: int) -> DemandEntry:
    return (await _own_entry_versioned(request, u, entry_id))[0]


async def _own_entry_versioned(request: Request, u: WebUser, entry_id: int) -> tuple[DemandEntry, int]:
    if u.who.enterprise_id is None:
        raise Redirect("/app/company")
    entry, version = await call(request, svc(request).get_versioned, "demand", entry_id)
    if entry.enterprise_id != u.who.enterprise_id:
        raise NotFound(f"需求条目 {entry_id} 不存在")
    return entry, version


@router.get("/app/entries/new", response_class=HTMLResponse)
async def new_entry(request: Request) -> Response:
    u = await user(request, Role.ENTERPRISE)
    if u.who.enterprise_id is None:
        return RedirectResponse("/app/company", status_code=303)
    return _entry_page(request, u, {"headcount": "1", "fresh_graduates_ok": True}, {}, None)


async def _save_entry(request: Request, entry_id: int | None) -> Response:
    u = await user(request, Role.ENTERPRISE)
    if u.who.enterprise_id is None:
        return RedirectResponse("/app/company", status_code=303)
    current = await _own_entry(request, u, entry_id) if entry_id else None
    form = await form_of(request, u)
    # fields the form does not show stay as they are; the server decides the owner and the source
    keep = current.model_dump(include=set(ENTRY_KEEP)) if current is not None else {}
    server = {"enterprise_id": u.who.enterprise_id, "enterprise_name": None,
              "source": current.source if current is not None else "post",
              "catalogue_id": current.catalogue_id if current is not None else None}
    entry, errors, values = model_from_form(FORMS["entry"], form, keep=keep,
                                            build=lambda data: DemandEntry.model_validate({**data, **server}))
    s = svc(request)
    more, stored = check_form(s, values, cities=("city",), chain="chain_id")
    errors = {**more, **errors}
    shown = shown_version(form)  # the version the form was filled from
    if entry is not None and not errors:
        try:
            entry = entry.model_copy(update=stored)
            if current is not None and entry.occupation_code == current.occupation_code:
                # the code the form showed, left as it was: still the coder's, as sure as it was
                entry = entry.model_copy(update={"occupation_confidence": current.occupation_confidence})
            if entry_id:
                await call(request, s.update, "demand", entry_id, entry, actor=u.who, expected_version=shown)
            else:
                [entry_id] = await call(request, s.add, "demand", [entry], actor=u.who)
        except PreconditionFailed:
            _, now = await call(request, s.get_versioned, "demand", entry_id)
            return _entry_page(request, u, values, {"_": changed_meanwhile(now)}, entry_id, 409, now)
        except (InvalidInput, Conflict) as exc:
            errors = domain_errors(exc, "title")
    if errors:
        return _entry_page(request, u, values, errors, entry_id, 422, shown)
    return RedirectResponse(f"/app/entries/{entry_id}/candidates?saved=" + quote("需求已保存"), status_code=303)


@router.post("/app/entries/new", response_class=HTMLResponse)
async def create_entry(request: Request) -> Response:
    return await _save_entry(request, None)


@router.get("/app/entries/{entry_id}/edit", response_class=HTMLResponse)
async def edit_entry(request: Request, entry_id: Id) -> Response:
    u = await user(request, Role.ENTERPRISE)
    entry, version = await _own_entry_versioned(request, u, entry_id)
    return _entry_page(request, u, shown_values(svc(request), values_of(entry, ENTRY_LISTS)), {}, entry_id,
                       version=version)


@router.post("/app/entries/{entry_id}/edit", response_class=HTMLResponse)
async def update_entry(request: Request, entry_id: Id) -> Response:
    return await _save_entry(request, entry_id)


@router.post("/app/entries/{entry_id}/close")
async def close_entry(request: Request, entry_id: Id) -> Response:
    u = await user(request, Role.ENTERPRISE)
    entry = await _own_entry(request, u, entry_id)
    await form_of(request, u)
    await call(request, svc(request).update, "demand", entry_id, entry.model_copy(update={"status": "closed"}),
               actor=u.who)
    return RedirectResponse("/app/company?saved=" + quote("需求已关闭"), status_code=303)


@router.get("/app/entries/{entry_id}/candidates", response_class=HTMLResponse)
async def candidates(request: Request, entry_id: Id) -> Response:
    from matcher.domain.access import shown_talents

    u = await user(request, Role.ENTERPRISE)
    entry = await _own_entry(request, u, entry_id)
    s = svc(request)

    def work() -> tuple[list, dict]:
        found = s.match_demand(entry_id, 20, shown_to=u.who)
        profiles = s.get_many("talent", [m.id for m in found])  # read once: masking and contacts
        shown = shown_talents(s, u.who, found, "web_candidates", profiles=profiles, demand_id=entry_id)
        return shown, {i: talent_view(u.who, p) for i, p in profiles.items()}

    matches, contacts = await call(request, work)
    return render(request, "candidates.html.j2", u, entry=entry, matches=matches, contacts=contacts,
                  outcome_kinds=ENTERPRISE_BUTTONS, title="推荐人才")


ENTERPRISE_BUTTONS = [("invited", "约面试", ""), ("rejected", "不合适", "secondary"), ("hired", "已录用", "secondary")]


@router.post("/app/entries/{entry_id}/candidates/{talent_id}/outcome")
async def candidate_outcome(request: Request, entry_id: Id, talent_id: Id) -> Response:
    """约面试 / 不合适 / 已录用 on a candidate of the enterprise's own entry."""
    u = await user(request, Role.ENTERPRISE)
    await _own_entry(request, u, entry_id)
    form = await form_of(request, u)
    kind = str(form.get("kind", ""))
    labels = {k: label for k, label, _ in ENTERPRISE_BUTTONS}
    if kind not in labels:
        raise PageError(422, "操作无效", "请选择约面试、不合适或已录用。")
    await call(request, svc(request).record_outcome, u.who, talent_id, entry_id, kind)
    return RedirectResponse(f"/app/entries/{entry_id}/candidates?saved=" + quote(f"已记录：{labels[kind]}"),
                            status_code=303)


@router.get("/app/suggest/occupations")
async def suggest_occupations(request: Request, q: str = "") -> Response:
    await user(request, Role.ENTERPRISE, Role.SEEKER, Role.ORGANISER, Role.ADMIN)
    q = q.strip()[:100]
    if len(q) < 2:
        return JSONResponse([])
    [cands] = await call(request, svc(request).code_occupations, [q], 5)
    return JSONResponse([{"code": c.code, "name": c.name, "score": c.score} for c in cands])
