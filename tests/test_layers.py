"""The layer rule, enforced: each layer imports only layers below it.

Every import is counted, including imports inside functions and under ``TYPE_CHECKING``:
a lazy import is still a dependency. A failure names the importing file, its line and the
imported module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

import networkx as nx

from matcher.core.settings import PROJECT_ROOT

PROJECT = ("matcher", "models", "api", "web")

# matcher's packages from the bottom up; packages on one layer do not import each other
MATCHER_LAYERS: list[tuple[str, ...]] = [
    ("core",),
    ("domain",),
    ("reference",),
    ("ingest",),
    ("storage",),
    ("retrieval",),
    ("ranking",),
    ("records", "directory"),  # the service's collaborators: record preparation, the HTTP layer's views
    ("service",),  # the facade
    ("wiring",),  # builds services
    ("fair", "analytics", "zone", "evaluation", "outcomes", "batch", "imports"),
    ("cli",),
]
# the HTTP layer and the heavy numeric libraries stay out of each other's way
FORBIDDEN_LIBS = {
    "matcher": ("fastapi", "starlette"),
    "models": ("fastapi", "starlette", "uvicorn", "sqlalchemy"),
    "api": ("faiss", "torch", "sklearn", "sentence_transformers", "sqlalchemy"),
    "web": ("faiss", "torch", "sklearn", "sentence_transformers", "sqlalchemy"),
}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (absolute)
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.source} imports {self.target}"


def _module_name(path) -> str:
    rel = path.relative_to(PROJECT_ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_imports() -> Iterator[Import]:
    for top in PROJECT:
        for path in sorted((PROJECT_ROOT / top).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            module = _module_name(path)
            is_pkg = path.name == "__init__.py"
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for alias in node.names:
                        yield Import(module, alias.name, rel, node.lineno)
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = module.split(".") if is_pkg else module.split(".")[:-1]
                        base = base[: len(base) - (node.level - 1)]
                        target = ".".join(base + ([node.module] if node.module else []))
                    else:
                        target = node.module or ""
                    yield Import(module, target, rel, node.lineno)
                    for alias in node.names:  # `from pkg import submodule`
                        yield Import(module, f"{target}.{alias.name}", rel, node.lineno)


def _is_module(name: str) -> bool:
    path = PROJECT_ROOT / name.replace(".", "/")
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _layer(module: str) -> tuple[int, str] | None:
    parts = module.split(".")
    if parts[0] != "matcher" or len(parts) < 2:
        return None
    for i, names in enumerate(MATCHER_LAYERS):
        if parts[1] in names:
            return i, parts[1]
    raise AssertionError(f"{module} belongs to no layer: add its package to MATCHER_LAYERS")


def violations() -> list[str]:
    found = []
    for imp in project_imports():
        src_top, dst_top = imp.source.split(".")[0], imp.target.split(".")[0]
        if dst_top in FORBIDDEN_LIBS.get(src_top, ()):
            found.append(f"{imp} (library kept out of {src_top})")
        if dst_top not in PROJECT or not _is_module(imp.target):
            continue
        if src_top == "models" and dst_top != "models":
            found.append(f"{imp} (models imports nothing from the project)")
        elif src_top == "matcher" and dst_top in ("api", "web"):
            found.append(f"{imp} (matcher knows no HTTP)")
        elif src_top == "web" and dst_top == "api":
            found.append(f"{imp} (web imports matcher only)")
        elif src_top == "matcher" and dst_top == "matcher":
            src, dst = _layer(imp.source), _layer(imp.target)
            if src is None or dst is None or src[1] == dst[1]:
                continue
            if dst[0] > src[0]:
                found.append(f"{imp} (upward: {src[1]} is below {dst[1]})")
            elif dst[0] == src[0]:
                found.append(f"{imp} (sideways: {src[1]} and {dst[1]} share a layer)")
    return found


def test_every_import_follows_the_layers():
    assert not violations(), "\n" + "\n".join(violations())


def test_no_import_cycles():
    graph = nx.DiGraph()
    for imp in project_imports():
        if imp.target.split(".")[0] in PROJECT and _is_module(imp.target) and imp.target != imp.source:
            # a package's __init__ importing its own modules is not a cycle
            if imp.target.startswith(imp.source + "."):
                continue
            graph.add_edge(imp.source, imp.target)
    cycles = [c for c in nx.simple_cycles(graph, length_bound=8)]
    assert not cycles, "\n" + "\n".join(" -> ".join([*c, c[0]]) for c in cycles[:20])


def test_the_rule_catches_a_bad_import(tmp_path, monkeypatch):
    """The walker sees a lazy upward import (guards the test against silently seeing nothing)."""
    imports = list(project_imports())
    assert len(imports) > 200
    assert _layer("matcher.core.errors") == (0, "core")
    assert _layer("matcher.cli.main")[0] > _layer("matcher.service")[0]
