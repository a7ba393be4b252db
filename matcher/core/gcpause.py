"""Pausing the cyclic garbage collector around a large batch computation.

A fair run builds hundreds of thousands of small, acyclic objects (pairs, keys, records) on a heap
that already holds the loaded records; each full collection walks all of them, again and again as
the heap grows (about a tenth of a 5,000 × 1,000 run). Reference counting still frees everything
that is not in a cycle; the collector runs again when the last paused section ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_resume = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic collection inside; nested and concurrent sections (threads) are
    counted, and the collector is enabled again, if it was, when the last one ends."""
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
