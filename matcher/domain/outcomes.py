"""Outcome events: their kinds, who may record which, on which pairs, and the API's shapes.

- a seeker records ``viewed``, ``saved``, ``applied``, ``dismissed`` on their own profile and an
  open post (or one they may read);
- an enterprise records ``shortlisted``, ``invited``, ``rejected``, ``hired`` on its own entries;
- staff (organisers, administrators) record a fair's ``interviewed``, ``offered``, ``hired``,
  ``no_show``.

Scoping follows ``matcher.domain.access``: a role that may never record this kind gets 403, a
pair the caller may not act on (another seeker's profile, another enterprise's entry) 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from matcher.core.errors import Forbidden, NotFound
from matcher.domain.access import RecordSource, managed_entry, readable_entry
from matcher.domain.auth import Principal, Role
from matcher.domain.schemas import RecordId, Title
from matcher.domain.views import InputModel

SEEKER_KINDS = ("viewed", "saved", "applied", "dismissed")
ENTERPRISE_KINDS = ("shortlisted", "invited", "rejected", "hired")
FAIR_KINDS = ("interviewed", "offered", "hired", "no_show")
KINDS: tuple[str, ...] = tuple(dict.fromkeys(SEEKER_KINDS + ENTERPRISE_KINDS + FAIR_KINDS))
Kind = Literal["viewed", "saved", "applied", "dismissed", "shortlisted", "invited", "rejected", "hired",
               "interviewed", "offered", "no_show"]
KIND_LABELS = {"viewed": "查看", "saved": "收藏", "applied": "申请", "dismissed": "不感兴趣",
               "shortlisted": "入围", "invited": "约面试", "rejected": "不合适", "hired": "已录用",
               "interviewed": "已面试", "offered": "已发录用通知", "no_show": "未到场"}


def allowed_kinds(who: Principal) -> tuple[str, ...]:
    if who.role == Role.SEEKER:
        return SEEKER_KINDS
    if who.role == Role.ENTERPRISE:
        return ENTERPRISE_KINDS
    if who.is_staff or who.role == "operator":
        return FAIR_KINDS
    return ()


def source_of(who: Principal) -> str:
    return {Role.SEEKER: "seeker", Role.ENTERPRISE: "enterprise"}.get(who.role, "fair")  # type: ignore[call-overload]


def authorise(svc: RecordSource, who: Principal, talent_id: int | None, demand_id: int, kind: str) -> int:
    """The talent id of an event the caller may record (403 / 404 otherwise)."""
    kinds = allowed_kinds(who)
    if kind not in kinds:
        label = KIND_LABELS.get(kind, kind)
        raise Forbidden(f"当前角色（{who.role}）不能记录“{label}”，可记录：{'、'.join(KIND_LABELS[k] for k in kinds) or '无'}")
    if who.role == Role.SEEKER:
        if who.talent_id is None:
            raise Forbidden("请先创建求职档案")
        if talent_id is not None and talent_id != who.talent_id:
            raise NotFound(f"人才档案 {talent_id} 不存在")
        readable_entry(svc, who, demand_id)
        return who.talent_id
    if talent_id is None:
        raise NotFound("请指定人才档案 talent_id")
    if who.role == Role.ENTERPRISE:
        managed_entry(svc, who, demand_id)
    else:
        svc.get("demand", demand_id)
    svc.get("talent", talent_id)
    return talent_id


class OutcomeIn(InputModel):
    """An event on a (talent, demand entry) pair. A seeker may leave ``talent_id`` out (their own)."""

    talent_id: RecordId | None = None
    demand_id: RecordId
    kind: Kind
    fair_id: RecordId | None = None
    note: Title | None = None


class OutcomeView(BaseModel):
    id: int
    talent_id: int
    demand_id: int
    kind: str
    kind_label: str
    source: str
    actor_role: str
    at: datetime
    rank: int | None = Field(default=None, description="rank at which the pair was last shown before the event")
    model: str | None = Field(default=None, description="the ranker of that list")
    features: dict[str, float] | None = Field(default=None, description="the pair's features when shown")
    synthetic: bool = False
    detail: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, e: dict[str, Any]) -> OutcomeView:
        return cls.model_validate({**{k: v for k, v in e.items() if k in cls.model_fields},
                                   "kind_label": KIND_LABELS.get(e["kind"], e["kind"])})


def visible_filters(svc: Any, who: Principal, talent_id: int | None, demand_id: int | None) -> dict[str, Any] | None:
    """Filters of the events the caller may read (None: none at all). Seekers read their own,
    enterprises those on their entries, staff every event; only staff see simulated ones."""
    if who.is_staff:
        return {"talent_id": talent_id, "demand_id": demand_id}
    if who.role == Role.SEEKER:
        if talent_id is not None and talent_id != who.talent_id:
            raise NotFound(f"人才档案 {talent_id} 不存在")
        if who.talent_id is None:
            return None
        return {"talent_id": who.talent_id, "demand_id": demand_id, "synthetic": False}
    if who.role == Role.ENTERPRISE:
        if demand_id is not None:
            managed_entry(svc, who, demand_id)
            return {"talent_id": talent_id, "demand_id": demand_id, "synthetic": False}
        if who.enterprise_id is None:
            return None
        entries, _ = svc.list_records("demand", offset=0, limit=100_000, enterprise_id=who.enterprise_id)
        return {"talent_id": talent_id, "demand_ids": [e.id for e in entries], "synthetic": False}
    raise Forbidden("当前角色无权查看结果事件")
