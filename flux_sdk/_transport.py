"""The one transport: drives a job over HTTP with anyio (asyncio or trio).

All protocol decisions live in `flux_sdk._protocol`; this module only moves bytes, keeps time,
and makes sure nothing outlives the job (the stream, the server-side job, the connection).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import ssl
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
from httpx_sse import ServerSentEvent

from . import _policy as policy
from . import _protocol as protocol
from ._auth import SpaceTokenAuth
from ._config import Timeout
from ._connections import (
    FramedTransport,
    Verify,
    check_http2,
    check_proxy,
    environment_mounts,
    ssl_context,
)
from ._errors import (
    DownloadError,
    FluxConnectionError,
    FluxError,
    FluxTimeoutError,
    ProtocolError,
    ResponseError,
    TimeoutPhase,
)
from ._loops import Call, Loops
from ._models import Completed, Event, GenerateRequest, Generation, Log
from ._pool import SpacePool, SpaceState
from ._protocol._json import loads
from ._spaces import SpaceDescriptor
from ._version import __version__

logger = logging.getLogger("flux_sdk")

_MAX_REDIRECTS = 5
_MAX_ERROR_BODY = 64 * 1024
_MAX_JSON_BODY = 8 * 1024 * 1024
# 64 KiB: a save() holds one chunk at a time, so its memory stays flat whatever the size.
_DOWNLOAD_CHUNK = 64 * 1024
# After the result the Space closes the stream at once (close_stream, or the end of a /call/
# stream); reading to that end lets httpx's chain of async generators finish instead of being
# garbage-collected open (which trio reports as a ResourceWarning).
_DRAIN_LIMIT = 1.0
_CLOSE_MARGIN = 1.0


class _Deadline:
    """The end of a job's total time, and which limit a timeout came from."""

    def __init__(self, timeout: Timeout) -> None:
        self.timeout = timeout
        total = timeout.total
        self._at = anyio.current_time() + total if total is not None else math.inf

    def remaining(self) -> float:
        return max(self._at - anyio.current_time(), 0.0)

    def window(self, idle: float) -> float:
        """Seconds to wait for the next step: the idle limit, or less if the job ends sooner."""
        return min(self.remaining(), idle)

    @contextlib.contextmanager
    def wait(self, idle: float = math.inf) -> Generator[None, None, None]:
        """Bound one wait by ``idle`` and by the job's total time, blaming the one that ran out."""
        remaining = self.remaining()
        if remaining <= idle:
            phase: TimeoutPhase = "total"
            seconds, limit = remaining, self.timeout.total or math.inf
        else:
            phase, seconds, limit = "idle", idle, idle
        with _translate_timeout(seconds, phase, limit):
            yield


@contextlib.contextmanager
def _translate_timeout(
    seconds: float, phase: TimeoutPhase, limit: float
) -> Generator[None, None, None]:
    """Raise `FluxTimeoutError` naming the configured ``limit`` when ``seconds`` run out."""
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise FluxTimeoutError(phase, limit) from None


@contextlib.contextmanager
def _http_errors(timeout: Timeout) -> Generator[None, None, None]:
    """Httpx's exceptions, said in flux-sdk's terms."""
    try:
        yield
    except httpx.ConnectTimeout:
        raise FluxTimeoutError("connect", timeout.connect) from None
    except (httpx.ReadTimeout, httpx.WriteTimeout):
        raise FluxTimeoutError("idle", timeout.idle) from None
    except httpx.PoolTimeout:
        raise FluxTimeoutError("total", timeout.total or math.inf) from None
    except httpx.TransportError as exc:
        refused = _refused_certificate(exc)
        if refused is not None:
            raise FluxConnectionError(
                f"the Space's TLS certificate was refused ({refused.verify_message or refused}); "
                "if it is signed by your own CA, pass verify= its CA bundle's path or an "
                "ssl.SSLContext (CLI: --ca-bundle PATH), or set SSL_CERT_FILE"
            ) from exc
        raise FluxConnectionError(f"{type(exc).__name__}: {exc}") from exc


