"""gc_paused: no automatic collection inside, nested and concurrent sections counted, and the
collector's own state (enabled or not) back when the last section ends, even on an error."""

from __future__ import annotations

import gc
import threading

import pytest

from matcher.core.gcpause import gc_paused


def test_paused_inside_and_enabled_after_nested_sections():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer section still runs
    assert gc.isenabled()


def test_an_error_inside_enables_it_again():
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_sections_in_threads():
    """Thread A enters, thread B enters, A leaves (still paused for B), B leaves (enabled)."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def a() -> None:
        with gc_paused():
            a_in.set()
            b_in.wait(5)
        seen["after_a"] = gc.isenabled()
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with gc_paused():
            b_in.set()
            a_out.wait(5)
            seen["b_after_a_left"] = gc.isenabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after_a": False, "b_after_a_left": False}
    assert gc.isenabled()
