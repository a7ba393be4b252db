"""The installable project ships every package and data file the code reads at run time."""

from __future__ import annotations

import fnmatch
import tomllib

from matcher.settings import PROJECT_ROOT

CONFIG = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
TOP = ("matcher", "models", "api", "web")


def test_every_python_package_is_listed():
    found = {".".join(p.parent.relative_to(PROJECT_ROOT).parts)
             for top in TOP for p in (PROJECT_ROOT / top).rglob("__init__.py") if "__pycache__" not in p.parts}
    assert found == set(CONFIG["packages"])


def test_templates_and_static_files_are_package_data():
    data = CONFIG["package-data"]
    for top in TOP:
        root = PROJECT_ROOT / top
        for sub in ("templates", "static", "artifacts"):
            for f in (root / sub).glob("*") if (root / sub).is_dir() else []:
                rel = f.relative_to(root).as_posix()
                assert any(fnmatch.fnmatch(rel, pattern) for pattern in data.get(top, [])), f"{top}/{rel}"
