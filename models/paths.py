"""Where the shipped model artifacts live (installed with the package as data files)."""

from __future__ import annotations

from pathlib import Path

ARTIFACT_DIR = Path(__file__).resolve().parent / "artifacts"
