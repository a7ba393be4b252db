"""Read-only looks at the database for commands that check and change nothing.

``talentmatch index status`` compares the saved indexes with the records' text hashes. The
store (the ORM, its table classes, the schema check that may upgrade the database) costs more to
load than the check itself, and a status command should not upgrade anything: this reads the two
record tables with SQLAlchemy Core and writes nothing. A database without them (new, never set
up) is not read here: :meth:`RecordHashes.ready` says so and the caller uses the store.
"""

from __future__ import annotations

from sqlalchemy import column, inspect, select, table

from matcher.storage.engine import make_engine

# the record tables (``tables.DemandRow`` / ``TalentRow``; a test keeps the names in step)
RECORD_TABLES = {"demand": "demand_entries", "talent": "talents"}


class RecordHashes:
    """The records' text hashes, read with one plain SELECT per side."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def ready(self) -> bool:
        """Whether both record tables exist (the database has been set up)."""
        names = set(inspect(self.engine).get_table_names())
        return all(name in names for name in RECORD_TABLES.values())

    def text_hashes(self, kind: str, status: str | None = None) -> dict[int, str]:
        """id -> canonical text hash of a side's records (with ``status``), as the store gives."""
        rows = table(RECORD_TABLES[kind], column("id"), column("text_hash"), column("status"))
        query = select(rows.c.id, rows.c.text_hash)
        if status is not None:
            query = query.where(rows.c.status == status)
        with self.engine.connect() as conn:
            return {int(i): h for i, h in conn.execute(query)}

    def close(self) -> None:
        self.engine.dispose()
