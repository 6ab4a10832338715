"""One module per client under test; each runs alone in its own subprocess.

A module defines ``MODE`` (``"sync"`` or ``"async"``) and ``connect(url, protocol, max_inflight)``
(a coroutine for async clients) returning an object with ``job() -> str`` (the image URL),
``job_file() -> int`` (a job and then its image, as the client fetches files: the size read; the
delay-proxy phase, `benchmarks.network`) and ``close()``. Every client sends the same job: a
zero-cost ``infer`` with one step.
"""

from __future__ import annotations

from typing import Protocol

PROMPT = "benchmark"
SEED = 1
RANDOMIZE_SEED = False
WIDTH = HEIGHT = 1024
STEPS = 1
DATA: list[object] = [PROMPT, SEED, RANDOMIZE_SEED, WIDTH, HEIGHT, STEPS]
"""The ``infer`` inputs in the Space's order (protocol reference §0)."""

JOB_TIMEOUT = 120.0
"""Seconds any one job may take before the client gives up (counted as an error)."""


class SyncClient(Protocol):
    def job(self) -> str: ...

    def job_file(self) -> int: ...

    def close(self) -> None: ...


class AsyncClient(Protocol):
    async def job(self) -> str: ...

    async def job_file(self) -> int: ...

    async def close(self) -> None: ...
