"""Reports kept in the process that computed them, until the data they were computed from changes.

A report is stored under its parameters and the store's data version (``data_version``: the last
entry of the change log, written in the transaction of every talent or demand write by any
process, and a digest of the catalogues and chains). The version is read before the report is
computed, so a write during the computation makes the next call compute again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar
from weakref import WeakKeyDictionary

from matcher.service import MatchService
from matcher.storage.changes import data_version

T = TypeVar("T")

MAX_REPORTS = 32


class ReportCache(Generic[T]):
    """The last ``size`` reports of one service, by (parameters, data version)."""

    def __init__(self, size: int = MAX_REPORTS) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # reports computed (a miss), for tests and the benchmark
        self.served = 0  # reports served from the cache

    def get(self, service: MatchService, key: Hashable, compute: Callable[[], T]) -> T:
        with service.store.session() as s:
            full = (key, data_version(s))
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                self.served += 1
                return self._items[full]
        value = compute()
        with self._lock:
            self.computed += 1
            self._items[full] = value
            self._items.move_to_end(full)
            # an older data version can never be asked for again: drop its reports
            for k in [k for k in self._items if k[1] != full[1]]:
                del self._items[k]
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_caches: WeakKeyDictionary[MatchService, ReportCache] = WeakKeyDictionary()
_caches_lock = threading.Lock()


def report_cache(service: MatchService) -> ReportCache:
    """The report cache of a service (one per service object, gone with it)."""
    with _caches_lock:
        cache = _caches.get(service)
        if cache is None:
            cache = _caches[service] = ReportCache()
        return cache
