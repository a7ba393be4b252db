#!/usr/bin/env python
"""What the seeker's post cards cost (issue 14), on a loaded demo store.

A measurement script, not a test. For the first ``--seekers`` talent profiles of the store in
``TALENTMATCH_DATA_DIR`` (``talentmatch demo --no-serve`` fills one), it times, in one process:

- *baseline*: ``match_talent(id, 20)``, what ``/app/me/posts`` did before the cards;
- *cards*: ``web.posts.seeker_posts`` — the ranking with room for one card per catalogue line,
  the desired cities' own rankings, the records, enterprise names and catalogue years read for
  the cards;
- *zone*: the graduates' zone cards.

Each seeker is timed once per variant after one warm-up pass; the medians and 90th percentiles
are printed and written to ``bench/results/pages-<date>.json`` and ``.md``. It also counts how
often the "desired city has no post" note is shown and how many duplicate catalogue lines the
cards removed. It never asserts on timings::

    TALENTMATCH_DATA_DIR=var python -m bench.bench_pages --seekers 40
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

import bench  # noqa: F401 - environment before heavy imports

RESULTS = Path(__file__).resolve().parent / "results"


def _q(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seekers", type=int, default=40)
    args = ap.parse_args()

    from matcher.cli.common import run_service
    from matcher.domain.schemas import MatchFilters
    from web.posts import seeker_posts

    svc = run_service()
    talents, _ = svc.store.list("talent", limit=args.seekers)
    ids = [t.id for t in talents]
    times: dict[str, list[float]] = {"baseline": [], "cards": [], "zone": []}
    notes = dupes = 0
    for warm in (True, False):
        for tid in ids:
            t0 = time.perf_counter()
            ranked = svc.match_talent(tid, 20, MatchFilters())
            t1 = time.perf_counter()
            cards, note = seeker_posts(svc, tid, MatchFilters())
            t2 = time.perf_counter()
            seeker_posts(svc, tid, MatchFilters(fresh_graduates_only=True), fresh_only=True)
            t3 = time.perf_counter()
            if warm:
                continue
            times["baseline"].append(t1 - t0)
            times["cards"].append(t2 - t1)
            times["zone"].append(t3 - t2)
            notes += note is not None
            entries = svc.get_many("demand", [m.id for m in ranked])
            lines = [(e.title, e.chain_id, e.city, e.occupation_code) for e in entries.values() if e.source == "catalogue"]
            dupes += len(lines) - len(set(lines))
    svc.close()
    out = {
        "date": date.today().isoformat(),
        "seekers": len(ids),
        "ms": {k: {"median": round(statistics.median(v) * 1000, 1), "p90": round(_q(v, 0.9) * 1000, 1)}
               for k, v in times.items()},
        "desired_city_note_shown": notes,
        "duplicate_catalogue_lines_in_baseline_top20": dupes,
    }
    RESULTS.mkdir(exist_ok=True)
    stem = RESULTS / f"pages-{out['date']}"
    stem.with_suffix(".json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    rows = "\n".join(f"| {k} | {v['median']} | {v['p90']} |" for k, v in out["ms"].items())
    stem.with_suffix(".md").write_text(
        f"# Seeker post cards, {out['date']} ({len(ids)} demo seekers, one process)\n\n"
        f"| variant | median ms | p90 ms |\n|---|---:|---:|\n{rows}\n\n"
        f"- the note “您期望的城市暂无岗位” shown for {notes} of {len(ids)} seekers\n"
        f"- duplicate catalogue lines the old top 20 held (all seekers): {dupes}\n", encoding="utf-8")
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
