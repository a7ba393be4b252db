"""The installable project ships every package and data file the code reads at run time.

The wheel is built for real (setuptools finds the packages; nothing is listed by hand), and its
contents are compared with the source tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from matcher.core.settings import PROJECT_ROOT

TOP = ("matcher", "models", "api", "web")
DATA_DIRS = ("templates", "static", "artifacts")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    # a copy of what the sdist would hold, so the build leaves nothing in the working tree
    src = build / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT_ROOT / name, src / name)
    for top in TOP:
        shutil.copytree(PROJECT_ROOT / top, src / top, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(src)], check=True, cwd=build,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(build), "PIP_NO_INDEX": "1"})
    (built,) = out.glob("talentmatch-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def _source_files(pattern: str) -> set[str]:
    found = set()
    for top in TOP:
        for p in (PROJECT_ROOT / top).rglob(pattern):
            if "__pycache__" not in p.parts:
                found.add(p.relative_to(PROJECT_ROOT).as_posix())
    return found


def test_every_python_module_is_in_the_wheel(wheel_names: set[str]):
    missing = _source_files("*.py") - wheel_names
    assert not missing, sorted(missing)


def test_templates_static_files_and_artifacts_are_in_the_wheel(wheel_names: set[str]):
    data = {f for f in _source_files("*") if Path(f).parent.name in DATA_DIRS and (PROJECT_ROOT / f).is_file()}
    assert data, "no data files found: the test looks in the wrong place"
    missing = data - wheel_names
    assert not missing, sorted(missing)


def test_the_console_script_points_at_the_cli(wheel: Path, wheel_names: set[str]):
    (name,) = [n for n in wheel_names if n.endswith("entry_points.txt")]
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(name).decode()
    target = next(line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("talentmatch"))
    module, func = target.split(":")
    assert callable(getattr(__import__(module, fromlist=[func]), func))
