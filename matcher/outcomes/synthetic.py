"""SYNTHETIC outcomes: simulated seekers and recruiters acting on the service's rankings.

Nothing here is observed behaviour. It exists to develop and test re-rankers (``models.rerankers``)
before the service records real events, on a world whose rules are known:

1. **Candidates** (``build_candidates``): for each seeker, the service's own top posts
   (``MatchService.match_talent``, the ranking a seeker is shown today) with each pair's 13
   components recomputed exactly by ``MatchService.score_pair``; or, for fast tests,
   ``random_candidates`` with plausible feature values ordered by the ``weighted`` formula.
2. **Hidden preferences** that differ from the hand-set weights (``seeker_utility``,
   ``employer_utility``): seekers weigh occupation, location and salary far more than the
   formula does, and salary ever more with experience (0.2 for a graduate, 2.2 at ten years);
   they ignore shortage stars. Recruiters judge the skills a seeker really has, not the stated
   ones (stated skills are noisy: each seeker over-claims a share of them, and holds some
   required skills unstated), weigh experience and education heavily, and half of the
   enterprises ignore majors. Each pair adds its own noise.
3. **Sessions over simulated days** (``simulate``): each seeker arrives on a random day and
   returns a few times; each session shows ``shown`` posts — the service's order (posts the
   seeker already applied to or dismissed are left out), or, in a share ``explore`` of
   sessions, a random draw of the candidates in random order (the randomised slice an
   operator would keep to measure without the ranking's own bias). A post at position p is
   looked at with probability p^-0.8 (position bias; looking is not logged). A seeker who looks
   opens it (``viewed``) or dismisses it from the list, and after opening applies, dismisses or
   saves it, by their utility; the recruiter shortlists or rejects, invites, the seeker shows up
   or not, the recruiter offers or rejects after the interview, the seeker accepts (hired) or
   declines — each step by the two utilities, each a few days after the last.

Deterministic by ``SimConfig.seed``. The hidden expected gain of each shown pair (as if looked
at) is kept in the log's ``meta`` (``truth_gain``, ``truth_p``) for an oracle view.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from matcher.outcomes.features import pair_features
from models.rerankers.base import COMPONENTS
from models.rerankers.data import PairTable
from models.rerankers.evaluation import EventLog
from models.rerankers.weighted import WeightedReranker

FEATURES: tuple[str, ...] = (*COMPONENTS, "experience_years")
OVERCLAIM_MAX = 0.5  # each seeker over-claims a uniform share in [0, 0.5] of their stated skills
UNSTATED_HELD = 0.15  # chance that a required skill a seeker did not state is held all the same
IGNORES_MAJOR = 0.5  # share of enterprises that do not look at majors


@dataclass
class Candidates:
    """Each seeker's candidate posts in the service's order (``rank`` 0 first), with their
    feature columns (``FEATURES``) and the simulator's hidden facts about each pair."""

    seeker: np.ndarray  # seeker index 0..n_seekers-1
    post: np.ndarray  # demand entry id
    rank: np.ndarray  # 0-based rank in the service's ranking for the seeker
    columns: dict[str, np.ndarray]
    true_required: np.ndarray  # HIDDEN: share of the required skills the seeker really holds
    ignores_major: np.ndarray  # HIDDEN: the post's enterprise does not look at majors
    talent_id: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.seeker)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, seeker=self.seeker, post=self.post, rank=self.rank, true_required=self.true_required,
                            ignores_major=self.ignores_major, talent_id=self.talent_id,
                            **{f"col:{k}": v for k, v in self.columns.items()})

    @classmethod
    def load(cls, path: Path) -> Candidates:
        with np.load(path, allow_pickle=False) as d:
            return cls(d["seeker"], d["post"], d["rank"], {k[4:]: d[k] for k in d.files if k.startswith("col:")},
                       d["true_required"], d["ignores_major"], d["talent_id"])


@dataclass(frozen=True)
class SimConfig:
    seed: int = 0
    days: int = 56  # sessions happen on days 0..days-1
    tail_days: int = 28  # the simulation runs on so that late applications reach their outcome
    shown: int = 20  # posts per session
    explore: float = 0.15  # share of sessions shown in random order
    extra_sessions: float = 1.5  # mean number of returns per seeker (Poisson)
    max_sessions: int = 5
    position_decay: float = 0.8  # P(look at position p) = p ** -decay
    noise: float = 0.35  # per-pair noise of each utility, in utility units

    @property
    def end(self) -> int:
        return self.days + self.tail_days


def _unit(seed: int, *parts: object) -> float:
    """A deterministic uniform number in [0, 1) from the seed and the parts."""
    h = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") / 2**64


# -- hidden preferences --------------------------------------------------------------------

