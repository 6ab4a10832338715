"""A client's whole life is bounded: in time, in memory, in what a bad answer can leave behind.

Over real sockets, under asyncio, trio and the sync client, each with the runner's checks
(nothing left open). One test per bound:

- every wait for bytes from the Space is bounded by ``Timeout.idle`` as a whole, also with
  ``total=None``: a Space trickling a response's head, the /config body, a submission's answer
  or a download cannot stretch it;
- no Content-Encoding (gzip, deflate, stacked, br, zstd) lets decoded bytes outgrow the caps:
  they apply while inflating;
- SSE comments and blank keep-alives never count toward the event cap;
- a connection that misbehaved is never reused: the next job succeeds on a fresh one;
- a download must be an image (or a generic binary type).

The fault matrix in docs/reliability.md lists these cases with their measured results.
"""

from __future__ import annotations

import functools
import gzip
import importlib
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import anyio
import pytest

from flux_sdk import (
    DownloadError,
    FluxConnectionError,
    FluxTimeoutError,
    ProtocolError,
    ResponseError,
    Timeout,
)
from flux_sdk._protocol import accept_encoding
from tests.faults._fixtures import peak_memory
from tests.faults._runner import (
    GUARD,
    PROMPT,
    Facade,
    Outcome,
    Scenario,
    _async_client,  # pyright: ignore[reportPrivateUsage]
    _sync_client,  # pyright: ignore[reportPrivateUsage]
    abandoned_async_generators,
    open_connections,
    run,
)
from tests.faults._server import Exchange, FaultServer, Request
from tests.faults._space import CONFIG, IMAGE, FakeSpace

MiB = 1024 * 1024
MEMORY_BOUND = 32 * MiB
BOMB = 256 * MiB
"""What each compression bomb inflates to: far past every cap, from a few KB on the wire."""
PAD = "x" * 200
"""Padding that makes a trickled head take seconds: far longer than the idle limit used."""
IDLE = Timeout(connect=5, idle=0.5, total=None, cancel=2)


def ports(*servers: FaultServer) -> list[int]:
    return [server.port for server in servers]


def brotli_compress(chunks: list[bytes]) -> bytes:
    # brotli ships no type information; this is all the tests need of it.
    brotli: Any = importlib.import_module("brotli")
    packer = brotli.Compressor(quality=5)
    return b"".join([*(packer.process(c) for c in chunks), packer.finish()])


def zstd_compress(chunks: list[bytes]) -> bytes:
    from backports import zstd  # the test environment installs it below Python 3.14

    packer = zstd.ZstdCompressor(level=3)
    return b"".join([*(packer.compress(c) for c in chunks), packer.flush()])


def trickle(exchange: Exchange, data: bytes, every: float = 0.05) -> None:
    """Send ``data`` one byte every ``every`` s; ends when the client hangs up."""
    for index in range(len(data)):
        exchange.send(data[index : index + 1])
        exchange.pause(every)


