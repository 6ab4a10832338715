"""The SDK against real Gradio 4, 5 and 6 servers running the Space's replica."""

from __future__ import annotations

import datetime
import threading
from pathlib import Path

import anyio
import psutil
import pytest

from flux_sdk import (
    AsyncFluxClient,
    Completed,
    Event,
    FluxClient,
    GPUUnavailableError,
    JobFailedError,
    Log,
    Progress,
    ProtocolName,
    Queued,
    QuotaExceededError,
    Started,
)

from .conftest import Server

pytestmark = pytest.mark.anyio

PROTOCOLS: list[ProtocolName] = ["queue", "call"]
WEBP_MAGIC = b"WEBP"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_generate_returns_the_image_and_seed(server: Server, protocol: ProtocolName) -> None:
    async with AsyncFluxClient(server.url, protocol=protocol) as client:
        image = await client.generate(
            "a red fox in fresh snow", width=768, height=512, seed=7, randomize_seed=False
        )
        data = await client.download(image)
    assert image.seed == 7
    assert image.url.startswith(server.url)
    assert image.path.endswith(".webp")
    assert image.request.width == 768
    assert data[8:12] == WEBP_MAGIC


async def test_randomized_seed_is_the_one_the_space_used(server: Server) -> None:
    async with AsyncFluxClient(server.url) as client:
        first = await client.generate("a fox", randomize_seed=True)
        again = await client.generate("a fox", seed=first.seed, randomize_seed=False)
        assert await client.download(first) == await client.download(again)


async def test_queue_stream_reports_queue_progress_and_result(server: Server) -> None:
    async with AsyncFluxClient(server.url) as client:
        events: list[Event] = []
        async with client.stream("[slow] a lighthouse at dusk", num_inference_steps=3) as stream:
            async for event in stream:
                events.append(event)
    kinds = [type(event) for event in events]
    assert kinds[0] is Queued
    assert Started in kinds
    progress = [event for event in events if isinstance(event, Progress)]
    assert progress, kinds
    assert {event.total for event in progress} == {3}
    assert isinstance(events[-1], Completed)


async def test_zerogpu_notices_arrive_as_log_events(server: Server) -> None:
    async with (
        AsyncFluxClient(server.url, protocol="queue") as client,
        client.stream("[info] a fox") as stream,
    ):
        events = [event async for event in stream]
    logs = [event for event in events if isinstance(event, Log)]
    assert [log.message for log in logs][:1] == ["Waiting for a GPU to become available"]
    assert {log.level for log in logs} >= {"info", "warning"}
    assert isinstance(events[-1], Completed)


async def test_app_error_text_arrives_on_the_queue_protocol(server: Server) -> None:
    async with AsyncFluxClient(server.url, protocol="queue") as client:
        with pytest.raises(JobFailedError) as caught:
            await client.generate("[error] the model is on fire")
    assert caught.value.message == "the model is on fire"


async def test_app_error_on_call_protocol_keeps_what_the_space_sends(server: Server) -> None:
    async with AsyncFluxClient(server.url, protocol="call") as client:
        with pytest.raises(JobFailedError) as caught:
            await client.generate("[error] the model is on fire")
    expected = "the model is on fire" if server.call_has_error_text else None
    assert caught.value.message == expected


async def test_quota_error_is_typed_with_retry_after(server: Server) -> None:
    async with AsyncFluxClient(server.url) as client:
        with pytest.raises(QuotaExceededError) as caught:
            await client.generate("[quota] a fox")
    assert caught.value.retry_after == datetime.timedelta(minutes=6, seconds=53)
    assert caught.value.message is not None
    assert caught.value.message.startswith("You have exceeded your free ZeroGPU quota")


async def test_gpu_timeout_is_typed_and_html_is_stripped(server: Server) -> None:
    async with AsyncFluxClient(server.url) as client:
        with pytest.raises(GPUUnavailableError) as caught:
            await client.generate("[gpu] a fox")
    assert caught.value.message is not None
    assert "<a" not in caught.value.message
    assert caught.value.raw is not None
    assert "<a" in caught.value.raw


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_hidden_exception_is_job_failed_without_message(
    server: Server, protocol: ProtocolName
) -> None:
    async with AsyncFluxClient(server.url, protocol=protocol) as client:
        with pytest.raises(JobFailedError) as caught:
            await client.generate("[crash] a fox")
    assert caught.value.message is None


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_leaving_a_stream_cancels_the_job(server: Server, protocol: ProtocolName) -> None:
    async with AsyncFluxClient(server.url, protocol=protocol) as client:
        async with client.stream("[slow] a long job", num_inference_steps=8) as stream:
            async for event in stream:
                if isinstance(event, Started | Progress):
                    break
        # The single worker is free again: a new job completes.
        image = await client.generate("after the cancel")
    assert image.request.prompt == "after the cancel"


