"""Jobs you hold (``submit()``) and results as they finish (``as_completed()``), on respx.

The async client's under asyncio and trio; the sync client's from several threads, with
``concurrent.futures``. A stream here is fed by the test, block by block, so that every status
is seen on its way, and nothing waits on time.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections.abc import AsyncIterator, Callable
from concurrent import futures

import anyio
import httpx
import pytest
import respx

from flux_sdk import (
    AsyncFluxClient,
    AsyncJob,
    BatchItem,
    ClientClosedError,
    Completed,
    FluxClient,
    GenerateRequest,
    Generation,
    InvalidRequestError,
    Job,
    JobCancelledError,
    JobFailedError,
    JobStatus,
    Progress,
    Queued,
    Started,
    Timeout,
)
from tests.unit._support import (
    BASE,
    QUEUE_OK,
    SSE_TYPE,
    Settable,
    blocking,
    body_of,
    event_id_of,
    mount_cancel,
    mount_config,
    mount_queue,
    requests,
    sample_request,
    sent_json,
)

LINE = QUEUE_OK[2]  # Gradio 6: estimation, process_starts, six progress steps, the result
EVENT_ID = event_id_of(LINE.post)
BLOCKS = [f"{block}\n\n".encode() for block in body_of(LINE.stream).split("\n\n") if block]
FAIL = {
    "msg": "process_completed",
    "event_id": EVENT_ID,
    "output": {"error": "no"},
    "success": False,
}


class Feed:
    """A job's event stream that sends what the test gives it, when it gives it."""

    def __init__(self) -> None:
        self.send, self._receive = anyio.create_memory_object_stream[bytes](math.inf)

    def response(self, _request: httpx.Request) -> httpx.Response:
        async def body() -> AsyncIterator[bytes]:
            with self._receive:
                async for chunk in self._receive:
                    yield chunk

        return httpx.Response(200, headers={"content-type": SSE_TYPE}, content=body())

    def close(self) -> None:
        self.send.close()
        self._receive.close()


def estimation() -> bytes:
    message = {"msg": "estimation", "event_id": EVENT_ID, "rank": 0, "queue_size": 1}
    return f"data: {json.dumps(message)}\n\n".encode()


def held(reached: Settable) -> Callable[[httpx.Request], httpx.Response]:
    """A stream that says "queued", then nothing until closed."""
    return lambda _request: blocking(estimation(), reached=reached)


# -- the async client -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_job_goes_from_submitted_to_queued_running_and_completed(
    router: respx.MockRouter,
) -> None:
    feed = Feed()
    mount_queue(router, 6, LINE.post, feed.response)
    async with AsyncFluxClient(BASE) as client:
        job = client.submit(sample_request())
        assert isinstance(job, AsyncJob)
        assert job.status() == JobStatus("submitting")
        assert not job.done()
        async with contextlib.aclosing(job.events()) as events:
            feed.send.send_nowait(BLOCKS[0])
            assert isinstance(await anext(events), Queued)
            status = job.status()
            assert status.state == "queued"
            assert status.queued is not None
            assert (status.queued.rank, status.queued.queue_size) == (0, 1)
            feed.send.send_nowait(BLOCKS[1])
            assert isinstance(await anext(events), Started)
            assert job.status() == JobStatus("running")
            feed.send.send_nowait(BLOCKS[2])
            step = await anext(events)
            assert isinstance(step, Progress)
            assert job.status() == JobStatus("running", progress=step)
            for block in BLOCKS[3:]:
                feed.send.send_nowait(block)
            generation = await job.result()
        feed.close()
        assert job.done()
        assert job.status() == JobStatus("completed", generation=generation)
        assert generation.seed == 1234
        assert job.request == sample_request()
        assert await job == generation
        replayed = [event async for event in job.events()]
        assert [type(e) for e in replayed] == [Queued, Started, *[Progress] * 6, Completed]
        assert [event async for event in job.events(replay=False)] == []


@pytest.mark.anyio
async def test_submit_checks_everything_before_any_io(router: respx.MockRouter) -> None:
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(InvalidRequestError):
            client.submit("a fox", width=100)
        with pytest.raises(InvalidRequestError, match="timeuot"):
            client.submit("a fox", timeuot=3)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
        with pytest.raises(ValueError, match="concurrency"):
            client.as_completed(["a fox"], concurrency=0)
    assert router.calls.call_count == 0


