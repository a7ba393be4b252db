"""Maximum-flow assignment of qualified talents to demanded places (scipy)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def max_assignment(headcounts: Sequence[int], edges: Iterable[tuple[int, int]]) -> tuple[int, list[int]]:
    """Most places filled when entry i takes up to headcounts[i] talents and a talent fills one
    place: (total, places filled per entry). ``edges`` are (entry index, talent id) pairs."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_flow

    n_e = len(headcounts)
    pairs = sorted(set(edges))
    if not pairs or n_e == 0:
        return 0, [0] * n_e
    tal = {t: k for k, t in enumerate(sorted({t for _, t in pairs}))}
    n_t = len(tal)
    source, sink = 0, n_e + n_t + 1
    rows, cols, caps = [], [], []
    for i, h in enumerate(headcounts):
        rows.append(source)
        cols.append(1 + i)
        caps.append(int(h))
    for i, t in pairs:
        rows.append(1 + i)
        cols.append(1 + n_e + tal[t])
        caps.append(1)
    for k in range(n_t):
        rows.append(1 + n_e + k)
        cols.append(sink)
        caps.append(1)
    n = n_e + n_t + 2
    graph = csr_matrix((np.array(caps, dtype=np.int32), (rows, cols)), shape=(n, n))
    res = maximum_flow(graph, source, sink, method="dinic")
    flow = res.flow.tocsr()
    per_entry = [int(flow[source, 1 + i]) for i in range(n_e)]
    return int(res.flow_value), per_entry


def priority_assignment(headcounts: Sequence[int], levels: Sequence[int | None],
                        edges: Iterable[tuple[int, int, float]]) -> tuple[int, list[int]]:
    """A maximum assignment that, among all maximum ones, fills entries of higher 紧缺星级
    first and then prefers higher scores (minimum-cost maximum flow, networkx): (total, places
    filled per entry). ``edges`` are (entry index, talent id, score)."""
    import networkx as nx

    edges = list(edges)
    n_e = len(headcounts)
    if not edges:
        return 0, [0] * n_e
    g = nx.DiGraph()
    for i, (h, lvl) in enumerate(zip(headcounts, levels, strict=True)):
        g.add_edge("s", ("e", i), capacity=int(h), weight=(5 - (lvl or 0)) * 1000)
    for i, t, score in edges:
        g.add_edge(("e", i), ("t", t), capacity=1, weight=int(round((1 - score) * 100)))
        g.add_edge(("t", t), "z", capacity=1, weight=0)
    flow = nx.max_flow_min_cost(g, "s", "z")
    per_entry = [int(flow["s"].get(("e", i), 0)) for i in range(n_e)]
    return sum(per_entry), per_entry
