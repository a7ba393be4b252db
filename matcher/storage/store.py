"""The database: the source of truth. SQLite (WAL) embedded by default, PostgreSQL by URL.

``Store`` is the facade the service, the API and the pages use: every method is one unit of work
(a session, one transaction) that delegates to the repositories of this package, which take the
session: ``records`` (demand entries and talents), ``accounts`` (API keys, web sessions),
``organisations`` (enterprises, catalogues, chain registries), ``vectors`` (the embedding cache)
and ``audit``. A write is acknowledged only after it commits; a failure rolls the whole write
back, so nothing is half-written. A caller that composes several writes opens its own unit of
work with :meth:`Store.session` and calls the repositories (or :meth:`Store.insert_records`).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from matcher.domain.auth import Principal, Role
from matcher.domain.schemas import Catalogue, DemandEntry, Enterprise, IndustryChain, TalentProfile
from matcher.storage.accounts import Accounts, authenticate_with, key_info, new_key_for
from matcher.storage.audit import audit_page, write_audit
from matcher.storage.changes import changes_since, last_change, listen_changes, prune_changes
from matcher.storage.engine import Database
from matcher.storage.organisations import Catalogues, ChainRegistries, Enterprises, enterprise_model
from matcher.storage.records import (  # noqa: F401 - StoredRecord and the scopes are the facade's names too
    LEGACY_SCOPE,
    STAFF_SCOPE,
    Records,
    StoredRecord,
    external_scope,
    get_many_unless,
    read_one,
)
from matcher.storage.vectors import StoreVectorCache, Vectors

__all__ = ["LEGACY_SCOPE", "STAFF_SCOPE", "Store", "StoreVectorCache", "StoredRecord", "external_scope"]

_WRITE_CONFLICT = "写入失败：外部编号重复或引用的记录不存在，请检查后重试"
_UPDATE_CONFLICT = "更新失败：外部编号重复或引用的记录不存在，请检查后重试"


class Store(Database):
    """Typed access to the database. Thread-safe: one short unit of work per call."""

    # -- chains ------------------------------------------------------------------------

    def replace_registry(self, registry: str, chains: Sequence[IndustryChain], actor: Principal | None = None) -> int:
        with self.session() as s:
            ChainRegistries(s).replace(registry, chains)
            if actor is not None:  # reference data loaded at start-up is not a change to log
                write_audit(s, actor, "update", "chain_registry", [registry], {"chains": len(chains)})
        return len(chains)

    def list_chains(self, region: str | None = None) -> list[IndustryChain]:
        with self.session() as s:
            return ChainRegistries(s).chains(region)

    # -- audit log -----------------------------------------------------------------------

    def audit(self, actor: Principal | None, action: str, resource: str, ids: Sequence[Any],
              detail: dict[str, Any] | None = None) -> None:
        """Record reads of personal data (writes record themselves, in their own transaction)."""
        if ids:
            with self.session() as s:
                write_audit(s, actor, action, resource, ids, detail)

    def list_audit(self, *, offset: int = 0, limit: int = 50, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        with self.session() as s:
            return audit_page(s, offset=offset, limit=limit, **filters)

    # -- API keys and web sessions -------------------------------------------------------

    def create_key(self, role: Role | str, *, enterprise_id: int | None = None, talent_id: int | None = None,
                   label: str = "", actor: Principal | None = None) -> tuple[str, dict[str, Any]]:
        """A new key for a role and scope; returns (plain key, shown once; key info)."""
        new = new_key_for(role, enterprise_id=enterprise_id, talent_id=talent_id, label=label)
        with self.session() as s:
            row = Accounts(s).add_key(new)
            write_audit(s, actor, "create", "api_key", [row.id], {"role": new.role.value})
            return new.key, key_info(row)

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key, else None (every request asks: one read,
        through :class:`~matcher.storage.hot.HotReads` on an SQLite file, else on a plain
        connection, no ORM session)."""
        if self.hot.enabled:
            return authenticate_with(key, self.hot.key_row)
        with self.engine.connect() as c:
            return Accounts(c).authenticate(key)  # type: ignore[arg-type]

    def list_keys(self, *, include_revoked: bool = False) -> list[dict[str, Any]]:
        with self.session() as s:
            return Accounts(s).list_keys(include_revoked=include_revoked)

    def revoke_key(self, key_id: int, actor: Principal | None = None) -> None:
        with self.session() as s:
            Accounts(s).revoke_key(key_id)
            write_audit(s, actor, "revoke", "api_key", [key_id])

    def create_web_session(self, key: str, hours: float = 12.0) -> tuple[str, str, Principal] | None:
        """Sign a browser in with an API key: (session token, CSRF token, principal), or None
        for an invalid key. The key itself is never kept by the browser."""
        who = self.authenticate(key)  # a unit of work of its own, as the write below
        if who is None or who.key_id is None:
            return None
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.session() as s:
            Accounts(s).add_web_session(token, csrf, who.key_id, hours)
        return token, csrf, who

    def web_session(self, token: str) -> tuple[Principal, str] | None:
        """The principal and CSRF token of a live session whose key is still valid."""
        if not token or len(token) > 100:
            return None
        with self.session() as s:
            return Accounts(s).web_session(token)

    def end_web_session(self, token: str) -> None:
        with self.session() as s:
            Accounts(s).end_web_session(token)

    # -- enterprises -------------------------------------------------------------------

    def add_enterprise(self, e: Enterprise, actor: Principal | None = None, bind_key: int | None = None) -> Enterprise:
        with self.writing(f"企业“{e.name}”已存在") as s:
            row = Enterprises(s).add(e)
            if bind_key is not None:
                Accounts(s).bind(bind_key, enterprise_id=row.id)
            write_audit(s, actor, "create", "enterprise", [row.id])
            return enterprise_model(row)

    def update_enterprise(self, enterprise_id: int, e: Enterprise, actor: Principal | None = None) -> Enterprise:
        return self.save_enterprise(enterprise_id, e, actor)[0]

    def save_enterprise(self, enterprise_id: int, e: Enterprise | Callable[[Enterprise], Enterprise],
                        actor: Principal | None = None, *, expected_version: int | None = None
                        ) -> tuple[Enterprise, int]:
        """Replace an enterprise, or apply ``e(current)`` to it, in one transaction holding its
        row; returns it and its new version (PreconditionFailed: see Enterprises.update)."""
        with self.writing("企业名称已被其他企业使用") as s:
            updated, version = Enterprises(s).update(enterprise_id, e, expected_version)
            write_audit(s, actor, "update", "enterprise", [enterprise_id])
            return updated, version

    def get_enterprise_versioned(self, enterprise_id: int) -> tuple[Enterprise, int]:
        with self.session() as s:
            return Enterprises(s).get_versioned(enterprise_id)

    def get_enterprise(self, enterprise_id: int) -> Enterprise:
        with self.session() as s:
            return Enterprises(s).get(enterprise_id)

    def list_enterprises(self, offset: int = 0, limit: int = 50) -> list[Enterprise]:
        with self.session() as s:
            return Enterprises(s).page(offset, limit)

    def count_enterprises(self) -> int:
        with self.session() as s:
            return Enterprises(s).count()

    def enterprise_names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        if self.hot.enabled:  # a seeker's every ranking asks (HotReads)
            return self.hot.enterprise_names(ids)
        with self.engine.connect() as c:  # one read: no ORM session (a ranking served asks each time)
            return Enterprises(c).names(ids)

    # -- catalogues --------------------------------------------------------------------

    def add_catalogue(self, cat: Catalogue, records: Sequence[StoredRecord],
                      actor: Principal | None = None) -> tuple[int, list[int]]:
        """The catalogue and its entries, in one transaction; returns (catalogue id, entry ids)."""
        conflict = f"{cat.region} {cat.year} 年目录“{cat.name or ''}”已存在，或条目的外部编号重复"
        with self.writing(conflict) as s:
            catalogue_id, ids = Catalogues(s).add(cat, records, actor)
            write_audit(s, actor, "create", "catalogue", [catalogue_id], {"entries": len(ids)})
            write_audit(s, actor, "create", "demand", ids)
            return catalogue_id, ids

    def replace_catalogue(self, old_id: int, cat: Catalogue, records: Sequence[StoredRecord],
                          actor: Principal | None = None) -> tuple[int, list[int], list[int]]:
        """Delete catalogue ``old_id`` with its entries and add ``cat`` with ``records``, in one
        transaction (on any failure the old catalogue stays whole); returns (new catalogue id,
        new entry ids, deleted entry ids)."""
        conflict = f"{cat.region} {cat.year} 年目录“{cat.name or ''}”已存在，或条目的外部编号重复"
        with self.writing(conflict) as s:
            catalogues = Catalogues(s)
            old_ids = catalogues.remove(old_id)
            catalogue_id, ids = catalogues.add(cat, records, actor)
            write_audit(s, actor, "delete", "demand", old_ids)
            write_audit(s, actor, "delete", "catalogue", [old_id], {"replaced_by": catalogue_id})
            write_audit(s, actor, "create", "catalogue", [catalogue_id], {"entries": len(ids), "replaces": old_id})
            write_audit(s, actor, "create", "demand", ids)
            return catalogue_id, ids, old_ids

    def get_catalogue(self, catalogue_id: int) -> Catalogue:
        with self.session() as s:
            return Catalogues(s).get(catalogue_id)

    def list_catalogues(self) -> list[dict[str, Any]]:
        with self.session() as s:
            return Catalogues(s).summaries()

    # -- demand entries and talents ----------------------------------------------------

    def taken_external_ids(self, kind: str, external_ids: Sequence[str], scope: str,
                           s: Session | None = None) -> dict[str, int]:
        """Stored ids by external id, among ``external_ids`` in the numbering ``scope`` only
        (in the session ``s`` when given)."""
        if s is not None:
            return Records(s).taken_external_ids(kind, external_ids, scope)
        if not any(external_ids):
            return {}
        with self.session() as ss:
            return Records(ss).taken_external_ids(kind, external_ids, scope)

    @staticmethod
    def insert_records(s: Session, kind: str, records: Sequence[StoredRecord],
                       actor: Principal | None = None) -> list[int]:
        """Insert records in the caller's session (its unit of work); their external ids belong to the
        actor's numbering (checked first)."""
        return Records(s).insert(kind, records, actor)

    def add(self, kind: str, records: Sequence[StoredRecord], actor: Principal | None = None,
            bind_key: int | None = None) -> list[int]:
        """Insert records of one side in one transaction; returns their new ids. ``bind_key``
        binds an unbound seeker key to the profile it creates, in the same transaction."""
        with self.writing(_WRITE_CONFLICT) as s:
            ids = Records(s).insert(kind, records, actor)
            if bind_key is not None:
                Accounts(s).bind(bind_key, talent_id=ids[0])
            write_audit(s, actor, "create", kind, ids)
            return ids

    def update(self, kind: str, record_id: int, rec: StoredRecord, actor: Principal | None = None, *,
               claim_external: bool = False, expected_version: int | None = None) -> tuple[Any, int]:
        """Replace a record; returns it as stored and its new version. Its external id keeps its owner unless it
        changes (or ``claim_external``: staff confirm an external id they sent), when it passes to
        the actor's numbering. PreconditionFailed when the stored version is not
        ``expected_version`` (the row is locked from the check to the commit)."""
        with self.writing(_UPDATE_CONFLICT) as s:
            records = Records(s)
            records.update(kind, record_id, rec, actor, claim_external=claim_external,
                           expected_version=expected_version)
            write_audit(s, actor, "update", kind, [record_id])
            s.flush()
            return records.get_versioned(kind, record_id)

    def get_versioned(self, kind: str, record_id: int) -> tuple[DemandEntry | TalentProfile, int]:
        """A record and its version, read together."""
        with self.session() as s:
            return Records(s).get_versioned(kind, record_id)

    def delete(self, kind: str, record_id: int, actor: Principal | None = None) -> None:
        with self.session(write=True) as s:
            Records(s).delete(kind, record_id)
            write_audit(s, actor, "delete", kind, [record_id])

    def get(self, kind: str, record_id: int) -> DemandEntry | TalentProfile:
        with self.engine.connect() as c:  # one read: no ORM session (every profile and match route asks)
            return read_one(c, kind, record_id)

    def get_many(self, kind: str, ids: Sequence[int]) -> dict[int, Any]:
        with self.session() as s:
            return Records(s).get_many(kind, ids)

    def get_many_unless(self, kind: str, ids: Sequence[int], have: Callable[[int, int], bool]
                        ) -> tuple[dict[int, int], dict[int, Any]]:
        """Versions of ``ids`` and the records ``have(id, version)`` lacks, in one transaction
        (``records.get_many_unless``), on a plain connection: no ORM session (every ranking asks)."""
        with self.engine.connect() as c:
            return get_many_unless(c, kind, ids, have)

    def versioned_after(self, kind: str, after: int, limit: int, status: str | None = None
                        ) -> list[tuple[int, int, Any]]:
        """(id, version, record) of up to ``limit`` records with an id above ``after`` (and
        ``status``), in id order (``Records.versioned_after``)."""
        with self.session() as s:
            return Records(s).versioned_after(kind, after, limit, status)

    def list(self, kind: str, *, offset: int = 0, limit: int = 50, **filters: Any) -> tuple[list[Any], int]:
        """A page of records and the total count, filtered by equality on indexed columns."""
        with self.session() as s:
            return Records(s).page(kind, offset=offset, limit=limit, **filters)

    def count(self, kind: str) -> int:
        with self.session() as s:
            return Records(s).count(kind)

    def text_hashes(self, kind: str, status: str | None = None) -> dict[int, str]:
        """id -> canonical text hash of the records of a side (for index reconciliation)."""
        with self.session() as s:
            return Records(s).text_hashes(kind, status)

    def text_hashes_of(self, kind: str, ids: Sequence[int], status: str | None = None) -> dict[int, str]:
        """id -> text hash of the records ``ids`` that exist (and have ``status``)."""
        with self.session() as s:
            return Records(s).text_hashes_of(kind, ids, status)

    # -- the change log (matcher.storage.changes) ----------------------------------------

    def last_change(self) -> int:
        if self.hot.enabled:  # every ranking asks (HotReads)
            return self.hot.last_change()
        with self.engine.connect() as c:  # one read: no ORM session
            return last_change(c)

    def changes_since(self, after: int, also: Sequence[int] = ()) -> list[tuple[int, str, int]]:
        with self.session() as s:
            return changes_since(s, after, also)

    def listen_changes(self, wake: Callable[[], None], stop: threading.Event) -> bool:
        """See ``matcher.storage.changes.listen_changes`` (PostgreSQL LISTEN/NOTIFY)."""
        return listen_changes(self.engine, wake, stop)

    def prune_changes(self) -> int:
        with self.session(write=True) as s:
            return prune_changes(s)

    def texts(self, kind: str, ids: Sequence[int] | None = None) -> dict[int, str]:
        with self.session() as s:
            return Records(s).texts(kind, ids)

    # -- the embedding cache (models.encoders.VectorCache) ------------------------------

    def get_many_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        with self.session() as s:
            return Vectors(s).get_many(model, hashes)

    def put_many_vectors(self, model: str, items: dict[str, np.ndarray]) -> None:
        if not items:
            return
        with self.session() as s:
            Vectors(s).put_many(model, items)