@pytest.mark.anyio
async def test_a_failed_job_raises_its_error_from_result_and_events(
    router: respx.MockRouter,
) -> None:
    mount_queue(
        router,
        6,
        LINE.post,
        lambda _r: httpx.Response(
            200, headers={"content-type": SSE_TYPE}, content=f"data: {json.dumps(FAIL)}\n\n"
        ),
    )
    async with AsyncFluxClient(BASE) as client:
        job = client.submit(sample_request())
        with pytest.raises(JobFailedError) as caught:
            await job.result()
        status = job.status()
        assert status.state == "failed"
        assert status.error is caught.value
        with pytest.raises(JobFailedError):
            async for _ in job.events():
                pass


@pytest.mark.anyio
async def test_cancel_frees_the_job_on_the_space(router: respx.MockRouter) -> None:
    reached = anyio.Event()
    space = mount_queue(router, 6, LINE.post, held(reached))
    cancel = mount_cancel(router, LINE.prefix)
    async with AsyncFluxClient(BASE) as client:
        job = client.submit(sample_request())
        await reached.wait()
        assert not space.config.called  # submitted by name: the job itself needs no /config
        assert await job.cancel() is True
        assert cancel.call_count == 1
        # /cancel alone names the endpoint by fn_index: read from /config just before it.
        assert [(r.method, r.url.path) for r in requests(router)][-2:] == [
            ("GET", "/config"),
            ("POST", "/gradio_api/cancel"),
        ]
        assert sent_json(cancel) == {
            "fn_index": 2,
            "session_hash": sent_json(space.submit)["session_hash"],
            "event_id": EVENT_ID,
        }
        assert job.status().state == "cancelled"
        with pytest.raises(JobCancelledError):
            await job.result()
        assert await job.cancel() is True  # still cancelled; nothing sent again
    assert cancel.call_count == 1
    assert space.config.call_count == 1


@pytest.mark.anyio
async def test_cancel_of_a_job_on_a_space_already_read_sends_no_second_config(
    router: respx.MockRouter,
) -> None:
    line = QUEUE_OK[0]  # Gradio 4: the guess is answered 404, so /config is read to submit
    event_id = event_id_of(line.post)
    waiting = {"msg": "estimation", "event_id": event_id, "rank": 0, "queue_size": 1}
    reached = anyio.Event()
    space = mount_queue(
        router,
        4,
        line.post,
        lambda _r: blocking(f"data: {json.dumps(waiting)}\n\n".encode(), reached=reached),
    )
    cancel = mount_cancel(router, line.prefix)
    async with AsyncFluxClient(BASE) as client:
        job = client.submit(sample_request())
        await reached.wait()
        assert await job.cancel() is True
    assert [(r.method, r.url.path) for r in requests(router)] == [
        ("POST", "/gradio_api/call/infer"),
        ("GET", "/config"),
        ("POST", "/call/infer"),
        ("GET", "/queue/data"),
        ("POST", "/cancel"),
    ]
    assert sent_json(cancel) == {
        "fn_index": 2,
        "session_hash": sent_json(space.submit)["session_hash"],
        "event_id": event_id,
    }


@pytest.mark.anyio
async def test_a_cancel_is_bounded_when_config_hangs(router: respx.MockRouter) -> None:
    reached = anyio.Event()
    space = mount_queue(router, 6, LINE.post, held(reached))
    # /config answers its head, then nothing: the cancel cannot learn its fn_index.
    space.config.mock(return_value=blocking(content_type="application/json"))
    cancel = mount_cancel(router, LINE.prefix)
    async with AsyncFluxClient(BASE, timeout=Timeout(cancel=0.2)) as client:
        job = client.submit(sample_request())
        await reached.wait()
        # Within Timeout.cancel the job ends here, cancelled, though the Space was not told.
        assert await job.cancel() is True
        assert job.status().state == "cancelled"
        with pytest.raises(JobCancelledError):
            await job.result()
    assert space.config.call_count == 1
    assert not cancel.called


@pytest.mark.anyio
async def test_cancel_after_the_result_changes_nothing(router: respx.MockRouter) -> None:
    mount_queue(router, 6, LINE.post, LINE.stream)
    cancel = mount_cancel(router, LINE.prefix)
    async with AsyncFluxClient(BASE) as client:
        job = client.submit(sample_request())
        generation = await job.result()
        assert await job.cancel() is False
        assert await job.result() == generation
    assert not cancel.called


