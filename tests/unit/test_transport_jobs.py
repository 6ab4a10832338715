"""The real `AsyncFluxClient` against replayed Gradio 4/5/6 exchanges (respx), asyncio and trio."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Literal, cast

import anyio
import httpx
import pytest
import respx

from flux_sdk import (
    AsyncFluxClient,
    Completed,
    EndpointNotFoundError,
    Event,
    FluxTimeoutError,
    GenerateRequest,
    InputRejectedError,
    InvalidRequestError,
    JobCancelledError,
    JobFailedError,
    Log,
    Progress,
    ProtocolError,
    Queued,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    Started,
    Timeout,
    __version__,
)
from flux_sdk._protocol import GUESSED_PREFIX
from tests.unit._support import (
    BASE,
    CALL_OK,
    PREFIX,
    QUEUE_OK,
    Line,
    Mounted,
    body_of,
    chunked,
    edited_config,
    event_id_of,
    mount_call,
    mount_cancel,
    mount_config,
    mount_guess,
    mount_queue,
    output_of,
    replay,
    requests,
    resource_warnings,
    sample_request,
    sent_json,
    serve,
    stream_of,
    wire,
)

pytestmark = pytest.mark.anyio


async def collect(client: AsyncFluxClient) -> list[Event]:
    async with client.stream(sample_request()) as events:
        return [event async for event in events]


async def events_of(client: AsyncFluxClient, protocol: str) -> list[Event]:
    events: list[Event] = []
    async with client.stream(
        sample_request(), protocol="call" if protocol == "call" else "queue"
    ) as it:
        async for event in it:
            events.append(event)
    return events


# -- success ----------------------------------------------------------------------------------


@pytest.mark.parametrize("line", QUEUE_OK, ids=lambda line: f"g{line.version}")
async def test_queue_success(router: respx.MockRouter, line: Line) -> None:
    space = mount_queue(router, line.version, line.post, line.stream)
    async with AsyncFluxClient(BASE) as client:
        events = await events_of(client, "queue")

    output = output_of(line.stream)
    completed = events[-1]
    assert isinstance(completed, Completed)
    assert completed.generation.url == output.url
    assert completed.generation.path == output.path
    assert completed.generation.seed == output.seed == 1234
    assert completed.generation.request == sample_request()
    assert isinstance(events[0], Queued)
    assert isinstance(events[1], Started)
    progress = [e for e in events if isinstance(e, Progress)]
    assert [p.step for p in progress] == list(range(len(progress)))
    assert {p.total for p in progress} == {len(progress)}
    assert len(events) == 3 + len(progress)

    # By name in our session: no fn_index, so no GET /config was needed to send it.
    body = sent_json(space.submit)
    assert set(body) == {"data", "session_hash"}
    assert body["data"] == ["a red fox in snow", 1234, False, 512, 768, 6]
    session_hash = body["session_hash"]
    assert isinstance(session_hash, str)
    assert session_hash
    assert space.submit.calls.last.request.url.path == f"{line.prefix}/call/infer"
    stream_url = space.stream.calls.last.request.url
    assert stream_url.params["session_hash"] == session_hash
    assert stream_url.path == f"{line.prefix}/queue/data"


JobProtocol = Literal["queue", "call"]
LINES: list[tuple[JobProtocol, Line]] = [
    *[("queue", line) for line in QUEUE_OK],
    *[("call", line) for line in CALL_OK],
]


def line_id(case: tuple[JobProtocol, Line]) -> str:
    return f"{case[0]}-g{case[1].version}"


def mount_line(router: respx.MockRouter, protocol: JobProtocol, line: Line) -> tuple[Mounted, str]:
    """``line``'s Space taking a job on ``protocol``, and the path its job is followed at."""
    if protocol == "queue":
        return mount_queue(router, line.version, line.post, line.stream), (
            f"{line.prefix}/queue/data"
        )
    return mount_call(router, line.version, line.post, line.stream), (
        f"{line.prefix}/call/infer/{event_id_of(line.post)}"
    )


def cold_wire(line: Line, stream: str) -> list[str]:
    """What a cold client sends for one job on ``line``: Gradio 4 answers the guess with 404."""
    prefix = line.prefix
    if prefix == GUESSED_PREFIX:
        return [f"POST {prefix}/call/infer", f"GET {stream}"]
    return [
        f"POST {GUESSED_PREFIX}/call/infer",
        "GET /config",
        f"POST {prefix}/call/infer",
        f"GET {stream}",
    ]


