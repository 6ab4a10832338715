"""`FramedTransport` on HTTP/2: responses left before their end, against hypercorn's h2.

httpcore 1.0 neither resets an HTTP/2 stream whose response is closed early nor returns the
flow-control window of the bytes it never read (encode/httpcore#943): the server goes on
sending, and after 16 MiB of unread bytes, or 100 streams it never ends, the connection stops
serving every request on it. The transport resets such a stream itself; these tests leave
responses early, past both limits, and check that the same connection still answers.

The server is hypercorn in a thread of the test process (h2 only, by ALPN), with a certificate
from a CA made here. The real Space over HTTP/2 is in tests/integration/test_http2.py.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import trustme

from flux_sdk._connections import FramedTransport
from tests.faults._runner import Facade
from tests.faults.test_tls import ca as ca
from tests.faults.test_tls import ca_bundle as ca_bundle

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("hypercorn") is None, reason="needs hypercorn (an h2 server)"
)

BODY = 4 * 1024 * 1024
"""One large response; five of them are more than the connection's 16 MiB window."""

_Scope = MutableMapping[str, Any]
_Message = MutableMapping[str, Any]


@dataclass
class H2Server:
    """What the server saw: HTTP versions, client ports, and the endless streams it lost."""

    url: str = ""
    versions: set[str] = field(default_factory=set[str])
    ports: set[int] = field(default_factory=set[int])
    disconnected: int = 0


async def _app(
    server: H2Server,
    scope: _Scope,
    receive: Callable[[], Awaitable[_Message]],
    send: Callable[[_Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    server.versions.add(scope["http_version"])
    server.ports.add(scope["client"][1])
    path = scope["path"]
    if path == "/endless":
        # An event stream that only the client's leaving ends.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        sending = asyncio.ensure_future(_forever(send))
        while (await receive())["type"] != "http.disconnect":
            pass
        sending.cancel()
        server.disconnected += 1
        return
    body = b"x" * BODY if path == "/large" else b"small"
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _forever(send: Callable[[_Message], Awaitable[None]]) -> None:
    while True:
        await send({"type": "http.response.body", "body": b"data: tick\n\n", "more_body": True})
        await asyncio.sleep(0.01)


@pytest.fixture
def h2server(ca: trustme.CA, tmp_path: Path) -> Iterator[H2Server]:
    from hypercorn import asyncio as hypercorn
    from hypercorn.config import Config

    # Typed for hypercorn's own ASGI types, not plain mappings.
    serve: Any = hypercorn.serve  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]

    pem = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    # Listening before hypercorn takes it: a client's first connection waits in the backlog.
    listener.listen()
    server = H2Server(url=f"https://127.0.0.1:{listener.getsockname()[1]}")
    config = Config()
    # hypercorn owns the socket from here, and closes it.
    config.bind = [f"fd://{listener.detach()}"]
    config.certfile = config.keyfile = str(pem)
    config.alpn_protocols = ["h2"]
    config.accesslog = None
    config.graceful_timeout = 1.0
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    started = threading.Event()

    async def app(scope: _Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            started.set()
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        await _app(server, scope, receive, send)

    async def main() -> None:
        await serve(app, config, shutdown_trigger=stop.wait)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert started.wait(30)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def _run(facade: Facade, main: Callable[[], Awaitable[None]]) -> None:
    anyio.run(main, backend="trio" if facade == "trio" else "asyncio")


def _client(ca_bundle: str) -> httpx.AsyncClient:
    transport = FramedTransport(limits=httpx.Limits(), verify=ca_bundle, http2=True)
    return httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(10))


@pytest.mark.parametrize("facade", ["asyncio", "trio"])
def test_large_bodies_left_unread_do_not_stall_the_connection(
    h2server: H2Server, ca_bundle: str, facade: Facade
) -> None:
    async def main() -> None:
        async with _client(ca_bundle) as client:
            for _ in range(5):
                # Left with its body unread: the server sends what the window lets it.
                async with client.stream("GET", f"{h2server.url}/large") as response:
                    assert response.http_version == "HTTP/2"
                # Past 16 MiB left unread, this would wait for a window that never opens.
                assert (await client.get(f"{h2server.url}/small")).content == b"small"

    _run(facade, main)
    assert h2server.versions == {"2"}
    assert len(h2server.ports) == 1


@pytest.mark.parametrize("facade", ["asyncio", "trio"])
def test_a_stream_left_early_is_reset_so_the_server_stops_it(
    h2server: H2Server, ca_bundle: str, facade: Facade
) -> None:
    async def main() -> None:
        async with _client(ca_bundle) as client:
            # More than the 100 streams h2 lets be open at once on one connection.
            for _ in range(110):
                async with client.stream("GET", f"{h2server.url}/endless") as response:
                    assert response.status_code == 200
            assert (await client.get(f"{h2server.url}/small")).content == b"small"

    _run(facade, main)
    assert len(h2server.ports) == 1
    # Each reset reached the app as the client's leaving, as a closed connection does on 1.1.
    assert h2server.disconnected == 110


def test_responses_read_to_their_end_are_not_reset(h2server: H2Server, ca_bundle: str) -> None:
    async def main() -> None:
        async with _client(ca_bundle) as client:
            for _ in range(3):
                response = await client.get(f"{h2server.url}/large")
                assert len(response.content) == BODY

    _run("asyncio", main)
    assert len(h2server.ports) == 1
    assert h2server.disconnected == 0
