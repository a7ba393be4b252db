"""Soak: a realistic mix of requests against a real server and a job worker on loopback, with the
server killed (SIGKILL) and restarted in the middle. Checks: no errors other than the expected ones
during the restart, no acknowledged write lost, the indexes in step at the end.

    python -m bench.soak --rate 60 --seconds 600           # what `make soak` runs (SOAK_RATE=200 for more)
    python -m bench.soak --rate 40 --seconds 60 --quick    # a short run

Each writer thread owns a disjoint set of talent profiles and PATCHes them one after the other, so
the last acknowledged value of each profile is known; at the end every profile must hold it.
The encoder is the deterministic fake one (TALENTMATCH_ENCODER=fake): the soak measures the
service's plumbing (HTTP, database, change log, jobs), not the model. Results go to
bench/results/soak-latest.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(env: dict[str, str], talents: int, demands: int) -> str:
    """Records and an admin key, written before the server starts (the store of the soak's database)."""
    code = f"""
import json
from matcher.core.settings import load_settings
from matcher.wiring import build_service
from matcher.domain.schemas import DemandEntry, TalentProfile
svc = build_service(load_settings())
svc.add("demand", [DemandEntry(title=t, enterprise_name=f"企业{{i % 20}}", city="淄博", required_skills=["Python"])
                   for i, t in enumerate(["数据分析师", "大数据开发工程师", "PLC电气工程师", "算法工程师"] * {demands // 4})])
svc.add("talent", [TalentProfile(name=f"求职者{{i}}", skills=["Python", "SQL"], city="淄博", consent=True)
                   for i in range({talents})])
key, _ = svc.store.create_key("admin")
svc.close()
print(json.dumps({{"key": key}}))
"""
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["key"]


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _wait_ready(base: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def run(rate: float, seconds: float, db_url: str | None, talents: int, demands: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="tm-soak-"))
    env = {**os.environ, "TALENTMATCH_DATA_DIR": str(work / "var"), "TALENTMATCH_ENCODER": "fake",
           "TALENTMATCH_EMBEDDED_WORKER": "false", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    if db_url:
        env["TALENTMATCH_DATABASE_URL"] = db_url
    key = _seed(env, talents, demands)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    cli = [sys.executable, "-m", "matcher.cli.main"]
    log = work / "server.log"
    server = _start([*cli, "serve", "--port", str(port)], env, log)
    worker = _start([*cli, "worker"], env, work / "worker.log")
    assert _wait_ready(base, time.monotonic() + 300), "the server did not become ready"
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        fair = http.post("/v1/fairs", json={"name": "soak", "posts": [{"demand_id": i, "capacity": 3} for i in range(1, 21)],
                                            "seekers": [{"talent_id": i} for i in range(1, 41)]}).json()["id"]

    writers = 4
    owned = {w: list(range(1 + w, talents + 1, writers)) for w in range(writers)}
    acked: dict[int, str] = {}
    lock = threading.Lock()
    outcomes: Counter[str] = Counter()
    latencies: dict[str, list[float]] = {"read": [], "match": [], "write": [], "job": []}
    restarting = threading.Event()
    stop = threading.Event()
    start = time.monotonic()
    per_thread = rate / 8

    def client_loop(n: int) -> None:
        rng = random.Random(n)
        my = owned.get(n) if n < writers else None
        seq = 0
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            next_at = time.monotonic()
            while not stop.is_set():
                next_at += rng.expovariate(per_thread)
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                roll = rng.random()
                if my is not None and roll < 0.5:
                    kind = "write"
                    tid = my[seq % len(my)]
                    seq += 1
                    value = f"soak-{n}-{seq}"
                    req = ("PATCH", f"/v1/talents/{tid}", {"json": {"summary": value}})
                elif roll < 0.75:
                    kind = "read"
                    req = rng.choice([("GET", f"/v1/talents/{rng.randint(1, talents)}", {}),
                                      ("GET", "/v1/demands", {"params": {"page_size": 20}})])
                elif roll < 0.995:
                    kind = "match"
                    req = ("GET", f"/v1/talents/{rng.randint(1, talents)}/matches", {"params": {"top_k": 10}})
                else:
                    kind = "job"
                    req = ("POST", f"/v1/fairs/{fair}/jobs", {"json": {"mode": "stable", "min_score": 0}})
                t0 = time.perf_counter()
                during_restart = restarting.is_set()
                try:
                    r = http.request(req[0], req[1], **req[2])
                    status = r.status_code
                except httpx.HTTPError:
                    status = -1
                elapsed = time.perf_counter() - t0
                ok = status in (200, 202) or (kind == "job" and status == 503)  # a full queue is an answer
                with lock:
                    if ok:
                        latencies[kind].append(elapsed)
                        outcomes[f"{kind} ok"] += 1
                        if kind == "write":
                            acked[tid] = value
                    elif during_restart or restarting.is_set():
                        outcomes["expected during restart"] += 1
                    else:
                        outcomes[f"{kind} error {status}"] += 1

    threads = [threading.Thread(target=client_loop, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(seconds / 2)
    restarting.set()
    t_kill = time.monotonic()
    server.send_signal(signal.SIGKILL)
    server.wait()
    server = _start([*cli, "serve", "--port", str(port)], env, log)
    ready = _wait_ready(base, time.monotonic() + 300)
    restart_seconds = time.monotonic() - t_kill
    time.sleep(1.0)  # requests sent just before readiness count as part of the restart
    restarting.clear()
    time.sleep(max(0.0, seconds - (time.monotonic() - start)))
    stop.set()
    for t in threads:
        t.join(60)
    duration = time.monotonic() - start

    lost = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        for tid, value in acked.items():
            if http.get(f"/v1/talents/{tid}").json().get("summary") != value:
                lost.append(tid)
        time.sleep(2.5)  # a poll interval or two
        ready_body = http.get("/ready").json()
        jobs_text = http.get("/metrics").text
    server.send_signal(signal.SIGTERM)
    worker.send_signal(signal.SIGTERM)
    for p in (server, worker):
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
    sent = sum(outcomes.values())
    errors = {k: v for k, v in outcomes.items() if " error " in k}
    lat = {k: {"n": len(v), "p50_ms": round(float(np.percentile(v, 50)) * 1000, 1),
               "p95_ms": round(float(np.percentile(v, 95)) * 1000, 1)} for k, v in latencies.items() if v}
    return {
        "target_rate": rate, "seconds": round(duration, 1), "achieved_rate": round(sent / duration, 1),
        "database": "postgresql" if db_url else "sqlite", "requests": sent, "outcomes": dict(outcomes),
        "unexpected_errors": errors, "restart_seconds": round(restart_seconds, 1), "ready_after_restart": ready,
        "acknowledged_writes_checked": len(acked), "lost_writes": len(lost),
        "in_step_at_end": all(v["in_step"] for v in ready_body["indexes"].values()),
        "jobs_done": int(sum(float(line.split()[-1]) for line in jobs_text.splitlines()
                             if line.startswith('talentmatch_jobs{state="done"}'))),
        "served_rate_outside_restart": round((sent - outcomes["expected during restart"])
                                             / max(duration - restart_seconds, 1e-9), 1),
        "latency": lat, "talents": talents, "demands": demands, "cpus": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rate", type=float, default=200.0, help="requests per second to offer")
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--db-url", default=None, help="PostgreSQL URL (default: SQLite in a temp dir)")
    ap.add_argument("--talents", type=int, default=400)
    ap.add_argument("--demands", type=int, default=200)
    args = ap.parse_args()
    res = run(args.rate, args.seconds, args.db_url, args.talents, args.demands)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak-latest.json").write_text(json.dumps(res, ensure_ascii=False, indent=2), encoding="utf-8")
    md = ["# Soak", "", f"Command: `python -m bench.soak --rate {args.rate:g} --seconds {args.seconds:g}`"
          + (" --db-url …" if args.db_url else ""), "", "```json", json.dumps(res, ensure_ascii=False, indent=2), "```", ""]
    (RESULTS / "soak-latest.md").write_text("\n".join(md), encoding="utf-8")
    print(json.dumps(res, ensure_ascii=False, indent=2))
    ok = not res["unexpected_errors"] and res["lost_writes"] == 0 and res["in_step_at_end"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