@pytest.mark.parametrize("case", LINES, ids=line_id)
async def test_a_cold_job_reads_config_only_after_a_404(
    router: respx.MockRouter, case: tuple[JobProtocol, Line]
) -> None:
    protocol, line = case
    space, stream = mount_line(router, protocol, line)
    async with AsyncFluxClient(BASE, protocol=protocol) as client:
        generation = await client.generate(sample_request())
    assert generation.seed == 1234
    assert wire(router) == cold_wire(line, stream)
    assert space.config.call_count == (0 if space.guess is None else 1)
    if space.guess is not None:
        # The same job sent again at the prefix /config named, by name (in a session) again.
        guessed = cast("dict[str, object]", json.loads(space.guess.calls.last.request.content))
        sent = sent_json(space.submit)
        assert (
            set(guessed)
            == set(sent)
            == ({"data", "session_hash"} if protocol == "queue" else {"data"})
        )
        assert guessed["data"] == sent["data"]


@pytest.mark.parametrize("case", LINES, ids=line_id)
async def test_discover_reads_config_before_the_first_job(
    router: respx.MockRouter, case: tuple[JobProtocol, Line]
) -> None:
    protocol, line = case
    space, stream = mount_line(router, protocol, line)
    async with AsyncFluxClient(BASE, protocol=protocol, discover=True) as client:
        await client.generate(sample_request())
        await client.generate(sample_request())
    # Read once, first; the prefix it names is right on every line, so no 404 on Gradio 4.
    job = [f"POST {line.prefix}/call/infer", f"GET {stream}"]
    assert wire(router) == ["GET /config", *job, *job]
    # Still by name: /config's fn_index is for cancelling only.
    assert "fn_index" not in sent_json(space.submit)


async def test_queue_success_exact_events_g6(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, line.stream)
    async with AsyncFluxClient(BASE, protocol="queue") as client:
        events = await collect(client)
    eta = 1.210280418395996
    assert events[:8] == [
        Queued(rank=0, queue_size=1, eta=eta),
        Started(eta=eta),
        *[Progress(step=i, total=6) for i in range(6)],
    ]
    assert len(events) == 9


@pytest.mark.parametrize("line", CALL_OK, ids=lambda line: f"g{line.version}")
async def test_call_success(router: respx.MockRouter, line: Line) -> None:
    space = mount_call(router, line.version, line.post, line.stream)
    async with AsyncFluxClient(BASE, protocol="call") as client:
        generation = await client.generate(sample_request())

    output = output_of(line.stream)
    assert generation.url == output.url
    assert generation.path == output.path
    assert generation.seed == 1234
    assert generation.request == sample_request()
    assert sent_json(space.submit) == {"data": ["a red fox in snow", 1234, False, 512, 768, 6]}
    assert space.submit.calls.last.request.url.path == f"{line.prefix}/call/infer"
    assert space.stream.call_count == 1
    assert space.config.call_count == (0 if line.prefix == GUESSED_PREFIX else 1)


@pytest.mark.parametrize("line", CALL_OK, ids=lambda line: f"g{line.version}")
async def test_call_stream_yields_only_completed(router: respx.MockRouter, line: Line) -> None:
    mount_call(router, line.version, line.post, line.stream)
    async with AsyncFluxClient(BASE) as client:
        events = await events_of(client, "call")
    assert len(events) == 1
    assert isinstance(events[0], Completed)