def seeker_utility(cols: dict[str, np.ndarray], noise: np.ndarray) -> np.ndarray:
    """HIDDEN. What a seeker wants of a post: occupation, location and salary above all —
    salary more the more experienced the seeker — then relevance; shortage stars not at all."""
    salary_weight = 0.2 + 0.2 * np.minimum(cols["experience_years"], 10.0)
    return (0.5 * cols["semantic"] + 1.2 * cols["occupation"] + 1.0 * cols["location"]
            + salary_weight * cols["salary"] + 0.4 * cols["skill_use"] + 0.3 * cols["chain"] + noise)


def employer_utility(cols: dict[str, np.ndarray], true_required: np.ndarray, ignores_major: np.ndarray,
                     noise: np.ndarray) -> np.ndarray:
    """HIDDEN. What a recruiter wants of an applicant: the required skills really held, experience
    and education; the major only where the enterprise looks at it."""
    return (2.0 * true_required + 0.3 * cols["preferred_skills"] + 1.0 * cols["education"]
            + np.where(ignores_major, 0.0, 0.8) * cols["major"] + 1.2 * cols["experience"]
            + 0.4 * cols["certificates"] + 0.3 * cols["semantic"] + noise)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _standard(u: np.ndarray) -> np.ndarray:
    return (u - u.mean()) / (u.std() or 1.0)


def stage_probabilities(cands: Candidates, cfg: SimConfig) -> dict[str, np.ndarray]:
    """HIDDEN. Each candidate pair's probability of every step, given that the seeker looked at
    it, and the expected gain and P(positive) that follow (the oracle's view)."""
    rng = np.random.default_rng([cfg.seed, 1])
    zs = _standard(seeker_utility(cands.columns, rng.normal(0, cfg.noise, len(cands))))
    ze = _standard(employer_utility(cands.columns, cands.true_required, cands.ignores_major,
                                    rng.normal(0, cfg.noise, len(cands))))
    picky = np.random.default_rng([cfg.seed, 2]).normal(0, 0.3, int(cands.seeker.max()) + 1 if len(cands) else 0)
    p = {
        "open": _sigmoid(1.5 * zs + 0.3),  # opens the post (a "viewed" event) once looked at
        "skip_dismiss": 0.3 * _sigmoid(-2.0 * zs),  # dismisses it from the list unopened
        "apply": _sigmoid(2.5 * (zs - 0.8) - picky[cands.seeker]),
        "save": 0.3 * _sigmoid(2.0 * (zs - 0.3)),
        "dismiss": 0.4 * _sigmoid(2.0 * (-zs - 0.3)),
        "shortlist": _sigmoid(2.0 * ze),
        "invite": _sigmoid(2.0 * (ze - 0.3)),
        "no_show": 0.25 * _sigmoid(-2.0 * zs),
        "offer": _sigmoid(2.0 * (ze - 0.5)),
        "hire": _sigmoid(1.5 * (zs + 0.5)),
    }
    interview = p["open"] * p["apply"] * p["shortlist"] * p["invite"] * (1 - p["no_show"])
    hire = interview * p["offer"] * p["hire"]
    p["truth_p"] = interview  # a mature positive outcome is an interview (grade 2 or 3)
    p["truth_gain"] = 7.0 * hire + 3.0 * (interview - hire)
    return p


# -- sessions and events -------------------------------------------------------------------

