"""Demand entries and talent profiles in a session: their columns, the owners of their external
ids, and the reads and writes of one side (``demand`` or ``talent``).

The two sides share one row layout (``RecordColumns``); ``ROWS`` and ``LABELS`` name the
differences.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from matcher.core.errors import Conflict, NotFound, PreconditionFailed
from matcher.domain.auth import OPERATOR, Principal, Role
from matcher.domain.schemas import DemandEntry, TalentProfile, validate_stored
from matcher.storage.changes import log_created
from matcher.storage.lookup import equality_filters, get_row
from matcher.storage.tables import DemandRow, EnterpriseRow, RecordColumns, TalentRow, utc_now

__all__ = [
    "LABELS",
    "LEGACY_SCOPE",
    "ROWS",
    "STAFF_SCOPE",
    "Records",
    "StoredRecord",
    "check_version",
    "common_columns",
    "demand_columns",
    "external_scope",
    "talent_columns",
    "to_model",
]

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


# -- the row layout of the two sides -----------------------------------------------------------------

ROWS: dict[str, type[DemandRow] | type[TalentRow]] = {"demand": DemandRow, "talent": TalentRow}
LABELS = {"demand": "需求条目", "talent": "人才档案", "enterprise": "企业"}
BATCH = 900  # ids in one IN (...): below SQLite's bound on parameters


def demand_columns(e: DemandEntry) -> dict[str, Any]:
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


def talent_columns(t: TalentProfile) -> dict[str, Any]:
    return {
        "consent": t.consent,
        "fresh_graduate": t.fresh_graduate,
        "experience_years": t.experience_years,
    }


def common_columns(m: DemandEntry | TalentProfile, text: str, text_hash: str, province: str | None) -> dict[str, Any]:
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


def to_model(kind: str, row: RecordColumns) -> DemandEntry | TalentProfile:
    data = dict(row.data)
    data["id"] = row.id
    if kind == "demand":
        data["enterprise_id"] = row.enterprise_id  # type: ignore[attr-defined]
        data["catalogue_id"] = row.catalogue_id  # type: ignore[attr-defined]
        return validate_stored(DemandEntry, data)  # type: ignore[return-value]
    return validate_stored(TalentProfile, data)  # type: ignore[return-value]


def _model_columns(kind: str) -> list[Any]:
    """The columns :func:`to_model` reads (with the version), not the whole row."""
    row_cls = ROWS[kind]
    cols: list[Any] = [row_cls.id, row_cls.version, row_cls.data]
    if kind == "demand":
        cols += [DemandRow.enterprise_id, DemandRow.catalogue_id]
    return cols


_READ_ONE: dict[str, Any] = {}


def read_one(conn: Connection, kind: str, record_id: int) -> DemandEntry | TalentProfile:
    """A stored record by id, read with only the columns a model needs in one statement (a plain
    connection will do: no ORM session); NotFound "<label> <id> 不存在" if there is none."""
    stmt = _READ_ONE.get(kind)
    if stmt is None:
        stmt = _READ_ONE[kind] = select(*_model_columns(kind)).where(ROWS[kind].id == bindparam("id"))
    row = conn.execute(stmt, {"id": record_id}).first()
    if row is None:
        raise NotFound(f"{LABELS[kind]} {record_id} 不存在")
    return to_model(kind, row)


def sqlite_versions_sql(kind: str, n: int) -> str:
    """SQLite's statement of the versions of ``n`` ids (``?`` parameters), from the index."""
    table = ROWS[kind].__tablename__
    return f"SELECT id, version FROM {table} INDEXED BY ix_{table}_id_version WHERE id IN ({','.join('?' * n)})"


def _versions_reader(conn: Connection, kind: str) -> Callable[[list[int]], Any]:
    """``ids -> rows (id, version)`` on the connection, answered from the index on (id, version):
    SQLite's planner looks rows up by rowid (reading each row's overflow pages up to its version,
    several times slower) unless told to use the index; the statement goes to the driver as it
    is (a ranking asks for 200 ids on every call)."""
    if conn.dialect.name == "sqlite":
        return lambda ids: conn.exec_driver_sql(sqlite_versions_sql(kind, len(ids)), tuple(ids)) if ids else ()
    row_cls = ROWS[kind]
    return lambda ids: conn.execute(select(row_cls.id, row_cls.version).where(row_cls.id.in_(ids)))


def get_many_unless(conn: Connection, kind: str, ids: Sequence[int], have: Callable[[int, int], bool]
                    ) -> tuple[dict[int, int], dict[int, Any]]:
    """The version of every record of ``ids`` there is, and the records whose (id, version)
    ``have`` does not hold (read with only the columns a model needs), in the connection's one
    transaction: a caller keeping records by version fetches only what changed."""
    row_cls = ROWS[kind]
    versions: dict[int, int] = {}
    ids = list(ids)
    read = _versions_reader(conn, kind)
    for start in range(0, len(ids), BATCH):
        versions.update((int(i), int(v)) for i, v in read(ids[start : start + BATCH]))
    missing = [i for i, v in versions.items() if not have(i, v)]
    cols = _model_columns(kind)
    out: dict[int, Any] = {}
    for start in range(0, len(missing), BATCH):
        chunk = missing[start : start + BATCH]
        for row in conn.execute(select(*cols).where(row_cls.id.in_(chunk))):
            versions[row.id] = row.version  # changed since the first read: this is what we have
            out[row.id] = to_model(kind, row)
    return versions, out


