"""Jobs you hold: what ``submit()`` returns, and what ``as_completed()`` yields.

A submitted job runs in a task of its own on the client's event loop, as ``generate()`` would
run it: guarded as a call (``close()`` cancels it, on the Space too) and tracked as a job (the
loop's end cancels it). Its events are recorded as they come, so that its status is known at
once, from any thread, and its events can be read again from the start.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import threading
from collections import deque
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Literal

import anyio

from ._errors import ClientClosedError, FluxError, JobCancelledError, ProtocolError
from ._loops import CLOSED_WHILE_RUNNING
from ._models import Completed, Event, GenerateRequest, Generation, Progress, Queued, Started
from ._transport import Transport

__all__ = [
    "AsyncJob",
    "BatchItem",
    "JobRecord",
    "JobRun",
    "JobState",
    "JobStatus",
    "Planned",
    "batch_result",
    "finishing_order",
    "follow",
    "spawn",
]

logger = logging.getLogger("flux_sdk")

JobState = Literal["submitting", "queued", "running", "completed", "failed", "cancelled"]
"""Where a job is: being sent, waiting in the Space's queue, running, or how it ended."""

CANCELLED_BY_HANDLE = "the job was cancelled (cancel() on its handle)"


@dataclass(frozen=True)
class JobStatus:
    """Where a submitted job is, as its events so far say; ``status()`` returns it at once.

    Attributes:
        state: ``"submitting"`` (not in the Space's queue yet), ``"queued"``, ``"running"``,
            or how it ended: ``"completed"``, ``"failed"`` or ``"cancelled"`` (by ``cancel()``,
            by the Space, or by closing the client).
        queued: While queued, the last `Queued` event: ``rank``, ``queue_size``, ``eta``.
        progress: While running, the last `Progress` event (None before the first step).
        generation: Once completed, the result.
        error: Once failed or cancelled, the error ``result()`` raises.
    """

    state: JobState
    queued: Queued | None = None
    progress: Progress | None = None
    generation: Generation | None = None
    error: Exception | None = None

    @property
    def done(self) -> bool:
        """Whether the job has ended: completed, failed or cancelled."""
        return self.state in ("completed", "failed", "cancelled")


def advance(status: JobStatus, event: Event) -> JobStatus:
    """The status once ``event`` has come; a notice or a preview changes nothing."""
    if isinstance(event, Queued):
        return JobStatus("queued", queued=event)
    if isinstance(event, Started):
        return JobStatus("running")
    if isinstance(event, Progress):
        return JobStatus("running", progress=event)
    if isinstance(event, Completed):
        return JobStatus("completed", generation=event.generation)
    return status


def ended(outcome: Generation | Exception) -> JobStatus:
    """The status of a job that ended with ``outcome``."""
    if isinstance(outcome, Generation):
        return JobStatus("completed", generation=outcome)
    cancelled = isinstance(outcome, JobCancelledError | ClientClosedError)
    return JobStatus("cancelled" if cancelled else "failed", error=outcome)