def simulate(cands: Candidates, cfg: SimConfig = SimConfig()) -> EventLog:
    """The shown pairs and the events that followed them, over ``cfg.days`` days of sessions
    and ``cfg.tail_days`` more for late outcomes."""
    rng = random.Random(cfg.seed)
    probs = stage_probabilities(cands, cfg)
    order = np.lexsort((cands.rank, cands.seeker))
    by_seeker: dict[int, list[int]] = {}
    for i in order:
        by_seeker.setdefault(int(cands.seeker[i]), []).append(int(i))
    rows: list[tuple[int, int, int, int, bool]] = []  # candidate, session, day, position, explore
    events: list[tuple[int, int, str]] = []  # shown row, day, kind
    session = 0
    for s in sorted(by_seeker):
        pool = by_seeker[s]
        day = rng.randrange(cfg.days)
        visits = [day]
        for _ in range(min(_poisson(rng, cfg.extra_sessions), cfg.max_sessions - 1)):
            day += rng.randint(1, 7)
            if day < cfg.days:
                visits.append(day)
        done: set[int] = set()  # applied or dismissed: not shown again
        for day in visits:
            available = [i for i in pool if i not in done]
            if not available:
                break
            explore = rng.random() < cfg.explore
            shown = rng.sample(available, min(cfg.shown, len(available))) if explore else available[: cfg.shown]
            for pos, i in enumerate(shown, 1):
                row = len(rows)
                rows.append((i, session, day, pos, explore))
                if rng.random() >= pos ** -cfg.position_decay:
                    continue  # not looked at (position bias); nobody knows
                if rng.random() >= probs["open"][i]:
                    if rng.random() < probs["skip_dismiss"][i]:
                        done.add(i)
                        events.append((row, day, "dismissed"))
                    continue
                events.append((row, day, "viewed"))
                if rng.random() < probs["apply"][i]:
                    done.add(i)
                    events.append((row, day, "applied"))
                    events.extend(_recruiter(rng, row, day, i, probs))
                elif rng.random() < probs["dismiss"][i]:
                    done.add(i)
                    events.append((row, day, "dismissed"))
                elif rng.random() < probs["save"][i]:
                    events.append((row, day, "saved"))
            session += 1
    idx = np.array([r[0] for r in rows], dtype=np.int64)
    cols = {k: v[idx] for k, v in cands.columns.items()}
    cols["position"] = np.array([r[3] for r in rows], dtype=np.float64)
    meta = {"seeker": cands.seeker[idx], "post": cands.post[idx], "service_rank": cands.rank[idx],
            "explore": np.array([r[4] for r in rows], dtype=bool),
            "truth_gain": probs["truth_gain"][idx], "truth_p": probs["truth_p"][idx]}
    if len(cands.talent_id):
        meta["talent_id"] = cands.talent_id[idx]
    shown_table = PairTable(cols, np.array([r[1] for r in rows]), np.array([r[2] for r in rows]),
                            np.zeros(len(rows)), np.zeros(len(rows), dtype=bool), meta)
    ev = np.array([(r, d) for r, d, _ in events], dtype=np.int64).reshape(-1, 2)
    return EventLog(shown_table, ev[:, 0], ev[:, 1].astype(np.float64), np.array([k for *_, k in events], dtype=str))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = np.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _recruiter(rng: random.Random, row: int, day: int, i: int, p: dict[str, np.ndarray]) -> list[tuple[int, int, str]]:
    """The recruiter's (and then the seeker's) steps after an application, each days later."""
    out = []
    if rng.random() >= p["shortlist"][i]:
        return [(row, day + rng.randint(2, 7), "rejected")]
    day += rng.randint(1, 3)
    out.append((row, day, "shortlisted"))
    if rng.random() >= p["invite"][i]:
        return [*out, (row, day + rng.randint(1, 4), "rejected")]
    day += rng.randint(1, 3)
    out.append((row, day, "invited"))
    day += rng.randint(2, 6)
    if rng.random() < p["no_show"][i]:
        return [*out, (row, day, "no_show")]
    out.append((row, day, "interviewed"))
    if rng.random() >= p["offer"][i]:
        return [*out, (row, day + rng.randint(1, 4), "rejected")]
    day += rng.randint(1, 4)
    out.append((row, day, "offered"))
    return [*out, (row, day + rng.randint(1, 5), "hired" if rng.random() < p["hire"][i] else "declined")]


# -- candidates ----------------------------------------------------------------------------

def random_candidates(n_seekers: int, per_seeker: int, weights: dict[str, float], *, n_posts: int = 300,
                      seed: int = 0) -> Candidates:
    """Candidates with plausible random feature values (no service), ordered for each seeker by
    the ``weighted`` formula with ``weights``: for fast tests of the models and the simulator."""
    rng = np.random.default_rng(seed)
    n = n_seekers * per_seeker
    seeker = np.repeat(np.arange(n_seekers), per_seeker)
    years = np.where(rng.random(n_seekers) < 0.3, 0.0, np.round(rng.exponential(5.0, n_seekers), 1))
    posts = rng.integers(1, n_posts + 1, size=n)

    def pick(values: Sequence[float], probs: Sequence[float]) -> np.ndarray:
        return rng.choice(np.asarray(values, float), size=n, p=np.asarray(probs) / np.sum(probs))

    n_req = rng.integers(0, 6, size=n)
    matched = rng.binomial(n_req, rng.uniform(0.2, 0.9, size=n))
    cols = {
        "semantic": rng.beta(2.0, 3.0, size=n),
        "required_skills": np.where(n_req > 0, matched / np.maximum(n_req, 1), 1.0),
        "preferred_skills": pick([0.0, 0.5, 1.0], [3, 2, 3]),
        "education": pick([0.0, 1.0], [1, 9]),
        "major": pick([0.0, 0.7, 1.0], [3, 2, 5]),
        "experience": np.minimum(1.0, years[seeker] / np.maximum(pick([0, 1, 3, 5], [4, 2, 2, 1]), 1e-9)),
        "certificates": pick([0.0, 1.0], [1, 9]),
        "skill_use": rng.uniform(0, 1, size=n),
        "salary": pick([0.5, 1.0, 0.0, 0.6], [2, 5, 1, 2]),
        "location": pick([1.0, 0.8, 0.5, 0.1], [4, 2, 2, 2]),
        "occupation": pick([1.0, 0.7, 0.4, 0.1, 0.5], [2, 2, 2, 3, 1]),
        "chain": pick([1.0, 0.5, 0.3, 0.2], [2, 3, 2, 3]),
        "shortage": pick([0.0, 0.6, 0.8, 1.0], [4, 2, 2, 2]),
        "experience_years": years[seeker],
    }
    over = rng.uniform(0, OVERCLAIM_MAX, n_seekers)[seeker]
    true_held = rng.binomial(matched, 1 - over) + rng.binomial(n_req - matched, UNSTATED_HELD)
    true_required = np.where(n_req > 0, true_held / np.maximum(n_req, 1), 1.0)
    ignores = rng.random(n_posts + 1) < IGNORES_MAJOR
    score = WeightedReranker(weights).score(np.column_stack([cols[c] for c in COMPONENTS]))
    rank = np.zeros(n, dtype=np.int64)
    for s in range(n_seekers):
        rows = np.flatnonzero(seeker == s)
        rank[rows[np.argsort(-score[rows], kind="stable")]] = np.arange(len(rows))
    return Candidates(seeker, posts, rank, cols, true_required, ignores[posts])


