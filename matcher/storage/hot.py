"""The short reads every served request makes, on an SQLite file without SQLAlchemy's per-call
machinery.

A stored record's list is served after three reads: the caller's API key (authentication), the
change log's last position (what kept records and cached lists depend on) and the names of the
enterprises whose posts are shown. Through SQLAlchemy each cost 50-80 µs in a loop and 110-300
µs within a served request (a connection checked out of the pool and returned, the statement
looked up, the result wrapped: code that a ranking's work pushes out of the CPU's caches in
between); through a plain ``sqlite3`` connection, 5-15 µs in the same loop.

On an SQLite file they go through one read-only ``sqlite3`` connection per thread (``mode=ro``:
the file itself refuses any write). Outside a transaction each SELECT sees what was committed
before it, as the pool's connections do. Other databases (PostgreSQL), and SQLite without a file
(in memory), keep SQLAlchemy: :attr:`HotReads.enabled` is False and the store uses its own path.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import namedtuple
from collections.abc import Sequence

from matcher.storage.urls import connect_read_only, sqlite_file

# the tables and columns read (``tables.ApiKeyRow``, ``ChangeRow``, ``EnterpriseRow``; a test
# keeps them in step with the schema)
KEY_COLUMNS = ("id", "key_hash", "role", "enterprise_id", "talent_id", "label", "revoked_at")
KeyRow = namedtuple("KeyRow", KEY_COLUMNS)  # what ``accounts._principal`` reads, by attribute
_KEY_BY_PREFIX = f"SELECT {', '.join(KEY_COLUMNS)} FROM api_keys WHERE prefix = ?"
_LAST_CHANGE = "SELECT max(seq) FROM change_log"
_NAMES = "SELECT id, name FROM enterprises WHERE id IN ({})"


class HotReads:
    """The store's hot reads on an SQLite file (see the module docstring)."""

    def __init__(self, url: str) -> None:
        path = sqlite_file(url)
        self.path = path if path is not None and path.exists() else None
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether the reads go through ``sqlite3`` (else the caller uses SQLAlchemy)."""
        return self.path is not None

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            assert self.path is not None
            conn = connect_read_only(self.path, check_same_thread=False)  # closed by close(), from any thread
            with self._lock:
                self._opened.append(conn)
            self._local.conn = conn
        return conn

    def key_row(self, prefix: str) -> KeyRow | None:
        """The API key with this prefix (its hash, role, scope and revocation), or None."""
        # fetchall: the statement runs to its end, so no read transaction stays open on the
        # connection (a later read must see later commits); the prefix is unique
        rows = self._conn().execute(_KEY_BY_PREFIX, (prefix,)).fetchall()
        return KeyRow(*rows[0]) if rows else None

    def last_change(self) -> int:
        """The change log's last position (0 when empty)."""
        [(seq,)] = self._conn().execute(_LAST_CHANGE).fetchall()
        return int(seq or 0)

    def enterprise_names(self, ids: Sequence[int]) -> dict[int, str]:
        """Names of the enterprises ``ids`` (those that exist)."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        rows = self._conn().execute(_NAMES.format(",".join("?" * len(ids))), tuple(ids))
        return {int(i): n for i, n in rows}

    def close(self) -> None:
        """Close every thread's connection (a thread that reads again opens a new one)."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()

