"""``http2=True`` against the real Gradio replica served over TLS and HTTP/2 (hypercorn).

`tests._h2space` serves the Space's replica by hypercorn, which offers ``h2`` by ALPN, with a
certificate from a CA made here, and logs each request's HTTP version and client port: the
protocol and the connections are counted at the server. The replica runs jobs at once
(no concurrency limit), so 20 jobs are in flight together. It runs under the test
environment's own Gradio (the ``[local]`` extra), beside which ``nox -s tests`` installs
hypercorn; the Gradio servers of ``FLUX_TEST_GRADIO`` have none.
"""

from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from flux_sdk import (
    AsyncFluxClient,
    ClientClosedError,
    Completed,
    Event,
    FluxClient,
    GenerateRequest,
    Progress,
    Timeout,
)
from tests._h2space import H2Space, Seen, connections

TIMEOUT = Timeout(connect=10, idle=30, total=60, cancel=5)
LONG = GenerateRequest(prompt="[slow] a long job", num_inference_steps=50)  # 12.5 s
IN_FLIGHT = 20

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hypercorn") is None or importlib.util.find_spec("gradio") is None,
    reason="the HTTP/2 replica needs gradio and hypercorn in the test environment",
)


@pytest.fixture
def space(h2_replica: H2Space) -> H2Space:
    return h2_replica


def _cancels(seen: list[Seen]) -> list[Seen]:
    return [row for row in seen if row.path.endswith("/cancel")]


def _async_client(space: H2Space, *, http2: bool = True) -> AsyncFluxClient:
    return AsyncFluxClient(
        space.url, token="", timeout=TIMEOUT, verify=space.ca_bundle, http2=http2
    )


def _sync_client(space: H2Space, *, http2: bool = True) -> FluxClient:
    return FluxClient(space.url, token="", timeout=TIMEOUT, verify=space.ca_bundle, http2=http2)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_jobs_streams_and_downloads_go_over_one_h2_connection(
    space: H2Space, backend: str
) -> None:
    async def main() -> tuple[int, list[Event], bytes]:
        async with _async_client(space) as client:
            generation = await client.generate("a fox", seed=1, randomize_seed=False)
            async with client.stream("a heron", seed=2, randomize_seed=False) as stream:
                events = [event async for event in stream]
            return generation.seed, events, await client.download(generation)

    seed, events, content = anyio.run(main, backend=backend)
    assert seed == 1
    assert isinstance(events[-1], Completed)
    assert content.startswith(b"RIFF")
    seen = space.seen()
    assert {row.http_version for row in seen} == {"2"}
    assert {row.status for row in seen} == {200}
    # config, two joins, two streams, a download: all on the first connection.
    assert connections(seen) == 1


def test_sync_jobs_streams_and_downloads_go_over_one_h2_connection(space: H2Space) -> None:
    with _sync_client(space) as client:
        generation = client.generate("a fox", seed=1, randomize_seed=False)
        with client.stream("a heron", seed=2, randomize_seed=False) as stream:
            events = list(stream)
        content = client.download(generation)
    assert isinstance(events[-1], Completed)
    assert content.startswith(b"RIFF")
    seen = space.seen()
    assert {row.http_version for row in seen} == {"2"}
    assert connections(seen) == 1


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_twenty_async_jobs_in_flight_share_one_connection(space: H2Space, backend: str) -> None:
    async def main() -> list[int]:
        sizes: list[int] = []
        async with _async_client(space) as client:

            async def one(index: int) -> None:
                generation = await client.generate(f"fox {index}")
                sizes.append(len(await client.download(generation)))

            async with anyio.create_task_group() as group:
                for index in range(IN_FLIGHT):
                    group.start_soon(one, index)
        return sizes

    assert len(anyio.run(main, backend=backend)) == IN_FLIGHT
    seen = space.seen()
    streams = [row for row in seen if row.path.endswith("/queue/data")]
    assert len(streams) == IN_FLIGHT
    assert {row.http_version for row in seen} == {"2"}
    assert connections(seen) == 1


def test_twenty_sync_jobs_in_flight_share_one_connection(space: H2Space) -> None:
    with _sync_client(space) as client, ThreadPoolExecutor(IN_FLIGHT) as threads:

        def one(index: int) -> int:
            return len(client.download(client.generate(f"fox {index}")))

        sizes = list(threads.map(one, range(IN_FLIGHT)))
    assert len(sizes) == IN_FLIGHT
    seen = space.seen()
    assert {row.http_version for row in seen} == {"2"}
    assert connections(seen) == 1


