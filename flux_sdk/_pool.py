"""The Spaces a client may use, in order, with what it learned about each.

A client has one Space, or a pool: the public Space plus users' duplicates or self-hosted
Gradio servers running the same app. A job goes to the first Space that is not resting; a Space
that answered "quota exceeded" rests until its ``retry_after``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import httpx

from . import _policy as policy
from . import _protocol as protocol
from ._errors import FluxError


class SpaceState:
    """One Space: its URL, its discovered config, and until when it rests."""

    def __init__(self, url: str) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"a Space URL must be http(s), got {url!r}")
        self.url: str = str(parsed).rstrip("/")
        self.config: protocol.SpaceConfig | None = None
        """What ``GET /config`` said, once read (the transport reads it only when needed)."""
        self._accepted_prefix: str | None = None
        self.rested_until: float = -math.inf

    def api_prefix(self) -> str:
        """The API prefix to submit to.

        ``/config``'s, else the one the last accepted job went to, else Gradio 5's
        (`protocol.GUESSED_PREFIX`).
        """
        if self.config is not None:
            return self.config.api_prefix
        if self._accepted_prefix is not None:
            return self._accepted_prefix
        return protocol.GUESSED_PREFIX

    @property
    def known(self) -> bool:
        """Whether the Space's prefix is known: read from ``/config``, or a job was taken."""
        return self.config is not None or self._accepted_prefix is not None

    def accepted_at(self, prefix: str) -> None:
        """Remember that the Space took a job at ``prefix``."""
        self._accepted_prefix = prefix

    def __repr__(self) -> str:
        return f"SpaceState({self.url!r})"


class SpacePool:
    """The Spaces of one client, in the order the user gave them."""

    def __init__(self, urls: Sequence[str]) -> None:
        if not urls:
            raise ValueError("at least one Space URL is needed")
        self.spaces: list[SpaceState] = [SpaceState(url) for url in urls]

    def candidates(self) -> list[SpaceState]:
        """Spaces to try for a job: those not resting in order, then the resting ones."""
        now = time.monotonic()
        ready = [space for space in self.spaces if space.rested_until <= now]
        resting = sorted(
            (space for space in self.spaces if space.rested_until > now),
            key=lambda space: space.rested_until,
        )
        return ready + resting

    def rest(self, space: SpaceState, error: FluxError) -> None:
        """Rest ``space`` as long as `policy.rest_for` says (quota errors, unreachable)."""
        rest = policy.rest_for(error, len(self.spaces))
        if rest is None:
            return
        # The process's clock, not the loop's: a client may be used from several loops, and
        # trio's clock starts anywhere.
        space.rested_until = time.monotonic() + rest.total_seconds()