def head(content_type: str = "application/json", **fields: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", f"content-type: {content_type}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in fields.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# -- 6. every wait is bounded --------------------------------------------------------------------


def _trickled_head(content_type: str) -> Callable[[Request, Exchange], None]:
    return lambda _r, exchange: trickle(exchange, head(content_type, x_pad=PAD))


def _trickled_body(content_type: str, body: bytes) -> Callable[[Request, Exchange], None]:
    def handler(_request: Request, exchange: Exchange) -> None:
        exchange.send(head(content_type, content_length=str(len(body))))
        trickle(exchange, body)

    return handler


PHASES = ["config-body", "submit-head", "submit-body", "stream-head", "download-head", "download"]


def _install_trickle(space: FakeSpace, phase: str) -> None:
    if phase == "config-body":
        space.on_config(_trickled_body("application/json", b'{"pad": "' + PAD.encode() + b'"}'))
    elif phase == "submit-head":
        space.on_submit("queue", _trickled_head("application/json"))
    elif phase == "submit-body":
        space.on_submit("queue", _trickled_body("application/json", f'{{"x": "{PAD}"}}'.encode()))
    elif phase == "stream-head":
        space.on_stream("queue", _trickled_head("text/event-stream"))
    elif phase == "download-head":
        space.on_file(_trickled_head("image/webp"))
    else:
        space.on_file(_trickled_body("image/webp", IMAGE))


@pytest.mark.parametrize("phase", PHASES)
def test_a_trickling_space_cannot_stretch_a_phase_past_idle(
    facade: Facade, space: FakeSpace, phase: str
) -> None:
    # One byte every 0.05 s: httpx's read limit (0.5 s) never runs out, and with total=None
    # nothing else would end the wait before the Space was done, seconds later.
    _install_trickle(space, phase)
    download = phase.startswith("download")
    # A cold client reads /config only when needed: discover=True reads it before the job.
    discover = phase == "config-body"
    scenario = Scenario(timeout=IDLE, max_retries=0, download=download, discover=discover)
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    error = outcome.raised(FluxTimeoutError)
    assert (error.phase, error.seconds) == ("idle", 0.5)
    if phase == "stream-head":
        assert len(space.cancels()) == 1  # the job was accepted: it is cancelled


@pytest.mark.parametrize("phase", ["config-body", "submit-head", "download"])
def test_a_trickle_past_the_total_names_the_total(
    facade: Facade, space: FakeSpace, phase: str
) -> None:
    _install_trickle(space, phase)
    timeout = Timeout(connect=5, idle=5, total=0.5, cancel=2)
    scenario = Scenario(
        timeout=timeout,
        max_retries=0,
        download=phase == "download",
        discover=phase == "config-body",
    )
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    error = outcome.raised(FluxTimeoutError)
    assert (error.phase, error.seconds) == ("total", 0.5)


def test_a_trickled_config_is_retried_like_a_read_timeout(facade: Facade, space: FakeSpace) -> None:
    # GET /config changes nothing, so an answer that did not come in time is asked again.
    calls: list[int] = []
    slow = _trickled_body("application/json", b'{"pad": "' + PAD.encode() + b'"}')

    def slow_once(request: Request, exchange: Exchange) -> None:
        calls.append(1)
        if len(calls) == 1:
            slow(request, exchange)
        else:
            exchange.respond(200, CONFIG)

    space.on_config(slow_once)
    timeout = Timeout(connect=5, idle=0.5, total=None)
    scenario = Scenario(timeout=timeout, max_retries=1, discover=True)
    outcome = run(facade, space.url, scenario, ports=ports(space.server))
    assert outcome.succeeded().seed == 1234
    assert len(calls) == 2


# -- 7. memory stays bounded whatever the encoding -------------------------------------------------


@functools.cache
def bomb(coding: str) -> bytes:
    """``data: `` and BOMB zero bytes, in ``coding`` (as the Content-Encoding header says it)."""
    plain_prefix = b"data: "
    zeros = bytes(MiB)

    def deflate(wbits: int) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
        parts = [packer.compress(plain_prefix)]
        parts += [packer.compress(zeros) for _ in range(BOMB // MiB)]
        return b"".join([*parts, packer.flush()])

    if coding == "gzip":
        return deflate(16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return deflate(zlib.MAX_WBITS)
    if coding == "gzip, gzip":
        return gzip.compress(bomb("gzip"), 9)
    if coding == "br":
        return brotli_compress([plain_prefix, *(zeros for _ in range(BOMB // MiB))])
    if coding == "zstd":
        return zstd_compress([plain_prefix, *(zeros for _ in range(BOMB // MiB))])
    raise AssertionError(coding)


CODINGS = ["gzip", "deflate", "gzip, gzip", "br", "zstd"]


def _send_bomb(
    exchange: Exchange, coding: str, content_type: str, status: int = 200, chunked: bool = False
) -> None:
    body = bomb(coding)
    framing = {"transfer-encoding": "chunked"} if chunked else {"content-length": str(len(body))}
    fields = {"content-type": content_type, "content-encoding": coding, **framing}
    if chunked:
        exchange.start_stream(status, content_type=content_type, headers=fields)
        for start in range(0, len(body), 64 * 1024):
            exchange.chunk(body[start : start + 64 * 1024])
        exchange.end_stream()
    else:
        exchange.respond(status, body, content_type=content_type, headers=fields)


@pytest.mark.usefixtures("traced")
@pytest.mark.parametrize("coding", CODINGS)
def test_a_compressed_event_bomb_stops_at_the_event_cap(
    facade: Facade, space: FakeSpace, coding: str
) -> None:
    space.on_stream(
        "queue",
        lambda _r, exchange: _send_bomb(exchange, coding, "text/event-stream", chunked=True),
    )
    outcome = run(facade, space.url, Scenario(), ports=ports(space.server), check_tasks=False)
    error = outcome.raised(ProtocolError)
    assert "larger than" in str(error)
    assert peak_memory() < MEMORY_BOUND
    assert len(space.cancels()) == 1
    outcome.assert_nothing_abandoned()


@pytest.mark.usefixtures("traced")
@pytest.mark.parametrize("coding", ["gzip", "deflate", "gzip, gzip"])
@pytest.mark.parametrize("route", ["config", "submit"])
def test_a_compressed_json_bomb_stops_at_the_json_cap(
    facade: Facade, space: FakeSpace, coding: str, route: str
) -> None:
    def send(_request: Request, exchange: Exchange) -> None:
        _send_bomb(exchange, coding, "application/json")

    if route == "config":
        space.on_config(send)
    else:
        space.on_submit("queue", send)
    scenario = Scenario(max_retries=0, discover=route == "config")
    outcome = run(facade, space.url, scenario, ports=ports(space.server), check_tasks=False)
    error = outcome.raised(ProtocolError)
    assert "larger than 8388608 bytes" in str(error)
    assert peak_memory() < MEMORY_BOUND
    outcome.assert_nothing_abandoned()


@pytest.mark.usefixtures("traced")
def test_a_compressed_error_page_is_read_only_in_part(facade: Facade, space: FakeSpace) -> None:
    space.on_submit("queue", lambda _r, exchange: _send_bomb(exchange, "gzip", "text/html", 500))
    outcome = run(facade, space.url, Scenario(), ports=ports(space.server), check_tasks=False)
    assert outcome.raised(ResponseError).status_code == 500
    assert peak_memory() < MEMORY_BOUND
    outcome.assert_nothing_abandoned()


@pytest.mark.usefixtures("traced")
@pytest.mark.parametrize("coding", CODINGS)
def test_a_compressed_download_bomb_stops_at_max_download_bytes(
    facade: Facade, space: FakeSpace, coding: str, tmp_path: Path
) -> None:
    space.on_file(lambda _r, exchange: _send_bomb(exchange, coding, "image/webp"))
    target = tmp_path / "out.webp"
    scenario = Scenario(save_to=target, max_download_bytes=2 * MiB)
    outcome = run(facade, space.url, scenario, ports=ports(space.server), check_tasks=False)
    error = outcome.raised(DownloadError)
    assert "max_download_bytes" in str(error)
    assert list(tmp_path.iterdir()) == []
    assert peak_memory() < MEMORY_BOUND
    outcome.assert_nothing_abandoned()


def test_an_encoding_that_cannot_be_read_is_named(facade: Facade, space: FakeSpace) -> None:
    def compress(_request: Request, exchange: Exchange) -> None:
        exchange.respond(200, b"\x1f\x9d\x90", headers={"content-encoding": "compress"})

    space.on_submit("queue", compress)
    outcome = run(facade, space.url, Scenario(), ports=ports(space.server))
    assert "'compress'" in str(outcome.raised(ProtocolError))


@pytest.mark.parametrize("coding", CODINGS)
def test_a_compressed_healthy_job_succeeds(facade: Facade, space: FakeSpace, coding: str) -> None:
    # The same decoder that bounds the bombs reads honest compressed answers and streams.
    def encoded(data: bytes) -> bytes:
        for layer in [c.strip() for c in coding.split(",")]:
            if layer == "gzip":
                data = gzip.compress(data)
            elif layer == "deflate":
                data = zlib.compress(data)
            elif layer == "br":
                data = brotli_compress([data])
            else:
                data = zstd_compress([data])
        return data

    def stream(request: Request, exchange: Exchange) -> None:
        body = encoded(b"".join(space.success("queue", space.event_id(request))))
        exchange.start_stream(headers={"content-encoding": coding})
        for index in range(len(body)):  # one byte a chunk: every split of the coded stream
            exchange.chunk(body[index : index + 1])
        exchange.end_stream()

    def file(_request: Request, exchange: Exchange) -> None:
        body = encoded(IMAGE)
        exchange.respond(200, body, content_type="image/webp", headers={"content-encoding": coding})

    space.on_stream("queue", stream)
    space.on_file(file)
    outcome = run(facade, space.url, Scenario(download=True), ports=ports(space.server))
    assert outcome.succeeded().seed == 1234
    assert outcome.content == IMAGE
    for request in space.server.requests():
        assert request.headers.get("accept-encoding") == accept_encoding()
    assert accept_encoding() == "gzip, deflate, br, zstd"  # both decoders are test deps


# -- 8. heartbeats and comments are not events --------------------------------------------------


@pytest.mark.parametrize(
    "keepalive", [b": heartbeat\n", b"\n", b":\r\n", b"\r"], ids=["comment", "lf", "crlf", "cr"]
)
def test_a_million_keepalives_before_the_result_are_not_an_event(
    facade: Facade, space: FakeSpace, keepalive: bytes
) -> None:
    # Over 4 MiB of them, without one blank line between comments: none count toward the cap.
    lines = keepalive * (1_000_000 if len(keepalive) > 4 else 5_000_000)

    def keepalives(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        for start in range(0, len(lines), 256 * 1024):
            exchange.chunk(lines[start : start + 256 * 1024])
        for block in space.success("queue", space.event_id(request)):
            exchange.chunk(block)
        exchange.end_stream()

    space.on_stream("queue", keepalives)
    outcome = run(facade, space.url, Scenario(), ports=ports(space.server))
    assert outcome.succeeded().seed == 1234


@pytest.mark.usefixtures("traced")
def test_one_huge_comment_line_is_still_refused(facade: Facade, space: FakeSpace) -> None:
    piece = b"y" * (64 * 1024)

    def huge_comment(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        exchange.chunk(space.success("queue", space.event_id(request))[0])
        exchange.chunk(b": ")
        for _ in range(8 * MiB // len(piece)):
            exchange.chunk(piece)
        exchange.end_stream()

    space.on_stream("queue", huge_comment)
    outcome = run(facade, space.url, Scenario(), ports=ports(space.server), check_tasks=False)
    assert "a line larger than" in str(outcome.raised(ProtocolError))
    # A comment's text is never kept, so even the bound's 4 MiB is not held.
    assert peak_memory() < 4 * MiB
    outcome.assert_nothing_abandoned()


# -- 9. a connection that misbehaved is never reused -------------------------------------------


def _run_jobs_async(url: str, scenario: Scenario, jobs: int, backend: str) -> list[Outcome]:
    async def main() -> list[Outcome]:
        outcomes: list[Outcome] = []
        tasks_before = len(anyio.get_running_tasks())
        with abandoned_async_generators() as abandoned, anyio.fail_after(GUARD):
            async with _async_client(url, scenario) as client:
                for _ in range(jobs):
                    outcome = Outcome()
                    outcomes.append(outcome)
                    try:
                        outcome.generation = await client.generate(PROMPT)
                        if scenario.download:
                            outcome.content = await client.download(outcome.generation)
                    except Exception as exc:
                        outcome.error = exc
        for outcome in outcomes:
            outcome.abandoned = abandoned
            outcome.extra_tasks = len(anyio.get_running_tasks()) - tasks_before
        return outcomes

    return anyio.run(main, backend=backend)


def _run_jobs_sync(url: str, scenario: Scenario, jobs: int) -> list[Outcome]:
    outcomes: list[Outcome] = []

    def worker() -> None:
        with _sync_client(url, scenario) as client:
            for _ in range(jobs):
                outcome = Outcome()
                outcomes.append(outcome)
                try:
                    outcome.generation = client.generate(PROMPT)
                    if scenario.download:
                        outcome.content = client.download(outcome.generation)
                except Exception as exc:
                    outcome.error = exc

    thread = threading.Thread(target=worker, name="fault-scenario", daemon=True)
    thread.start()
    thread.join(GUARD)
    if thread.is_alive():
        pytest.fail(f"hang: the jobs did not end within the {GUARD} s guard")
    return outcomes


def run_jobs(
    facade: Facade, url: str, scenario: Scenario, *, jobs: int, ports: Collection[int]
) -> list[Outcome]:
    """``jobs`` jobs one after another on one client, then the runner's checks."""
    threads_before = set(threading.enumerate())
    if facade == "sync":
        outcomes = _run_jobs_sync(url, scenario, jobs)
    else:
        outcomes = _run_jobs_async(url, scenario, jobs, facade)
    assert open_connections(ports) == [], "a connection outlived the client"
    extra = [
        t.name
        for t in threading.enumerate()
        if t not in threads_before
        and t.is_alive()
        and not t.name.startswith(("fault-server", "Trio thread", "AnyIO worker thread"))
    ]
    assert extra == [], f"threads outlived the client: {extra}"
    for outcome in outcomes:
        outcome.assert_nothing_abandoned()
    return outcomes


class Connections:
    """Which connection (server-side `Exchange`) each request came on."""

    def __init__(self, space: FakeSpace) -> None:
        self.seen: list[tuple[str, Exchange]] = []
        self._lock = threading.Lock()
        self._space = space

    def wrap(
        self, name: str, handler: Callable[[Request, Exchange], None]
    ) -> Callable[[Request, Exchange], None]:
        def recorded(request: Request, exchange: Exchange) -> None:
            with self._lock:
                self.seen.append((name, exchange))
            handler(request, exchange)

        return recorded

    def reused_after(self, name: str) -> bool:
        """Whether a request after the first ``name`` request came on that one's connection."""
        with self._lock:
            index = next(i for i, (seen, _) in enumerate(self.seen) if seen == name)
            misbehaved = self.seen[index][1]
            return any(exchange is misbehaved for _, exchange in self.seen[index + 1 :])


def _after(misbehaving: Callable[[Request, Exchange], None]) -> Callable[[Request, Exchange], None]:
    """``misbehaving`` for the first request, then the healthy file route."""
    calls: list[int] = []

    def handler(request: Request, exchange: Exchange) -> None:
        calls.append(1)
        if len(calls) == 1:
            misbehaving(request, exchange)
        else:
            exchange.respond(200, IMAGE, content_type="image/webp")

    return handler


def _overlong(_request: Request, exchange: Exchange) -> None:
    # The surplus in the same write as the body: it lands in httpcore's buffer with it.
    exchange.send(head("image/webp", content_length=str(len(IMAGE))) + IMAGE + b"surplus" * 50)


def _short(_request: Request, exchange: Exchange) -> None:
    exchange.send(head("image/webp", content_length=str(len(IMAGE))) + IMAGE[:100])
    exchange.close()


def _reset(_request: Request, exchange: Exchange) -> None:
    exchange.start_stream(content_type="image/webp")
    exchange.chunk(IMAGE[:100])
    exchange.pause(0.1)
    exchange.reset()


def _broken_chunk(_request: Request, exchange: Exchange) -> None:
    exchange.start_stream(content_type="image/webp")
    exchange.chunk(IMAGE[:100])
    exchange.send(b"zz\r\nnot a chunk\r\n")
    exchange.pause(5)


DOWNLOAD_FAULTS = {
    "longer-than-content-length": (_overlong, None),
    "shorter-than-content-length": (_short, FluxConnectionError),
    "reset-mid-body": (_reset, FluxConnectionError),
    "broken-chunk": (_broken_chunk, FluxConnectionError),
}


@pytest.mark.parametrize("fault", list(DOWNLOAD_FAULTS))
def test_a_download_that_misbehaved_leaves_no_connection_to_reuse(
    facade: Facade, space: FakeSpace, fault: str
) -> None:
    misbehaving, expected = DOWNLOAD_FAULTS[fault]
    connections = Connections(space)
    space.on_file(connections.wrap("file", _after(misbehaving)))
    space.on_submit("queue", connections.wrap("join", space.healthy_submit("queue")))
    scenario = Scenario(timeout=Timeout(connect=5, idle=3, total=8, cancel=2), download=True)
    first, second = run_jobs(facade, space.url, scenario, jobs=2, ports=ports(space.server))
    if expected is None:
        assert first.content == IMAGE  # exactly the declared length
    else:
        first.raised(expected)
    assert second.succeeded().seed == 1234
    assert second.content == IMAGE
    assert not connections.reused_after("file")


def _stream_fault(space: FakeSpace, fault: str) -> Callable[[Request, Exchange], None]:
    calls: list[int] = []

    def handler(request: Request, exchange: Exchange) -> None:
        calls.append(1)
        event_id = space.event_id(request)
        if len(calls) > 1:
            exchange.start_stream()
            for block in space.success("queue", event_id):
                exchange.chunk(block)
            exchange.end_stream()
            return
        exchange.start_stream()
        exchange.chunk(space.success("queue", event_id)[0])
        if fault == "broken-chunk":
            exchange.send(b"zz\r\nnot a chunk\r\n")
            exchange.pause(5)
        elif fault == "abandoned-mid-event":
            # An event over the cap: the client leaves in the middle of it.
            exchange.chunk(b"data: " + b"x" * (5 * MiB))
            exchange.pause(5)
        else:  # the result, then a surplus after the stream's last chunk
            for block in space.success("queue", event_id)[1:]:
                exchange.chunk(block)
            exchange.send(b"0\r\n\r\n" + b"surplus" * 50)

    return handler


STREAM_FAULTS = {
    "broken-chunk": FluxConnectionError,
    "abandoned-mid-event": ProtocolError,
    "surplus-after-the-end": None,
}


@pytest.mark.parametrize("fault", list(STREAM_FAULTS))
def test_a_stream_that_misbehaved_leaves_no_connection_to_reuse(
    facade: Facade, space: FakeSpace, fault: str
) -> None:
    connections = Connections(space)
    space.on_stream("queue", connections.wrap("stream", _stream_fault(space, fault)))
    space.on_submit("queue", connections.wrap("join", space.healthy_submit("queue")))
    scenario = Scenario(timeout=Timeout(connect=5, idle=3, total=8, cancel=2))
    first, second = run_jobs(facade, space.url, scenario, jobs=2, ports=ports(space.server))
    expected = STREAM_FAULTS[fault]
    if expected is None:
        assert first.succeeded().seed == 1234
    else:
        first.raised(expected)
    assert second.succeeded().seed == 1234
    assert not connections.reused_after("stream")


def test_a_submission_answer_longer_than_declared_is_not_read_as_the_next_answer(
    facade: Facade, space: FakeSpace
) -> None:
    # On the /call/ protocol, where the stream's URL carries the event_id the answer gave.
    connections = Connections(space)
    calls: list[int] = []
    healthy = space.healthy_submit("call")

    def overlong_once(request: Request, exchange: Exchange) -> None:
        calls.append(1)
        if len(calls) > 1:
            healthy(request, exchange)
            return
        body = b'{"event_id": "' + b"f" * 32 + b'"}'
        exchange.send(head(content_length=str(len(body))) + body + b"surplus" * 50)

    def stream(request: Request, exchange: Exchange) -> None:
        exchange.start_stream()
        for block in space.success("call", space.event_id(request)):
            exchange.chunk(block)
        exchange.end_stream()

    space.on_submit("call", connections.wrap("submit", overlong_once))
    space.on_stream("call", connections.wrap("stream", stream))
    scenario = Scenario(protocol="call", timeout=Timeout(connect=5, idle=3, total=8, cancel=2))
    outcomes = run_jobs(facade, space.url, scenario, jobs=2, ports=ports(space.server))
    for outcome in outcomes:
        assert outcome.succeeded().seed == 1234
    assert not connections.reused_after("submit")


# -- 10. downloads are images -------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/json"])
def test_a_download_that_is_not_an_image_is_refused(
    facade: Facade, space: FakeSpace, tmp_path: Path, content_type: str
) -> None:
    page = b"<html><title>Sign in</title></html>"
    space.on_file(lambda _r, exchange: exchange.respond(200, page, content_type=content_type))
    target = tmp_path / "out.webp"
    outcome = run(facade, space.url, Scenario(save_to=target), ports=ports(space.server))
    error = outcome.raised(DownloadError)
    assert content_type in str(error)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream", None])
def test_a_download_of_an_image_or_binary_type_is_accepted(
    facade: Facade, space: FakeSpace, content_type: str | None
) -> None:
    def file(_request: Request, exchange: Exchange) -> None:
        fields = {"content-length": str(len(IMAGE))}
        if content_type is not None:
            fields["content-type"] = content_type
        lines = ["HTTP/1.1 200 OK", *(f"{k}: {v}" for k, v in fields.items())]
        exchange.send(("\r\n".join(lines) + "\r\n\r\n").encode() + IMAGE)

    space.on_file(file)
    outcome = run(facade, space.url, Scenario(download=True), ports=ports(space.server))
    assert outcome.content == IMAGE


# -- 7, measured as the operating system sees it: a subprocess's peak resident memory -------------

RSS_SCRIPT = """
import resource, sys
import anyio
from flux_sdk import AsyncFluxClient, FluxError, Timeout
from tests.faults._server import FaultServer
from tests.faults._space import FakeSpace
from tests.faults import test_bounds

coding, route = sys.argv[1], sys.argv[2]
body = test_bounds.bomb(coding)  # made before the baseline: a few hundred KiB


def send(_request, exchange):
    kind = "text/event-stream" if route == "stream" else "image/webp"
    test_bounds._send_bomb(exchange, coding, kind, chunked=route == "stream")


async def job(url):
    async with AsyncFluxClient(url, timeout=Timeout(idle=10, total=30), token="") as client:
        try:
            generation = await client.generate("a fox")
            if route == "download":
                await client.download(generation)
        except FluxError as exc:
            return type(exc).__name__
        return "success"


with FaultServer("127.0.0.1") as server:
    space = FakeSpace(server)
    healthy = anyio.run(job, server.url)  # warms every import and code path up
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (space.on_stream if route == "stream" else space.on_file)(
        *(["queue", send] if route == "stream" else [send])
    )
    outcome = anyio.run(job, server.url)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(healthy, outcome, (after - before) // 1024)
"""


@pytest.mark.parametrize("coding", CODINGS)
@pytest.mark.parametrize("route", ["stream", "download"])
def test_a_bomb_grows_a_processs_peak_memory_by_little(coding: str, route: str) -> None:
    # ru_maxrss sees what tracemalloc does not: zlib's, brotli's and zstd's own buffers.
    done = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, coding, route],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    healthy, outcome, grown_mib = done.stdout.split()
    expected = "ProtocolError" if route == "stream" else "DownloadError"
    assert (healthy, outcome) == ("success", expected)
    # The bomb inflates to 256 MiB; the caps (4 MiB an event, 64 MiB a download) bound it.
    assert int(grown_mib) < (16 if route == "stream" else 80), done.stdout
