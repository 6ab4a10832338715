"""Where each HTTP/1.1 response on a connection ends, followed from the bytes alone (pure).

httpcore's parser keeps whatever a server sent past a response's declared end in its buffer,
where the next request on that kept-alive connection would read it as its own answer; nothing
in httpx's API shows it. `ResponseFraming` follows the same bytes beside the parser (RFC 9112
§6: Content-Length, chunked with trailers, bodiless responses) and says when a connection has
received a byte that belongs to no response, so that it is never reused.

Whatever it cannot follow it treats as spoiled: a connection dropped by mistake costs one new
handshake; one reused by mistake can cost a job.
"""

from __future__ import annotations

import re
from enum import Enum, auto

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_LINE_END = b"\n"
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_MAX_LINE = 64 * 1024
"""A head or a chunk-size line longer than this is not followed (h11 refuses such heads too)."""


class _State(Enum):
    IDLE = auto()  # no request outstanding: any byte is surplus
    HEAD = auto()  # reading a status line and headers
    LENGTH = auto()  # a Content-Length body
    CHUNK_SIZE = auto()
    CHUNK_DATA = auto()
    CHUNK_END = auto()  # the line break after a chunk's data
    TRAILERS = auto()
    UNTIL_CLOSE = auto()  # a body delimited by the connection's end, or a tunnel: not reused
    SPOILED = auto()


class ResponseFraming:
    r"""Follows one connection's responses and says whether it may be reused.

    Feed it what the connection sends (`sent`) and receives (`received`), in order.

    Example:
        >>> framing = ResponseFraming()
        >>> framing.sent(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n")
        >>> framing.received(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA")
        >>> framing.reusable
        False
    """

    __slots__ = ("_buffer", "_method", "_remaining", "_state")

    def __init__(self) -> None:
        self._state = _State.IDLE
        self._method = b""
        self._buffer = b""
        self._remaining = 0

    @property
    def reusable(self) -> bool:
        """False once the connection received a byte past a response's end or one unfollowed."""
        return self._state is not _State.SPOILED and self._state is not _State.UNTIL_CLOSE

    def sent(self, data: bytes) -> None:
        """Bytes written to the connection: the start of a request, or its body."""
        if self._state is _State.IDLE and data:
            # httpcore writes a request's head in one piece and never pipelines, so the first
            # write after a response's end starts the next request.
            self._method = data.split(b" ", 1)[0].upper()
            self._state = _State.HEAD

    def received(self, data: bytes) -> None:
        """Bytes read from the connection (``b""`` is its end)."""
        while data and self.reusable:
            data = self._step(data)

    def _step(self, data: bytes) -> bytes:
        state = self._state
        if state is _State.IDLE:
            self._state = _State.SPOILED
            return b""
        if state is _State.LENGTH:
            return self._take(data, then=_State.IDLE)
        if state is _State.CHUNK_DATA:
            return self._take(data, then=_State.CHUNK_END)
        if state is _State.HEAD:
            return self._head(data)
        return self._line(data)

    def _take(self, data: bytes, *, then: _State) -> bytes:
        """Body bytes of known length; ``then`` once they are all in."""
        taken = min(len(data), self._remaining)
        self._remaining -= taken
        if not self._remaining:
            self._state = then
        return data[taken:]

    def _head(self, data: bytes) -> bytes:
        buffer = self._buffer + data
        end = _HEAD_END.search(buffer)
        if end is None:
            self._buffer = buffer
            if len(buffer) > _MAX_LINE:
                self._state = _State.SPOILED
            return b""
        self._buffer = b""
        self._start_body(buffer[: end.start()])
        return buffer[end.end() :]

    def _start_body(self, head: bytes) -> None:
        lines = head.split(b"\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            self._state = _State.SPOILED
            return
        status = int(parts[1])
        if 100 <= status < 200 and status != 101:
            self._state = _State.HEAD  # an interim response; the final one follows
            return
        if status == 101 or (self._method == b"CONNECT" and 200 <= status < 300):
            self._state = _State.UNTIL_CLOSE  # the connection is no longer HTTP/1.1's
            return
        chunked = False
        length: int | None = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"transfer-encoding":
                chunked = value.strip().lower().endswith(b"chunked")
            elif name == b"content-length":
                text = value.strip().split(b",", 1)[0].strip()
                if not text.isdigit():
                    self._state = _State.SPOILED
                    return
                length = int(text)
        if self._method == b"HEAD" or status in (204, 304):
            self._state = _State.IDLE
        elif chunked:
            self._state = _State.CHUNK_SIZE
        elif length is None:
            self._state = _State.UNTIL_CLOSE
        elif length:
            self._remaining = length
            self._state = _State.LENGTH
        else:
            self._state = _State.IDLE

    def _line(self, data: bytes) -> bytes:
        """One line of a chunked body's framing: a chunk size, a chunk's end, or a trailer."""
        buffer = self._buffer + data
        end = buffer.find(_LINE_END)
        if end < 0:
            self._buffer = buffer
            if len(buffer) > _MAX_LINE:
                self._state = _State.SPOILED
            return b""
        self._buffer = b""
        line = buffer[:end].rstrip(b"\r")
        rest = buffer[end + 1 :]
        state = self._state
        if state is _State.CHUNK_END:
            self._state = _State.CHUNK_SIZE if not line else _State.SPOILED
        elif state is _State.TRAILERS:
            if not line:
                self._state = _State.IDLE
        else:  # CHUNK_SIZE
            size = line.split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size):
                self._state = _State.SPOILED
                return b""
            self._remaining = int(size, 16)
            self._state = _State.CHUNK_DATA if self._remaining else _State.TRAILERS
        return rest


__all__ = ["ResponseFraming"]
