"""Server-sent events from raw bytes, with a bound on what one event may take (pure).

httpx-sse's decoders do the SSE parsing; this adds the memory bound a client facing an
untrusted server needs: a line or an event larger than ``max_event_bytes`` raises
`ProtocolError` instead of growing a buffer without end.
"""

from __future__ import annotations

import codecs

from httpx_sse import ServerSentEvent
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

from .._errors import ProtocolError

DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024


class SSEReader:
    """Feed it bytes as they arrive; it returns the complete events."""

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines = SSELineDecoder()
        self._events = SSEDecoder()
        # Characters taken into the event being assembled, including a partial line.
        self._pending = 0
        self._has_data = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by ``chunk``."""
        text = self._text.decode(chunk)
        return self._decode(self._lines.decode(text)) if text else []

    def close(self) -> list[ServerSentEvent]:
        """The events completed by the end of the stream."""
        rest = self._text.decode(b"", final=True)
        lines = self._lines.decode(rest) if rest else []
        return self._decode(lines + self._lines.flush())

    def _decode(self, lines: list[str]) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        for line in lines:
            self._pending += len(line)
            self._check()
            if line.startswith("data"):
                self._has_data = True
            event = self._events.decode(line)
            # The SSE spec dispatches nothing for a block without a data line (only "id:" or
            # "retry:", say); httpx-sse would hand out an event with empty data.
            if event is not None and self._has_data:
                events.append(event)
            if not line:
                self._pending = 0
                self._has_data = False
        # What is left is the start of the next line; it counts towards its event.
        self._check(sum(len(part) for part in self._lines.buffer))
        return events

    def _check(self, partial: int = 0) -> None:
        if self._pending + partial > self._max:
            raise ProtocolError(
                f"the Space sent an event larger than {self._max} characters; refusing to buffer it"
            )
