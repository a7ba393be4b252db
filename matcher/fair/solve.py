"""Pure assignment algorithms over candidate pairs: welfare-optimal (exact), stable (deferred acceptance), blocking pairs."""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from matcher.core.errors import InvalidInput
from matcher.domain.fair import Solver

if TYPE_CHECKING:  # pragma: no cover
    pass



_ASSIGNMENT_MAX_CELLS = 60_000_000  # dense linear_sum_assignment matrix (480 MB of float64)


# =============================================================================================
# pure algorithms: pairs, optimal, stable, blocking pairs
# =============================================================================================


@dataclass(frozen=True, slots=True)
class Pair:
    """A candidate (seeker, post) with its scores and wishes."""

    seeker: int
    post: int
    score: float
    seeker_score: float
    employer_score: float
    wish_rank: int | None = None
    must_see: bool = False


def seeker_key(p: Pair) -> tuple:
    """A seeker's preference (smaller = better): wished posts in wish order, then seeker score."""
    return (p.wish_rank is None, p.wish_rank or 0, -p.seeker_score, p.post)


def post_key(p: Pair) -> tuple:
    """A post's preference (smaller = better): must-see seekers, then employer score."""
    return (not p.must_see, -p.employer_score, p.seeker)


@dataclass
class Instance:
    """Seekers with interview limits, posts with capacities, and the acceptable pairs."""

    limits: dict[int, int]
    capacities: dict[int, int]
    pairs: list[Pair]


def total_fit(pairs: Iterable[Pair]) -> float:
    return float(sum(p.score for p in pairs))


def _weights(inst: Instance) -> np.ndarray:
    """Solver weights: the score, plus a bonus on must-see pairs large enough that any
    solution with more must-see pairs beats any with fewer (lexicographic objective)."""
    w = np.array([p.score for p in inst.pairs], dtype=np.float64)
    must = np.array([p.must_see for p in inst.pairs], dtype=bool)
    if must.any():
        most = min(sum(inst.limits.values()), sum(inst.capacities.values()))
        w = w + must * float(most + 1)
    return w


def solve_optimal(inst: Instance, solver: Solver = "auto") -> list[Pair]:
    """Maximum total fit under post capacities and seeker limits (must-see pairs first).

    ``lp`` (the default): the bipartite b-matching LP, whose constraint matrix is totally
    unimodular, so the HiGHS dual simplex returns an integral vertex (checked; MILP if not).
    ``flow``: min-cost flow (networkx network simplex), exact, much slower at scale.
    ``assignment``: scipy ``linear_sum_assignment`` on capacity-expanded slots, exact only
    when every seeker limit or every post capacity is 1 (else two copies of one seeker could
    take two copies of one post); other instances raise InvalidInput.
    """
    if not inst.pairs:
        return []
    method = "lp" if solver == "auto" else solver
    if method == "lp":
        return _solve_lp(inst)
    if method == "flow":
        return _solve_flow(inst)
    if method == "assignment":
        return _solve_assignment(inst)
    raise InvalidInput(f"未知的求解器：{solver}（应为 auto、lp、flow 或 assignment）")


def _incidence(inst: Instance) -> tuple[Any, np.ndarray, list[int], list[int]]:
    from scipy import sparse

    seekers = sorted(inst.limits)
    posts = sorted(inst.capacities)
    srow = {s: i for i, s in enumerate(seekers)}
    prow = {p: len(seekers) + j for j, p in enumerate(posts)}
    n = len(inst.pairs)
    rows = np.empty(2 * n, dtype=np.int64)
    rows[:n] = [srow[p.seeker] for p in inst.pairs]
    rows[n:] = [prow[p.post] for p in inst.pairs]
    cols = np.concatenate([np.arange(n), np.arange(n)])
    a = sparse.csr_matrix((np.ones(2 * n), (rows, cols)), shape=(len(seekers) + len(posts), n))
    b = np.array([inst.limits[s] for s in seekers] + [inst.capacities[p] for p in posts], dtype=float)
    return a, b, seekers, posts


def _solve_lp(inst: Instance) -> list[Pair]:
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    a, b, _, _ = _incidence(inst)
    w = _weights(inst)
    x = _highs_ds(-w, a, b)
    if x is None:
        res = linprog(-w, A_ub=a, b_ub=b, bounds=(0, 1), method="highs-ds")
        x = res.x if res.status == 0 else None
    if x is None or np.abs(x - np.round(x)).max() > 1e-6:
        # never seen on a vertex solution of this TU matrix; MILP guarantees integrality anyway
        res = milp(-w, constraints=LinearConstraint(a, -np.inf, b), bounds=Bounds(0, 1),
                   integrality=np.ones(len(w)))
        if res.status != 0 or res.x is None:
            raise InvalidInput(f"最优分配求解失败：{res.message}")
        x = res.x
    return [p for p, v in zip(inst.pairs, x, strict=True) if v > 0.5]


