"""Database URLs: which ones name an SQLite file, and a read-only connection to one (read
directly, without SQLAlchemy, by ``matcher.storage.peek`` and ``matcher.storage.hot``)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

# an SQLite file URL as ``Settings.db_url`` writes it (a plain path, no driver options); others,
# e.g. ``sqlite://`` (in memory) or a URL with query options, go through SQLAlchemy
_SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///([^?]+)")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite file URL, else None."""
    m = _SQLITE_FILE.fullmatch(url)
    return Path(m.group(1)) if m and m.group(1) != ":memory:" else None


def connect_read_only(path: Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """A ``sqlite3`` connection to the file ``path`` that the database itself keeps from writing
    (``mode=ro``; it creates no file: ``sqlite3.OperationalError`` when there is none). A server
    writing meanwhile (WAL) does not block its reads."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30,
                           check_same_thread=check_same_thread)
