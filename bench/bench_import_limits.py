#!/usr/bin/env python
"""Refusal time and peak memory of hostile import files, and the cost of the checks on a large
legitimate one (``matcher.ingest.table_reader``). A script, not a test: it never asserts on timings.

Each case runs ``read_records`` (or the reader alone) in its own child process with the default
limits and reports wall time, outcome and the child's peak RSS above its start (``VmHWM``).

Cases: a 0.9 MB XLSX whose one cell unpacks to 900 MB (declared honestly, and with a central
directory that claims 40 kB); 150 MB of one character in one cell (under the 200 MB cap); a
sheet and a CSV of 1,000,000 rows; a legitimate 200,000 × 10 sheet and CSV (reader only: the
package scan or first pass, then every row).

    python bench/bench_import_limits.py            # ~2 min here
    python bench/bench_import_limits.py --quick    # smaller legitimate tables
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from tests.ingest.test_import_limits import (
    bomb_chunks,
    lie_about_size,
    raw_xlsx,
    row_xml,
    rows_chunks,
)

ROOT = Path(__file__).resolve().parent.parent


MiB = 1024 * 1024

CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
import openpyxl
from matcher.core.errors import TalentMatchError
from matcher.ingest.importer import read_records
from matcher.ingest.table_reader import ReadLimits, csv_rows, read_limited, xlsx_rows
def hwm():  # peak RSS of this process since exec, in kB (ru_maxrss keeps the parent's)
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])
mode, path = {mode!r}, Path({path!r})
before = hwm()
t = time.perf_counter()
rows = 0
try:
    if mode == "import":
        read_records(path, "demands")
        outcome = "accepted"
    else:
        limits = ReadLimits.from_settings()
        it = xlsx_rows(path, None, True, limits) if path.suffix == ".xlsx" else csv_rows(read_limited(path, limits), limits)
        for _ in it:
            rows += 1
        outcome = "read"
except TalentMatchError as exc:
    outcome = f"{{exc.status}} {{exc.detail}}"
except MemoryError:
    outcome = "MemoryError"
print(json.dumps({{"seconds": time.perf_counter() - t, "outcome": outcome, "rows": rows,
                  "peak_mb": (hwm() - before) / 1024}}))
"""


def child(mode: str, path: Path) -> dict:
    code = CHILD.format(root=str(ROOT), mode=mode, path=str(path))
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if out.returncode != 0:
        return {"seconds": time.perf_counter() - t, "outcome": f"child failed: {out.stderr[-300:]}", "peak_mb": None}
    return json.loads(out.stdout.strip().splitlines()[-1])


def legit_xlsx(path: Path, rows: int) -> Path:
    def chunks():
        yield row_xml(1, [f"列{i}" for i in range(10)])
        batch = []
        for r in range(2, rows + 2):
            batch.append(row_xml(r, [f"淄博{r % 977}号岗位" if i % 2 else r * 7 + i for i in range(10)]))
            if len(batch) == 2000:
                yield b"".join(batch)
                batch = []
        yield b"".join(batch)
    return raw_xlsx(path, {"岗位": chunks()}, dimension=f"A1:J{rows + 1}")  # as Excel writes it


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    legit_rows = 20_000 if args.quick else 200_000
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="tm-bench-limits-") as tmp:
        d = Path(tmp)
        cases: list[tuple[str, str, Path]] = []
        print("building files …", file=sys.stderr)
        bomb = raw_xlsx(d / "bomb900.xlsx", {"岗位": bomb_chunks(900 * MiB)})
        cases.append(("900 MB cell, honest header", "import", bomb))
        liar = raw_xlsx(d / "liar900.xlsx", {"岗位": bomb_chunks(900 * MiB)})
        lie_about_size(liar, 40_000)
        cases.append(("900 MB cell, header says 40 kB", "import", liar))
        cases.append(("150 MB cell (under the cap)", "import", raw_xlsx(d / "cell150.xlsx", {"岗位": bomb_chunks(150 * MiB)})))
        cases.append(("1,000,000-row sheet", "import", raw_xlsx(d / "rows.xlsx", {"岗位": rows_chunks(1_000_000)})))
        csv_path = d / "rows.csv"
        with open(csv_path, "w", encoding="utf-8") as f:
            f.write("岗位名称\n")
            for i in range(1_000_000):
                f.write(f"岗位{i}\n")
        cases.append(("1,000,000-row CSV", "import", csv_path))
        cases.append((f"legitimate {legit_rows:,} × 10 sheet (reader only)", "read", legit_xlsx(d / "legit.xlsx", legit_rows)))
        lc = d / "legit.csv"
        with open(lc, "w", encoding="utf-8") as f:
            f.write(",".join(f"列{i}" for i in range(10)) + "\n")
            for r in range(legit_rows):
                f.write(",".join(f"淄博{r % 977}号岗位" if i % 2 else str(r * 7 + i) for i in range(10)) + "\n")
        cases.append((f"legitimate {legit_rows:,} × 10 CSV (reader only)", "read", lc))
        for name, mode, path in cases:
            print(f"running: {name}", file=sys.stderr)
            res = child(mode, path)
            with zipfile.ZipFile(path) if path.suffix == ".xlsx" else open(os.devnull) as z:
                unpacked = sum(i.file_size for i in z.infolist()) if path.suffix == ".xlsx" else path.stat().st_size
            results.append({"case": name, "file_mb": path.stat().st_size / MiB, "declared_unpacked_mb": unpacked / MiB,
                            **res})
    load = os.getloadavg()[0]
    lines = ["# Import limits: refusal time and memory", "",
             f"{dt.datetime.now():%Y-%m-%d %H:%M}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs, load average {load:.2f}", "",
             "| case | file | declared unpacked | seconds | peak RSS growth | outcome |", "|---|---|---|---|---|---|"]
    for r in results:
        peak = "—" if r.get("peak_mb") is None else f"{r['peak_mb']:.0f} MB"
        rows = f" ({r['rows']:,} rows)" if r.get("rows") else ""
        lines.append(f"| {r['case']} | {r['file_mb']:.1f} MB | {r['declared_unpacked_mb']:.1f} MB | "
                     f"{r['seconds']:.2f} | {peak} | {r['outcome'][:70]}{rows} |")
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stem = f"import-limits{'-quick' if args.quick else ''}-{dt.date.today():%Y-%m-%d}"
    (out / f"{stem}.md").write_text(report, encoding="utf-8")
    (out / f"{stem}.json").write_text(json.dumps({"results": results, "load_average": load}, ensure_ascii=False,
                                                 indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