def _highs_ds(c: np.ndarray, a: Any, b: np.ndarray) -> np.ndarray | None:
    """``x`` of ``linprog(c, A_ub=a, b_ub=b, bounds=(0, 1), method="highs-ds")`` when its status
    would be 0, by the same HiGHS model and options through scipy's bindings, without the
    wrapper's Python loop over every column's bound marginals (a quarter of the LP's time at
    90,000 pairs, for numbers nobody reads). None when HiGHS reports anything but an optimal
    solution, the solution fails linprog's feasibility check, or the bindings are not the ones
    this was written against (scipy 1.15-1.17): the caller then runs ``linprog`` itself, which
    tests/fair compare with this on random instances."""
    try:
        from scipy.optimize._highspy import _core as h

        n, m = len(c), len(b)
        csc = a.tocsc()
        csc.sort_indices()
        lp = h.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
        lp.a_matrix_.format_ = h.MatrixFormat.kColwise
        lp.col_cost_ = np.asarray(c, dtype=np.float64)
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
        lp.row_lower_ = np.full(m, -h.kHighsInf)
        lp.row_upper_ = np.asarray(b, dtype=np.float64)
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
        highs = h._Highs()
        options = h.HighsOptions()
        # what linprog(method="highs-ds") sets; every other option keeps HiGHS's default
        options.presolve = "on"
        options.solver = "simplex"
        options.highs_debug_level = h.HighsDebugLevel.kHighsDebugLevelNone
        options.log_to_console = False
        options.output_flag = False
        options.simplex_strategy = h.simplex_constants.SimplexStrategy.kSimplexStrategyDual
        if (highs.passOptions(options) == h.HighsStatus.kError or highs.passModel(lp) == h.HighsStatus.kError
                or highs.run() == h.HighsStatus.kError or highs.getModelStatus() != h.HighsModelStatus.kOptimal):
            return None
        sol = highs.getSolution()
        x, slack = np.array(sol.col_value), np.asarray(b, dtype=np.float64) - np.array(sol.row_value)
    except (ImportError, AttributeError, TypeError, ValueError, RuntimeError):
        return None
    tol = np.sqrt(1e-9) * 10  # linprog's _check_result
    if len(x) != n or np.isnan(x).any() or np.isnan(slack).any() or (x < -tol).any() or (x > 1 + tol).any() \
            or (slack < -tol).any():
        return None
    return x


_FLOW_SCALE = 1_000_000


def _solve_flow(inst: Instance) -> list[Pair]:
    import networkx as nx

    w = _weights(inst)
    supply = sum(inst.limits.values())
    g = nx.DiGraph()
    g.add_node("s", demand=-supply)
    g.add_node("t", demand=supply)
    g.add_edge("s", "t", capacity=supply, weight=0)  # seekers may stay (partly) unassigned
    for s, lim in inst.limits.items():
        g.add_edge("s", ("a", s), capacity=lim, weight=0)
    for p, cap in inst.capacities.items():
        g.add_edge(("b", p), "t", capacity=cap, weight=0)
    for pair, wt in zip(inst.pairs, w, strict=True):
        g.add_edge(("a", pair.seeker), ("b", pair.post), capacity=1, weight=-int(round(wt * _FLOW_SCALE)))
    _, flow = nx.network_simplex(g)
    return [p for p in inst.pairs if flow[("a", p.seeker)].get(("b", p.post), 0) > 0]


def _solve_assignment(inst: Instance) -> list[Pair]:
    from scipy.optimize import linear_sum_assignment

    unit_seekers = all(v == 1 for v in inst.limits.values())
    unit_posts = all(v == 1 for v in inst.capacities.values())
    if not (unit_seekers or unit_posts):
        raise InvalidInput("assignment 求解器只适用于每人面试上限均为 1 或每岗位名额均为 1 的活动；"
                           "其他情况请用 lp 或 flow")
    # expand the side with capacities into one column (row) per slot
    if unit_seekers:
        rows_of, cols_cap = sorted(inst.limits), inst.capacities
        row_key, col_key = (lambda p: p.seeker), (lambda p: p.post)
    else:
        rows_of, cols_cap = sorted(inst.capacities), inst.limits
        row_key, col_key = (lambda p: p.post), (lambda p: p.seeker)
    cols_sorted = sorted(cols_cap)
    offset: dict[int, int] = {}
    n_cols = 0
    for c in cols_sorted:
        offset[c] = n_cols
        n_cols += cols_cap[c]
    if len(rows_of) * n_cols > _ASSIGNMENT_MAX_CELLS:
        raise InvalidInput(f"assignment 求解器的矩阵过大（{len(rows_of)} × {n_cols}），请用 lp")
    row_idx = {r: i for i, r in enumerate(rows_of)}
    w = _weights(inst)
    big = float(w.max())
    # cost = big - weight on pairs and big ("weight 0") elsewhere: every row takes a cell, so
    # the minimum cost is rows * big - the maximum total weight; cardinality earns nothing
    cost = np.full((len(rows_of), n_cols), big)
    which: dict[tuple[int, int], int] = {}
    for k, (pair, wt) in enumerate(zip(inst.pairs, w, strict=True)):
        r, c = row_idx[row_key(pair)], col_key(pair)
        cost[r, offset[c] : offset[c] + cols_cap[c]] = big - wt
        which[(r, c)] = k
    transpose = len(rows_of) > n_cols  # scipy wants rows <= columns for speed; either is exact
    r_ind, c_ind = linear_sum_assignment(cost.T if transpose else cost)
    if transpose:
        r_ind, c_ind = c_ind, r_ind
    starts = np.array([offset[c] for c in cols_sorted])
    chosen = []
    for r, cc in zip(r_ind, c_ind, strict=True):
        c = cols_sorted[int(np.searchsorted(starts, cc, side="right") - 1)]
        k = which.get((int(r), c))
        if k is not None and w[k] > 0:
            chosen.append(inst.pairs[k])
    return chosen