def _refused_certificate(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


def _http_timeout(timeout: Timeout) -> httpx.Timeout:
    """The per-request httpx limits for one job's `Timeout` (our own scopes bound the rest)."""
    return httpx.Timeout(
        connect=timeout.connect, read=timeout.idle, write=timeout.idle, pool=timeout.total
    )


@dataclass(frozen=True)
class JobOptions:
    """How to run one job: the protocol, its time limits, and what to retry."""

    queue: bool
    timeout: Timeout
    max_retries: int
    wait_on_quota: bool


class _Closing:
    """``contextlib.aclosing``, for a job's inner generator at an event loop's end too.

    A loop that shuts down finalises every async generator it started, all at once (PEP 525):
    the inner one may be closing already, on its own, when the outer one closes it.
    """

    def __init__(self, events: AsyncGenerator[Event, None]) -> None:
        self._events = events

    async def __aenter__(self) -> AsyncGenerator[Event, None]:
        return self._events

    async def __aexit__(self, *exc_info: object) -> None:
        await close_events(self._events)


async def close_events(events: AsyncGenerator[Event, None]) -> None:
    """Close a job's events (cancelling the job if it has not ended), once.

    Someone else may be closing them at the same moment (a loop's end finalises every async
    generator at once; a client's close() ends its jobs): that close does the work.
    """
    try:
        await events.aclose()
    except RuntimeError as exc:
        if "already running" not in str(exc):
            raise


class Transport:
    """Owns the HTTP connection pool and drives jobs, downloads and discovery."""

    def __init__(
        self,
        urls: Sequence[str],
        descriptor: SpaceDescriptor,
        *,
        token: str | None,
        timeout: Timeout,
        headers: Mapping[str, str] | None,
        proxy: str | None,
        http_transport: httpx.AsyncBaseTransport | None,
        max_download_bytes: int,
        max_retries: int,
        verify: Verify = True,
        http2: bool = False,
        discover: bool = False,
    ) -> None:
        self.pool: SpacePool = SpacePool(urls)
        self.discover = discover
        self.descriptor = descriptor
        self.base_url: str = self.pool.spaces[0].url
        self.timeout = timeout
        self.max_download_bytes = max_download_bytes
        self.max_retries = max_retries
        # Kept only to cut it out of what a Space echoes back (error pages that quote request
        # headers): an exception or a log line must never show it.
        self._redact = _redactor(token)
        default_headers = {
            "user-agent": f"flux-sdk/{__version__}",
            # The spaces package treats requests without it as browser traffic (§6).
            "x-gradio-user": "api",
        }
        default_headers.update(headers or {})
        if proxy is not None:
            check_proxy(proxy)
        check_http2(http2)
        # Read now (a missing CA bundle is refused before any I/O) and shared per process.
        tls = ssl_context(verify, http2=http2)
        spaces = [httpx.URL(space.url) for space in self.pool.spaces]
        auth = SpaceTokenAuth(token, spaces) if token else None

        def make_http() -> httpx.AsyncClient:
            limits = httpx.Limits(max_connections=512, max_keepalive_connections=64)
            mounts: dict[str, httpx.AsyncBaseTransport | None] = {}
            transport = http_transport
            if transport is None:
                # Ours, so that a connection that received a stray byte is never reused.
                transport = FramedTransport(proxy=proxy, limits=limits, verify=tls, http2=http2)
                if proxy is None:
                    mounts = environment_mounts(limits, verify=tls, http2=http2)
            return httpx.AsyncClient(
                headers=default_headers,
                auth=auth,
                timeout=_http_timeout(timeout),
                transport=transport,
                mounts=mounts,
                # Redirects are followed by hand (downloads only), so that the token is decided
                # per hop; httpx would copy our X-HF-Authorization header to another host.
                follow_redirects=False,
                trust_env=proxy is None,
            )

        # One pool per event loop, made on first use there (no I/O or TLS set-up before).
        # Each call's clean-up is bounded by its own Timeout.cancel; the margin is for the
        # drain after the cancel and closing the response.
        self._loops = Loops(
            make_http,
            owns_transport=http_transport is None,
            cleanup=timeout.cancel + _CLOSE_MARGIN,
        )

    @property
    def _http(self) -> httpx.AsyncClient:
        """This event loop's connection pool."""
        return self._loops.current().http

    @property
    def closed(self) -> bool:
        """Whether `aclose` (or `close_now`) was called."""
        return self._loops.closed

    def call(self) -> Call:
        """Guard one public call: refused once closed; cancelled by `aclose`."""
        return self._loops.call()

    def track(self, job: AsyncGenerator[Event, None]) -> None:
        """Note a job's events: `aclose`, or the loop's end, ends them (cancelling the job)."""
        self._loops.track(job)

    def close_now(self) -> None:
        """Refuse new calls, without an event loop (nothing was ever run, or its loop ended)."""
        self._loops.close_now()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        """Refuse new calls, cancel running ones (their jobs too), close the pool."""
        await self._loops.aclose()

    # -- discovery ------------------------------------------------------------------------------

    async def config(
        self, space: SpaceState | None = None, *, refresh: bool = False, retries: int | None = None
    ) -> protocol.SpaceConfig:
        """A Space's prefix and fn_index from ``GET /config``, fetched once and cached."""
        space = space or self.pool.spaces[0]
        stale = space.config
        async with self._loops.current().lock(space.url):
            # Concurrent jobs that saw the same stale config refresh it once, not once each.
            if space.config is not None and not (refresh and space.config is stale):
                return space.config
            answer = await self._send(
                "GET",
                protocol.config_url(space.url),
                retries=self.max_retries if retries is None else retries,
                idempotent=True,
            )
            space.config = protocol.parse_config(answer, self.descriptor.api_name)
            logger.debug("discovered %s: %s", space.url, space.config)
            return space.config

    # -- jobs -----------------------------------------------------------------------------------

    async def events(
        self, request: GenerateRequest, options: JobOptions
    ) -> AsyncGenerator[Event, None]:
        """Run one job and yield its events; the last one is `Completed`.

        Leaving early (closing the generator, or cancelling the task iterating it) cancels the
        job on the Space, bounded by ``timeout.cancel``.
        """
        deadline = _Deadline(options.timeout)
        while True:
            failures: list[FluxError] = []
            candidates = self.pool.candidates()
            for position, space in enumerate(candidates, start=1):
                try:
                    async with _Closing(self._run(space, request, options, deadline)) as events:
                        async for event in events:
                            yield event
                    return
                except FluxError as exc:
                    _answered_by(exc, space.url)
                    if not policy.fails_over(exc):
                        raise
                    self.pool.rest(space, exc)
                    failures.append(exc)
                    if position < len(candidates):
                        message = f"{space.url}: {exc}; moving the job to the next Space"
                        logger.warning("%s", message)
                        yield Log(level="warning", message=message, title="flux-sdk")
            wait = policy.quota_wait(
                failures, wait_on_quota=options.wait_on_quota, remaining=deadline.remaining()
            )
            if wait is None:
                raise failures[-1]
            message = f"{failures[-1]} Waiting {wait:.0f} s, then trying again (wait_on_quota)."
            logger.warning("%s", message)
            yield Log(level="warning", message=message, title="flux-sdk")
            await anyio.sleep(wait)

    async def _run(
        self,
        space: SpaceState,
        request: GenerateRequest,
        options: JobOptions,
        deadline: _Deadline,
    ) -> AsyncGenerator[Event, None]:
        timeout = options.timeout
        with deadline.wait():
            job = await self._submit(space, request, options)
        finished = cancelled = False
        # Marked until its clean-up (the cancel) ends: a loop that ends, closing the pool,
        # waits for it.
        state = self._loops.current()
        running = state.job_started()
        try:
            async with (
                self._open_stream(job.stream_url, deadline, timeout) as response,
                contextlib.aclosing(_read_sse(response)) as sse_events,
            ):
                try:
                    while True:
                        with deadline.wait(timeout.idle):
                            sse = await anext(sse_events, None)
                        if sse is None:
                            # Not finished: the job may still run (a proxy cut the stream), so
                            # the finally below cancels it.
                            raise ProtocolError("the Space closed the stream before the result")
                        step = job.decode(sse.event, self._redact(sse.data))
                        if step is None:
                            continue
                        if step is protocol.END or isinstance(step, Completed | ResponseError):
                            finished = True
                            await _drain(sse_events, deadline.window(_DRAIN_LIMIT))
                            if step is protocol.END:
                                raise ProtocolError("the Space ended the job without a result")
                            if isinstance(step, ResponseError):
                                raise step
                        yield step
                        if finished:
                            return
                finally:
                    if not finished:
                        cancelled = True
                        await self._cancel(space, job, timeout.cancel, sse_events)
        finally:
            try:
                if not finished and not cancelled:
                    await self._cancel(space, job, timeout.cancel, None)
            finally:
                state.job_ended(running)

    async def _submit(
        self, space: SpaceState, request: GenerateRequest, options: JobOptions
    ) -> protocol.AcceptedJob:
        # With discover on, the first submission already follows a fresh /config.
        discovered = space.known or self.discover
        try:
            return await self._submit_once(space, request, options, refresh=False)
        except FluxError as exc:
            if not policy.rediscovers(exc, discovered=discovered):
                raise
            return await self._submit_once(space, request, options, refresh=True)

    async def _submit_once(
        self, space: SpaceState, request: GenerateRequest, options: JobOptions, *, refresh: bool
    ) -> protocol.AcceptedJob:
        if refresh or self.discover:
            config = await self.config(space, refresh=refresh, retries=options.max_retries)
            prefix = config.api_prefix
        else:
            # No GET /config before the job: it is submitted by name, so a wrong guess of the
            # prefix is a 404 (then a rediscovery), never another function (_routes.py).
            prefix = space.api_prefix()
        submission = protocol.submission(
            space.url,
            prefix,
            self.descriptor.api_name,
            request,
            self.descriptor.data(request),
            session_hash=uuid.uuid4().hex if options.queue else None,
        )
        answer = await self._send(
            "POST",
            submission.url,
            json=submission.body,
            retries=options.max_retries,
            timeout=options.timeout,
        )
        job = submission.accepted(answer)
        space.accepted_at(prefix)
        logger.info("job %s submitted to %s", job.event_id, space.url)
        return job

    @contextlib.asynccontextmanager
    async def _open_stream(
        self, url: str, deadline: _Deadline, timeout: Timeout
    ) -> AsyncGenerator[httpx.Response, None]:
        with _http_errors(timeout):
            request = self._http.build_request(
                "GET",
                url,
                headers={"accept": "text/event-stream", "accept-encoding": _accept_encoding()},
                timeout=_http_timeout(timeout),
            )
            # The response's head as a whole within idle: httpx's read limit restarts with
            # every byte, so a Space trickling its headers would stretch the wait without end.
            with deadline.wait(timeout.idle):
                response = await self._http.send(request, stream=True)
            try:
                if response.status_code != 200:
                    with deadline.wait(timeout.idle):
                        raise await _error_from(response, self._redact)
                if "text/event-stream" not in response.headers.get("content-type", ""):
                    raise ProtocolError(
                        f"expected an event stream, got {response.headers.get('content-type')!r}"
                    )
                yield response
            finally:
                await _close_quietly(response)

    async def _cancel(
        self,
        space: SpaceState,
        job: protocol.AcceptedJob,
        seconds: float,
        events: AsyncIterator[ServerSentEvent] | None,
    ) -> None:
        # Shielded: this runs while the caller is being cancelled, and must still reach the
        # Space, or the job keeps the Space's single worker (and the user's quota) busy.
        with anyio.CancelScope(shield=True), anyio.move_on_after(seconds):
            try:
                # /cancel names the running task by fn_index, the one thing a job submitted by
                # name does not know: read /config now, within the cancel's own bound.
                config = space.config or await self.config(space, retries=0)
                # Through the same capped reading as every answer: even a cancel's answer must
                # not inflate without bound.
                await self._exchange(
                    "POST", job.cancel_url, job.cancel_body(config.fn_index), self.timeout
                )
                # Any other status raised: the Space answered 200.
                logger.info("job %s cancelled: HTTP 200", job.event_id)
            except (httpx.HTTPError, FluxError, RuntimeError) as exc:
                # RuntimeError: httpx's "client has been closed", when close() gave up waiting.
                logger.info("job %s: cancel failed: %r", job.event_id, exc)
            if events is not None:
                # The Space confirms with a cancelled result and closes the stream (§4.4).
                await _drain(events, seconds)

    # -- files ----------------------------------------------------------------------------------

    async def download(self, generation: Generation) -> bytes:
        """The image's bytes, at most ``max_download_bytes``."""
        chunks: list[bytes] = []
        async with self._download(generation) as body:
            async for chunk in body:
                chunks.append(chunk)
        return b"".join(chunks)

    async def save(self, generation: Generation, path: Path) -> Path:
        """Stream the image to ``path`` (atomically: a partial file never takes its name)."""
        target = Path(os.fspath(path))
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            async with (
                self._download(generation) as body,
                await anyio.open_file(partial, "wb") as file,
            ):
                async for chunk in body:
                    await file.write(chunk)
            await anyio.Path(partial).replace(target)
        finally:
            # Shielded: on cancellation (Ctrl-C mid-download) the partial file must still go.
            with anyio.CancelScope(shield=True):
                await anyio.Path(partial).unlink(missing_ok=True)
        return target

    @contextlib.asynccontextmanager
    async def _download(
        self, generation: Generation
    ) -> AsyncGenerator[AsyncGenerator[bytes, None], None]:
        try:
            async with self._download_url(generation.url) as body:
                yield body
        except ResponseError as exc:
            _answered_by(exc, generation.space or None)
            raise

    @contextlib.asynccontextmanager
    async def _download_url(self, url: str) -> AsyncGenerator[AsyncGenerator[bytes, None], None]:
        max_bytes = self.max_download_bytes
        timeout = self.timeout
        # The whole download, redirects and body included, within idle (and total): a Space
        # trickling the file cannot stretch it, whatever httpx's per-read limit allows.
        with _http_errors(timeout), _Deadline(timeout).wait(timeout.idle):
            response = await self._follow(url)
            try:
                content_type = response.headers.get("content-type")
                if not protocol.is_image_type(content_type):
                    # An error page served with 200 (a proxy's, a login wall) is not the image.
                    raise DownloadError(
                        f"the download is not an image: Content-Type {content_type!r:.100}",
                        status_code=response.status_code,
                    )
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise _too_large(max_bytes, response.status_code)
                async with contextlib.aclosing(_capped(response, max_bytes)) as body:
                    yield body
            finally:
                await _close_quietly(response)

    async def _follow(self, url: str) -> httpx.Response:
        for _ in range(_MAX_REDIRECTS + 1):
            target = _http_url(url)
            try:
                # httpx parses a redirect's Location even when it does not follow it.
                response = await self._http.send(
                    self._http.build_request("GET", target, headers=_download_headers()),
                    stream=True,
                )
            except httpx.InvalidURL as exc:
                raise DownloadError(f"unusable redirect from {url!r:.200}: {exc}") from None
            if response.is_redirect and "location" in response.headers:
                await response.aclose()
                url = str(target.join(response.headers["location"]))
                continue
            if response.status_code != 200:
                try:
                    error = await _error_from(response, self._redact)
                finally:
                    await response.aclose()
                raise DownloadError(
                    error.message, status_code=error.status_code, payload=error.payload
                )
            return response
        raise DownloadError(f"more than {_MAX_REDIRECTS} redirects downloading {url!r:.200}")

    # -- plain requests -------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        json: object = None,
        retries: int = 0,
        idempotent: bool = False,
        timeout: Timeout | None = None,
    ) -> object:
        """One request's decoded JSON answer; retried where that is safe."""
        timeout = timeout or self.timeout
        with _http_errors(timeout):
            attempt = 0
            while True:
                try:
                    return await self._exchange(method, url, json, timeout)
                except (httpx.TransportError, ResponseError) as exc:
                    delay = policy.retry_delay(
                        exc,
                        attempt,
                        retries,
                        idempotent=idempotent,
                        jitter=random.uniform(0.5, 1.0),
                    )
                    # A wait past the job's deadline would only end in a timeout; the Space's
                    # own answer (e.g. "Retry-After: 3600") says more.
                    if delay is None or delay >= _time_left():
                        raise
                    attempt += 1
                    logger.warning(
                        "%s %s failed (%s); retry %d of %d in %.2f s",
                        method,
                        httpx.URL(url).path,
                        _describe(exc),
                        attempt,
                        retries,
                        delay,
                    )
                    await anyio.sleep(delay)

    async def _exchange(self, method: str, url: str, json: object, timeout: Timeout) -> object:
        request = self._http.build_request(
            method,
            url,
            json=json,
            headers={"accept-encoding": _accept_encoding()},
            timeout=_http_timeout(timeout),
        )
        logger.debug("%s %s", method, request.url.path)
        # The whole answer, head and body, within idle: httpx's read limit restarts with every
        # byte, so a Space trickling its answer would hold this wait without end (with
        # total=None, forever). It stands for that read limit, so it is retried where a read
        # timeout is (GET /config) and nowhere else.
        with anyio.move_on_after(timeout.idle):
            response = await self._http.send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise await _error_from(response, self._redact)
                body = await _read_capped(response, _MAX_JSON_BODY)
            finally:
                await _close_quietly(response)
            return loads(body)
        raise httpx.ReadTimeout(f"no whole answer within {timeout.idle:g} s", request=request)

    # -- the Space's API (flux info) ------------------------------------------------------------

    async def api_info(self) -> tuple[object, object]:
        """The first Space's decoded ``GET /config`` and ``GET {prefix}/info`` answers (§2).

        For ``flux info``: the same headers, token, error mapping, retries and body cap as
        discovery's; not cached (the raw /config is wanted, for its sliders' steps).
        """
        url = self.pool.spaces[0].url
        retries = self.max_retries
        config = await self._send("GET", protocol.config_url(url), retries=retries, idempotent=True)
        prefix = protocol.parse_config(config, self.descriptor.api_name).api_prefix
        info = await self._send("GET", f"{url}{prefix}/info", retries=retries, idempotent=True)
        return config, info


