"""`FluxClient`: the synchronous facade, driving the same async transport.

The async client runs in one event loop on one thread owned by this object (an anyio blocking
portal, the way starlette's TestClient does it). A call is one hop to that thread; a stream's
events come back through a queue, so there is no hop per event. Because the loop is our own, it
works where the caller already runs one (Jupyter), and it shuts down with `close()`.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import anyio
import httpx
from anyio.abc import TaskStatus
from anyio.from_thread import BlockingPortal, start_blocking_portal
from typing_extensions import Self, Unpack

from ._client import AsyncEventStream, AsyncFluxClient
from ._config import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ProtocolName,
    TimeoutTypes,
)
from ._errors import FluxError
from ._models import Event, GenerateParams, GenerateRequest, Generation
from ._spaces import SpaceDescriptor

__all__ = ["EventStream", "FluxClient"]

_T = TypeVar("_T")


class _End:
    """Marks the end of a stream in the event queue."""


_END = _End()
_Item = Event | BaseException | _End


class EventStream:
    """The events of one job, for ``with`` and ``for``; the sync twin of `AsyncEventStream`.

    Leaving the ``with`` block early cancels the job on the Space and releases the connection.
    """

    def __init__(self, portal: BlockingPortal, stream: AsyncEventStream) -> None:
        self._items: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._finished = threading.Event()
        self._portal = portal
        self._stream = stream
        self._scope: anyio.CancelScope | None = None
        self._future: Future[None] | None = None
        self._done = False

    def _start(self) -> None:
        self._future, self._scope = self._portal.start_task(self._pump)

    async def _pump(self, *, task_status: TaskStatus[anyio.CancelScope]) -> None:
        try:
            with anyio.CancelScope() as scope:
                task_status.started(scope)
                try:
                    async with self._stream as events:
                        async for event in events:
                            self._items.put(event)
                except Exception as exc:
                    self._items.put(exc)
        finally:
            self._items.put(_END)
            self._finished.set()

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
        if self._scope is None:
            self._start()
        item = self._items.get()
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
        if scope is None:
            # Never started: nothing was sent; just release the generator.
            self._portal.call(self._stream.close)
            return
        if not self._finished.is_set():
            self._portal.call(scope.cancel)
        # Bounded: the pump's cleanup posts the cancel within Timeout.cancel.
        self._finished.wait()


class FluxClient:
    """A synchronous client for a FLUX Space; same methods as `AsyncFluxClient`.

    Safe to share between threads. Use it as a context manager, or call `close()`, which stops
    its event-loop thread.

    Args:
        base_url: The Space's URL, or several (a pool); see `AsyncFluxClient`. Defaults to
            ``space``'s public URL.
        space: ``"flux-schnell"`` (default), ``"flux-dev"``, or a `SpaceDescriptor`.
        token: A Hugging Face token; defaults to ``HF_TOKEN``. Sent only to the Spaces'
            origins, never logged or shown.
        protocol: ``"auto"`` (default), ``"queue"`` or ``"call"``; see `ProtocolName`.
        timeout: A `Timeout`, or seconds for a whole job.
        proxy: A proxy URL for all requests (else the usual proxy environment variables).
        headers: Extra headers sent with every request.
        max_retries: How often to re-send a submission the Space certainly did not accept;
            see `AsyncFluxClient`.
        wait_on_quota: Wait out a ZeroGPU quota error's ``retry_after`` and try again.
        max_download_bytes: The largest image `download` and `save` accept.
        http_transport: An httpx *async* transport to use instead of the network.

    Example:
        >>> with FluxClient() as client:  # doctest: +SKIP
        ...     image = client.generate("a red fox in fresh snow", seed=7, randomize_seed=False)
        ...     client.save(image, "fox.webp")
    """

    def __init__(
        self,
        base_url: str | Sequence[str] | None = None,
        *,
        space: str | SpaceDescriptor = "flux-schnell",
        token: str | None = None,
        protocol: ProtocolName = "auto",
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        proxy: str | None = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        wait_on_quota: bool = False,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._portal_cm: AbstractContextManager[BlockingPortal] = start_blocking_portal()
        self._portal = self._portal_cm.__enter__()
        try:
            # Built on the loop thread: anyio primitives bind to the event loop that creates
            # them, and the caller's thread may run another one (trio, Jupyter's asyncio).
            self._async = self._portal.call(
                lambda: AsyncFluxClient(
                    base_url,
                    space=space,
                    token=token,
                    protocol=protocol,
                    timeout=timeout,
                    proxy=proxy,
                    headers=headers,
                    max_retries=max_retries,
                    wait_on_quota=wait_on_quota,
                    max_download_bytes=max_download_bytes,
                    http_transport=http_transport,
                )
            )
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            raise
        self._close_lock = threading.Lock()
        self._closed = False

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

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool and stop the event-loop thread. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._portal.call(self._async.close)
            finally:
                self._portal_cm.__exit__(None, None, None)

    def _call(self, func: Callable[[], Awaitable[_T]]) -> _T:
        future = self._portal.start_task_soon(func)
        try:
            return future.result()
        except BaseException:
            # KeyboardInterrupt and friends: cancel the task, which cancels the job.
            future.cancel()
            raise

    def generate(
        self,
        prompt: str | GenerateRequest,
        *,
        protocol: ProtocolName | None = None,
        timeout: TimeoutTypes | None = None,
        max_retries: int | None = None,
        wait_on_quota: bool | None = None,
        **params: Unpack[GenerateParams],
    ) -> Generation:
        """Generate one image and return where it is; see `AsyncFluxClient.generate`."""
        return self._call(
            lambda: self._async.generate(
                prompt,
                protocol=protocol,
                timeout=timeout,
                max_retries=max_retries,
                wait_on_quota=wait_on_quota,
                **params,
            )
        )

    def stream(
        self,
        prompt: str | GenerateRequest,
        *,
        protocol: ProtocolName | None = None,
        timeout: TimeoutTypes | None = None,
        max_retries: int | None = None,
        wait_on_quota: bool | None = None,
        **params: Unpack[GenerateParams],
    ) -> EventStream:
        """Start a job and follow it event by event; see `AsyncFluxClient.stream`."""
        return EventStream(
            self._portal,
            self._async.stream(
                prompt,
                protocol=protocol,
                timeout=timeout,
                max_retries=max_retries,
                wait_on_quota=wait_on_quota,
                **params,
            ),
        )

    def generate_many(
        self,
        prompts: Iterable[str | GenerateRequest],
        *,
        concurrency: int = 4,
        progress: Callable[[int, int], object] | None = None,
        protocol: ProtocolName | None = None,
        timeout: TimeoutTypes | None = None,
        max_retries: int | None = None,
        wait_on_quota: bool | None = None,
    ) -> list[Generation | FluxError]:
        """Generate many images concurrently; see `AsyncFluxClient.generate_many`.

        ``progress`` is called on the client's event-loop thread.
        """
        return self._call(
            lambda: self._async.generate_many(
                prompts,
                concurrency=concurrency,
                progress=progress,
                protocol=protocol,
                timeout=timeout,
                max_retries=max_retries,
                wait_on_quota=wait_on_quota,
            )
        )

    def download(self, generation: Generation) -> bytes:
        """The image's bytes; see `AsyncFluxClient.download`."""
        return self._call(lambda: self._async.download(generation))

    def save(self, generation: Generation, path: str | os.PathLike[str]) -> Path:
        """Stream the image to ``path``; see `AsyncFluxClient.save`."""
        return self._call(lambda: self._async.save(generation, path))
