"""The chain registries in the store: listing them, and loading a registry file in one transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from matcher.core.errors import Conflict
from matcher.ingest.registries import RegistryLoadResult, read_registry_file
from matcher.service import MatchService
from matcher.storage import chains_repo


class RegistryInfo(BaseModel):
    """A registry in the store."""

    registry: str
    regions: list[str]
    chains: int


def list_registries(service: MatchService) -> list[RegistryInfo]:
    """The registries in the store with their regions and chain counts."""
    out: dict[str, RegistryInfo] = {}
    with service.store.session() as s:
        for reg, region in chains_repo.registry_regions(s):
            info = out.setdefault(reg, RegistryInfo(registry=reg, regions=[], chains=0))
            info.chains += 1
            if region not in info.regions:
                info.regions.append(region)
    return list(out.values())


def load_registry(service: MatchService, path: Path, *, registry: str | None = None, region: str | None = None,
                  sheet: str | None = None, actor: Any = None) -> RegistryLoadResult:
    """Read a registry file and store it in one transaction, replacing the registry of the same
    name. A chain id held by another registry is a conflict (ids are global)."""
    reg = read_registry_file(path, registry=registry, region=region, sheet=sheet)
    with service.store.session() as s:
        taken = chains_repo.ids_held_elsewhere(s, [c.id for c in reg.chains], reg.name)
        replaced = chains_repo.chain_count(s, reg.name)
    if taken:
        cid = sorted(taken)[0]
        raise Conflict(f"产业链编号“{cid}”已属于名录“{taken[cid]}”（共 {len(taken)} 个编号冲突）；"
                       f"请改用其他编号，或用 --registry {taken[cid]} 替换该名录")
    n = service.register_chains(reg.name, reg.chains, actor=actor)
    with service.store.session() as s:
        orphaned = chains_repo.orphaned_entry_count(s)
    return RegistryLoadResult(registry=reg.name, region=reg.region, chains=n, replaced=replaced,
                              orphaned_entries=orphaned)