class JobRecord:
    """What one job did so far: written on its event loop, read from any thread."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._events: list[Event] = []
        self._status = JobStatus("submitting")
        self._outcome: Generation | Exception | None = None
        self._on_finish: list[Callable[[], object]] = []
        # For waiters on the job's own loop; made there, by the first of them.
        self._wakeup: anyio.Event | None = None

    @property
    def status(self) -> JobStatus:
        return self._status

    @property
    def outcome(self) -> Generation | Exception | None:
        """The result or the error, once the job has ended."""
        return self._outcome

    def count(self) -> int:
        """How many events there are so far."""
        with self._changed:
            return len(self._events)

    def add(self, event: Event) -> None:
        """On the job's loop: one more event."""
        with self._changed:
            self._events.append(event)
            self._status = advance(self._status, event)
            self._changed.notify_all()
        self._wake()

    def finish(self, outcome: Generation | Exception) -> None:
        """The job has ended with ``outcome``; only the first call counts."""
        with self._changed:
            if self._outcome is not None:
                return
            self._outcome = outcome
            self._status = ended(outcome)
            callbacks, self._on_finish = self._on_finish, []
            self._changed.notify_all()
        self._wake()
        for callback in callbacks:
            try:
                callback()
            except Exception:
                logger.exception("a job's done callback raised")

    def when_done(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` once the job has ended: now, if it has."""
        with self._changed:
            if self._outcome is None:
                self._on_finish.append(callback)
                return
        callback()

    def since(self, seen: int) -> tuple[list[Event], Generation | Exception | None]:
        """The events after the first ``seen``, and the outcome if the job has ended.

        Both at once: once there is an outcome, no event comes after those returned.
        """
        with self._changed:
            return self._events[seen:], self._outcome

    def wait(self, seen: int, timeout: float | None = None) -> bool:
        """Block until an event past the first ``seen`` came or the job ended; False on timeout."""
        with self._changed:
            return self._changed.wait_for(
                lambda: len(self._events) > seen or self._outcome is not None, timeout
            )

    def wait_finished(self, timeout: float | None = None) -> bool:
        """Block until the job has ended; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._outcome is not None, timeout)

    async def changed(self, seen: int) -> None:
        """On the job's loop: wait until an event past the first ``seen`` came or it ended."""
        while len(self._events) <= seen and self._outcome is None:
            if self._wakeup is None:
                self._wakeup = anyio.Event()
            await self._wakeup.wait()

    async def finished(self) -> None:
        """On the job's loop: wait until the job has ended."""
        while self._outcome is None:
            await self.changed(len(self._events))

    def _wake(self) -> None:
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is not None:
            wakeup.set()


async def follow(
    transport: Transport,
    events: AsyncGenerator[Event, None],
    on_event: Callable[[Event], None] | None = None,
) -> Generation:
    """Run one job to its result, as one guarded call; ``on_event`` sees each event."""
    async with transport.call(), contextlib.aclosing(events):
        transport.track(events)
        async for event in events:
            if on_event is not None:
                on_event(event)
            if isinstance(event, Completed):
                return event.generation
    raise ProtocolError("the stream ended without a result")


class JobRun:
    """One submitted job's task: follows its events into a `JobRecord`; cancellable."""

    def __init__(
        self, transport: Transport, request: GenerateRequest, events: AsyncGenerator[Event, None]
    ) -> None:
        self.request: GenerateRequest = request
        self.record: JobRecord = JobRecord()
        self.started: bool = False
        self.home: int | None = None
        """The thread of the event loop it was spawned on, when spawned by `spawn`."""
        self._transport = transport
        self._events = events
        self._scope: anyio.CancelScope | None = None
        self._cancelled = False

    def cancel(self) -> None:
        """On the job's loop: end it, cancelling it on the Space (bounded by Timeout.cancel).

        Before its task has started, nothing is ever sent.
        """
        self._cancelled = True
        if self._scope is not None:
            self._scope.cancel()

    async def run(self) -> None:
        """The job's task: never raises but a cancellation from outside (the loop's end)."""
        self.started = True
        outcome: Generation | Exception | None = None
        try:
            # Cancelled before its task ran: it is never sent. Not by cancelling the scope: the
            # first checkpoint may come only once the submission is on the wire.
            if not self._cancelled:
                with anyio.CancelScope() as scope:
                    self._scope = scope
                    outcome = await follow(self._transport, self._events, self.record.add)
        except Exception as exc:
            # Kept for result(); nothing else may escape (on trio it would end the whole run).
            outcome = exc
        finally:
            self._scope = None
            self.record.finish(self._interrupted() if outcome is None else outcome)

    def abandon(self) -> None:
        """Its task will not run to its end (the loop stopped, the client closed): end it."""
        self.record.finish(self._interrupted())

    def _interrupted(self) -> Exception:
        if self._cancelled:
            return JobCancelledError(CANCELLED_BY_HANDLE)
        if self._transport.closed:
            return ClientClosedError(CLOSED_WHILE_RUNNING)
        return JobCancelledError("the job's event loop ended before the job")


# Strong references to the asyncio tasks `spawn` starts: the loop keeps only weak ones.
_tasks: set[asyncio.Task[None]] = set()


def spawn(run: JobRun) -> None:
    """Start ``run`` as a task of its own on the running event loop (asyncio or trio).

    Not in a task group: the job outlives the call that submitted it. The loop's end cancels
    it (asyncio.run cancels the tasks left; trio cancels its system tasks).
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        task = loop.create_task(run.run())
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
    else:
        try:
            import trio

            trio.lowlevel.spawn_system_task(run.run)
        except (ImportError, RuntimeError):
            raise RuntimeError(
                "AsyncFluxClient.submit() needs a running event loop (asyncio or trio)"
            ) from None
    run.home = threading.get_ident()


def unwrap(outcome: Generation | Exception | None) -> Generation:
    """The job's result, or its error raised."""
    if isinstance(outcome, Generation):
        return outcome
    assert outcome is not None, "the job has not ended"
    raise outcome


class AsyncJob:
    """A job started with `AsyncFluxClient.submit`, running in a task of its own.

    Use it from any task on the event loop it was submitted on. ``await job`` is
    ``await job.result()``. The job does not end with its handle: dropping it lets the job run
    on (call `cancel` to stop it); closing the client, or the end of the event loop, cancels
    it on the Space.

    Example:
        >>> job = client.submit("a red fox in fresh snow")  # doctest: +SKIP
        >>> job.status().state  # doctest: +SKIP
        'queued'
        >>> image = await job.result()  # doctest: +SKIP
    """

    def __init__(self, run: JobRun) -> None:
        self._run = run

    def __repr__(self) -> str:
        return f"<AsyncJob {self._run.record.status.state}: {self._run.request.prompt!r:.60}>"

    @property
    def request(self) -> GenerateRequest:
        """The request the job was submitted with, checked."""
        return self._run.request

    def status(self) -> JobStatus:
        """Where the job is now, without waiting."""
        return self._run.record.status

    def done(self) -> bool:
        """Whether the job has ended: completed, failed or cancelled."""
        return self._run.record.outcome is not None

    async def result(self, timeout: float | None = None) -> Generation:
        """Wait for the job's `Generation`.

        Cancelling the waiting task (or running out of ``timeout``) stops the wait, not the
        job; `cancel` stops the job.

        Args:
            timeout: Seconds to wait at most; None waits as long as the job takes.

        Raises:
            TimeoutError: ``timeout`` ran out first; the job runs on.
            FluxError: The job's own error, as ``generate()`` raises it; `JobCancelledError`
                after `cancel`, `ClientClosedError` when the client was closed under it.
        """
        with anyio.fail_after(timeout):
            await self._run.record.finished()
        return unwrap(self._run.record.outcome)

    def __await__(self) -> Generator[object, None, Generation]:
        return self.result().__await__()

    async def cancel(self) -> bool:
        """Cancel the job, on the Space too, and wait until it has ended.

        The wait is bounded by ``Timeout.cancel``, as for a cancelled ``generate()``. A job
        not sent yet is never sent.

        Returns:
            True if the job ended cancelled, False if it had ended before (completed or
            failed).
        """
        record = self._run.record
        if record.outcome is None:
            self._run.cancel()
            await record.finished()
        return record.status.state == "cancelled"

    async def events(self, *, replay: bool = True) -> AsyncGenerator[Event, None]:
        """The job's events: those so far first (with ``replay``), then each as it comes.

        Any number of readers may follow one job; leaving the loop early stops reading, not
        the job. As with ``stream()``, a successful job's last event is `Completed`, and a
        failed job's error is raised after its last event.

        Args:
            replay: Start from the job's first event (True), or only what comes next.
        """
        record = self._run.record
        seen = 0 if replay else record.count()
        while True:
            new, outcome = record.since(seen)
            for event in new:
                yield event
            seen += len(new)
            if outcome is not None:
                if isinstance(outcome, Exception):
                    raise outcome
                return
            await record.changed(seen)


@dataclass(frozen=True)
class BatchItem:
    """One job of ``as_completed()``, as it finished.

    Attributes:
        index: Its position among the prompts given (from 0).
        prompt: The prompt, or `GenerateRequest`, as given.
        result: The `Generation`, or the `FluxError` the job raised (an invalid prompt's
            `InvalidRequestError` included: it is never sent).
    """

    index: int
    prompt: str | GenerateRequest
    result: Generation | FluxError


Planned = tuple[int, str | GenerateRequest, GenerateRequest]
"""One valid job of a batch: its index, the prompt as given, and its checked request."""


def batch_result(outcome: Generation | Exception | None) -> Generation | FluxError:
    """A batch job's outcome as a `BatchItem` holds it; what ends the whole batch raises."""
    if isinstance(outcome, Generation):
        return outcome
    if isinstance(outcome, FluxError) and not isinstance(outcome, ClientClosedError):
        return outcome
    return unwrap(outcome)  # raises what ends the batch


async def finishing_order(
    start: Callable[[GenerateRequest], JobRun],
    planned: Iterable[Planned],
    invalid: Iterable[BatchItem],
    concurrency: int,
) -> AsyncGenerator[BatchItem, None]:
    """A batch's jobs, ``concurrency`` at a time, yielded as they finish.

    Closing it early cancels the jobs still running, on the Space too.
    """
    pending = deque(planned)
    running: list[JobRun] = []
    send, receive = anyio.create_memory_object_stream[tuple[JobRun, int, str | GenerateRequest]](
        math.inf
    )

    def on_done(run: JobRun, index: int, prompt: str | GenerateRequest) -> None:
        # Closed: the batch was left early and no longer listens.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            send.send_nowait((run, index, prompt))

    def top_up() -> None:
        # Before an item is handed over, not once the reader is back: the batch keeps going
        # while the reader works.
        while pending and len(running) < concurrency:
            index, prompt, request = pending.popleft()
            run = start(request)
            running.append(run)
            run.record.when_done(functools.partial(on_done, run, index, prompt))

    try:
        for item in invalid:
            yield item
        top_up()
        while running:
            run, index, prompt = await receive.receive()
            running.remove(run)
            top_up()
            yield BatchItem(index, prompt, batch_result(run.record.outcome))
    finally:
        send.close()
        receive.close()
        # Shielded: when the reader is cancelled, the cancels must still go.
        with anyio.CancelScope(shield=True):
            for run in running:
                run.cancel()
            for run in running:
                await run.record.finished()
