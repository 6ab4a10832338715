"""`AsyncFluxClient`: the asyncio and trio facade over the transport."""

from __future__ import annotations

import copy
import os
import ssl
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import anyio
import httpx
from typing_extensions import Self, Unpack

from ._auth import resolve_token
from ._config import (
    DEFAULT_MAX_DOWNLOAD_BYTES,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ProtocolName,
    TimeoutTypes,
)
from ._errors import ClientClosedError, FluxError, InvalidRequestError
from ._image import require_pillow, to_pil_image
from ._jobs import AsyncJob, BatchItem, JobRun, Planned, finishing_order, follow, spawn
from ._models import Event, GenerateParams, GenerateRequest, Generation
from ._options import CallOptions, CallSettings, GenerateKeywords, split_keywords
from ._spaces import SpaceDescriptor, resolve_space
from ._transport import JobOptions, Transport, close_events

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["AsyncEventStream", "AsyncFluxClient"]


def build_request(
    space: SpaceDescriptor, prompt: str | GenerateRequest, params: GenerateParams
) -> GenerateRequest:
    """The request for ``prompt`` and keyword parameters, validated before any I/O."""
    if not isinstance(prompt, GenerateRequest):
        return space.request(prompt, params)
    if params:
        # model_copy does not validate: build it again through the checks.
        prompt = GenerateRequest(**prompt.model_copy(update=dict(params)).model_dump())
    space.check(prompt)
    return prompt


def check_concurrency(concurrency: int) -> int:
    """``concurrency`` itself, or a ValueError when it is not a count of jobs."""
    if type(concurrency) is not int or concurrency < 1:
        raise ValueError(f"concurrency must be an integer >= 1; got {concurrency!r}")
    return concurrency


def plan_batch(
    space: SpaceDescriptor, prompts: Iterable[str | GenerateRequest]
) -> tuple[list[Planned], list[BatchItem]]:
    """A batch's prompts checked before any I/O: the jobs to run, and the invalid ones' items."""
    planned: list[Planned] = []
    invalid: list[BatchItem] = []
    for index, prompt in enumerate(prompts):
        try:
            planned.append((index, prompt, build_request(space, prompt, {})))
        except InvalidRequestError as exc:
            invalid.append(BatchItem(index, prompt, exc))
    return planned, invalid


class AsyncEventStream:
    """The events of one job, for ``async with`` and ``async for``.

    Leaving the ``async with`` block early cancels the job on the Space and releases the
    connection. The last event of a successful job is `Completed`; a failure raises.
    """

    def __init__(self, events: AsyncGenerator[Event, None], transport: Transport) -> None:
        self._events = events
        self._transport = transport
        self._tracked = False

    # Written out, not inherited: a shared private base would show in the API reference.
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Event:
        # Guarded per event, not across the yield: a cancel scope must not span one.
        async with self._transport.call():
            if not self._tracked:
                # Between events no call runs: closing the client must still end the job.
                self._transport.track(self._events)
                self._tracked = True
            return await self._events.__anext__()

    async def close(self) -> None:
        """Stop following the job; cancels it on the Space if it has not finished."""
        # The client's close() may be ending this job at the same moment, and waits for it.
        await close_events(self._events)


