"""A background loop's stop() waits for the step in hand: a shutdown that closes or drops the
database afterwards never races a write in flight."""

from __future__ import annotations

import threading

from matcher.core.background import Background


def test_stop_waits_for_the_step_in_hand():
    entered, release, steps = threading.Event(), threading.Event(), []

    def loop(stop: threading.Event) -> None:
        while not stop.is_set():
            entered.set()
            release.wait()  # a step that is still writing when the shutdown begins
            steps.append("done")

    bg = Background(loop, "test-loop").start()
    assert entered.wait(10)
    bg.set()
    assert bg.is_set() and bg.thread.is_alive()  # asked to stop, still in its step
    threading.Timer(0.05, release.set).start()
    assert bg.stop(timeout=10)
    assert steps == ["done"] and not bg.thread.is_alive()


def test_stop_reports_a_loop_that_does_not_end():
    release = threading.Event()
    bg = Background(lambda stop: release.wait(), "stuck").start()
    assert not bg.stop(timeout=0.05)
    release.set()
    assert bg.stop(timeout=10)
