"""The ``talentmatch`` command line: one Typer app, a module per command group."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import threading
from typing import Any, NoReturn

import typer

from matcher.cli import zh
from matcher.cli.common import err, error_lines, print_errors
from matcher.core.errors import ImportRejected, TalentMatchError

HELP = "数字人才供需匹配服务 talentmatch"
# every sub-command group and command: name -> (module, attribute); a group is a Typer app
GROUPS: dict[str, tuple[str, str]] = {
    "occupations": ("matcher.cli.occupations", "occupations_app"),
    "import": ("matcher.cli.imports", "import_app"),
    "match": ("matcher.cli.matching", "match_app"),
    "index": ("matcher.cli.index", "index_app"),
    "demo": ("matcher.cli.demo", "demo_app"),
    "fair": ("matcher.cli.fair", "fair_app"),
    "report": ("matcher.cli.report", "report_app"),
    "catalogue": ("matcher.cli.report", "catalogue_app"),
    "chains": ("matcher.cli.report", "chains_app"),
    "zone": ("matcher.cli.report", "zone_app"),
    "keys": ("matcher.cli.admin", "keys_app"),
    "audit": ("matcher.cli.admin", "audit_app"),
    "outcomes": ("matcher.cli.outcomes", "outcomes_app"),
    "model": ("matcher.cli.outcomes", "model_app"),
    "db": ("matcher.cli.db", "db_app"),
    "batch": ("matcher.cli.batch", "batch_app"),
}
COMMANDS: dict[str, tuple[str, str]] = {
    "eval": ("matcher.cli.eval", "eval_command"),
    "serve": ("matcher.cli.serve", "serve"),
    "worker": ("matcher.cli.worker", "worker"),
}


def _root() -> None:
    pass


def _load(where: tuple[str, str]) -> Any:
    import importlib

    return getattr(importlib.import_module(where[0]), where[1])


def build_app(only: str | None = None, *, shallow: bool = False) -> typer.Typer:
    """The ``talentmatch`` app. ``only``: just that group or command (what one run needs: Typer
    builds every command's parameters from its signature, which costs more than the command's
    own start-up). ``shallow``: every group with its help but without its commands (enough for
    the top-level help and for naming an unknown command)."""
    top = typer.Typer(add_completion=False, no_args_is_help=True, help=HELP)
    # a callback keeps the app a group even with one command registered (Typer would otherwise
    # make that command the whole app, and `talentmatch eval FILE` would read "eval" as FILE)
    top.callback()(_root)
    for name, where in GROUPS.items():
        if only is None or only == name:
            group = _load(where)
            top.add_typer(typer.Typer(help=group.info.help) if shallow else group, name=name)
    for name, where in COMMANDS.items():
        if only is None or only == name:
            top.command(name)(_load(where))
    return top


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole app, for tools that want it (e.g. generating docs)
        return build_app()
    raise AttributeError(name)


def _app_for(argv: list[str]) -> typer.Typer:
    """The app one run needs: the group or command it names, else every group shallowly."""
    name = argv[1] if len(argv) > 1 else None
    if name in GROUPS or name in COMMANDS:
        return build_app(name)
    return build_app(shallow=True)


def main() -> None:
    """Entry point: domain errors become a message and a non-zero exit, never a traceback."""
    zh.install()  # Click's and Typer's own words (usage, errors) in Chinese, before any command is built
    try:
        _app_for(sys.argv)(standalone_mode=False)
    except ImportRejected as exc:
        err.print(f"[red]错误：[/red]{exc.detail}", highlight=False)
        print_errors(exc.errors)
        sys.exit(1)
    except TalentMatchError as exc:
        err.print(f"[red]错误：[/red]{exc.detail}", highlight=False)
        for line in error_lines(getattr(exc, "errors", []))[:20]:
            err.print(f"  {line}", markup=False)
        sys.exit(2 if exc.status < 500 else 1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("已中止。")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("已中止。")
        sys.exit(130)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error: click's message, in Chinese
            zh.show_usage_error(exc, lambda line: err.print(line, markup=False, highlight=False))
            sys.exit(exc.exit_code or 2)
        if os.environ.get("TALENTMATCH_DEBUG"):
            raise
        err.print(f"[red]内部错误：[/red]命令未能完成（{type(exc).__name__}）。设置环境变量 TALENTMATCH_DEBUG=1 "
                  "后重试可查看详细信息。", highlight=False)
        sys.exit(1)


def run() -> None:
    """The ``talentmatch`` executable: :func:`main`, then a quick exit. The cyclic garbage
    collector is off while the command starts (imports and the service build make hundreds of
    thousands of long-lived objects and no garbage worth a collection; ``common.startup_done``
    turns it on again), and the process ends without tearing the interpreter down (freeing every
    module and object took 0.15-0.3 s of a 1 s command): the ``atexit`` handlers run and the
    output is flushed first, and a process with a thread still running ends the usual way."""
    gc.disable()
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    finally:
        gc.enable()
    _leave(code)


def _leave(code: int | str | None) -> NoReturn:
    """``sys.exit(code)``, without the interpreter's teardown when only this thread runs."""
    if threading.active_count() > 1:
        sys.exit(code)
    if isinstance(code, str):  # sys.exit("message"): the message on stderr, status 1
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # what a normal exit runs (temporary files, logging, pools)
    status = 0 if code is None else code
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`talentmatch … | head`): what a normal exit does
            status = status or 120
    os._exit(status)


if __name__ == "__main__":
    run()
