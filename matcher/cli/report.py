"""CLI sub-apps: ``report`` (gap, salary), ``catalogue`` (list, compare), ``chains`` (list, load,
suggest, evaluate) and ``zone`` (list, subscribe, subscriptions, unsubscribe, feed).

Registered in ``matcher.cli.main`` with ``app.add_typer``; errors are raised as domain errors and
turned into messages and exit codes by ``matcher.cli.main``.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from matcher.cli.common import Fmt, Step, err, out, run_service
from matcher.core.errors import InvalidInput

report_app = typer.Typer(no_args_is_help=True, help="供需缺口报告与工资价位")
catalogue_app = typer.Typer(no_args_is_help=True, help="急需紧缺人才目录：列表与年度比较")
chains_app = typer.Typer(no_args_is_help=True, help="产业链名录：查看、导入、归链建议")
zone_app = typer.Typer(no_args_is_help=True, help="高校人才直通车：应届生岗位专区与订阅")



class ReportFmt(StrEnum):
    html = "html"
    json = "json"


class Demand(StrEnum):
    catalogue = "catalogue"
    posts = "posts"
    all = "all"


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n")
    sys.stdout.flush()


def _table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table
    table = Table(title=title)
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*("" if v is None else str(v) for v in r))
    out.print(table)


def _pct(v: float | None) -> str:
    from matcher.analytics.report import pct

    return pct(v)


Region = Annotated[str, typer.Option("--region", help="地区（城市或省份），如 淄博市")]
Year = Annotated[int, typer.Option("--year", min=2000, max=2100, help="年度")]
FmtOpt = Annotated[Fmt, typer.Option("--format")]


# -- report -------------------------------------------------------------------------------------


@report_app.command("gap")
def report_gap(
    region: Region,
    year: Year,
    out_path: Annotated[Path | None, typer.Option(
        "--out", help="输出文件；不填则写到当前目录的 供需报告-地区-年度.html（或 .json）；填 - 则写到标准输出")] = None,
    fmt: Annotated[ReportFmt, typer.Option("--format", help="html（网页报告）或 json（全部数字）")] = ReportFmt.html,
    threshold: Annotated[float, typer.Option(min=0, max=1, help="合格阈值（双向匹配得分）")] = 0.6,
    demand: Annotated[Demand, typer.Option(help="需求口径：catalogue 目录，posts 在招岗位，all 两者")] = Demand.catalogue,
    pool: Annotated[int, typer.Option(min=0, max=100_000, help="每个岗位评分的候选人才数；0 表示全部")] = 200,
    probability_threshold: Annotated[float, typer.Option(min=0.001, max=1, help="已上线校准排序模型时的合格阈值"
                                                         "（正向结果概率）")] = 0.1,
    score_only: Annotated[bool, typer.Option("--score-only", help="忽略已上线的排序模型，按双向匹配得分判定合格")] = False,
) -> None:
    """供需缺口报告：分产业链、分职业的需求人数、合格人才、缺口、适配度，欠缺技能与培训方向，工资价位。"""
    from matcher.analytics.gap import GapQuery, gap_report
    from matcher.analytics.report import render_gap_html

    svc = run_service()
    try:
        with Step(f"正在计算 {region} {year} 年供需缺口"):
            rep = gap_report(svc, GapQuery(region=region, year=year, threshold=threshold, demand=demand.value,
                                           pool=pool or None, probability_threshold=probability_threshold,
                                           ranker="weighted" if score_only else "auto"))
    finally:
        svc.close()
    text = render_gap_html(rep) if fmt == ReportFmt.html else rep.model_dump_json(indent=2)
    o = rep.overall
    basis = (f"正向结果概率 ≥ {rep.threshold:g}，模型 {rep.ranker}" if rep.threshold_kind == "probability"
             else f"阈值 {rep.threshold:g}")
    summary = (f"{rep.region} {rep.year} 年适配度 {_pct(o.fit_rate)}（{basis}，目标 {_pct(rep.target)}）："
               f"需求 {o.headcount} 人，可满足 {o.met} 人，缺口 {o.gap} 人；供给人才 {rep.supply} 人。")
    if str(out_path) == "-":
        sys.stdout.write(text + "\n")
        err.print(summary, highlight=False)
        return
    if out_path is None:
        out_path = Path(f"供需报告-{rep.region}-{rep.year}.{fmt.value}")
    try:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"无法写入 {out_path}：{exc.strerror or exc}") from None
    out.print(summary, highlight=False)
    out.print(f"报告已写入：{out_path.resolve()}", highlight=False)


@report_app.command("salary")
def report_salary(region: Region, year: Year, fmt: FmtOpt = Fmt.table,
                  demand: Annotated[Demand, typer.Option(help="需求口径")] = Demand.all) -> None:
    """工资价位：按职业统计需求条目月薪的分位数（元/月）。"""
    from matcher.analytics.gap import SalaryQuery, salary_report

    svc = run_service()
    try:
        rep = salary_report(svc, SalaryQuery(region=region, year=year, demand=demand.value))
    finally:
        svc.close()
    if fmt == Fmt.json:
        _json(rep.model_dump(mode="json"))
        return
    _table(f"{rep.region} {rep.year} 年工资价位（元/月，{rep.entries} 个条目）",
           ["职业编码", "职业", "条目", "低位数", "25%", "中位数", "75%", "高位数", "平均"],
           [[s.occupation_code or "—", s.occupation_name, s.entries, s.p10, s.p25, s.p50, s.p75, s.p90, s.mean]
            for s in rep.occupations])
    out.print(rep.definition, highlight=False)


# -- catalogue ----------------------------------------------------------------------------------


@catalogue_app.command("list")
def catalogue_list(region: Annotated[str | None, typer.Option(help="只看该地区")] = None,
                   fmt: FmtOpt = Fmt.table) -> None:
    """已导入的目录：地区、年度、条目数。"""
    from matcher.analytics.catalogues import list_catalogues

    svc = run_service()
    try:
        cats = list_catalogues(svc, region)
    finally:
        svc.close()
    if fmt == Fmt.json:
        _json([c.model_dump(mode="json") for c in cats])
        return
    if not cats:
        out.print("还没有导入目录（talentmatch import catalogue …）。")
        return
    _table("急需紧缺人才目录", ["编号", "地区", "年度", "名称", "产业链名录", "条目"],
           [[c.id, c.region, c.year, c.name, c.chain_registry or "—", c.entries] for c in cats])


@catalogue_app.command("compare")
def catalogue_compare(
    region: Region,
    year_from: Annotated[int, typer.Option("--from", min=2000, max=2100, help="较早年度")],
    year_to: Annotated[int, typer.Option("--to", min=2000, max=2100, help="较晚年度")],
    fmt: FmtOpt = Fmt.table,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="每类最多列出的条目")] = 50,
) -> None:
    """比较同一地区两个年度的目录：新增、移除、紧缺星级 / 需求人数 / 任职要求的变化。"""
    from matcher.analytics.catalogues import compare_catalogues

    svc = run_service()
    try:
        cmp = compare_catalogues(svc, region, year_from, year_to)
    finally:
        svc.close()
    if fmt == Fmt.json:
        _json(cmp.model_dump(mode="json"))
        return
    s = cmp.summary
    out.print(f"{cmp.region} {cmp.year_from} → {cmp.year_to}：条目 {s.entries_from} → {s.entries_to}，"
              f"需求人数 {s.headcount_from} → {s.headcount_to}；新增 {s.added}，移除 {s.removed}，变更 {s.changed}"
              f"（紧缺星级升 {s.shortage_up} / 降 {s.shortage_down}，需求人数增 {s.headcount_up} / 减 {s.headcount_down}），"
              f"未变 {s.unchanged}。", highlight=False)

    def ref_row(e: Any) -> list[Any]:
        return [e.id, e.title, e.chain_name, e.occupation_name or "—",
                "★" * e.shortage_level if e.shortage_level else "—", e.headcount]

    cols = ["编号", "岗位", "产业链", "职业", "紧缺星级", "需求人数"]
    if cmp.added:
        _table(f"新增（{len(cmp.added)}）", cols, [ref_row(e) for e in cmp.added[:limit]])
    if cmp.removed:
        _table(f"移除（{len(cmp.removed)}）", cols, [ref_row(e) for e in cmp.removed[:limit]])
    if cmp.changed:
        _table(f"变更（{len(cmp.changed)}）", ["编号", "岗位", "产业链", "变化"],
               [[f"{c.before.id}→{c.after.id}", c.after.title if c.after.title == c.before.title
                 else f"{c.before.title}→{c.after.title}", c.after.chain_name,
                 "；".join(f"{f.label}：{f.before} → {f.after}" for f in c.changes)] for c in cmp.changed[:limit]])
    _table("分产业链", ["产业链", "条目", "需求人数", "新增", "移除", "变更"],
           [[r.chain_name, f"{r.entries_from}→{r.entries_to}", f"{r.headcount_from}→{r.headcount_to}", r.added,
             r.removed, r.changed] for r in cmp.by_chain])
    out.print(cmp.rule, highlight=False)


# -- chains -------------------------------------------------------------------------------------


@chains_app.command("list")
def chains_list(region: Annotated[str | None, typer.Option(help="只看该地区或名录")] = None,
                fmt: FmtOpt = Fmt.table) -> None:
    """产业链名录及其产业链。"""
    from matcher.analytics.registries import list_registries

    svc = run_service()
    try:
        chains = svc.store.list_chains(region)
        regs = list_registries(svc)
    finally:
        svc.close()
    if fmt == Fmt.json:
        _json({"registries": [r.model_dump() for r in regs], "chains": [c.model_dump() for c in chains]})
        return
    _table("产业链名录", ["名录", "地区", "产业链数"], [[r.registry, "、".join(r.regions), r.chains] for r in regs])
    _table("产业链", ["编号", "名称", "地区", "所属板块", "关键词"],
           [[c.id, c.name, c.region, c.parent_sector or "—", "、".join(c.keywords[:8])] for c in chains])


@chains_app.command("load")
def chains_load(
    file: Path,
    registry: Annotated[str | None, typer.Option(help="名录名称（默认取文件名），同名名录被替换")] = None,
    region: Annotated[str | None, typer.Option(help="文件中没有地区列时的地区")] = None,
    sheet: Annotated[str | None, typer.Option(help="XLSX 工作表名")] = None,
) -> None:
    """从 JSON、CSV 或 XLSX 文件导入产业链名录（如官方公布的名单），全部有效才写入。"""
    from matcher.analytics.registries import load_registry

    svc = run_service()
    try:
        res = load_registry(svc, file, registry=registry, region=region, sheet=sheet)
    finally:
        svc.close()
    out.print(f"已导入名录 {res.registry}（{res.region}）：{res.chains} 条产业链，替换原有 {res.replaced} 条。",
              highlight=False)
    if res.orphaned_entries:
        err.print(f"[yellow]注意：{res.orphaned_entries} 个需求条目的产业链已不在任何名录中。[/yellow]")


@chains_app.command("suggest")
def chains_suggest(
    text: str,
    title: Annotated[str, typer.Option(help="岗位名称（命中关键词权重加倍）")] = "",
    enterprise: Annotated[str | None, typer.Option(help="企业名称（库中企业的产业链优先）")] = None,
    city: Annotated[str | None, typer.Option(help="工作地点：只在覆盖该地的名录中选择")] = None,
) -> None:
    """为一段岗位描述建议所属产业链及置信度。"""
    from matcher.reference.chains import MIN_CONFIDENCE
    from matcher.storage.chains_repo import enterprise_of

    svc = run_service()
    try:
        ent = enterprise_of(svc.store, None, enterprise) if enterprise else None
        s = svc.chain_suggester().suggest(text, title=title or text[:50], city=city,
                                          enterprise_chain=ent.chain_id if ent else None,
                                          enterprise_name=enterprise)
        chains = svc.chains()
    finally:
        svc.close()
    if s is None:
        out.print("没有找到可归属的产业链。")
        return
    stored = "会" if s.confidence >= MIN_CONFIDENCE else "不会"
    out.print(f"{chains[s.chain_id].name}（{s.chain_id}），置信度 {s.confidence:g}，依据：{s.method}"
              + (f"，关键词：{'、'.join(s.keywords)}" if s.keywords else "")
              + f"。导入时{stored}自动写入（阈值 {MIN_CONFIDENCE:g}）。", highlight=False)


class EvalMode(StrEnum):
    enterprise = "enterprise"
    name = "name"
    text = "text"


@chains_app.command("evaluate")
def chains_evaluate(mode: Annotated[EvalMode, typer.Option(help="enterprise 企业产业链与名称，name 仅企业名称，"
                                                                 "text 仅岗位文本")] = EvalMode.enterprise,
                    fmt: FmtOpt = Fmt.table) -> None:
    """在已有产业链的需求条目上隐去产业链，检验归链建议的准确率。"""
    from matcher.evaluation.chains import evaluate_suggestions

    svc = run_service()
    try:
        ev = evaluate_suggestions(svc, mode=mode.value)
    finally:
        svc.close()
    if fmt == Fmt.json:
        _json(ev.model_dump())
        return
    out.print(f"{ev.entries} 个条目：给出建议 {ev.suggested}，正确 {ev.right}（准确率 {_pct(ev.accuracy)}）；"
              f"达到写入阈值的 {ev.stored} 个中正确 {ev.stored_right} 个。", highlight=False)
    _table("按依据", ["依据", "建议数", "正确", "准确率"],
           [[t.method, t.suggested, t.right, _pct(t.accuracy)] for t in ev.tiers])


# -- zone ---------------------------------------------------------------------------------------


@zone_app.command("list")
def zone_list(
    school: Annotated[str | None, typer.Option(help="学校")] = None,
    major: Annotated[str | None, typer.Option(help="专业")] = None,
    year: Annotated[int | None, typer.Option("--year", min=1950, max=2100, help="毕业年份（届别）")] = None,
    city: Annotated[str | None, typer.Option(help="只看该城市的岗位")] = None,
    chain: Annotated[str | None, typer.Option(help="只看该产业链")] = None,
    occupation: Annotated[str | None, typer.Option(help="职业编码或编码前缀")] = None,
    rank_by: Annotated[str, typer.Option(help="profile 按群体画像得分，members 按成员合格人数")] = "profile",
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=200)] = 20,
    fmt: FmtOpt = Fmt.table,
) -> None:
    """应届生岗位专区：面向应届毕业生的在招岗位，按学校、专业或届别排序。"""
    from matcher.zone.graduates import ZoneQuery, graduate_zone

    if rank_by not in ("profile", "members"):
        raise InvalidInput("--rank-by 只能是 profile 或 members")
    svc = run_service()
    try:
        res = graduate_zone(svc, ZoneQuery(school=school, major=major, graduation_year=year, city=city, chain=chain,
                                           occupation=occupation, rank_by=rank_by, top_k=top_k))  # type: ignore[arg-type]
    finally:
        svc.close()
    if fmt == Fmt.json:
        _json(res.model_dump(mode="json"))
        return
    c = res.cohort
    who = "".join(x for x in (c.school, c.major, f"{c.graduation_year}届" if c.graduation_year else None) if x)
    if c.ranked_by == "cohort":
        out.print(f"{who}：库中 {c.members} 名毕业生；画像：{c.education.value if c.education else '—'}，"
                  f"常见技能 {'、'.join(c.top_skills) or '—'}。专区岗位 {res.total} 个。", highlight=False)
    else:
        out.print(f"专区岗位 {res.total} 个" + ("（按专业排序）" if c.ranked_by == "major" else "（最新在前）") + "。",
                  highlight=False)
    _table(None, ["编号", "岗位", "企业", "城市", "产业链", "匹配度", "成员合格", "匹配技能", "欠缺技能"],
           [[e.id, e.title, e.enterprise_name or "—", e.city or "—", e.chain_name or "—",
             "—" if e.score is None else f"{e.score:.0%}" + ("" if e.eligible else "（不满足硬性要求）"),
             "—" if e.members_qualified is None else e.members_qualified, "、".join(e.matched_skills),
             "、".join(e.missing_skills)] for e in res.entries])


@zone_app.command("subscribe")
def zone_subscribe(
    talent: Annotated[int | None, typer.Option(help="订阅人：人才档案编号")] = None,
    school: Annotated[str | None, typer.Option(help="订阅人：学校名称")] = None,
    chain: Annotated[list[str] | None, typer.Option("--chain", help="产业链（可多次）")] = None,
    occupation: Annotated[list[str] | None, typer.Option("--occupation", help="职业编码、前缀或名称（可多次）")] = None,
    city: Annotated[list[str] | None, typer.Option("--city", help="城市（可多次）")] = None,
    label: Annotated[str, typer.Option(help="备注")] = "",
    all_posts: Annotated[bool, typer.Option("--all-posts", help="也推送不面向应届生的岗位")] = False,
    from_beginning: Annotated[bool, typer.Option("--from-beginning", help="首次推送包括已有岗位")] = False,
) -> None:
    """订阅产业链、职业或城市的新岗位（人才或学校）。"""
    from pydantic import ValidationError

    from matcher.zone.graduates import SubscriptionCreate, create_subscription

    try:
        req = SubscriptionCreate(talent_id=talent, school=school, label=label, chains=chain or [],
                                 occupations=occupation or [], cities=city or [], fresh_only=not all_posts,
                                 start="beginning" if from_beginning else "now")
    except ValidationError:
        raise InvalidInput("请用 --talent 或 --school 指定订阅人（二选一）") from None
    svc = run_service()
    try:
        sub = create_subscription(svc, req)
    finally:
        svc.close()
    out.print(f"已创建订阅 {sub.id}（游标 {sub.last_seen_id}）。", highlight=False)


@zone_app.command("subscriptions")
def zone_subscriptions(talent: Annotated[int | None, typer.Option(help="人才档案编号")] = None,
                       school: Annotated[str | None, typer.Option(help="学校名称")] = None,
                       fmt: FmtOpt = Fmt.table) -> None:
    """列出订阅。"""
    from matcher.zone.graduates import list_subscriptions

    svc = run_service()
    try:
        subs = list_subscriptions(svc, talent_id=talent, school=school)
    finally:
        svc.close()
    if fmt == Fmt.json:
        _json([s.model_dump(mode="json") for s in subs])
        return
    _table("订阅", ["编号", "订阅人", "产业链", "职业", "城市", "仅应届", "游标", "备注"],
           [[s.id, f"人才 {s.talent_id}" if s.talent_id is not None else s.school, "、".join(s.chains) or "全部",
             "、".join(s.occupations) or "全部", "、".join(s.cities) or "全部", "是" if s.fresh_only else "否",
             s.last_seen_id, s.label] for s in subs])


@zone_app.command("unsubscribe")
def zone_unsubscribe(sub_id: int) -> None:
    """删除订阅。"""
    from matcher.zone.graduates import delete_subscription

    svc = run_service()
    try:
        delete_subscription(svc, sub_id)
    finally:
        svc.close()
    out.print(f"已删除订阅 {sub_id}。")


@zone_app.command("feed")
def zone_feed(
    sub_id: int,
    out_path: Annotated[Path | None, typer.Option("--out", help="写入 JSONL 文件；不填则写到标准输出")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    peek: Annotated[bool, typer.Option("--peek", help="只查看，不移动游标")] = False,
) -> None:
    """导出订阅的新岗位（JSONL，每行一个岗位），写出后移动游标。"""
    from matcher.zone.graduates import acknowledge, feed

    svc = run_service()
    try:
        f = feed(svc, sub_id, limit=limit)
        lines = "".join(json.dumps(i.model_dump(mode="json"), ensure_ascii=False) + "\n" for i in f.items)
        if out_path is None:
            sys.stdout.write(lines)
            sys.stdout.flush()
        else:
            try:
                out_path.write_text(lines, encoding="utf-8")
            except OSError as exc:
                raise InvalidInput(f"无法写入 {out_path}：{exc.strerror or exc}") from None
        if not peek and f.cursor > f.subscription.last_seen_id:
            acknowledge(svc, sub_id, f.cursor)
    finally:
        svc.close()
    more = "，还有更多（再次运行继续）" if f.more else ""
    moved = "" if peek else f"，游标移至 {f.cursor}"
    err.print(f"订阅 {sub_id}：{len(f.items)} 个新岗位{more}{moved}。"
              + (f" 已写入 {out_path}" if out_path else ""), highlight=False)
