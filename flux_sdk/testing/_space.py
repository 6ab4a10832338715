"""`FakeSpace` and `FakePool`: the fake Space as an httpx transport, and several behind one.

The facade only: it checks its options, records requests and hands them to `_routes`; the
queue and the jobs are `_scheduler`'s, time is `_clock`'s, the app (FLUX.1-schnell or
FLUX.1-dev, its ``/config`` and ``/info``) is `_apps`'s, and what Gradio says is `_gradio`'s.

Everything works under asyncio and trio: the only waiting is `anyio.sleep`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import unquote

import httpx

from .._spaces import SpaceDescriptor
from ._apps import SpaceApp
from ._clock import DEFAULT_STEP_DELAY, Clock
from ._gradio import GradioLine
from ._records import FakeJob, RecordedRequest
from ._responses import Refused
from ._routes import route
from ._scenario import Notice, Outcome, Result, Script
from ._scheduler import Scheduler

__all__ = ["FakePool", "FakeSpace"]

DEFAULT_URL: Final = "http://127.0.0.1:7860"


class FakeSpace(httpx.AsyncBaseTransport):
    """A fake FLUX.1-schnell (or FLUX.1-dev) Space: pass it as ``http_transport`` to either client.

    It answers every route the SDK uses the way a Gradio 4.44, 5.x or 6.x server running the
    Space's app does (same JSON, same stream messages, same quirks), with no network and no
    Gradio. By default every job succeeds after ``num_inference_steps`` progress steps; script
    other outcomes with `respond`, and other users' jobs with `queue_ahead`. Jobs run in real
    time, whether or not their streams are read: ``step_delay`` seconds a step (0.25 s for a
    ``[slow]`` prompt), one at a time with the default ``concurrency``. With
    ``space="flux-dev"`` it runs FLUX.1-dev's app: seven inputs (``guidance_scale`` before the
    steps) and, since that descriptor's ``previews`` is true, a preview image after each step.

    Args:
        gradio: The Gradio version to emulate: ``"6.31.0"`` (default), ``"5.50.0"``,
            ``"4.44.1"``, or another 4.x, 5.x or 6.x version (6.13 changed ``/call/`` errors).
        concurrency: Jobs run at once (the Space's default is 1); None is unlimited.
        max_size: Queue capacity: beyond it submissions get HTTP 503. None (the Space's
            setting) is unbounded.
        faults: Honour the local replica's prompt tags (``[error] text``, ``[quota]``,
            ``[gpu]``, ``[crash]``, ``[slow]``, ``[info]``) for jobs without a script.
        step_delay: Seconds a progress step takes, for jobs without a ``[slow]`` tag or a
            scripted ``step_delay`` (0.01 by default; 0 makes every job end as it starts).
        url: The base URL the fake answers for; requests to other hosts fail to connect.
        space: The Space whose app it runs, as the clients' ``space=`` names it:
            ``"flux-schnell"`` (default), ``"flux-dev"``, or ``FLUX_SCHNELL``/``FLUX_DEV``.

    Raises:
        ValueError: An argument is out of range, ``gradio`` is not a 4.x, 5.x or 6.x version,
            or ``space`` is not one of the two Spaces.

    Example:
        >>> from flux_sdk.testing import Fail
        >>> space = FakeSpace(gradio="5.50.0")
        >>> space.respond(Result(seed=7), Fail.quota(retry_after="0:06:53"))
        >>> client = AsyncFluxClient(space.url, http_transport=space)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        gradio: str = "6.31.0",
        concurrency: int | None = 1,
        max_size: int | None = None,
        faults: bool = False,
        step_delay: float = DEFAULT_STEP_DELAY,
        url: str = DEFAULT_URL,
        space: str | SpaceDescriptor = "flux-schnell",
    ) -> None:
        if concurrency is not None and concurrency < 1:
            raise ValueError(f"concurrency must be >= 1 or None, got {concurrency}")
        if max_size is not None and max_size < 1:
            raise ValueError(f"max_size must be >= 1 or None, got {max_size}")
        if not step_delay >= 0:
            raise ValueError(f"step_delay must be >= 0, got {step_delay}")
        base = httpx.URL(url)
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError(f"url must be an http(s) URL, got {url!r}")
        self._url = str(base).rstrip("/")
        self._origin = _origin(base)
        self._scheduler = Scheduler(
            SpaceApp.load(space, GradioLine.parse(gradio)),
            concurrency=concurrency,
            max_size=max_size,
            faults=faults,
            clock=Clock(step_delay),
        )

    def __repr__(self) -> str:
        return f"FakeSpace(url={self._url!r}, gradio={self.gradio!r})"

    # -- scripting and inspection ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give the client, e.g. ``http://127.0.0.1:7860``."""
        return self._url

    @property
    def gradio(self) -> str:
        """The Gradio version the fake emulates (what ``/config`` reports)."""
        return self._scheduler.line.version

    @property
    def api_prefix(self) -> str:
        """``"/gradio_api"`` on Gradio 5 and 6, ``""`` on 4.x."""
        return self._scheduler.line.api_prefix

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._scheduler.lock:
            self._scheduler.catch_up()
            return list(self._scheduler.requests)

    @property
    def jobs(self) -> list[FakeJob]:
        """Every job accepted so far, in submission order (a copy of the list).

        Their ``status`` is the clock's present: a job nobody reads still runs to its end.
        """
        with self._scheduler.lock:
            self._scheduler.catch_up()
            return list(self._scheduler.jobs)

    def respond(
        self,
        *outcomes: Outcome,
        steps: int | None = None,
        notices: Sequence[Notice] = (),
        step_delay: float | None = None,
    ) -> None:
        """Script the next submissions, one outcome each, in order.

        Each submission (``queue/join`` or ``call/infer``) takes the next script; without one
        a job succeeds (or follows its prompt's fault tag when ``faults`` is on). A retried
        submission takes a new script, so ``respond(Fail.unreachable(), Result())`` fails the
        first attempt and lets the retry succeed.

        Args:
            *outcomes: `Result` or `Fail` values; none means one default `Result`.
            steps: Progress steps each of these jobs reports before its outcome. None means
                ``num_inference_steps`` for a `Result`, and none for a `Fail`.
            notices: Toasts each of these jobs sends when it starts (e.g. `Notice.info`).
            step_delay: Seconds each of their steps takes; None means the fake's
                ``step_delay``. ``math.inf`` makes a job that never gets past its first step.

        Raises:
            ValueError: ``steps`` or ``step_delay`` is negative.
        """
        if steps is not None and steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        if step_delay is not None and not step_delay >= 0:
            raise ValueError(f"step_delay must be >= 0, got {step_delay}")
        scripts = [
            Script(outcome, tuple(notices), steps, step_delay)
            for outcome in outcomes or (Result(),)
        ]
        with self._scheduler.lock:
            self._scheduler.scripts.extend(scripts)

    def queue_ahead(self, count: int) -> None:
        """Put ``count`` other users' jobs in the queue now, with every worker busy.

        The next job then waits: its ``estimation`` messages count its rank down from
        ``count`` to 0 before it starts. (With ``concurrency=None`` nobody ever waits.)

        Args:
            count: Jobs waiting ahead; 0 only makes the idle workers busy.

        Raises:
            ValueError: ``count`` is negative.
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        with self._scheduler.lock:
            self._scheduler.queue_ahead(count)

    # -- transport ---------------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the emulated Gradio server would.

        Raises:
            httpx.ConnectError: The request is for another host, or a scripted
                `Fail.unreachable` submission.
        """
        content = await request.aread()
        recorded = RecordedRequest(
            method=request.method,
            url=str(request.url),
            path=unquote(request.url.raw_path.decode("ascii").split("?", 1)[0]),
            headers={name.lower(): value for name, value in request.headers.items()},
            content=content,
        )
        with self._scheduler.lock:
            self._scheduler.requests.append(recorded)
        if _origin(request.url) != self._origin:
            raise httpx.ConnectError(f"no fake Space at {request.url.host}", request=request)
        try:
            return route(self._scheduler, request, recorded)
        except Refused as refused:
            return refused.response

    async def aclose(self) -> None:
        """Nothing to release: the fake outlives the clients that use it."""


