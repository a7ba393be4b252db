"""The garbage collector of a long-running server process.

A server holds a large, long-lived heap (indexes, token lists, kept records) and makes many
short-lived objects per request. With CPython's default thresholds a full collection walks the
whole heap every few hundred requests: at 10^5 entries those pauses (200-700 ms on a busy
2-core machine) were the route's p99. :func:`settle_heap` moves what is loaded at start out of
the collector's sight (``gc.freeze``) and makes collections rarer; reference counting frees
almost everything anyway (the collector is for cycles).
"""

from __future__ import annotations

import gc

# (young objects allocated before a collection, young collections per middle one, middle per full)
SERVER_THRESHOLDS = (10_000, 20, 100)


def settle_heap(thresholds: tuple[int, int, int] = SERVER_THRESHOLDS) -> None:
    """Collect once, freeze the survivors (never walked again) and set ``thresholds``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def freeze_heap() -> None:
    """Freeze what is alive now, without a collection (what a server loaded after it settled its
    heap, e.g. the records it keeps): never walked again, and no pause for a collection."""
    gc.freeze()
