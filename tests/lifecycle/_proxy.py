"""A TCP relay on 127.0.0.1 in front of a real Gradio replica, noting what the Space was sent.

The bytes pass through untouched; the relay reads the request lines out of what the client
sends and the status lines out of what the Space answers, so a test can wait for "the job's
stream is open" and assert "the Space received /cancel and answered 200" without sleeping.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from typing_extensions import Self

_REQUEST = re.compile(rb"(GET|POST|HEAD|PUT|DELETE|OPTIONS) (\S+) HTTP/1\.[01]\r\n")
_STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
LIMIT = 60.0
"""A bound on every wait, so that a broken test fails instead of hanging."""


@dataclass
class Seen:
    """One request the Space received, and the status of its answer once it came."""

    method: str
    path: str
    status: int | None = None


@dataclass
class _Connection:
    requests: list[Seen] = field(default_factory=list[Seen])
    answered: int = 0


class Relay:
    """Relays 127.0.0.1:<port> to ``upstream``; records every request and answer status."""

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.removeprefix("http://").rstrip("/").partition(":")
        self._upstream = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.seen: list[Seen] = []
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._stopping = False
        self._held: tuple[str, ...] = ()

    def __enter__(self) -> Self:
        self._spawn(self._accept)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        # shutdown() wakes the thread blocked in accept(); close() alone would not.
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self._threads:
            thread.join(LIMIT)

    def wait_for(self, predicate: Callable[[list[Seen]], bool], what: str) -> None:
        """Block until ``predicate(seen)`` holds; fail after `LIMIT` s."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.seen), LIMIT):
                raise AssertionError(f"the Space never saw {what}; it saw {self.seen}")

    def paths(self, method: str) -> list[str]:
        with self._changed:
            return [seen.path for seen in self.seen if seen.method == method]

    def hold(self, suffix: str) -> None:
        """From now on, requests whose path ends with ``suffix`` reach the Space never."""
        self._held += (suffix,)

    def cancels(self) -> list[Seen]:
        """The cancel requests the Space received."""
        with self._changed:
            return [seen for seen in self.seen if seen.path.endswith("/cancel")]

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="lifecycle-relay", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._upstream)
            self._sockets += [client, upstream]
            connection = _Connection()
            self._spawn(self._pipe, client, upstream, connection, True)
            self._spawn(self._pipe, upstream, client, connection, False)

    def _pipe(
        self, source: socket.socket, sink: socket.socket, connection: _Connection, asks: bool
    ) -> None:
        holding = False
        try:
            while chunk := source.recv(65536):
                holding = self._note(chunk, connection, asks) or holding
                if not holding:
                    sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def _note(self, chunk: bytes, connection: _Connection, asks: bool) -> bool:
        """Record ``chunk``'s requests or statuses; True if it holds a request to keep back."""
        held = False
        with self._changed:
            if asks:
                for match in _REQUEST.finditer(chunk):
                    seen = Seen(match[1].decode(), match[2].decode().split("?")[0])
                    connection.requests.append(seen)
                    self.seen.append(seen)
                    held = held or seen.path.endswith(self._held) if self._held else held
            else:
                for match in _STATUS.finditer(chunk):
                    if connection.answered < len(connection.requests):
                        connection.requests[connection.answered].status = int(match[1])
                        connection.answered += 1
            self._changed.notify_all()
        return held
