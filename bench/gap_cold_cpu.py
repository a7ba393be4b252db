"""CPU time of one cold gap report (淄博市 2025 catalogue) over an existing data directory.

CPU seconds (``time.process_time``) are much less sensitive than wall time to the other work on a
shared machine, so two trees can be compared on the same data in the same hour:

    PYTHONPATH=<tree> python bench/gap_cold_cpu.py <data dir>

The data directory is one that ``bench_speed --only gap_report`` builds (the 730-row generated
catalogue and 1,000 generated talents, static-e5, e5 coder); with an older tree, import the same
files with that tree's CLI first (its schema may differ). Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import matcher
from matcher.analytics.gap import gap_report
from matcher.core.settings import Settings
from matcher.wiring import build_service

try:
    from matcher.analytics.models import GapQuery
except ImportError:  # trees before the models were split out
    from matcher.analytics.gap import GapQuery  # type: ignore[attr-defined, no-redef]


def main(data_dir: str) -> None:
    root = Path(matcher.__file__).resolve().parents[1]
    svc = build_service(Settings(data_dir=Path(data_dir), reference_dir=root / "data", encoder="static-e5",
                                 coder_encoder="e5"))
    c0, w0 = time.process_time(), time.perf_counter()
    r = gap_report(svc, GapQuery(region="淄博市", year=2025))
    print(json.dumps({"tree": str(root), "cpu_s": round(time.process_time() - c0, 2),
                      "wall_s": round(time.perf_counter() - w0, 2), "pairs_scored": r.method.pairs_scored,
                      "supply": r.supply, "entries": len(r.entries), "met": r.overall.met,
                      "load": [round(x, 2) for x in os.getloadavg()]}, ensure_ascii=False))
    svc.close()


if __name__ == "__main__":
    main(sys.argv[1])
