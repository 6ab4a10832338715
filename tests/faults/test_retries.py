# pyright: reportPrivateUsage=false
"""The retry policy, at wire level (respx): what is re-sent, how often, and what never is.

A submission (``POST /call/infer``, naming our session on the queue protocol) is re-sent only
when the Space certainly did not accept it: the connection was refused, or it answered 429, 502,
503 or 504. ``GET /config`` is idempotent, so any transport failure is retried too. Once a
submission may have reached the Space (a reset or a cut after sending), it is never sent again: a
second one would run the job, and bill ZeroGPU quota for it, twice. Delays are never asserted;
counts and logs are.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime

import anyio
import httpx
import pytest
import respx

from flux_sdk import (
    AsyncFluxClient,
    EndpointNotFoundError,
    FluxConnectionError,
    FluxTimeoutError,
    Generation,
    InputRejectedError,
    Log,
    ProtocolName,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    SpaceUnavailableError,
    Timeout,
)
from flux_sdk._policy import BACKOFF_BASE, BACKOFF_CAP, retry_delay
from tests.faults._space import CONFIG, IMAGE_PATH, SEED, call_message, queue_message

pytestmark = pytest.mark.anyio

BASE = "http://127.0.0.1:7860"  # mocked by respx: nothing is sent
PREFIX = "/gradio_api"
CALL = f"{PREFIX}/call/infer"
GUARD = 20.0
QUOTA = (
    "You have exceeded your free ZeroGPU quota (60s requested vs. 12s left). "
    "Try again in {wait}. Authenticate with a Hugging Face token for more quota"
)

Failure = Callable[[httpx.Request], httpx.Response]


def status(code: int, *, retry_after: str | None = None, body: object = None) -> Failure:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    payload = body if body is not None else {"detail": f"status {code}"}
    return lambda _request: httpx.Response(code, json=payload, headers=headers)


def raising(kind: type[httpx.TransportError]) -> Failure:
    def fail(request: httpx.Request) -> httpx.Response:
        raise kind(f"simulated {kind.__name__}", request=request)

    return fail


@dataclass
class Submissions:
    """One protocol's submissions (``POST /call/infer``, told apart by the body)."""

    requests: list[httpx.Request] = field(default_factory=list[httpx.Request])

    @property
    def call_count(self) -> int:
        return len(self.requests)


@dataclass
class Space:
    """A healthy Gradio 6 Space on a respx router; a route fails first as scripted.

    Both protocols submit to ``/call/infer``: a body naming a session_hash is a queue job in that
    session (as Gradio's ``simple_predict_post`` queues it), one without is a ``/call/`` job.
    """

    router: respx.MockRouter
    join_failures: list[Failure] = field(default_factory=list[Failure])
    """Answers to the next submissions, of either protocol, before the healthy one."""
    config_failures: list[Failure] = field(default_factory=list[Failure])
    streams: list[Callable[[str], bytes]] = field(default_factory=list[Callable[[str], bytes]])
    """Per job, in order: the queue stream's body for an event_id (default: success)."""
    sessions: dict[str, str] = field(default_factory=dict[str, str])

    def __post_init__(self) -> None:
        self.config = self.router.get("/config").mock(side_effect=self._config)
        self.join = Submissions()
        """The queue protocol's submissions."""
        self.call = Submissions()
        """The /call/ protocol's submissions."""
        self.data = self.router.get(f"{PREFIX}/queue/data").mock(side_effect=self._data)
        self.submit = self.router.post(CALL).mock(side_effect=self._submit)
        self.call_stream = self.router.get(url__regex=rf"{PREFIX}/call/infer/\w+$").mock(
            side_effect=self._call_stream
        )
        self.cancel = self.router.post(f"{PREFIX}/cancel").mock(
            return_value=httpx.Response(200, json={"success": True})
        )

    def submissions(self, protocol: ProtocolName) -> Submissions:
        return self.join if protocol == "queue" else self.call

    def _config(self, request: httpx.Request) -> httpx.Response:
        if self.config_failures:
            return self.config_failures.pop(0)(request)
        return httpx.Response(200, text=CONFIG, headers={"content-type": "application/json"})

    def _submit(self, request: httpx.Request) -> httpx.Response:
        session = json.loads(request.content).get("session_hash")
        (self.join if session else self.call).requests.append(request)
        if self.join_failures:
            return self.join_failures.pop(0)(request)
        event_id = f"{len(self.sessions) + 1:032x}"
        session = session or event_id
        self.sessions[session] = event_id
        return httpx.Response(200, json={"event_id": event_id})

    def _body(self, event_id: str, protocol: str) -> bytes:
        if self.streams:
            return self.streams.pop(0)(event_id)
        image = {"path": IMAGE_PATH, "url": f"{BASE}{PREFIX}/file={IMAGE_PATH}"}
        if protocol == "call":
            return call_message("complete", [image, SEED])
        completed = {
            "msg": "process_completed",
            "event_id": event_id,
            "output": {"data": [image, SEED]},
            "success": True,
        }
        return queue_message(completed) + queue_message({"msg": "close_stream", "event_id": None})

    def _data(self, request: httpx.Request) -> httpx.Response:
        event_id = self.sessions[request.url.params["session_hash"]]
        return _sse(self._body(event_id, "queue"))

    def _call_stream(self, request: httpx.Request) -> httpx.Response:
        return _sse(self._body(request.url.path.rsplit("/", 1)[1], "call"))