async def test_generate_with_keywords_and_default_protocol(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    space = mount_queue(router, 6, line.post, line.stream)
    async with AsyncFluxClient(BASE) as client:
        assert client.protocol == "auto"
        generation = await client.generate("a red fox in snow", width=512, height=768)
    assert generation.request == GenerateRequest(prompt="a red fox in snow", width=512, height=768)
    assert sent_json(space.submit)["data"] == ["a red fox in snow", 0, True, 512, 768, 4]


async def test_log_events_on_the_queue(router: respx.MockRouter) -> None:
    mount_queue(
        router, 6, "gradio6/27-queue-info-toast-join.txt", "gradio6/27-queue-info-toast-data.txt"
    )
    async with AsyncFluxClient(BASE) as client:
        events = await collect(client)
    assert [e for e in events if isinstance(e, Log)] == [
        Log(level="info", message="Waiting for a GPU to become available", title="ZeroGPU queue"),
        Log(level="warning", message="Replica warning toast", title="Warning"),
    ]
    assert isinstance(events[-1], Completed)


async def test_heartbeats_are_skipped(router: respx.MockRouter) -> None:
    mount_queue(
        router,
        6,
        "gradio6/24-post-queue-join-while-busy.txt",
        "gradio6/24-get-queue-data-queued-heartbeat.txt",
    )
    async with AsyncFluxClient(BASE) as client:
        events = await collect(client)
    assert [type(e) for e in events] == [Queued, Started, *[Progress] * 4, Completed]


async def test_call_heartbeats_are_skipped(router: respx.MockRouter) -> None:
    mount_call(
        router, 6, "gradio6/15-call-sleep-post.txt", "gradio6/15-call-sleep-stream-heartbeat.txt"
    )
    async with AsyncFluxClient(BASE, protocol="call") as client:
        generation = await client.generate(sample_request())
    assert generation.seed == 7


# -- errors from the stream, per Gradio line -------------------------------------------------


@dataclass(frozen=True)
class Failure:
    protocol: str
    version: int
    post: str
    stream: str
    cls: type[ResponseError]
    message: str | None
    title: str | None


GR_ERROR = "Replica gr.Error: simulated failure (e.g. quota or validation)"
FAILURES = [
    # Gradio 4: /call/ says null; the queue says the text, wrapped in quotes
    Failure(
        "call",
        4,
        "gradio4/13-call-gr_error-post.txt",
        "gradio4/13-call-gr_error-stream.txt",
        JobFailedError,
        None,
        None,
    ),
    Failure(
        "call",
        4,
        "gradio4/14-call-exception-post.txt",
        "gradio4/14-call-exception-stream.txt",
        JobFailedError,
        None,
        None,
    ),
    Failure(
        "queue",
        4,
        "gradio4/22-queue-gr_error-join.txt",
        "gradio4/22-queue-gr_error-data.txt",
        JobFailedError,
        GR_ERROR,
        None,
    ),
    Failure(
        "queue",
        4,
        "gradio4/23-queue-exception-join.txt",
        "gradio4/23-queue-exception-data.txt",
        JobFailedError,
        None,
        None,
    ),
    # Gradio 5: /call/ says null; the queue has text and title
    Failure(
        "call",
        5,
        "gradio5/16-call-quota-post.txt",
        "gradio5/16-call-quota-stream.txt",
        JobFailedError,
        None,
        None,
    ),
    Failure(
        "call",
        5,
        "gradio5/11b-width-5000-post.txt",
        "gradio5/11b-width-5000-stream.txt",
        JobFailedError,
        None,
        None,
    ),
    Failure(
        "queue",
        5,
        "gradio5/28-queue-out-of-range-join.txt",
        "gradio5/28-queue-out-of-range-data.txt",
        InputRejectedError,
        "Value 5000 is greater than maximum value 2048.",
        "Error",
    ),
    Failure(
        "queue",
        5,
        "gradio5/23-queue-exception-join.txt",
        "gradio5/23-queue-exception-data.txt",
        JobFailedError,
        None,
        "Error",
    ),
    # Gradio 6: dicts on both protocols
    Failure(
        "call",
        6,
        "gradio6/13-call-gr_error-post.txt",
        "gradio6/13-call-gr_error-stream.txt",
        JobFailedError,
        GR_ERROR,
        "Error",
    ),
    Failure(
        "call",
        6,
        "gradio6/14-call-exception-post.txt",
        "gradio6/14-call-exception-stream.txt",
        JobFailedError,
        None,
        None,
    ),
    Failure(
        "call",
        6,
        "gradio6/badinput/11-width-5000-post.txt",
        "gradio6/badinput/11-width-5000-stream.txt",
        InputRejectedError,
        "Value 5000 is greater than maximum value 2048.",
        "Error",
    ),
    Failure(
        "queue",
        6,
        "gradio6/22-post-queue-join-gr_error.txt",
        "gradio6/22-get-queue-data-gr_error.txt",
        JobFailedError,
        GR_ERROR,
        "Error",
    ),
    Failure(
        "queue",
        6,
        "gradio6/23-post-queue-join-exception.txt",
        "gradio6/23-get-queue-data-exception.txt",
        JobFailedError,
        None,
        "Error",
    ),
    Failure(
        "queue",
        6,
        "gradio6/28-post-queue-join-out-of-range.txt",
        "gradio6/28-get-queue-data-out-of-range.txt",
        InputRejectedError,
        "Value 4096 is greater than maximum value 2048.",
        "Error",
    ),
    # unknown job / session
    Failure(
        "call",
        6,
        "gradio6/37-post-call-then-disconnect.txt",
        "gradio6/37-get-call-stream-reconnect.txt",
        EndpointNotFoundError,
        "404: Not Found",
        None,
    ),
    Failure(
        "queue",
        6,
        "gradio6/24-post-queue-join-while-busy.txt",
        "gradio6/27-get-queue-data-unknown-session.txt",
        EndpointNotFoundError,
        "404: Not Found",
        None,
    ),
]


def _mount(router: respx.MockRouter, f: Failure) -> Mounted:
    if f.protocol == "queue":
        return mount_queue(router, f.version, f.post, f.stream)
    return mount_call(router, f.version, f.post, f.stream)


@pytest.mark.parametrize(
    "failure", FAILURES, ids=lambda f: f"g{f.version}-{f.protocol}-{f.stream.split('/')[-1]}"
)
async def test_stream_errors(router: respx.MockRouter, failure: Failure) -> None:
    _mount(router, failure)
    cancel = mount_cancel(router, PREFIX[failure.version])
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(ResponseError) as caught:
            await events_of(client, failure.protocol)
    error = caught.value
    assert type(error) is failure.cls
    assert error.message == failure.message
    assert error.title == failure.title
    assert error.status_code is None
    # The Space ended the job itself: nothing to cancel.
    assert not cancel.called


@pytest.mark.parametrize(
    ("version", "join", "data"),
    [
        (4, "gradio4/26-queue-quota-join.txt", "gradio4/26-queue-quota-data.txt"),
        (5, "gradio5/26-queue-quota-join.txt", "gradio5/26-queue-quota-data.txt"),
        (6, "gradio6/26-queue-quota-join.txt", "gradio6/26-queue-quota-data.txt"),
    ],
)
async def test_quota_on_the_queue(
    router: respx.MockRouter, version: int, join: str, data: str
) -> None:
    mount_queue(router, version, join, data)
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(QuotaExceededError) as caught:
            await client.generate(sample_request())
    error = caught.value
    # The captured text says 0:07:13 (not the README's 0:06:53 example).
    assert "Try again in 0:07:13" in body_of(data)
    assert error.retry_after == datetime.timedelta(minutes=7, seconds=13)
    assert error.message is not None
    assert error.message.startswith("You have exceeded your free ZeroGPU quota")
    assert not error.message.startswith("'")
    assert error.title == (None if version == 4 else "ZeroGPU quota exceeded")


async def test_quota_on_call_g6(router: respx.MockRouter) -> None:
    mount_call(router, 6, "gradio6/16-call-quota-post.txt", "gradio6/16-call-quota-stream.txt")
    async with AsyncFluxClient(BASE, protocol="call") as client:
        with pytest.raises(QuotaExceededError) as caught:
            await client.generate(sample_request())
    assert caught.value.retry_after == datetime.timedelta(minutes=7, seconds=13)
    assert caught.value.title == "ZeroGPU quota exceeded"


@pytest.mark.parametrize(
    ("protocol", "version", "post", "stream"),
    [
        (
            "queue",
            4,
            "gradio4/50-post-queue-join-for-cancel.txt",
            "gradio4/50-get-queue-data-cancelled.txt",
        ),
        (
            "queue",
            6,
            "gradio6/50-post-queue-join-for-cancel.txt",
            "gradio6/50-get-queue-data-cancelled.txt",
        ),
        (
            "call",
            6,
            "gradio6/52-post-call-for-cancel.txt",
            "gradio6/52-get-call-stream-cancelled.txt",
        ),
    ],
)
async def test_cancelled_by_the_space(
    router: respx.MockRouter, protocol: str, version: int, post: str, stream: str
) -> None:
    if protocol == "queue":
        mount_queue(router, version, post, stream)
    else:
        mount_call(router, version, post, stream)
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(JobCancelledError):
            await events_of(client, protocol)


# -- what the stream may contain besides our job ---------------------------------------------


async def test_unknown_messages_and_other_jobs_are_skipped(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    eid = event_id_of(line.post)
    messages: list[dict[str, object]] = [
        {"msg": "heartbeat", "event_id": None},
        {"msg": "brand_new_message", "event_id": eid, "whatever": [1, 2]},
        {"msg": "process_generating", "event_id": eid, "output": {"data": []}, "success": True},
        {"msg": "estimation", "event_id": "0" * 32, "rank": 5, "queue_size": 9, "rank_eta": 1},
        {
            "msg": "process_completed",
            "event_id": "0" * 32,
            "output": {"error": "x"},
            "success": False,
        },
    ]
    noise = "".join(f"data: {json.dumps(m)}\n\n" for m in messages)
    blocks = body_of(line.stream).split("\n\n")
    noisy = "\n\n".join([blocks[0], noise.rstrip("\n"), *blocks[1:]])
    mount_queue(router, 6, line.post, stream_of(noisy))
    async with AsyncFluxClient(BASE) as client:
        events = await collect(client)
    assert [type(e) for e in events] == [Queued, Started, *[Progress] * 6, Completed]
    assert events[0] == Queued(rank=0, queue_size=1, eta=1.210280418395996)


async def test_unknown_call_events_are_skipped(router: respx.MockRouter) -> None:
    line = CALL_OK[2]
    body = (
        "event: heartbeat\ndata: null\n\n"
        "event: generating\ndata: [1, 2]\n\n"
        'event: mystery\ndata: {"a": 1}\n\n'
        ": a comment line\n\n" + body_of(line.stream)
    )
    mount_call(router, 6, line.post, stream_of(body))
    async with AsyncFluxClient(BASE) as client:
        events = await events_of(client, "call")
    assert len(events) == 1
    assert isinstance(events[0], Completed)
    assert events[0].generation.seed == 1234


# -- discovery and HTTP errors ----------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["queue", "call"])
async def test_prefix_drift_is_rediscovered_once(router: respx.MockRouter, protocol: str) -> None:
    # /config read first (discover) says Gradio 4's prefix; the Space has moved to Gradio 6.
    config = router.get("/config").mock(
        side_effect=[replay("gradio4/01-get-config.txt"), replay("gradio6/01-get-config.txt")]
    )
    old = router.post("/call/infer").mock(
        side_effect=serve("gradio6/10-post-call-infer-noprefix.txt")
    )
    if protocol == "queue":
        line = QUEUE_OK[2]
        router.get("/gradio_api/queue/data").mock(side_effect=serve(line.stream))
    else:
        line = CALL_OK[2]
        router.get(f"/gradio_api/call/infer/{event_id_of(line.post)}").mock(
            side_effect=serve(line.stream)
        )
    new = router.post("/gradio_api/call/infer").mock(side_effect=serve(line.post))
    async with AsyncFluxClient(
        BASE, protocol="queue" if protocol == "queue" else "call", discover=True
    ) as client:
        generation = await client.generate(sample_request())
        assert generation.seed == 1234
        assert config.call_count == 2
        assert old.call_count == 1
        assert new.call_count == 1
        # the new prefix is cached: the next job does not rediscover
        await client.generate(sample_request())
    assert config.call_count == 2
    assert new.call_count == 2
    assert old.call_count == 1


async def test_a_space_that_moved_after_a_job_is_rediscovered(router: respx.MockRouter) -> None:
    # No /config read: the first job was taken at the guess, the Space then moved to Gradio 4.
    line = QUEUE_OK[2]
    guess = router.post("/gradio_api/call/infer").mock(
        side_effect=[replay(line.post), replay("gradio4/11-gradio_api-call-infer-post.txt")]
    )
    router.get("/gradio_api/queue/data").mock(side_effect=serve(line.stream))
    g4 = QUEUE_OK[0]
    config = mount_config(router, 4)
    moved = router.post("/call/infer").mock(side_effect=serve(g4.post))
    router.get("/queue/data").mock(side_effect=serve(g4.stream))
    async with AsyncFluxClient(BASE) as client:
        await client.generate(sample_request())
        assert not config.called
        await client.generate(sample_request())
        await client.generate(sample_request())
    assert wire(router) == [
        "POST /gradio_api/call/infer",
        "GET /gradio_api/queue/data",
        "POST /gradio_api/call/infer",
        "GET /config",
        "POST /call/infer",
        "GET /queue/data",
        "POST /call/infer",
        "GET /queue/data",
    ]
    assert (guess.call_count, config.call_count, moved.call_count) == (2, 1, 2)


async def test_prefix_drift_that_persists_raises(router: respx.MockRouter) -> None:
    config = mount_config(router, 6)
    submit = router.post("/gradio_api/call/infer").mock(
        side_effect=serve("gradio4/11-gradio_api-call-infer-post.txt")
    )
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(EndpointNotFoundError) as caught:
            await client.generate(sample_request())
    assert caught.value.status_code == 404
    # The guess was /config's prefix already: one read, one more try, then the 404 stands.
    assert wire(router) == [
        "POST /gradio_api/call/infer",
        "GET /config",
        "POST /gradio_api/call/infer",
    ]
    assert (config.call_count, submit.call_count) == (1, 2)


@pytest.mark.parametrize("version", [4, 5, 6])
async def test_config_is_read_at_most_once_for_many_jobs(
    router: respx.MockRouter, version: int
) -> None:
    line = QUEUE_OK[version - 4]
    space = mount_queue(router, version, line.post, line.stream)
    async with AsyncFluxClient(BASE) as client:
        for _ in range(3):
            await client.generate(sample_request())
    # Gradio 5 and 6 never need it; Gradio 4 once, after the one 404: its prefix is then known.
    assert space.config.call_count == (0 if version > 4 else 1)
    assert space.submit.call_count == 3
    if space.guess is not None:
        assert space.guess.call_count == 1


async def test_cold_jobs_404_together_read_config_once(router: respx.MockRouter) -> None:
    line = QUEUE_OK[0]
    space = mount_queue(router, 4, line.post, line.stream)
    assert space.guess is not None
    both_guessed = anyio.Event()
    guessed: list[httpx.Request] = []

    async def not_found_once_both_came(request: httpx.Request) -> httpx.Response:
        # Both jobs are answered 404 only once both have guessed: neither saw the other's.
        guessed.append(request)
        if len(guessed) == 2:
            both_guessed.set()
        await both_guessed.wait()
        return replay("gradio4/11-gradio_api-call-infer-post.txt")

    space.guess.mock(side_effect=not_found_once_both_came)
    async with AsyncFluxClient(BASE) as client, anyio.create_task_group() as group:
        for _ in range(2):
            group.start_soon(client.generate, sample_request())
    # Both rediscover; the read they both asked for is made once.
    assert (len(guessed), space.config.call_count, space.submit.call_count) == (2, 1, 2)


@pytest.mark.parametrize("protocol", ["queue", "call"])
async def test_a_500_before_the_space_is_known_finds_infer_missing(
    router: respx.MockRouter, protocol: str
) -> None:
    # How Gradio answers a /call/ name it does not have: the guess went by name, so /config
    # is read to tell "no such endpoint" from a failure of the Space.
    submit = router.post("/gradio_api/call/infer").mock(
        side_effect=serve("gradio6/31-post-unknown-api-name.txt")
    )
    config = router.get("/config").mock(return_value=edited_config(6, infer_id=None))
    async with AsyncFluxClient(BASE, protocol="queue" if protocol == "queue" else "call") as client:
        with pytest.raises(EndpointNotFoundError, match="infer"):
            await client.generate(sample_request())
    assert wire(router) == ["POST /gradio_api/call/infer", "GET /config"]
    assert (submit.call_count, config.call_count) == (1, 1)


async def test_a_500_after_a_job_was_taken_is_not_rediscovered(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    space = mount_queue(router, 6, line.post, line.stream)
    space.submit.mock(
        side_effect=[replay(line.post), replay("gradio6/31-post-unknown-api-name.txt")]
    )
    async with AsyncFluxClient(BASE) as client:
        await client.generate(sample_request())
        with pytest.raises(ResponseError) as caught:
            await client.generate(sample_request())
    assert type(caught.value) is ResponseError
    assert caught.value.status_code == 500
    # The Space took a job by that name at that prefix: a 500 now is its failure, not ours
    # to resend (a submission is sent again only when the Space certainly did not take it).
    assert not space.config.called
    assert space.submit.call_count == 2


async def test_a_500_after_config_was_read_is_not_rediscovered(router: respx.MockRouter) -> None:
    config = mount_config(router, 6)
    submit = router.post("/gradio_api/call/infer").mock(
        side_effect=serve("gradio6/31-post-unknown-api-name.txt")
    )
    async with AsyncFluxClient(BASE, discover=True) as client:
        with pytest.raises(ResponseError) as caught:
            await client.generate(sample_request())
    assert caught.value.status_code == 500
    assert (config.call_count, submit.call_count) == (1, 1)


@pytest.mark.parametrize(
    ("protocol", "version", "name", "detail"),
    [
        (
            "queue",
            6,
            "gradio6/concurrency/maxsize2-join-4.txt",
            "Queue is full. Max size is 2 and size is 2.",
        ),
        (
            "call",
            6,
            "gradio6/concurrency/maxsize2-call-post-4.txt",
            "Queue is full. Max size is 2 and size is 2.",
        ),
        (
            "queue",
            4,
            "gradio4/56-maxsize1-queue-join.txt",
            "Queue is full. Max size is 1 and size is 1.",
        ),
        (
            "call",
            4,
            "gradio4/55-maxsize1-call-post-3.txt",
            "Queue is full. Max size is 1 and size is 1.",
        ),
    ],
)
async def test_queue_full(
    router: respx.MockRouter, protocol: str, version: int, name: str, detail: str
) -> None:
    config = mount_config(router, version)
    guess = mount_guess(router, version)
    submit = router.post(f"{PREFIX[version]}/call/infer").mock(side_effect=serve(name))
    catch_all = router.route()
    async with AsyncFluxClient(BASE, max_retries=0) as client:
        with pytest.raises(QueueFullError) as caught:
            await events_of(client, protocol)
    assert caught.value.status_code == 503
    assert caught.value.message == detail
    assert caught.value.payload == {"detail": detail}
    assert submit.call_count == 1
    assert config.call_count == (0 if guess is None else 1)
    assert not catch_all.called


async def test_queue_full_is_retried_after_retry_after(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    space = mount_queue(router, 6, line.post, line.stream)
    full = replay("gradio6/concurrency/maxsize2-join-4.txt")
    full.headers["retry-after"] = "0"
    space.submit.mock(side_effect=[full, replay(line.post)])
    async with AsyncFluxClient(BASE) as client:
        generation = await client.generate(sample_request())
    assert generation.seed == 1234
    assert space.submit.call_count == 2


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("gradio6/31-post-unknown-api-name.txt", 500, "Internal Server Error"),
        ("gradio6/32-post-call-missing-data-key.txt", 422, "Field required"),
    ],
)
async def test_http_errors_on_submit(
    router: respx.MockRouter, name: str, status: int, message: str
) -> None:
    config = mount_config(router, 6)
    submit = router.post("/gradio_api/call/infer").mock(side_effect=serve(name))
    async with AsyncFluxClient(BASE, protocol="call") as client:
        with pytest.raises(ResponseError) as caught:
            await client.generate(sample_request())
    assert caught.value.status_code == status
    assert caught.value.message == message
    # A 500 from a Space not yet read: /config has infer, so the one more try's 500 stands.
    assert (config.call_count, submit.call_count) == ((1, 2) if status == 500 else (0, 1))


async def test_retry_after_beyond_the_time_left_is_not_waited_for(
    router: respx.MockRouter,
) -> None:
    config = mount_config(router, 6)
    join = router.post("/gradio_api/call/infer").mock(
        return_value=httpx.Response(
            429, headers={"retry-after": "3600"}, json={"error": "Too many requests"}
        )
    )
    async with AsyncFluxClient(BASE, timeout=Timeout(total=0.3)) as client:
        with pytest.raises((RateLimitError, FluxTimeoutError)) as caught:
            await client.generate(sample_request())
    assert join.call_count == 1
    assert not config.called
    assert isinstance(caught.value, RateLimitError)
    assert caught.value.retry_after == datetime.timedelta(hours=1)


async def test_large_error_body_leaves_no_open_stream(
    router: respx.MockRouter, request: pytest.FixtureRequest, anyio_backend: str
) -> None:
    page = chunked(
        b"<html><title>502 Bad Gateway</title>" + b"a" * 40_000,
        b"b" * 40_000,
        b"c" * 40_000,
        content_type="text/html",
    )
    submit = router.post("/gradio_api/call/infer").mock(
        return_value=httpx.Response(502, headers=page.headers, stream=page.stream)
    )
    with resource_warnings() as leaks:
        async with AsyncFluxClient(BASE, max_retries=0) as client:
            with pytest.raises(ResponseError) as caught:
                await client.generate(sample_request())
    assert caught.value.status_code == 502
    assert caught.value.message == "502 Bad Gateway"
    assert submit.call_count == 1
    assert [str(w.message) for w in leaks] == []


async def test_stream_http_error(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, lambda _r: httpx.Response(404, json={"detail": "Not Found"}))
    mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(EndpointNotFoundError) as caught:
            await client.generate(sample_request())
    assert caught.value.status_code == 404


async def test_stream_that_is_not_an_event_stream(router: respx.MockRouter) -> None:
    line = QUEUE_OK[2]
    mount_queue(router, 6, line.post, lambda _r: httpx.Response(200, json={"event_id": "x"}))
    mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(ProtocolError, match="event stream"):
            await client.generate(sample_request())


@pytest.mark.parametrize("discover", [True, False], ids=["discover", "after-404"])
async def test_config_garbage_is_protocol_error(router: respx.MockRouter, discover: bool) -> None:
    config = router.get("/config").mock(return_value=httpx.Response(200, text="<html>hello</html>"))
    mount_guess(router, 4)
    async with AsyncFluxClient(BASE, discover=discover) as client:
        with pytest.raises(ProtocolError):
            await client.generate(sample_request())
    assert config.call_count == 1
    expected = ["GET /config"] if discover else ["POST /gradio_api/call/infer", "GET /config"]
    assert wire(router) == expected


async def test_submit_without_event_id_is_protocol_error(router: respx.MockRouter) -> None:
    router.post("/gradio_api/call/infer").mock(return_value=httpx.Response(200, json={"ok": 1}))
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(ProtocolError, match="event_id"):
            await client.generate(sample_request())


# -- streams that end without a result -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        'data: {"msg":"close_stream","event_id":null}\n\n',
        "",
        'data: {"msg":"estimation","event_id":"57f167cd5021436db7b9f288b2aa9f01","rank":0,'
        '"queue_size":1,"rank_eta":null}\n\ndata: {"msg":"heartbeat","event_id":null}\n\n',
    ],
    ids=["only-close-stream", "empty", "no-close-stream"],
)
async def test_queue_stream_without_result(router: respx.MockRouter, body: str) -> None:
    mount_queue(router, 6, "gradio6/20-post-queue-join.txt", stream_of(body))
    mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(ProtocolError):
            await client.generate(sample_request())


