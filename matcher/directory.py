"""What the HTTP layer reads and writes besides matching: accounts (API keys, web sessions),
enterprises, the audit log and catalogues, as named collaborators of the service.

Each is a narrow view of the store (one method per operation a route needs), so the API and the
pages never hold the store itself; every call is one unit of work of the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from matcher.domain.auth import Principal, Role
from matcher.domain.schemas import Enterprise
from matcher.storage.store import Store


class AccountDirectory:
    """API keys, signing in with them and browser sessions."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key, else None."""
        return self._store.authenticate(key)

    def create_key(self, role: Role | str, *, enterprise_id: int | None = None, talent_id: int | None = None,
                   label: str = "", actor: Principal | None = None) -> tuple[str, dict[str, Any]]:
        """A new key for a role and scope: (plain key, shown once; key info)."""
        return self._store.create_key(role, enterprise_id=enterprise_id, talent_id=talent_id, label=label,
                                      actor=actor)

    def list_keys(self, *, include_revoked: bool = False) -> list[dict[str, Any]]:
        return self._store.list_keys(include_revoked=include_revoked)

    def revoke_key(self, key_id: int, actor: Principal | None = None) -> None:
        self._store.revoke_key(key_id, actor=actor)

    def create_web_session(self, key: str) -> tuple[str, str, Principal] | None:
        """Sign a browser in with an API key: (session token, CSRF token, principal), or None."""
        return self._store.create_web_session(key)

    def web_session(self, token: str) -> tuple[Principal, str] | None:
        """The principal and CSRF token of a live session whose key is still valid."""
        return self._store.web_session(token)

    def end_web_session(self, token: str) -> None:
        self._store.end_web_session(token)


class EnterpriseDirectory:
    """Enterprises: registering (optionally binding the caller's key), reading, listing."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, e: Enterprise, actor: Principal | None = None, bind_key: int | None = None) -> Enterprise:
        return self._store.add_enterprise(e, actor=actor, bind_key=bind_key)

    def update(self, enterprise_id: int, e: Enterprise, actor: Principal | None = None) -> Enterprise:
        return self._store.update_enterprise(enterprise_id, e, actor=actor)

    def save(self, enterprise_id: int, change: Callable[[Enterprise], Enterprise], actor: Principal | None = None,
             *, if_match: int | None = None) -> tuple[Enterprise, int]:
        """Apply ``change(current)`` in one transaction holding the row (a merge never loses a
        concurrent change); PreconditionFailed when ``if_match`` is not the stored version."""
        return self._store.save_enterprise(enterprise_id, change, actor, expected_version=if_match)

    def get_versioned(self, enterprise_id: int) -> tuple[Enterprise, int]:
        return self._store.get_enterprise_versioned(enterprise_id)

    def get(self, enterprise_id: int) -> Enterprise:
        """The enterprise, or NotFound."""
        return self._store.get_enterprise(enterprise_id)

    def page(self, offset: int = 0, limit: int = 50) -> list[Enterprise]:
        return self._store.list_enterprises(offset, limit)

    def count(self) -> int:
        return self._store.count_enterprises()


class AuditLog:
    """The audit log: reads of personal data recorded by the caller, and the log's pages."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, actor: Principal | None, action: str, resource: str, ids: Sequence[Any],
               detail: dict[str, Any] | None = None) -> None:
        """Record a read of personal data (writes record themselves)."""
        self._store.audit(actor, action, resource, ids, detail)

    def page(self, *, offset: int = 0, limit: int = 50, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        """A page of entries, newest first, and the total count."""
        return self._store.list_audit(offset=offset, limit=limit, **filters)


class CatalogueDirectory:
    """The catalogues of 急需紧缺 posts (their entries are demand entries)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def list(self) -> list[dict[str, Any]]:
        return self._store.list_catalogues()
