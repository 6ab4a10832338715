"""Server-sent events from raw bytes, with a bound on what one event may take (pure).

A small decoder of our own, after the WHATWG event-stream rules ("Interpreting an event
stream"): lines end in CR, LF or CR LF; ``data``, ``event``, ``id`` and ``retry`` fields; a line
without a colon is a field with an empty value; one leading space of a value is dropped; lines
starting with a colon are comments. It returns httpx-sse's public `ServerSentEvent`.

The bound is what a client facing an untrusted server needs: an event whose field lines add up
to more than ``max_event_bytes`` characters, or any single line longer than that (a comment
too), raises `ProtocolError` instead of growing a buffer without end. Comments and blank lines
are keep-alives, not parts of an event, so any number of them never counts toward the bound;
a comment's text is not even kept.
"""

from __future__ import annotations

import codecs
import re

from httpx_sse import ServerSentEvent

from .._errors import ProtocolError

DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024

_LINE_END = re.compile(r"\r\n|\r|\n")


class SSEReader:
    """Feed it bytes as they arrive; it returns the complete events."""

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._started = False
        # A CR ended the last piece: an LF opening the next one belongs to it (a CR LF pair).
        self._skip_lf = False
        # The line still being received: its pieces (none for a comment) and its length.
        self._partial: list[str] = []
        self._partial_len = 0
        self._partial_comment = False
        # The event being assembled: the characters of its field lines so far, and its fields.
        self._event_chars = 0
        self._data: list[str] = []
        self._event = ""
        self._retry: int | None = None
        self._last_id = ""

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events completed by ``chunk``."""
        return self._decode(self._text.decode(chunk))

    def close(self) -> list[ServerSentEvent]:
        """The events completed by the end of the stream.

        An event without its closing blank line is dropped, as the spec says; its last line is
        still checked against the bound.
        """
        events = self._decode(self._text.decode(b"", final=True))
        if self._partial_len or self._partial:
            self._line("".join(self._partial), self._partial_comment, events)
            self._partial, self._partial_len = [], 0
        return events

    def _decode(self, text: str) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        if not text:
            return events
        if not self._started:
            self._started = True
            # A byte order mark opening the stream is not part of the first line.
            text = text.removeprefix("\ufeff")
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        start = 0
        for match in _LINE_END.finditer(text):
            self._extend(text, start, match.start())
            self._line("".join(self._partial), self._partial_comment, events)
            self._partial, self._partial_len, self._partial_comment = [], 0, False
            start = match.end()
        if start < len(text):
            self._extend(text, start, len(text))
        elif text and text[-1] == "\r":
            self._skip_lf = True
        return events

    def _extend(self, text: str, start: int, end: int) -> None:
        """Add ``text[start:end]`` to the line being received, within the bounds."""
        if start == end:
            return
        if self._partial_len == 0:
            self._partial_comment = text[start] == ":"
        self._partial_len += end - start
        if self._partial_len > self._max:
            raise self._too_large("a line")
        if self._partial_comment:
            return
        if self._event_chars + self._partial_len > self._max:
            raise self._too_large("an event")
        self._partial.append(text[start:end])

    def _line(self, line: str, comment: bool, events: list[ServerSentEvent]) -> None:
        if comment:
            return
        if not line:
            self._dispatch(events)
            return
        self._event_chars += len(line)
        if self._event_chars > self._max:
            raise self._too_large("an event")
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        # Any other field is ignored, as the spec says.

    def _dispatch(self, events: list[ServerSentEvent]) -> None:
        # A block without a data line (only "id:" or "retry:", say) dispatches nothing.
        if self._data:
            events.append(
                ServerSentEvent(
                    event=self._event,
                    data="\n".join(self._data),
                    id=self._last_id,
                    retry=self._retry,
                )
            )
        # The last event id outlives the event; everything else starts afresh.
        self._data, self._event, self._retry, self._event_chars = [], "", None, 0

    def _too_large(self, what: str) -> ProtocolError:
        return ProtocolError(
            f"the Space sent {what} larger than {self._max} characters; refusing to buffer it"
        )
