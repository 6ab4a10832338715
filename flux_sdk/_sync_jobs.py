"""`Job`: what `FluxClient.submit` returns, a `concurrent.futures.Future` of the job's result.

The job itself runs on the client's event-loop thread, as `AsyncJob`'s does on its loop (the
same `JobRun`); the handle reads its record from any thread, and waits on it without a hop.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent import futures
from typing import TYPE_CHECKING

from ._errors import ClientClosedError
from ._jobs import BatchItem, JobRun, JobStatus, Planned, batch_result
from ._loop_thread import LoopThread
from ._models import Event, GenerateRequest, Generation

if TYPE_CHECKING:
    from ._sync import FluxClient

__all__ = ["Job", "call_on_loop", "finishing_order"]


def call_on_loop(loop: LoopThread, func: Callable[[], object]) -> None:
    """Run ``func()`` on ``loop`` from any thread, the loop's own included.

    Nothing runs if the loop has stopped (or is the parent's, in a forked child).
    """
    if loop.in_loop():
        func()
        return
    portal = loop.running_portal()
    if portal is None:
        return
    # RuntimeError: it stopped meanwhile; nothing runs any more.
    with contextlib.suppress(RuntimeError):
        portal.call(func)


class Job(futures.Future[Generation]):
    """A job started with `FluxClient.submit`, running on the client's event-loop thread.

    A `concurrent.futures.Future` of its `Generation`: ``concurrent.futures.wait`` and
    ``as_completed`` take it, and ``add_done_callback`` works (the callbacks run on the
    client's event-loop thread, where calling the client raises `RuntimeError`; or at once,
    if the job has ended). Safe to use from any thread. The job does not end with its handle:
    dropping it lets the job run on; closing the client cancels it on the Space.

    Unlike a plain future's, `cancel` stops a job that is running (on the Space too), and
    then `result` raises `JobCancelledError`; ``cancelled()`` stays False (the future holds
    that error), and ``status().state`` is ``"cancelled"``.

    Example:
        >>> job = client.submit("a red fox in fresh snow")  # doctest: +SKIP
        >>> job.status().state  # doctest: +SKIP
        'queued'
        >>> image = job.result(timeout=300)  # doctest: +SKIP
    """

    # request, status(), events() and __repr__ are AsyncJob's twins on purpose (`duplicates`
    # pairs them): each class documents its own in the API reference, which lists no
    # inherited members, and the waits differ (a lock here, the event loop there).
    def __init__(self, client: FluxClient, run: JobRun, loop: LoopThread, cleanup: float) -> None:
        super().__init__()
        # The client, not only its loop: while the handle is in use, the client must not be
        # collected (its finaliser would close it under the job).
        self._client = client
        self._run = run
        self._loop = loop
        self._cleanup = cleanup
        self._pid = os.getpid()
        self.set_running_or_notify_cancel()
        run.record.when_done(self._settle)

    def _settle(self) -> None:
        outcome = self._run.record.outcome
        if isinstance(outcome, Generation):
            self.set_result(outcome)
        elif outcome is not None:
            self.set_exception(outcome)

    def __repr__(self) -> str:
        return f"<Job {self._run.record.status.state}: {self._run.request.prompt!r:.60}>"

    @property
    def request(self) -> GenerateRequest:
        """The request the job was submitted with, checked."""
        return self._run.request

    def status(self) -> JobStatus:
        """Where the job is now, without waiting."""
        return self._run.record.status

    def result(self, timeout: float | None = None) -> Generation:
        """Wait for the job's `Generation`, as ``Future.result`` does.

        A Ctrl-C while waiting cancels the job, on the Space too (as it does during
        ``generate()``), then propagates; running out of ``timeout`` does not.

        Args:
            timeout: Seconds to wait at most; None waits as long as the job takes.

        Raises:
            concurrent.futures.TimeoutError: ``timeout`` ran out first; the job runs on.
            FluxError: The job's own error, as ``generate()`` raises it; `JobCancelledError`
                after `cancel`, `ClientClosedError` when the client was closed under it (or,
                in a forked child, for a job of the parent's that had not ended).
        """
        self._check_process()
        try:
            return super().result(timeout)
        except futures.TimeoutError:
            raise
        except BaseException:
            self._interrupted()
            raise

    def cancel(self) -> bool:
        """Cancel the job, on the Space too, and wait until it has ended.

        The wait is bounded by ``Timeout.cancel``, as for a Ctrl-C during ``generate()``. A
        job not sent yet is never sent. On the client's event-loop thread (a done callback)
        it does not wait.

        Returns:
            True if the job ended cancelled (or, on the loop's thread, will), False if it had
            ended before (completed or failed).
        """
        record = self._run.record
        if record.outcome is not None:
            return record.status.state == "cancelled"
        call_on_loop(self._loop, self._run.cancel)
        if self._loop.in_loop():
            return True
        record.wait_finished(self._cleanup)
        return record.status.state == "cancelled"

    def events(self, *, replay: bool = True) -> Iterator[Event]:
        """The job's events: those so far first (with ``replay``), then each as it comes.

        Any number of readers, on any threads, may follow one job; leaving the loop early
        stops reading, not the job, but a Ctrl-C while waiting for an event cancels it (as
        in `result`). As with ``stream()``, a successful job's last event is `Completed`, and
        a failed job's error is raised after its last event.

        Args:
            replay: Start from the job's first event (True), or only what comes next.
        """
        self._check_process()
        record = self._run.record
        seen = 0 if replay else record.count()
        while True:
            new, outcome = record.since(seen)
            yield from new
            seen += len(new)
            if outcome is not None:
                if isinstance(outcome, Exception):
                    raise outcome
                return
            try:
                record.wait(seen)
            except BaseException:
                self._interrupted()
                raise

    def _check_process(self) -> None:
        """In a forked child, the parent's job runs on a loop that is not there: never wait."""
        if self._pid != os.getpid() and not self.done():
            raise ClientClosedError("the job runs in the parent process (this is a forked child)")

    def _interrupted(self) -> None:
        """A Ctrl-C (or another exception raised into the waiting thread): cancel the job."""
        if self._run.record.outcome is not None:
            return
        try:
            self.cancel()
        except BaseException:
            # A second Ctrl-C: out at once, and nothing waits at exit either.
            self._client._skip_close_at_exit()  # pyright: ignore[reportPrivateUsage]
            raise


def finishing_order(
    start: Callable[[GenerateRequest], JobRun],
    planned: Iterable[Planned],
    invalid: Iterable[BatchItem],
    concurrency: int,
    loop: LoopThread,
    cleanup: float,
) -> Generator[BatchItem, None, None]:
    """A batch's jobs, ``concurrency`` at a time, yielded as they finish.

    The sync twin of `flux_sdk._jobs.finishing_order`, waiting on a queue, not on the loop.
    Closing it early (``break``, a Ctrl-C, dropping it) cancels the jobs still running, on the
    Space too, bounded by ``cleanup``.
    """
    pending = deque(planned)
    running: list[JobRun] = []
    finished: queue.SimpleQueue[tuple[JobRun, int, str | GenerateRequest]] = queue.SimpleQueue()

    def top_up() -> None:
        # Before an item is handed over, not once the reader is back (as in the async twin).
        while pending and len(running) < concurrency:
            index, prompt, request = pending.popleft()
            run = start(request)
            running.append(run)
            run.record.when_done(functools.partial(finished.put, (run, index, prompt)))

    try:
        yield from invalid
        top_up()
        while running:
            run, index, prompt = finished.get()
            running.remove(run)
            top_up()
            yield BatchItem(index, prompt, batch_result(run.record.outcome))
    finally:
        if running:
            left = list(running)

            def cancel_all() -> None:
                for run in left:
                    run.cancel()

            call_on_loop(loop, cancel_all)  # one hop for them all
            deadline = time.monotonic() + cleanup
            for run in left:
                run.record.wait_finished(max(deadline - time.monotonic(), 0.0))
