"""Salary reference (工资价位): quantiles of offered monthly salaries per occupation."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from matcher.analytics.models import NO_OCCUPATION, DemandScope, SalaryStat
from matcher.domain.schemas import DemandEntry


def salary_reference(entries: Sequence[DemandEntry], taxonomy: Any = None) -> list[SalaryStat]:
    """Quantiles of offered monthly salaries per occupation (one observation per entry)."""
    by_occ: dict[str | None, list[DemandEntry]] = defaultdict(list)
    for e in entries:
        if e.salary_min is not None or e.salary_max is not None:
            by_occ[e.occupation_code].append(e)
    out = []
    for code, items in by_occ.items():
        values = np.array([_offered(e) for e in items], dtype=float)
        q = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
        name = (items[0].occupation_name or (taxonomy.name(code) if taxonomy and code else None)
                or NO_OCCUPATION)
        out.append(SalaryStat(occupation_code=code, occupation_name=name, entries=len(items),
                              headcount=sum(e.headcount for e in items), p10=round(q[0]), p25=round(q[1]),
                              p50=round(q[2]), p75=round(q[3]), p90=round(q[4]), mean=round(values.mean())))
    out.sort(key=lambda s: (-s.entries, -s.headcount, s.occupation_code or ""))
    return out


def _offered(e: DemandEntry) -> float:
    if e.salary_min is not None and e.salary_max is not None:
        return (e.salary_min + e.salary_max) / 2
    return float(e.salary_min if e.salary_min is not None else e.salary_max)  # type: ignore[arg-type]


class SalaryQuery(BaseModel):
    region: str = Field(min_length=1, max_length=50)
    year: int = Field(ge=2000, le=2100)
    demand: DemandScope = "all"


class SalaryReport(BaseModel):
    region: str
    year: int
    demand_scope: DemandScope
    definition: str
    entries: int
    occupations: list[SalaryStat]
