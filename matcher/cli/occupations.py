"""``talentmatch occupations``: CSCO 2022 occupation coding and search."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from matcher.cli.common import (
    out,
    run_service,
    run_settings,
)

occupations_app = typer.Typer(no_args_is_help=True, help="职业分类（CSCO 2022）编码与查询")


class CodeFmt(StrEnum):
    jsonl = "jsonl"
    table = "table"


class QueriesOpt(StrEnum):
    fast = "fast"
    e5 = "e5"


@occupations_app.command("code")
def occupations_code(
    file: Annotated[Path, typer.Argument(help="每行一个岗位名称（UTF-8）；- 表示标准输入")],
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100)] = 10,
    fmt: Annotated[CodeFmt, typer.Option("--format")] = CodeFmt.jsonl,
    batch: Annotated[int, typer.Option(min=1, max=4096)] = 1024,
    queries: Annotated[QueriesOpt | None, typer.Option(
        "--queries", help="岗位名称的编码方式：fast＝静态编码器（每秒数千条，默认，配置项 coder_queries）；"
                          "e5＝e5 模型（新名称每秒约 20 条）")] = None,
    recheck_below: Annotated[float, typer.Option(
        "--recheck-below", min=0.0, max=1.0,
        help="fast 方式下，首选编码置信度低于此值的名称再用 e5 编码复核（更准、更慢；默认 0＝不复核）")] = 0.0,
) -> None:
    """把自由文本的岗位名称映射到 CSCO 2022 职业编码（每行输出一个 JSON 对象，顺序与输入一致；
    confidence 为编码正确的概率，低于 0.5 时建议标为“待确认”）。"""
    from rich.table import Table
    lines = _read_lines(file)
    svc = run_service()
    distinct = list(dict.fromkeys(lines))  # a title repeated in the file is coded once
    coded: dict[str, list] = {}
    for start in range(0, len(distinct), batch):
        chunk = distinct[start : start + batch]
        coded.update(zip(chunk, svc.code_occupations(chunk, top_k, queries=queries and queries.value,
                                                              recheck_below=recheck_below), strict=True))
    for start in range(0, len(lines), batch):
        chunk = lines[start : start + batch]
        results = [coded[q] for q in chunk]
        for query, cands in zip(chunk, results, strict=True):
            if fmt == CodeFmt.jsonl:
                sys.stdout.write(json.dumps({"query": query, "candidates": [c.model_dump() for c in cands]},
                                            ensure_ascii=False) + "\n")
            else:
                table = Table(title=query)
                for col in ("编码", "职业名称", "得分", "置信度"):
                    table.add_column(col)
                for c in cands:
                    table.add_row(c.code, c.name, f"{c.score:.3f}",
                                  "-" if c.confidence is None else f"{c.confidence:.2f}")
                out.print(table)
    sys.stdout.flush()


def _read_lines(file: Path) -> list[str]:
    from matcher.ingest.parsing import read_utf8

    return [line.strip() for line in read_utf8(file).splitlines()]


@occupations_app.command("search")
def occupations_search(q: str, limit: Annotated[int, typer.Option(min=1, max=200)] = 20) -> None:
    """按名称或编码前缀查询职业。"""
    from rich.table import Table

    from matcher.reference.occupations import Taxonomy

    tax = Taxonomy.load(run_settings().reference_dir / "csco22_occupations.csv")
    table = Table()
    for col in ("编码", "职业名称", "数字职业"):
        table.add_column(col)
    for o in tax.search(q, limit):
        table.add_row(o.code, o.name, "是" if o.digital else "")
    out.print(table)
