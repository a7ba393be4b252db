"""What every ``talentmatch`` sub-command shares: the consoles, output formats and the service."""

from __future__ import annotations

import gc
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from rich.console import Console

from matcher.core.errors import RowError

if TYPE_CHECKING:  # the service is imported when a command needs it (heavy imports)
    from matcher.service import MatchService

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


def startup_done() -> None:
    """A command has started (its settings read, its service built): what was loaded stays
    for the whole run, so it is moved out of the collector's sight (``gc.freeze``) and the
    collector, off while starting (``main.run``), works again on what the command makes."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def make_service(settings: Any = None) -> MatchService:
    """The matching service (heavy imports only when a command needs them)."""
    from matcher.core.settings import load_settings
    from matcher.wiring import build_service

    svc = build_service(settings or load_settings())
    startup_done()
    return svc


def run_settings() -> Any:
    """The settings of this run, from the environment (prefix TALENTMATCH_)."""
    from matcher.core.settings import load_settings

    settings = load_settings()
    startup_done()
    return settings


def run_service(settings: Any = None) -> MatchService:
    """The matching service for a command (heavy imports only when a command needs them)."""
    return make_service(settings)


class Step:
    """A step that may take seconds: announced on stderr when it starts (a spinner with the
    elapsed time on a terminal), and its duration said when it ends, so a command is never silent
    for long."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = 0.0
        self.status: Any = None

    def __enter__(self) -> Step:
        import time

        self.started = time.monotonic()
        if err.is_terminal:
            self.status = err.status(f"{self.label}……")
            self.status.start()
        else:
            err.print(f"{self.label}……", highlight=False, markup=False)
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        import time

        if self.status is not None:
            self.status.stop()
        if kind is None:
            err.print(f"{self.label}：完成（用时 {time.monotonic() - self.started:.1f} 秒）", highlight=False,
                      markup=False)


class ProgressBar:
    """A rich progress bar for encoding on a terminal; elsewhere (a log, a pipe) a line when it
    starts and one when it ends."""

    def __init__(self, label: str, total: int | None = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 console=err, transient=True, disable=not err.is_terminal)
        self.task = self.progress.add_task(label, total=total)
        self.label = label
        self.started = 0.0

    def __enter__(self) -> ProgressBar:
        import time

        self.started = time.monotonic()
        if not err.is_terminal:
            total = self.progress.tasks[0].total
            err.print(f"{self.label}……" + (f"（共 {int(total)} 条）" if total else ""), highlight=False, markup=False)
        self.progress.start()
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        import time

        self.progress.stop()
        if kind is None:
            err.print(f"{self.label}：完成（用时 {time.monotonic() - self.started:.1f} 秒）", highlight=False,
                      markup=False)

    def __call__(self, n: int) -> None:
        self.progress.advance(self.task, n)


def error_lines(errors: list) -> list[str]:
    """The problems of an error as sentences: a reason with its row; bare markers such as
    {"field": "region"} are internal and add nothing to the message, so they are not shown."""
    out = []
    for e in errors:
        if isinstance(e, dict):
            if e.get("reason"):
                out.append((f"第 {e['row']} 行：" if e.get("row") else "") + str(e["reason"]))
        else:
            out.append(str(e))
    return out


def print_errors(errors: list[RowError], limit: int = 50) -> None:
    for e in errors[:limit]:
        err.print(f"  {e}", markup=False)
    if len(errors) > limit:
        err.print(f"  …… 另有 {len(errors) - limit} 处错误", markup=False)