def _time_left() -> float:
    """Seconds until the enclosing cancel scope's deadline (the job's total time)."""
    return anyio.current_effective_deadline() - anyio.current_time()


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


@contextlib.asynccontextmanager
async def _body(
    response: httpx.Response, piece: int = _DOWNLOAD_CHUNK
) -> AsyncGenerator[AsyncIterator[bytes], None]:
    """A response body in decoded pieces of at most ``piece`` bytes; stopping early is clean.

    Read as far as wanted: leaving early leaves nothing suspended. The raw bytes go through our
    own bounded decoder, not httpx's: httpx inflates a whole read at once, so a compression bomb
    would be in memory before any cap saw it.
    """
    if response.is_stream_consumed:
        # A body httpx holds already, read and decoded when the response was made: an
        # in-memory response from a mock transport (flux_sdk.testing, respx side effects).
        raw: AsyncIterator[bytes] = _held(response.content, piece)
        encoding = ""
    else:
        raw, encoding = response.aiter_raw(), response.headers.get("content-encoding", "")
    pieces = _decoded(raw, encoding, piece)
    try:
        yield pieces
    finally:
        # Leaving early would leave httpx's chain of body generators suspended, each kept for
        # the garbage collector (trio warns about every one). Closing the response and running
        # the chain on makes it end at once: it raises, and every generator in it finishes.
        with anyio.CancelScope(shield=True):
            await pieces.aclose()
            with contextlib.suppress(httpx.HTTPError):
                await response.aclose()
            with contextlib.suppress(httpx.HTTPError, RuntimeError):
                async for _ in raw:
                    pass