@pytest.mark.parametrize("http2", [True, False])
def test_twenty_jobs_streaming_at_once_take_one_h2_connection_or_twenty(
    space: H2Space, http2: bool
) -> None:
    async def main() -> None:
        async with _async_client(space, http2=http2) as client:
            jobs = [client.submit(LONG) for _ in range(IN_FLIGHT)]
            # Every job's event stream open at the Space at once; leaving cancels them all.
            await anyio.to_thread.run_sync(space.wait_for, "/queue/data", IN_FLIGHT)
            assert not any(job.done() for job in jobs)

    anyio.run(main)
    seen = space.wait_for("/cancel", IN_FLIGHT)
    assert {row.http_version for row in seen} == {"2" if http2 else "1.1"}
    streaming = [row for row in seen if not row.path.endswith("/cancel")]
    if http2:
        assert connections(streaming) == 1
    else:
        # Each open stream holds a connection of its own.
        assert connections(streaming) >= IN_FLIGHT


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_leaving_an_async_stream_cancels_the_job_and_keeps_the_connection(
    space: H2Space, backend: str
) -> None:
    async def main() -> int:
        async with _async_client(space) as client:
            async with client.stream(LONG) as stream:
                async for event in stream:
                    if isinstance(event, Progress):
                        break
            # The connection that carried the left stream carries the next job.
            return (await client.generate("after the cancel", seed=3, randomize_seed=False)).seed

    assert anyio.run(main, backend=backend) == 3
    seen = space.seen()
    assert [row.status for row in _cancels(seen)] == [200]
    assert {row.http_version for row in seen} == {"2"}
    assert connections(seen) == 1


def test_leaving_a_sync_stream_cancels_the_job_and_keeps_the_connection(space: H2Space) -> None:
    with _sync_client(space) as client:
        with client.stream(LONG) as stream:
            for event in stream:
                if isinstance(event, Progress):
                    break
        assert client.generate("after the cancel", seed=3, randomize_seed=False).seed == 3
    seen = space.seen()
    assert [row.status for row in _cancels(seen)] == [200]
    assert connections(seen) == 1


def test_closing_a_sync_client_with_jobs_in_flight_cancels_them(space: H2Space) -> None:
    client = _sync_client(space)
    jobs = [client.submit(LONG), client.submit(LONG)]
    # Both jobs' event streams open on the Space before the close.
    space.wait_for("/queue/data", 2)
    client.close()
    for job in jobs:
        with pytest.raises(ClientClosedError):
            job.result()
    seen = space.wait_for("/cancel", 2)
    assert [row.status for row in _cancels(seen)] == [200, 200]
    assert connections(seen) == 1


def test_closing_an_async_client_with_a_job_in_flight_cancels_it(space: H2Space) -> None:
    async def main() -> None:
        client = _async_client(space)
        job = client.submit(LONG)
        await anyio.to_thread.run_sync(space.wait_for, "/queue/data", 1)
        await client.close()
        with pytest.raises(ClientClosedError):
            await job

    anyio.run(main)
    seen = space.wait_for("/cancel", 1)
    assert [row.status for row in _cancels(seen)] == [200]


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cancelling_half_the_jobs_in_flight_leaves_the_others_streaming(
    space: H2Space, backend: str
) -> None:
    # Long enough (5 s) that none ends before the cancels, short enough to wait for the rest.
    short = GenerateRequest(prompt="[slow] a short job", num_inference_steps=20)

    async def main() -> list[int]:
        finished: list[int] = []
        async with _async_client(space) as client:

            async def one(index: int, scope: anyio.CancelScope) -> None:
                with scope:
                    await client.download(await client.generate(short))
                    finished.append(index)

            scopes = [anyio.CancelScope() for _ in range(IN_FLIGHT)]
            async with anyio.create_task_group() as group:
                for index, scope in enumerate(scopes):
                    group.start_soon(one, index, scope)
                # Every stream open on the one connection; then every other job is left.
                await anyio.to_thread.run_sync(space.wait_for, "/queue/data", IN_FLIGHT)
                for scope in scopes[::2]:
                    scope.cancel()
            # The connection that carried the left streams carries the next job.
            await client.generate("after", seed=5, randomize_seed=False)
        return sorted(finished)

    assert anyio.run(main, backend=backend) == list(range(1, IN_FLIGHT, 2))
    seen = space.wait_for("/cancel", IN_FLIGHT // 2)
    assert [row.status for row in _cancels(seen)] == [200] * (IN_FLIGHT // 2)
    assert {row.status for row in seen} == {200}
    assert connections(seen) == 1
