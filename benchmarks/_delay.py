"""A delay proxy: a TCP relay on 127.0.0.1 that makes loopback behave like a network.

Every chunk is held ``rtt / 2`` in each direction (in order, pipelined: a stream of chunks is
delayed, not slowed), and a new connection's first bytes are also held ``handshakes × rtt``,
what TCP's and TLS 1.3's handshakes cost before a request can leave (2 by default). The relay
counts what it sees, so a client's round trips can be *counted* rather than inferred from wall
time on a loaded machine:

- **connections**: connections accepted;
- **turns**: the times the client sent after it had been delivered something, i.e. after
  waiting on the Space; the first bytes of a measurement count as one. A job that joins,
  streams and downloads on a kept-alive connection is 3 turns; sending headers and body in two
  writes stays one.
- **round trips** = turns + handshakes × connections: what the job costs in RTTs on the
  critical path if nothing overlaps (the wall-time figure in `benchmarks.network` shows what
  overlap with the Space's work saves).

Its accept loop and shutdown follow tests/lifecycle/_proxy.py's relay, which the benchmarks do
not import (the benchmarks never depend on the test suite); this one delays and counts instead
of recording requests.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from typing_extensions import Self

_CHUNK = 65536
_LIMIT = 30.0
"""Seconds any thread waits at close."""


@dataclass(frozen=True)
class Counts:
    """What the relay saw between two `DelayProxy.counts` calls (or since it started)."""

    connections: int
    turns: int
    chunks_up: int
    chunks_down: int
    bytes_up: int
    bytes_down: int

    def __sub__(self, other: Counts) -> Counts:
        return Counts(
            connections=self.connections - other.connections,
            turns=self.turns - other.turns,
            chunks_up=self.chunks_up - other.chunks_up,
            chunks_down=self.chunks_down - other.chunks_down,
            bytes_up=self.bytes_up - other.bytes_up,
            bytes_down=self.bytes_down - other.bytes_down,
        )


class DelayProxy:
    """Relays ``127.0.0.1:<port>`` to ``upstream`` (``http://host:port``) with a delay.

    ``rtt`` (seconds) may be changed between measurements; 0 relays without delay (the
    counts still run). Meant for one client at a time: turns are counted across all its
    connections, in the order the relay sees the bytes.
    """

    def __init__(self, upstream: str, *, rtt: float, handshakes: int = 2) -> None:
        host, _, port = upstream.removeprefix("http://").rstrip("/").partition(":")
        self._upstream = (host, int(port))
        self.rtt = rtt
        self.handshakes = handshakes
        self._listener = socket.create_server(("127.0.0.1", 0))
        port_number: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{port_number}"
        self._lock = threading.Lock()
        self._connections = 0
        self._turns = 0
        self._chunks = [0, 0]
        self._bytes = [0, 0]
        self._delivered = True  # so a measurement's first bytes are a turn
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._stopping = False

    def __enter__(self) -> Self:
        self.spawn(self._accept)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(_LIMIT)

    def counts(self) -> Counts:
        """The totals so far; subtract two of them for one measurement's."""
        with self._lock:
            return Counts(
                connections=self._connections,
                turns=self._turns,
                chunks_up=self._chunks[0],
                chunks_down=self._chunks[1],
                bytes_up=self._bytes[0],
                bytes_down=self._bytes[1],
            )

    def mark(self) -> Counts:
        """Start a measurement: its first bytes will count as a turn; returns `counts`."""
        with self._lock:
            self._delivered = True
        return self.counts()

    def spawn(self, target: Callable[[], None]) -> None:
        """Run ``target`` on a thread of the relay's (joined at exit)."""
        thread = threading.Thread(target=target, name="delay-proxy", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            opened = time.monotonic()
            try:
                upstream = socket.create_connection(self._upstream)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sockets += [client, upstream]
            with self._lock:
                self._connections += 1
            # The handshakes hold the request until they would have completed.
            not_before = opened + self.handshakes * self.rtt
            _Line(self, client, upstream, up=True, not_before=not_before).start()
            _Line(self, upstream, client, up=False, not_before=0.0).start()

    def received(self, chunk: bytes, up: bool) -> None:
        """Count a chunk read from the client (``up``) or the Space."""
        with self._lock:
            index = 0 if up else 1
            self._chunks[index] += 1
            self._bytes[index] += len(chunk)
            if up and self._delivered:
                self._turns += 1
                self._delivered = False

    def sent(self, up: bool) -> None:
        """Note a chunk delivered; one delivered to the client ends its turn."""
        if not up:
            with self._lock:
                self._delivered = True


class _Line:
    """One direction of one connection: a reader stamping chunks, a writer releasing them."""

    def __init__(
        self,
        proxy: DelayProxy,
        source: socket.socket,
        sink: socket.socket,
        *,
        up: bool,
        not_before: float,
    ) -> None:
        self._proxy = proxy
        self._source = source
        self._sink = sink
        self._up = up
        self._not_before = not_before
        self._due: deque[tuple[float, bytes | None]] = deque()
        self._ready = threading.Condition()
        self._last = 0.0

    def start(self) -> None:
        self._proxy.spawn(self._read)
        self._proxy.spawn(self._write)

    def _push(self, chunk: bytes | None) -> None:
        # A new connection's bytes leave once its handshakes are done, then take their half
        # round trip; and never before an earlier chunk (the delay may change): in order.
        leaves = max(time.monotonic(), self._not_before)
        due = max(leaves + self._proxy.rtt / 2, self._last)
        with self._ready:
            self._last = due
            self._due.append((due, chunk))
            self._ready.notify()

    def _read(self) -> None:
        try:
            while chunk := self._source.recv(_CHUNK):
                self._proxy.received(chunk, self._up)
                self._push(chunk)
        except OSError:
            pass
        self._push(None)

    def _write(self) -> None:
        while True:
            with self._ready:
                while not self._due:
                    self._ready.wait()
                due, chunk = self._due[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._ready.wait(wait)
                    continue
                self._due.popleft()
            if chunk is None:
                with contextlib.suppress(OSError):
                    self._sink.shutdown(socket.SHUT_WR)
                return
            try:
                self._sink.sendall(chunk)
            except OSError:
                return
            self._proxy.sent(self._up)