def load_pool(svc: Any, demo_dir: Path, n_talents: int, *, n_demands: int | None = None,
              seed: int = 0) -> list[int]:
    """Import the demo demand entries (the first ``n_demands``) and ``n_talents`` demo talent
    profiles drawn at random into an empty service; returns the talent ids."""
    from matcher.ingest.importer import read_records

    demands = read_records(demo_dir / "demands.jsonl", "demands")
    rows = demands.records[:n_demands] if n_demands else demands.records
    svc.import_rows("demands", rows, [])
    talents = read_records(demo_dir / "talents.jsonl", "talents")
    pick = sorted(random.Random(seed).sample(range(len(talents.records)), min(n_talents, len(talents.records))))
    report = svc.import_rows("talents", [talents.records[i] for i in pick], [])
    return list(report["ids"])


def build_candidates(svc: Any, talent_ids: Sequence[int], *, per_seeker: int = 40, seed: int = 0,
                     progress: Any = None) -> Candidates:
    """Each talent's top ``per_seeker`` posts as the service ranks them, each pair's features
    recomputed exactly by ``MatchService.score_pair``, and the hidden facts of the simulation."""
    seeker, post, rank, rows, true_req, ignores, tids = [], [], [], [], [], [], []
    background = svc.background("demand")
    for s, tid in enumerate(talent_ids):
        matches = svc.match_talent(int(tid), top_k=per_seeker)
        if progress:
            progress(1)
        if not matches:
            continue
        profile = svc.get("talent", int(tid))
        ids = [m.id for m in matches]
        entries = svc.store.get_many("demand", ids)
        cos = svc.vectors("demand", ids) @ svc.vectors("talent", [int(tid)])[0]
        overclaim = OVERCLAIM_MAX * _unit(seed, "overclaim", int(tid))
        for r, (i, c) in enumerate(zip(ids, cos, strict=True)):
            entry = entries[i]
            sc = svc.score_pair(profile, entry, float(c), target="demand", background=background)
            seeker.append(s)
            post.append(i)
            rank.append(r)
            rows.append(pair_features(sc))
            tids.append(int(tid))
            # stated skills are noisy: a matched skill is really held unless over-claimed, a
            # missing one is held unstated now and then (decided once per seeker and skill)
            held = sum(_unit(seed, "held", int(tid), k) >= overclaim for k in sc.matched)
            unstated = [k for k in entry.required_skills if k not in sc.matched]
            held += sum(_unit(seed, "unstated", int(tid), k) < UNSTATED_HELD for k in unstated)
            n_req = len(entry.required_skills)
            true_req.append(held / n_req if n_req else 1.0)
            ignores.append(_unit(seed, "ignores-major", entry.enterprise_id or entry.enterprise_name) < IGNORES_MAJOR)
    cols = {k: np.array([r[k] for r in rows], dtype=np.float64) for k in FEATURES}
    return Candidates(np.array(seeker, dtype=np.int64), np.array(post, dtype=np.int64), np.array(rank, dtype=np.int64),
                      cols, np.array(true_req, dtype=np.float64), np.array(ignores, dtype=bool),
                      np.array(tids, dtype=np.int64))
