"""What every ``talentmatch`` sub-command shares: the consoles, output formats and the service."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from rich.console import Console

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class Fmt(StrEnum):
    table = "table"
    json = "json"


def make_service(settings: Any = None) -> Any:
    """The matching service (heavy imports only when a command needs them)."""
    from matcher.core.settings import load_settings
    from matcher.service import MatchService

    return MatchService(settings or load_settings())
