"""Leaving a job early, cancelling it, and time limits (README §4.4, §10.4-§10.5)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

import anyio
import httpx
import pytest
import respx

from flux_sdk import (
    AsyncEventStream,
    AsyncFluxClient,
    Completed,
    Event,
    FluxTimeoutError,
    Queued,
    Started,
    Timeout,
)
from flux_sdk._protocol import GUESSED_PREFIX
from tests.unit._support import (
    BASE,
    CALL_OK,
    QUEUE_OK,
    Line,
    Mounted,
    blocking,
    edited_config,
    event_id_of,
    mount_call,
    mount_cancel,
    mount_config,
    mount_queue,
    resource_warnings,
    sample_request,
    sent_json,
    wire,
)

pytestmark = pytest.mark.anyio

QUICK = Timeout(idle=0.1, cancel=0.5)
# For tests that cancel on their own: an idle timeout must not beat them to it on a busy machine.
PATIENT = Timeout(idle=30, cancel=0.5)


async def follow(stream: AsyncEventStream, into: list[Event]) -> None:
    async with stream:
        async for event in stream:
            into.append(event)


def estimation(event_id: str) -> bytes:
    message = {"msg": "estimation", "event_id": event_id, "rank": 0, "queue_size": 1}
    return f"data: {json.dumps(message)}\n\n".encode()


@dataclass(frozen=True)
class Held:
    """A Gradio 6 job whose stream sends one event, then nothing (until closed)."""

    protocol: Literal["queue", "call"]
    line: Line
    space: Mounted
    stream: str
    reached: anyio.Event


def mount_held(router: respx.MockRouter, protocol: Literal["queue", "call"]) -> Held:
    reached = anyio.Event()
    if protocol == "queue":
        line = QUEUE_OK[2]
        first = estimation(event_id_of(line.post))
        space = mount_queue(router, 6, line.post, lambda _r: blocking(first, reached=reached))
        stream = "/gradio_api/queue/data"
    else:
        line = CALL_OK[2]
        heartbeat = b"event: heartbeat\ndata: null\n\n"
        space = mount_call(router, 6, line.post, lambda _r: blocking(heartbeat, reached=reached))
        stream = f"/gradio_api/call/infer/{event_id_of(line.post)}"
    return Held(protocol, line, space, stream, reached)


async def leave_when_reached(
    client: AsyncFluxClient, protocol: Literal["queue", "call"], reached: anyio.Event
) -> None:
    """Run a job in a task, and cancel that task once its stream has sent something."""
    async with anyio.create_task_group() as group:

        async def run() -> None:
            await client.generate(sample_request(), protocol=protocol)

        group.start_soon(run)
        await reached.wait()
        group.cancel_scope.cancel()


def cancelled_wire(prefix: str, stream: str) -> list[str]:
    """A cold job left early: /config read once, after the guess's 404 (Gradio 4) or for the
    cancel's fn_index (Gradio 5 and 6, just before it)."""
    job = [f"POST {prefix}/call/infer", f"GET {stream}"]
    if prefix == GUESSED_PREFIX:
        return [*job, "GET /config", f"POST {prefix}/cancel"]
    return [f"POST {GUESSED_PREFIX}/call/infer", "GET /config", *job, f"POST {prefix}/cancel"]


@pytest.mark.parametrize("line", QUEUE_OK, ids=lambda line: f"g{line.version}")
async def test_leaving_a_queue_stream_early_cancels_the_job(
    router: respx.MockRouter, line: Line
) -> None:
    space = mount_queue(router, line.version, line.post, line.stream)
    cancel = mount_cancel(router, line.prefix)
    first: Event | None = None
    with resource_warnings() as leaks:
        async with AsyncFluxClient(BASE) as client:
            async with client.stream(sample_request()) as events:
                async for event in events:
                    first = event
                    break
            assert cancel.call_count == 1
    assert isinstance(first, Queued)
    assert cancel.calls.last.request.url.path == f"{line.prefix}/cancel"
    assert sent_json(cancel) == {
        "fn_index": 2,
        "session_hash": sent_json(space.submit)["session_hash"],
        "event_id": event_id_of(line.post),
    }
    assert space.config.call_count == 1
    assert wire(router) == cancelled_wire(line.prefix, f"{line.prefix}/queue/data")
    assert [str(w.message) for w in leaks] == []


