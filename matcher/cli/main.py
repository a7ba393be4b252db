"""The ``talentmatch`` command line: one Typer app, a module per command group."""

from __future__ import annotations

import os
import sys

import typer

from matcher.cli import zh
from matcher.cli.admin import audit_app, keys_app
from matcher.cli.common import err, error_lines, print_errors
from matcher.cli.db import db_app
from matcher.cli.demo import demo_app
from matcher.cli.eval import eval_command
from matcher.cli.fair import fair_app
from matcher.cli.imports import import_app
from matcher.cli.index import index_app
from matcher.cli.matching import match_app
from matcher.cli.occupations import occupations_app
from matcher.cli.outcomes import model_app, outcomes_app
from matcher.cli.report import catalogue_app, chains_app, report_app, zone_app
from matcher.cli.serve import serve
from matcher.cli.worker import worker
from matcher.core.errors import ImportRejected, TalentMatchError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="数字人才供需匹配服务 talentmatch")
app.add_typer(occupations_app, name="occupations")
app.add_typer(import_app, name="import")
app.add_typer(match_app, name="match")
app.add_typer(index_app, name="index")
app.add_typer(demo_app, name="demo")
app.add_typer(fair_app, name="fair")
app.add_typer(report_app, name="report")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(chains_app, name="chains")
app.add_typer(zone_app, name="zone")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(outcomes_app, name="outcomes")
app.add_typer(model_app, name="model")
app.add_typer(db_app, name="db")
app.command("eval")(eval_command)
app.command("serve")(serve)
app.command("worker")(worker)


def main() -> None:
    """Entry point: domain errors become a message and a non-zero exit, never a traceback."""
    zh.install()  # Click's and Typer's own words (usage, errors) in Chinese, before any command is built
    try:
        app(standalone_mode=False)
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


if __name__ == "__main__":
    main()
