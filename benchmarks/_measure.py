"""The measurement harness that runs inside each client's subprocess (standard library only).

Every client gets the same phases: warm-up, sequential jobs (latency, CPU: run in blocks, so the
orchestrator can interleave the clients it compares), then for each in-flight level a fixed
number of jobs kept that many in flight (throughput). Async clients run C tasks on one asyncio
loop; sync clients run C threads sharing one client.
"""

from __future__ import annotations

import itertools
import resource
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

_MAX_ERROR_SAMPLES = 5


def peak_rss_mb() -> float:
    """The process's peak resident set so far (``ru_maxrss``, KiB on Linux), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """The process's resident set now, in MiB (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / (1024 * 1024)


@dataclass
class Errors:
    """Failed jobs: how many, and the first few messages."""

    count: int = 0
    samples: list[str] = field(default_factory=list[str])
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, exc: BaseException) -> None:
        with self._lock:
            self.count += 1
            if len(self.samples) < _MAX_ERROR_SAMPLES:
                self.samples.append(f"{type(exc).__name__}: {exc}"[:300])


@dataclass
class Throughput:
    inflight: int
    jobs: int
    errors: int
    wall_s: float
    jobs_per_s: float
    cpu_ms_per_job: float


@dataclass
class _Recorder:
    """What all phases accumulate, whatever the client's mode."""

    latencies: list[float] = field(default_factory=list[float])
    sequential_errors: int = 0
    sequential_cpu_s: float = 0.0
    rss_after_sequential_mb: float = 0.0
    throughput: list[Throughput] = field(default_factory=list[Throughput])
    errors: Errors = field(default_factory=Errors)
    file_walls: dict[str, list[float]] = field(default_factory=dict[str, list[float]])
    """Seconds per job-and-file (`benchmarks.network`), by the label of the phase."""

    def failed(self, exc: BaseException) -> None:
        self.errors.add(exc)

    def add_throughput(
        self, inflight: int, jobs: int, errors: int, wall: float, cpu: float
    ) -> None:
        self.throughput.append(
            Throughput(
                inflight=inflight,
                jobs=jobs,
                errors=errors,
                wall_s=wall,
                jobs_per_s=jobs / wall if wall > 0 else 0.0,
                cpu_ms_per_job=cpu / max(jobs, 1) * 1e3,
            )
        )

    def result(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        jobs = len(ordered) + self.sequential_errors
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else 0.0
        return {
            "sequential": {
                "jobs": jobs,
                "errors": self.sequential_errors,
                "median_ms": statistics.median(ordered) * 1e3 if ordered else 0.0,
                "p95_ms": p95 * 1e3,
                "mean_ms": statistics.fmean(ordered) * 1e3 if ordered else 0.0,
                "cpu_ms_per_job": self.sequential_cpu_s / max(jobs, 1) * 1e3,
            },
            "throughput": _throughput_by_level(self.throughput),
            "peak_rss_after_sequential_mb": self.rss_after_sequential_mb,
            "peak_rss_mb": peak_rss_mb(),
            "errors": self.errors.count,
            "error_samples": self.errors.samples,
            "file_walls": self.file_walls,
        }


def _throughput_by_level(phases: list[Throughput]) -> dict[str, dict[str, Any]]:
    """Repeated phases of one level merged: the median rate, total jobs, errors and CPU."""
    levels: dict[int, list[Throughput]] = {}
    for phase in phases:
        levels.setdefault(phase.inflight, []).append(phase)
    merged: dict[str, dict[str, Any]] = {}
    for inflight, runs in sorted(levels.items()):
        jobs = sum(run.jobs for run in runs)
        cpu_ms = sum(run.cpu_ms_per_job * run.jobs for run in runs)
        merged[str(inflight)] = {
            "inflight": inflight,
            "jobs": jobs,
            "errors": sum(run.errors for run in runs),
            "wall_s": sum(run.wall_s for run in runs),
            "jobs_per_s": statistics.median(run.jobs_per_s for run in runs),
            "cpu_ms_per_job": cpu_ms / max(jobs, 1),
            "repeats": [asdict(run) for run in runs],
        }
    return merged


class SyncRunner(_Recorder):
    """The phases for a blocking client: its ``job`` is called from one or many threads."""

    def __init__(self, job: Callable[[], str], job_file: Callable[[], int]) -> None:
        super().__init__()
        self.job = job
        self.job_file = job_file

    def files(self, jobs: int, label: str) -> None:
        """``jobs`` sequential jobs and files, timed under ``label`` (errors propagate)."""
        walls = self.file_walls.setdefault(label, [])
        for _ in range(jobs):
            start = time.perf_counter()
            self.job_file()
            walls.append(time.perf_counter() - start)

    def warmup(self, jobs: int, job: Callable[[], str] | None = None) -> None:
        for _ in range(jobs):
            (job or self.job)()

    def sequential(self, jobs: int) -> None:
        cpu0 = time.process_time()
        for _ in range(jobs):
            start = time.perf_counter()
            try:
                self.job()
            except Exception as exc:
                self.sequential_errors += 1
                self.failed(exc)
            else:
                self.latencies.append(time.perf_counter() - start)
        self.sequential_cpu_s += time.process_time() - cpu0
        self.rss_after_sequential_mb = peak_rss_mb()

    def throughput_phase(self, job: Callable[[], str], inflight: int, jobs: int) -> None:
        """``jobs`` jobs of ``job`` (a client of its own, on a server of its own), C threads."""
        tickets = itertools.count()
        failed = Errors()
        ready = threading.Barrier(inflight + 1)

        def worker() -> None:
            ready.wait()
            while next(tickets) < jobs:  # itertools.count is atomic under the GIL
                try:
                    job()
                except Exception as exc:
                    failed.add(exc)
                    self.failed(exc)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(inflight)]
        for thread in threads:
            thread.start()
        cpu0 = time.process_time()
        start = time.perf_counter()
        ready.wait()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        self.add_throughput(inflight, jobs, failed.count, wall, time.process_time() - cpu0)


