"""``talentmatch outcomes`` (interview results, simulated outcomes) and ``talentmatch model``
(train, evaluate, promote, roll back the outcome re-ranker)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from matcher.cli.common import out, run_service

outcomes_app = typer.Typer(no_args_is_help=True, help="结果事件：导入面试结果、生成模拟数据、查看统计")
model_app = typer.Typer(no_args_is_help=True, help="排序模型：训练、评估、上线、回滚（从结果事件学习）")

Json = Annotated[bool, typer.Option("--json", help="以 JSON 输出")]


def _dump(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


@outcomes_app.command("import")
def import_results(file: Annotated[Path, typer.Argument(help="面试结果文件（CSV、XLSX）：人才ID、需求ID、面试结果、是否录用")],
                   fair: Annotated[int | None, typer.Option("--fair", min=1, help="所属招聘会编号")] = None,
                   sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX 工作表名")] = None) -> None:
    """导入招聘会的面试结果（全部正确才写入；有错误时一次列出所有错误行）。"""
    from matcher.outcomes.interviews import import_interviews

    svc = run_service()
    report = import_interviews(svc, file, fair_id=fair, sheet=sheet)
    kinds = "、".join(f"{k} {v}" for k, v in sorted(report["by_kind"].items()))
    out.print(f"已导入 {report['rows']} 行面试结果，记录 {report['events']} 条结果事件（{kinds}）。")


@outcomes_app.command("from-fair")
def from_fair(run_id: Annotated[int, typer.Argument(min=1, help="招聘会匹配结果编号（talentmatch fair run 的输出）")]) -> None:
    """把招聘会匹配结果作为弱标签导入：每位求职者的面试名单为展示记录，第一志愿记为申请，企业必面记为入围。"""
    from matcher.outcomes.fair_labels import weak_labels_from_run

    r = weak_labels_from_run(run_service(), run_id)
    out.print(f"已从匹配结果 {run_id} 导入 {r['lists']} 份名单、{r['impressions']} 条展示记录、{r['events']} 条弱标签事件"
              f"（第一志愿→申请 {r['by_kind'].get('applied', 0)}，企业必面→入围 {r['by_kind'].get('shortlisted', 0)}）"
              + (f"；{r['skipped']} 个人岗对的记录已删除，跳过" if r["skipped"] else "") + "。")


@outcomes_app.command("simulate")
def simulate(seekers: Annotated[int, typer.Option(min=1, max=20000, help="模拟求职者人数")] = 900,
             per_seeker: Annotated[int, typer.Option(min=5, max=200, help="每人的候选岗位数")] = 40,
             seed: Annotated[int, typer.Option(help="随机种子")] = 0,
             source: Annotated[str, typer.Option(help="random：随机特征（负数编号）；service：按库中人才的真实排序")] = "random",
             keep: Annotated[bool, typer.Option("--keep", help="保留以前的模拟数据（默认替换）")] = False) -> None:
    """生成【模拟】结果事件（synthetic，非真实用户行为）并写入库中，供训练和评估使用。"""
    from matcher.outcomes.training import simulate_into_store

    svc = run_service()
    report = simulate_into_store(svc, seekers=seekers, per_seeker=per_seeker, seed=seed, source=source,
                                 replace=not keep)
    out.print(f"已写入【模拟数据】{report['impressions']} 条展示、{report['events']} 条结果事件"
              f"（{report['first']} 至 {report['last']}；替换了 {report['removed']['events']} 条旧的模拟事件）。"
              "这些记录都标记为 synthetic，不是真实用户的行为。")


@outcomes_app.command("status")
def status(as_json: Json = False) -> None:
    """展示记录与结果事件的数量（真实与模拟分开统计）。"""
    svc = run_service()
    c = svc.outcomes.counts()
    if as_json:
        _dump(c)
        return
    out.print(f"展示记录：真实 {c['impressions']['real']}，模拟 {c['impressions']['synthetic']}")
    out.print(f"结果事件：真实 {c['events']['real']}，模拟 {c['events']['synthetic']}")
    for kind, n in sorted(c["by_kind"].items()):
        out.print(f"  {kind}: 真实 {n['real']}，模拟 {n['synthetic']}")


def _fmt(m: dict[str, Any]) -> str:
    lo, hi = m["ci95"]
    return f"{m['mean']:.4f} [{lo:.4f}, {hi:.4f}]"


def _print_report(report: dict[str, Any]) -> None:
    metrics = report["metrics"]
    d = report["data"]
    out.print(f"留出窗口：自 {d['cutoff']} 起展示的 {metrics['rows']} 条配对（{metrics['queries']} 个列表），"
              f"增益：{'逆倾向加权' if report['gains'] == 'inverse-propensity' else '日志原值'}")
    for name, r in metrics["rankers"].items():
        auc = _fmt(r["auc"]) if "auc" in r else "—"
        out.print(f"  {name:<32} nDCG@10 {_fmt(r['ndcg_at_10'])}  MAP {_fmt(r['map'])}  AUC {auc}", markup=False)
    for name, v in metrics.get("vs_baseline", {}).items():
        out.print(f"  {name} − {report['baseline']}：nDCG@10 {_fmt(v['ndcg_at_10'])}  MAP {_fmt(v['map'])}"
                  + (f"  AUC {_fmt(v['auc'])}" if "auc" in v else ""), markup=False)
    if "reliability" in report:
        rel = report["reliability"]
        out.print(f"  校准：ECE {rel['ece']:.4f}，Brier {rel['brier']:.4f}，正向结果比例 {rel['base_rate']:.4f}")


Real = Annotated[bool, typer.Option("--real-only", help="只用真实事件（不含模拟数据）")]
Resamples = Annotated[int, typer.Option(min=100, max=20000, help="自助法重抽样次数")]


@model_app.command("train")
def train(kind: Annotated[str, typer.Option(help="模型类型：logistic 或 hgb")] = "logistic",
          cutoff: Annotated[str | None, typer.Option(help="训练截止时间（ISO 格式）；默认留出最后 30% 的展示")] = None,
          maturity_days: Annotated[float, typer.Option(min=0, max=90, help="截止前的成熟期（天）")] = 10.0,
          seed: int = 0, real_only: Real = False, as_json: Json = False) -> None:
    """从库中的结果事件训练模型（只保存，不上线）。"""
    from matcher.outcomes.training import day_of, train_model

    cut = None
    if cutoff:
        import datetime as dt

        try:
            t = dt.datetime.fromisoformat(cutoff)
        except ValueError:
            raise typer.BadParameter(f"无法解析的时间：{cutoff}", param_hint="--cutoff") from None
        cut = day_of(t if t.tzinfo else t.replace(tzinfo=dt.UTC))
    svc = run_service()
    info = train_model(svc, kind=kind, cutoff=cut, maturity_days=maturity_days, seed=seed, synthetic=not real_only)
    if as_json:
        _dump(info)
        return
    out.print(f"已训练模型 {info['model']}（{info['train_rows']} 条训练配对，截止 {info['cutoff']}；"
              f"{'含模拟数据' if info['synthetic_impressions'] and not real_only else '真实数据'}）。"
              f"用 talentmatch model evaluate {info['model']} 评估，promote 上线。", markup=False)


@model_app.command("evaluate")
def evaluate(model_id: str, resamples: Resamples = 1000, real_only: Real = False, as_json: Json = False) -> None:
    """在训练截止之后的留出窗口上，与当前排序（默认 weighted）比较 nDCG@10、MAP、AUC（含 95% 区间）。"""
    from matcher.outcomes.training import evaluate_model

    report = evaluate_model(run_service(), model_id, resamples=resamples, synthetic=not real_only)
    _dump(report) if as_json else _print_report(report)


@model_app.command("promote")
def promote(model_id: str, resamples: Resamples = 1000, real_only: Real = False) -> None:
    """上线模型：特征须与服务一致，且在留出窗口上 nDCG@10 显著优于当前排序，否则拒绝。"""
    from matcher.outcomes.training import promote_model

    report = promote_model(run_service(), model_id, resamples=resamples, synthetic=not real_only)
    _print_report(report)
    out.print(f"模型 {model_id} 已上线（此前：{report['baseline']}）。", markup=False)


@model_app.command("rollback")
def rollback() -> None:
    """回滚到上一个上线的模型（没有则回到 weighted）。"""
    from matcher.outcomes.training import rollback_model

    now = rollback_model(run_service())
    out.print(f"已回滚，当前排序：{now or 'weighted'}。", markup=False)


@model_app.command("status")
def model_status(as_json: Json = False) -> None:
    """当前上线的模型与已训练的模型。"""
    from matcher.outcomes.training import model_status as status_of

    st = status_of(run_service())
    if as_json:
        _dump(st)
        return
    out.print(f"当前排序：{st['active']}{'（已校准概率）' if st['calibrated'] else ''}", markup=False)
    if st["problem"]:
        out.print(f"[yellow]{st['problem']}[/yellow]")
    for m in st["models"]:
        w = m.get("training_window", {})
        out.print(f"  {m['id']}  {m['kind']}  训练配对 {w.get('rows', '?')}  {w.get('note', '')}", markup=False)
