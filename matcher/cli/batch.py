"""``talentmatch batch``: bulk encoding and the nightly re-match, on Ray or in process."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Annotated

import typer

from matcher.cli.common import Fmt, out, run_service

batch_app = typer.Typer(no_args_is_help=True, help="批处理：批量编码、全量重新匹配（Ray）")

Address = Annotated[str | None, typer.Option(
    "--ray-address", help="加入已有 Ray 集群（auto、host:port 或 ray://host:10001）；默认读 TALENTMATCH_RAY_ADDRESS，都没有则在本机启动")]
Workers = Annotated[int | None, typer.Option("--workers", min=1, help="工作进程数（默认：集群的 CPU 数）")]
Local = Annotated[bool, typer.Option("--local", help="不用 Ray，在本进程内逐片运行（单进程参照）")]


def _ray_messages_to_stderr() -> contextlib.AbstractContextManager:
    """Ray prints its workers' errors (e.g. a retried task) on the driver's stdout: during a job
    they go to stderr, so stdout holds only the command's result."""
    return contextlib.redirect_stdout(sys.stderr)


class _Progress:
    def __init__(self, label: str) -> None:
        from matcher.cli.common import ProgressBar

        self.bar = ProgressBar(label)
        self.done = 0

    def __enter__(self) -> _Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)

    def __call__(self, done: int, total: int) -> None:
        self.bar.progress.update(self.bar.task, total=total, completed=done)


@batch_app.command("encode")
def batch_encode(
    ray_address: Address = None,
    workers: Workers = None,
    local: Local = False,
    shard_size: Annotated[int, typer.Option(min=1, help="每片文本数")] = 512,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
) -> None:
    """把尚未编码的人才档案和需求条目批量编码，向量写回数据库缓存（可重复运行：已编码的跳过）。"""
    from matcher.batch.encode import encode_all

    svc = run_service()
    try:
        with _Progress("编码分片") as bar, _ray_messages_to_stderr():
            stats = encode_all(svc, executor="local" if local else "ray", address=ray_address, workers=workers,
                               shard_size=shard_size, progress=bar)
    finally:
        svc.close()
    if fmt == Fmt.json:
        out.print_json(data=stats)
        return
    out.print(f"批量编码完成（{stats['model']}）：记录 {stats['records']} 条，已有缓存 {stats['cached_before']} 条，"
              f"本次编码 {stats['encoded']} 条，{stats['shards']} 个分片，{stats['workers']} 个工作进程，"
              f"用时 {stats['seconds']} 秒。")


@batch_app.command("rematch")
def batch_rematch(
    ray_address: Address = None,
    workers: Workers = None,
    local: Local = False,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=1000, help="每条记录保存的匹配数")] = 10,
    pool: Annotated[int | None, typer.Option(min=1, help="每条记录按向量相似度取的候选数（默认：candidate_pool 设置）")] = None,
    shard_size: Annotated[int, typer.Option(min=1, help="每片记录数")] = 500,
    resume: Annotated[str | None, typer.Option("--resume", help="续跑中断的任务（任务编号）")] = None,
    pause: Annotated[float, typer.Option(min=0, help="每片提交前暂停的秒数（减轻共享数据库的压力）")] = 0.0,
    fmt: Annotated[Fmt, typer.Option("--format")] = Fmt.table,
) -> None:
    """全部在册人才 × 全部在招岗位重新匹配，双向各保存前 top-k，按任务编号写入数据库（中断后可用 --resume 续跑）。"""
    from matcher.batch.rematch import RematchParams, rematch

    svc = run_service()
    try:
        params = None if resume else RematchParams(top_k=top_k, pool=max(pool or svc.settings.candidate_pool, top_k),
                                                   shard_size=shard_size)
        with _Progress("匹配分片") as bar, _ray_messages_to_stderr():
            info = rematch(svc, params, executor="local" if local else "ray", address=ray_address,
                           workers=workers, resume=resume, pause=pause, progress=bar)
    finally:
        svc.close()
    if fmt == Fmt.json:
        out.print_json(data=info.as_dict())
        return
    s = info.stats
    out.print(f"重新匹配完成：任务 {info.id}，人才 {s['talents']} 人，岗位 {s['demands']} 个，"
              f"写入 {info.rows} 条匹配（{info.shards} 个分片），{s['workers']} 个工作进程，"
              f"本次用时 {s['last_pass_seconds']} 秒。", highlight=False)


@batch_app.command("runs")
def batch_runs(limit: Annotated[int, typer.Option(min=1, max=200)] = 20) -> None:
    """列出批处理任务（最近的在前）。"""
    from matcher.storage.batch_repo import BatchRepo

    svc = run_service()
    try:
        runs = BatchRepo(svc.store).runs(limit=limit)
    finally:
        svc.close()
    out.print_json(data=[r.as_dict() for r in runs])


@batch_app.command("show")
def batch_show(
    side: Annotated[str, typer.Argument(help="talent（人才的岗位推荐）或 demand（岗位的人才推荐）")],
    record_id: Annotated[int, typer.Argument(help="人才档案或需求条目编号")],
    run: Annotated[str | None, typer.Option("--run", help="任务编号（默认：最近完成的一次）")] = None,
) -> None:
    """显示一条记录在某次重新匹配中保存的前 top-k。"""
    from matcher.batch.rematch import stored_matches

    svc = run_service()
    try:
        data = stored_matches(svc, side, record_id, run)
    finally:
        svc.close()
    out.print(json.dumps(data, ensure_ascii=False, indent=2), highlight=False)
