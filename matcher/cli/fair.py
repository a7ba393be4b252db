"""``talentmatch fair``: job-fair batch matching from the command line.

Domain errors propagate to ``matcher.cli.main``, which prints them in Chinese with an exit code.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from matcher.cli.common import Fmt, err, out, run_service
from matcher.core.localtime import local_time

fair_app = typer.Typer(no_args_is_help=True, help="招聘活动（人才对接活动、高校人才直通车）批量匹配与面试排期")



class Mode(StrEnum):
    optimal = "optimal"
    stable = "stable"


class Executor(StrEnum):
    local = "local"
    ray = "ray"


class SolverOpt(StrEnum):
    auto = "auto"
    lp = "lp"
    flow = "flow"
    assignment = "assignment"


ShowFmt = Fmt


class _StageBar:
    """A progress bar per stage (评分, 分配, ...), drawn only on a terminal."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _StageBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


# -- import --------------------------------------------------------------------------------------

FileOpt = Annotated[Path | None, typer.Option(help="单独指定该表的文件（CSV、XLSX 或 JSONL）")]


@fair_app.command("import")
def fair_import(
    source: Annotated[Path | None, typer.Argument(help="活动工作簿 FAIR.xlsx，或放有各表文件的文件夹")] = None,
    name: Annotated[str | None, typer.Option(help="活动名称（默认取“活动”表或文件名）")] = None,
    mapping: Annotated[Path | None, typer.Option(help="列映射 JSON：{\"posts\": {...}, \"seekers\": {...}}")] = None,
    posts: FileOpt = None,
    seekers: FileOpt = None,
    wishes: FileOpt = None,
    slots: FileOpt = None,
    info: Annotated[Path | None, typer.Option("--info", help="活动设置表的文件")] = None,
) -> None:
    """导入一场招聘活动：岗位（面试名额、展位）、报名求职者（面试上限）、意向与展位时段。全部有效才写入。"""
    from matcher.core.errors import InvalidInput
    from matcher.fair.files import import_fair_file, load_fair_mapping

    files = {k: v for k, v in (("posts", posts), ("seekers", seekers), ("wishes", wishes), ("slots", slots),
                               ("fair", info)) if v is not None}
    if source is None and not files:
        raise InvalidInput("请给出活动文件（FAIR.xlsx 或文件夹），或用 --posts、--seekers 指定各表文件")
    mp = load_fair_mapping(mapping) if mapping else None
    svc = run_service()
    try:
        with _StageBar() as bar:
            detail = import_fair_file(svc, source, files=files or None, mapping=mp, name=name, progress=bar)
    finally:
        svc.close()
    c = detail.created
    out.print(f"已创建招聘活动 {detail.id}：{detail.name}")
    out.print(f"岗位 {len(detail.posts)} 个（新建 {c.get('new_posts', 0)}，复用 {c.get('reused_posts', 0)}），"
              f"求职者 {len(detail.seekers)} 位（新建 {c.get('new_seekers', 0)}，复用 {c.get('reused_seekers', 0)}），"
              f"意向 {len(detail.wishes)} 条，展位 {len(detail.booths)} 个，时段 {len(detail.slots)} 个。")
    for w in detail.warnings:
        err.print(f"[yellow]提示：[/yellow]{w}", highlight=False)


@fair_app.command("template")
def fair_template(out_file: Annotated[Path, typer.Argument(help="写出的空白模板，如 fair_template.xlsx")]) -> None:
    """写出一份招聘活动导入模板（活动、岗位、求职者、意向、时段五张表，各有一行示例）。"""
    from matcher.fair.files import template_workbook

    out_file.write_bytes(template_workbook())
    out.print(f"已写出模板：{out_file}")


# -- read ----------------------------------------------------------------------------------------


@fair_app.command("list")
def fair_list() -> None:
    """列出全部招聘活动。"""
    from rich.table import Table

    from matcher.fair.engine import list_fairs

    svc = run_service()
    try:
        fairs = list_fairs(svc)
    finally:
        svc.close()
    if not fairs:
        out.print("还没有招聘活动。用 talentmatch fair import FAIR.xlsx 导入。")
        return
    table = Table()
    for col in ("编号", "名称", "日期", "地点", "岗位", "求职者", "匹配次数"):
        table.add_column(col)
    for f in fairs:
        table.add_row(str(f.id), f.name, str(f.held_on or ""), f.venue or "", str(f.posts), str(f.seekers),
                      str(f.runs))
    out.print(table)