class AsyncRunner(_Recorder):
    """The phases for an asyncio client: ``job`` runs as one or many tasks on one loop."""

    def __init__(
        self, job: Callable[[], Awaitable[str]], job_file: Callable[[], Awaitable[int]]
    ) -> None:
        super().__init__()
        self.job = job
        self.job_file = job_file

    async def files(self, jobs: int, label: str) -> None:
        """``jobs`` sequential jobs and files, timed under ``label`` (errors propagate)."""
        walls = self.file_walls.setdefault(label, [])
        for _ in range(jobs):
            start = time.perf_counter()
            await self.job_file()
            walls.append(time.perf_counter() - start)

    async def warmup(self, jobs: int, job: Callable[[], Awaitable[str]] | None = None) -> None:
        for _ in range(jobs):
            await (job or self.job)()

    async def sequential(self, jobs: int) -> None:
        cpu0 = time.process_time()
        for _ in range(jobs):
            start = time.perf_counter()
            try:
                await self.job()
            except Exception as exc:
                self.sequential_errors += 1
                self.failed(exc)
            else:
                self.latencies.append(time.perf_counter() - start)
        self.sequential_cpu_s += time.process_time() - cpu0
        self.rss_after_sequential_mb = peak_rss_mb()

    async def throughput_phase(
        self, job: Callable[[], Awaitable[str]], inflight: int, jobs: int
    ) -> None:
        """``jobs`` jobs of ``job`` (a client of its own, on a server of its own), C tasks."""
        import asyncio  # only async clients pay for asyncio

        tickets = itertools.count()
        failed = Errors()

        async def worker() -> None:
            while next(tickets) < jobs:
                try:
                    await job()
                except Exception as exc:
                    failed.add(exc)
                    self.failed(exc)

        cpu0 = time.process_time()
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(inflight)))
        wall = time.perf_counter() - start
        self.add_throughput(inflight, jobs, failed.count, wall, time.process_time() - cpu0)