class AsyncFluxClient:
    """An asyncio and trio client for a FLUX Space (or any Gradio server with its app).

    Safe to share between concurrent tasks. Use it as an async context manager, or call
    `close()`.

    Args:
        base_url: The Space's URL, or several URLs of Spaces running the same app (a pool:
            a job moves to the next when one answers quota exceeded, GPU unavailable, queue
            full, or is unreachable). Defaults to ``space``'s public URL.
        space: Which kind of Space: an alias (``"flux-schnell"``, the default, or
            ``"flux-dev"``) or a `SpaceDescriptor` for another Space of the same kind.
        token: A Hugging Face token; defaults to ``HF_TOKEN``. Sent only to the Spaces'
            origins, never logged or shown.
        protocol: ``"auto"`` (default), ``"queue"`` or ``"call"``; see `ProtocolName`.
        timeout: A `Timeout`, or seconds for a whole job.
        proxy: A proxy URL for all requests (``http://``, ``https://``, ``socks5://`` or
            ``socks5h://``); else the usual proxy environment variables apply.
        verify: How the Space's TLS certificate is checked: True (default: the system's CAs and
            certifi's, or ``SSL_CERT_FILE``), a CA bundle's path (a corporate CA), an
            `ssl.SSLContext`, or False (not at all: for tests only).
        http2: Offer HTTP/2 over TLS (needs ``pip install 'flux-sdk[http2]'``): concurrent
            jobs share one connection.
        discover: Read the Space's ``GET /config`` before its first job (one round trip).
            Off by default: jobs are submitted by the endpoint's name at Gradio 5's prefix,
            and ``/config`` is read only when needed (a 404, a cancel, ``flux info``); turn
            it on for a Space on Gradio 4, whose first job would otherwise pay the 404.
        headers: Extra headers sent with every request.
        max_retries: How often to re-send a submission the Space certainly did not accept
            (connection refused, HTTP 429, 502, 503, 504), with exponential backoff and jitter,
            honouring ``Retry-After``. A job the Space accepted is never sent twice.
        wait_on_quota: On `QuotaExceededError` with a ``retry_after`` that fits in the total
            timeout, wait it out and try again (off by default: it can wait long).
        max_download_bytes: The largest image `download` and `save` accept.
        http_transport: An httpx transport to use instead of the network (tests, mocks).
            flux-sdk's own never reuses a connection that received bytes past a response's
            end; a transport given here is used as it is.

    Raises:
        ValueError: ``proxy`` is not a URL with one of the schemes above, or ``verify``
            names a CA bundle that does not exist.
        MissingExtraError: ``http2=True`` without the ``[http2]`` extra.

    Example:
        >>> async with AsyncFluxClient() as client:  # doctest: +SKIP
        ...     image = await client.generate("a red fox in fresh snow")
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
        verify: ssl.SSLContext | str | bool = True,
        http2: bool = False,
        discover: bool = False,
        headers: Mapping[str, str] | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        wait_on_quota: bool = False,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD_BYTES,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = CallSettings.of(protocol, timeout, max_retries, wait_on_quota)
        self._space = resolve_space(space)
        if base_url is None:
            urls: Sequence[str] = [self._space.url]
        elif isinstance(base_url, str):
            urls = [base_url]
        else:
            urls = list(base_url)
        self._transport = Transport(
            urls,
            self._space,
            token=resolve_token(token),
            timeout=self._settings.timeout,
            headers=headers,
            proxy=proxy,
            verify=verify,
            http2=http2,
            discover=discover,
            http_transport=http_transport,
            max_download_bytes=max_download_bytes,
            max_retries=self._settings.max_retries,
        )
        # Submitted jobs, for close(): those whose task has not started yet end there too.
        # Shared with the clients with_options makes, as the transport is.
        self._runs: weakref.WeakSet[JobRun] = weakref.WeakSet()
        self._runs_lock = threading.Lock()  # the sync client submits from any thread

    @property
    def base_url(self) -> str:
        """The Space this client talks to (the first of a pool)."""
        return self._transport.base_url

    @property
    def space(self) -> SpaceDescriptor:
        """What the client knows about its Space: inputs, defaults, limits."""
        return self._space

    @property
    def protocol(self) -> ProtocolName:
        """The protocol jobs use unless a call says otherwise."""
        return self._settings.protocol

    def __repr__(self) -> str:
        return f"AsyncFluxClient(base_url={self.base_url!r}, protocol={self.protocol!r})"

    def with_options(self, **options: Unpack[CallOptions]) -> Self:
        """This client with other defaults for its calls; it shares this one's connections.

        Cheap: nothing new is opened. Both clients share one connection pool and one life:
        closing either closes both (close the one you made, or let it be).

        Args:
            **options: `CallOptions`: ``protocol``, ``timeout``, ``max_retries``,
                ``wait_on_quota``; the others keep this client's values.

        Raises:
            ValueError: A value is not allowed (as the constructor would say).

        Example:
            >>> patient = client.with_options(timeout=1800, wait_on_quota=True)  # doctest: +SKIP
            >>> image = await patient.generate("a red fox in fresh snow")  # doctest: +SKIP
        """
        return self._with_settings(self._settings.merge(options, "with_options"))

    def _with_settings(self, settings: CallSettings) -> Self:
        # A shallow copy: the transport (pool, loop states, life) is the same object.
        twin = copy.copy(self)
        twin._settings = settings
        return twin

    # Written out, not inherited: a shared private base would show in the API reference.
    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def is_closed(self) -> bool:
        """Whether `close()` was called."""
        return self._transport.closed

    async def close(self) -> None:
        """Cancel the jobs still running, on the Space too, and close the connection pool.

        Callers still waiting on the client get `ClientClosedError`, as does any call made
        after. Idempotent; bounded by ``Timeout.cancel``. A client that is never closed closes
        its pool on each event loop when that loop ends.
        """
        await self._transport.aclose()
        self._abandon_runs(threading.get_ident())

    def _abandon_runs(self, home: int | None) -> None:
        """End the submitted jobs whose task never started (on ``home``'s loop; None: all)."""
        with self._runs_lock:
            runs = list(self._runs)
        for run in runs:
            if not run.started and home in (None, run.home):
                run.abandon()

    async def generate(
        self, prompt: str | GenerateRequest, **keywords: Unpack[GenerateKeywords]
    ) -> Generation:
        """Generate one image and return where it is.

        Args:
            prompt: The text prompt, or a ready `GenerateRequest`.
            **keywords: Parameters (`GenerateParams`: ``seed``, ``randomize_seed``, ``width``,
                ``height``, ``num_inference_steps``; see `GenerateRequest` for limits and
                defaults) and `CallOptions` for this call (``protocol``, ``timeout``,
                ``max_retries``, ``wait_on_quota``; they override the client's).

        Returns:
            The `Generation`: its ``url``, ``seed`` and request.

        Raises:
            InvalidRequestError: A parameter is out of range (nothing is sent).
            ResponseError: The Space refused or failed the job (see its subclasses).
            FluxTimeoutError: A time limit ran out; the job is cancelled on the Space.
            FluxConnectionError: The Space could not be reached.
        """
        options, params = split_keywords(keywords)
        return await follow(self._transport, self._events(prompt, options, params))

    def submit(
        self, prompt: str | GenerateRequest, **keywords: Unpack[GenerateKeywords]
    ) -> AsyncJob:
        """Start a job in the background and return its handle at once.

        Takes the same arguments as `generate`, checked here, before any I/O. The job runs in
        a task of its own on the running event loop (call this from async code); the handle
        tells its status at any time, and gives its result, its events, or cancels it. Closing
        the client, or the end of the event loop, cancels the jobs still running, on the
        Space too.

        Raises:
            InvalidRequestError: A parameter is out of range (nothing is sent).
            ClientClosedError: The client is closed.
            RuntimeError: No event loop runs in this thread (call it from async code).

        Example:
            >>> job = client.submit("a lighthouse at dusk", seed=7)  # doctest: +SKIP
            >>> job.status().state  # doctest: +SKIP
            'queued'
            >>> image = await job.result()  # doctest: +SKIP
        """
        run = self._job(prompt, keywords)
        spawn(run)
        return AsyncJob(run)

    def _job(self, prompt: str | GenerateRequest, keywords: GenerateKeywords) -> JobRun:
        """A job checked and ready to run (no I/O), noted for close()."""
        options, params = split_keywords(keywords)
        request, job = self._prepare(prompt, options, params)
        run = JobRun(self._transport, request, self._transport.events(request, job))
        with self._runs_lock:
            self._runs.add(run)
        return run

    def _start(self, request: GenerateRequest) -> JobRun:
        run = self._job(request, {})
        spawn(run)
        return run

    def as_completed(
        self,
        prompts: Iterable[str | GenerateRequest],
        *,
        concurrency: int = 4,
        **options: Unpack[CallOptions],
    ) -> AsyncGenerator[BatchItem, None]:
        """Generate many images, ``concurrency`` at a time, yielding each as it finishes.

        Like `generate_many`, but in finishing order, each result as soon as it is there. One
        failure loses nothing else: it is an item too. Everything is checked here, before any
        I/O; the jobs start when iteration does.

        Args:
            prompts: Prompts, or ready `GenerateRequest` objects.
            concurrency: Jobs in flight at once.
            **options: `CallOptions` for each job; they override the client's.

        Yields:
            A `BatchItem` per prompt: its ``index``, the ``prompt`` as given, and its
            ``result``, a `Generation` or the `FluxError` the job raised (an invalid prompt's
            `InvalidRequestError` first: it is never sent).

        Raises:
            ClientClosedError: The client was closed; the batch ends.

        Leaving the loop early (``break``, an exception, a cancelled task) cancels the jobs
        still running, on the Space too: use ``contextlib.aclosing`` to have that happen at
        once rather than when the generator is collected.

        Example:
            >>> batch = client.as_completed(["a fox", "a lighthouse"])  # doctest: +SKIP
            >>> async with contextlib.aclosing(batch) as items:  # doctest: +SKIP
            ...     async for item in items:
            ...         print(item.index, item.result)
        """
        check_concurrency(concurrency)
        batch = self._with_settings(self._settings.merge(options, "as_completed"))
        planned, invalid = plan_batch(self._space, prompts)
        if self._transport.closed:
            raise ClientClosedError()
        return finishing_order(batch._start, planned, invalid, concurrency)

    def stream(
        self, prompt: str | GenerateRequest, **keywords: Unpack[GenerateKeywords]
    ) -> AsyncEventStream:
        """Start a job and follow it event by event.

        Takes the same arguments as `generate`. Validation happens here, before any I/O; the
        job is submitted when iteration starts.

        Example:
            >>> async with client.stream("a lighthouse at dusk") as events:  # doctest: +SKIP
            ...     async for event in events:
            ...         print(event)
        """
        options, params = split_keywords(keywords)
        return AsyncEventStream(self._events(prompt, options, params), self._transport)

    def _events(
        self, prompt: str | GenerateRequest, options: CallOptions, params: GenerateParams
    ) -> AsyncGenerator[Event, None]:
        """One job's events, validated now (before any I/O); nothing runs until iterated."""
        return self._transport.events(*self._prepare(prompt, options, params))

    def _prepare(
        self, prompt: str | GenerateRequest, options: CallOptions, params: GenerateParams
    ) -> tuple[GenerateRequest, JobOptions]:
        """One job's request and options, checked (no I/O); a closed client refuses."""
        if self._transport.closed:
            raise ClientClosedError()
        request = build_request(self._space, prompt, params)
        settings = self._settings.merge(options, "generate")
        job = JobOptions(
            queue=settings.protocol != "call",
            timeout=settings.timeout,
            max_retries=settings.max_retries,
            wait_on_quota=settings.wait_on_quota,
        )
        return request, job

    async def generate_many(
        self,
        prompts: Iterable[str | GenerateRequest],
        *,
        concurrency: int = 4,
        progress: Callable[[int, int], object] | None = None,
        **options: Unpack[CallOptions],
    ) -> list[Generation | FluxError]:
        """Generate many images, ``concurrency`` at a time; one failure loses nothing else.

        Args:
            prompts: Prompts, or ready `GenerateRequest` objects.
            concurrency: Jobs in flight at once.
            progress: Called as ``progress(done, total)`` after each job, success or not.
            **options: `CallOptions` for each job (``protocol``, ``timeout``,
                ``max_retries``, ``wait_on_quota``); they override the client's.

        Returns:
            In input order, each job's `Generation`, or the `FluxError` it raised (an invalid
            request's `InvalidRequestError` included; it is never sent).

        Cancelling the call cancels every job still running, on the Space too.
        """
        check_concurrency(concurrency)
        # Checked once, before any job; each job then runs with the merged settings.
        batch = self._with_settings(self._settings.merge(options, "generate_many"))
        planned, invalid = plan_batch(self._space, prompts)
        outcomes: dict[int, Generation | FluxError] = {item.index: item.result for item in invalid}
        total = len(outcomes) + len(planned)
        limiter = anyio.CapacityLimiter(concurrency)

        async def run(index: int, request: GenerateRequest) -> None:
            async with limiter:
                try:
                    outcome: Generation | FluxError = await batch.generate(request)
                except ClientClosedError:
                    raise  # the whole batch ends: not one job's outcome
                except FluxError as exc:
                    outcome = exc
            outcomes[index] = outcome
            if progress is not None:
                progress(len(outcomes), total)

        async with self._transport.call(), anyio.create_task_group() as group:
            for index, _prompt, request in planned:
                group.start_soon(run, index, request)
        return [outcomes[index] for index in range(total)]

    async def download(self, generation: Generation) -> bytes:
        """The image's bytes.

        Raises:
            DownloadError: HTTP error, a non-http(s) URL, or more than ``max_download_bytes``.
        """
        async with self._transport.call():
            return await self._transport.download(generation)

    async def image(self, generation: Generation) -> Image.Image:
        """The image as a loaded Pillow image, as huggingface_hub's ``text_to_image`` returns.

        Needs the ``pil`` extra (``pip install 'flux-sdk[pil]'``).

        Raises:
            MissingExtraError: Pillow is not installed; checked before anything is fetched.
            DownloadError: The image could not be fetched (see `download`).
            ProtocolError: The Space sent bytes Pillow cannot decode.

        Example:
            >>> image = await client.image(await client.generate("a fox"))  # doctest: +SKIP
            >>> image.size  # doctest: +SKIP
            (1024, 1024)
        """
        require_pillow("client.image()")
        return to_pil_image(await self.download(generation))

    async def save(self, generation: Generation, path: str | os.PathLike[str]) -> Path:
        """Stream the image to ``path``, replacing it atomically; returns the path.

        The file name is yours: nothing from the Space decides where the file goes.
        """
        async with self._transport.call():
            return await self._transport.save(generation, Path(path))
