"""`FluxClient`: the synchronous facade, driving the same async transport.

The async client runs in one event loop on one thread owned by the client (an anyio blocking
portal, the way starlette's TestClient does it), and shared with the clients its
``with_options`` makes. A call is one hop to that thread; a stream's events come back through a
queue, so there is no hop per event. Because the loop is our own, it works where the caller
already runs one (Jupyter).

The thread starts on the first call, is a daemon, and ends with `close()`, with the garbage
collector, or at interpreter exit, whichever comes first; each of those cancels the jobs still
running on the Space first. A Ctrl-C (or any exception raised into the waiting thread) cancels
the call's job and waits, bounded by ``Timeout.cancel``, for the cancel to reach the Space.
"""

from __future__ import annotations

import contextlib
import copy
import os
import queue
import ssl
import threading
import weakref
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from concurrent.futures import CancelledError, Future
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import anyio
import httpx
from anyio.abc import TaskStatus
from typing_extensions import Self, Unpack

from ._client import AsyncEventStream, AsyncFluxClient, check_concurrency, plan_batch
from ._config import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ProtocolName,
    Timeout,
    TimeoutTypes,
)
from ._errors import ClientClosedError, FluxError
from ._image import require_pillow
from ._jobs import BatchItem, JobRun, spawn
from ._loop_thread import LoopThread
from ._loops import CLOSED_WHILE_RUNNING
from ._models import Event, GenerateRequest, Generation
from ._options import CallOptions, GenerateKeywords
from ._spaces import SpaceDescriptor
from ._sync_jobs import Job, call_on_loop, finishing_order

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["EventStream", "FluxClient"]

_T = TypeVar("_T")

# Beyond a job's own Timeout.cancel: the drain after the cancel, closing the response, a hop.
_CLEANUP_MARGIN = 2.0


class _End:
    """Marks the end of a stream in the event queue."""


_END = _End()
_Item = Event | BaseException | _End


class EventStream:
    """The events of one job, for ``with`` and ``for``; the sync twin of `AsyncEventStream`.

    Leaving the ``with`` block early, a Ctrl-C while waiting for an event, or dropping the
    stream cancels the job on the Space and releases the connection.
    """

    def __init__(self, client: FluxClient, stream: AsyncEventStream, cleanup: float) -> None:
        self._items: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._finished = threading.Event()
        # The client, not only its loop: while the stream is in use, the client must not be
        # collected (its finaliser would close it under the stream).
        self._client = client
        self._loop = client._runner.loop  # pyright: ignore[reportPrivateUsage]
        self._stream = stream
        self._cleanup = cleanup
        self._scope: anyio.CancelScope | None = None
        self._done = False
        self._pid = os.getpid()
        self._finalizer: weakref.finalize[..., EventStream] | None = None

    def _start(self) -> None:
        # The pump holds what it feeds, never the stream itself, so that a stream dropped
        # unfinished (no ``with``, a ``break``) is collected and its finaliser cancels the job.
        _future, scope = self._loop.portal().start_task(
            _pump, self._stream, self._items, self._finished
        )
        self._scope = scope
        self._finalizer = weakref.finalize(self, call_on_loop, self._loop, scope.cancel)

    # Written out, not inherited: a shared private base would show in the API reference.
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> Event:
        if self._done:
            raise StopIteration
        try:
            if self._scope is None:
                self._start()
            item = self._items.get()
        except BaseException:
            # Ctrl-C while waiting: the job is cancelled on the Space before it propagates.
            self.close()
            raise
        if isinstance(item, _End):
            self._done = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._done = True
            self.close()
            raise item
        return item

    def close(self) -> None:
        """Stop following the job; cancels it on the Space if it has not finished."""
        self._done = True
        scope = self._scope
        if scope is None or self._pid != os.getpid():
            return  # never started (nothing was sent), or the parent's, in a forked child
        if self._finalizer is not None:
            self._finalizer.detach()
        if not self._finished.is_set():
            call_on_loop(self._loop, scope.cancel)
        # Bounded: the pump's clean-up posts the cancel within Timeout.cancel.
        try:
            self._finished.wait(self._cleanup)
        except BaseException:
            # A second Ctrl-C: out at once, and nothing waits at exit either.
            self._client._skip_close_at_exit()  # pyright: ignore[reportPrivateUsage]
            raise


async def _pump(
    stream: AsyncEventStream,
    items: queue.SimpleQueue[_Item],
    finished: threading.Event,
    *,
    task_status: TaskStatus[anyio.CancelScope],
) -> None:
    """Feed ``stream``'s events (or its error) to ``items``, on the loop's thread."""
    try:
        with anyio.CancelScope() as scope:
            task_status.started(scope)
            try:
                async with stream as events:
                    async for event in events:
                        items.put(event)
            except Exception as exc:
                items.put(exc)
    finally:
        items.put(_END)
        finished.set()


