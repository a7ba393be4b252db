"""``talentmatch keys`` and ``talentmatch audit``: API keys and the audit log."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from matcher.cli.common import (
    Fmt,
    err,
    out,
    run_settings,
)
from matcher.core.localtime import local_time

keys_app = typer.Typer(no_args_is_help=True, help="API 密钥：创建、列出、吊销")
audit_app = typer.Typer(no_args_is_help=True, help="审计日志")

def _store():
    from matcher.storage.store import Store

    settings = run_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store(settings.db_url())


class RoleOpt(StrEnum):
    admin = "admin"
    organiser = "organiser"
    enterprise = "enterprise"
    seeker = "seeker"


@keys_app.command("create")
def keys_create(
    role: Annotated[RoleOpt, typer.Option("--role", help="admin、organiser、enterprise 或 seeker")],
    enterprise: Annotated[int | None, typer.Option("--enterprise", min=1, help="enterprise 密钥绑定的企业编号")] = None,
    talent: Annotated[int | None, typer.Option("--talent", min=1, help="seeker 密钥绑定的人才档案编号")] = None,
    label: Annotated[str, typer.Option("--label", help="备注，如 使用人或用途")] = "",
) -> None:
    """创建 API 密钥并只显示这一次（数据库只保存其摘要）。

    enterprise 密钥不带 --enterprise 时，可用它登记一个企业并自动绑定；seeker 密钥同理创建本人档案。
    """
    store = _store()
    try:
        key, info = store.create_key(role.value, enterprise_id=enterprise, talent_id=talent, label=label)
    finally:
        store.close()
    scope = (f"，绑定企业 {info['enterprise_id']}" if info["enterprise_id"]
             else f"，绑定人才档案 {info['talent_id']}" if info["talent_id"] else "")
    from matcher.domain.auth import ROLE_LABELS, Role

    role_name = ROLE_LABELS.get(Role(info["role"]), info["role"])
    err.print(f"已创建{role_name}（{info['role']}）密钥（编号 {info['id']}{scope}）。请立即保存，之后无法再次查看：",
              highlight=False)
    print(key)


@keys_app.command("list")
def keys_list(include_revoked: Annotated[bool, typer.Option("--all", help="包括已吊销的密钥")] = False,
              fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table) -> None:
    """列出密钥（只显示前缀，不显示明文）。"""
    from rich.table import Table
    store = _store()
    try:
        keys = store.list_keys(include_revoked=include_revoked)
    finally:
        store.close()
    if fmt == Fmt.json:
        out.print_json(data=keys)
        return
    table = Table("编号", "前缀", "角色", "企业", "人才档案", "备注", "创建时间（北京时间）", "状态")
    for k in keys:
        table.add_row(str(k["id"]), k["prefix"], k["role"], str(k["enterprise_id"] or ""), str(k["talent_id"] or ""),
                      k["label"], local_time(k["created_at"], "%Y-%m-%d %H:%M:%S"), "已吊销" if k["revoked"] else "有效")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: int) -> None:
    """吊销密钥：之后使用它的请求一律 401。"""
    store = _store()
    try:
        store.revoke_key(key_id)
    finally:
        store.close()
    out.print(f"已吊销密钥 {key_id}。")


@audit_app.command("list")
def audit_list(
    resource: Annotated[str | None, typer.Option(help="资源类型：talent、demand、enterprise、api_key、catalogue")] = None,
    resource_id: Annotated[str | None, typer.Option("--id", help="资源编号")] = None,
    action: Annotated[str | None, typer.Option(help="create、update、delete、view、revoke")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
) -> None:
    """最新的审计记录：谁在何时修改或查看了什么。"""
    from rich.table import Table
    store = _store()
    try:
        items, total = store.list_audit(limit=limit, resource=resource, resource_id=resource_id, action=action)
    finally:
        store.close()
    if fmt == Fmt.json:
        out.print_json(data={"items": items, "total": total})
        return
    table = Table("时间（北京时间）", "角色", "密钥", "操作", "资源", "编号", "详情")
    for a in items:
        table.add_row(local_time(a["at"], "%Y-%m-%d %H:%M:%S"), a["actor_role"], str(a["actor_key_id"] or ""), a["action"], a["resource"],
                      a["resource_id"], json.dumps(a["detail"], ensure_ascii=False) if a["detail"] else "")
    out.print(table)
    out.print(f"共 {total} 条，显示最新 {len(items)} 条。")