def _sse(body: bytes) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream; charset=utf-8"}, content=body
    )


def quota_stream(wait: str) -> Callable[[str], bytes]:
    def body(event_id: str) -> bytes:
        failed = {
            "msg": "process_completed",
            "event_id": event_id,
            "output": {
                "error": QUOTA.format(wait=wait),
                "duration": 10,
                "visible": True,
                "title": "ZeroGPU quota exceeded",
            },
            "success": False,
            "title": "ZeroGPU quota exceeded",
        }
        return queue_message(failed) + queue_message({"msg": "close_stream", "event_id": None})

    return body


def quota_call_stream(wait: str) -> Callable[[str], bytes]:
    def body(_event_id: str) -> bytes:
        error = {"error": QUOTA.format(wait=wait), "title": "ZeroGPU quota exceeded"}
        return call_message("error", error)

    return body


@pytest.fixture
def space() -> Iterator[Space]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield Space(router)


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)


async def generate(
    client: AsyncFluxClient,
    *,
    max_retries: int | None = None,
    wait_on_quota: bool | None = None,
) -> Generation:
    """``client.generate`` under a hang guard (not a timing assertion)."""
    with anyio.fail_after(GUARD):
        return await client.generate(
            "a red fox", max_retries=max_retries, wait_on_quota=wait_on_quota
        )


def retry_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "flux_sdk" and record.levelno == logging.WARNING
    ]


def logged_delays(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [float(m) for m in re.findall(r"in ([\d.]+) s$", "\n".join(retry_logs(caplog)), re.M)]


PROTOCOLS: list[ProtocolName] = ["queue", "call"]

# -- what is retried -----------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_connection_refused_on_submit_is_retried(
    space: Space, protocol: ProtocolName, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    space.join_failures += [raising(httpx.ConnectError), raising(httpx.ConnectError)]
    async with AsyncFluxClient(BASE, protocol=protocol, token="") as client:
        generation = await generate(client)
    assert generation.seed == SEED
    assert space.submissions(protocol).call_count == 3
    logs = retry_logs(caplog)
    assert len(logs) == 2
    # Both protocols submit by name; only the queue's body names our session (and no fn_index).
    assert logs[0].startswith(f"POST {CALL} failed (simulated ConnectError); retry 1 of 2 in ")
    assert logs[1].startswith(f"POST {CALL} failed (simulated ConnectError); retry 2 of 2 in ")
    bodies = [json.loads(r.content) for r in space.submissions(protocol).requests]
    assert bodies[0] == bodies[1] == bodies[2]
    assert set(bodies[0]) == ({"data", "session_hash"} if protocol == "queue" else {"data"})
    assert space.config.call_count == 0


@pytest.mark.parametrize(
    ("code", "body"),
    [
        (429, {"error": "Too Many Requests"}),
        (502, {"detail": "Bad Gateway"}),
        (503, {"detail": "Queue is full. Max size is 2 and size is 2."}),
        (504, {"detail": "Gateway Timeout"}),
    ],
)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_retryable_status_on_submit_is_retried(
    space: Space, protocol: ProtocolName, code: int, body: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    space.join_failures.append(status(code, retry_after="0.01", body=body))
    async with AsyncFluxClient(BASE, protocol=protocol, token="") as client:
        assert (await generate(client)).seed == SEED
    assert space.submissions(protocol).call_count == 2
    (log,) = retry_logs(caplog)
    assert f"HTTP {code}" in log
    assert log.endswith("retry 1 of 2 in 0.01 s")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (429, RateLimitError),
        (502, SpaceUnavailableError),
        (503, QueueFullError),
        (504, SpaceUnavailableError),
    ],
)
async def test_retries_exhausted_raise_the_last_answer(
    space: Space, code: int, expected: type[ResponseError]
) -> None:
    body = {"detail": "Queue is full. Max size is 2 and size is 2." if code == 503 else "no"}
    space.join_failures += [status(code, retry_after="0", body=body)] * 5
    async with AsyncFluxClient(BASE, token="") as client:
        with pytest.raises(expected) as caught:
            await generate(client)
    assert caught.value.status_code == code
    assert space.join.call_count == 3  # the default max_retries=2
    assert space.data.call_count == 0


