"""Database URLs: which ones name an SQLite file (read directly, without SQLAlchemy, by
``matcher.storage.peek`` and ``matcher.storage.hot``)."""

from __future__ import annotations

import re
from pathlib import Path

# an SQLite file URL as ``Settings.db_url`` writes it (a plain path, no driver options); others,
# e.g. ``sqlite://`` (in memory) or a URL with query options, go through SQLAlchemy
_SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///([^?]+)")


def sqlite_file(url: str) -> Path | None:
    """The file of a plain SQLite file URL, else None."""
    m = _SQLITE_FILE.fullmatch(url)
    return Path(m.group(1)) if m and m.group(1) != ":memory:" else None