class FakePool(httpx.AsyncBaseTransport):
    """Several fake Spaces behind one transport, for a client given a pool of Space URLs.

    Each request goes to the fake whose ``url`` it is for; any other host fails to connect,
    like a Space that is down.

    Args:
        *spaces: The fakes, each with its own ``url`` (e.g. ports 7860, 7861).

    Raises:
        ValueError: Two fakes share a URL's origin.

    Example:
        >>> first, second = FakeSpace(), FakeSpace(url="http://127.0.0.1:7861")
        >>> pool = FakePool(first, second)
        >>> client = AsyncFluxClient([first.url, second.url], http_transport=pool)  # doctest: +SKIP
    """

    def __init__(self, *spaces: FakeSpace) -> None:
        self._spaces: dict[tuple[str, str, int], FakeSpace] = {}
        for space in spaces:
            origin = _origin(httpx.URL(space.url))
            if origin in self._spaces:
                raise ValueError(f"two fake Spaces answer for {space.url}")
            self._spaces[origin] = space

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Hand the request to the fake it is for.

        Raises:
            httpx.ConnectError: No fake answers for the request's host.
        """
        space = self._spaces.get(_origin(request.url))
        if space is None:
            raise httpx.ConnectError(f"no fake Space at {request.url.host}", request=request)
        return await space.handle_async_request(request)

    async def aclose(self) -> None:
        """Nothing to release."""


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)