@pytest.mark.anyio
async def test_a_job_cancelled_before_it_was_sent_is_never_sent(
    router: respx.MockRouter,
) -> None:
    space = mount_queue(router, 6, LINE.post, LINE.stream)
    async with AsyncFluxClient(BASE) as client:
        job = client.submit(sample_request())
        assert await job.cancel() is True
    assert not space.submit.called
    assert not space.config.called


@pytest.mark.anyio
async def test_result_with_a_timeout_leaves_the_job_running(router: respx.MockRouter) -> None:
    reached = anyio.Event()
    mount_queue(router, 6, LINE.post, held(reached))
    mount_cancel(router, LINE.prefix)
    async with AsyncFluxClient(BASE) as client:
        job = client.submit(sample_request())
        await reached.wait()
        with pytest.raises(TimeoutError):
            await job.result(timeout=0)
        assert job.status().state == "queued"
        assert await job.cancel() is True


@pytest.mark.anyio
async def test_close_cancels_the_submitted_jobs(router: respx.MockRouter) -> None:
    reached = anyio.Event()
    mount_queue(router, 6, LINE.post, held(reached))
    cancel = mount_cancel(router, LINE.prefix)
    client = AsyncFluxClient(BASE)
    running = client.submit(sample_request())
    await reached.wait()
    unsent = client.submit(sample_request())  # its task has not started yet
    await client.close()
    for job in (running, unsent):
        assert job.done()
        assert job.status().state == "cancelled"
        with pytest.raises(ClientClosedError):
            await job.result()
    assert cancel.call_count == 1
    with pytest.raises(ClientClosedError):
        client.submit(sample_request())
    with pytest.raises(ClientClosedError):
        client.as_completed(["a fox"])


@pytest.mark.anyio
async def test_a_job_from_with_options_runs_with_its_settings(router: respx.MockRouter) -> None:
    space = mount_queue(router, 6, LINE.post, LINE.stream)
    async with AsyncFluxClient(BASE) as client:
        await client.with_options(protocol="queue").submit(sample_request(), seed=5)
    assert sent_json(space.submit)["data"] == ["a red fox in snow", 5, False, 512, 768, 6]


# -- as_completed -----------------------------------------------------------------------------


def _completed(session: str, seed: int) -> str:
    image = {"path": "/tmp/x.webp", "url": f"{BASE}/gradio_api/file=/tmp/x.webp"}
    message = {
        "msg": "process_completed",
        "event_id": session,
        "output": {"data": [image, seed]},
        "success": True,
    }
    return f"data: {json.dumps(message)}\n\ndata: {json.dumps({'msg': 'close_stream'})}\n\n"


