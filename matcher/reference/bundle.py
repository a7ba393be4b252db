"""The reference data a service works with, loaded together from one directory (``data/``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matcher.reference.majors import MajorTaxonomy, load_majors
from matcher.reference.occupations import Taxonomy
from matcher.reference.quals import QualificationRules, load_rules
from matcher.reference.regions import Regions, load_regions
from matcher.reference.skills import SkillVocab, load_vocab


def load_directions(path: Path) -> dict[str, dict[str, Any]]:
    """数字技术工程师 training directions by name (data/training_directions.json); none if absent."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {d["name"]: d for d in data.get("directions", [])}


@dataclass(frozen=True)
class ReferenceData:
    """Occupations (CSCO 2022), regions, qualification rules, skills, training directions and
    the major taxonomy."""

    directory: Path
    taxonomy: Taxonomy
    regions: Regions
    rules: QualificationRules
    vocab: SkillVocab
    directions: dict[str, dict[str, Any]]
    majors: MajorTaxonomy = field(default_factory=lambda: MajorTaxonomy({}))

    @classmethod
    def load(cls, directory: Path) -> ReferenceData:
        return cls(directory=directory,
                   taxonomy=Taxonomy.load(directory / "csco22_occupations.csv"),
                   regions=load_regions(directory / "cn_regions.csv"),
                   rules=load_rules(directory / "qualifications.json"),
                   vocab=load_vocab(directory / "skills.json"),
                   directions=load_directions(directory / "training_directions.json"),
                   majors=load_majors(directory / "majors.json"))

    def domain_words(self) -> list[str]:
        """Words the tokenizer keeps whole: skill names, then occupation names (in this order:
        the order words reach jieba's dictionary decides how it cuts)."""
        return [*self.vocab.names(), *(o.name for o in self.taxonomy.occupations)]
