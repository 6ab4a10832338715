"""A scriptable HTTP/1.1 server on a real loopback socket, for fault injection.

Plain threads and blocking sockets, with HTTP/1.1 written by hand, so that every fault is
possible: a reset (RST) after the request, a clean close in the middle of a stream, one byte at
a time, a line with no end, a redirect to another host. The client under test runs its real I/O
against it, on asyncio, trio, or the sync facade's own loop thread.

Bounded by construction: every wait polls the stop flag at least every 50 ms, a send or a
receive that makes no progress gives up after `IO_LIMIT` seconds, and `FaultServer.stop` joins
every thread it started (and fails loudly if one is left).
"""

from __future__ import annotations

import contextlib
import json
import select
import selectors
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import cast
from urllib.parse import parse_qs, urlsplit

SSE_TYPE = "text/event-stream; charset=utf-8"
THREAD_PREFIX = "fault-server"

POLL = 0.05
IO_LIMIT = 10.0
"""Seconds a send may make no progress (the client stopped reading) before the handler ends."""
_MAX_HEAD = 64 * 1024
_STOP_JOIN = 5.0


class PeerGone(Exception):
    """The client went away, or the server is stopping: the handler ends here."""


@dataclass(frozen=True)
class Request:
    """One request as the server read it."""

    method: str
    target: str
    headers: Mapping[str, str]
    """Header names lower-cased."""
    head: bytes
    """The request line and headers exactly as received."""
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlsplit(self.target).query).items()}

    def json(self) -> dict[str, object]:
        payload = cast(object, json.loads(self.body))
        assert isinstance(payload, dict), payload
        return cast("dict[str, object]", payload)


