"""``talentmatch worker``: run the jobs queued in the database (fair runs, file imports)."""

from __future__ import annotations

from typing import Annotated

import typer

from matcher.cli.common import out, run_service


def worker(
    once: Annotated[bool, typer.Option("--once", help="运行完当前排队的任务后退出")] = False,
    poll: Annotated[float, typer.Option(min=0.1, max=60, help="无任务时多久查看一次队列（秒）")] = 1.0,
) -> None:
    """运行数据库中排队的任务（招聘活动匹配、文件导入）；可启动多个，每个同时只运行一个任务（Ctrl-C 停止）。"""
    import threading

    from matcher.fair.jobs import Worker
    from matcher.imports.jobs import HANDLERS

    svc = run_service()
    svc.ensure_index("demand")
    svc.ensure_index("talent")
    follow = svc.indexes.follow(svc.settings.index_poll_seconds or 1.0)  # other processes' writes
    w = Worker(svc, handlers=HANDLERS)
    try:
        if once:
            n = 0
            while w.run_once():
                n += 1
            out.print(f"已运行 {n} 个任务。")
            return
        out.print(f"任务进程 {w.name} 已启动（Ctrl-C 停止）。")
        stop = threading.Event()
        try:
            w.run_forever(stop, poll)
        except KeyboardInterrupt:
            stop.set()
    finally:
        follow.stop()
        svc.close()
