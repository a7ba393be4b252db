"""A daemon thread with its stop signal, which a shutdown can wait for.

A server's background loops (the change-log follower, the embedded job worker) must be stopped
and joined before the database they write to is closed or dropped; setting a flag alone leaves
a write in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class Background:
    """``target(stop_event, *args)`` run in a daemon thread until ``stop()``."""

    def __init__(self, target: Callable[..., Any], name: str, *args: Any) -> None:
        self.event = threading.Event()
        self.thread = threading.Thread(target=target, args=(self.event, *args), name=name, daemon=True)

    def start(self) -> Background:
        self.thread.start()
        return self

    def set(self) -> None:
        """Ask the loop to stop (it ends after its current step)."""
        self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()

    def stop(self, timeout: float = 60.0) -> bool:
        """Ask the loop to stop and wait for it; False when it still runs after ``timeout`` s."""
        self.event.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)
        return not self.thread.is_alive()
