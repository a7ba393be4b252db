"""``talentmatch db``: the schema's version and its upgrades (Alembic migrations shipped in the
package)."""

from __future__ import annotations

from typing import Annotated

import typer

from matcher.cli.common import out, run_settings

db_app = typer.Typer(no_args_is_help=True, help="数据库结构版本与升级")


def _engine():  # type: ignore[no-untyped-def]
    from matcher.storage.engine import make_engine

    return make_engine(run_settings().db_url())


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="目标版本（默认最新 head）")] = "head",
) -> None:
    """把数据库升级到本程序需要的结构版本（先备份！整个升级在一个事务中，失败则不改动）。"""
    from matcher.storage.migrations import upgrade

    engine = _engine()
    try:
        before, after = upgrade(engine, revision)
    finally:
        engine.dispose()
    if before == after:
        out.print(f"数据库已是版本 {after}，无需升级。")
    else:
        out.print(f"数据库已从版本 {before or '（未版本化）'} 升级到 {after}。")


@db_app.command("current")
def db_current() -> None:
    """显示数据库当前的结构版本与本程序需要的版本。"""
    from matcher.storage.migrations import (
        SchemaMismatch,
        head_revision,
        mismatch_message,
        schema_state,
    )

    engine = _engine()
    try:
        with engine.connect() as conn:
            state, rev = schema_state(conn)
    finally:
        engine.dispose()
    out.print(f"数据库版本：{rev or '（未版本化）'}；程序需要：{head_revision()}")
    if state == "current":
        out.print("状态：一致")
    elif state == "empty":
        out.print("状态：空数据库（首次启动时自动建表，或运行 `talentmatch db upgrade`）")
    else:
        raise SchemaMismatch(f"状态：不一致。{mismatch_message(state, rev)}")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="这次结构变更的说明")],
) -> None:
    """（开发者）按 matcher/storage/tables.py 生成一个新的迁移文件（与最新版本的差异）。"""
    import tempfile
    from pathlib import Path

    from alembic import command

    from matcher.storage.engine import make_engine
    from matcher.storage.migrations import alembic_config, head_revision, upgrade

    head = head_revision()
    rev_id = f"{int(head) + 1:04d}" if head.isdigit() else None  # 0006 after 0005
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        try:
            upgrade(engine)  # a scratch database at the head, by the migrations themselves
            with engine.begin() as conn:
                script = command.revision(alembic_config(conn), message=message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    path = getattr(script, "path", script)
    out.print(f"已生成迁移：{path}（请检查后提交；PostgreSQL 与 SQLite 都要跑 tests/storage/test_migrations.py）")
