"""``talentmatch match``: ranked posts for a talent, talents for a post, or free text."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from matcher.cli.common import (
    Fmt,
    out,
    run_service,
)

if TYPE_CHECKING:  # pydantic models: imported by the commands that run (a fast --help)
    from matcher.domain.schemas import MatchFilters

match_app = typer.Typer(no_args_is_help=True, help="人岗匹配")


class Side(StrEnum):
    demands = "demands"
    talents = "talents"

TopK = Annotated[int, typer.Option("--top-k", min=1, max=200)]
FmtOpt = Annotated[Fmt, typer.Option("--format")]


def _filters(city: str | None, province: str | None, chain: str | None, fresh: bool, all_: bool) -> MatchFilters:
    from matcher.domain.schemas import MatchFilters

    return MatchFilters(city=city, province=province, chain_id=chain, fresh_graduates_only=fresh,
                        include_ineligible=all_)


def _show(matches: list, fmt: Fmt, header: str) -> None:
    """Matches (the service's models, or their JSON from a server) as a table or as JSON."""
    from rich.table import Table

    rows = [m if isinstance(m, dict) else m.model_dump(mode="json") for m in matches]
    if fmt == Fmt.json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    if not rows:
        out.print("没有符合条件的结果。")
        return
    table = Table(title=header, show_lines=True)
    for col in ("#", "编号", "名称", "匹配度", "求职方看", "用人方看", "匹配技能", "欠缺技能", "说明"):
        table.add_column(col, overflow="fold")
    for rank, m in enumerate(rows, 1):
        e = m.get("explanation") or {}
        notes = list(e.get("unmet_requirements") or []) + [t["message"] for t in (e.get("training") or [])[:1]]
        table.add_row(str(rank), str(m["id"]), m["title"], f"{m['score']:.0%}", f"{m['seeker_score']:.0%}",
                      f"{m['employer_score']:.0%}", "、".join(e.get("matched_skills") or []),
                      "、".join(e.get("missing_skills") or []), "\n".join(notes))
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
    svc = run_service()
    res = svc.match_talent(talent_id, top_k, _filters(city, province, chain, fresh, all_))
    _show(res, fmt, f"人才 {talent_id} 的推荐岗位")
    svc.close()


@match_app.command("demand")
def match_demand(demand_id: int, top_k: TopK = 10, fmt: FmtOpt = Fmt.table, city: City = None,
                 province: Province = None, chain: Chain = None, fresh: Fresh = False, all_: All = False) -> None:
    """为一个需求条目推荐人才。"""
    svc = run_service()
    res = svc.match_demand(demand_id, top_k, _filters(city, province, chain, fresh, all_))
    _show(res, fmt, f"需求 {demand_id} 的推荐人才")
    svc.close()


@match_app.command("text")
def match_text(text: str, side: Annotated[Side, typer.Option("--side")] = Side.demands, top_k: TopK = 10,
               fmt: FmtOpt = Fmt.table, city: City = None, province: Province = None, chain: Chain = None,
               fresh: Fresh = False, all_: All = False,
               local: Annotated[bool, typer.Option("--local", help="即使设置了 TALENTMATCH_URL 也在本机计算")] = False,
               ) -> None:
    """用一段自由文本检索岗位（--side demands）或人才（--side talents）。

    设置了 TALENTMATCH_URL（及 TALENTMATCH_API_KEY）时，交给该地址上运行的服务计算（不在本机加载模型）。"""
    from matcher.cli import remote

    header = f"“{text[:30]}”的检索结果"
    target = None if local else remote.server()
    if target is not None:
        body = {"text": text, "side": side.value, "top_k": top_k,
                "filters": {"city": city, "province": province, "chain_id": chain,
                            "fresh_graduates_only": fresh, "include_ineligible": all_}}
        _show(remote.post(*target, "/v1/match", body), fmt, header)
        return
    svc = run_service()
    res = svc.match_text(text, side.value, top_k, _filters(city, province, chain, fresh, all_))
    _show(res, fmt, header)
    svc.close()
