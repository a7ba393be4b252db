#!/usr/bin/env python
"""End-to-end match latency THROUGH THE HTTP API, with a load generator in another process.

A measurement script, not a test. For a data directory holding N demand entries (built by
``bench_core.populate``: synthetic entries and vectors, see bench/README.md), it

1. creates an administrator key and starts ``talentmatch serve`` (uvicorn, ``workers`` processes) on a
   free loopback port, and waits for ``/ready``;
2. runs the load generator — this same script with ``--loadgen``, a separate Python process
   with one keep-alive HTTP/1.1 connection per concurrent client on one asyncio loop, parsed by
   ``httptools`` (closed loop: each client sends its next request when the previous answer
   arrives; its own CPU per request is reported) — over two routes:
   ``POST /v1/match {"text": …, "side": "demands"}`` (one real e5 query encode per request) and
   ``GET /v1/talents/{id}/matches`` (the stored profile's vector is cached: no encode), at each
   concurrency level;
3. stops the server and measures the BARE cost of the same requests in this process on the
   same saved index: one e5 query encode + one FAISS search of the candidate pool (text), and
   one FAISS search (talent); the API-to-bare ratio shows the overhead (BM25, fetching and
   scoring 200 candidates, explanations, HTTP, JSON, auth, audit).

``bench_core.py`` calls :func:`run_api_bench` inside its end-to-end section (sections
``e2e,api``), on the store it has already built. Standalone::

    python -m bench.bench_api --n 100000            # builds its own store first (sync: minutes)
    python -m bench.bench_api --n 2000 --requests 40 # smoke run

It never asserts on timings. Results: ``bench/results/api-<date>.json`` / ``.md`` when run
standalone; inside bench_core, the ``api`` key of each e2e row.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

T0 = time.perf_counter()


def log(msg: str) -> None:
    """Progress on stderr, timed from the start of the calling benchmark when there is one."""
    t0 = getattr(sys.modules.get("__main__"), "T0", T0)
    print(f"[bench-api {time.perf_counter() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def percentiles(ms: list[float]) -> dict[str, float]:
    """p50/p90/p99/mean/max/n of latencies already in milliseconds (``bench_core.pct``)."""
    from bench.util import pct

    return pct(ms, scale=1.0)


# --------------------------------------------------------------------------- load generator


class _Conn:
    """One keep-alive HTTP/1.1 connection of the load generator: requests written as bytes,
    answers parsed by ``httptools`` (the C parser uvicorn uses), one at a time. A lighter client
    leaves more of the shared cores to the server: 0.6-0.9 ms of CPU per request on the
    matches route (0.7-1.7 ms in the slower phases of the fifth session's runs, as reported in
    each run), where one ``httpx`` client per thread took 1.0-1.4 ms on the same cores."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": f"{host}:{port}", **headers}.items())
        self.reader: Any = None
        self.writer: Any = None

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        import asyncio

        import httptools

        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = b"" if body is None else json.dumps(body).encode()
        extra = f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n" if body is not None else ""
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + data)
        parts: list[bytes] = []
        done: list[bool] = []

        class Sink:
            def on_body(self, chunk: bytes) -> None:
                parts.append(chunk)

            def on_message_complete(self) -> None:
                done.append(True)

        parser = httptools.HttpResponseParser(Sink())
        while not done:
            chunk = await self.reader.read(65536)
            if not chunk:
                self.writer = None
                raise ConnectionError("the server closed the connection")
            parser.feed_data(chunk)
        if not parser.should_keep_alive():
            self.writer.close()
            self.writer = None
        return parser.get_status_code(), b"".join(parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def run_level(job: dict[str, Any], reqs: list[dict[str, Any]], conc: int) -> dict[str, Any]:
    """``conc`` closed-loop connections sending ``job["n_requests"]`` requests (time-boxed)."""
    import asyncio
    from urllib.parse import urlsplit

    url = urlsplit(job["base_url"])
    headers = {"Authorization": f"Bearer {job['key']}"}
    lat: list[float] = []
    statuses: dict[str, int] = {}
    nxt = [0]
    total = min(job["n_requests"], len(reqs))

    async def worker(deadline: float) -> None:
        conn = _Conn(url.hostname or "127.0.0.1", url.port or 80, headers)
        try:
            while nxt[0] < total and time.perf_counter() <= deadline:
                r = reqs[nxt[0]]
                nxt[0] += 1
                t = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(conn.request(r["method"], r["path"], r.get("json")), 120)
                    code = str(status)
                    ok = status == 200 and isinstance(json.loads(body), list)
                except (OSError, TimeoutError, ValueError) as exc:
                    code, ok = type(exc).__name__, False
                    conn.close()
                    conn = _Conn(url.hostname or "127.0.0.1", url.port or 80, headers)
                dt_ms = (time.perf_counter() - t) * 1000
                statuses[code] = statuses.get(code, 0) + 1
                if ok:
                    lat.append(dt_ms)
        finally:
            conn.close()

    async def level() -> None:
        deadline = time.perf_counter() + job["budget_s"]
        await asyncio.gather(*(worker(deadline) for _ in range(conc)))

    c0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(level())
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"concurrency": conc, "sent": nxt[0], "ok": len(lat), "statuses": statuses, "wall_s": round(wall, 2),
            "throughput_rps": round(len(lat) / wall, 2) if wall else None,
            "latency_ms": percentiles(lat), "time_boxed": nxt[0] < total,
            "client_cpu_ms_per_request": round(1000 * cpu / nxt[0], 3) if nxt[0] else None}