async def test_cancelling_the_task_cancels_the_job(server: Server) -> None:
    async with AsyncFluxClient(server.url) as client:
        async with anyio.create_task_group() as group:
            started = anyio.Event()

            async def watch() -> None:
                async with client.stream("[slow] watched", num_inference_steps=8) as stream:
                    async for event in stream:
                        if isinstance(event, Started):
                            started.set()

            group.start_soon(watch)
            await started.wait()
            group.cancel_scope.cancel()
        image = await client.generate("after the cancelled task")
    assert image.seed >= 0


async def test_concurrent_jobs_queue_and_all_complete(server: Server) -> None:
    results: dict[int, int] = {}
    ranks: list[int] = []
    async with AsyncFluxClient(server.url) as client:

        async def job(index: int) -> None:
            async with client.stream(
                f"[slow] job {index}", seed=index, randomize_seed=False, num_inference_steps=2
            ) as stream:
                async for event in stream:
                    if isinstance(event, Queued) and event.rank is not None:
                        ranks.append(event.rank)
                    if isinstance(event, Completed):
                        results[index] = event.generation.seed

        async with anyio.create_task_group() as group:
            for index in range(4):
                group.start_soon(job, index)
    assert results == {index: index for index in range(4)}
    assert max(ranks) >= 1


def test_sync_client_generates_streams_and_saves(server: Server, tmp_path: Path) -> None:
    with FluxClient(server.url) as client:
        image = client.generate("a sync fox", seed=3, randomize_seed=False)
        target = client.save(image, tmp_path / "fox.webp")
        with client.stream("a streamed fox") as stream:
            events = list(stream)
    assert image.seed == 3
    assert target == tmp_path / "fox.webp"
    assert target.read_bytes()[8:12] == WEBP_MAGIC
    assert list(tmp_path.iterdir()) == [target]
    assert isinstance(events[-1], Completed)


def test_sync_client_raises_typed_errors(server: Server) -> None:
    with FluxClient(server.url) as client, pytest.raises(QuotaExceededError):
        client.generate("[quota] a fox")


def test_sync_stream_left_early_cancels(server: Server) -> None:
    with FluxClient(server.url) as client:
        with client.stream("[slow] a long sync job", num_inference_steps=8) as stream:
            first = next(stream)
        assert isinstance(first, Queued)
        assert client.generate("after").request.prompt == "after"


async def test_sync_client_works_inside_a_running_event_loop(server: Server) -> None:
    # As in Jupyter: the caller's thread already runs a loop; the client brings its own.
    with FluxClient(server.url) as client:
        image = client.generate("from inside a loop")
    assert image.url.startswith(server.url)


def _connections_to(server: Server) -> list[str]:
    port = int(server.url.rsplit(":", 1)[1])
    return [
        f"{conn.laddr} -> {conn.raddr}"
        for conn in psutil.Process().net_connections(kind="tcp")
        if conn.raddr and conn.raddr.port == port and conn.status == psutil.CONN_ESTABLISHED
    ]


def test_sync_close_leaves_no_thread_or_connection(server: Server) -> None:
    threads_before = set(threading.enumerate())
    client = FluxClient(server.url)
    client.generate("a fox")
    with client.stream("[slow] abandoned", num_inference_steps=8) as stream:
        next(stream)
    assert _connections_to(server)
    client.close()
    assert set(threading.enumerate()) <= threads_before
    assert _connections_to(server) == []


async def test_async_close_leaves_no_task_or_connection(server: Server) -> None:
    tasks_before = len(anyio.get_running_tasks())
    async with AsyncFluxClient(server.url) as client:
        await client.generate("a fox")
        async with client.stream("[slow] abandoned", num_inference_steps=8) as stream:
            await stream.__anext__()
        assert _connections_to(server)
    assert len(anyio.get_running_tasks()) == tasks_before
    assert _connections_to(server) == []
