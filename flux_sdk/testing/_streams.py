"""The fake's response bodies that are streams: ``queue/data``, ``/call/`` and Gradio's quirks.

Plain iterator objects rather than async generators: a reader that walks away leaves nothing
for the garbage collector to finalize (which trio would report). A body with nothing to send
brings the scheduler up to the present (`Scheduler.catch_up`), and sleeps until the next action
of a job is due (`Clock.wait_until`).
"""

from __future__ import annotations

from typing import Final

import anyio
import httpx
from typing_extensions import Self

from . import _gradio as gradio
from ._scheduler import Run, Scheduler, Session

__all__ = ["HEARTBEAT_INTERVAL", "Broken", "CallStream", "Heartbeats", "QueueStream"]

HEARTBEAT_INTERVAL: Final = 15.0
"""Seconds between heartbeats on an idle stream, as on every Gradio line."""


class _Body(httpx.AsyncByteStream):
    """A response body made chunk by chunk as the fake's jobs move."""

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Called by httpx when the response is closed."""


class _Live(_Body):
    """A body fed by the scheduler, with a heartbeat when it has had nothing to send for 15 s."""

    def __init__(self, scheduler: Scheduler) -> None:
        self._scheduler = scheduler
        self._last_sent = scheduler.clock.now()

    def _sent(self) -> None:
        self._last_sent = self._scheduler.clock.now()

    def _heartbeat_due(self) -> bool:
        if self._scheduler.clock.now() - self._last_sent < HEARTBEAT_INTERVAL:
            return False
        self._sent()
        return True

    async def _wait(self, due: float) -> None:
        """Sleep until a job's next action is due, or a heartbeat is."""
        await self._scheduler.clock.wait_until(min(due, self._last_sent + HEARTBEAT_INTERVAL))


class QueueStream(_Live):
    """``queue/data``: the session's messages as they come, until ``close_stream``."""

    def __init__(self, scheduler: Scheduler, session: Session) -> None:
        super().__init__(scheduler)
        self._session = session
        self._done = False

    async def __anext__(self) -> bytes:
        scheduler, session = self._scheduler, self._session
        while not self._done:
            with scheduler.lock:
                scheduler.catch_up()
                message = session.messages.popleft() if session.messages else None
                pending = session.pending
                due = scheduler.due()
            if message is not None:
                self._done = message["msg"] == "close_stream"
                self._sent()
                return gradio.queue_event(message)
            if self._heartbeat_due():
                return gradio.queue_event(gradio.heartbeat())
            if pending:
                await self._wait(due)
            else:
                # Nothing of this session is pending (a second reader): Gradio keeps it open.
                await anyio.sleep(HEARTBEAT_INTERVAL)
        raise StopAsyncIteration


class CallStream(_Live):
    """``GET /call/infer/{event_id}``: ``generating`` events, then ``complete`` or ``error``."""

    def __init__(self, scheduler: Scheduler, run: Run) -> None:
        super().__init__(scheduler)
        self._run = run

    async def __anext__(self) -> bytes:
        scheduler, run = self._scheduler, self._run
        while True:
            with scheduler.lock:
                scheduler.catch_up()
                due = scheduler.due()
                if run.reader == "delivered":
                    raise StopAsyncIteration
                if run.call_chunks:
                    chunk = run.call_chunks.popleft()
                    if run.call_ended and not run.call_chunks:
                        run.reader = "delivered"
                    self._sent()
                    return chunk
            if self._heartbeat_due():
                return gradio.call_event("heartbeat", None)
            await self._wait(due)

    async def aclose(self) -> None:
        """A reader gone before the result loses it: a new GET gets "404: Not Found"."""
        with self._scheduler.lock:
            if self._run.reader == "open":
                self._run.reader = "dropped"


class Heartbeats(_Body):
    """A stream that never ends: a heartbeat every 15 s."""

    def __init__(self, chunk: bytes) -> None:
        self._chunk = chunk

    async def __anext__(self) -> bytes:
        await anyio.sleep(HEARTBEAT_INTERVAL)
        return self._chunk


class Broken(_Body):
    """One chunk, then the connection drops before the body ends (as Gradio does on 404s)."""

    def __init__(self, chunk: bytes) -> None:
        self._chunk: bytes | None = chunk

    async def __anext__(self) -> bytes:
        chunk, self._chunk = self._chunk, None
        if chunk is None:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                "(incomplete chunked read)"
            )
        return chunk
