"""The change log: every write of a talent or a demand entry adds a row to ``change_log`` in its
own transaction (an ORM flush hook, so no write path can forget it), and servers read the rows
after the last one they applied.

Sequence numbers are handed out before commit, so on PostgreSQL a slower transaction can commit a
lower number after a higher one was read. A reader therefore remembers the numbers it skipped
(``ChangeCursor``) and asks for them again until they appear or are old enough to be a rolled
back transaction's.

On PostgreSQL the writing transaction also issues ``NOTIFY talentmatch_changes`` (delivered when it
commits, once per transaction), and each server ``LISTEN``s on a connection of its own
(``listen_changes``), so it reads the log as soon as another process commits a write; the poll
every ``TALENTMATCH_INDEX_POLL_SECONDS`` stays as the fallback (a lost listening connection, and
SQLite, which has no notifications).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, event, func, insert, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from matcher.storage.tables import CatalogueRow, ChainRow, ChangeRow, DemandRow, TalentRow, utc_now

__all__ = ["CHANNEL", "ChangeCursor", "changes_since", "data_version", "last_change", "listen_changes", "log_changes", "log_created",
           "prune_changes", "track_changes"]

CHANNEL = "talentmatch_changes"  # PostgreSQL's notification channel of the change log

KINDS: dict[type, str] = {DemandRow: "demand", TalentRow: "talent"}
GAP_SECONDS = 60.0  # a skipped number not seen within this long was a rolled-back transaction's
MAX_GAPS = 10_000


def log_changes(session: Session, _flush_context: Any) -> None:
    """after_flush: a change row for every talent or demand entry the flush wrote."""
    rows: list[dict[str, Any]] = []
    created = session.info.setdefault("records_created", [])  # (kind, id): what Database.riding's riders read
    for obj in session.new:
        if type(obj) in KINDS:
            rows.append({"kind": KINDS[type(obj)], "record_id": obj.id, "version": obj.version or 1})
            created.append((KINDS[type(obj)], obj.id))
    for obj in session.dirty:
        if type(obj) in KINDS and session.is_modified(obj, include_collections=False):
            rows.append({"kind": KINDS[type(obj)], "record_id": obj.id, "version": obj.version or 1})
    for obj in session.deleted:
        if type(obj) in KINDS:
            rows.append({"kind": KINDS[type(obj)], "record_id": obj.id, "version": 0})
    _write_changes(session, rows)


def log_created(session: Session, kind: str, ids: Sequence[int]) -> None:
    """The change rows of records inserted without the ORM (a bulk INSERT: no flush to hook),
    written exactly as ``log_changes`` writes those of new ORM rows, in the same transaction."""
    session.info.setdefault("records_created", []).extend((kind, i) for i in ids)
    _write_changes(session, [{"kind": kind, "record_id": i, "version": 1} for i in ids])


def _write_changes(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.info["records_written"] = True
        now = utc_now()
        conn = session.connection()
        conn.execute(insert(ChangeRow.__table__), [{**r, "at": now} for r in rows])
        if conn.dialect.name == "postgresql" and not session.info.get("notified"):
            conn.exec_driver_sql(f"NOTIFY {CHANNEL}")  # sent at commit, to every listening server
            session.info["notified"] = True


def listen_changes(engine: Engine, wake: Callable[[], None], stop: threading.Event, timeout: float = 1.0) -> bool:
    """On PostgreSQL: call ``wake()`` whenever a transaction that wrote records commits (and once
    when listening starts, for what was committed before), until ``stop`` is set; False at once on
    other databases. Connection errors propagate (the caller reconnects, polling meanwhile)."""
    if engine.dialect.name != "postgresql":
        return False
    import psycopg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"LISTEN {CHANNEL}")
        wake()
        while not stop.is_set():
            for _ in conn.notifies(timeout=timeout, stop_after=1):
                wake()
    return True


def track_changes(*makers: sessionmaker) -> None:
    for maker in makers:
        event.listen(maker, "after_flush", log_changes)


def last_change(s: Session | Connection) -> int:
    return s.scalar(_LAST_CHANGE) or 0


_LAST_CHANGE = select(func.max(ChangeRow.seq))


def data_version(s: Session) -> tuple[int, str]:
    """What derived results (reports) depend on, as seen by any process: the last change of a
    talent or demand entry, and a digest of the catalogue and chain rows (small tables that the
    change log does not cover; chains are replaced wholesale, so their content is hashed)."""
    digest = hashlib.blake2b(digest_size=16)
    cats = select(CatalogueRow.id, CatalogueRow.region, CatalogueRow.year, CatalogueRow.name,
                  CatalogueRow.chain_registry).order_by(CatalogueRow.id)
    chains = select(ChainRow.id, ChainRow.name, ChainRow.region, ChainRow.registry_name, ChainRow.keywords,
                    ChainRow.parent_sector).order_by(ChainRow.registry_name, ChainRow.id)
    for q in (cats, chains):
        for row in s.execute(q):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|")
    return last_change(s), digest.hexdigest()


def changes_since(s: Session, after: int, also: Sequence[int] = (), limit: int = 50_000) -> list[tuple[int, str, int]]:
    """(seq, kind, record id) of the changes after ``after`` and of the numbers ``also``, in order."""
    cond = ChangeRow.seq > after
    if also:
        cond = or_(cond, ChangeRow.seq.in_(list(also)[:900]))
    q = select(ChangeRow.seq, ChangeRow.kind, ChangeRow.record_id).where(cond).order_by(ChangeRow.seq).limit(limit)
    return [(int(a), str(b), int(c)) for a, b, c in s.execute(q)]


def prune_changes(s: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Drop changes every server has long applied (a server starting later reconciles in full)."""
    done = s.execute(delete(ChangeRow).where(ChangeRow.at < utc_now() - older_than))
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


class ChangeCursor:
    """Where a reader is in the change log: the last number applied and the numbers skipped."""

    def __init__(self, last: int) -> None:
        self.last = last
        self.gaps: dict[int, float] = {}  # skipped number -> when first missed

    def advance(self, seqs: Sequence[int], now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for seq in seqs:
            self.gaps.pop(seq, None)
        new = sorted(q for q in seqs if q > self.last)
        expected = self.last + 1
        for seq in new:
            for missing in range(expected, seq):
                if len(self.gaps) < MAX_GAPS:
                    self.gaps.setdefault(missing, now)
            expected = seq + 1
        if new:
            self.last = new[-1]
        for seq, since in list(self.gaps.items()):
            if now - since > GAP_SECONDS:
                del self.gaps[seq]