def _close(loop: LoopThread, client: AsyncFluxClient, wait: float, done: threading.Event) -> None:
    """Close ``client`` on ``loop`` (cancelling its jobs), then end the loop's thread."""
    if loop.in_loop():
        # Collected on the loop's own thread, which must not block on itself.
        threading.Thread(target=_close, args=(loop, client, wait, done), daemon=True).start()
        return
    try:
        portal = loop.running_portal()
        if portal is None:
            client._transport.close_now()  # pyright: ignore[reportPrivateUsage]
        else:
            # RuntimeError: the loop has stopped already.
            with contextlib.suppress(RuntimeError):
                portal.call(client.close)
    finally:
        loop.stop(wait)
        # Submitted jobs whose task the stopped loop never ran (or never let end).
        client._abandon_runs(None)  # pyright: ignore[reportPrivateUsage]
        done.set()


class _Runner:
    """A client's event-loop thread: runs its calls there, and ends with the client.

    A client and the clients its `FluxClient.with_options` makes share one runner, as they
    share one async client's transport: the finaliser closes them all when the last of them
    (or of their streams) is collected, or at interpreter exit.
    """

    def __init__(self, client: AsyncFluxClient, timeout: Timeout) -> None:
        self.loop = LoopThread()
        self._client = client
        self._wait = timeout.cancel + _CLEANUP_MARGIN
        self._closed = threading.Event()
        self._finalizer = weakref.finalize(
            self, _close, self.loop, client, self._wait, self._closed
        )

    def close(self) -> None:
        """Close the client (its jobs cancelled on the Space) and end the thread; any thread."""
        self._finalizer()
        if not self.loop.in_loop():
            # Another thread's close() may be at work: return when it has closed.
            self._closed.wait(self._wait)

    def skip_close_at_exit(self) -> None:
        """After a second Ctrl-C: nothing of this client waits at interpreter exit."""
        self._finalizer.atexit = False

    def call(self, func: Callable[[], Awaitable[_T]], cleanup: Callable[[], float]) -> _T:
        """Run ``func()`` on the loop and wait for it; on Ctrl-C, wait ``cleanup()`` for it."""
        if self._client.is_closed:
            raise ClientClosedError()
        if self.loop.in_loop():
            # It would wait on the very thread that must run it.
            raise RuntimeError(
                "a FluxClient cannot be called from its own event-loop thread (e.g. from a "
                "generate_many progress callback); record what you need there and call after"
            )
        ended = threading.Event()

        async def run() -> _T:
            try:
                return await func()
            finally:
                ended.set()

        try:
            future: Future[_T] = self.loop.portal().start_task_soon(run)
        except RuntimeError:
            raise ClientClosedError() from None  # closed by another thread meanwhile
        try:
            return future.result()
        except CancelledError:
            # Only close() cancels the loop's tasks (ending the loop: the call was running).
            raise ClientClosedError(CLOSED_WHILE_RUNNING) from None
        except BaseException:
            if not future.done():
                # Ctrl-C, or another exception raised into this thread: cancel the task, whose
                # clean-up cancels the job on the Space, and let that finish before the
                # exception goes on. A second Ctrl-C ends the wait at once.
                future.cancel()
                try:
                    ended.wait(cleanup())
                except BaseException:
                    # A second Ctrl-C: out at once, and nothing waits at exit either.
                    self.skip_close_at_exit()
                    raise
            raise

    def start(self, run: JobRun) -> None:
        """Start a submitted job's task on the loop; returns at once."""
        if self._client.is_closed:
            raise ClientClosedError()
        if self.loop.in_loop():
            spawn(run)  # from a done callback: the portal takes no task from its own thread
            return
        try:
            future = self.loop.portal().start_task_soon(run.run)
        except RuntimeError:
            raise ClientClosedError() from None  # closed by another thread meanwhile
        # Cancelled before it started (the loop stopped): the job must still end.
        future.add_done_callback(lambda _: run.abandon())