async def test_retry_after_header_is_honoured(
    space: Space, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    past = format_datetime(datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
    space.join_failures += [
        status(429, retry_after="0.02"),
        status(503, retry_after=past, body={"detail": "Queue is full."}),
    ]
    async with AsyncFluxClient(BASE, token="") as client:
        assert (await generate(client)).seed == SEED
    # The delays slept are the ones the Space asked for (an HTTP date in the past is 0 s).
    assert logged_delays(caplog) == [0.02, 0.0]
    assert space.join.call_count == 3


async def test_backoff_without_retry_after_is_exponential_with_jitter(
    space: Space, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    space.join_failures += [raising(httpx.ConnectError), status(502)]
    async with AsyncFluxClient(BASE, token="") as client:
        assert (await generate(client)).seed == SEED
    first, second = logged_delays(caplog)
    assert BACKOFF_BASE * 0.5 <= first <= BACKOFF_BASE
    assert BACKOFF_BASE <= second <= BACKOFF_BASE * 2


@pytest.mark.parametrize("attempt", range(8))
def test_backoff_schedule(attempt: int) -> None:
    # Pure: base 0.5 s doubling per attempt, capped at 8 s, times the jitter given.
    refused = httpx.ConnectError("refused")
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
    for jitter in (0.5, 0.75, 1.0):
        delay = retry_delay(refused, attempt, retries=10, idempotent=False, jitter=jitter)
        assert delay == ceiling * jitter
    assert retry_delay(refused, attempt, retries=attempt, idempotent=False, jitter=1.0) is None


async def test_config_is_retried_on_any_transport_failure(space: Space) -> None:
    # GET /config changes nothing on the Space: a read failure is safe to repeat too. (A cold
    # client reads it only when needed: discover=True reads it before the first job.)
    space.config_failures += [raising(httpx.ReadError), status(503, retry_after="0")]
    async with AsyncFluxClient(BASE, token="", discover=True) as client:
        assert (await generate(client)).seed == SEED
    assert space.config.call_count == 3


# -- what is never retried ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (httpx.ReadError, FluxConnectionError),
        (httpx.RemoteProtocolError, FluxConnectionError),
        (httpx.WriteError, FluxConnectionError),
        (httpx.ReadTimeout, FluxTimeoutError),
    ],
)
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_submission_that_may_have_been_accepted_is_not_retried(
    space: Space,
    protocol: ProtocolName,
    failure: type[httpx.TransportError],
    expected: type[Exception],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    space.join_failures += [raising(failure)] * 3
    async with AsyncFluxClient(BASE, protocol=protocol, token="") as client:
        with pytest.raises(expected):
            await generate(client)
    assert space.submissions(protocol).call_count == 1
    assert retry_logs(caplog) == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [(400, ResponseError), (422, InputRejectedError), (500, ResponseError)],
)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("discover", [True, False])
async def test_client_and_server_errors_are_not_retried(
    space: Space,
    protocol: ProtocolName,
    code: int,
    expected: type[ResponseError],
    caplog: pytest.LogCaptureFixture,
    *,
    discover: bool,
) -> None:
    # Never a retry. Gradio answers a /call/ name it does not know with 500, so before the
    # Space was read (a cold client, not discover=True) a 500 alone reads /config (which has
    # infer here) and submits once more: the one rediscovery.
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    space.join_failures += [status(code, retry_after="0")] * 3
    async with AsyncFluxClient(BASE, protocol=protocol, token="", discover=discover) as client:
        with pytest.raises(expected) as caught:
            await generate(client)
    assert type(caught.value) is expected
    assert caught.value.status_code == code
    rediscovered = code == 500 and not discover
    assert space.submissions(protocol).call_count == (2 if rediscovered else 1)
    assert space.config.call_count == (1 if discover or rediscovered else 0)
    assert retry_logs(caplog) == []


async def test_500_without_infer_in_config_is_endpoint_not_found(space: Space) -> None:
    config = json.loads(CONFIG)
    for dependency in config["dependencies"]:
        dependency["api_name"] = "other"
    space.config_failures.append(lambda _request: httpx.Response(200, json=config))
    space.join_failures.append(status(500, body={"detail": "Internal Server Error"}))
    async with AsyncFluxClient(BASE, token="") as client:
        with pytest.raises(EndpointNotFoundError):
            await generate(client)
    assert space.join.call_count == 1
    assert space.config.call_count == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_500_after_a_job_was_taken_is_not_rediscovered(
    space: Space, protocol: ProtocolName
) -> None:
    async with AsyncFluxClient(BASE, protocol=protocol, token="") as client:
        assert (await generate(client)).seed == SEED
        space.join_failures.append(status(500))
        with pytest.raises(ResponseError) as caught:
            await generate(client)
    assert caught.value.status_code == 500
    assert space.submissions(protocol).call_count == 2
    assert space.config.call_count == 0


async def test_404_is_not_retried_but_rediscovered_once(
    space: Space, caplog: pytest.LogCaptureFixture
) -> None:
    # Not a retry: a 404 may mean the Space moved Gradio lines (the /gradio_api prefix), so the
    # client reads /config again and submits once more. Nothing was accepted either time.
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    space.join_failures += [status(404, body={"detail": "Not Found"})] * 3
    async with AsyncFluxClient(BASE, token="") as client:
        with pytest.raises(EndpointNotFoundError):
            await generate(client)
    assert space.join.call_count == 2
    # A cold client reads /config only after the first 404 (the guessed prefix's).
    assert space.config.call_count == 1
    assert retry_logs(caplog) == []


# A 404 is read as prefix drift: /config is read once more (the rediscovery), not retried.
@pytest.mark.parametrize(("code", "reads"), [(400, 1), (404, 2), (500, 1)])
async def test_config_errors_are_not_retried(space: Space, code: int, reads: int) -> None:
    space.config_failures += [status(code)] * 3
    async with AsyncFluxClient(BASE, token="", discover=True) as client:
        with pytest.raises(ResponseError):
            await generate(client)
    assert space.config.call_count == reads
    assert space.join.call_count == 0


async def test_retry_after_beyond_the_total_timeout_raises_at_once(space: Space) -> None:
    space.join_failures += [status(429, retry_after="3600")] * 3
    async with AsyncFluxClient(BASE, token="", timeout=Timeout(total=5)) as client:
        with pytest.raises(RateLimitError) as caught:
            await generate(client)
    assert caught.value.retry_after == datetime.timedelta(hours=1)
    assert space.join.call_count == 1


# -- max_retries --------------------------------------------------------------------------------


async def test_max_retries_per_client(space: Space) -> None:
    space.join_failures += [status(503, retry_after="0", body={"detail": "Queue is full."})] * 9
    async with AsyncFluxClient(BASE, token="", max_retries=0) as client:
        with pytest.raises(QueueFullError):
            await generate(client)
    assert space.join.call_count == 1


@pytest.mark.parametrize(("client_retries", "call_retries"), [(2, 0), (0, 4), (5, 1)])
async def test_max_retries_per_call(space: Space, client_retries: int, call_retries: int) -> None:
    space.join_failures += [status(429, retry_after="0")] * 9
    async with AsyncFluxClient(BASE, token="", max_retries=client_retries) as client:
        with pytest.raises(RateLimitError):
            await generate(client, max_retries=call_retries)
    assert space.join.call_count == call_retries + 1


@pytest.mark.parametrize("discover", [True, False])
async def test_max_retries_per_call_covers_discovery(space: Space, *, discover: bool) -> None:
    # Both ways /config is read for a job: first (discover=True), or after the guess's 404.
    space.config_failures += [status(503, retry_after="0")] * 9
    if not discover:
        space.join_failures.append(status(404, body={"detail": "Not Found"}))
    async with AsyncFluxClient(BASE, token="", max_retries=2, discover=discover) as client:
        with pytest.raises(SpaceUnavailableError):
            await generate(client, max_retries=0)
    assert space.config.call_count == 1
    assert space.join.call_count == (0 if discover else 1)


@pytest.mark.parametrize("bad", [-1, 1.5, "2", True])
async def test_max_retries_must_be_a_count(bad: object) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        AsyncFluxClient(BASE, max_retries=bad)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# -- wait_on_quota --------------------------------------------------------------------------------

SHORT_WAIT = "0:00:00.010000"
"""A wait the tests can afford, in ZeroGPU's str(timedelta) form."""


async def test_wait_on_quota_waits_and_submits_again(
    space: Space, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    space.streams.append(quota_stream(SHORT_WAIT))
    async with AsyncFluxClient(BASE, token="", wait_on_quota=True) as client:
        with anyio.fail_after(GUARD):
            async with client.stream("a red fox") as events:
                seen = [event async for event in events]
    assert space.join.call_count == 2
    assert seen[-1].type == "completed"
    (notice,) = [event for event in seen if isinstance(event, Log)]
    assert "wait_on_quota" in notice.message
    assert any("wait_on_quota" in message for message in retry_logs(caplog))


async def test_wait_on_quota_per_call_on_the_call_protocol(space: Space) -> None:
    space.streams.append(quota_call_stream(SHORT_WAIT))
    async with AsyncFluxClient(BASE, token="", protocol="call") as client:
        assert (await generate(client, wait_on_quota=True)).seed == SEED
    assert space.call.call_count == 2


async def test_quota_is_not_waited_for_by_default(space: Space) -> None:
    space.streams.append(quota_stream(SHORT_WAIT))
    async with AsyncFluxClient(BASE, token="") as client:
        with pytest.raises(QuotaExceededError) as caught:
            await generate(client)
    assert caught.value.retry_after == datetime.timedelta(milliseconds=10)
    assert space.join.call_count == 1


async def test_a_zero_wait_is_not_waited_for(space: Space) -> None:
    # spaces 0.40-0.48 say "Try again in 0:00:00" at the runs limit: no usable time, so
    # wait_on_quota gives up instead of submitting again at once, again and again.
    space.streams.append(quota_stream("0:00:00"))
    async with AsyncFluxClient(BASE, token="", wait_on_quota=True) as client:
        with anyio.fail_after(GUARD), pytest.raises(QuotaExceededError) as caught:
            await generate(client)
    assert caught.value.retry_after is None
    assert space.join.call_count == 1


async def test_quota_wait_longer_than_the_total_timeout_raises_at_once(
    space: Space, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="flux_sdk")
    space.streams.append(quota_stream("0:10:00"))
    timeout = Timeout(total=60)  # longer than the guard: waiting at all would trip it
    async with AsyncFluxClient(BASE, token="", wait_on_quota=True, timeout=timeout) as client:
        with pytest.raises(QuotaExceededError) as caught:
            await generate(client)
    assert caught.value.retry_after == datetime.timedelta(minutes=10)
    assert space.join.call_count == 1
    assert retry_logs(caplog) == []


async def test_quota_without_a_time_is_not_waited_for(space: Space) -> None:
    def no_time(event_id: str) -> bytes:
        return quota_stream("later")(event_id)

    space.streams.append(no_time)
    async with AsyncFluxClient(BASE, token="", wait_on_quota=True) as client:
        with pytest.raises(QuotaExceededError) as caught:
            await generate(client)
    assert caught.value.retry_after is None
    assert space.join.call_count == 1