@fair_app.command("show")
def fair_show(fair_id: int, fmt: Annotated[ShowFmt, typer.Option("--format")] = ShowFmt.table) -> None:
    """查看一场招聘活动：设置、展位负荷与提示。"""
    from rich.table import Table

    from matcher.fair.engine import get_fair, list_runs

    svc = run_service()
    try:
        detail = get_fair(svc, fair_id)
        runs = list_runs(svc, fair_id)
    finally:
        svc.close()
    if fmt == ShowFmt.json:
        sys.stdout.write(json.dumps(detail.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n")
        return
    out.print(f"[bold]招聘活动 {detail.id}：{detail.name}[/bold]", highlight=False)
    out.print(f"日期 {detail.held_on or '未填'}，地点 {detail.venue or '未填'}；每场 {detail.slot_minutes} 分钟，"
              f"每人面试上限默认 {detail.default_limit}，每岗位面试名额默认 {detail.default_capacity}", highlight=False)
    out.print(f"岗位 {len(detail.posts)} 个（面试名额合计 {sum(p.capacity for p in detail.posts)}），"
              f"求职者 {len(detail.seekers)} 位（面试上限合计 {sum(s.limit for s in detail.seekers)}），"
              f"意向 {len(detail.wishes)} 条", highlight=False)
    table = Table(title="展位")
    for col in ("展位", "岗位数", "面试名额", "时段数", "开始", "结束"):
        table.add_column(col)
    for b in detail.booths:
        table.add_row(b.booth, str(b.posts), str(b.capacity), str(b.slots), b.first_start or "", b.last_end or "")
    out.print(table)
    for w in detail.warnings:
        err.print(f"[yellow]提示：[/yellow]{w}", highlight=False)
    if runs:
        rt = Table(title="匹配记录")
        for col in ("结果编号", "模式", "时间（北京时间）", "面试场数", "总匹配度", "获得面试占比", "双方都更愿意彼此的组合",
                    "总匹配度差距"):
            rt.add_column(col)
        for r in runs:
            rt.add_row(str(r.run_id), "最优" if r.mode == "optimal" else "稳定",
                       local_time(r.created_at), str(r.interviews),
                       f"{r.total_fit:.2f}", _pct(r.seeker_share), str(r.blocking_pairs), f"{r.welfare_gap:.2f}")
        out.print(rt)


# -- run -----------------------------------------------------------------------------------------


def _print_report(result: Any, written: list[Path]) -> None:
    from rich.table import Table
    r = result.report
    mode = "最优" if r.mode == "optimal" else "稳定"
    run = f"（结果编号 {result.run_id}）" if result.run_id else ""
    out.print(f"[bold]{result.fair_name}：{mode}模式匹配完成{run}[/bold]", highlight=False)
    table = Table(show_header=False)
    table.add_column("指标")
    table.add_column("数值", justify="right")
    for label, value in (
        ("面试场数", f"{r.interviews}"),
        ("总匹配度 / 平均每场", f"{r.total_fit:.2f} / {r.mean_fit * 100:.0f}%"),
        ("获得面试的求职者", f"{r.seekers_with_interview} / {r.seekers}（{_pct(r.seeker_share)}）"),
        ("面试名额填充率", _pct(r.capacity_fill)),
        ("已排期 / 未排期", f"{r.scheduled} / {r.unscheduled}"),
        ("展位时段占用率", _pct(r.slot_fill)),
        ("稳定性：双方都更愿意彼此的组合", f"{r.blocking_pairs} 对"),
        ("最优 / 稳定总匹配度", f"{r.optimal_total:.2f} / {r.stable_total:.2f}"),
        ("总匹配度差距（最优 − 稳定）", f"{r.welfare_gap:.2f}（{_pct(r.welfare_gap_share)}）"),
        ("未安排面试的求职者", f"{len(r.unmatched)} 人（名单与原因见导出文件“未安排面试”表）"),
        ("候选组合（不合格 / 低于门槛）", f"{r.candidate_pairs}（{r.ineligible_pairs} / {r.below_min_pairs}）"),
        ("计算用时", f"{r.timings.get('total', 0):.1f} 秒"),
    ):
        table.add_row(label, value)
    out.print(table)
    for w in r.warnings:
        err.print(f"[yellow]提示：[/yellow]{w}", highlight=False)
    for p in written:
        out.print(f"已写出：{p}")


@fair_app.command("run")
def fair_run(
    fair_id: int,
    mode: Annotated[Mode, typer.Option("--mode", help="optimal：总匹配度最大；stable：延迟接受，没有双方都更愿意彼此的组合")] = Mode.optimal,
    out_file: Annotated[Path | None, typer.Option("--out", help="结果文件 RESULT.xlsx、.csv 或 .json")] = None,
    min_score: Annotated[float, typer.Option("--min-score", min=0.0, max=1.0, help="最低匹配度，0–1（0.3 即 30%）")] = 0.3,
    top_n: Annotated[int, typer.Option("--top-n", min=1, help="每位求职者按相似度保留的岗位数")] = 40,
    post_top: Annotated[int, typer.Option("--post-top", min=0, help="每个岗位按相似度保留的求职者数")] = 20,
    solver: Annotated[SolverOpt, typer.Option("--solver", help="最优模式求解器")] = SolverOpt.auto,
    fresh_only: Annotated[bool, typer.Option("--fresh-only", help="只安排面向应届生的岗位")] = False,
    no_save: Annotated[bool, typer.Option("--no-save", help="不保存本次结果")] = False,
    executor: Annotated[Executor, typer.Option("--executor", help="候选组合在哪里评分：local=本进程；ray=分片交给 Ray 集群（大型活动）")] = Executor.local,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", help="加入已有 Ray 集群（auto、host:port 或 ray://host:10001）；默认读 TALENTMATCH_RAY_ADDRESS，都没有则在本机启动")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="Ray 工作进程数（默认：集群的 CPU 数）")] = None,
) -> None:
    """为一场招聘活动批量匹配并排期，写出 分配结果、展位日程、求职者日程、汇总。"""
    from matcher.core.errors import InvalidInput
    from matcher.domain.schemas import MatchFilters
    from matcher.fair.engine import FairRunOptions, run_fair
    from matcher.fair.files import write_result

    if out_file is not None and out_file.suffix.lower() not in (".xlsx", ".csv", ".json"):
        raise InvalidInput(f"无法从文件名“{out_file.name}”判断导出格式：请用 .xlsx、.csv 或 .json")
    options = FairRunOptions(mode=mode.value, min_score=min_score, top_n=top_n, post_top=post_top,
                             solver=solver.value, save=not no_save,
                             filters=MatchFilters(fresh_graduates_only=True) if fresh_only else None)
    svc = run_service()
    try:
        scorer = None
        if executor == Executor.ray:
            from matcher.batch.fair import RayPairScorer

            scorer = RayPairScorer(svc.settings, svc.weights, address=ray_address, workers=workers)
        elif ray_address or workers:
            raise InvalidInput("--ray-address 和 --workers 只用于 --executor ray")
        with _StageBar() as bar:
            result = run_fair(svc, fair_id, options, progress=bar, scorer=scorer)
    finally:
        svc.close()
    written = write_result(result, out_file) if out_file is not None else []
    _print_report(result, written)


@fair_app.command("runs")
def fair_runs(fair_id: int) -> None:
    """列出一场活动的历次匹配结果。"""
    from rich.table import Table

    from matcher.fair.engine import list_runs

    svc = run_service()
    try:
        runs = list_runs(svc, fair_id)
    finally:
        svc.close()
    if not runs:
        out.print("该活动还没有匹配结果。")
        return
    table = Table()
    for col in ("结果编号", "模式", "时间（北京时间）", "面试场数", "总匹配度", "获得面试占比", "双方都更愿意彼此的组合",
                    "总匹配度差距"):
        table.add_column(col)
    for r in runs:
        table.add_row(str(r.run_id), "最优" if r.mode == "optimal" else "稳定", local_time(r.created_at),
                      str(r.interviews), f"{r.total_fit:.2f}", _pct(r.seeker_share), str(r.blocking_pairs),
                      f"{r.welfare_gap:.2f}")
    out.print(table)


@fair_app.command("export")
def fair_export(
    run_id: int,
    out_file: Annotated[Path, typer.Option("--out", help="RESULT.xlsx、.csv 或 .json")],
) -> None:
    """导出一次已保存的匹配结果。"""
    from matcher.fair.engine import get_run
    from matcher.fair.files import write_result

    svc = run_service()
    try:
        result = get_run(svc, run_id)
    finally:
        svc.close()
    for p in write_result(result, out_file):
        out.print(f"已写出：{p}")


@fair_app.command("delete")
def fair_delete(fair_id: int, yes: Annotated[bool, typer.Option("--yes", help="不再确认")] = False) -> None:
    """删除一场招聘活动及其匹配结果（岗位与人才档案保留）。"""
    from matcher.fair.engine import delete_fair, get_fair

    svc = run_service()
    try:
        detail = get_fair(svc, fair_id)
        if not yes and not typer.confirm(f"删除招聘活动 {fair_id}（{detail.name}）及其匹配结果？"):
            raise typer.Abort()
        delete_fair(svc, fair_id)
    finally:
        svc.close()
    out.print(f"已删除招聘活动 {fair_id}。")
