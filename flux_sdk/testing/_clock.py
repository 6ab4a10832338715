"""The fake's time model: when its jobs move.

Time in the fake is made of *ticks*. A tick lets every running job do one thing (send a toast,
a progress step, or finish) and then starts waiting jobs on free workers (`Scheduler.tick`).
Ticks happen only while someone reads a stream and has nothing to read, so a job never runs
ahead of its readers, a client that stops reading (to cancel) finds the job where it left it,
and no test waits for a clock. Between ticks the fake sleeps ``step_delay`` seconds (0 by
default: a checkpoint).

This module alone decides when a tick happens; what a tick does is the scheduler's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import anyio

__all__ = ["Clock"]


class Clock:
    """Runs ticks for the readers that wait, at most one per ``step_delay`` seconds."""

    def __init__(self, step_delay: float) -> None:
        self.step_delay = step_delay
        self._next_tick = 0.0

    @staticmethod
    def now() -> float:
        """Seconds on the monotonic clock (durations and heartbeats are measured on it)."""
        return time.monotonic()

    async def advance(self, lock: threading.Lock, tick: Callable[[], None]) -> None:
        """Wait for the next tick (``step_delay``, or just a checkpoint), then run ``tick``.

        ``tick`` runs with ``lock`` held; several readers waiting at once share one tick.
        """
        with lock:
            delay = self._next_tick - self.now()
        await anyio.sleep(max(delay, 0.0))
        with lock:
            now = self.now()
            if now >= self._next_tick:
                self._next_tick = now + self.step_delay
                tick()