class Exchange:
    """The connection a handler answers on."""

    def __init__(self, sock: socket.socket, stop: threading.Event, server: FaultServer) -> None:
        self._sock = sock
        self._stop = stop
        self._server = server
        self.open = True

    # -- raw bytes ----------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Send all of ``data``, or raise `PeerGone`."""
        view = memoryview(data)
        give_up = time.monotonic() + IO_LIMIT
        while view:
            if self._stop.is_set():
                raise PeerGone("server stopping")
            try:
                sent = self._sock.send(view)
            except TimeoutError:
                if time.monotonic() > give_up:
                    raise PeerGone("the client stopped reading") from None
                continue
            except OSError as exc:
                raise PeerGone(str(exc)) from exc
            self._server.count_sent(sent)
            view = view[sent:]
            give_up = time.monotonic() + IO_LIMIT

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``; raise `PeerGone` if the server stops or the client hangs up."""
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            if self._stop.wait(min(POLL, left)):
                raise PeerGone("server stopping")
            if self.peer_closed():
                raise PeerGone("the client hung up")

    def peer_closed(self) -> bool:
        """Whether the client has closed its end (EOF or reset is waiting to be read)."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if isinstance(self._sock, ssl.SSLSocket):
                # TLS cannot peek; readable with nothing decrypted pending is the close.
                return bool(readable) and self._sock.pending() == 0 and not self._sock.recv(1)
            return bool(readable) and self._sock.recv(1, socket.MSG_PEEK) == b""
        except TimeoutError:
            return False
        except OSError:
            return True

    # -- HTTP ---------------------------------------------------------------------------------

    def respond(
        self,
        status: int,
        body: bytes | str = b"",
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """A complete response with a Content-Length."""
        data = body.encode() if isinstance(body, str) else body
        fields = {"content-type": content_type, "content-length": str(len(data))}
        fields.update(headers or {})
        self.send(_head(status, fields) + data)

    def respond_json(
        self, payload: object, status: int = 200, *, headers: Mapping[str, str] | None = None
    ) -> None:
        self.respond(status, json.dumps(payload), headers=headers)

    def start_stream(
        self,
        status: int = 200,
        *,
        content_type: str = SSE_TYPE,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Response headers for a chunked body; follow with `chunk` and `end_stream`."""
        fields = {"content-type": content_type, "transfer-encoding": "chunked"}
        fields.update(headers or {})
        self.send(_head(status, fields))

    def chunk(self, data: bytes | str) -> None:
        raw = data.encode() if isinstance(data, str) else data
        if raw:
            self.send(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")

    def end_stream(self) -> None:
        self.send(b"0\r\n\r\n")

    def close(self) -> None:
        """A clean close (FIN)."""
        self.open = False
        self._server.forget(self._sock)

    def reset(self) -> None:
        """An abortive close: SO_LINGER 0 makes close() send RST."""
        self.open = False
        with contextlib.suppress(OSError):
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._server.forget(self._sock)


Handler = Callable[[Request, Exchange], None]


def not_found(_request: Request, exchange: Exchange) -> None:
    exchange.respond_json({"detail": "Not Found"}, 404)


class FaultServer:
    """An HTTP/1.1 server on ``host`` (a 127/8 address), port chosen by the OS.

    Routes are matched by method and path prefix, the longest prefix winning; every request is
    recorded. Keep-alive is honoured, so the client's connection pool behaves as it would
    against uvicorn.
    """

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls
        """With a server-side TLS context, the server speaks HTTPS (handshake per connection)."""
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(POLL)
        self.port: int = self._listener.getsockname()[1]
        self._routes: dict[tuple[str, str], Handler] = {}
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: set[socket.socket] = set()
        self._sent = 0
        self._accepter = threading.Thread(
            target=self._accept_loop, name=f"{THREAD_PREFIX}-{host}:{self.port}", daemon=True
        )

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def bytes_sent(self) -> int:
        with self._lock:
            return self._sent

    def count_sent(self, count: int) -> None:
        with self._lock:
            self._sent += count

    def route(self, method: str, prefix: str, handler: Handler) -> None:
        with self._lock:
            self._routes[(method, prefix)] = handler

    def requests(self, method: str | None = None, prefix: str = "") -> list[Request]:
        """The requests received so far, optionally only one method and path prefix."""
        with self._lock:
            found = list(self._requests)
        return [
            request
            for request in found
            if (method is None or request.method == method) and request.path.startswith(prefix)
        ]

    def __repr__(self) -> str:
        return f"<FaultServer {self.url}>"

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> FaultServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._accepter.start()

    def stop(self) -> None:
        """Stop accepting, end every connection, and join every thread (bounded)."""
        self._stop.set()
        if self._accepter.is_alive():
            self._accepter.join(_STOP_JOIN)
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(_STOP_JOIN)
        with self._lock:
            sockets = list(self._sockets)
            self._sockets.clear()
        for sock in sockets:
            sock.close()
        alive = [thread.name for thread in [self._accepter, *threads] if thread.is_alive()]
        if alive:
            raise AssertionError(f"fault server threads did not stop: {alive}")

    def forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        sock.close()

    # -- serving ------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not selector.select(POLL):
                    continue
                try:
                    sock, _ = self._listener.accept()
                except OSError:
                    continue
                sock.settimeout(POLL)
                with self._lock:
                    number = len(self._threads)
                    thread = threading.Thread(
                        target=self._serve,
                        args=(sock,),
                        name=f"{THREAD_PREFIX}-{self.host}:{self.port}-conn{number}",
                        daemon=True,
                    )
                    self._threads.append(thread)
                    self._sockets.add(sock)
                thread.start()

    def _serve(self, sock: socket.socket) -> None:
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                # The client refused the certificate (or hung up): nothing to serve.
                self.forget(sock)
                return
        exchange = Exchange(sock, self._stop, self)
        buffer = bytearray()
        try:
            while exchange.open and not self._stop.is_set():
                request = self._read_request(sock, buffer)
                if request is None:
                    break
                with self._lock:
                    self._requests.append(request)
                self._handler(request)(request, exchange)
        except PeerGone:
            pass
        finally:
            if exchange.open:
                exchange.close()

    def _handler(self, request: Request) -> Handler:
        with self._lock:
            matches = [
                (len(prefix), handler)
                for (method, prefix), handler in self._routes.items()
                if method == request.method and request.path.startswith(prefix)
            ]
        return max(matches, key=lambda match: match[0])[1] if matches else not_found

    def _read_request(self, sock: socket.socket, buffer: bytearray) -> Request | None:
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            if len(buffer) > _MAX_HEAD or not self._receive(sock, buffer):
                return None
        head = bytes(buffer[:end])
        del buffer[: end + 4]
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(buffer) < length:
            if not self._receive(sock, buffer):
                return None
        body = bytes(buffer[:length])
        del buffer[:length]
        return Request(method=method, target=target, headers=headers, head=head, body=body)

    def _receive(self, sock: socket.socket, buffer: bytearray) -> bool:
        """Read what is there into ``buffer``; False at EOF, on a reset, or when stopping."""
        while not self._stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return False
            if not data:
                return False
            buffer += data
            return True
        return False


def _head(status: int, fields: Mapping[str, str]) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class RefusedPort:
    """A port on 127.0.0.1 where nothing listens: bound (so nobody else takes it), never listening.

    Connecting to it is refused at once (RST to the SYN).
    """

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._sock.close()