async def _held(content: bytes, piece: int) -> AsyncGenerator[bytes, None]:
    for start in range(0, len(content), piece):
        yield content[start : start + piece]


async def _decoded(
    raw: AsyncIterator[bytes], content_encoding: str, piece: int
) -> AsyncGenerator[bytes, None]:
    decoder = protocol.BodyDecoder(content_encoding, piece)
    async for chunk in raw:
        for decoded in decoder.feed(chunk):
            yield decoded
    for decoded in decoder.finish():
        yield decoded


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    body = bytearray()
    async with _body(response) as chunks:
        async for chunk in chunks:
            body += chunk
            if len(body) > limit:
                raise ProtocolError(f"the Space sent a body larger than {limit} bytes")
    return bytes(body)


async def _read_sse(response: httpx.Response) -> AsyncGenerator[ServerSentEvent, None]:
    reader = protocol.SSEReader()
    async with _body(response) as chunks:
        async for chunk in chunks:
            for event in reader.feed(chunk):
                yield event
    for event in reader.close():
        yield event


def _redactor(token: str | None) -> Callable[[str], str]:
    """A function that hides ``token`` in text the Space sends back."""
    if not token:
        return lambda text: text
    return lambda text: text.replace(token, "<hidden>") if token in text else text


def _http_url(url: str) -> httpx.URL:
    """``url`` parsed, if it is http(s); anything else is refused, never fetched."""
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise DownloadError(f"unusable URL {url!r:.200}: {exc}") from None
    if target.scheme not in ("http", "https"):
        raise DownloadError(f"refusing to download a non-http(s) URL: {url!r:.200}")
    return target


