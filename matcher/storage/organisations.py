"""Enterprises, catalogues and chain registries in a session."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from matcher.domain.schemas import (
    Catalogue,
    DemandEntry,
    Enterprise,
    IndustryChain,
    validate_stored,
)
from matcher.storage.lookup import get_row
from matcher.storage.records import Records, StoredRecord, check_version
from matcher.storage.tables import CatalogueRow, ChainRow, DemandRow, EnterpriseRow

__all__ = ["Catalogues", "ChainRegistries", "Enterprises", "enterprise_model"]


def enterprise_model(r: EnterpriseRow) -> Enterprise:
    return validate_stored(Enterprise, {  # type: ignore[return-value]
        "id": r.id, "name": r.name, "credit_code": r.credit_code, "city": r.city, "chain_id": r.chain_id,
        "description": r.description or ""})


class Enterprises:
    """Enterprises in the caller's session (its unit of work); a plain connection serves the
    reads that need no ORM object (``names``)."""

    def __init__(self, s: Session | Connection) -> None:
        self.s = s

    def row(self, enterprise_id: int, *, lock: bool = False) -> EnterpriseRow:
        return get_row(self.s, EnterpriseRow, enterprise_id, "企业", with_for_update=lock or None)

    def add(self, e: Enterprise) -> EnterpriseRow:
        row = EnterpriseRow(**e.model_dump(exclude={"id"}))
        self.s.add(row)
        self.s.flush()
        return row

    def update(self, enterprise_id: int, e: Enterprise | Callable[[Enterprise], Enterprise],
               expected_version: int | None = None) -> tuple[Enterprise, int]:
        """Replace an enterprise, or apply ``e(current)`` to it, with its row locked from the read
        to the commit; returns it and its new version. PreconditionFailed when the stored
        version is not ``expected_version``."""
        row = self.row(enterprise_id, lock=True)
        check_version("enterprise", enterprise_id, row.version, expected_version)
        new = e(enterprise_model(row)) if callable(e) else e
        for k, v in new.model_dump(exclude={"id"}).items():
            setattr(row, k, v)
        row.version = row.version + 1
        self.s.flush()
        return enterprise_model(row), row.version

    def get_versioned(self, enterprise_id: int) -> tuple[Enterprise, int]:
        row = self.row(enterprise_id)
        return enterprise_model(row), row.version

    def get(self, enterprise_id: int) -> Enterprise:
        return enterprise_model(self.row(enterprise_id))

    def page(self, offset: int = 0, limit: int = 50) -> list[Enterprise]:
        q = select(EnterpriseRow).order_by(EnterpriseRow.id).offset(offset).limit(limit)
        return [enterprise_model(r) for r in self.s.scalars(q)]

    def count(self) -> int:
        return self.s.scalar(select(func.count()).select_from(EnterpriseRow)) or 0

    def names(self, ids: Sequence[int]) -> dict[int, str]:
        """Names by id (``self.s`` a Connection: a ranking served to a seeker asks on every call;
        on SQLite the statement goes to the driver as it is, as ``records._versions_reader``)."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        if self.s.dialect.name == "sqlite":  # type: ignore[union-attr]
            table = EnterpriseRow.__tablename__
            rows = self.s.exec_driver_sql(f"SELECT id, name FROM {table} WHERE id IN ({','.join('?' * len(ids))})",
                                          tuple(ids))
        else:
            rows = self.s.execute(_NAMES, {"ids": ids})
        return {int(i): n for i, n in rows}


_NAMES = select(EnterpriseRow.id, EnterpriseRow.name).where(EnterpriseRow.id.in_(bindparam("ids", expanding=True)))


class Catalogues:
    """Catalogues (a region's yearly list of demand entries) in the caller's session."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def add(self, cat: Catalogue, records: Sequence[StoredRecord], actor: Any = None) -> tuple[int, list[int]]:
        """The catalogue and its entries; returns (catalogue id, entry ids)."""
        row = CatalogueRow(region=cat.region, year=cat.year, name=cat.name or "", chain_registry=cat.chain_registry)
        self.s.add(row)
        self.s.flush()
        for rec in records:
            assert isinstance(rec.model, DemandEntry)
            rec.model = rec.model.model_copy(update={"catalogue_id": row.id, "source": "catalogue"})
        return row.id, Records(self.s).insert("demand", records, actor)

    def remove(self, catalogue_id: int) -> list[int]:
        """Delete a catalogue and its entries (statements run at once, so a catalogue of the
        same name may be added next in the same session); returns the entry ids."""
        get_row(self.s, CatalogueRow, catalogue_id, "目录")
        ids = list(self.s.scalars(select(DemandRow.id).where(DemandRow.catalogue_id == catalogue_id)))
        for entry_id in ids:
            self.s.delete(self.s.get(DemandRow, entry_id))
        self.s.flush()
        self.s.execute(delete(CatalogueRow).where(CatalogueRow.id == catalogue_id))
        return ids

    def get(self, catalogue_id: int) -> Catalogue:
        row = get_row(self.s, CatalogueRow, catalogue_id, "目录")
        return Catalogue(id=row.id, region=row.region, year=row.year, name=row.name or None,
                         chain_registry=row.chain_registry, entries=Records(self.s).of_catalogue(row.id))

    def summaries(self) -> list[dict[str, Any]]:
        q = (select(CatalogueRow, func.count(DemandRow.id))
             .outerjoin(DemandRow, DemandRow.catalogue_id == CatalogueRow.id)
             .group_by(CatalogueRow.id).order_by(CatalogueRow.region, CatalogueRow.year))
        return [{"id": c.id, "region": c.region, "year": c.year, "name": c.name,
                 "chain_registry": c.chain_registry, "entries": n} for c, n in self.s.execute(q)]


class ChainRegistries:
    """Industry chains, by registry, in the caller's session."""

    def __init__(self, s: Session) -> None:
        self.s = s

    def replace(self, registry: str, chains: Sequence[IndustryChain]) -> None:
        self.s.execute(delete(ChainRow).where(ChainRow.registry_name == registry))
        for c in chains:
            self.s.add(ChainRow(id=c.id, name=c.name, region=c.region, registry_name=registry,
                                keywords=list(c.keywords), parent_sector=c.parent_sector))

    def chains(self, region: str | None = None) -> list[IndustryChain]:
        q = select(ChainRow).order_by(ChainRow.registry_name, ChainRow.id)
        if region:
            q = q.where((ChainRow.region == region) | (ChainRow.registry_name == region))
        return [
            validate_stored(IndustryChain, {  # type: ignore[misc]
                "id": r.id, "name": r.name, "region": r.region, "keywords": list(r.keywords or []),
                "parent_sector": r.parent_sector})
            for r in self.s.scalars(q)
        ]
