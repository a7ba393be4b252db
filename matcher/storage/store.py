"""The database: the source of truth. SQLite (WAL) embedded by default, PostgreSQL by URL.

Every write runs in one transaction and is acknowledged only after it commits; a failure
rolls the whole write back, so nothing is half-written.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextlib import nullcontext as _nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import (
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import matcher.storage.tables  # noqa: F401,E402 - every table is declared before create_all
from matcher.core.errors import Conflict, InvalidInput, NotFound
from matcher.domain.auth import OPERATOR, Principal, Role, key_matches, new_key, parse_key
from matcher.domain.schemas import (
    Catalogue,
    DemandEntry,
    Enterprise,
    IndustryChain,
    TalentProfile,
    validate_stored,
)
from matcher.storage.audit import write_audit  # noqa: E402
from matcher.storage.tables import (  # noqa: F401 - rows are named here for the repositories
    ApiKeyRow,
    AuditRow,
    Base,
    CatalogueRow,
    ChainRow,
    DemandRow,
    EmbeddingRow,
    EnterpriseRow,
    MetaRow,
    RecordColumns,
    TalentRow,
    WebSessionRow,
    as_aware,
    utc_now,
)

SCHEMA_VERSION = 1

# -- who owns an external id -----------------------------------------------------------------------
# An external id (编号: a registration number, a student number, a post code from another system) is
# set by whoever creates the record, and it means something only in that party's numbering. Each
# record keeps the owner of its external id beside it; importers and fairs look external ids up
# only in their own scope, and uniqueness is per owner.
#
# STAFF_SCOPE is the bureau's register: administrators, fair organisers and the local operator
# (CLI imports, the demo loader). They share one numbering on purpose: organisers already read and
# write every profile, and a fair is expected to reuse the profiles the bureau loaded. Seekers and
# enterprises cannot set external ids through the API; a record whose external id one of them set
# (before the API refused it, or by any other path) is owned by that party alone
# (``seeker:<key id>``, ``enterprise:<enterprise id>``), so it never captures a staff import.
STAFF_SCOPE = "staff"
LEGACY_SCOPE = "unverified"  # backfilled rows whose external id a seeker or an enterprise may have set


def external_scope(actor: Principal | None) -> str:
    """The numbering an actor's external ids belong to."""
    actor = actor or OPERATOR
    if actor.role == Role.SEEKER:
        return f"seeker:{actor.key_id}"
    if actor.role == Role.ENTERPRISE:
        return f"enterprise:{actor.enterprise_id}"
    return STAFF_SCOPE  # admin, organiser, the local operator


def _pack(v: np.ndarray) -> bytes:
    return np.asarray(v, dtype="<f4").tobytes()


def _unpack(b: bytes, dim: int) -> np.ndarray:
    if len(b) != dim * 4:
        raise ValueError(f"stored vector has {len(b)} bytes, expected {dim * 4}")
    return np.frombuffer(b, dtype="<f4").astype(np.float32)


# The demand and talent sides share one row layout; these tables name the differences.
_SIDE = {"demand": DemandRow, "talent": TalentRow}


def _demand_columns(e: DemandEntry) -> dict[str, Any]:
    return {
        "enterprise_id": e.enterprise_id,
        "catalogue_id": e.catalogue_id,
        "title": e.title,
        "occupation_code": e.occupation_code,
        "chain_id": e.chain_id,
        "source": e.source,
        "fresh_graduates_ok": e.fresh_graduates_ok,
        "headcount": e.headcount,
        "shortage_level": e.shortage_level,
        "valid_until": e.valid_until,
    }


def _talent_columns(t: TalentProfile) -> dict[str, Any]:
    return {
        "consent": t.consent,
        "fresh_graduate": t.fresh_graduate,
        "experience_years": t.experience_years,
    }


def _common_columns(m: DemandEntry | TalentProfile, text: str, text_hash: str, province: str | None) -> dict[str, Any]:
    return {
        "external_id": m.external_id,
        "status": m.status,
        "city": m.city,
        "province": province,
        "education_rank": m.education.rank if m.education is not None else None,
        "salary_min": m.salary_min,
        "salary_max": m.salary_max,
        "data": m.model_dump(mode="json", exclude={"id"}),
        "text": text,
        "text_hash": text_hash,
    }