def _answered_by(error: BaseException, space_url: str | None) -> None:
    """Note on a Space's refusal which Space it was, so that a pool's caller knows."""
    if isinstance(error, ResponseError) and error.space_url is None:
        error.space_url = space_url


async def _error_from(response: httpx.Response, redact: Callable[[str], str]) -> ResponseError:
    body = bytearray()
    # An error page in an encoding we cannot read is still the status's error, without text.
    with contextlib.suppress(ProtocolError):
        async with _body(response) as chunks:
            async for chunk in chunks:
                body += chunk
                if len(body) >= _MAX_ERROR_BODY:
                    break
    text = redact(body[:_MAX_ERROR_BODY].decode("utf-8", errors="replace"))
    return protocol.classify_http(
        response.status_code,
        text.encode(),
        content_type=response.headers.get("content-type", ""),
        retry_after=response.headers.get("retry-after"),
        ratelimit=response.headers.get("ratelimit"),
    )


async def _capped(response: httpx.Response, max_bytes: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async with _body(response) as chunks:
        async for chunk in chunks:
            received += len(chunk)
            if received > max_bytes:
                raise _too_large(max_bytes, response.status_code)
            yield chunk


async def _drain(events: AsyncIterator[ServerSentEvent], seconds: float) -> None:
    with anyio.move_on_after(seconds), contextlib.suppress(httpx.HTTPError, ProtocolError):
        async for _ in events:
            pass


def _accept_encoding() -> str:
    # Only what our bounded decoder reads (httpx would also offer br or zstd whenever their
    # packages are installed, whether or not their output can be bounded).
    return protocol.accept_encoding()


def _download_headers() -> dict[str, str]:
    return {"accept-encoding": _accept_encoding()}


def _too_large(max_bytes: int, status_code: int) -> DownloadError:
    return DownloadError(
        f"the image is larger than max_download_bytes ({max_bytes} bytes)", status_code=status_code
    )


async def _close_quietly(response: httpx.Response) -> None:
    with anyio.CancelScope(shield=True):
        with contextlib.suppress(httpx.HTTPError):
            await response.aclose()


__all__ = ["JobOptions", "Transport", "close_events"]