class FluxClient:
    """A synchronous client for a FLUX Space; the same methods as `AsyncFluxClient`, blocking.

    Safe to share between threads. Use it as a context manager, or call `close()`. A client
    that is never closed is closed when it is garbage-collected or at interpreter exit; it
    never keeps the interpreter running. In a forked child (multiprocessing, gunicorn or
    celery workers) it starts its own event loop and connections on first use.

    It takes the same arguments as `AsyncFluxClient`, which describes each in full.

    Args:
        base_url: The Space's URL, or several (a pool). Defaults to ``space``'s public URL.
        space: ``"flux-schnell"`` (default), ``"flux-dev"``, or a `SpaceDescriptor`.
        token: A Hugging Face token; defaults to ``HF_TOKEN``.
        protocol: ``"auto"`` (default), ``"queue"`` or ``"call"``.
        timeout: A `Timeout`, or seconds for a whole job.
        proxy: A proxy URL for all requests.
        verify: True (default), a CA bundle's path, an `ssl.SSLContext`, or False.
        http2: Offer HTTP/2 over TLS (the ``[http2]`` extra).
        discover: Read the Space's ``GET /config`` before its first job.
        headers: Extra headers sent with every request.
        max_retries: How often to re-send a submission the Space certainly did not accept.
        wait_on_quota: Wait out a ZeroGPU quota error's ``retry_after`` and try again.
        max_download_bytes: The largest image `download` and `save` accept.
        http_transport: An httpx *async* transport (it runs on the client's own event loop).

    Raises:
        ValueError: An argument is not allowed (as `AsyncFluxClient` says).
        MissingExtraError: ``http2=True`` without the ``[http2]`` extra.

    Example:
        >>> with FluxClient() as client:  # doctest: +SKIP
        ...     image = client.generate("a red fox in fresh snow", seed=7, randomize_seed=False)
        ...     client.save(image, "fox.webp")
    """

    # The signature is AsyncFluxClient's, spelled out and forwarded one by one (not **kwargs)
    # so that type checkers and the reference show every argument and its default; `duplicates`
    # pairs it with AsyncFluxClient.__init__ (and other keyword lists) by shape, on purpose.
    def __init__(
        self,
        base_url: str | Sequence[str] | None = None,
        *,
        space: str | SpaceDescriptor = "flux-schnell",
        token: str | None = None,
        protocol: ProtocolName = "auto",
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        proxy: str | None = None,
        verify: ssl.SSLContext | str | bool = True,
        http2: bool = False,
        discover: bool = False,
        headers: Mapping[str, str] | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        wait_on_quota: bool = False,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # No event loop is needed to build it (nothing binds to a loop before its first use),
        # and no thread starts before the first call.
        self._async = AsyncFluxClient(
            base_url,
            space=space,
            token=token,
            protocol=protocol,
            timeout=timeout,
            proxy=proxy,
            verify=verify,
            http2=http2,
            discover=discover,
            headers=headers,
            max_retries=max_retries,
            wait_on_quota=wait_on_quota,
            max_download_bytes=max_download_bytes,
            http_transport=http_transport,
        )
        self._runner = _Runner(self._async, Timeout.coerce(timeout))

    @property
    def base_url(self) -> str:
        """The Space this client talks to (the first of a pool)."""
        return self._async.base_url

    @property
    def space(self) -> SpaceDescriptor:
        """What the client knows about its Space: inputs, defaults, limits."""
        return self._async.space

    def __repr__(self) -> str:
        return f"FluxClient(base_url={self.base_url!r}, protocol={self._async.protocol!r})"

    # Written out, not inherited: a shared private base would show in the API reference.
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def is_closed(self) -> bool:
        """Whether `close()` was called."""
        return self._async.is_closed

    def close(self) -> None:
        """Cancel the jobs still running (on the Space too), close the pool, end the thread.

        Safe from any thread: callers still waiting on the client get `ClientClosedError`, as
        does any call made after. Idempotent; bounded by ``Timeout.cancel``.
        """
        self._runner.close()

    def with_options(self, **options: Unpack[CallOptions]) -> Self:
        """Same as `AsyncFluxClient.with_options`: other defaults, the same connections.

        The client it returns shares this one's event-loop thread too (no new thread or
        pool); closing either closes both.

        Example:
            >>> patient = client.with_options(timeout=1800, wait_on_quota=True)  # doctest: +SKIP
            >>> image = patient.generate("a red fox in fresh snow")  # doctest: +SKIP
        """
        twin = copy.copy(self)
        twin._async = self._async.with_options(**options)
        return twin

    def _skip_close_at_exit(self) -> None:
        """After a second Ctrl-C: nothing of this client waits at interpreter exit."""
        self._runner.skip_close_at_exit()

    def _call(self, func: Callable[[], Awaitable[_T]], options: CallOptions | None = None) -> _T:
        """``func()`` on the loop thread; a Ctrl-C waits for its job's cancel to reach the Space."""

        def cleanup() -> float:
            timeout = (options or {}).get("timeout")
            return self._cleanup(timeout)

        return self._runner.call(func, cleanup)

    def _cleanup(self, timeout: TimeoutTypes | None) -> float:
        """How long a cancelled call's clean-up may take (its cancel must reach the Space)."""
        settings = self._async._settings  # pyright: ignore[reportPrivateUsage]
        limits = settings.timeout if timeout is None else Timeout.coerce(timeout)
        return limits.cancel + _CLEANUP_MARGIN

    def generate(
        self, prompt: str | GenerateRequest, **keywords: Unpack[GenerateKeywords]
    ) -> Generation:
        """Same as `AsyncFluxClient.generate`, blocking."""
        return self._call(lambda: self._async.generate(prompt, **keywords), keywords)

    def submit(self, prompt: str | GenerateRequest, **keywords: Unpack[GenerateKeywords]) -> Job:
        """Start a job in the background and return its handle at once.

        Takes the same arguments as `generate`, checked here, before any I/O. The job runs on
        the client's event-loop thread; the `Job` (a `concurrent.futures.Future`) tells its
        status at any time, and gives its result, its events, or cancels it, from any thread.
        Closing the client cancels the jobs still running, on the Space too; their `result`
        then raises `ClientClosedError`.

        Raises:
            InvalidRequestError: A parameter is out of range (nothing is sent).
            ClientClosedError: The client is closed.

        Example:
            >>> jobs = [client.submit(p) for p in ["a fox", "a lighthouse"]]  # doctest: +SKIP
            >>> for job in concurrent.futures.as_completed(jobs):  # doctest: +SKIP
            ...     print(job.result().url)
        """
        run = self._async._job(prompt, keywords)  # pyright: ignore[reportPrivateUsage]
        job = Job(self, run, self._runner.loop, self._cleanup(keywords.get("timeout")))
        self._runner.start(run)
        return job

    def _start(self, request: GenerateRequest) -> JobRun:
        run = self._async._job(request, {})  # pyright: ignore[reportPrivateUsage]
        self._runner.start(run)
        return run

    def as_completed(
        self,
        prompts: Iterable[str | GenerateRequest],
        *,
        concurrency: int = 4,
        **options: Unpack[CallOptions],
    ) -> Generator[BatchItem, None, None]:
        """Same as `AsyncFluxClient.as_completed`, as a generator: items as jobs finish.

        Leaving the loop early (``break``, an exception, a Ctrl-C) cancels the jobs still
        running, on the Space too.

        Example:
            >>> for item in client.as_completed(["a fox", "a lighthouse"]):  # doctest: +SKIP
            ...     print(item.index, item.prompt, item.result)
        """
        check_concurrency(concurrency)
        settings = self._async._settings.merge(options, "as_completed")  # pyright: ignore[reportPrivateUsage]
        batch = copy.copy(self)
        batch._async = self._async._with_settings(settings)  # pyright: ignore[reportPrivateUsage]
        planned, invalid = plan_batch(self.space, prompts)
        if self.is_closed:
            raise ClientClosedError()
        cleanup = self._cleanup(options.get("timeout"))
        return finishing_order(
            batch._start, planned, invalid, concurrency, self._runner.loop, cleanup
        )

    def stream(
        self, prompt: str | GenerateRequest, **keywords: Unpack[GenerateKeywords]
    ) -> EventStream:
        """Same as `AsyncFluxClient.stream`; the events come through an `EventStream`."""
        events = self._async.stream(prompt, **keywords)
        return EventStream(self, events, self._cleanup(keywords.get("timeout")))

    def generate_many(
        self,
        prompts: Iterable[str | GenerateRequest],
        *,
        concurrency: int = 4,
        progress: Callable[[int, int], object] | None = None,
        **options: Unpack[CallOptions],
    ) -> list[Generation | FluxError]:
        """Same as `AsyncFluxClient.generate_many`, blocking.

        ``progress`` is called on the client's event-loop thread, where calling the client
        itself raises `RuntimeError` (it would wait on the thread that must run it).
        """
        return self._call(
            lambda: self._async.generate_many(
                prompts, concurrency=concurrency, progress=progress, **options
            ),
            options,
        )

    def download(self, generation: Generation) -> bytes:
        """Same as `AsyncFluxClient.download`, blocking."""
        return self._call(lambda: self._async.download(generation))

    def image(self, generation: Generation) -> Image.Image:
        """Same as `AsyncFluxClient.image` (the ``pil`` extra), blocking.

        Example:
            >>> client.image(client.generate("a fox")).size  # doctest: +SKIP
            (1024, 1024)
        """
        require_pillow("client.image()")  # before the hop and the download
        return self._call(lambda: self._async.image(generation))

    def save(self, generation: Generation, path: str | os.PathLike[str]) -> Path:
        """Same as `AsyncFluxClient.save`, blocking."""
        return self._call(lambda: self._async.save(generation, path))
