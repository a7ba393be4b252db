#!/usr/bin/env python
"""The nightly re-match of the whole demo data set through Ray against the in-process run.

Loads ``data/demo`` (talents and demand entries; the fake encoder, so no model runs) into a
fresh SQLite store, runs ``batch rematch`` in process and on a local Ray of 2 workers with the
same parameters, and compares every stored top-k list (the per-post lists come from merged
per-shard top lists in both: the local run merges them in process). Writes
``bench/results/demo-rematch-latest.{json,md}``. A check with timings, not a test (about
4 minutes here): ``tests/batch/`` runs the same comparison on a subset in CI.

Usage::

    python -m bench.check_demo_rematch [--top-k 10] [--pool 200] [--shard-size 250]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.util import ROOT, git_rev, loadavg, log


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top-k", type=int, default=10)
    ap.add_argument("--pool", type=int, default=200)
    ap.add_argument("--shard-size", type=int, default=250)
    a = ap.parse_args(argv)
    from matcher.batch.rematch import RematchParams, broadcast_post_lists, rematch
    from matcher.core.settings import Settings
    from matcher.domain.schemas import DemandEntry, TalentProfile
    from matcher.storage.batch_repo import BatchRepo
    from matcher.wiring import build_service

    def rows(name: str) -> list[dict]:
        text = (ROOT / "data" / "demo" / name).read_text(encoding="utf-8")
        return [json.loads(x) for x in text.splitlines() if x.strip()]

    out: dict = {"date": dt.date.today().isoformat(), "git": git_rev(), "loadavg_before": loadavg()}
    with tempfile.TemporaryDirectory(prefix="demo-rematch-") as tmp:
        svc = build_service(Settings(data_dir=Path(tmp), reference_dir=ROOT / "data", encoder="fake",
                                     encoder_model="384"))
        svc.add("demand", [DemandEntry.model_validate({k: v for k, v in r.items() if k != "enterprise_id"})
                           for r in rows("demands.jsonl")])
        svc.add("talent", [TalentProfile.model_validate(r) for r in rows("talents.jsonl")])
        out["talents"], out["demands"] = svc.store.count("talent"), svc.store.count("demand")
        params = RematchParams(top_k=a.top_k, pool=a.pool, shard_size=a.shard_size)
        runs = {}
        for name, kw in (("in process", {"executor": "local"}), ("Ray, 2 workers", {"executor": "ray", "workers": 2})):
            t0 = time.perf_counter()
            info = rematch(svc, params, **kw)
            runs[name] = {"run_id": info.id, "wall_s": round(time.perf_counter() - t0, 1), "shards": info.shards,
                          "rows": info.rows, "searchable": [info.stats["talents"], info.stats["demands"]],
                          "partial_entries": info.stats.get("partial_entries")}
            log(f"{name}: {runs[name]}")
        repo = BatchRepo(svc.store)
        lists = [repo.all_matches(r["run_id"]) for r in runs.values()]
        # the per-post lists against the algorithm the merge replaced (the whole profile matrix)
        t0 = time.perf_counter()
        broadcast = broadcast_post_lists(svc, params)
        merged = {qid: rows for (side, qid), rows in lists[0].items() if side == "demand"}
        out["broadcast"] = {"wall_s": round(time.perf_counter() - t0, 1), "post_lists": len(broadcast),
                            "identical": merged == broadcast}
        log(f"broadcast reference: {out['broadcast']}")
        out.update(params={"top_k": a.top_k, "pool": a.pool, "shard_size": a.shard_size}, runs=runs,
                   lists=len(lists[0]), identical=all(x == lists[0] for x in lists[1:]) and merged == broadcast,
                   loadavg_after=loadavg())
        svc.close()
    md = (f"# The demo data's re-match: Ray against in process ({out['date']})\n\n"
          f"{out['talents']} talents, {out['demands']} demand entries (SYNTHETIC demo data, fake encoder); "
          f"top-{a.top_k} both ways, {a.pool} candidates, shards of {a.shard_size}.\n\n"
          "| run | wall s | shards | rows | partial entries (per-post side) |\n|---|---|---|---|---|\n"
          + "".join(f"| {k} | {v['wall_s']} | {v['shards']} | {v['rows']} | {v['partial_entries']} |\n"
                    for k, v in out["runs"].items())
          + f"\nPer-post lists against the broadcast algorithm the merge replaced (each post's pool over the "
          f"whole profile matrix, same exact cosines and scoring): {out['broadcast']['post_lists']} lists, "
          f"identical: **{out['broadcast']['identical']}**.\n"
          + f"\nStored top-k lists compared: {out['lists']}; identical: **{out['identical']}**. "
          f"Load average {out['loadavg_before'][0]} → {out['loadavg_after'][0]}.\n")
    print(md)
    results = ROOT / "bench" / "results"
    (results / "demo-rematch-latest.json").write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    (results / "demo-rematch-latest.md").write_text(md, encoding="utf-8")
    return 0 if out["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
