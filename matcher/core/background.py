"""Daemon threads with one stop signal, which a shutdown can wait for.

A server's background loops (the change-log follower and its listener, the embedded job worker)
must be stopped and joined before the database they write to is closed or dropped; setting a
flag alone leaves a write in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Background:
    """``target(stop_event, *args)`` run in a daemon thread until ``stop()``; ``also`` adds
    further loops (name, target) that take the same stop event. ``event``: a stop event of the
    caller's (e.g. one that also wakes a waiting loop)."""

    def __init__(self, target: Callable[..., Any], name: str, *args: Any, event: threading.Event | None = None,
                 also: tuple[tuple[str, Callable[[threading.Event], Any]], ...] = ()) -> None:
        self.event = event if event is not None else threading.Event()
        self.thread = threading.Thread(target=target, args=(self.event, *args), name=name, daemon=True)
        self.threads = [self.thread] + [threading.Thread(target=t, args=(self.event,), name=n, daemon=True)
                                        for n, t in also]

    def start(self) -> Background:
        for t in self.threads:
            t.start()
        return self

    def set(self) -> None:
        """Ask the loops to stop (each ends after its current step)."""
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def stop(self, timeout: float = 60.0) -> bool:
        """Ask the loops to stop and wait for them; False when one still runs after ``timeout`` s."""
        self.event.set()
        for t in self.threads:
            if t.is_alive() and t is not threading.current_thread():
                t.join(timeout)
        return not any(t.is_alive() for t in self.threads)
