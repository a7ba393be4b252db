"""QualificationRules.requirements keeps its parse per distinct set of requirement fields: the
same requirements as a fresh parse, for every entry, and a new list each call."""

from __future__ import annotations

import json

from matcher.core.settings import PROJECT_ROOT
from matcher.domain.schemas import DemandEntry
from matcher.reference.quals import QualificationRules


def _entries() -> list[DemandEntry]:
    with (PROJECT_ROOT / "data" / "demo" / "demands.jsonl").open(encoding="utf-8") as f:
        rows = [json.loads(line) for _, line in zip(range(400), f, strict=False)]
    return [DemandEntry.model_validate({k: v for k, v in d.items() if k != "enterprise_id"}) for d in rows]


def test_kept_requirements_equal_a_fresh_parse():
    path = PROJECT_ROOT / "data" / "qualifications.json"
    rules = QualificationRules.load(path)
    entries = _entries()
    entries += [e.model_copy(update={"required_certificates": ["电工证", "数字技术工程师（大数据）中级"]})
                for e in entries[:20]]
    assert any(e.required_certificates for e in entries) and any(e.required_title_level for e in entries)
    for _ in range(2):  # the second pass reads what the first kept
        for e in entries:
            assert rules.requirements(e) == QualificationRules.load(path)._requirements_of(e)


def test_each_call_gets_its_own_list():
    rules = QualificationRules.load(PROJECT_ROOT / "data" / "qualifications.json")
    entry = DemandEntry(title="电工", education="本科", required_certificates=["电工证"])
    first = rules.requirements(entry)
    first.clear()
    assert [r.kind for r in rules.requirements(entry)] == ["education", "certificate"]
