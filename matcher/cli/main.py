"""The ``talentmatch`` command line."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from matcher.cli.common import Fmt, err, make_service, out
from matcher.cli.eval import eval_command
from matcher.cli.fair import fair_app
from matcher.cli.report import catalogue_app, chains_app, report_app, zone_app
from matcher.core.errors import ImportRejected, RowError, TalentMatchError
from matcher.core.settings import Settings, load_settings
from matcher.domain.schemas import Catalogue, MatchFilters

app = typer.Typer(add_completion=False, no_args_is_help=True, help="数字人才供需匹配服务 talentmatch")
occupations_app = typer.Typer(no_args_is_help=True, help="职业分类（CSCO 2022）编码与查询")
import_app = typer.Typer(no_args_is_help=True, help="导入人才、需求或目录文件（CSV、XLSX、JSONL）")
match_app = typer.Typer(no_args_is_help=True, help="人岗匹配")
index_app = typer.Typer(no_args_is_help=True, help="向量索引维护")
demo_app = typer.Typer(invoke_without_command=True, help="演示数据：加载并启动服务")
keys_app = typer.Typer(no_args_is_help=True, help="API 密钥：创建、列出、吊销")
audit_app = typer.Typer(no_args_is_help=True, help="审计日志")
app.add_typer(occupations_app, name="occupations")
app.add_typer(import_app, name="import")
app.add_typer(match_app, name="match")
app.add_typer(index_app, name="index")
app.add_typer(demo_app, name="demo")
app.add_typer(fair_app, name="fair")
app.add_typer(report_app, name="report")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(chains_app, name="chains")
app.add_typer(zone_app, name="zone")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.command("eval")(eval_command)



class CodeFmt(StrEnum):
    jsonl = "jsonl"
    table = "table"


class Side(StrEnum):
    demands = "demands"
    talents = "talents"


def _settings() -> Settings:
    return load_settings()


def _service(settings: Settings | None = None):
    return make_service(settings or _settings())


class _Bar:
    """A rich progress bar for encoding, shown only on a terminal."""

    def __init__(self, label: str, total: int | None = None) -> None:
        self.progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=err, transient=True, disable=not err.is_terminal)
        self.task = self.progress.add_task(label, total=total)

    def __enter__(self) -> _Bar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, n: int) -> None:
        self.progress.advance(self.task, n)


# -- occupations ---------------------------------------------------------------------------


@occupations_app.command("code")
def occupations_code(
    file: Annotated[Path, typer.Argument(help="每行一个岗位名称（UTF-8）；- 表示标准输入")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 10,
    fmt: Annotated[CodeFmt, typer.Option("--format")] = CodeFmt.jsonl,
    batch: Annotated[int, typer.Option(min=1, max=4096)] = 256,
) -> None:
    """把自由文本的岗位名称映射到 CSCO 2022 职业编码（每行输出一个 JSON 对象，顺序与输入一致）。"""
    lines = _read_lines(file)
    svc = _service()
    for start in range(0, len(lines), batch):
        chunk = lines[start : start + batch]
        results = svc.code_occupations(chunk, top_k)
        for query, cands in zip(chunk, results, strict=True):
            if fmt == CodeFmt.jsonl:
                sys.stdout.write(json.dumps({"query": query, "candidates": [c.model_dump() for c in cands]},
                                            ensure_ascii=False) + "\n")
            else:
                table = Table(title=query)
                for col in ("编码", "职业名称", "得分"):
                    table.add_column(col)
                for c in cands:
                    table.add_row(c.code, c.name, f"{c.score:.3f}")
                out.print(table)
    sys.stdout.flush()


def _read_lines(file: Path) -> list[str]:
    from matcher.ingest.parsing import read_utf8

    return [line.strip() for line in read_utf8(file).splitlines()]


@occupations_app.command("search")
def occupations_search(q: str, limit: Annotated[int, typer.Option(min=1, max=200)] = 20) -> None:
    """按名称或编码前缀查询职业。"""
    from matcher.reference.occupations import Taxonomy

    tax = Taxonomy.load(_settings().reference_dir / "csco22_occupations.csv")
    table = Table()
    for col in ("编码", "职业名称", "数字职业"):
        table.add_column(col)
    for o in tax.search(q, limit):
        table.add_row(o.code, o.name, "是" if o.digital else "")
    out.print(table)


# -- import --------------------------------------------------------------------------------


def _print_errors(errors: list[RowError], limit: int = 50) -> None:
    for e in errors[:limit]:
        err.print(f"  {e}", markup=False)
    if len(errors) > limit:
        err.print(f"  …… 另有 {len(errors) - limit} 处错误", markup=False)


def _do_import(kind: str, file: Path, mapping: Path | None, skip_invalid: bool, sheet: str | None,
               catalogue: Catalogue | None = None) -> None:
    from matcher.ingest.importer import load_mapping, read_records

    svc = _service()
    mp = load_mapping(mapping) if mapping else None
    result = read_records(file, kind, mp, sheet=sheet)  # type: ignore[arg-type]
    with _Bar("编码", total=len(result.records)) as bar:
        report = svc.import_rows(kind, result.records, result.errors, skip_invalid=skip_invalid,
                                 catalogue=catalogue, progress=bar)
    if report["errors"]:
        err.print(f"[yellow]跳过 {len(report['errors'])} 处错误：[/yellow]")
        _print_errors(report["errors"])
    label = {"talents": "人才档案", "demands": "需求条目", "catalogue": "目录条目"}[kind]
    out.print(f"已导入 {len(report['ids'])} 条{label}（文件共 {result.total_rows} 行）。")
    if catalogue is not None:
        out.print(f"目录编号：{report['catalogue_id']}")
    svc.close()


MappingOpt = Annotated[Path | None, typer.Option("--mapping", help="列映射 JSON：源表头 → 字段")]
SkipOpt = Annotated[bool, typer.Option("--skip-invalid", help="跳过有错误的行，导入其余行")]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="XLSX 工作表名（默认第一个）")]


@import_app.command("talents")
def import_talents(file: Path, mapping: MappingOpt = None, skip_invalid: SkipOpt = False, sheet: SheetOpt = None) -> None:
    """导入人才档案。默认全部成功才写入；--skip-invalid 导入其余有效行。"""
    _do_import("talents", file, mapping, skip_invalid, sheet)


@import_app.command("demands")
def import_demands(file: Path, mapping: MappingOpt = None, skip_invalid: SkipOpt = False, sheet: SheetOpt = None) -> None:
    """导入企业需求条目。"""
    _do_import("demands", file, mapping, skip_invalid, sheet)


@import_app.command("catalogue")
def import_catalogue(
    file: Path,
    region: Annotated[str, typer.Option(help="目录所属地区，如 淄博市")],
    year: Annotated[int, typer.Option(min=2000, max=2100, help="目录年度")],
    name: Annotated[str | None, typer.Option(help="目录名称")] = None,
    registry: Annotated[str | None, typer.Option(help="产业链名录，如 zibo")] = None,
    mapping: MappingOpt = None,
    skip_invalid: SkipOpt = False,
    sheet: SheetOpt = None,
) -> None:
    """导入急需紧缺人才目录（条目作为 source=catalogue 的需求条目）。"""
    cat = Catalogue(region=region, year=year, name=name, chain_registry=registry)
    _do_import("catalogue", file, mapping, skip_invalid, sheet, catalogue=cat)


# -- match ---------------------------------------------------------------------------------

TopK = Annotated[int, typer.Option("--top-k", min=1, max=200)]
FmtOpt = Annotated[Fmt, typer.Option("--format")]


def _filters(city: str | None, province: str | None, chain: str | None, fresh: bool, all_: bool) -> MatchFilters:
    return MatchFilters(city=city, province=province, chain_id=chain, fresh_graduates_only=fresh,
                        include_ineligible=all_)


def _show(matches: list, fmt: Fmt, header: str) -> None:
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps([m.model_dump(mode="json") for m in matches], ensure_ascii=False, indent=1) + "\n")
        return
    if not matches:
        out.print("没有符合条件的结果。")
        return
    table = Table(title=header, show_lines=True)
    for col in ("#", "编号", "名称", "综合", "求职方", "用人方", "匹配技能", "欠缺技能", "说明"):
        table.add_column(col, overflow="fold")
    for rank, m in enumerate(matches, 1):
        e = m.explanation
        notes = list(e.unmet_requirements) + [t.message for t in e.training[:1]]
        table.add_row(str(rank), str(m.id), m.title, f"{m.score:.3f}", f"{m.seeker_score:.3f}",
                      f"{m.employer_score:.3f}", "、".join(e.matched_skills), "、".join(e.missing_skills),
                      "\n".join(notes))
    out.print(table)


City = Annotated[str | None, typer.Option(help="只看该城市")]
Province = Annotated[str | None, typer.Option(help="只看该省份")]
Chain = Annotated[str | None, typer.Option(help="产业链编号或名称")]
Fresh = Annotated[bool, typer.Option("--fresh-only", help="只看面向应届生的岗位 / 只看应届生")]
All = Annotated[bool, typer.Option("--include-ineligible", help="同时列出未满足硬性要求的结果")]


@match_app.command("talent")
def match_talent(talent_id: int, top_k: TopK = 10, fmt: FmtOpt = Fmt.table, city: City = None,
                 province: Province = None, chain: Chain = None, fresh: Fresh = False, all_: All = False) -> None:
    """为一位人才推荐岗位。"""
    svc = _service()
    res = svc.match_talent(talent_id, top_k, _filters(city, province, chain, fresh, all_))
    _show(res, fmt, f"人才 {talent_id} 的推荐岗位")
    svc.close()


@match_app.command("demand")
def match_demand(demand_id: int, top_k: TopK = 10, fmt: FmtOpt = Fmt.table, city: City = None,
                 province: Province = None, chain: Chain = None, fresh: Fresh = False, all_: All = False) -> None:
    """为一个需求条目推荐人才。"""
    svc = _service()
    res = svc.match_demand(demand_id, top_k, _filters(city, province, chain, fresh, all_))
    _show(res, fmt, f"需求 {demand_id} 的推荐人才")
    svc.close()


@match_app.command("text")
def match_text(text: str, side: Annotated[Side, typer.Option("--side")] = Side.demands, top_k: TopK = 10,
               fmt: FmtOpt = Fmt.table, city: City = None, province: Province = None, chain: Chain = None,
               fresh: Fresh = False, all_: All = False) -> None:
    """用一段自由文本检索岗位（--side demands）或人才（--side talents）。"""
    svc = _service()
    res = svc.match_text(text, side.value, top_k, _filters(city, province, chain, fresh, all_))
    _show(res, fmt, f"“{text[:30]}”的检索结果")
    svc.close()


# -- index ---------------------------------------------------------------------------------


@index_app.command("sync")
def index_sync() -> None:
    """让索引与数据库一致（只编码新增或变化的记录）并保存。"""
    svc = _service()
    with _Bar("编码") as bar:
        counts = svc.sync(progress=bar)
    out.print(f"索引已同步：需求 {counts['demand']} 条，人才 {counts['talent']} 条。")
    svc.close()


@index_app.command("rebuild")
def index_rebuild() -> None:
    """从数据库重建两侧索引。"""
    svc = _service()
    with _Bar("编码") as bar:
        d = svc.rebuild("demand", bar)
        t = svc.rebuild("talent", bar)
    out.print(f"索引已重建：需求 {d} 条，人才 {t} 条。")
    svc.close()


@index_app.command("status")
def index_status() -> None:
    """索引与数据库是否一致。"""
    svc = _service()
    for kind in ("demand", "talent"):
        svc.ensure_index(kind)
    out.print_json(data=svc.index_status())
    svc.close()


# -- keys and audit ------------------------------------------------------------------------


def _store():
    from matcher.storage.store import Store

    settings = _settings()
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
    err.print(f"已创建 {info['role']} 密钥（编号 {info['id']}{scope}）。请立即保存，之后无法再次查看：", highlight=False)
    print(key)


@keys_app.command("list")
def keys_list(include_revoked: Annotated[bool, typer.Option("--all", help="包括已吊销的密钥")] = False,
              fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table) -> None:
    """列出密钥（只显示前缀，不显示明文）。"""
    store = _store()
    try:
        keys = store.list_keys(include_revoked=include_revoked)
    finally:
        store.close()
    if fmt == Fmt.json:
        out.print_json(data=keys)
        return
    table = Table("编号", "前缀", "角色", "企业", "人才档案", "备注", "创建时间", "状态")
    for k in keys:
        table.add_row(str(k["id"]), k["prefix"], k["role"], str(k["enterprise_id"] or ""), str(k["talent_id"] or ""),
                      k["label"], k["created_at"][:19], "已吊销" if k["revoked"] else "有效")
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
    store = _store()
    try:
        items, total = store.list_audit(limit=limit, resource=resource, resource_id=resource_id, action=action)
    finally:
        store.close()
    if fmt == Fmt.json:
        out.print_json(data={"items": items, "total": total})
        return
    table = Table("时间", "角色", "密钥", "操作", "资源", "编号", "详情")
    for a in items:
        table.add_row(a["at"][:19], a["actor_role"], str(a["actor_key_id"] or ""), a["action"], a["resource"],
                      a["resource_id"], json.dumps(a["detail"], ensure_ascii=False) if a["detail"] else "")
    out.print(table)
    out.print(f"共 {total} 条，显示最新 {len(items)} 条。")


# -- demo and serve ------------------------------------------------------------------------


def vector_seed_path(demo_dir: Path, encoder_name: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in encoder_name)
    return demo_dir / f"vectors-{safe}.npz"


def seed_vector_cache(svc: Any, demo_dir: Path) -> int:
    """Preload the encoding cache with the shipped vectors of the demo texts, if any.

    The cache is keyed by text hash, so a vector whose text changed is simply never used.
    """
    import numpy as np

    path = vector_seed_path(demo_dir, svc.encoder.name)
    if not path.exists():
        return 0
    with np.load(path) as data:
        hashes, vectors = data["hashes"], data["vectors"].astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    items = {str(h): v for h, v in zip(hashes, vectors, strict=True)}
    svc.store.put_many_vectors(svc.encoder.name, items)
    return len(items)


def load_demo(svc: Any, demo_dir: Path) -> dict[str, int]:
    """Load the bundled synthetic demo set into an empty store."""
    from matcher.domain.schemas import Enterprise
    from matcher.ingest.importer import load_mapping, read_records

    counts: dict[str, int] = {"chains": svc.load_chain_registries()}
    if svc.store.count("demand") or svc.store.count("talent"):
        counts["skipped"] = 1
        return counts
    counts["cached_vectors"] = seed_vector_cache(svc, demo_dir)
    ent_path = demo_dir / "enterprises.jsonl"
    n = 0
    if ent_path.exists():
        for line in ent_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data = json.loads(line)
                data.pop("id", None)
                if data.get("chain_id"):
                    data["chain_id"] = svc.resolve_chain(data["chain_id"])
                svc.store.add_enterprise(Enterprise.model_validate(data))
                n += 1
    counts["enterprises"] = n
    for kind, fname in (("demands", "demands.jsonl"), ("talents", "talents.jsonl")):
        result = read_records(demo_dir / fname, kind)  # type: ignore[arg-type]
        with _Bar(f"编码{fname}", total=len(result.records)) as bar:
            report = svc.import_rows(kind, result.records, result.errors, skip_invalid=False, progress=bar)
        counts[kind] = len(report["ids"])
    for cat_file in sorted(demo_dir.glob("catalogue_*.csv")):
        mapping = cat_file.with_suffix(".mapping.json")
        stem = cat_file.stem.split("_")  # catalogue_<registry>_<year>
        result = read_records(cat_file, "catalogue", load_mapping(mapping) if mapping.exists() else None)
        region = {"zibo": "淄博市", "shandong": "山东省"}.get(stem[1], stem[1])
        cat = Catalogue(region=region, year=int(stem[2]), name=f"{region}{stem[2]}年急需紧缺数字工程师目录（演示）",
                        chain_registry=stem[1])
        with _Bar("编码目录", total=len(result.records)) as bar:
            report = svc.import_rows("catalogue", result.records, result.errors, skip_invalid=False,
                                     catalogue=cat, progress=bar)
        counts["catalogue_entries"] = counts.get("catalogue_entries", 0) + len(report["ids"])
    return counts


def demo_keys(svc: Any) -> list[tuple[str, str]]:
    """Fresh keys for trying each role on the demo data: an administrator, an organiser, the
    first enterprise and the first talent profile."""
    out_keys = [("管理员 admin", svc.store.create_key("admin", label="demo")[0]),
                ("活动组织方 organiser", svc.store.create_key("organiser", label="demo")[0])]
    enterprises = svc.store.list_enterprises(0, 1)
    if enterprises:
        key = svc.store.create_key("enterprise", enterprise_id=enterprises[0].id, label="demo")[0]
        out_keys.append((f"企业 enterprise（{enterprises[0].name}）", key))
    talents, _ = svc.store.list("talent", limit=1)
    if talents:
        key = svc.store.create_key("seeker", talent_id=talents[0].id, label="demo")[0]
        out_keys.append((f"求职者 seeker（人才档案 {talents[0].id}）", key))
    return out_keys


@demo_app.callback()
def demo(
    ctx: typer.Context,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="加载后启动 API 服务")] = True,
    demo_dir: Annotated[Path | None, typer.Option(help="演示数据目录")] = None,
) -> None:
    """把合成演示数据加载进嵌入式 SQLite（若为空），建立索引，然后在 127.0.0.1:8000 提供 API。"""
    if ctx.invoked_subcommand:
        return
    settings = _settings()
    svc = _service(settings)
    counts = load_demo(svc, demo_dir or settings.reference_dir / "demo")
    if counts.pop("skipped", None):
        out.print("数据库中已有数据，跳过演示数据加载。")
    else:
        out.print("已加载演示数据（合成数据）：" + "，".join(f"{k} {v}" for k, v in counts.items()))
    with _Bar("建立索引") as bar:
        svc.sync(progress=bar)
    svc.coder  # noqa: B018 - warm the occupation coder's vectors before serving
    keys = demo_keys(svc)
    svc.close()
    out.print(f"演示用密钥（只显示这一次）：网页 http://{settings.host}:{settings.port}/login 登录，或调用 API 时放在请求头 "
              "Authorization: Bearer <密钥>")
    for label, key in keys:
        out.print(f"  {label}：{key}", highlight=False)
    if serve_after:
        serve(settings.host, settings.port)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    proxy_headers: Annotated[bool, typer.Option(
        "--proxy-headers/--no-proxy-headers",
        help="信任反向代理的 X-Forwarded-Proto / X-Forwarded-For（仅限 --forwarded-allow-ips 中的代理）；"
             "经 TLS 代理访问时会话 Cookie 因此带 Secure")] = True,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        help="可信代理的 IP（逗号分隔，* 表示全部）；默认取环境变量 FORWARDED_ALLOW_IPS，否则 127.0.0.1")] = None,
) -> None:
    """启动 HTTP API（Ctrl-C 停止）。"""
    import uvicorn

    out.print(f"API 服务：http://{host}:{port}/docs （Ctrl-C 停止）")
    # the HTTP layer is named, not imported: the core knows no HTTP (settings come from the
    # environment, as here)
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, log_level="info", proxy_headers=proxy_headers,
                forwarded_allow_ips=forwarded_allow_ips)


def main() -> None:
    """Entry point: domain errors become a message and a non-zero exit, never a traceback."""
    try:
        app(standalone_mode=False)
    except ImportRejected as exc:
        err.print(f"[red]错误：[/red]{exc.detail}", highlight=False)
        _print_errors(exc.errors)
        sys.exit(1)
    except TalentMatchError as exc:
        err.print(f"[red]错误：[/red]{exc.detail}", highlight=False)
        for e in getattr(exc, "errors", [])[:20]:
            err.print(f"  {e}", markup=False)
        sys.exit(2 if exc.status < 500 else 1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("已中止。")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("已中止。")
        sys.exit(130)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error: click's own message
            exc.show()
            sys.exit(exc.exit_code or 2)
        if os.environ.get("TALENTMATCH_DEBUG"):
            raise
        err.print(f"[red]内部错误：[/red]{type(exc).__name__}: {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
