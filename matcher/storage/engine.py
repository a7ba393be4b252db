"""The database connection: engine creation, the unit of work (one transaction per session),
and the schema check at start (``matcher.storage.migrations``).

SQLite (WAL) embedded by default, PostgreSQL by URL. Every write runs in one transaction and is
acknowledged only after it commits; a failure rolls the whole write back, so nothing is
half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from matcher.core.errors import Conflict
from matcher.storage.hot import HotReads

if TYPE_CHECKING:  # the ORM is imported by the first Database, not by make_engine's callers
    from sqlalchemy.orm import Session

__all__ = ["Database", "make_engine"]

# work that joins every transaction writing talent or demand records in this context (Database.riding)
_RIDERS: ContextVar[tuple[Callable[[Session], None], ...]] = ContextVar("tm_riders", default=())


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

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # type: ignore[no-untyped-def]
            # A writing unit of work (Database.session(write=True)) takes the write lock at BEGIN:
            # BEGIN IMMEDIATE, the driver's own transaction handling off meanwhile, so its reads and
            # writes are one atomic step (and DDL is transactional). Other units of work keep the
            # driver's handling: reads outside a transaction, BEGIN before the first write.
            raw = conn.connection.driver_connection
            if conn.get_execution_options().get("tm_write"):
                raw.isolation_level = None
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif raw.isolation_level is None:
                raw.isolation_level = ""

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
        from sqlalchemy.orm import sessionmaker

        self.engine = engine if engine is not None else make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self.engine.execution_options(tm_write=True), expire_on_commit=False)
        from matcher.storage.changes import track_changes

        track_changes(self._sessions, self._write_sessions)  # every record write logs itself
        if create:
            self.create_schema()
        self.hot = HotReads(url)  # after the schema: an SQLite file that exists by now

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A unit of work: one transaction, committed on success, rolled back on any error.

        ``write``: the transaction writes after it reads. On SQLite it then takes the write lock
        at BEGIN (BEGIN IMMEDIATE), so its reads and writes are one atomic step and it never
        fails half-way on a lock upgrade; on PostgreSQL rows are locked where read
        (``SELECT … FOR UPDATE``)."""
        with (self._write_sessions if write else self._sessions)() as s, s.begin():
            yield s
            riders = _RIDERS.get()
            if riders and s.info.get("records_written"):
                for rider in riders:
                    rider(s)

    @staticmethod
    @contextmanager
    def riding(rider: Callable[[Session], None]) -> Iterator[None]:
        """Within this context (this thread), ``rider(session)`` runs at the end of every unit of
        work that wrote talent or demand records, in its transaction: what it writes commits with
        them or not at all (a durable job marks itself done with the import it ran). Raising in
        ``rider`` rolls the write back."""
        token = _RIDERS.set((*_RIDERS.get(), rider))
        try:
            yield
        finally:
            _RIDERS.reset(token)

    @contextmanager
    def writing(self, conflict: str) -> Iterator[Session]:
        """A writing unit of work whose integrity error (a race with another writer, a duplicate)
        becomes ``Conflict(conflict)``: the database's own message is never echoed."""
        try:
            with self.session(write=True) as s:
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
        self.hot.close()
        self.engine.dispose()

    def create_schema(self) -> None:
        """A new database gets the schema at the head revision; any other must be at it already
        (``SchemaMismatch`` names the command to run: ``talentmatch db upgrade``)."""
        from matcher.storage.migrations import ensure_schema

        ensure_schema(self.engine)
