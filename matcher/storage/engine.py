"""The database connection: engine creation, the unit of work (one transaction per session),
schema creation and the additive upgrades of an existing database.

SQLite (WAL) embedded by default, PostgreSQL by URL. Every write runs in one transaction and is
acknowledged only after it commits; a failure rolls the whole write back, so nothing is
half-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import String, cast, create_engine, event, exists, inspect, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from matcher.core.errors import Conflict
from matcher.storage import outcome_tables  # noqa: F401 - declares its tables on Base.metadata
from matcher.storage.records import LEGACY_SCOPE, STAFF_SCOPE
from matcher.storage.tables import AuditRow, Base, DemandRow, MetaRow, TalentRow

__all__ = ["SCHEMA_VERSION", "Database", "make_engine"]

SCHEMA_VERSION = 1


def make_engine(url: str) -> Engine:
    """An engine for a database URL: SQLite with WAL and foreign keys, or PostgreSQL (psycopg)."""
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


class Database:
    """An engine and its sessions. Thread-safe: a session per unit of work."""

    def __init__(self, url: str, *, engine: Engine | None = None, create: bool = True) -> None:
        self.url = url
        self.engine = engine if engine is not None else make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if create:
            self.create_schema()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: one transaction, committed on success, rolled back on any error."""
        with self._sessions() as s, s.begin():
            yield s

    @contextmanager
    def writing(self, conflict: str) -> Iterator[Session]:
        """A unit of work whose integrity error (a race with another writer, a duplicate) becomes
        ``Conflict(conflict)``: the database's own message is never echoed."""
        try:
            with self.session() as s:
                yield s
        except IntegrityError as exc:
            raise Conflict(conflict) from exc

    def ping(self) -> bool:
        try:
            with self.engine.connect() as c:
                c.exec_driver_sql("SELECT 1")
            return True
        except OperationalError:
            return False

    def close(self) -> None:
        self.engine.dispose()

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)
        add_external_owner(self.engine)
        with self.session() as s:
            if s.get(MetaRow, "schema_version") is None:
                s.add(MetaRow(key="schema_version", value=str(SCHEMA_VERSION)))


def add_external_owner(engine: Engine) -> None:
    """Bring a database made before external ids had owners up to date (additive: a column,
    a backfill and an index; create_all does not add columns to existing tables).

    Existing external ids go to the staff numbering, except those of records that a seeker
    or an enterprise created or changed (by the audit log): they may have set the id
    themselves, so they are marked unverified and no import matches them until staff set the
    id again. On PostgreSQL the old database-wide uniqueness is replaced by uniqueness per
    owner; SQLite cannot drop it without rebuilding the table, so there an external id stays
    unique across owners (a clash is a plain 409)."""
    for row_cls, resource in ((TalentRow, "talent"), (DemandRow, "demand")):
        table = row_cls.__tablename__
        if "external_owner" in {c["name"] for c in inspect(engine).get_columns(table)}:
            continue
        with engine.begin() as c:
            c.execute(text(f"ALTER TABLE {table} ADD COLUMN external_owner VARCHAR(64)"))
            if engine.dialect.name == "postgresql":
                c.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_external_id_key"))
            touched = exists().where(
                AuditRow.resource == resource, AuditRow.resource_id == cast(row_cls.id, String),
                AuditRow.action.in_(("create", "update")), AuditRow.actor_role.in_(("seeker", "enterprise")))
            pending = (row_cls.external_id.is_not(None), row_cls.external_owner.is_(None))
            c.execute(update(row_cls).where(*pending, ~touched).values(external_owner=STAFF_SCOPE))
            c.execute(update(row_cls).where(*pending).values(external_owner=LEGACY_SCOPE))
            c.execute(text(f"CREATE UNIQUE INDEX IF NOT EXISTS uq_{table}_external "
                           f"ON {table} (external_owner, external_id)"))
