"""Reads over chains and enterprises that chain suggestion and registry loading need."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.reference.chains import EnterpriseRef
from matcher.storage.tables import ChainRow, DemandRow, EnterpriseRow


def enterprise_ref(s: Session, enterprise_id: int | None, name: str | None) -> EnterpriseRef | None:
    """The stored enterprise of an entry (by id, else by exact name), or None."""
    if enterprise_id is None and not name:
        return None
    if enterprise_id is not None:
        row = s.get(EnterpriseRow, enterprise_id)
    else:
        row = s.scalars(select(EnterpriseRow).where(EnterpriseRow.name == name)).first()
    return EnterpriseRef(row.id, row.name, row.chain_id) if row is not None else None


def registry_regions(s: Session) -> list[tuple[str, str]]:
    """(registry name, region) of every stored chain, by registry."""
    return [(r, g) for r, g in s.execute(select(ChainRow.registry_name, ChainRow.region)
                                         .order_by(ChainRow.registry_name))]


def ids_held_elsewhere(s: Session, ids: Sequence[str], registry: str) -> dict[str, str]:
    """Chain id -> the other registry that holds it, for the given ids."""
    return {cid: other for cid, other in s.execute(
        select(ChainRow.id, ChainRow.registry_name).where(ChainRow.id.in_(list(ids)), ChainRow.registry_name != registry))}


def chain_count(s: Session, registry: str) -> int:
    return s.scalar(select(func.count()).select_from(ChainRow).where(ChainRow.registry_name == registry)) or 0


def orphaned_entry_count(s: Session) -> int:
    """Demand entries whose chain is in no registry."""
    known = select(ChainRow.id)
    return s.scalar(select(func.count()).select_from(DemandRow).where(
        DemandRow.chain_id.is_not(None), DemandRow.chain_id.not_in(known))) or 0


def enterprise_of(store, enterprise_id: int | None, name: str | None) -> EnterpriseRef | None:
    """:func:`enterprise_ref` in a session of its own."""
    with store.session() as s:
        return enterprise_ref(s, enterprise_id, name)
