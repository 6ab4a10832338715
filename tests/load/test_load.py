# pyright: reportPrivateUsage=false
"""Hundreds of jobs at once through one client, against a real Gradio 6 replica.

Every job must complete with its own result; the client must stay within its connection pool
(what it promises the Space) and within bounded memory; the sync client must be safe to share
between threads. Counts, not timings, are asserted; the hang guards are generous.

500 jobs run under asyncio; trio runs 200, because 500 at once take 20 to 60 s more on two
cores (the replica and httpcore's connection pool, whose bookkeeping is quadratic in the jobs in
flight, share the CPU): the whole suite stays near a minute.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import anyio
import psutil
import pytest

from flux_sdk import AsyncFluxClient, Completed, FluxClient, Generation, Timeout
from flux_sdk._connections import FramedTransport

pytestmark = pytest.mark.load

JOBS = {"asyncio": 500, "trio": 200}
THREADS, PER_THREAD = 32, 10
MiB = 1024 * 1024
RSS_GROWTH = 200 * MiB
GUARD = 120.0
TIMEOUT = Timeout(total=100, idle=60)
SAMPLES = 10
"""Connection counts taken as jobs reach the stream (every jobs // SAMPLES) and as they end."""


def connections_to(port: int) -> int:
    """This process's ESTABLISHED TCP connections to ``port`` (the client's ends)."""
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


def pool_limit(client: AsyncFluxClient) -> int:
    transport = client._transport._http._transport
    assert isinstance(transport, FramedTransport)
    limit = transport.limits.max_connections
    assert limit is not None
    return limit


async def many_jobs(url: str, jobs: int) -> tuple[list[Generation], list[int], int, int]:
    """Run ``jobs`` at once; the results, the connection samples, the pool limit, RSS growth."""
    port = urlsplit(url).port
    assert port is not None
    results: list[Generation] = []
    samples: list[int] = []
    streaming = finished = 0
    every = jobs // SAMPLES
    process = psutil.Process()
    async with AsyncFluxClient(url, timeout=TIMEOUT, token="") as client:
        limit = pool_limit(client)
        await client.generate("warm up", num_inference_steps=1)
        rss_before = process.memory_info().rss

        async def job(seed: int) -> None:
            nonlocal streaming, finished
            first = True
            async with client.stream(
                f"job {seed}", seed=seed, randomize_seed=False, num_inference_steps=1
            ) as events:
                async for event in events:
                    if first:
                        first = False
                        streaming += 1
                        if streaming % every == 0:
                            samples.append(connections_to(port))
                    if isinstance(event, Completed):
                        results.append(event.generation)
            finished += 1
            if finished % every == 0:
                samples.append(connections_to(port))

        with anyio.fail_after(GUARD):
            async with anyio.create_task_group() as tasks:
                for seed in range(jobs):
                    tasks.start_soon(job, seed)
        growth = process.memory_info().rss - rss_before
    return results, samples, limit, growth


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_hundreds_of_jobs_in_flight_through_one_async_client(busy_space: str, backend: str) -> None:
    port = urlsplit(busy_space).port
    jobs = JOBS[backend]
    results, samples, limit, growth = anyio.run(many_jobs, busy_space, jobs, backend=backend)
    assert sorted(result.seed for result in results) == list(range(jobs))
    assert all(result.request.seed == result.seed for result in results)
    assert limit <= 512
    assert len(samples) >= SAMPLES
    assert max(samples) <= limit, samples
    assert max(samples) > 1, "the samples saw no concurrency at all"
    assert growth < RSS_GROWTH, f"RSS grew by {growth / MiB:.0f} MiB"
    assert port is not None
    assert connections_to(port) == 0


def test_one_sync_client_shared_by_32_threads(busy_space: str) -> None:
    results: list[Generation] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    with FluxClient(busy_space, timeout=TIMEOUT, token="") as client:

        def worker(number: int) -> None:
            try:
                start.wait(GUARD)
                for job in range(PER_THREAD):
                    seed = number * PER_THREAD + job
                    result = client.generate(
                        f"thread {number} job {job}",
                        seed=seed,
                        randomize_seed=False,
                        num_inference_steps=1,
                    )
                    with lock:
                        results.append(result)
            except BaseException as exc:
                with lock:
                    errors.append(exc)

        threads = [
            threading.Thread(target=worker, args=(n,), name=f"load-{n}", daemon=True)
            for n in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(GUARD)
        assert not any(thread.is_alive() for thread in threads), "hang"
    assert errors == []
    assert sorted(result.seed for result in results) == list(range(THREADS * PER_THREAD))
