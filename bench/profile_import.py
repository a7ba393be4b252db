#!/usr/bin/env python
"""Where the time of ``talentmatch import talents`` goes (issue 17): the import's steps timed one
by one (wall and CPU seconds) in a fresh process, on the 1,000 generated profiles of
``bench_speed`` (``make_talents``), on SQLite and (with ``--pg URL``) on PostgreSQL, with the
occupation coder on e5 and on static-e5. Prints a table and writes
``bench/results/import-profile-latest.{json,md}``. Nothing is asserted.

    python -m bench.profile_import [--pg postgresql://postgres@127.0.0.1:5432/test]

The steps are those of ``talentmatch import talents`` (``matcher/cli/imports.py`` and
``MatchService.import_rows``), called one at a time so each can be timed: module imports, the
service (database, encoder, reference data, tokenizer), reading and validating the file, the
occupation coder's build and its one call on the file's distinct free-text wishes, preparing
the records, encoding (into the embedding cache), and the one write transaction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _steps(path: Path) -> list[dict[str, Any]]:
    """Run the import's steps in this process; (step, wall s, CPU s) of each."""
    out: list[dict[str, Any]] = []
    last = [time.perf_counter(), time.process_time()]

    def lap(step: str) -> None:
        w, c = time.perf_counter(), time.process_time()
        out.append({"step": step, "wall_s": round(w - last[0], 3), "cpu_s": round(c - last[1], 3)})
        last[0], last[1] = w, c

    from matcher.cli.common import run_service
    from matcher.ingest.importer import read_records
    from matcher.ingest.table_reader import ReadLimits
    from matcher.wiring import build_service  # noqa: F401 - the service's modules, as the command imports them

    lap("imports")
    svc = run_service()
    lap("service (database, encoder, reference, tokenizer)")
    result = read_records(path, "talents", None, limits=ReadLimits.from_settings(svc.settings))
    lap("read and validate the file")
    pre = svc.preparer
    rows = result.records
    queries = pre.coding_queries("talent", [m for _, m in rows])
    if queries:
        pre.coder()
    lap("occupation coder: build")
    coded = pre.code_batch(queries)
    lap(f"occupation coder: one call ({len(set(queries))} distinct texts)")
    bad = pre.external_id_errors("talent", rows, None, "external_id")
    records = [pre.prepare("talent", m, coded) for n, m in rows if n not in bad]
    lap("prepare records (skills, places, text)")
    svc._encode(records, None)
    lap("encode (static-e5, into the embedding cache)")
    ids = svc.store.add("talent", records)
    lap("write (records, audit, change log: one transaction)")
    svc.close()
    assert len(ids) == len(rows)
    return out


def _run(path: Path, data_dir: Path, coder: str, db_url: str | None) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TALENTMATCH_DATA_DIR=str(data_dir), TALENTMATCH_ENCODER="static-e5",
               TALENTMATCH_CODER_ENCODER=coder, HF_HUB_OFFLINE="1")
    env.pop("TALENTMATCH_DATABASE_URL", None)
    if db_url:
        env["TALENTMATCH_DATABASE_URL"] = db_url
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.profile_import", "--steps", str(path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    steps = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"steps": steps, "process_wall_s": round(wall, 2),
            "cpu_s": round(sum(s["cpu_s"] for s in steps), 2), "wall_s": round(sum(s["wall_s"] for s in steps), 2)}


def _pg_schema(url: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text

    schema = f"tm_prof_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"

    def drop() -> None:
        with admin.begin() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pg", default=None, help="PostgreSQL URL: also profile there (in a new schema, dropped after)")
    p.add_argument("--coders", default="e5,static-e5", help="occupation coder encoders to profile")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    p.add_argument("--steps", type=Path, default=None, help=argparse.SUPPRESS)  # the child process
    args = p.parse_args(argv)
    if args.steps:
        print(json.dumps(_steps(args.steps)))
        return 0
    from bench.bench_speed import make_talents
    from bench.util import git_rev, loadavg

    res: dict[str, Any] = {"date": dt.date.today().isoformat(), "commit": git_rev(), "load_start": loadavg(),
                           "command": "python -m bench.profile_import" + (" --pg <url>" if args.pg else ""),
                           "profiles": 1000, "runs": []}
    with tempfile.TemporaryDirectory(prefix="profile-import-") as tmp_:
        tmp = Path(tmp_)
        talents = make_talents(tmp / "talents1000.jsonl", 1000)
        for db in ["sqlite"] + (["postgresql"] if args.pg else []):
            for coder in args.coders.split(","):
                url, drop = _pg_schema(args.pg) if db == "postgresql" else (None, lambda: None)
                try:
                    run = _run(talents, tmp / f"{db}-{coder}", coder, url)
                finally:
                    drop()
                res["runs"].append({"database": db, "coder": coder, **run})
                print(f"{db} coder={coder}: CPU {run['cpu_s']} s, wall {run['wall_s']} s", file=sys.stderr)
    res["load_end"] = loadavg()
    lines = [f"# Where `talentmatch import talents` spends its time — {res['date']}", "",
             f"Commit {res['commit']}; 1,000 generated profiles (bench_speed's file); `{res['command']}`; load average "
             f"{res['load_start']} at start, {res['load_end']} at the end (2 cores shared with other work: compare CPU "
             "seconds, the wall time is mostly waiting). Encoder static-e5; each run a fresh process and data directory.",
             ""]
    for run in res["runs"]:
        lines += [f"## {run['database']}, occupation coder {run['coder']}: CPU {run['cpu_s']} s, wall {run['wall_s']} s",
                  "", "| step | CPU s | wall s |", "|---|---:|---:|"]
        lines += [f"| {s['step']} | {s['cpu_s']:.2f} | {s['wall_s']:.2f} |" for s in run["steps"]]
        lines.append("")
    md = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "import-profile-latest.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n",
                                                         encoding="utf-8")
    (args.out / "import-profile-latest.md").write_text(md, encoding="utf-8")
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
