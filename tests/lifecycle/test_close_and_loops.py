"""Closing a client while its jobs run, and one async client on many event loops.

Against a real Gradio replica behind the recording relay: a close() from another thread or task
cancels the running job on the Space, its caller gets `ClientClosedError`, and nothing of the
client is left (no thread, no connection).
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Callable

import anyio
import psutil
import pytest
import trio

from flux_sdk import (
    AsyncEventStream,
    AsyncFluxClient,
    ClientClosedError,
    FluxClient,
    GenerateRequest,
    Generation,
)
from tests.lifecycle._proxy import LIMIT, Relay
from tests.lifecycle.test_exit_and_signals import SLOW, assert_the_space_cancelled_it, streaming

FAST = GenerateRequest(prompt="a fox", num_inference_steps=1, width=256, height=256)


def open_connections(relay: Relay) -> list[str]:
    """This process's client ends of connections to the relay."""
    return [
        f"{c.laddr} -> {c.raddr} {c.status}"
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == relay.port
    ]


def run_in_thread(target: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run ``target`` on a thread; its result or exception lands in the list."""
    outcome: list[object] = []

    def main() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    return thread, outcome


def test_close_from_another_thread_cancels_the_running_job(relay: Relay) -> None:
    before = set(threading.enumerate())
    client = FluxClient(relay.url)
    worker, outcome = run_in_thread(lambda: client.generate(SLOW, num_inference_steps=50))
    relay.wait_for(streaming, "the job's stream")
    client.close()
    worker.join(LIMIT)
    assert not worker.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ClientClosedError), repr(outcome[0])
    assert "closed while the call ran" in str(outcome[0])
    assert_the_space_cancelled_it(relay)
    # The relay's own threads come and go with the connections it relays.
    assert [t for t in set(threading.enumerate()) - before if t.name != "lifecycle-relay"] == []
    assert open_connections(relay) == []


def test_close_from_another_thread_ends_a_sync_stream(relay: Relay) -> None:
    client = FluxClient(relay.url)
    events = client.stream(SLOW, num_inference_steps=50)
    next(events)
    relay.wait_for(streaming, "the job's stream")
    closer, _ = run_in_thread(client.close)
    with pytest.raises(ClientClosedError):
        for _ in events:
            pass
    closer.join(LIMIT)
    assert_the_space_cancelled_it(relay)
    assert open_connections(relay) == []


def test_every_call_on_a_closed_sync_client_raises_at_once(relay: Relay) -> None:
    client = FluxClient(relay.url)
    generation = client.generate(FAST)
    client.close()
    calls: list[Callable[[], object]] = [
        lambda: client.generate(FAST),
        lambda: client.stream(FAST),
        lambda: client.generate_many([FAST]),
        lambda: client.download(generation),
        lambda: client.save(generation, "never.webp"),
    ]
    for call in calls:
        with pytest.raises(ClientClosedError):
            call()
    assert relay.cancels() == []


@pytest.mark.anyio
async def test_close_from_another_task_cancels_the_running_job(relay: Relay) -> None:
    client = AsyncFluxClient(relay.url)
    errors: list[BaseException] = []

    async def job() -> None:
        try:
            await client.generate(SLOW, num_inference_steps=50)
        except ClientClosedError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(job)
        await anyio.to_thread.run_sync(relay.wait_for, streaming, "the job's stream")
        await client.close()
    assert len(errors) == 1
    assert client.is_closed
    with pytest.raises(ClientClosedError):
        await client.generate(FAST)
    with pytest.raises(ClientClosedError):
        client.stream(FAST)
    await anyio.to_thread.run_sync(assert_the_space_cancelled_it, relay)
    assert open_connections(relay) == []


@pytest.mark.anyio
async def test_close_ends_an_async_stream_being_read(relay: Relay) -> None:
    client = AsyncFluxClient(relay.url)
    following = anyio.Event()
    ended: list[BaseException] = []

    async def follow() -> None:
        try:
            async with client.stream(SLOW, num_inference_steps=50) as events:
                async for _ in events:
                    following.set()
        except ClientClosedError as exc:
            ended.append(exc)

    async with anyio.create_task_group() as group:
        group.start_soon(follow)
        await following.wait()
        await client.close()
    assert len(ended) == 1
    await anyio.to_thread.run_sync(assert_the_space_cancelled_it, relay)


async def one_job(client: AsyncFluxClient) -> Generation:
    return await client.generate(FAST)


def test_one_async_client_across_event_loops(relay: Relay) -> None:
    client = AsyncFluxClient(relay.url)
    # Each run ends its loop; the next must not reuse that loop's connections.
    results = [
        asyncio.run(one_job(client)),
        asyncio.run(one_job(client)),
        trio.run(one_job, client),
        anyio.run(one_job, client, backend="trio"),
        asyncio.run(one_job(client)),
    ]
    assert all(isinstance(result, Generation) for result in results)
    # Every pool closed with its loop: nothing is left open though close() never ran.
    assert open_connections(relay) == []
    asyncio.run(client.close())
    with pytest.raises(ClientClosedError):
        asyncio.run(one_job(client))


def test_one_async_client_on_a_loop_per_thread(relay: Relay) -> None:
    client = AsyncFluxClient(relay.url)
    runs: list[Callable[[], object]] = [
        lambda: asyncio.run(one_job(client)),
        lambda: trio.run(one_job, client),
        lambda: asyncio.run(one_job(client)),
    ]
    workers = [run_in_thread(run) for run in runs]
    for thread, _ in workers:
        thread.join(LIMIT)
    outcomes = [outcome for _, outcome in workers]
    assert all(len(o) == 1 and isinstance(o[0], Generation) for o in outcomes), outcomes
    assert open_connections(relay) == []
    assert relay.cancels() == []


@pytest.mark.anyio
async def test_a_client_from_an_ended_loop_works_on_this_one(relay: Relay) -> None:
    # What pytest's function-scoped loops do to a client kept in a module or a fixture.
    client = AsyncFluxClient(relay.url)
    await anyio.to_thread.run_sync(lambda: asyncio.run(one_job(client)))
    async with client:
        assert isinstance(await one_job(client), Generation)
    assert open_connections(relay) == []


@pytest.mark.anyio
async def test_close_ends_a_stream_waiting_between_events(relay: Relay) -> None:
    client = AsyncFluxClient(relay.url)
    events = client.stream(SLOW, num_inference_steps=50)
    await events.__anext__()  # then nobody reads on: no call runs
    await client.close()
    await anyio.to_thread.run_sync(assert_the_space_cancelled_it, relay)
    with pytest.raises(ClientClosedError):
        await events.__anext__()
    await events.close()
    assert open_connections(relay) == []


# asyncio warns (a ResourceWarning, an error under this suite's filters) about every async
# generator first run after its shutdown_asyncgens() began, and the cancel's request runs httpx's.
# They run to their end before the pool closes, so nothing is left; the warning is asyncio's.
@pytest.mark.filterwarnings("ignore:asynchronous generator .* was scheduled after:ResourceWarning")
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_loop_that_ends_with_a_stream_left_open_cancels_its_job(
    relay: Relay, backend: str
) -> None:
    client = AsyncFluxClient(relay.url)
    kept: list[AsyncEventStream] = []  # an object of the app's that holds the stream

    async def main() -> None:
        kept.append(client.stream(SLOW, num_inference_steps=50))
        await kept[0].__anext__()  # and returns: neither the stream nor the client is closed

    if backend == "asyncio":
        asyncio.run(main())
    else:
        trio.run(main)
    assert_the_space_cancelled_it(relay)
    assert open_connections(relay) == []


def test_a_sync_stream_dropped_unfinished_cancels_its_job(relay: Relay) -> None:
    with FluxClient(relay.url) as client:
        for _ in client.stream(SLOW, num_inference_steps=50):
            break  # no ``with``: the stream is dropped here
        gc.collect()
        assert_the_space_cancelled_it(relay)


def test_a_stream_keeps_its_client_alive(relay: Relay) -> None:
    # The client is garbage as soon as stream() returns; its stream must still work.
    kinds = [type(event).__name__ for event in FluxClient(relay.url).stream(FAST)]
    assert kinds[-1] == "Completed"
    assert relay.cancels() == []


def test_close_still_works_after_a_second_ctrl_c(relay: Relay) -> None:
    client = FluxClient(relay.url)
    client.generate(FAST)
    client._skip_close_at_exit()  # pyright: ignore[reportPrivateUsage]  # what it does
    client.close()
    assert client.is_closed
    assert not [t for t in threading.enumerate() if t.name == "flux-sdk event loop"]


def test_close_from_another_loop_ends_a_stream_waiting_there(relay: Relay) -> None:
    client = AsyncFluxClient(relay.url)
    opened, gate = threading.Event(), threading.Event()
    after: list[BaseException] = []

    async def reader() -> None:
        events = client.stream(SLOW, num_inference_steps=50)
        await events.__anext__()
        opened.set()
        await anyio.to_thread.run_sync(gate.wait, abandon_on_cancel=True)
        try:
            await events.__anext__()
        except ClientClosedError as exc:
            after.append(exc)
        await events.close()

    worker, outcome = run_in_thread(lambda: trio.run(reader))
    assert opened.wait(LIMIT)
    asyncio.run(client.close())  # another loop, another thread
    assert_the_space_cancelled_it(relay)  # before close() returned
    gate.set()
    worker.join(LIMIT)
    assert outcome == [None]
    assert len(after) == 1


def test_two_closes_at_once_are_one(relay: Relay) -> None:
    client = AsyncFluxClient(relay.url)

    async def main() -> None:
        await one_job(client)
        await asyncio.gather(client.close(), client.close())

    asyncio.run(main())
    assert client.is_closed
    assert open_connections(relay) == []


@pytest.mark.parametrize("closed", [True, False], ids=["closed", "never-closed"])
def test_a_finished_loop_is_not_kept_alive_by_a_client(relay: Relay, closed: bool) -> None:
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []
    client = AsyncFluxClient(relay.url)

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await one_job(client)
        if closed:
            await client.close()

    for _ in range(3):
        if not closed or not client.is_closed:
            asyncio.run(main())
    gc.collect()
    assert [ref for ref in loops if ref() is not None] == []
