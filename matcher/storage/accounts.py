"""API keys and browser sessions in a session: creating, checking, revoking and binding keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from matcher.core.errors import Conflict, InvalidInput, NotFound
from matcher.domain.auth import Principal, Role, key_matches, new_key, parse_key
from matcher.storage.lookup import get_row
from matcher.storage.tables import (
    ApiKeyRow,
    EnterpriseRow,
    TalentRow,
    WebSessionRow,
    as_aware,
    utc_now,
)

__all__ = ["Accounts", "NewKey", "key_info", "new_key_for"]


def key_info(r: ApiKeyRow) -> dict[str, Any]:
    return {"id": r.id, "prefix": r.prefix, "role": r.role, "enterprise_id": r.enterprise_id,
            "talent_id": r.talent_id, "label": r.label, "created_at": r.created_at.isoformat(),
            "revoked": r.revoked_at is not None}


# what authenticating a key reads of its row (columns only: a plain connection can run it)
_KEY_BY_PREFIX = select(ApiKeyRow.id, ApiKeyRow.key_hash, ApiKeyRow.role, ApiKeyRow.enterprise_id,
                        ApiKeyRow.talent_id, ApiKeyRow.label, ApiKeyRow.revoked_at).where(
    ApiKeyRow.prefix == bindparam("prefix"))


def _principal(r: Any) -> Principal:
    return Principal(role=Role(r.role), key_id=r.id, enterprise_id=r.enterprise_id, talent_id=r.talent_id,
                     label=r.label)


def authenticate_with(key: str, key_row: Callable[[str], Any]) -> Principal | None:
    """The principal of ``key`` when it is well formed, ``key_row(prefix)`` finds its row (id,
    key_hash, role, enterprise_id, talent_id, label, revoked_at; by attribute), the key is not
    revoked and its hash matches; else None."""
    prefix = parse_key(key)
    if prefix is None:
        return None
    row = key_row(prefix)
    if row is None or row.revoked_at is not None or not key_matches(key, row.key_hash):
        return None
    return _principal(row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class NewKey:
    """A key about to be stored: its role and scope (checked), the plain key and its hash."""

    __slots__ = ("role", "enterprise_id", "talent_id", "label", "key", "prefix", "key_hash")

    def __init__(self, role: Role, enterprise_id: int | None, talent_id: int | None, label: str) -> None:
        self.role, self.enterprise_id, self.talent_id, self.label = role, enterprise_id, talent_id, label
        self.key, self.prefix, self.key_hash = new_key()


def new_key_for(role: Role | str, *, enterprise_id: int | None = None, talent_id: int | None = None,
                label: str = "") -> NewKey:
    """A new key for a role and scope, before any database work; InvalidInput for a wrong pairing."""
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"未知角色：{role}（可选：{'、'.join(r.value for r in Role)}）") from None
    if enterprise_id is not None and role != Role.ENTERPRISE:
        raise InvalidInput("只有 enterprise 角色的密钥可以绑定企业")
    if talent_id is not None and role != Role.SEEKER:
        raise InvalidInput("只有 seeker 角色的密钥可以绑定人才档案")
    return NewKey(role, enterprise_id, talent_id, label)


class Accounts:
    """API keys and web sessions in the caller's session (its unit of work)."""

    def __init__(self, s: Session) -> None:
        self.s = s

    # -- API keys ----------------------------------------------------------------------

    def add_key(self, new: NewKey) -> ApiKeyRow:
        """Store a key; NotFound when its enterprise or profile does not exist."""
        s = self.s
        if new.enterprise_id is not None:
            get_row(s, EnterpriseRow, new.enterprise_id, "企业")
        if new.talent_id is not None:
            get_row(s, TalentRow, new.talent_id, "人才档案")
        row = ApiKeyRow(prefix=new.prefix, key_hash=new.key_hash, role=new.role.value,
                        enterprise_id=new.enterprise_id, talent_id=new.talent_id, label=new.label[:200])
        s.add(row)
        s.flush()
        return row

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key, else None."""
        return authenticate_with(key, lambda prefix: self.s.execute(_KEY_BY_PREFIX, {"prefix": prefix}).first())

    def list_keys(self, *, include_revoked: bool = False) -> list[dict[str, Any]]:
        q = select(ApiKeyRow).order_by(ApiKeyRow.id)
        if not include_revoked:
            q = q.where(ApiKeyRow.revoked_at.is_(None))
        return [key_info(r) for r in self.s.scalars(q)]

    def revoke_key(self, key_id: int) -> None:
        row = self.s.get(ApiKeyRow, key_id)
        if row is None or row.revoked_at is not None:
            raise NotFound(f"密钥 {key_id} 不存在或已吊销")
        row.revoked_at = utc_now()

    def bind(self, key_id: int, **scope: int) -> None:
        """Bind an unbound key to the enterprise or profile it just created (same transaction)."""
        (col, value), = scope.items()
        done = self.s.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id, getattr(ApiKeyRow, col).is_(None))
                              .values({col: value}))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("该密钥已绑定，不能再创建" + ("企业" if col == "enterprise_id" else "人才档案"))

    # -- web sessions ------------------------------------------------------------------

    def add_web_session(self, token: str, csrf: str, key_id: int, hours: float) -> None:
        """A browser session for a key (expired sessions are dropped first)."""
        self.s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < utc_now()))
        self.s.add(WebSessionRow(token_hash=_token_hash(token), key_id=key_id, csrf=csrf,
                                 expires_at=utc_now() + timedelta(hours=hours)))

    def web_session(self, token: str) -> tuple[Principal, str] | None:
        """The principal and CSRF token of a live session whose key is still valid."""
        row = self.s.get(WebSessionRow, _token_hash(token))
        if row is None or as_aware(row.expires_at) < utc_now():
            return None
        key = self.s.get(ApiKeyRow, row.key_id)
        if key is None or key.revoked_at is not None:
            return None
        return _principal(key), row.csrf

    def end_web_session(self, token: str) -> None:
        self.s.execute(delete(WebSessionRow).where(WebSessionRow.token_hash == _token_hash(token)))
