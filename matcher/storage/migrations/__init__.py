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
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from matcher.core.errors import TalentMatchError
from matcher.storage.tables import Base

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
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


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


def ensure_schema(engine: Engine) -> None:
    """Start-up: a new database gets the schema at the head; any other must already be there."""
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
            command.stamp(alembic_config(conn), "head")
        elif state != "current":
            raise SchemaMismatch(mismatch_message(state, rev))


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str | None]:
    """Bring a database to ``target`` (a legacy one to the baseline first); returns the
    revisions before and after. All in one transaction: a failure leaves the database as it was."""
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