def check_version(kind: str, record_id: int, version: int, expected: int | None) -> None:
    if expected is not None and version != expected:
        raise PreconditionFailed(f"{LABELS.get(kind, kind)} {record_id} 已被他人修改（您看到的是第 {expected} 版，"
                                 f"现在是第 {version} 版），请重新打开后再修改")


class StoredRecord:
    """A model to write with its canonical text, text hash and province."""

    __slots__ = ("model", "text", "text_hash", "province")

    def __init__(self, model: DemandEntry | TalentProfile, text: str, text_hash: str, province: str | None) -> None:
        self.model = model
        self.text = text
        self.text_hash = text_hash
        self.province = province


class Records:
    """The records of both sides in the caller's session (its unit of work)."""

    def __init__(self, s: Session) -> None:
        self.s = s

    # -- external ids ------------------------------------------------------------------

    def taken_external_ids(self, kind: str, external_ids: Sequence[str], scope: str) -> dict[str, int]:
        """Stored ids by external id, among ``external_ids`` in the numbering ``scope`` only."""
        row_cls = ROWS[kind]
        wanted = list(dict.fromkeys(e for e in external_ids if e))
        out: dict[str, int] = {}
        for start in range(0, len(wanted), BATCH):
            q = select(row_cls.external_id, row_cls.id).where(
                row_cls.external_owner == scope, row_cls.external_id.in_(wanted[start : start + BATCH]))
            out.update({e: i for e, i in self.s.execute(q)})
        return out

    def check_external(self, kind: str, external_ids: Sequence[str | None], scope: str,
                       exclude: int | None = None) -> None:
        """Conflict if an external id repeats, or is already used in the scope (by another record)."""
        given = [e for e in external_ids if e]
        counts = Counter(given)
        repeated = [e for e, n in counts.items() if n > 1]
        taken = [e for e, i in self.taken_external_ids(kind, given, scope).items() if i != exclude]
        clash = list(dict.fromkeys(repeated + taken))
        if clash:
            shown = "、".join(f"“{e}”" for e in clash[:5]) + (" 等" if len(clash) > 5 else "")
            raise Conflict(f"外部编号 {shown} 已被使用，请换用其他编号")

    def enterprise_id(self, entry: DemandEntry, cache: dict[str, int]) -> int | None:
        """The enterprise of a demand entry: its id (checked), else the one of its name, created
        when the name is new (``cache`` remembers names within one write)."""
        s = self.s
        if entry.enterprise_id is not None:
            get_row(s, EnterpriseRow, entry.enterprise_id, "企业")
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

    def _columns(self, rec: StoredRecord, model: DemandEntry | TalentProfile) -> dict[str, Any]:
        extra = demand_columns(model) if isinstance(model, DemandEntry) else talent_columns(model)
        return {**common_columns(model, rec.text, rec.text_hash, rec.province), **extra}

    # -- writes ------------------------------------------------------------------------

    def insert(self, kind: str, records: Sequence[StoredRecord], actor: Principal | None = None) -> list[int]:
        """Insert records; their external ids belong to the actor's numbering (checked first)."""
        row_cls = ROWS[kind]
        scope = external_scope(actor)
        self.check_external(kind, [rec.model.external_id for rec in records], scope)
        rows = []
        cache: dict[str, int] = {}
        now = utc_now()
        for rec in records:
            m = rec.model
            if isinstance(m, DemandEntry):
                m = m.model_copy(update={"enterprise_id": self.enterprise_id(m, cache)})
            rows.append({**self._columns(rec, m), "external_owner": scope if m.external_id else None,
                         "version": 1, "created_at": now, "updated_at": now})
        if not rows:
            return []
        self.s.flush()  # enterprises created above go first
        # one bulk INSERT (multi-row VALUES batches), not an ORM object per record; the ids come
        # back in the order of the rows; the change log is written as a flush would
        table = row_cls.__table__
        q = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = [int(i) for (i,) in self.s.execute(q, rows)]
        log_created(self.s, kind, ids)
        return ids

    def update(self, kind: str, record_id: int, rec: StoredRecord, actor: Principal | None = None, *,
               claim_external: bool = False, expected_version: int | None = None) -> int:
        """Replace a record; returns its new version. Its external id keeps its owner unless it
        changes (or ``claim_external``: staff confirm an external id they sent), when it passes to
        the actor's numbering. The row is locked while read (``FOR UPDATE`` on PostgreSQL; the
        caller's writing unit of work holds SQLite's write lock); PreconditionFailed when its
        version is no longer ``expected_version``."""
        row = self.row(kind, record_id, lock=True)
        check_version(kind, record_id, row.version, expected_version)
        m = rec.model
        owner = row.external_owner
        if not m.external_id:
            owner = None
        elif m.external_id != row.external_id or claim_external or owner is None:
            owner = external_scope(actor)
            self.check_external(kind, [m.external_id], owner, exclude=record_id)
        row.external_owner = owner
        if isinstance(m, DemandEntry):
            m = m.model_copy(update={
                "enterprise_id": self.enterprise_id(m, {}),
                "catalogue_id": row.catalogue_id,  # type: ignore[attr-defined]
            })
        for k, v in self._columns(rec, m).items():
            setattr(row, k, v)
        row.version = row.version + 1
        return row.version

    def delete(self, kind: str, record_id: int) -> None:
        self.s.delete(self.row(kind, record_id))

    # -- reads -------------------------------------------------------------------------

    def row(self, kind: str, record_id: int, *, lock: bool = False) -> Any:
        """The row of a record (locked for update with ``lock``); NotFound if there is none."""
        return get_row(self.s, ROWS[kind], record_id, LABELS[kind], with_for_update=lock or None)

    def get_versioned(self, kind: str, record_id: int) -> tuple[DemandEntry | TalentProfile, int]:
        row = self.row(kind, record_id)
        return to_model(kind, row), row.version

    def get_many(self, kind: str, ids: Sequence[int]) -> dict[int, Any]:
        row_cls = ROWS[kind]
        out: dict[int, Any] = {}
        ids = list(ids)
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            for row in self.s.scalars(select(row_cls).where(row_cls.id.in_(chunk))):
                out[row.id] = to_model(kind, row)
        return out

    def versioned_after(self, kind: str, after: int, limit: int, status: str | None = None
                        ) -> list[tuple[int, int, Any]]:
        """(id, version, record) of up to ``limit`` records with an id above ``after`` (and
        ``status``), in id order: a side read page by page (read with only the columns a model
        needs)."""
        row_cls = ROWS[kind]
        q = select(*_model_columns(kind)).where(row_cls.id > after)
        if status is not None:
            q = q.where(row_cls.status == status)
        rows = self.s.execute(q.order_by(row_cls.id).limit(limit))
        return [(int(row.id), int(row.version), to_model(kind, row)) for row in rows]

    def page(self, kind: str, *, offset: int = 0, limit: int = 50, **filters: Any) -> tuple[list[Any], int]:
        """A page of records and the total count, filtered by equality on indexed columns."""
        row_cls = ROWS[kind]
        conds = equality_filters(row_cls, filters)
        total = self.s.scalar(select(func.count()).select_from(row_cls).where(*conds)) or 0
        q = select(row_cls).where(*conds).order_by(row_cls.id).offset(offset).limit(limit)
        return [to_model(kind, r) for r in self.s.scalars(q)], total

    def count(self, kind: str) -> int:
        return self.s.scalar(select(func.count()).select_from(ROWS[kind])) or 0

    def of_catalogue(self, catalogue_id: int) -> list[DemandEntry]:
        """The entries of a catalogue, in id order."""
        q = select(DemandRow).where(DemandRow.catalogue_id == catalogue_id).order_by(DemandRow.id)
        return [to_model("demand", e) for e in self.s.scalars(q)]  # type: ignore[misc]

    def text_hashes(self, kind: str, status: str | None = None) -> dict[int, str]:
        """id -> canonical text hash of the records of a side (for index reconciliation)."""
        row_cls = ROWS[kind]
        q = select(row_cls.id, row_cls.text_hash)
        if status is not None:
            q = q.where(row_cls.status == status)
        return {i: h for i, h in self.s.execute(q)}

    def text_hashes_of(self, kind: str, ids: Sequence[int], status: str | None = None) -> dict[int, str]:
        row_cls = ROWS[kind]
        out: dict[int, str] = {}
        ids = list(dict.fromkeys(ids))
        for start in range(0, len(ids), BATCH):
            q = select(row_cls.id, row_cls.text_hash).where(row_cls.id.in_(ids[start : start + BATCH]))
            if status is not None:
                q = q.where(row_cls.status == status)
            out.update({i: h for i, h in self.s.execute(q)})
        return out

    def texts(self, kind: str, ids: Sequence[int] | None = None) -> dict[int, str]:
        row_cls = ROWS[kind]
        q = select(row_cls.id, row_cls.text)
        if ids is None:
            return {i: t for i, t in self.s.execute(q)}
        out: dict[int, str] = {}
        ids = list(ids)
        for start in range(0, len(ids), BATCH):
            out.update({i: t for i, t in self.s.execute(q.where(row_cls.id.in_(ids[start : start + BATCH])))})
        return out