@pytest.mark.parametrize(
    "stream",
    [
        "gradio6/36-get-call-stream-second-time.txt",
        "gradio6/37-get-call-stream-disconnect-after-3s.txt",
    ],
)
async def test_call_stream_without_result(router: respx.MockRouter, stream: str) -> None:
    post = "gradio6/11-post-gradio_api-call-infer.txt"
    config = mount_config(router, 6)
    router.post("/gradio_api/call/infer").mock(side_effect=serve(post))
    router.get(f"/gradio_api/call/infer/{event_id_of(post)}").mock(side_effect=serve(stream))
    cancel = mount_cancel(router, "/gradio_api")
    async with AsyncFluxClient(BASE, protocol="call") as client:
        with pytest.raises(ProtocolError):
            await client.generate(sample_request())
    # The job may still run: cancelled, with the fn_index /config was read for just now.
    assert config.call_count == 1
    event_id = event_id_of(post)
    assert sent_json(cancel) == {"fn_index": 2, "session_hash": event_id, "event_id": event_id}


# -- validation before I/O, and headers -------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"width": 5000},
        {"width": 1000},
        {"seed": -1},
        {"num_inference_steps": 0},
        {"prompt": ""},
        {"prompt": "   "},
    ],
)
async def test_bad_input_sends_nothing(router: respx.MockRouter, params: dict[str, object]) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(500))
    params = dict(params)
    prompt = cast(str, params.pop("prompt", "a fox"))
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(InvalidRequestError):
            await client.generate(prompt, **params)  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError):
            client.stream(prompt, **params)  # type: ignore[arg-type]
        if params:
            with pytest.raises(InvalidRequestError):
                await client.generate(GenerateRequest(prompt="ok"), **params)  # type: ignore[arg-type]
    assert not catch_all.called
    assert not router.calls


