"""The schema's history as Alembic migrations, shipped inside the package (an installed wheel
upgrades its database with ``talentmatch db upgrade``).

States of a database (``schema_state``):

- ``empty``: none of our tables. The store creates the schema at start (``create_all``) and stamps
  it with the head revision, Alembic's recipe for a new database; a test checks that the migrations
  build exactly the same schema.
- ``legacy``: made by a release before migrations (``create_all`` with ``tm_meta.schema_version``
  = 1, no ``alembic_version``). ``db upgrade`` brings it to the baseline (the additive upgrade those
  releases ran at start), stamps the baseline and runs the later migrations.
- ``current``: at the head revision: the only state the server and the commands start on.
- ``older`` / ``newer``: a revision before the head, or one this program does not know (a newer
  release wrote it). Start-up refuses both, naming the command to run.

A new migration: change ``matcher/storage/tables.py``, then
``talentmatch db revision -m "what changed"`` (autogenerate against a scratch database at the
head); review the generated file in ``versions/``. See README, 运维.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from matcher.core.errors import TalentMatchError
from matcher.storage.tables import Base

if TYPE_CHECKING:  # Alembic (with Mako and Pygments) is imported only to change or inspect history
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = ["BASELINE", "SchemaMismatch", "alembic_config", "current_revision", "ensure_schema", "head_revision",
           "schema_state", "upgrade", "url_from_environment"]

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
LOCK_KEY = 74_210_018  # a PostgreSQL advisory lock: one schema change at a time

State = Literal["empty", "legacy", "current", "older", "newer", "foreign"]


class SchemaMismatch(TalentMatchError):
    status = 503
    title = "数据库结构版本不符"


def url_from_environment() -> str:
    from matcher.core.settings import Settings

    return os.environ.get("TALENTMATCH_DATABASE_URL") or Settings().db_url()


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=\n]*)?=\s*(?:['"]([^'"]+)['"]|None)\s*$""", re.M)


@cache
def _quick_head() -> str | None:
    """The head revision read from the files of ``versions/`` without Alembic (which takes most
    of a second to import): their ``revision`` and ``down_revision`` lines. None when that is not
    plainly one line of history (a merge, a tuple, an unreadable file): Alembic decides then."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (HERE / "versions").glob("*.py"):
        if path.name == "__init__.py":
            continue
        found = dict((k, v) for k, v in _REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found or not found["revision"]:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            downs.add(found["down_revision"])
    heads = revisions - downs
    return next(iter(heads)) if len(heads) == 1 and downs <= revisions else None


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def _at_quick_head(engine: Engine) -> bool:
    """Whether the database is plainly at the head (the start-up of every command): one
    ``alembic_version`` row equal to :func:`_quick_head`. Any doubt answers False (the full check
    with Alembic follows)."""
    head = _quick_head()
    if head is None:
        return False
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        revs = [r for (r,) in conn.execute(text("SELECT version_num FROM alembic_version"))]
    return revs == [head]


def schema_state(conn: Connection) -> tuple[State, str | None]:
    """The state of the database on ``conn`` and its revision (None when unversioned)."""
    names = set(inspect(conn).get_table_names())
    if "alembic_version" in names:
        rev = current_revision(conn)
        if rev == head_revision():
            return "current", rev
        known = {s.revision for s in _script().walk_revisions()}
        return ("older" if rev in known or rev is None else "newer"), rev
    ours = names & set(Base.metadata.tables)
    if not ours:
        return "empty", None
    if "tm_meta" in names and conn.execute(
            text("SELECT value FROM tm_meta WHERE key = 'schema_version'")).scalar() == "1":
        return "legacy", None
    return "foreign", None


def mismatch_message(state: State, rev: str | None) -> str:
    head = head_revision()
    if state == "legacy":
        return ("数据库由旧版本创建，尚未纳入迁移管理。请先备份数据库，再运行 `talentmatch db upgrade` 升级"
                f"（目标版本 {head}）。")
    if state == "older":
        return (f"数据库结构版本过旧（数据库：{rev}，程序需要：{head}）。"
                "请先备份数据库，再运行 `talentmatch db upgrade` 升级。")
    if state == "newer":
        return (f"数据库结构版本（{rev}）比本程序（{head}）新，本程序不认识：请升级 talentmatch 程序，"
                "或换用与数据库匹配的版本。")
    return "数据库中已有其他表，但不是 talentmatch 创建的：请换用一个空数据库。"


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process changes the schema during: BEGIN
    IMMEDIATE on SQLite (foreign keys off meanwhile: a table rebuilt by a migration must not
    cascade), an advisory lock on PostgreSQL. Schema changes are transactional on both."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:  # before the transaction: the pragma is a no-op inside one
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.execution_options(tm_write=True).begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
                yield conn
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise TalentMatchError("迁移后外键检查失败，已回滚，数据库未改动")
        finally:
            if sqlite:
                conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def _stamp_head(conn: Connection) -> None:
    """Stamp a database just made by ``create_all`` with the head revision: Alembic's own table
    (as ``alembic stamp head`` makes it) written directly when the head is plain, else by Alembic."""
    head = _quick_head()
    if head is None:
        from alembic import command

        command.stamp(alembic_config(conn), "head")
        return
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

    version = Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
                    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))
    version.create(conn)
    conn.execute(version.insert().values(version_num=head))


def ensure_schema(engine: Engine) -> None:
    """Start-up: a new database gets the schema at the head; any other must already be there."""
    if _at_quick_head(engine):
        return
    with engine.connect() as conn:
        state, rev = schema_state(conn)
    if state == "current":
        return
    if state != "empty":
        raise SchemaMismatch(mismatch_message(state, rev))
    with _locked(engine) as conn:
        state, rev = schema_state(conn)  # another process may have made it meanwhile
        if state == "empty":
            Base.metadata.create_all(conn)
            conn.execute(text("INSERT INTO tm_meta (key, value) VALUES ('schema_version', '1')"))
            _stamp_head(conn)
        elif state != "current":
            raise SchemaMismatch(mismatch_message(state, rev))


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str | None]:
    """Bring a database to ``target`` (a legacy one to the baseline first); returns the
    revisions before and after. All in one transaction: a failure leaves the database as it was."""
    from alembic import command

    with _locked(engine) as conn:
        state, before = schema_state(conn)
        if state == "newer":
            raise SchemaMismatch(mismatch_message(state, before))
        if state == "foreign":
            raise SchemaMismatch(mismatch_message(state, before))
        if state == "legacy":
            from matcher.storage.migrations.legacy import add_external_owner

            add_external_owner(conn)
            command.stamp(alembic_config(conn), BASELINE)
        command.upgrade(alembic_config(conn), target)
        if state == "empty" and conn.execute(
                text("SELECT count(*) FROM tm_meta WHERE key = 'schema_version'")).scalar() == 0:
            conn.execute(text("INSERT INTO tm_meta (key, value) VALUES ('schema_version', '1')"))
        return before, current_revision(conn)
