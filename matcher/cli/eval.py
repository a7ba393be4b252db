"""CLI command ``eval``: ranking quality of the project and two baselines on a labelled file.

Registered in ``matcher.cli.main`` with ``app.command("eval")(eval_command)``; errors are raised as
domain errors and turned into messages and exit codes by ``matcher.cli.main``.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from matcher.cli.common import Fmt, err, out

if TYPE_CHECKING:  # the evaluation module is heavy: imported when the command runs
    from matcher.evaluation.harness import EvalReport

METRIC_ZH = {"acc_at_1": "首位命中", "recall_at_5": "前5召回", "recall_at_10": "前10召回",
             "mrr_at_10": "倒数排名", "ndcg_at_10": "折损增益"}


class TaskOpt(StrEnum):
    occupations = "occupations"
    match = "match"


EvalFmt = Fmt
SYNTHETIC_PREFIX = "synthetic_"  # data/eval/synthetic_*.jsonl: rule-built sanity checks


def eval_command(
    file: Annotated[Path, typer.Argument(help="标注文件（JSON Lines）：每行一条查询及其标准答案")],
    task: Annotated[TaskOpt, typer.Option("--task", help="occupations：职业编码；match：人岗匹配")] = TaskOpt.occupations,
    corpus: Annotated[Path | None, typer.Option(
        "--corpus", help="match：先把这份需求条目文件（JSONL/CSV/XLSX）导入独立的工作目录再评测，不动现有数据库")] = None,
    work_dir: Annotated[Path | None, typer.Option(
        "--work-dir", help="--corpus 的工作目录（默认 <数据目录>/eval/<语料名>-<哈希>，可重复使用）")] = None,
    fmt: Annotated[EvalFmt, typer.Option("--format", help="table：表格；json：完整结果")] = EvalFmt.table,
    details: Annotated[Path | None, typer.Option(
        "--details", help="把每条查询的各方法前 10 名与首个命中位置写入该 JSONL 文件")] = None,
    include_ineligible: Annotated[bool, typer.Option(
        "--include-ineligible", help="match：项目排序也列出未满足硬性要求的结果")] = False,
) -> None:
    """评测排序质量：项目方法与 BM25、纯向量两个基线在同一数据上的 Acc@1、Recall@5/10、MRR@10、nDCG@10。"""
    from matcher.cli.common import ProgressBar, run_service, run_settings
    from matcher.domain.schemas import MatchFilters
    from matcher.evaluation.harness import corpus_settings, evaluate, load_corpus, read_eval_file

    queries, errors = read_eval_file(file)
    settings = run_settings()
    if corpus is not None:
        if task != TaskOpt.match:
            from matcher.core.errors import InvalidInput

            raise InvalidInput("--corpus 只用于 --task match")
        settings = corpus_settings(settings, corpus, work_dir)
    svc = run_service(settings)
    try:
        if corpus is not None:
            with ProgressBar("导入语料") as bar:
                info = load_corpus(svc, corpus, progress=bar)
            err.print(f"语料 {corpus}：{info['entries']} 条需求条目，"
                      f"{'复用' if info['reused'] else '已导入'}工作目录 {settings.data_dir}", highlight=False)
        with ProgressBar("评测", total=len(queries)) as bar:
            report = evaluate(svc, queries, task.value, errors=errors,
                              filters=MatchFilters(include_ineligible=include_ineligible),
                              progress=bar, details=details is not None, file=str(file))
    finally:
        svc.close()
    if details is not None:
        details.write_text("".join(json.dumps(o.model_dump(mode="json"), ensure_ascii=False) + "\n"
                                   for o in report.outcomes), encoding="utf-8")
        report = report.model_copy(update={"outcomes": []})
    if fmt == EvalFmt.json:
        sys.stdout.write(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=1) + "\n")
        sys.stdout.flush()
        return
    show_report(report)


def _f(x: float) -> str:
    return f"{x:.3f}"


def show_report(report: EvalReport) -> None:
    """The metrics table (one row per ranker), the per-type table and the confidence notes."""
    from rich.table import Table

    from matcher.evaluation.harness import METRIC_LABELS, METRICS

    task = "职业编码 occupations" if report.task == "occupations" else "人岗匹配 match"
    if report.file and Path(report.file).name.startswith(SYNTHETIC_PREFIX):
        out.print("[yellow]注意：这是按规则由职业分类文本生成的合成集（sanity check），只用于发现退化，"
                  "不代表真实文本上的效果；真实岗位名称的结果见 bench/results/eval-realtitles-latest.md"
                  "（data/eval/real_titles_dev.jsonl，交叉验证）。[/yellow]")
    out.print(f"{report.file or '评测'}：{report.queries} 条查询，任务 {task}，编码器 {report.encoder}，"
              f"前 {report.k} 名；编码 {report.encode_seconds:.1f} 秒，共 {report.seconds:.1f} 秒", highlight=False)
    table = Table(title="排序质量 Ranking quality（均值，越高越好）")
    table.add_column("方法\nRanker", no_wrap=True)
    for m in METRICS:
        table.add_column(f"{METRIC_ZH[m]}\n{METRIC_LABELS[m]}", justify="right")
    for r in report.rankers:
        table.add_row(r.name, *(_f(getattr(r.metrics, m)) for m in METRICS))
    out.print(table)
    for r in report.rankers:
        out.print(f"  {r.name}：{r.label}，排序用时 {r.seconds:.1f} 秒", highlight=False)
    if any(r.by_type for r in report.rankers):
        types = list(report.rankers[0].by_type)
        by_type = Table(title="按查询类型 By query type（MRR@10 / Acc@1）")
        by_type.add_column("类型 Type")
        by_type.add_column("查询数 n", justify="right")
        for r in report.rankers:
            by_type.add_column(r.name, justify="right")
        for t in types:
            n = report.rankers[0].by_type[t].queries
            by_type.add_row(t, str(n), *(f"{_f(r.by_type[t].mrr_at_10)} / {_f(r.by_type[t].acc_at_1)}"
                                         for r in report.rankers))
        out.print(by_type)
    base = report.rankers[0]
    lo, hi = base.ci95["mrr_at_10"]
    notes = [f"{base.name} 的 MRR@10 95% 置信区间（bootstrap）：[{lo:.3f}, {hi:.3f}]"]
    for r in report.rankers[1:]:
        if r.delta_vs_project:
            d = r.delta_vs_project["mrr_at_10"]
            notes.append(f"{r.name} 与 {base.name} 的 MRR@10 差：{d.mean:+.3f}（95% 区间 [{d.ci95[0]:+.3f}, {d.ci95[1]:+.3f}]）")
    for n in notes:
        out.print(n, highlight=False)
