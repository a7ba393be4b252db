"""A server's heap settled once loaded: survivors frozen, collections rarer."""

from __future__ import annotations

import gc

from matcher.core.heap import SERVER_THRESHOLDS, settle_heap


def test_settle_heap_freezes_what_is_loaded_and_sets_the_thresholds():
    before = gc.get_threshold()
    loaded = [[i] for i in range(1000)]  # containers: tracked by the collector
    try:
        settle_heap()
        assert gc.get_freeze_count() >= len(loaded) and gc.get_threshold() == SERVER_THRESHOLDS
        walked = {id(o) for g in range(3) for o in gc.get_objects(generation=g)}
        assert not any(id(x) in walked for x in loaded)  # frozen: in no generation
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