def loadgen(job_path: str) -> int:
    """Child-process entry: run the job's scenarios, print one JSON object on stdout."""
    job = json.loads(Path(job_path).read_text(encoding="utf-8"))
    out: dict[str, Any] = {}
    for sc in job["scenarios"]:
        if sc.get("warmup"):  # warm-up, not recorded
            run_level({**job, "n_requests": len(sc["warmup"])}, sc["warmup"], 1)
        for conc in sc["concurrency"]:
            reqs = sc["requests"][str(conc)] if isinstance(sc["requests"], dict) else sc["requests"]
            out[f"{sc['name']}@c{conc}"] = {"route": sc["route"], **run_level(job, reqs, conc)}
    print(json.dumps(out))
    return 0


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_of(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    return None


def encoder_env(encoder: Any) -> dict[str, str]:
    """Environment that makes the server build the same encoder (name and dimension)."""
    name = getattr(encoder, "name", "e5-small-q4")
    if name.startswith("fake-"):
        return {"TALENTMATCH_ENCODER": "fake", "TALENTMATCH_ENCODER_MODEL": name.split("-", 1)[1]}
    if name.startswith("st:"):
        return {"TALENTMATCH_ENCODER": "sentence-transformers", "TALENTMATCH_ENCODER_MODEL": name[3:]}
    if name.startswith("static-e5"):
        return {"TALENTMATCH_ENCODER": "static-e5"}
    return {"TALENTMATCH_ENCODER": "e5"}


class Server:
    """``talentmatch serve`` in a child process on a free loopback port (stopped on exit)."""

    def __init__(self, data_dir: Path, encoder: Any, log_path: Path, workers: int = 1,
                 root: Path | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        root = root or ROOT
        env = {**os.environ, "TALENTMATCH_DATA_DIR": str(data_dir), **encoder_env(encoder), "PYTHONPATH": str(root)}
        env.pop("TALENTMATCH_DATABASE_URL", None)
        self.log = log_path.open("w", encoding="utf-8")
        self.log_path, self.workers = log_path, workers
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "matcher.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=str(root), env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float) -> float:
        """Seconds until ``/ready`` answers 200 (loading the model, the index and BM25)."""
        import httpx

        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            with contextlib.suppress(httpx.HTTPError):
                # with several workers, /ready answers as soon as one has loaded: wait for every
                # worker (each logs its start-up), or the others load while the first is measured
                if (httpx.get(self.base_url + "/ready", timeout=5).status_code == 200
                        and self._started() >= self.workers and self._warm()):
                    return time.perf_counter() - self.t0
            time.sleep(0.5)
        raise RuntimeError(f"server not ready after {timeout:.0f}s; see {self.log.name}")

    def _started(self) -> int:
        """Worker processes that have finished their start-up (uvicorn's log line)."""
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace").count("Application startup complete")

    def _warm(self) -> bool:
        """Whether every worker has filled its record cache (``record_cache_warm``: in the
        background after start-up; requests before are served, slower): what is measured is
        the server as it runs, not its first seconds."""
        from matcher.core.settings import load_settings

        if not load_settings().record_cache_warm:
            return True
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text.count("record cache filled") + text.count("record cache not filled") >= self.workers

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully (saves indexes)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.log.close()


# --------------------------------------------------------------------------- bare cost


def bare_costs(data_dir: Path, encoder: Any, queries: list[str], talent_ids: list[int],
               pool: int) -> dict[str, Any]:
    """Per request, in this process on the saved demand index: (text) one query encode + one
    FAISS search of ``pool``; (talent) one FAISS search with the profile's cached vector."""
    import numpy as np

    from matcher.core.settings import Settings
    from matcher.core.textnorm import normalize_text
    from matcher.retrieval.vectorindex import load_index, search_threads
    from matcher.storage.store import Store
    from models.encoders import text_hash

    settings = Settings(data_dir=data_dir)
    index, _ = load_index(settings.index_dir() / "demand")
    store = Store(settings.db_url())
    try:
        texts = store.texts("talent", talent_ids)
        found = store.get_many_vectors(encoder.name, [text_hash("p:" + texts[i]) for i in talent_ids if i in texts])
    finally:
        store.close()
    tvecs = list(found.values())
    for q in queries[:3]:
        index.search(encoder.encode_queries([normalize_text(q)]).astype(np.float32), pool)
    text_ms, search_ms, encode_ms, talent_ms = [], [], [], []
    for q in queries:
        t = time.perf_counter()
        v = encoder.encode_queries([normalize_text(q)]).astype(np.float32)
        t1 = time.perf_counter()
        index.search(v, pool)
        t2 = time.perf_counter()
        text_ms.append((t2 - t) * 1000)
        encode_ms.append((t1 - t) * 1000)
        search_ms.append((t2 - t1) * 1000)
    for v in tvecs[:3]:
        index.search(np.asarray(v, dtype=np.float32)[None, :], pool)
    n = max(len(queries), 200)
    for i in range(n if tvecs else 0):
        v = np.asarray(tvecs[i % len(tvecs)], dtype=np.float32)[None, :]
        t = time.perf_counter()
        index.search(v, pool)
        talent_ms.append((time.perf_counter() - t) * 1000)
    # the "bare encode+search": the profile's text encoded (as a passage, with this
    # encoder) and one FAISS search of the pool
    ttexts = [texts[i] for i in talent_ids if i in texts][:n]
    talent_enc_ms = []
    for tx in ttexts:
        t = time.perf_counter()
        v = encoder.encode_passages([tx]).astype(np.float32)
        index.search(v, pool)
        talent_enc_ms.append((time.perf_counter() - t) * 1000)
    # the same search with the OpenMP threads a server's request uses (``search_threads``; the
    # bare cost above runs with faiss's default, one thread per core, which is slower when the
    # search of one query is bound by memory and the machine is busy): for reading the route's
    # own search time, not the ratio
    product_ms = []
    with search_threads(settings.search_threads):
        for i in range(n if tvecs else 0):
            v = np.asarray(tvecs[i % len(tvecs)], dtype=np.float32)[None, :]
            t = time.perf_counter()
            index.search(v, pool)
            product_ms.append((time.perf_counter() - t) * 1000)
    # the issue's own bare cost was measured on the exact flat index of the time: one full scan of
    # the float32 vectors (IndexFlatIP, faiss's default threads). The flat index now scans an fp16
    # copy first (two-stage, same results), so its bare cost is lower; this is the full scan on
    # the same vectors, for the ratio as the issue defined it
    full_ms: list[float] = []
    raw = getattr(index, "_index", None) if index.kind == "flat" else None
    for tx in ttexts if raw is not None else []:
        t = time.perf_counter()
        v = encoder.encode_passages([tx]).astype(np.float32)
        raw.search(v, pool)
        full_ms.append((time.perf_counter() - t) * 1000)
    return {"pool": pool, "index_kind": index.kind, "text_encode_plus_search_ms": percentiles(text_ms),
            "encode_ms": percentiles(encode_ms), "search_ms": percentiles(search_ms),
            "talent_search_ms": percentiles(talent_ms), "talent_encode_plus_search_ms": percentiles(talent_enc_ms),
            "talent_search_server_threads_ms": percentiles(product_ms), "search_threads": settings.search_threads,
            "talent_encode_plus_full_scan_ms": percentiles(full_ms) if full_ms else None}


# --------------------------------------------------------------------------- the store


STORE_META = "bench-store.json"


def build_store(data_dir: Path, n: int, encoder_name: str = "static-e5", n_talents: int = 2000,
                n_queries: int = 400) -> tuple[Any, dict[str, Any]]:
    """A data directory with ``n`` synthetic demand entries and ``n_talents`` talents (vectors
    pre-filled in the embedding cache, ``bench_core``'s generator), synced and saved; built once:
    a directory whose ``bench-store.json`` names the same size, encoder and talents is reused.
    Returns the encoder and the meta (talent ids, text queries, set-up timings)."""
    import random

    from bench.core_e2e import populate
    from bench.corpus import JobCorpus, encode_texts
    from bench.synthetic import SyntheticVectors
    from matcher.core.settings import Settings
    from matcher.retrieval.encoders import build_encoder as create_encoder
    from matcher.wiring import build_service

    encoder = create_encoder(encoder_name, "384" if encoder_name == "fake" else None)
    meta_path = data_dir / STORE_META
    want = {"n": n, "encoder": encoder.name, "talents": n_talents}
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if {k: meta.get(k) for k in want} == want:
            log(f"reusing the store at {data_dir} ({n:,} entries, {n_talents:,} talents, {encoder.name})")
            upgrade_store(data_dir)
            return encoder, meta
        raise SystemExit(f"{data_dir} holds another store ({meta_path}); remove it or pick another --data-dir")
    corpus = JobCorpus(ROOT / "data", n_archetypes=256)
    texts, _ = encode_texts(corpus, 256, ROOT / "data")
    log("encoding the 256 archetype texts (bases of the synthetic vectors) …")
    gen = SyntheticVectors(encoder.encode_passages(texts), corpus, seed=0)
    qr = random.Random(3)
    queries = [corpus.query(qr.randrange(len(corpus.archetypes)), qr) for _ in range(n_queries)]
    svc = build_service(Settings(data_dir=data_dir, reference_dir=ROOT / "data", encoder=encoder_name),
                        encoder=encoder)
    try:
        svc.load_chain_registries()
        populate_s, talent_ids = populate(svc, n, corpus=corpus, gen=gen, n_talents=n_talents)
        log(f"sync of {n:,} entries (jieba tokenisation dominates) …")
        t = time.perf_counter()
        svc.sync()
        sync_s = round(time.perf_counter() - t, 1)
    finally:
        svc.close()
    meta = {**want, "talent_ids": talent_ids, "queries": queries, "populate_s": populate_s, "sync_s": sync_s}
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    return encoder, meta


def upgrade_store(data_dir: Path) -> None:
    """A store built by older code brought to this code's schema (``talentmatch db upgrade``)."""
    from matcher.core.settings import Settings
    from matcher.storage.engine import make_engine
    from matcher.storage.migrations import upgrade

    engine = make_engine(Settings(data_dir=data_dir).db_url())
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    if before != after:
        log(f"  store schema upgraded from {before} to {after}")


# --------------------------------------------------------------------------- the benchmark


def talent_scenarios(talent_ids: list[int], n_requests: int, concurrency: tuple[int, ...],
                     warmup: int) -> list[dict[str, Any]]:
    """``GET /v1/talents/{id}/matches`` at each concurrency level: first COLD (``n_requests``
    talents never asked for before in this server: the first call per talent, nothing of it in the
    result cache; its dense search starts from the pool the server made for it after start, unless
    ``DENSE_POOL_CACHE=0``), then WARM (the
    same talents again: what a per-process result cache serves). Each level gets its own talents;
    the warm-up uses others still."""
    def req(t: int) -> dict[str, Any]:
        return {"method": "GET", "path": f"/v1/talents/{t}/matches?top_k=10"}

    warmup = min(warmup, len(talent_ids) // (len(concurrency) + 1))
    n_requests = min(n_requests, (len(talent_ids) - warmup) // len(concurrency))  # distinct talents only
    slices, start = {}, warmup
    for conc in concurrency:
        slices[str(conc)] = [req(t) for t in talent_ids[start : start + n_requests]]
        start += n_requests
    out = []
    for conc in concurrency:
        route = "GET /v1/talents/{id}/matches?top_k=10"
        out.append({"name": "talent_cold", "route": route + " — cold (first call per talent)",
                    "warmup": [req(t) for t in talent_ids[:warmup]], "requests": {str(conc): slices[str(conc)]},
                    "concurrency": [conc]})
        out.append({"name": "talent_warm", "route": route + " — warm (the same talents again)",
                    "requests": {str(conc): slices[str(conc)]}, "concurrency": [conc]})
    return out


def run_api_bench(data_dir: Path, *, encoder: Any, queries: list[str], talent_ids: list[int],
                  n_requests: int = 200, concurrency: tuple[int, ...] = (1, 4), warmup: int = 5,
                  budget_s: float = 180.0, ready_timeout: float = 900.0, workers: int = 1,
                  server_root: Path | None = None) -> dict[str, Any]:
    """Latency through the API of a data directory whose indexes are saved; see the module doc."""
    from matcher.core.settings import Settings
    from matcher.storage.store import Store

    settings = Settings(data_dir=data_dir)
    store = Store(settings.db_url())
    try:
        key, _ = store.create_key("admin", label="bench_api")
        n_demands = store.count("demand")
    finally:
        store.close()
    res: dict[str, Any] = {"n_demands": n_demands, "n_requests": n_requests, "concurrency": list(concurrency),
                           "warmup": warmup, "budget_s_per_level": budget_s, "encoder": encoder.name,
                           "workers": workers, "server_code": str(server_root or ROOT),
                           "loadavg_start": list(os.getloadavg())}
    log_path = data_dir.parent / f"server-{data_dir.name}.log"
    log(f"api[{n_demands:,}]: starting talentmatch serve …")
    server = Server(data_dir, encoder, log_path, workers, server_root)
    job = Path(tempfile.mkstemp(prefix="tm-loadgen-", suffix=".json")[1])
    try:
        res["startup_to_ready_s"] = round(server.wait_ready(ready_timeout), 2)
        log(f"  ready in {res['startup_to_ready_s']:.1f}s on {server.base_url}; server RSS {rss_of(server.proc.pid)} MiB")
        scenarios = talent_scenarios(talent_ids, n_requests, concurrency, warmup)
        if queries:
            text = [{"method": "POST", "path": "/v1/match", "json": {"text": q, "side": "demands", "top_k": 10}}
                    for q in queries]
            scenarios.insert(0, {"name": "match_text", "route": "POST /v1/match {text, side: demands, top_k: 10}",
                                 "warmup": text[:warmup], "requests": text, "concurrency": list(concurrency)})
        job.write_text(json.dumps({"base_url": server.base_url, "key": key, "scenarios": scenarios,
                                   "n_requests": n_requests, "warmup": warmup,
                                   "budget_s": budget_s}, ensure_ascii=False), encoding="utf-8")
        log(f"  load generator (separate process): {n_requests} requests per route and level {list(concurrency)} …")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "bench.bench_api", "--loadgen", str(job)], cwd=str(ROOT),
                              capture_output=True, text=True, timeout=budget_s * 4 * len(concurrency) + 600)
        if proc.returncode != 0:
            raise RuntimeError(f"load generator failed: {proc.stderr.strip()[-500:]}")
        res["runs"] = json.loads(proc.stdout.strip().splitlines()[-1])
        res["loadgen_wall_s"] = round(time.perf_counter() - t0, 1)
        res["server_rss_mb"] = rss_of(server.proc.pid)
        for name, r in res["runs"].items():
            lat = r["latency_ms"]
            log(f"  {name}: p50 {lat.get('p50')} ms, p99 {lat.get('p99')} ms, {r['throughput_rps']} req/s, "
                f"statuses {r['statuses']}")
    finally:
        server.stop()
        job.unlink(missing_ok=True)
    log("  bare cost (same index, this process) …")
    res["bare"] = bare_costs(data_dir, encoder, queries[:n_requests], talent_ids, Settings().candidate_pool)
    res["ratio_p50"] = {}
    for name, r in res["runs"].items():
        base = res["bare"]["text_encode_plus_search_ms" if name.startswith("match_text")
                           else "talent_encode_plus_search_ms"]
        if r["latency_ms"] and base.get("p50"):
            res["ratio_p50"][name] = round(r["latency_ms"]["p50"] / base["p50"], 1)
    res["loadavg_end"] = list(os.getloadavg())
    res["server_log"] = str(log_path)
    return res


def markdown(res: dict[str, Any], title: str | None = None) -> str:
    """The API latency table of one run."""
    lines = [f"### {title or 'API latency'} — {res['n_demands']:,} demand entries", "",
             f"`talentmatch serve` (uvicorn, {res.get('workers', 1)} process(es), encoder {res['encoder']}) on loopback; load generator in "
             f"a separate process (closed loop, keep-alive HTTP/1.1 connections on asyncio + httptools, {res['n_requests']} requests per "
             f"route and concurrency after {res['warmup']} warm-up); server ready "
             f"{res.get('startup_to_ready_s')}s after start, RSS {res.get('server_rss_mb')} MiB after the run; "
             f"load average {res['loadavg_start'][0]:.2f} → {res['loadavg_end'][0]:.2f}.", "",
             "| route | concurrency | p50 ms | p90 ms | p99 ms | req/s | ok / sent | bare p50 ms | API / bare (p50) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    bare = res["bare"]

    def ms(d: dict[str, Any], key: str) -> str:
        v = d.get(key)
        return "–" if v is None else f"{v:,.1f}" if v >= 1 else f"{v:.2f}"

    for name, r in res.get("runs", {}).items():
        lat = r["latency_ms"]
        b = bare["text_encode_plus_search_ms" if name.startswith("match_text") else "talent_encode_plus_search_ms"]
        lines.append(f"| `{r['route']}` | {r['concurrency']} | {ms(lat, 'p50')} | {ms(lat, 'p90')} | "
                     f"{ms(lat, 'p99')} | {r['throughput_rps']} | {r['ok']} / {r['sent']}"
                     f"{' (time-boxed)' if r['time_boxed'] else ''} | {ms(b, 'p50')} | "
                     f"{res['ratio_p50'].get(name, '–')}× |")
    lines += ["", f"Bare cost, per request on the same saved index ({bare['index_kind']}, pool {bare['pool']}): "
              f"text = one e5 query encode (p50 {ms(bare['encode_ms'], 'p50')} ms) + one FAISS search "
              f"(p50 {ms(bare['search_ms'], 'p50')} ms); talent = the profile's text encoded as a passage + one "
              f"FAISS search (p50 {ms(bare['talent_encode_plus_search_ms'], 'p50')} ms; the search alone with "
              f"the cached vector p50 {ms(bare['talent_search_ms'], 'p50')} ms, with the server's "
              f"{bare.get('search_threads', '–')} OpenMP thread(s) per search "
              f"p50 {ms(bare.get('talent_search_server_threads_ms', {}), 'p50')} ms). Everything else in the API time is "
              "overhead: BM25, fusion, fetching and validating the candidates, hard filters, two-sided "
              "scoring, explanations, enterprise names, the audit row, auth, JSON and HTTP.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--loadgen", help=argparse.SUPPRESS)  # internal: the load generator process
    ap.add_argument("--n", type=int, default=100_000, help="demand entries (default 100000)")
    ap.add_argument("--requests", type=int, default=200, help="requests per route and concurrency level")
    ap.add_argument("--concurrency", default="1,4")
    ap.add_argument("--talents", type=int, default=2000, help="talents in the store (requests draw distinct ones)")
    ap.add_argument("--encoder", default="static-e5", help="static-e5 (default), e5 or fake")
    ap.add_argument("--data-dir", default=None,
                    help="keep the store here and reuse it on later runs (default: a temporary directory)")
    ap.add_argument("--workers", type=int, default=1, help="talentmatch serve --workers")
    ap.add_argument("--server-root", default=None,
                    help="serve with the code of this checkout (e.g. the commit before a change), measured "
                         "by this script's load generator on the same store")
    ap.add_argument("--routes", default="text,talent", help="text,talent (the talent route always runs)")
    ap.add_argument("--label", default="", help="suffix of the result files (e.g. before, after)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args(argv)
    if args.loadgen:
        return loadgen(args.loadgen)
    from bench.util import git_rev, loadavg
    data_dir = Path(args.data_dir) if args.data_dir else None
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tm-bench-api-"))) / "var"
        encoder, built = build_store(data_dir, args.n, args.encoder, args.talents)
        talent_ids = built["talent_ids"]
        queries = built["queries"][: args.requests] if "text" in args.routes.split(",") else []
        res = run_api_bench(data_dir, encoder=encoder, queries=queries, talent_ids=talent_ids,
                            n_requests=args.requests, workers=args.workers,
                            server_root=Path(args.server_root) if args.server_root else None,
                            concurrency=tuple(int(c) for c in args.concurrency.split(",")))
        res.update(date=dt.date.today().isoformat(), git=git_rev(), populate_s=built.get("populate_s"),
                   sync_s=built.get("sync_s"), store=str(data_dir) if args.data_dir else "(temporary)",
                   loadavg=loadavg())
        md = "# talentmatch API latency\n\n" + markdown(res)
        if not args.data_dir:
            res["server_log"] = "(deleted with the temporary directory)"
    print(md)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"api-{res['date']}" if args.n >= 100_000 else f"api-n{args.n}-{res['date']}"
    if args.label:
        stem += f"-{args.label}"
    (out / f"{stem}.json").write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (out / f"{stem}.md").write_text(md + "\n", encoding="utf-8")
    log(f"wrote {out / stem}.json/.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
