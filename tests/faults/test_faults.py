"""Fault injection on a real loopback socket: every fault ends in its documented outcome.

Each test runs under asyncio, trio and the sync client (`facade`), inside a hang guard, and
`run` checks that nothing outlived the client: no connection, no task, no thread. The fault
matrix in docs/reliability.md lists the same cases with measured times to fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flux_sdk import (
    DownloadError,
    FluxConnectionError,
    FluxTimeoutError,
    JobCancelledError,
    ProtocolError,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    SpaceUnavailableError,
    Timeout,
)
from flux_sdk._protocol import parse_config
from tests.faults._fixtures import peak_memory
from tests.faults._runner import TOKEN, Facade, Scenario, run
from tests.faults._server import Exchange, FaultServer, RefusedPort, Request
from tests.faults._space import (
    CONFIG,
    IMAGE,
    IMAGE_PATH,
    PREFIX,
    PROTOCOLS,
    FakeSpace,
    Protocol,
    call_message,
    html_page,
    queue_message,
)

MiB = 1024 * 1024
MEMORY_BOUND = 32 * MiB


def ports(*servers: FaultServer) -> list[int]:
    return [server.port for server in servers]


def wire(space: FakeSpace) -> list[str]:
    """The requests the Space got, in order, as ``METHOD path`` (file downloads left out)."""
    return [
        f"{r.method} {r.path}"
        for r in space.server.requests()
        if not r.path.startswith(f"{PREFIX}/file=")
    ]


def first_block(space: FakeSpace, protocol: Protocol, request: Request) -> bytes:
    """One ordinary, non-final block of the job's stream."""
    if protocol == "call":
        return space.heartbeat("call")
    return space.success("queue", space.event_id(request))[0]


# -- the happy path, as the baseline every fault is compared with ----------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_healthy_space_succeeds(facade: Facade, space: FakeSpace, protocol: Protocol) -> None:
    outcome = run(
        facade, space.url, Scenario(protocol=protocol, download=True), ports=ports(space.server)
    )
    assert outcome.succeeded().seed == 1234
    assert outcome.content == IMAGE
    (submit,) = space.submits(protocol)
    assert space.cancels() == []
    # Submitted by name, with no GET /config first (issue 14); the queue's body names our
    # session (followed on queue/data) and no fn_index.
    body = submit.json()
    assert set(body) == ({"data", "session_hash"} if protocol == "queue" else {"data"})
    (stream,) = space.streams(protocol)
    assert wire(space) == [f"POST {PREFIX}/call/infer", f"GET {stream.path}"]
    if protocol == "queue":
        assert stream.query["session_hash"] == body["session_hash"]


# -- cannot connect, or the connection breaks -------------------------------------------------


