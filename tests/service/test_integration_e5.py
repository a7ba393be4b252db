"""The whole core with the real default encoder on a slice of the demo data."""

from __future__ import annotations

import json

import pytest

from matcher.core.settings import PROJECT_ROOT, Settings
from matcher.ingest.importer import read_records
from matcher.wiring import build_service

pytestmark = [pytest.mark.slow, pytest.mark.integration]
DEMO = PROJECT_ROOT / "data" / "demo"


def _head(src, dst, n):
    dst.write_text("\n".join(src.read_text(encoding="utf-8").splitlines()[:n]) + "\n", encoding="utf-8")
    return dst


def test_real_encoder_ranks_posts_of_the_desired_occupation(tmp_path):
    svc = build_service(Settings(data_dir=tmp_path / "var", reference_dir=PROJECT_ROOT / "data", encoder="e5"))
    d = read_records(_head(DEMO / "demands.jsonl", tmp_path / "d.jsonl", 120), "demands")
    t = read_records(_head(DEMO / "talents.jsonl", tmp_path / "t.jsonl", 80), "talents")
    assert not d.errors and not t.errors
    svc.import_rows("demands", d.records, [])
    svc.import_rows("talents", t.records, [])
    open_codes = {e.occupation_code for e in svc.store.list("demand", limit=1000, status="open")[0]}
    hits = tried = 0
    for profile in svc.store.list("talent", limit=1000)[0]:
        wanted = [c for c in profile.desired_occupations if c in open_codes]
        if not wanted:
            continue
        tried += 1
        top = svc.match_talent(profile.id, top_k=5)
        codes = {svc.get("demand", m.id).occupation_code for m in top}
        hits += bool(codes & set(wanted))
        for m in top:
            assert m.eligible and 0 <= m.score <= 1
    assert tried >= 15
    print(f"desired-occupation hit@5: {hits}/{tried}")
    assert hits / tried >= 0.6, f"{hits}/{tried} talents got a post of their desired occupation in the top 5"
    # the free-text path with the real encoder, Traditional characters included
    res = svc.match_text("熟悉 Python、機器學習與深度學習，希望從事人工智能算法工作", "demands", 5)
    assert res and json.dumps(res[0].model_dump(mode="json"), ensure_ascii=False)
    svc.close()