@pytest.mark.parametrize("protocol", ["queue", "call"])
async def test_a_cancel_takes_its_fn_index_from_config(
    router: respx.MockRouter, protocol: Literal["queue", "call"]
) -> None:
    # A job submitted by name, its Space never read: the cancel reads /config, whatever it says.
    held = mount_held(router, protocol)
    held.space.config.mock(side_effect=None, return_value=edited_config(6, infer_id=7))
    cancel = mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE, timeout=PATIENT) as client:
        await leave_when_reached(client, held.protocol, held.reached)
    assert wire(router) == cancelled_wire("/gradio_api", held.stream)
    event_id = event_id_of(held.line.post)
    session_hash = sent_json(held.space.submit).get("session_hash", event_id)
    assert sent_json(cancel) == {"fn_index": 7, "session_hash": session_hash, "event_id": event_id}


async def test_a_job_after_the_cancel_reads_no_config(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    space = mount_queue(router, 6, line.post, line.stream)
    mount_cancel(router, line.prefix)
    async with AsyncFluxClient(BASE) as client:
        async with client.stream(sample_request()) as events:
            async for _ in events:
                break
        async with client.stream(sample_request()) as events:
            async for _ in events:
                break
    # Read for the first cancel, kept for the second.
    assert space.config.call_count == 1
    assert wire(router).count("POST /gradio_api/cancel") == 2


@pytest.mark.parametrize("protocol", ["queue", "call"])
async def test_a_cancel_is_bounded_when_config_hangs(
    router: respx.MockRouter, protocol: Literal["queue", "call"]
) -> None:
    config_asked = anyio.Event()

    async def never_answers(_request: httpx.Request) -> httpx.Response:
        config_asked.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    held = mount_held(router, protocol)
    held.space.config.mock(side_effect=never_answers)
    cancel = mount_cancel(router, "/gradio_api")
    with resource_warnings() as leaks:
        async with AsyncFluxClient(BASE, timeout=Timeout(idle=30, cancel=0.2)) as client:
            await leave_when_reached(client, held.protocol, held.reached)
    # The job was left (its task ended): the cancel gave up on /config within Timeout.cancel
    # rather than wait for it, and sent no cancel it could not name.
    assert config_asked.is_set()
    assert not cancel.called
    assert [str(w.message) for w in leaks] == []


async def test_leaving_after_the_result_sends_no_cancel(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    cancel = mount_cancel(router, line.prefix)
    async with AsyncFluxClient(BASE) as client, client.stream(sample_request()) as events:
        async for event in events:
            if isinstance(event, Completed):
                break
    assert not cancel.called


async def test_closing_a_stream_explicitly_cancels(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    cancel = mount_cancel(router, line.prefix)
    async with AsyncFluxClient(BASE) as client:
        events = client.stream(sample_request())
        assert isinstance(await events.__anext__(), Queued)
        assert isinstance(await events.__anext__(), Started)
        await events.close()
        assert cancel.call_count == 1
        await events.close()
    assert cancel.call_count == 1


@pytest.mark.parametrize("line", CALL_OK, ids=lambda line: f"g{line.version}")
async def test_cancelling_a_call_job_uses_the_event_id_as_session(
    router: respx.MockRouter, line: Line
) -> None:
    reached = anyio.Event()
    space = mount_call(
        router,
        line.version,
        line.post,
        lambda _r: blocking(b"event: heartbeat\ndata: null\n\n", reached=reached),
    )
    cancel = mount_cancel(router, line.prefix)
    with resource_warnings() as leaks:
        async with AsyncFluxClient(BASE, protocol="call", timeout=PATIENT) as client:
            await leave_when_reached(client, "call", reached)
    event_id = event_id_of(line.post)
    assert space.stream.call_count == 1
    assert cancel.call_count == 1
    assert cancel.calls.last.request.url.path == f"{line.prefix}/cancel"
    assert sent_json(cancel) == {"fn_index": 2, "session_hash": event_id, "event_id": event_id}
    assert space.config.call_count == 1
    assert wire(router) == cancelled_wire(line.prefix, f"{line.prefix}/call/infer/{event_id}")
    assert [str(w.message) for w in leaks] == []


async def test_cancelling_a_queue_job_from_outside(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    reached = anyio.Event()
    space = mount_queue(
        router,
        6,
        line.post,
        lambda _r: blocking(estimation(event_id_of(line.post)), reached=reached),
    )
    cancel = mount_cancel(router, line.prefix)
    async with AsyncFluxClient(BASE, timeout=PATIENT) as client:
        with anyio.CancelScope() as scope:

            async def cancel_when_reached() -> None:
                await reached.wait()
                scope.cancel()

            async with anyio.create_task_group() as group:
                group.start_soon(cancel_when_reached)
                await client.generate(sample_request())
    assert scope.cancelled_caught
    assert sent_json(cancel)["session_hash"] == sent_json(space.submit)["session_hash"]
    assert sent_json(cancel)["event_id"] == event_id_of(line.post)


async def test_cancel_failure_is_not_raised(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    cancel = router.post("/gradio_api/cancel").mock(side_effect=httpx.ConnectError("refused"))
    async with AsyncFluxClient(BASE) as client, client.stream(sample_request()) as events:
        async for _ in events:
            break
    assert cancel.call_count == 1


# -- time limits ------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["queue", "call"])
async def test_idle_timeout(router: respx.MockRouter, protocol: str) -> None:
    if protocol == "queue":
        line = QUEUE_OK[2]
        space = mount_queue(
            router, 6, line.post, lambda _r: blocking(estimation(event_id_of(line.post)))
        )
    else:
        line = CALL_OK[2]
        space = mount_call(
            router, 6, line.post, lambda _r: blocking(b"event: heartbeat\ndata: null\n\n")
        )
    cancel = mount_cancel(router, "/gradio_api")
    events: list[Event] = []
    with resource_warnings() as leaks:
        async with AsyncFluxClient(BASE, timeout=QUICK) as client:
            stream = client.stream(
                sample_request(), protocol="queue" if protocol == "queue" else "call"
            )
            with pytest.raises(FluxTimeoutError) as caught:
                await follow(stream, events)
    assert caught.value.phase == "idle"
    assert caught.value.seconds == 0.1
    assert events == ([Queued(rank=0, queue_size=1)] if protocol == "queue" else [])
    assert space.stream.call_count == 1
    # the abandoned job is cancelled on the Space
    assert cancel.call_count == 1
    assert sent_json(cancel)["event_id"] == event_id_of(line.post)
    assert [str(w.message) for w in leaks] == []


async def test_idle_timeout_per_call_overrides_the_client(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, lambda _r: blocking(estimation(event_id_of(line.post))))
    mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(FluxTimeoutError) as caught:
            await client.generate(sample_request(), timeout=Timeout(idle=0.05, cancel=0.5))
    assert caught.value.phase == "idle"
    assert caught.value.seconds == 0.05


@pytest.mark.parametrize("protocol", ["queue", "call"])
async def test_total_timeout(router: respx.MockRouter, protocol: str) -> None:
    if protocol == "queue":
        line = QUEUE_OK[2]
        mount_queue(router, 6, line.post, lambda _r: blocking(estimation(event_id_of(line.post))))
    else:
        line = CALL_OK[2]
        mount_call(router, 6, line.post, lambda _r: blocking())
    cancel = mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE, timeout=Timeout(idle=60, total=0.5, cancel=0.5)) as client:
        with pytest.raises(FluxTimeoutError) as caught:
            await client.generate(
                sample_request(), protocol="queue" if protocol == "queue" else "call"
            )
    assert caught.value.phase == "total"
    assert cancel.call_count == 1


async def test_total_timeout_while_submitting(router: respx.MockRouter) -> None:
    config = mount_config(router, 6)
    joining = anyio.Event()

    async def never_answers(_request: httpx.Request) -> httpx.Response:
        joining.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    router.post("/gradio_api/call/infer").mock(side_effect=never_answers)
    cancel = mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE, timeout=Timeout(total=0.3)) as client:
        with pytest.raises(FluxTimeoutError) as caught:
            await client.generate(sample_request())
    assert caught.value.phase == "total"
    assert joining.is_set()
    # no event_id yet: nothing to cancel, so no /config to read for one
    assert not cancel.called
    assert not config.called


async def test_total_timeout_reports_the_configured_limit(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, lambda _r: blocking(estimation(event_id_of(line.post))))
    mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE, timeout=Timeout(total=0.2, cancel=0.5)) as client:
        with pytest.raises(FluxTimeoutError) as caught:
            await client.generate(sample_request())
    assert caught.value.phase == "total"
    assert caught.value.seconds == 0.2
    assert str(caught.value) == "total timeout after 0.2 s"