def test_connection_refused(facade: Facade, refused_port: RefusedPort) -> None:
    outcome = run(facade, refused_port.url, Scenario(), ports=[refused_port.port])
    error = outcome.raised(FluxConnectionError)
    assert "ConnectError" in str(error)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_reset_during_submit_is_not_retried(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    # The Space read the whole submission and may have queued it: a second one could run
    # (and bill ZeroGPU quota for) the same job twice.
    space.on_submit(protocol, lambda _request, exchange: exchange.reset())
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    outcome.raised(FluxConnectionError)
    assert len(space.submits(protocol)) == 1
    assert space.cancels() == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_close_without_response_during_submit_is_not_retried(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    space.on_submit(protocol, lambda _request, exchange: exchange.close())
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    error = outcome.raised(FluxConnectionError)
    assert "RemoteProtocolError" in str(error)
    assert len(space.submits(protocol)) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_reset_before_the_stream_answers(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    space.on_stream(protocol, lambda _request, exchange: exchange.reset())
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    outcome.raised(FluxConnectionError)
    # The job was accepted: abandoning it cancels it on the Space.
    assert len(space.cancels()) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_reset_mid_stream(facade: Facade, space: FakeSpace, protocol: Protocol) -> None:
    def reset_after_one_message(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(first_block(space, protocol, request))
        exchange.pause(0.1)
        exchange.reset()

    space.on_stream(protocol, reset_after_one_message)
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    outcome.raised(FluxConnectionError)
    assert space.cancels() == [space.event_id(space.streams(protocol)[0])]
    assert len(space.submits(protocol)) == 1
    # /cancel names the task by fn_index, which a job submitted by name does not know: the
    # client reads /config for it only now, just before the cancel.
    assert wire(space)[-2:] == ["GET /config", f"POST {PREFIX}/cancel"]
    assert len(space.server.requests("GET", "/config")) == 1
    (cancel,) = space.server.requests("POST", f"{PREFIX}/cancel")
    event_id = space.event_id(space.streams(protocol)[0])
    session_hash = space.submits(protocol)[0].json().get("session_hash", event_id)
    assert cancel.json() == {
        "fn_index": parse_config(json.loads(CONFIG)).fn_index,
        "session_hash": session_hash,
        "event_id": event_id,
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_stream_ends_without_a_result(facade: Facade, space: FakeSpace, protocol: Protocol) -> None:
    def end_early(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(first_block(space, protocol, request))
        exchange.end_stream()
        exchange.close()

    space.on_stream(protocol, end_early)
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    error = outcome.raised(ProtocolError)
    assert "closed the stream" in str(error)
    # The job may still run (a proxy cut the stream): it is cancelled.
    assert len(space.cancels()) == 1


def test_queue_stream_closes_without_a_result(facade: Facade, space: FakeSpace) -> None:
    def close_stream_only(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(space.success("queue", space.event_id(request))[0])
        exchange.chunk(queue_message({"msg": "close_stream", "event_id": None}))
        exchange.end_stream()

    space.on_stream("queue", close_stream_only)
    outcome = run(facade, space.url, Scenario(protocol="queue"), ports=ports(space.server))
    error = outcome.raised(ProtocolError)
    assert "without a result" in str(error)
    assert space.cancels() == []  # the Space ended the job itself


# -- the Space says something malformed or unexpected -----------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_malformed_json_in_a_data_line(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    def malformed(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(first_block(space, protocol, request))
        if protocol == "call":
            exchange.chunk(b'event: complete\ndata: [{"path": "/tmp/x", \n\n')
        else:
            exchange.chunk(b'data: {"msg": "process_completed", "output": {\n\n')
        space.keep_streaming(
            protocol, request, exchange, send=lambda _: space.heartbeat(protocol), every=0.1
        )

    space.on_stream(protocol, malformed)
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    error = outcome.raised(ProtocolError)
    assert "malformed JSON" in str(error)
    assert len(space.cancels()) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unknown_events_and_message_types_are_skipped(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    def with_novelties(request: Request, exchange: Exchange) -> None:
        event_id = space.event_id(request)
        exchange.start_stream()
        exchange.chunk(b": a comment line\n\n")
        exchange.chunk(call_message("surprise", {"new": "event type"}))
        exchange.chunk(queue_message({"msg": "process_streaming", "event_id": event_id}))
        exchange.chunk(queue_message({"msg": "brand_new_type", "event_id": event_id, "x": [1]}))
        exchange.chunk(queue_message({"msg": "estimation", "event_id": "someone-else"}))
        for block in space.success(protocol, event_id):
            exchange.chunk(block)
        exchange.end_stream()

    space.on_stream(protocol, with_novelties)
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    assert outcome.succeeded().seed == 1234


def test_blocks_without_data_are_not_events(facade: Facade, space: FakeSpace) -> None:
    def with_fields_only(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(b"id: 7\nretry: 1000\n\n")
        exchange.chunk(b"event: ping\n\n\n")
        for block in space.success("queue", space.event_id(request)):
            exchange.chunk(block)
        exchange.end_stream()

    space.on_stream("queue", with_fields_only)
    outcome = run(facade, space.url, Scenario(protocol="queue"), ports=ports(space.server))
    assert outcome.succeeded().seed == 1234


def test_call_complete_with_null_is_a_cancelled_job(facade: Facade, space: FakeSpace) -> None:
    def complete_null(_request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(call_message("complete", None))
        exchange.end_stream()

    space.on_stream("call", complete_null)
    outcome = run(facade, space.url, Scenario(protocol="call"), ports=ports(space.server))
    outcome.raised(JobCancelledError)
    assert space.cancels() == []


@pytest.mark.parametrize(
    ("output", "expected"),
    [({}, JobCancelledError), (None, ProtocolError), ({"data": None}, ProtocolError)],
    ids=["empty-output", "null-output", "null-data"],
)
def test_queue_completed_without_a_result(
    facade: Facade,
    space: FakeSpace,
    output: object,
    expected: type[Exception],
) -> None:
    def completed(request: Request, exchange: Exchange) -> None:
        message = {
            "msg": "process_completed",
            "event_id": space.event_id(request),
            "output": output,
            "success": True,
        }
        exchange.start_stream()
        exchange.chunk(queue_message(message))
        exchange.chunk(queue_message({"msg": "close_stream", "event_id": None}))
        exchange.end_stream()

    space.on_stream("queue", completed)
    outcome = run(facade, space.url, Scenario(protocol="queue"), ports=ports(space.server))
    outcome.raised(expected)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_stream_that_is_not_an_event_stream(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    space.on_stream(
        protocol,
        lambda _request, exchange: exchange.respond(
            200, "<html>hello</html>", content_type="text/html"
        ),
    )
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    error = outcome.raised(ProtocolError)
    assert "event stream" in str(error)


# -- too slow ------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_only_heartbeats_ends_at_the_total_timeout(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    # Heartbeats reset the idle limit, so only the total limit can end this job.
    def heartbeats(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        space.keep_streaming(
            protocol, request, exchange, send=lambda _: space.heartbeat(protocol), every=0.2
        )

    space.on_stream(protocol, heartbeats)
    scenario = Scenario(protocol=protocol, timeout=Timeout(total=1.5, idle=1, cancel=2))
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.raised(FluxTimeoutError).phase == "total"
    assert len(space.cancels()) == 1


def test_heartbeats_with_the_cancel_ignored(facade: Facade, space: FakeSpace) -> None:
    # A Space that neither finishes nor honours the cancel: the client still returns, after
    # the total limit plus at most the cancel limit.
    def heartbeats_forever(_request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        for _ in range(100):
            exchange.chunk(space.heartbeat("queue"))
            exchange.pause(0.2)
        exchange.end_stream()

    space.on_stream("queue", heartbeats_forever)
    scenario = Scenario(timeout=Timeout(total=1, idle=1, cancel=1))
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.raised(FluxTimeoutError).phase == "total"
    assert len(space.cancels()) == 1


@pytest.mark.parametrize("route", ["cancel", "config"])
def test_a_hanging_cancel_is_bounded_by_the_cancel_timeout(
    facade: Facade, space: FakeSpace, route: str
) -> None:
    # Neither the stream nor the cancel route ever answers: the client gives up on the cancel
    # after Timeout.cancel and still raises the timeout. The cancel first reads /config (for
    # the fn_index): one that never answers is bounded by the same Timeout.cancel, and then no
    # cancel without its fn_index is sent.
    def silent(_request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.pause(8)

    space.on_stream("queue", silent)
    if route == "cancel":
        space.server.route("POST", f"{PREFIX}/cancel", lambda _r, exchange: exchange.pause(8))
    else:
        space.on_config(lambda _r, exchange: exchange.pause(8))
    scenario = Scenario(timeout=Timeout(total=1, idle=5, cancel=0.5))
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.raised(FluxTimeoutError).phase == "total"
    assert len(space.server.requests("GET", "/config")) == 1
    cancels = space.server.requests("POST", f"{PREFIX}/cancel")
    assert len(cancels) == (1 if route == "cancel" else 0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_silent_stream_ends_at_the_idle_timeout(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    def silent(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        space.keep_streaming(protocol, request, exchange, send=lambda _: b"", every=0.1)

    space.on_stream(protocol, silent)
    scenario = Scenario(protocol=protocol, timeout=Timeout(total=None, idle=0.5, cancel=2))
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.raised(FluxTimeoutError).phase == "idle"
    assert len(space.cancels()) == 1


def _trickle(space: FakeSpace, protocol: Protocol) -> None:
    """A valid stream, one byte every 0.1 s."""

    def trickle(request: Request, exchange: Exchange) -> None:
        data = b"".join(space.success(protocol, space.event_id(request)))
        exchange.start_stream()
        space.keep_streaming(
            protocol,
            request,
            exchange,
            send=lambda i: data[i : i + 1] or None,
            every=0.1,
            limit=len(data) + 1,
        )

    space.on_stream(protocol, trickle)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_trickled_stream_ends_at_the_total_timeout(
    facade: Facade, space: FakeSpace, protocol: Protocol
) -> None:
    _trickle(space, protocol)
    scenario = Scenario(protocol=protocol, timeout=Timeout(total=1.5, cancel=2))
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.raised(FluxTimeoutError).phase == "total"
    assert len(space.cancels()) == 1


def test_trickled_stream_ends_at_the_idle_timeout_without_a_total(
    facade: Facade, space: FakeSpace
) -> None:
    # The idle limit is per event, not per byte: a slow-loris Space cannot hold the client
    # even with no total limit.
    _trickle(space, "queue")
    scenario = Scenario(timeout=Timeout(total=None, idle=1, cancel=2))
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.raised(FluxTimeoutError).phase == "idle"


def test_slow_submit_answer_ends_at_the_total_timeout(facade: Facade, space: FakeSpace) -> None:
    def never_answers(_request: Request, exchange: Exchange) -> None:
        exchange.pause(10)

    space.on_submit("queue", never_answers)
    scenario = Scenario(timeout=Timeout(total=1, idle=5, cancel=1))
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.raised(FluxTimeoutError).phase == "total"
    assert len(space.submits("queue")) == 1


# -- too big -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("traced")
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_oversized_line_is_refused_with_bounded_memory(
    facade: Facade, request: pytest.FixtureRequest, space: FakeSpace, protocol: Protocol
) -> None:
    piece = b"x" * (64 * 1024)

    def endless_line(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(first_block(space, protocol, request))
        exchange.chunk(b"data: ")
        for _ in range(8 * MiB // len(piece)):  # 8 MiB, no newline
            exchange.chunk(piece)
        exchange.end_stream()

    space.on_stream(protocol, endless_line)
    outcome = run(
        facade, space.url, Scenario(protocol=protocol), ports=ports(space.server), check_tasks=False
    )
    error = outcome.raised(ProtocolError)
    assert "larger than" in str(error)
    assert peak_memory() < MEMORY_BOUND
    assert len(space.cancels()) == 1
    outcome.assert_nothing_abandoned()


@pytest.mark.usefixtures("traced")
def test_oversized_json_answer_is_refused_with_bounded_memory(
    facade: Facade, request: pytest.FixtureRequest, space: FakeSpace
) -> None:
    piece = b" " * (64 * 1024)

    def huge_answer(_request: Request, exchange: Exchange) -> None:
        exchange.start_stream(content_type="application/json")
        exchange.chunk(b'{"event_id": "')
        for _ in range(16 * MiB // len(piece)):
            exchange.chunk(piece)
        exchange.chunk(b'"}')
        exchange.end_stream()

    space.on_submit("queue", huge_answer)
    outcome = run(facade, space.url, Scenario(), ports=ports(space.server), check_tasks=False)
    error = outcome.raised(ProtocolError)
    assert "larger than" in str(error)
    assert peak_memory() < MEMORY_BOUND
    outcome.assert_nothing_abandoned()


@pytest.mark.usefixtures("traced")
def test_oversized_error_page_is_read_only_in_part(
    facade: Facade, request: pytest.FixtureRequest, space: FakeSpace
) -> None:
    piece = b"<p>" + b"y" * (64 * 1024) + b"</p>"

    def huge_error(_request: Request, exchange: Exchange) -> None:
        exchange.start_stream(500, content_type="text/html")
        exchange.chunk(b"<html><head><title>Internal Server Error</title></head><body>")
        for _ in range(16 * MiB // len(piece)):
            exchange.chunk(piece)
        exchange.end_stream()

    space.on_submit("queue", huge_error)
    # discover=True: the Space is known, so the 500 is not a cold job's rediscovery either.
    scenario = Scenario(discover=True)
    outcome = run(facade, space.url, scenario, ports=ports(space.server), check_tasks=False)
    error = outcome.raised(ResponseError)
    assert error.status_code == 500
    assert error.message == "Internal Server Error"
    assert peak_memory() < MEMORY_BOUND
    assert len(space.submits("queue")) == 1
    outcome.assert_nothing_abandoned()


# -- HTTP errors from the Space or its proxy ---------------------------------------------------

# The HF proxy's pages: a 503 that is not Gradio's JSON "Queue is full" means a sleeping,
# building or paused Space.
HTML_ERRORS: list[tuple[int, str, type[ResponseError], dict[str, str]]] = [
    (429, "429 Too Many Requests", RateLimitError, {"retry-after": "0.01"}),
    (502, "502 Bad Gateway", SpaceUnavailableError, {}),
    (503, "503 Service Temporarily Unavailable", SpaceUnavailableError, {"retry-after": "0"}),
    (504, "504 Gateway Time-out", SpaceUnavailableError, {"retry-after": "0.01"}),
]


@pytest.mark.parametrize(("status", "title", "expected", "headers"), HTML_ERRORS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_html_error_pages_on_submit_after_retries(
    facade: Facade,
    space: FakeSpace,
    protocol: Protocol,
    status: int,
    title: str,
    expected: type[ResponseError],
    headers: dict[str, str],
) -> None:
    def proxy_page(_request: Request, exchange: Exchange) -> None:
        exchange.respond(
            status, html_page(title, status), content_type="text/html", headers=headers
        )

    space.on_submit(protocol, proxy_page)
    outcome = run(facade, space.url, Scenario(protocol=protocol), ports=ports(space.server))
    error = outcome.raised(expected)
    assert error.status_code == status
    assert error.message == title
    assert len(space.submits(protocol)) == 3  # max_retries=2: sent, then retried twice


@pytest.mark.parametrize(("status", "title", "expected", "headers"), HTML_ERRORS)
def test_html_error_pages_on_config_after_retries(
    facade: Facade,
    space: FakeSpace,
    status: int,
    title: str,
    expected: type[ResponseError],
    headers: dict[str, str],
) -> None:
    def proxy_page(_request: Request, exchange: Exchange) -> None:
        exchange.respond(
            status, html_page(title, status), content_type="text/html", headers=headers
        )

    space.on_config(proxy_page)
    # discover=True reads /config before the job; a cold client would not read it at all.
    scenario = Scenario(max_retries=1, discover=True)
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    error = outcome.raised(expected)
    assert error.message == title
    assert len(space.server.requests("GET", "/config")) == 2


def test_a_transient_503_then_success(facade: Facade, space: FakeSpace) -> None:
    joins: list[int] = []
    healthy = space.healthy_submit("queue")

    def busy_once(request: Request, exchange: Exchange) -> None:
        joins.append(1)
        if len(joins) == 1:
            exchange.respond_json(
                {"detail": "Queue is full. Max size is 2 and size is 2."},
                503,
                headers={"retry-after": "0"},
            )
        else:
            healthy(request, exchange)

    space.on_submit("queue", busy_once)
    outcome = run(facade, space.url, Scenario(), ports=ports(space.server))
    assert outcome.succeeded().seed == 1234
    assert len(space.submits("queue")) == 2


def test_queue_full_after_retries(facade: Facade, space: FakeSpace) -> None:
    space.on_submit(
        "queue",
        lambda _r, exchange: exchange.respond_json(
            {"detail": "Queue is full. Max size is 2 and size is 2."},
            503,
            headers={"retry-after": "0"},
        ),
    )
    outcome = run(facade, space.url, Scenario(max_retries=1), ports=ports(space.server))
    error = outcome.raised(QueueFullError)
    assert error.message == "Queue is full. Max size is 2 and size is 2."
    assert len(space.submits("queue")) == 2


# -- the result file -------------------------------------------------------------------------


def test_result_url_on_another_origin_gets_no_token(
    facade: Facade, space: FakeSpace, other_host: FaultServer
) -> None:
    other_host.route(
        "GET", "/", lambda _r, exchange: exchange.respond(200, IMAGE, content_type="image/webp")
    )
    space.result_url = f"{other_host.url}/cdn/image.webp"
    scenario = Scenario(token=TOKEN, download=True)
    outcome = run(facade, space.url, scenario, ports=ports(space.server, other_host))
    assert outcome.content == IMAGE
    (fetched,) = other_host.requests("GET", "/cdn/image.webp")
    assert TOKEN.encode() not in fetched.head
    assert all(TOKEN.encode() in r.head for r in space.server.requests())


def test_redirect_to_another_host_gets_no_token(
    facade: Facade, space: FakeSpace, other_host: FaultServer
) -> None:
    other_host.route(
        "GET", "/", lambda _r, exchange: exchange.respond(200, IMAGE, content_type="image/webp")
    )
    space.on_file(
        lambda _r, exchange: exchange.respond(
            302, b"", headers={"location": f"{other_host.url}/moved/image.webp"}
        )
    )
    scenario = Scenario(token=TOKEN, download=True)
    outcome = run(facade, space.url, scenario, ports=ports(space.server, other_host))
    assert outcome.content == IMAGE
    (fetched,) = other_host.requests("GET", "/moved/image.webp")
    assert TOKEN.encode() not in fetched.head
    (file_request,) = space.files()
    assert TOKEN.encode() in file_request.head


def test_relative_result_url_resolves_against_the_space(facade: Facade, space: FakeSpace) -> None:
    space.result_url = f"{PREFIX}/file={IMAGE_PATH}"
    scenario = Scenario(token=TOKEN, download=True)
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.succeeded().url == f"{space.url}{PREFIX}/file={IMAGE_PATH}"
    assert outcome.content == IMAGE
    (file_request,) = space.files()
    assert TOKEN.encode() in file_request.head


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/image.webp"])
def test_non_http_result_url_is_never_fetched(facade: Facade, space: FakeSpace, url: str) -> None:
    space.result_url = url
    outcome = run(facade, space.url, Scenario(download=True), ports=ports(space.server))
    error = outcome.raised(DownloadError)
    assert "non-http" in str(error)
    assert outcome.generation is not None
    assert outcome.generation.url == url
    assert space.files() == []


def test_redirect_to_a_file_url_is_refused(facade: Facade, space: FakeSpace) -> None:
    space.on_file(
        lambda _r, exchange: exchange.respond(302, b"", headers={"location": "file:///etc/passwd"})
    )
    outcome = run(facade, space.url, Scenario(download=True), ports=ports(space.server))
    outcome.raised(DownloadError)


def test_download_http_error(facade: Facade, space: FakeSpace) -> None:
    space.on_file(
        lambda _r, exchange: exchange.respond_json(
            {"detail": f"File not allowed: {IMAGE_PATH}."}, 403
        )
    )
    outcome = run(facade, space.url, Scenario(download=True), ports=ports(space.server))
    error = outcome.raised(DownloadError)
    assert error.status_code == 403
    assert error.message == f"File not allowed: {IMAGE_PATH}."


def test_download_reset_mid_body(facade: Facade, space: FakeSpace) -> None:
    def half_then_reset(_request: Request, exchange: Exchange) -> None:
        exchange.start_stream(content_type="image/webp")
        exchange.chunk(IMAGE[:100])
        exchange.pause(0.1)
        exchange.reset()

    space.on_file(half_then_reset)
    outcome = run(facade, space.url, Scenario(download=True), ports=ports(space.server))
    outcome.raised(FluxConnectionError)


def test_truncated_save_leaves_no_file(facade: Facade, space: FakeSpace, tmp_path: Path) -> None:
    def short_body(_request: Request, exchange: Exchange) -> None:
        # Content-Length promises more than is sent, then a clean close.
        exchange.send(
            b"HTTP/1.1 200 OK\r\ncontent-type: image/webp\r\n"
            + f"content-length: {len(IMAGE)}\r\n\r\n".encode()
            + IMAGE[:100]
        )
        exchange.close()

    space.on_file(short_body)
    target = tmp_path / "out.webp"
    outcome = run(facade, space.url, Scenario(save_to=target), ports=ports(space.server))
    outcome.raised(FluxConnectionError)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("traced")
def test_oversized_download_is_cut_off(
    facade: Facade, request: pytest.FixtureRequest, space: FakeSpace, tmp_path: Path
) -> None:
    piece = b"z" * (64 * 1024)
    endless = 256 * MiB

    def endless_body(_request: Request, exchange: Exchange) -> None:
        exchange.start_stream(content_type="image/webp")
        for _ in range(endless // len(piece)):
            exchange.chunk(piece)
        exchange.end_stream()

    space.on_file(endless_body)
    target = tmp_path / "out.webp"
    scenario = Scenario(save_to=target, max_download_bytes=2 * MiB)
    outcome = run(facade, space.url, scenario, ports=ports(space.server), check_tasks=False)
    error = outcome.raised(DownloadError)
    assert "max_download_bytes" in str(error)
    assert list(tmp_path.iterdir()) == []
    assert peak_memory() < MEMORY_BOUND
    assert space.server.bytes_sent < endless // 4
    outcome.assert_nothing_abandoned()


def test_declared_oversized_download_is_refused_before_the_body(
    facade: Facade, space: FakeSpace
) -> None:
    def declared_huge(_request: Request, exchange: Exchange) -> None:
        exchange.send(
            b"HTTP/1.1 200 OK\r\ncontent-type: image/webp\r\n"
            + f"content-length: {1024 * MiB}\r\n\r\n".encode()
        )
        exchange.pause(5)

    space.on_file(declared_huge)
    scenario = Scenario(download=True, max_download_bytes=MiB)
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    outcome.raised(DownloadError)


# -- hostile values: every failure must still be a FluxError -----------------------------------

NESTED = "[" * 100_000 + "]" * 100_000
HUGE = "1" + "0" * 400  # a valid JSON integer, too large for a float


def _hostile(name: str, message: str, expected: tuple[type[Exception], ...], bug: str) -> object:
    return pytest.param(
        message,
        expected,
        id=name,
    )


HOSTILE = [
    # (the message's JSON, EID standing for the job's event_id; the right outcomes; the bug)
    _hostile(
        "deeply-nested-json",
        NESTED,
        (ProtocolError,),
        "json.loads raises RecursionError, which _protocol/_json.py loads() does not catch "
        "(only ValueError): catch RecursionError too",
    ),
    _hostile(
        "huge-integer-eta",
        '{"msg":"estimation","event_id":"EID","rank":0,"queue_size":1,"rank_eta":' + HUGE + "}",
        (ProtocolError,),
        "_decode._opt_float calls float() on a 400-digit int: OverflowError; return None "
        "when the value is not finite as a float",
    ),
    _hostile(
        "invalid-ipv6-result-url",
        '{"msg":"process_completed","event_id":"EID","success":true,'
        '"output":{"data":[{"path":"/tmp/x.webp","url":"http://[::1/x.webp"},1]}}',
        (ProtocolError, DownloadError),
        "_decode._absolute_url calls urlsplit() on the Space's url: ValueError('Invalid IPv6 "
        "URL'); turn it into ProtocolError",
    ),
    _hostile(
        "quota-retry-in-ten-million-years",
        '{"msg":"process_completed","event_id":"EID","success":false,'
        '"output":{"error":"You have exceeded your ZeroGPU quota. Try again in '
        '99999999999:00:00.","title":"ZeroGPU quota exceeded"}}',
        (QuotaExceededError,),
        "_classify.parse_retry_after builds timedelta(hours=99999999999): OverflowError; "
        "bound the hours (or catch OverflowError and give retry_after=None)",
    ),
]


@pytest.mark.parametrize(("message", "expected"), HOSTILE)
def test_hostile_stream_values_end_in_a_flux_error(
    facade: Facade, space: FakeSpace, message: str, expected: tuple[type[Exception], ...]
) -> None:
    def hostile(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(b"data: " + message.replace("EID", space.event_id(request)).encode())
        exchange.chunk(b"\n\n")
        exchange.chunk(queue_message({"msg": "close_stream", "event_id": None}))
        exchange.end_stream()

    space.on_stream("queue", hostile)
    outcome = run(facade, space.url, Scenario(download=True), ports=ports(space.server))
    assert isinstance(outcome.error, expected), f"expected {expected}, got {outcome.error!r}"


@pytest.mark.parametrize("value", ["1e400", "nan"])
def test_hostile_retry_after_header_ends_in_a_flux_error(
    facade: Facade, space: FakeSpace, value: str
) -> None:
    space.on_submit(
        "queue",
        lambda _r, exchange: exchange.respond_json(
            {"error": "Too Many Requests"}, 429, headers={"retry-after": value}
        ),
    )
    outcome = run(facade, space.url, Scenario(max_retries=0), ports=ports(space.server))
    assert isinstance(outcome.error, RateLimitError), f"got {outcome.error!r}"