def solve_stable(inst: Instance) -> list[Pair]:
    """Seeker-proposing deferred acceptance, many-to-many with capacities on both sides.

    Each seeker proposes down its preference list (``seeker_key``) until it holds ``limit``
    posts or has no post left; a post holds its ``capacity`` best proposals (``post_key``) and
    rejects the rest. With these (responsive) preferences the result has no blocking pair.
    """
    by_seeker: dict[int, list[Pair]] = defaultdict(list)
    by_post: dict[int, list[Pair]] = defaultdict(list)
    for p in inst.pairs:
        by_seeker[p.seeker].append(p)
        by_post[p.post].append(p)
    prefs = {s: sorted(lst, key=seeker_key) for s, lst in by_seeker.items()}
    prank: dict[tuple[int, int], int] = {}
    for post, lst in by_post.items():
        for r, p in enumerate(sorted(lst, key=post_key)):
            prank[(p.seeker, post)] = r
    held: dict[int, list[tuple[int, int]]] = defaultdict(list)  # post -> heap of (-rank, seeker)
    holding: Counter[int] = Counter()
    nxt: Counter[int] = Counter()
    queue = deque(sorted(prefs))
    while queue:
        s = queue.popleft()
        lst = prefs[s]
        while holding[s] < inst.limits[s] and nxt[s] < len(lst):
            pair = lst[nxt[s]]
            nxt[s] += 1
            heap = held[pair.post]
            r = prank[(s, pair.post)]
            if len(heap) < inst.capacities[pair.post]:
                heapq.heappush(heap, (-r, s))
                holding[s] += 1
            elif r < -heap[0][0]:
                _, loser = heapq.heapreplace(heap, (-r, s))
                holding[s] += 1
                holding[loser] -= 1
                queue.append(loser)
    index = {(p.seeker, p.post): p for p in inst.pairs}
    return [index[(s, post)] for post, heap in held.items() for _, s in heap]


def blocking_pairs(inst: Instance, matching: Sequence[Pair]) -> list[Pair]:
    """Acceptable pairs outside ``matching`` that both sides would rather have (see
    ``seeker_key`` and ``post_key``): the seeker has room or prefers the post to its worst
    interview, and the post has room or prefers the seeker to its worst one."""
    matched = {(p.seeker, p.post) for p in matching}
    s_count: Counter[int] = Counter(p.seeker for p in matching)
    p_count: Counter[int] = Counter(p.post for p in matching)
    s_worst: dict[int, tuple] = {}
    p_worst: dict[int, tuple] = {}
    for p in matching:
        k = seeker_key(p)
        if p.seeker not in s_worst or k > s_worst[p.seeker]:
            s_worst[p.seeker] = k
        k = post_key(p)
        if p.post not in p_worst or k > p_worst[p.post]:
            p_worst[p.post] = k
    out = []
    for p in inst.pairs:
        if (p.seeker, p.post) in matched:
            continue
        seeker_wants = s_count[p.seeker] < inst.limits[p.seeker] or seeker_key(p) < s_worst[p.seeker]
        if not seeker_wants:
            continue
        if p_count[p.post] < inst.capacities[p.post] or post_key(p) < p_worst[p.post]:
            out.append(p)
    return out


def check_feasible(inst: Instance, matching: Sequence[Pair]) -> None:
    """Raise AssertionError when a matching breaks a capacity or a limit or repeats a pair."""
    keys = [(p.seeker, p.post) for p in matching]
    assert len(keys) == len(set(keys)), "a pair is assigned twice"
    for s, n in Counter(p.seeker for p in matching).items():
        assert n <= inst.limits[s], f"seeker {s} has {n} > {inst.limits[s]} interviews"
    for post, n in Counter(p.post for p in matching).items():
        assert n <= inst.capacities[post], f"post {post} has {n} > {inst.capacities[post]} interviews"
