"""Read-only looks at the database for commands that check and change nothing.

``talentmatch index status`` compares the saved indexes with the records' text hashes. The
store (the ORM, its table classes, the schema check that may upgrade the database) costs more to
load than the check itself, and a status command should not upgrade anything: this reads the two
record tables and writes nothing. An SQLite file is read with the standard library's ``sqlite3``,
opened read-only (``mode=ro``: the database itself refuses any write), without SQLAlchemy, whose
import alone took about a quarter of the command's time (about 120 of 450 ms); other databases
(PostgreSQL) with SQLAlchemy Core. A database without the record tables (new, never set up) is
not read here: :meth:`RecordHashes.ready` says so and the caller uses the store.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from matcher.storage.urls import connect_read_only, sqlite_file

# the record tables (``tables.DemandRow`` / ``TalentRow``; a test keeps the names in step)
RECORD_TABLES = {"demand": "demand_entries", "talent": "talents"}


class RecordHashes:
    """The records' text hashes, read with one plain SELECT per side."""

    def __init__(self, url: str) -> None:
        self.path = sqlite_file(url)
        self.engine: Any = None
        self._conn: sqlite3.Connection | None = None
        if self.path is None:
            from matcher.storage.engine import make_engine

            self.engine = make_engine(url)

    def _sqlite(self) -> sqlite3.Connection | None:
        """The read-only connection to the SQLite file, or None when there is no such file."""
        if self._conn is None:
            assert self.path is not None
            try:
                self._conn = connect_read_only(self.path)
            except sqlite3.OperationalError:
                if self.path.exists():
                    raise
                return None
        return self._conn

    def ready(self) -> bool:
        """Whether both record tables exist (the database has been set up)."""
        if self.path is None:
            from sqlalchemy import inspect

            names = set(inspect(self.engine).get_table_names())
        else:
            conn = self._sqlite()
            if conn is None:
                return False
            names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return all(name in names for name in RECORD_TABLES.values())

    def text_hashes(self, kind: str, status: str | None = None) -> dict[int, str]:
        """id -> canonical text hash of a side's records (with ``status``), as the store gives."""
        name = RECORD_TABLES[kind]
        if self.path is not None:
            conn = self._sqlite()
            if conn is None:
                raise sqlite3.OperationalError(f"no such table: {name} ({self.path} does not exist)")
            sql = f"SELECT id, text_hash FROM {name}"  # noqa: S608 - a name of RECORD_TABLES
            rows = conn.execute(sql + " WHERE status = ?", (status,)) if status is not None else conn.execute(sql)
            return {int(i): h for i, h in rows}
        from sqlalchemy import column, select, table

        rows_t = table(name, column("id"), column("text_hash"), column("status"))
        query = select(rows_t.c.id, rows_t.c.text_hash)
        if status is not None:
            query = query.where(rows_t.c.status == status)
        with self.engine.connect() as conn:
            return {int(i): h for i, h in conn.execute(query)}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.engine is not None:
            self.engine.dispose()
