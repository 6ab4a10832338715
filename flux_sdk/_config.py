"""Client settings: the default Space, protocols and timeouts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ._limits import SCHNELL_URL

__all__ = ["DEFAULT_SPACE", "ProtocolName", "Timeout", "TimeoutTypes"]

DEFAULT_SPACE = SCHNELL_URL
"""The public FLUX.1-schnell Space."""

ProtocolName = Literal["auto", "queue", "call"]
"""Which Gradio protocol drives a job: ``"queue"`` (``queue/join`` + ``queue/data``: queue
position, progress, ZeroGPU notices, error text on every Gradio line), ``"call"`` (the simple
``/call/`` API), or ``"auto"`` (currently the queue protocol)."""

DEFAULT_MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_RETRIES = 2


@dataclass(frozen=True)
class Timeout:
    """Time limits, in seconds; settable per client and per call.

    Attributes:
        connect: Establishing a connection to the Space.
        idle: Silence on an open stream. Gradio sends a heartbeat every 15 s, so keep it well
            above that.
        total: The whole job, from the first request to the image URL. None means no limit.
        cancel: Telling the Space to cancel a job we abandon (best effort).

    Example:
        >>> Timeout(total=120).idle
        60.0
    """

    connect: float = 10.0
    idle: float = 60.0
    total: float | None = 600.0
    cancel: float = 5.0

    def __post_init__(self) -> None:
        for name in ("connect", "idle", "cancel"):
            value = getattr(self, name)
            if not value > 0 or math.isinf(value):
                raise ValueError(f"Timeout.{name} must be a positive number of seconds")
        if self.total is not None and not self.total > 0:
            raise ValueError("Timeout.total must be positive, or None for no limit")

    @classmethod
    def coerce(cls, value: TimeoutTypes) -> Timeout:
        """A `Timeout` as is; a number as the total job time, other limits at their defaults."""
        if isinstance(value, Timeout):
            return value
        return cls(total=float(value))


TimeoutTypes = Timeout | float
"""A `Timeout`, or a number of seconds for the whole job."""

DEFAULT_TIMEOUT = Timeout()
