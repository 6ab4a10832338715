"""The fake's time model: real seconds on the monotonic clock, as on a real Space.

A job runs on this clock from the moment it gets a worker, whether or not anyone reads its
stream: its toasts and its first progress step at once, each further step ``step_delay`` seconds
after the one before, its outcome one ``step_delay`` after the last step (the local Space's
``tqdm`` loop). A queued job starts the instant a worker frees up. So the client's own time
limits (``anyio.fail_after`` on any event loop, the sync client's loop thread included) see the
same durations as against a real Space, a client that stops reading finds the job where the
clock has it, and a job nobody follows still runs to its end.

Nothing runs in the background: the scheduler brings its state up to the clock's present
whenever it is looked at (`Scheduler.catch_up`: a request, a stream waiting for news, a test
reading ``jobs``), replaying in order what happened since. This module only tells the time and
waits for it; what happens at each instant is the scheduler's.
"""

from __future__ import annotations

import math
import time
from typing import Final

import anyio

__all__ = ["DEFAULT_STEP_DELAY", "POLL_INTERVAL", "Clock"]

DEFAULT_STEP_DELAY: Final = 0.01
"""Seconds per step of a job without a fault tag or a scripted delay.

Short, so that tests stay fast, but not zero: a job takes long enough that a client leaving its
stream (the sync client's reader thread included) cancels it before it ends, as on the Space,
where a step takes seconds."""

POLL_INTERVAL: Final = 0.02
"""Longest wait of a stream for news: a ``/cancel`` or a submission from another task ends a
wait that the clock alone would not."""


class Clock:
    """The fake's clock, and its default duration of a step."""

    def __init__(self, step_delay: float) -> None:
        self.step_delay = step_delay

    @staticmethod
    def now() -> float:
        """Seconds on the monotonic clock: the one every event loop's time follows."""
        return time.monotonic()

    async def wait_until(self, instant: float) -> None:
        """Sleep until ``instant`` (``math.inf``: nothing is due), at most `POLL_INTERVAL`."""
        delay = instant - self.now() if math.isfinite(instant) else POLL_INTERVAL
        await anyio.sleep(min(max(delay, 0.0), POLL_INTERVAL))