class PerPrompt:
    """A Space where prompt "N" gives seed N, "fail" fails, and "hold" waits for `release`.

    ``release`` is a `threading.Event` or an `anyio.Event`: waited for on the loop that runs
    the client (the test's own, or the sync client's thread).
    """

    def __init__(self, router: respx.MockRouter, release: threading.Event | anyio.Event) -> None:
        self.release = release
        self.sessions: dict[str, str] = {}
        self.bodies: list[dict[str, object]] = []
        self.streaming = 0
        self.most = 0
        self.config = mount_config(router, 6)
        router.post("/gradio_api/call/infer").mock(side_effect=self._submit)
        router.get("/gradio_api/queue/data").mock(side_effect=self._data)
        self.cancel = mount_cancel(router, "/gradio_api")

    def _submit(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        self.sessions[body["session_hash"]] = body["data"][0]
        return httpx.Response(200, json={"event_id": body["session_hash"]})

    def _data(self, request: httpx.Request) -> httpx.Response:
        session = request.url.params["session_hash"]
        prompt = self.sessions[session]

        async def body() -> AsyncIterator[bytes]:
            self.streaming += 1
            self.most = max(self.most, self.streaming)
            try:
                if prompt == "hold":
                    if isinstance(self.release, threading.Event):
                        await anyio.to_thread.run_sync(self.release.wait, abandon_on_cancel=True)
                    else:
                        await self.release.wait()
                if prompt == "fail":
                    failed = {**FAIL, "event_id": session, "success": False}
                    yield f"data: {json.dumps(failed)}\n\n".encode()
                else:
                    yield _completed(session, int(prompt) if prompt.isdigit() else 0).encode()
            finally:
                self.streaming -= 1

        return httpx.Response(200, headers={"content-type": SSE_TYPE}, content=body())


@pytest.mark.anyio
async def test_as_completed_yields_in_finishing_order_with_index_and_prompt(
    router: respx.MockRouter,
) -> None:
    release = anyio.Event()
    space = PerPrompt(router, release)
    prompts: list[str | GenerateRequest] = ["hold", "1", "fail", "", GenerateRequest(prompt="4")]
    items: list[BatchItem] = []
    async with AsyncFluxClient(BASE) as client:
        async for item in client.as_completed(prompts, concurrency=2):
            items.append(item)
            if len(items) == 4:
                release.set()  # the held job ends last
    assert [item.index for item in items] == [3, 1, 2, 4, 0]
    assert [item.prompt for item in items] == [prompts[i] for i in (3, 1, 2, 4, 0)]
    kinds = [type(item.result) for item in items]
    assert kinds == [InvalidRequestError, Generation, JobFailedError, Generation, Generation]
    assert [item.result.seed for item in items if isinstance(item.result, Generation)] == [1, 4, 0]
    assert space.most == 2
    assert not space.cancel.called
    # Each job by name, in a session of its own; nothing needed /config.
    assert [sorted(body) for body in space.bodies] == [["data", "session_hash"]] * 4
    assert len(space.sessions) == 4
    assert not space.config.called


@pytest.mark.anyio
async def test_leaving_as_completed_early_cancels_the_rest_on_the_space(
    router: respx.MockRouter,
) -> None:
    space = PerPrompt(router, anyio.Event())
    async with AsyncFluxClient(BASE) as client:
        batch = client.as_completed(["hold", "hold", "3"], concurrency=3)
        async with contextlib.aclosing(batch) as items:
            async for item in items:
                assert item.index == 2
                break
        # Every hold the Space accepted is cancelled there; one not sent yet is never sent.
        accepted = sum(1 for prompt in space.sessions.values() if prompt == "hold")
        assert space.cancel.call_count == accepted
        assert space.streaming == 0
        # The cancels' fn_index: /config read once for all of them, not once each.
        assert space.config.call_count == (1 if accepted else 0)
        cancels = [r for r in requests(router) if r.url.path == "/gradio_api/cancel"]
        assert [json.loads(r.content)["fn_index"] for r in cancels] == [2] * accepted


@pytest.mark.anyio
async def test_closing_the_client_ends_as_completed(router: respx.MockRouter) -> None:
    PerPrompt(router, anyio.Event())
    seen: list[int] = []
    async with AsyncFluxClient(BASE) as client:

        async def read() -> None:
            async for item in client.as_completed(["1", "hold"]):
                seen.append(item.index)
                await client.close()

        with pytest.raises(ClientClosedError):
            await read()
    assert seen == [0]


# -- the sync client ------------------------------------------------------------------------


def test_a_sync_job_is_a_future(router: respx.MockRouter) -> None:
    space = PerPrompt(router, threading.Event())
    callbacks: list[futures.Future[Generation]] = []
    with FluxClient(BASE) as client:
        jobs = [client.submit(str(seed)) for seed in (1, 2, 3)]
        assert all(isinstance(job, Job) for job in jobs)
        jobs[0].add_done_callback(callbacks.append)
        done, not_done = futures.wait(jobs)
        assert (len(done), not_done) == (3, set())
        seeds = {job.result().seed for job in futures.as_completed(jobs)}
    assert seeds == {1, 2, 3}
    assert callbacks == [jobs[0]]
    assert [job.status().state for job in jobs] == ["completed"] * 3
    assert len(space.sessions) == 3


def test_sync_result_with_a_timeout_then_cancel_from_another_thread(
    router: respx.MockRouter,
) -> None:
    reached = threading.Event()
    space = mount_queue(router, 6, LINE.post, held(reached))
    cancel = mount_cancel(router, LINE.prefix)
    with FluxClient(BASE) as client:
        job = client.submit(sample_request())
        assert reached.wait(30)
        with pytest.raises(futures.TimeoutError):
            job.result(timeout=0)
        assert job.running()
        cancelled: list[bool] = []
        worker = threading.Thread(target=lambda: cancelled.append(job.cancel()))
        worker.start()
        with pytest.raises(JobCancelledError):
            job.result()
        worker.join(30)
        assert cancelled == [True]
        assert job.status().state == "cancelled"
        assert cancel.call_count == 1
        assert sent_json(cancel)["session_hash"] == sent_json(space.submit)["session_hash"]
        replayed: list[type] = []
        with pytest.raises(JobCancelledError):
            replayed.extend(type(event) for event in job.events())
        assert replayed == [Queued]
    assert cancel.call_count == 1


def test_sync_events_from_several_threads(router: respx.MockRouter) -> None:
    mount_queue(router, 6, LINE.post, LINE.stream)
    with FluxClient(BASE) as client:
        job = client.submit(sample_request())
        seen: list[list[type]] = []
        readers = [
            threading.Thread(target=lambda: seen.append([type(e) for e in job.events()]))
            for _ in range(3)
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join(30)
        assert job.result().seed == 1234
    assert seen == [[Queued, Started, *[Progress] * 6, Completed]] * 3


def test_close_cancels_sync_jobs_and_leaves_no_thread(router: respx.MockRouter) -> None:
    before = set(threading.enumerate())
    reached = threading.Event()
    mount_queue(router, 6, LINE.post, held(reached))
    cancel = mount_cancel(router, LINE.prefix)
    client = FluxClient(BASE)
    job = client.submit(sample_request())
    assert reached.wait(30)
    client.close()
    assert job.done()
    assert job.status().state == "cancelled"
    with pytest.raises(ClientClosedError):
        job.result()
    with pytest.raises(ClientClosedError):
        list(job.events())
    assert cancel.call_count == 1
    with pytest.raises(ClientClosedError):
        client.submit(sample_request())
    assert set(threading.enumerate()) - before == set()


def test_a_finished_job_keeps_its_result_after_close(router: respx.MockRouter) -> None:
    mount_queue(router, 6, LINE.post, LINE.stream)
    with FluxClient(BASE) as client:
        generation = client.submit(sample_request()).result()
        job = client.submit(sample_request())
        job.result()
    assert job.result() == generation.model_copy(update={"seed": job.result().seed})


def test_a_ctrl_c_while_waiting_for_the_result_cancels_the_job(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached = threading.Event()
    mount_queue(router, 6, LINE.post, held(reached))
    cancel = mount_cancel(router, LINE.prefix)

    with FluxClient(BASE) as client:
        job = client.submit(sample_request())
        assert reached.wait(30)
        wait: Callable[[futures.Future[Generation], float | None], Generation]
        wait = futures.Future[Generation].result

        def interrupted(self: futures.Future[Generation], timeout: float | None = None) -> object:
            # A Ctrl-C in the handle's own wait, and in no other future's (the portal's).
            if self is job:
                raise KeyboardInterrupt
            return wait(self, timeout)

        with monkeypatch.context() as patched:
            patched.setattr(futures.Future, "result", interrupted)
            with pytest.raises(KeyboardInterrupt):
                job.result()
        assert job.status().state == "cancelled"
        assert cancel.call_count == 1


def test_submit_from_a_done_callback(router: respx.MockRouter) -> None:
    PerPrompt(router, threading.Event())
    follow_up: list[Job] = []
    with FluxClient(BASE) as client:
        first = client.submit("1")
        first.add_done_callback(lambda _: follow_up.append(client.submit("2")))
        first.result()
        # The callback ran on the loop thread, before the future's waiters were woken.
        assert follow_up[0].result().seed == 2


def test_sync_as_completed_in_finishing_order_and_early_exit(router: respx.MockRouter) -> None:
    release = threading.Event()
    space = PerPrompt(router, release)
    with FluxClient(BASE) as client:
        items = client.as_completed(["hold", "1", "", "fail"], concurrency=4)
        first = [next(items), next(items), next(items)]
        assert first[0].index == 2
        assert isinstance(first[0].result, InvalidRequestError)
        assert {item.index for item in first[1:]} == {1, 3}
        items.close()  # what leaving a for loop early does
        assert space.cancel.call_count == 1
        release.set()
        everything = list(client.as_completed(["hold", "5"], concurrency=1))
    assert [(item.index, item.prompt) for item in everything] == [(0, "hold"), (1, "5")]


def test_sync_as_completed_checks_before_any_io(router: respx.MockRouter) -> None:
    with FluxClient(BASE) as client:
        with pytest.raises(ValueError, match="concurrency"):
            client.as_completed(["a fox"], concurrency=1.5)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
        with pytest.raises(TypeError, match="as_completed"):
            client.as_completed(["a fox"], protocl="call")  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]
    assert router.calls.call_count == 0


def test_async_submit_needs_a_running_event_loop(router: respx.MockRouter) -> None:
    client = AsyncFluxClient(BASE)
    with pytest.raises(RuntimeError, match="running event loop"):
        client.submit("a fox")
    assert router.calls.call_count == 0
