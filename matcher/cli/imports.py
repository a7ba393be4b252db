"""``talentmatch import``: talents, demands and catalogues from CSV, XLSX or JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from matcher.cli.common import (
    ProgressBar,
    err,
    out,
    print_errors,
    run_service,
)

if TYPE_CHECKING:  # pydantic models: imported by the commands that run (a fast --help)
    from matcher.domain.schemas import Catalogue

import_app = typer.Typer(no_args_is_help=True, help="导入人才、需求或目录文件（CSV、XLSX、JSONL）")

def _do_import(kind: str, file: Path, mapping: Path | None, skip_invalid: bool, sheet: str | None,
               catalogue: Catalogue | None = None, replace: bool = False, create_chains: bool = False) -> None:
    from matcher.ingest.fields import load_mapping
    from matcher.ingest.importer import read_records
    from matcher.ingest.table_reader import ReadLimits

    svc = run_service()
    if catalogue is not None:  # a region of the region table (淄博 -> 淄博市); 火星市 is refused here
        from matcher.reference.regions import resolve_region

        catalogue = catalogue.model_copy(update={"region": resolve_region(svc.reference.regions, catalogue.region).name})
    mp = load_mapping(mapping) if mapping else None
    result = read_records(file, kind, mp, sheet=sheet, limits=ReadLimits.from_settings(svc.settings))  # type: ignore[arg-type]
    for warning in result.warnings:
        err.print(f"[yellow]注意：{escape(warning)}[/yellow]")
    with ProgressBar("编码", total=len(result.records)) as bar:
        report = svc.import_rows(kind, result.records, result.errors, skip_invalid=skip_invalid,
                                 catalogue=catalogue, progress=bar, headers={t: h for h, t in result.columns.items()},
                                 replace=replace, create_chains=create_chains)
    if report.get("created_chains"):
        out.print(f"已新建 {len(report['created_chains'])} 条产业链：")
        for c in report["created_chains"]:
            out.print(f"  {escape(c['id'])}  {escape(c['name'])}")
    if report["errors"]:
        err.print(f"[yellow]跳过 {len(report['errors'])} 处错误：[/yellow]")
        print_errors(report["errors"])
    label = {"talents": "人才档案", "demands": "需求条目", "catalogue": "目录条目"}[kind]
    out.print(f"已导入 {len(report['ids'])} 条{label}（文件共 {result.total_rows} 行）。")
    if catalogue is not None:
        out.print(f"目录编号：{report['catalogue_id']}")
        if report.get("replaced"):
            old = report["replaced"]
            out.print(f"已替换原目录（编号 {old['id']}，{old['entries']} 条）。")
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
    replace: Annotated[bool, typer.Option("--replace", help="同一地区、年度的同一目录已导入时，整体替换它")] = False,
    create_chains: Annotated[bool, typer.Option("--create-chains",
                                                help="登记目录中出现但尚未登记的产业链，并打印新建的编号")] = False,
) -> None:
    """导入急需紧缺人才目录（条目作为 source=catalogue 的需求条目）。

    条目未写工作地点时，以 --region（为城市时）作为其城市。同一目录再次导入会被拒绝，除非指定 --replace。"""
    from matcher.domain.schemas import Catalogue

    cat = Catalogue(region=region, year=year, name=name, chain_registry=registry)
    _do_import("catalogue", file, mapping, skip_invalid, sheet, catalogue=cat, replace=replace,
               create_chains=create_chains)
