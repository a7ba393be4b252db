"""Who may see what: scoping of enterprises, entries and profiles, and masking of contacts.

Scoping rule: a role that may never use a route gets 403; a caller who may use the route but not
on this record (another enterprise's entry, another seeker's profile) gets 404, so that ids of
other parties' records are not confirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from matcher.core.errors import Forbidden, NotFound
from matcher.domain.auth import Principal, Role, mask_name, mask_phone
from matcher.domain.schemas import DemandEntry, Match, TalentProfile
from matcher.domain.views import TalentView


class AuditWriter(Protocol):
    """Where reads of personal data are recorded (``MatchService.audit_log``)."""

    def record(self, actor: Principal | None, action: str, resource: str, ids: Sequence[Any],
               detail: dict[str, Any] | None = None) -> None: ...


class RecordSource(Protocol):
    """What the access rules read: records by kind and id, and the audit log to write views to
    (``matcher.service.MatchService`` provides them)."""

    @property
    def audit_log(self) -> AuditWriter: ...

    def get(self, kind: Any, record_id: int) -> Any: ...

    def get_many(self, kind: Any, ids: Sequence[int]) -> dict[int, Any]: ...


def enterprise_scope(who: Principal, enterprise_id: int) -> None:
    """Staff, or the enterprise itself; other enterprises see 404, seekers 403."""
    if who.is_staff or who.owns_enterprise(enterprise_id):
        return
    if who.role == Role.ENTERPRISE:
        raise NotFound(f"企业 {enterprise_id} 不存在")
    raise Forbidden("求职者不能管理企业信息或需求条目")


def entry_of(svc: RecordSource, who: Principal, enterprise_id: int, demand_id: int) -> DemandEntry:
    """A demand entry of an enterprise the caller may manage (404 otherwise)."""
    enterprise_scope(who, enterprise_id)
    entry = svc.get("demand", demand_id)
    if entry.enterprise_id != enterprise_id:
        raise NotFound(f"需求条目 {demand_id} 不存在")
    return entry


def readable_entry(svc: RecordSource, who: Principal, demand_id: int) -> DemandEntry:
    """Open entries are public to every role; others only to their enterprise and staff."""
    entry = svc.get("demand", demand_id)
    if entry.status == "open" or who.is_staff or who.owns_enterprise(entry.enterprise_id):
        return entry
    raise NotFound(f"需求条目 {demand_id} 不存在")


def managed_entry(svc: RecordSource, who: Principal, demand_id: int) -> DemandEntry:
    """An entry whose candidates the caller may see: its enterprise, or staff."""
    if who.role == Role.SEEKER:
        raise Forbidden("求职者不能查看岗位的候选人")
    entry = svc.get("demand", demand_id)
    if who.is_staff or who.owns_enterprise(entry.enterprise_id):
        return entry
    raise NotFound(f"需求条目 {demand_id} 不存在")


def own_profile(svc: RecordSource, who: Principal, talent_id: int, *, write: bool = False) -> TalentProfile:
    """A profile its owner (or staff) may read and change; enterprises may only read (masked)."""
    profile_access(who, talent_id, write=write)
    return svc.get("talent", talent_id)  # type: ignore[return-value]


def profile_access(who: Principal, talent_id: int, *, write: bool = False) -> None:
    """``own_profile``'s check, without reading the profile: NotFound for a seeker's other
    profiles (as if there were none), Forbidden for an enterprise's write."""
    if who.is_staff or who.owns_talent(talent_id):
        return
    if who.role == Role.SEEKER:
        raise NotFound(f"人才档案 {talent_id} 不存在")
    if write:
        raise Forbidden("企业不能修改人才档案")


def contact_visible(who: Principal, profile: TalentProfile) -> bool:
    return who.role != Role.ENTERPRISE or profile.consent


def talent_view(who: Principal, profile: TalentProfile) -> Any:
    """The profile as the caller may see it: never the national ID; masked for enterprises
    unless the talent consented to show contact details."""
    data = profile.model_dump(exclude={"national_id"})
    visible = contact_visible(who, profile)
    if not visible:
        data["name"] = mask_name(profile.name)
        data["phone"] = mask_phone(profile.phone)
    return TalentView.model_validate({**data, "contact_visible": visible})


def shown_talents(svc: RecordSource, who: Principal, matches: Sequence[Match], via: str, *,
                  profiles: dict[int, TalentProfile] | None = None, **detail: Any) -> list[Match]:
    """Talent results as the caller may see them (names masked for enterprises without the
    talent's consent); an enterprise's view of them is written to the audit log. ``profiles``:
    the talents already read, if the caller has them."""
    ids = [m.id for m in matches if m.kind == "talent"]
    if not ids or who.role != Role.ENTERPRISE:
        return list(matches)
    if profiles is None:
        profiles = svc.get_many("talent", ids)
    out = []
    for m in matches:
        p = profiles.get(m.id)
        if m.kind == "talent" and p is not None and not p.consent:
            m = m.model_copy(update={"title": mask_name(p.name) if p.name else m.title})
        out.append(m)
    svc.audit_log.record(who, "view", "talent", ids, {"via": via, **detail})
    return out
