"""Files of a saved index: checksummed data files named by the manifest, written durably."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.core.errors import IndexNotReady, MissingDependency

if TYPE_CHECKING:
    from types import ModuleType

def faiss_module() -> ModuleType:
    """The faiss module, or `MissingDependency` naming the package to install."""
    try:
        import faiss
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependency(
            "后端 'faiss' 需要 faiss 库：pip install faiss-cpu (the 'faiss' index backend needs faiss)"
        ) from exc
    return faiss


def manifest_files(
    directory: Path, manifest: Mapping[str, Any], roles: tuple[str, ...], *, checksums: bool = True
) -> dict[str, Path]:
    """Paths of the data files the manifest names, checked for presence, size and (unless
    ``checksums=False``) checksum."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise IndexNotReady("index manifest has no file list")
    out: dict[str, Path] = {}
    for role in roles:
        info = files.get(role)
        if not isinstance(info, dict) or not isinstance(info.get("name"), str):
            raise IndexNotReady(f"index manifest does not name the {role} file")
        name = info["name"]
        if Path(name).name != name:
            raise IndexNotReady(f"invalid file name {name!r} in index manifest")
        path = directory / name
        if not path.is_file():
            raise IndexNotReady(f"index file {path} is missing")
        if info.get("size") is not None and path.stat().st_size != info["size"]:
            raise IndexNotReady(f"index file {path} has the wrong size (truncated or replaced)")
        if checksums and info.get("sha256") is not None and sha256_of(path) != info["sha256"]:
            raise IndexNotReady(f"index file {path} is corrupt (checksum mismatch)")
        out[role] = path
    return out


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_npy(path: Path, array: np.ndarray) -> None:
    """Write `array` as .npy to exactly `path`."""
    with open(path, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def read_npy(path: Path) -> np.ndarray:
    """Read a .npy file, `IndexNotReady` if unreadable."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexNotReady(f"unreadable index file {path}: {exc}") from exc


def read_faiss(path: Path) -> Any:
    """Read a faiss index file, `IndexNotReady` if unreadable."""
    faiss = faiss_module()
    try:
        # read_index already returns the concrete class and owns it; do not re-wrap it.
        return faiss.read_index(str(path))
    except (RuntimeError, MemoryError, ValueError) as exc:
        raise IndexNotReady(f"unreadable faiss index file {path}: {exc}") from exc


def fsync_file(path: Path) -> None:
    """Flush a written file to stable storage."""
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry update (renames) where the platform allows it."""
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