def _to_model(kind: str, row: RecordColumns) -> DemandEntry | TalentProfile:
    data = dict(row.data)
    data["id"] = row.id
    if kind == "demand":
        data["enterprise_id"] = row.enterprise_id  # type: ignore[attr-defined]
        data["catalogue_id"] = row.catalogue_id  # type: ignore[attr-defined]
        return validate_stored(DemandEntry, data)  # type: ignore[return-value]
    return validate_stored(TalentProfile, data)  # type: ignore[return-value]


class StoredRecord:
    """A model to write with its canonical text, text hash and province."""

    __slots__ = ("model", "text", "text_hash", "province")

    def __init__(self, model: DemandEntry | TalentProfile, text: str, text_hash: str, province: str | None) -> None:
        self.model = model
        self.text = text
        self.text_hash = text_hash
        self.province = province


class Store:
    """Typed access to the database. Thread-safe: one short session per call."""

    def __init__(self, url: str, *, engine: Engine | None = None, create: bool = True) -> None:
        self.url = url
        if engine is None:
            engine = self._make_engine(url)
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        if create:
            self.create_schema()

    @staticmethod
    def _make_engine(url: str) -> Engine:
        if url.startswith("sqlite"):
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            return engine
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return create_engine(url, pool_pre_ping=True)

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)
        self._add_external_owner()
        with self.session() as s:
            if s.get(MetaRow, "schema_version") is None:
                s.add(MetaRow(key="schema_version", value=str(SCHEMA_VERSION)))

    def _add_external_owner(self) -> None:
        """Bring a database made before external ids had owners up to date (additive: a column,
        a backfill and an index; create_all does not add columns to existing tables).

        Existing external ids go to the staff numbering, except those of records that a seeker
        or an enterprise created or changed (by the audit log): they may have set the id
        themselves, so they are marked unverified and no import matches them until staff set the
        id again. On PostgreSQL the old database-wide uniqueness is replaced by uniqueness per
        owner; SQLite cannot drop it without rebuilding the table, so there an external id stays
        unique across owners (a clash is a plain 409)."""
        from sqlalchemy import String as _String
        from sqlalchemy import cast, exists, inspect, text

        for row_cls, resource in ((TalentRow, "talent"), (DemandRow, "demand")):
            table = row_cls.__tablename__
            if "external_owner" in {c["name"] for c in inspect(self.engine).get_columns(table)}:
                continue
            with self.engine.begin() as c:
                c.execute(text(f"ALTER TABLE {table} ADD COLUMN external_owner VARCHAR(64)"))
                if self.engine.dialect.name == "postgresql":
                    c.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_external_id_key"))
                touched = exists().where(
                    AuditRow.resource == resource, AuditRow.resource_id == cast(row_cls.id, _String),
                    AuditRow.action.in_(("create", "update")), AuditRow.actor_role.in_(("seeker", "enterprise")))
                pending = (row_cls.external_id.is_not(None), row_cls.external_owner.is_(None))
                c.execute(update(row_cls).where(*pending, ~touched).values(external_owner=STAFF_SCOPE))
                c.execute(update(row_cls).where(*pending).values(external_owner=LEGACY_SCOPE))
                c.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{table}_external "
                               f"ON {table} (external_owner, external_id)"))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commits on success, rolls back on any error."""
        with self._sessions() as s, s.begin():
            yield s

    def ping(self) -> bool:
        try:
            with self.engine.connect() as c:
                c.exec_driver_sql("SELECT 1")
            return True
        except OperationalError:
            return False

    def close(self) -> None:
        self.engine.dispose()

    # -- chains ------------------------------------------------------------------------

    def replace_registry(self, registry: str, chains: Sequence[IndustryChain], actor: Principal | None = None) -> int:
        with self.session() as s:
            s.execute(delete(ChainRow).where(ChainRow.registry_name == registry))
            for c in chains:
                s.add(ChainRow(id=c.id, name=c.name, region=c.region, registry_name=registry,
                               keywords=list(c.keywords), parent_sector=c.parent_sector))
            if actor is not None:  # reference data loaded at start-up is not a change to log
                self._audit(s, actor, "update", "chain_registry", [registry], {"chains": len(chains)})
        return len(chains)

    def list_chains(self, region: str | None = None) -> list[IndustryChain]:
        with self.session() as s:
            q = select(ChainRow).order_by(ChainRow.registry_name, ChainRow.id)
            if region:
                q = q.where((ChainRow.region == region) | (ChainRow.registry_name == region))
            return [
                validate_stored(IndustryChain, {  # type: ignore[misc]
                    "id": r.id, "name": r.name, "region": r.region, "keywords": list(r.keywords or []),
                    "parent_sector": r.parent_sector})
                for r in s.scalars(q)
            ]

    # -- audit log -----------------------------------------------------------------------

    @staticmethod
    def _audit(s: Session, actor: Principal | None, action: str, resource: str, ids: Sequence[Any],
               detail: dict[str, Any] | None = None) -> None:
        write_audit(s, actor, action, resource, ids, detail)

    def audit(self, actor: Principal | None, action: str, resource: str, ids: Sequence[Any],
              detail: dict[str, Any] | None = None) -> None:
        """Record reads of personal data (writes record themselves, in their own transaction)."""
        if ids:
            with self.session() as s:
                self._audit(s, actor, action, resource, ids, detail)

    def list_audit(self, *, offset: int = 0, limit: int = 50, **filters: Any) -> tuple[list[dict[str, Any]], int]:
        conds = []
        for key, value in filters.items():
            if value is None:
                continue
            col = getattr(AuditRow, key, None)
            if col is None:
                raise InvalidInput(f"不支持的筛选字段：{key}")
            conds.append(col == (str(value) if key == "resource_id" else value))
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(AuditRow).where(*conds)) or 0
            q = select(AuditRow).where(*conds).order_by(AuditRow.id.desc()).offset(offset).limit(limit)
            items = [{"id": r.id, "at": r.at.isoformat(), "actor_key_id": r.actor_key_id,
                      "actor_role": r.actor_role, "actor_label": r.actor_label, "action": r.action,
                      "resource": r.resource, "resource_id": r.resource_id, "detail": r.detail or {}}
                     for r in s.scalars(q)]
            return items, total

    # -- API keys ------------------------------------------------------------------------

    @staticmethod
    def _key_info(r: ApiKeyRow) -> dict[str, Any]:
        return {"id": r.id, "prefix": r.prefix, "role": r.role, "enterprise_id": r.enterprise_id,
                "talent_id": r.talent_id, "label": r.label, "created_at": r.created_at.isoformat(),
                "revoked": r.revoked_at is not None}

    def create_key(self, role: Role | str, *, enterprise_id: int | None = None, talent_id: int | None = None,
                   label: str = "", actor: Principal | None = None) -> tuple[str, dict[str, Any]]:
        """A new key for a role and scope; returns (plain key, shown once; key info)."""
        try:
            role = Role(role)
        except ValueError:
            raise InvalidInput(f"未知角色：{role}（可选：{'、'.join(r.value for r in Role)}）") from None
        if enterprise_id is not None and role != Role.ENTERPRISE:
            raise InvalidInput("只有 enterprise 角色的密钥可以绑定企业")
        if talent_id is not None and role != Role.SEEKER:
            raise InvalidInput("只有 seeker 角色的密钥可以绑定人才档案")
        key, prefix, key_hash = new_key()
        with self.session() as s:
            if enterprise_id is not None and s.get(EnterpriseRow, enterprise_id) is None:
                raise NotFound(f"企业 {enterprise_id} 不存在")
            if talent_id is not None and s.get(TalentRow, talent_id) is None:
                raise NotFound(f"人才档案 {talent_id} 不存在")
            row = ApiKeyRow(prefix=prefix, key_hash=key_hash, role=role.value, enterprise_id=enterprise_id,
                            talent_id=talent_id, label=label[:200])
            s.add(row)
            s.flush()
            self._audit(s, actor, "create", "api_key", [row.id], {"role": role.value})
            return key, self._key_info(row)

    def authenticate(self, key: str) -> Principal | None:
        """The principal of a valid, unrevoked key, else None."""
        prefix = parse_key(key)
        if prefix is None:
            return None
        with self.session() as s:
            row = s.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
            if row is None or row.revoked_at is not None or not key_matches(key, row.key_hash):
                return None
            return Principal(role=Role(row.role), key_id=row.id, enterprise_id=row.enterprise_id,
                             talent_id=row.talent_id, label=row.label)

    def list_keys(self, *, include_revoked: bool = False) -> list[dict[str, Any]]:
        with self.session() as s:
            q = select(ApiKeyRow).order_by(ApiKeyRow.id)
            if not include_revoked:
                q = q.where(ApiKeyRow.revoked_at.is_(None))
            return [self._key_info(r) for r in s.scalars(q)]

    def revoke_key(self, key_id: int, actor: Principal | None = None) -> None:
        with self.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                raise NotFound(f"密钥 {key_id} 不存在或已吊销")
            row.revoked_at = utc_now()
            self._audit(s, actor, "revoke", "api_key", [key_id])

    # -- web sessions --------------------------------------------------------------------

    def create_web_session(self, key: str, hours: float = 12.0) -> tuple[str, str, Principal] | None:
        """Sign a browser in with an API key: (session token, CSRF token, principal), or None
        for an invalid key. The key itself is never kept by the browser."""
        who = self.authenticate(key)
        if who is None or who.key_id is None:
            return None
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.session() as s:
            s.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < utc_now()))
            s.add(WebSessionRow(token_hash=hashlib.sha256(token.encode()).hexdigest(), key_id=who.key_id,
                                csrf=csrf, expires_at=utc_now() + timedelta(hours=hours)))
        return token, csrf, who

    def web_session(self, token: str) -> tuple[Principal, str] | None:
        """The principal and CSRF token of a live session whose key is still valid."""
        if not token or len(token) > 100:
            return None
        with self.session() as s:
            row = s.get(WebSessionRow, hashlib.sha256(token.encode()).hexdigest())
            if row is None or as_aware(row.expires_at) < utc_now():
                return None
            key = s.get(ApiKeyRow, row.key_id)
            if key is None or key.revoked_at is not None:
                return None
            return (Principal(role=Role(key.role), key_id=key.id, enterprise_id=key.enterprise_id,
                              talent_id=key.talent_id, label=key.label), row.csrf)

    def end_web_session(self, token: str) -> None:
        with self.session() as s:
            s.execute(delete(WebSessionRow).where(
                WebSessionRow.token_hash == hashlib.sha256(token.encode()).hexdigest()))

    @staticmethod
    def _bind(s: Session, key_id: int, **scope: int) -> None:
        """Bind an unbound key to the enterprise or profile it just created (same transaction)."""
        (col, value), = scope.items()
        done = s.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id, getattr(ApiKeyRow, col).is_(None))
                         .values({col: value}))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("该密钥已绑定，不能再创建" + ("企业" if col == "enterprise_id" else "人才档案"))

    # -- enterprises -------------------------------------------------------------------

    @staticmethod
    def _enterprise_model(r: EnterpriseRow) -> Enterprise:
        return validate_stored(Enterprise, {  # type: ignore[return-value]
            "id": r.id, "name": r.name, "credit_code": r.credit_code, "city": r.city, "chain_id": r.chain_id,
            "description": r.description or ""})

    def add_enterprise(self, e: Enterprise, actor: Principal | None = None, bind_key: int | None = None) -> Enterprise:
        try:
            with self.session() as s:
                row = EnterpriseRow(**e.model_dump(exclude={"id"}))
                s.add(row)
                s.flush()
                if bind_key is not None:
                    self._bind(s, bind_key, enterprise_id=row.id)
                self._audit(s, actor, "create", "enterprise", [row.id])
                return self._enterprise_model(row)
        except IntegrityError as exc:
            raise Conflict(f"企业“{e.name}”已存在") from exc

    def update_enterprise(self, enterprise_id: int, e: Enterprise, actor: Principal | None = None) -> Enterprise:
        try:
            with self.session() as s:
                row = s.get(EnterpriseRow, enterprise_id)
                if row is None:
                    raise NotFound(f"企业 {enterprise_id} 不存在")
                for k, v in e.model_dump(exclude={"id"}).items():
                    setattr(row, k, v)
                s.flush()
                self._audit(s, actor, "update", "enterprise", [enterprise_id])
                return self._enterprise_model(row)
        except IntegrityError as exc:
            raise Conflict(f"企业“{e.name}”已存在") from exc

    def get_enterprise(self, enterprise_id: int) -> Enterprise:
        with self.session() as s:
            row = s.get(EnterpriseRow, enterprise_id)
            if row is None:
                raise NotFound(f"企业 {enterprise_id} 不存在")
            return self._enterprise_model(row)

    def list_enterprises(self, offset: int = 0, limit: int = 50) -> list[Enterprise]:
        with self.session() as s:
            q = select(EnterpriseRow).order_by(EnterpriseRow.id).offset(offset).limit(limit)
            return [self._enterprise_model(r) for r in s.scalars(q)]

    def count_enterprises(self) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(EnterpriseRow)) or 0

    def enterprise_names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        with self.session() as s:
            q = select(EnterpriseRow.id, EnterpriseRow.name).where(EnterpriseRow.id.in_(list(ids)))
            return {i: n for i, n in s.execute(q)}

    @staticmethod
    def _enterprise_id(s: Session, entry: DemandEntry, cache: dict[str, int]) -> int | None:
        if entry.enterprise_id is not None:
            if s.get(EnterpriseRow, entry.enterprise_id) is None:
                raise NotFound(f"企业 {entry.enterprise_id} 不存在")
            return entry.enterprise_id
        name = entry.enterprise_name
        if not name:
            return None
        if name in cache:
            return cache[name]
        found = s.scalar(select(EnterpriseRow.id).where(EnterpriseRow.name == name))
        if found is None:
            row = EnterpriseRow(name=name, city=entry.city, chain_id=entry.chain_id)
            s.add(row)
            s.flush()
            found = row.id
        cache[name] = found
        return found

    # -- catalogues --------------------------------------------------------------------

    def add_catalogue(self, cat: Catalogue, records: Sequence[StoredRecord],
                      actor: Principal | None = None) -> tuple[int, list[int]]:
        """The catalogue and its entries, in one transaction; returns (catalogue id, entry ids)."""
        try:
            with self.session() as s:
                row = CatalogueRow(region=cat.region, year=cat.year, name=cat.name or "",
                                   chain_registry=cat.chain_registry)
                s.add(row)
                s.flush()
                for rec in records:
                    assert isinstance(rec.model, DemandEntry)
                    rec.model = rec.model.model_copy(update={"catalogue_id": row.id, "source": "catalogue"})
                ids = self.insert_records(s, "demand", records, actor)
                self._audit(s, actor, "create", "catalogue", [row.id], {"entries": len(ids)})
                self._audit(s, actor, "create", "demand", ids)
                return row.id, ids
        except IntegrityError as exc:
            raise Conflict(f"{cat.region} {cat.year} 年目录“{cat.name or ''}”已存在，或条目的外部编号重复") from exc

    def get_catalogue(self, catalogue_id: int) -> Catalogue:
        with self.session() as s:
            row = s.get(CatalogueRow, catalogue_id)
            if row is None:
                raise NotFound(f"目录 {catalogue_id} 不存在")
            entries = s.scalars(select(DemandRow).where(DemandRow.catalogue_id == row.id).order_by(DemandRow.id))
            return Catalogue(id=row.id, region=row.region, year=row.year, name=row.name or None,
                             chain_registry=row.chain_registry,
                             entries=[_to_model("demand", e) for e in entries])  # type: ignore[misc]

    def list_catalogues(self) -> list[dict[str, Any]]:
        with self.session() as s:
            q = (select(CatalogueRow, func.count(DemandRow.id))
                 .outerjoin(DemandRow, DemandRow.catalogue_id == CatalogueRow.id)
                 .group_by(CatalogueRow.id).order_by(CatalogueRow.region, CatalogueRow.year))
            return [{"id": c.id, "region": c.region, "year": c.year, "name": c.name,
                     "chain_registry": c.chain_registry, "entries": n} for c, n in s.execute(q)]

    # -- demand entries and talents ----------------------------------------------------

    def taken_external_ids(self, kind: str, external_ids: Sequence[str], scope: str,
                           s: Session | None = None) -> dict[str, int]:
        """Stored ids by external id, among ``external_ids`` in the numbering ``scope`` only."""
        row_cls = _SIDE[kind]
        wanted = list(dict.fromkeys(e for e in external_ids if e))
        out: dict[str, int] = {}
        if not wanted:
            return out
        with (self.session() if s is None else _nullcontext(s)) as ss:
            for start in range(0, len(wanted), 900):
                q = select(row_cls.external_id, row_cls.id).where(
                    row_cls.external_owner == scope, row_cls.external_id.in_(wanted[start : start + 900]))
                out.update({e: i for e, i in ss.execute(q)})
        return out

    def _check_external(self, s: Session, kind: str, external_ids: Sequence[str | None], scope: str,
                        exclude: int | None = None) -> None:
        """Conflict if an external id repeats, or is already used in the scope (by another record)."""
        given = [e for e in external_ids if e]
        counts = Counter(given)
        repeated = [e for e, n in counts.items() if n > 1]
        taken = [e for e, i in self.taken_external_ids(kind, given, scope, s).items() if i != exclude]
        clash = list(dict.fromkeys(repeated + taken))
        if clash:
            shown = "、".join(f"“{e}”" for e in clash[:5]) + (" 等" if len(clash) > 5 else "")
            raise Conflict(f"外部编号 {shown} 已被使用，请换用其他编号")

    def insert_records(self, s: Session, kind: str, records: Sequence[StoredRecord],
                       actor: Principal | None = None) -> list[int]:
        """Insert records in the caller's session (its unit of work); their external ids belong to the
        actor's numbering (checked first)."""
        row_cls = _SIDE[kind]
        scope = external_scope(actor)
        self._check_external(s, kind, [rec.model.external_id for rec in records], scope)
        ids: list[int] = []
        cache: dict[str, int] = {}
        for rec in records:
            m = rec.model
            if isinstance(m, DemandEntry):
                m = m.model_copy(update={"enterprise_id": self._enterprise_id(s, m, cache)})
                extra = _demand_columns(m)
            else:
                extra = _talent_columns(m)  # type: ignore[arg-type]
            row = row_cls(**_common_columns(m, rec.text, rec.text_hash, rec.province), **extra,
                          external_owner=scope if m.external_id else None)
            s.add(row)
            s.flush()
            ids.append(row.id)
        return ids

    def add(self, kind: str, records: Sequence[StoredRecord], actor: Principal | None = None,
            bind_key: int | None = None) -> list[int]:
        """Insert records of one side in one transaction; returns their new ids. ``bind_key``
        binds an unbound seeker key to the profile it creates, in the same transaction."""
        try:
            with self.session() as s:
                ids = self.insert_records(s, kind, records, actor)
                if bind_key is not None:
                    self._bind(s, bind_key, talent_id=ids[0])
                self._audit(s, actor, "create", kind, ids)
                return ids
        except IntegrityError as exc:  # a race with another writer: never echo the database's message
            raise Conflict("写入失败：外部编号重复或引用的记录不存在，请检查后重试") from exc

    def update(self, kind: str, record_id: int, rec: StoredRecord, actor: Principal | None = None, *,
               claim_external: bool = False) -> None:
        """Replace a record. Its external id keeps its owner unless it changes (or ``claim_external``:
        staff confirm an external id they sent), when it passes to the actor's numbering."""
        row_cls = _SIDE[kind]
        try:
            with self.session() as s:
                row = s.get(row_cls, record_id)
                if row is None:
                    raise NotFound(f"{_LABEL[kind]} {record_id} 不存在")
                m = rec.model
                owner = row.external_owner
                if not m.external_id:
                    owner = None
                elif m.external_id != row.external_id or claim_external or owner is None:
                    owner = external_scope(actor)
                    self._check_external(s, kind, [m.external_id], owner, exclude=record_id)
                row.external_owner = owner
                if isinstance(m, DemandEntry):
                    m = m.model_copy(update={
                        "enterprise_id": self._enterprise_id(s, m, {}),
                        "catalogue_id": row.catalogue_id,  # type: ignore[attr-defined]
                    })
                    extra = _demand_columns(m)
                else:
                    extra = _talent_columns(m)  # type: ignore[arg-type]
                for k, v in {**_common_columns(m, rec.text, rec.text_hash, rec.province), **extra}.items():
                    setattr(row, k, v)
                self._audit(s, actor, "update", kind, [record_id])
        except IntegrityError as exc:  # a race with another writer: never echo the database's message
            raise Conflict("更新失败：外部编号重复或引用的记录不存在，请检查后重试") from exc

    def delete(self, kind: str, record_id: int, actor: Principal | None = None) -> None:
        with self.session() as s:
            row = s.get(_SIDE[kind], record_id)
            if row is None:
                raise NotFound(f"{_LABEL[kind]} {record_id} 不存在")
            s.delete(row)
            self._audit(s, actor, "delete", kind, [record_id])

    def get(self, kind: str, record_id: int) -> DemandEntry | TalentProfile:
        with self.session() as s:
            row = s.get(_SIDE[kind], record_id)
            if row is None:
                raise NotFound(f"{_LABEL[kind]} {record_id} 不存在")
            return _to_model(kind, row)

    def get_many(self, kind: str, ids: Sequence[int]) -> dict[int, Any]:
        row_cls = _SIDE[kind]
        out: dict[int, Any] = {}
        ids = list(ids)
        with self.session() as s:
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                for row in s.scalars(select(row_cls).where(row_cls.id.in_(chunk))):
                    out[row.id] = _to_model(kind, row)
        return out

    def list(self, kind: str, *, offset: int = 0, limit: int = 50, **filters: Any) -> tuple[list[Any], int]:
        """A page of records and the total count, filtered by equality on indexed columns."""
        row_cls = _SIDE[kind]
        conds = []
        for key, value in filters.items():
            if value is None:
                continue
            col = getattr(row_cls, key, None)
            if col is None:
                raise InvalidInput(f"不支持的筛选字段：{key}")
            conds.append(col == value)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(row_cls).where(*conds)) or 0
            q = select(row_cls).where(*conds).order_by(row_cls.id).offset(offset).limit(limit)
            return [_to_model(kind, r) for r in s.scalars(q)], total

    def count(self, kind: str) -> int:
        with self.session() as s:
            return s.scalar(select(func.count()).select_from(_SIDE[kind])) or 0

    def text_hashes(self, kind: str, status: str | None = None) -> dict[int, str]:
        """id -> canonical text hash of the records of a side (for index reconciliation)."""
        row_cls = _SIDE[kind]
        q = select(row_cls.id, row_cls.text_hash)
        if status is not None:
            q = q.where(row_cls.status == status)
        with self.session() as s:
            return {i: h for i, h in s.execute(q)}

    def texts(self, kind: str, ids: Sequence[int] | None = None) -> dict[int, str]:
        row_cls = _SIDE[kind]
        with self.session() as s:
            q = select(row_cls.id, row_cls.text)
            if ids is not None:
                out: dict[int, str] = {}
                ids = list(ids)
                for start in range(0, len(ids), 900):
                    out.update({i: t for i, t in s.execute(q.where(row_cls.id.in_(ids[start : start + 900])))})
                return out
            return {i: t for i, t in s.execute(q)}

    # -- the embedding cache (models.encoders.VectorCache) ------------------------------

    def get_many_vectors(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        hashes = list(hashes)
        with self.session() as s:
            for start in range(0, len(hashes), 900):
                chunk = hashes[start : start + 900]
                q = select(EmbeddingRow).where(EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(chunk))
                for row in s.scalars(q):
                    try:
                        out[row.text_hash] = _unpack(row.vector, row.dim)
                    except ValueError:
                        continue  # a damaged cache line is re-encoded
        return out

    def put_many_vectors(self, model: str, items: dict[str, np.ndarray]) -> None:
        if not items:
            return
        with self.session() as s:
            existing = set(s.scalars(select(EmbeddingRow.text_hash).where(
                EmbeddingRow.model == model, EmbeddingRow.text_hash.in_(list(items)))))
            for h, v in items.items():
                if h not in existing:
                    s.add(EmbeddingRow(model=model, text_hash=h, dim=int(v.shape[0]), vector=_pack(v)))


class StoreVectorCache:
    """Adapter: the store's embedding table as a models.encoders.VectorCache."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_many(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        return self.store.get_many_vectors(model, hashes)

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        self.store.put_many_vectors(model, items)


_LABEL = {"demand": "需求条目", "talent": "人才档案"}

__all__ = ["Store", "StoredRecord", "StoreVectorCache"]