async def test_unknown_protocol_is_value_error(router: respx.MockRouter) -> None:
    with pytest.raises(ValueError, match="protocol"):
        AsyncFluxClient(BASE, protocol="ws")  # type: ignore[arg-type]
    async with AsyncFluxClient(BASE) as client:
        with pytest.raises(ValueError, match="protocol"):
            client.stream("x", protocol="ws")  # type: ignore[arg-type]
    assert not router.calls


async def test_stream_never_iterated_sends_nothing(router: respx.MockRouter) -> None:
    catch_all = router.route().mock(return_value=httpx.Response(500))
    async with AsyncFluxClient(BASE) as client, client.stream("a fox"):
        pass
    assert not catch_all.called


@pytest.mark.parametrize("discover", [False, True], ids=["cold", "discover"])
@pytest.mark.parametrize("protocol", ["queue", "call"])
async def test_every_request_identifies_the_sdk(
    router: respx.MockRouter, protocol: str, discover: bool
) -> None:
    line = QUEUE_OK[2] if protocol == "queue" else CALL_OK[2]
    if protocol == "queue":
        mount_queue(router, 6, line.post, line.stream)
    else:
        mount_call(router, 6, line.post, line.stream)
    image = router.get(output_of(line.stream).url).mock(
        return_value=httpx.Response(200, content=b"RIFF", headers={"content-type": "image/webp"})
    )
    async with AsyncFluxClient(BASE, discover=discover) as client:
        generation = (await events_of(client, protocol))[-1]
        assert isinstance(generation, Completed)
        assert await client.download(generation.generation) == b"RIFF"
    assert image.called
    # submit, stream, image; and /config first when discovering
    assert len(requests(router)) == 3 + discover
    for sent in requests(router):
        assert sent.headers["user-agent"] == f"flux-sdk/{__version__}"
        assert sent.headers["x-gradio-user"] == "api"
        assert "x-hf-authorization" not in sent.headers
        assert "authorization" not in sent.headers


@pytest.mark.parametrize("discover", [False, True], ids=["cold", "discover"])
async def test_extra_headers_are_sent(router: respx.MockRouter, discover: bool) -> None:
    mount_config(router, 6)
    router.post("/gradio_api/call/infer").mock(
        return_value=httpx.Response(503, json={"detail": "Queue is full."})
    )
    async with AsyncFluxClient(
        BASE, headers={"X-IP-Token": "jwt"}, max_retries=0, discover=discover
    ) as client:
        with pytest.raises(QueueFullError):
            await client.generate(sample_request())
    assert wire(router) == ["GET /config"] * discover + ["POST /gradio_api/call/infer"]
    for sent in requests(router):
        assert sent.headers["x-ip-token"] == "jwt"
        assert sent.headers["x-gradio-user"] == "api"
