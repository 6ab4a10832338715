"""Scenarios that run unchanged against a `FakeSpace` and against a real Gradio server.

Each scenario takes a `Target` (a base URL, the Gradio version, and an optional httpx
transport) and returns what it observed, normalised to plain tuples: event kinds with their key
fields, or the exception class with its message. What legitimately differs between two runs is
normalised away: URLs and paths (only their shape is kept), ETAs and durations, and how many
progress messages Gradio coalesced (a run of progress events becomes one ``("progress", total)``).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import cast

import anyio
import httpx

from flux_sdk import (
    AsyncFluxClient,
    Completed,
    Event,
    FluxClient,
    FluxError,
    FluxTimeoutError,
    Generation,
    Log,
    Preview,
    Progress,
    ProtocolName,
    Queued,
    QuotaExceededError,
    ResponseError,
    Started,
)

Item = tuple[object, ...]
Observed = list[Item]
Scenario = Callable[["Target"], Awaitable[Observed]]

MAX_SEED = 2_147_483_647
PROTOCOLS: tuple[ProtocolName, ...] = ("queue", "call")
WEBP = (b"RIFF", b"WEBP")
# Durations and estimates: their presence is protocol, their values are timing.
_TIMING_KEYS = frozenset(
    {"rank_eta", "eta", "duration", "average_duration", "cache_duration", "avg_time"}
)


@dataclass(frozen=True)
class Target:
    """A Space under test: where it is, which Gradio it runs, and how to reach it."""

    url: str
    gradio: str
    http_transport: httpx.AsyncBaseTransport | None = None

    @property
    def major(self) -> int:
        return int(self.gradio.split(".")[0])

    @property
    def prefix(self) -> str:
        return "" if self.major < 5 else "/gradio_api"

    @property
    def api(self) -> str:
        return self.url + self.prefix

    def transport(self) -> httpx.AsyncBaseTransport:
        """The fake itself, or a real network transport (no keep-alive: Gradio's 500s reset
        the connection)."""
        if self.http_transport is not None:
            return self.http_transport
        return httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0))

    def client(
        self,
        *,
        protocol: ProtocolName = "auto",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> AsyncFluxClient:
        """The SDK's async client, without retries (a retry would hide what the Space said)."""
        return AsyncFluxClient(
            self.url,
            protocol=protocol,
            max_retries=0,
            http_transport=transport or self.http_transport,
        )

    def http(self) -> httpx.AsyncClient:
        """A raw httpx client on the API prefix, for wire-level scenarios."""
        return httpx.AsyncClient(base_url=self.api, transport=self.transport(), timeout=60)

    def file_url_ok(self, url: str) -> bool:
        return url.startswith(f"{self.api}/file=") and url.endswith("/image.webp")


# -- normalisation ---------------------------------------------------------------------------------


def normalise_events(events: Sequence[Event], target: Target, *, progress: bool = True) -> Observed:
    """Events as tuples; consecutive progress events collapse to one ``("progress", total)``."""
    observed: Observed = []
    for event in events:
        if isinstance(event, Queued):
            observed.append(("queued", event.rank))
        elif isinstance(event, Started):
            observed.append(("started",))
        elif isinstance(event, Progress):
            item: Item = ("progress", event.total)
            if progress and (not observed or observed[-1] != item):
                observed.append(item)
        elif isinstance(event, Log):
            observed.append(("log", event.level, event.message, event.title))
        elif isinstance(event, Completed):
            generation = event.generation
            observed.append(("completed", generation.seed, target.file_url_ok(generation.url)))
        else:
            observed.append(("other", type(event).__name__))
    return observed


def normalise_error(error: BaseException) -> Item:
    """An exception as its class and what it carries."""
    if isinstance(error, ResponseError):
        retry_after = error.retry_after.total_seconds() if error.retry_after else None
        return (
            "raised",
            type(error).__name__,
            error.message,
            error.raw,
            error.title,
            error.status_code,
            retry_after,
        )
    if isinstance(error, FluxTimeoutError):
        return ("raised", "FluxTimeoutError", error.phase, error.seconds)
    return ("raised", type(error).__name__)


def normalise_message(message: object, target: Target) -> object:
    """A decoded wire message with ids, timings, URLs and paths reduced to their shape."""
    if isinstance(message, dict):
        items = cast("dict[str, object]", message).items()
        normalised: dict[str, object] = {}
        for key, value in items:
            if key == "event_id" and isinstance(value, str):
                normalised[key] = "<event_id>"
            elif key in _TIMING_KEYS:
                normalised[key] = "<timing>"
            elif key == "url" and isinstance(value, str):
                normalised[key] = "<file url>" if target.file_url_ok(value) else value
            elif key == "path" and isinstance(value, str) and value.endswith("/image.webp"):
                normalised[key] = "<file path>"
            else:
                normalised[key] = normalise_message(value, target)
        return normalised
    if isinstance(message, list):
        return [normalise_message(item, target) for item in cast("list[object]", message)]
    return message


async def stream_events(
    client: AsyncFluxClient, prompt: str, *, protocol: ProtocolName = "auto", **params: int | bool
) -> tuple[list[Event], FluxError | None]:
    """Every event of one job, and the error it ended with (if any)."""
    events: list[Event] = []
    try:
        async with client.stream(
            prompt,
            protocol=protocol,
            seed=int(params.get("seed", 7)),
            randomize_seed=bool(params.get("randomize_seed", False)),
            width=int(params.get("width", 512)),
            height=int(params.get("height", 512)),
            num_inference_steps=int(params.get("num_inference_steps", 1)),
        ) as stream:
            async for event in stream:
                events.append(event)
    except FluxError as error:
        return events, error
    return events, None


async def run_job(
    target: Target, prompt: str, protocol: ProtocolName, *, progress: bool = False, steps: int = 1
) -> Observed:
    """One job through the SDK: its normalised events, then its error if it failed."""
    async with target.client(protocol=protocol) as client:
        events, error = await stream_events(
            client, prompt, protocol=protocol, num_inference_steps=steps
        )
    observed = normalise_events(events, target, progress=progress)
    if error is not None:
        observed.append(normalise_error(error))
    return observed


async def wait_until_idle(target: Target) -> None:
    """Run one quick job: with one worker it ends only after every earlier job (FIFO).

    Its submission is retried while the queue is full (the SDK's backoff), since an earlier
    scenario may leave jobs queued on a real server.
    """
    async with AsyncFluxClient(
        target.url, max_retries=6, http_transport=target.http_transport
    ) as client:
        await client.generate("idle probe", num_inference_steps=1)


class Observer(httpx.AsyncBaseTransport):
    """Wraps a transport to see (and hold back) requests: the scenarios' synchronisation.

    ``hold_streams(n)`` makes ``queue/data`` requests wait until ``n`` more submissions have
    been accepted (a ``queue/join``, or the SDK's ``call/infer`` naming its session: 200 only,
    so Gradio 4's 404 at the guessed prefix is not one); ``call_stream_open`` is set when a
    ``/call/`` stream's response arrives.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._joined = 0
        self._release_at: int | None = None
        self.all_joined = anyio.Event()
        self.call_stream_open = anyio.Event()

    def hold_streams(self, joins: int) -> None:
        self._release_at = self._joined + joins

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if self._release_at is not None and path.endswith("/queue/data"):
            await self.all_joined.wait()
        response = await self._inner.handle_async_request(request)
        submitted = path.endswith(("/queue/join", "/call/infer"))
        if request.method == "POST" and submitted and response.status_code == 200:
            self._joined += 1
            if self._release_at is not None and self._joined >= self._release_at:
                self.all_joined.set()
        if "/call/infer/" in path:
            self.call_stream_open.set()
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class Wiretap(httpx.AsyncBaseTransport):
    """Wraps a transport to note what the client does not show: its ``/cancel`` requests and
    the last words of each job's stream (``process_completed`` and ``close_stream``, or the
    ``/call/`` stream's ``complete`` or ``error``), as the client read them.

    Thread-safe and free of event-loop objects: the sync client's loop thread uses it too.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, target: Target) -> None:
        self._inner = inner
        self._target = target
        self._lock = threading.Lock()
        self._cancels: list[Item] = []
        self._ends: list[Item] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        path = request.url.path
        if path.endswith("/cancel"):
            await response.aread()
            with self._lock:
                self._cancels.append(("cancel", response.status_code, response.json()))
        elif path.endswith("/queue/data") or "/call/infer/" in path:
            assert isinstance(response.stream, httpx.AsyncByteStream)
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_Tapped(response.stream, self._note),
                extensions=response.extensions,
                request=request,
            )
        return response

    def _note(self, event: str, data: object) -> None:
        shown = normalise_message(data, self._target)
        message = cast("dict[str, object]", data) if isinstance(data, dict) else {}
        last = event in ("complete", "error") or message.get("msg") in (
            "process_completed",
            "close_stream",
        )
        if last:
            with self._lock:
                self._ends.append((event or "data", shown))

    def observed(self) -> Observed:
        """The cancels sent (with the Space's answers), then how the streams ended."""
        with self._lock:
            return [*self._cancels, ("ends", tuple(self._ends))]

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Tapped(httpx.AsyncByteStream):
    """A response body passed on unchanged, its SSE events shown to ``note`` as they pass."""

    def __init__(self, inner: httpx.AsyncByteStream, note: Callable[[str, object], None]) -> None:
        self._inner = inner
        self._note = note
        self._buffer = b""
        self._event = ""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._buffer += chunk
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                text = line.decode().rstrip("\r")
                if text.startswith("event: "):
                    self._event = text[7:]
                elif text.startswith("data: "):
                    self._note(self._event, cast(object, json.loads(text[6:])))
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


# -- client-level scenarios ------------------------------------------------------------------------


async def _generate(target: Target, protocol: ProtocolName) -> Observed:
    async with target.client(protocol=protocol) as client:
        events, error = await stream_events(
            client,
            "a red fox in fresh snow",
            protocol=protocol,
            width=768,
            height=512,
            num_inference_steps=2,
        )
        assert error is None, error
        final = events[-1]
        assert isinstance(final, Completed)
        data = await client.download(final.generation)
    observed = normalise_events(events, target, progress=False)
    observed.append(("image", data[:4] == WEBP[0] and data[8:12] == WEBP[1]))
    return observed


async def generate_queue(target: Target) -> Observed:
    """A job on the queue protocol: queued, started, completed; the image is a WebP."""
    return await _generate(target, "queue")


async def generate_call(target: Target) -> Observed:
    """A job on the /call/ protocol: only the result arrives."""
    return await _generate(target, "call")


async def random_seed_is_reproducible(target: Target) -> Observed:
    """A randomized seed is the one the Space used: the same seed gives the same image."""
    async with target.client() as client:
        first = await client.generate("a fox", randomize_seed=True, num_inference_steps=1)
        again = await client.generate(
            "a fox", seed=first.seed, randomize_seed=False, num_inference_steps=1
        )
        same = await client.download(first) == await client.download(again)
    return [("reproducible", same, 0 <= first.seed <= MAX_SEED, first.path == again.path)]


def _fault(tag: str, protocol: ProtocolName) -> Scenario:
    async def scenario(target: Target) -> Observed:
        prompt = f"[{tag}] the model is on fire" if tag == "error" else f"[{tag}] a fox"
        return await run_job(target, prompt, protocol)

    scenario.__doc__ = f"The [{tag}] fault tag on the {protocol} protocol."
    return scenario


async def slow_progress_queue(target: Target) -> Observed:
    """[slow] with 3 steps: progress events (total 3) between started and completed."""
    return await run_job(target, "[slow] a lighthouse at dusk", "queue", progress=True, steps=3)


async def slow_call(target: Target) -> Observed:
    """[slow] on /call/: no progress there, just the result."""
    return await run_job(target, "[slow] a lighthouse at dusk", "call", progress=True, steps=2)


async def info_queue(target: Target) -> Observed:
    """[info]: ZeroGPU-style toasts arrive as Log events, then the result."""
    return await run_job(target, "[info] a fox", "queue")


async def info_call(target: Target) -> Observed:
    """[info] on /call/: the toasts are dropped."""
    return await run_job(target, "[info] a fox", "call")


async def leave_queue_stream(target: Target) -> Observed:
    """Leaving a queue stream once the job started cancels it; the next job runs."""
    async with target.client(protocol="queue") as client:
        events: list[Event] = []
        async with client.stream("[slow] a long job", num_inference_steps=8) as stream:
            async for event in stream:
                events.append(event)
                if isinstance(event, Started):
                    break
        after = await client.generate(
            "after the cancel", seed=1, randomize_seed=False, num_inference_steps=1
        )
    observed = normalise_events(events, target)
    observed.append(("after", after.seed, target.file_url_ok(after.url)))
    return observed


async def leave_call_stream(target: Target) -> Observed:
    """Cancelling the task that follows a /call/ job cancels it; the next job runs."""
    observer = Observer(target.transport())
    events: list[Event] = []
    async with target.client(protocol="call", transport=observer) as client:
        async with anyio.create_task_group() as group:

            async def follow() -> None:
                async with client.stream("[slow] a long call", num_inference_steps=8) as stream:
                    async for event in stream:
                        events.append(event)

            group.start_soon(follow)
            await observer.call_stream_open.wait()
            group.cancel_scope.cancel()
        after = await client.generate(
            "after the cancel", seed=2, randomize_seed=False, num_inference_steps=1
        )
    observed = normalise_events(events, target)
    observed.append(("after", after.seed, target.file_url_ok(after.url)))
    return observed


async def concurrent_ranks(target: Target) -> Observed:
    """Four jobs on one worker: each later job counts its rank down; all complete."""
    await wait_until_idle(target)
    observer = Observer(target.transport())
    ranks: dict[int, list[int]] = {}
    seeds: dict[int, int] = {}
    async with target.client(transport=observer) as client:
        first_started = anyio.Event()

        async def job(index: int) -> None:
            steps = 4 if index == 0 else 1
            async with client.stream(
                f"[slow] job {index}", seed=index, randomize_seed=False, num_inference_steps=steps
            ) as stream:
                async for event in stream:
                    if isinstance(event, Queued) and event.rank is not None:
                        sequence = ranks.setdefault(index, [])
                        if not sequence or sequence[-1] != event.rank:
                            sequence.append(event.rank)
                    if index == 0 and isinstance(event, Started):
                        # Hold the first job's reader here until the others joined (the job
                        # keeps running on the Space, real or fake: 1 s, time enough to join).
                        first_started.set()
                        await observer.all_joined.wait()
                    if isinstance(event, Completed):
                        seeds[index] = event.generation.seed

        async with anyio.create_task_group() as group:
            group.start_soon(job, 0)
            await first_started.wait()
            observer.hold_streams(3)
            for index in (1, 2, 3):
                group.start_soon(job, index)
    return [
        ("ranks", tuple(sorted(tuple(sequence) for sequence in ranks.values()))),
        ("seeds", tuple(sorted(seeds.items()))),
    ]


async def queue_full(target: Target) -> Observed:
    """With the worker busy and max_size (4) jobs waiting, submissions get HTTP 503."""
    await wait_until_idle(target)
    observed: Observed = []
    sessions: list[str] = []
    async with target.client() as client, target.http() as http:
        started, release = anyio.Event(), anyio.Event()

        async def holder() -> None:
            async with client.stream("[slow] holds the worker", num_inference_steps=8) as stream:
                async for event in stream:
                    if isinstance(event, Started):
                        started.set()
                        await release.wait()
                        return

        async with anyio.create_task_group() as group:
            group.start_soon(holder)
            await started.wait()
            for index in range(5):
                session = uuid.uuid4().hex
                response = await http.post(
                    "/queue/join",
                    json={
                        "data": [f"w{index}", 1, False, 256, 256, 1],
                        "fn_index": 2,
                        "session_hash": session,
                    },
                )
                observed.append(("join", response.status_code, _detail(response)))
                if response.status_code == 200:
                    sessions.append(session)
            response = await http.post("/call/infer", json={"data": ["c", 1, False, 256, 256, 1]})
            observed.append(("call", response.status_code, _detail(response)))
            try:
                await client.generate("one too many")
            except FluxError as error:
                observed.append(normalise_error(error))
            release.set()  # the holder leaves its stream, which cancels its job
        # Let the waiting jobs run to their end (not cancelled: Gradio 5.50 would keep a
        # cancelled waiting job queued anyway), so that the next scenario finds the Space idle.
        for session in sessions:
            async with http.stream("GET", "/queue/data", params={"session_hash": session}) as data:
                await data.aread()
    return observed


def _detail(response: httpx.Response) -> object:
    if response.status_code == 200:
        return sorted(cast("dict[str, object]", response.json()))
    return cast(object, response.json())


async def sync_client(target: Target) -> Observed:
    """The sync client, from a worker thread: generate, download, stream, a typed error."""

    def work() -> Observed:
        observed: Observed = []
        with FluxClient(target.url, http_transport=target.http_transport, max_retries=0) as client:
            image = client.generate(
                "a sync fox", seed=3, randomize_seed=False, num_inference_steps=1
            )
            data = client.download(image)
            observed.append(("generated", image.seed, data[8:12] == WEBP[1]))
            with client.stream(
                "[info] a streamed fox", seed=4, randomize_seed=False, num_inference_steps=1
            ) as stream:
                observed.extend(normalise_events(list(stream), target, progress=False))
            try:
                client.generate("[quota] a fox")
            except QuotaExceededError as error:
                observed.append(normalise_error(error))
        return observed

    return await anyio.to_thread.run_sync(work)


# -- time: timeouts, leaving a stream, queue contention --------------------------------------------
# A [slow] step takes SLOW_STEP_DELAY (0.25 s) on both sides, so a 12-step job lasts 3 s: the
# client's time limits, and a cancel after leaving, land while it runs.

SLOW_JOB = "[slow] a long job"
SLOW_STEPS = 12


async def worker_freed(target: Target) -> Item:
    """Whether the worker is free at once: a job run right after a cancel ends within 2 s.

    The cancelled [slow] job, had it kept running, would hold the one worker longer than that.
    """
    async with target.client() as client:
        try:
            await client.generate("after the cancel", num_inference_steps=1, timeout=2.0)
        except FluxError as error:
            return ("after", *normalise_error(error))
    return ("after", "completed")


def _timeout_total(protocol: ProtocolName) -> Scenario:
    async def scenario(target: Target) -> Observed:
        tap = Wiretap(target.transport(), target)
        async with target.client(protocol=protocol, transport=tap) as client:
            try:
                await client.generate(SLOW_JOB, num_inference_steps=SLOW_STEPS, timeout=0.5)
                observed: Observed = [("returned",)]
            except FluxError as error:
                observed = [normalise_error(error)]
        return [*observed, *tap.observed(), await worker_freed(target)]

    scenario.__doc__ = (
        f"A total timeout on a 3 s [slow] job ({protocol} protocol): FluxTimeoutError('total'),"
        " and the job is cancelled on the Space."
    )
    return scenario


async def sync_timeout_call(target: Target) -> Observed:
    """The sync client's total timeout on a [slow] /call/ job: raised, the job cancelled."""

    def work() -> Observed:
        tap = Wiretap(target.transport(), target)
        with FluxClient(target.url, protocol="call", http_transport=tap, max_retries=0) as client:
            try:
                client.generate(SLOW_JOB, num_inference_steps=SLOW_STEPS, timeout=0.5)
                observed: Observed = [("returned",)]
            except FluxError as error:
                observed = [normalise_error(error)]
        return [*observed, *tap.observed()]

    return [*await anyio.to_thread.run_sync(work), await worker_freed(target)]


async def leave_after_progress_async(target: Target) -> Observed:
    """Leaving an async queue stream at the first Progress of a [slow] job cancels the job."""
    tap = Wiretap(target.transport(), target)
    events: list[Event] = []
    async with (
        target.client(protocol="queue", transport=tap) as client,
        client.stream(SLOW_JOB, num_inference_steps=SLOW_STEPS) as stream,
    ):
        async for event in stream:
            events.append(event)
            if isinstance(event, Progress):
                break
    return [*normalise_events(events, target), *tap.observed(), await worker_freed(target)]


async def leave_after_progress_sync(target: Target) -> Observed:
    """The same with the sync client, whose reader runs ahead on its loop thread."""

    def work() -> Observed:
        tap = Wiretap(target.transport(), target)
        events: list[Event] = []
        with (
            FluxClient(target.url, protocol="queue", http_transport=tap, max_retries=0) as client,
            client.stream(SLOW_JOB, num_inference_steps=SLOW_STEPS) as stream,
        ):
            for event in stream:
                events.append(event)
                if isinstance(event, Progress):
                    break
        return [*normalise_events(events, target), *tap.observed()]

    return [*await anyio.to_thread.run_sync(work), await worker_freed(target)]


async def leave_call_async(target: Target) -> Observed:
    """Cancelling the task that follows a [slow] /call/ job: the cancel, the stream's end."""
    tap = Wiretap(target.transport(), target)
    observer = Observer(tap)
    events: list[Event] = []
    async with (
        target.client(protocol="call", transport=observer) as client,
        anyio.create_task_group() as group,
    ):

        async def follow() -> None:
            async with client.stream(SLOW_JOB, num_inference_steps=SLOW_STEPS) as stream:
                async for event in stream:
                    events.append(event)

        group.start_soon(follow)
        await observer.call_stream_open.wait()
        group.cancel_scope.cancel()
    return [*normalise_events(events, target), *tap.observed(), await worker_freed(target)]


async def queue_contention(target: Target) -> Observed:
    """One worker, three [slow] jobs: the second waits at rank 0, the third at rank 1, then 0."""
    await wait_until_idle(target)
    seen: dict[str, Observed] = {}
    async with target.client(protocol="queue") as client:
        started, queued = anyio.Event(), anyio.Event()

        async def job(name: str, steps: int) -> None:
            observed = seen.setdefault(name, [])
            async with client.stream(
                f"[slow] job {name}", seed=1, randomize_seed=False, num_inference_steps=steps
            ) as stream:
                async for event in stream:
                    if isinstance(event, Queued):
                        item: Item = ("queued", event.rank, event.queue_size)
                        queued.set()
                    else:
                        item = normalise_events([event], target)[0]
                    if not observed or observed[-1] != item:
                        observed.append(item)
                    if isinstance(event, Started):
                        started.set()

        async with anyio.create_task_group() as group:
            group.start_soon(job, "first", 4)
            await started.wait()
            queued = anyio.Event()
            group.start_soon(job, "second", 1)
            await queued.wait()
            group.start_soon(job, "third", 1)
    return [(name, *observed) for name, observed in sorted(seen.items())]


TIME_SCENARIOS: dict[str, Scenario] = {
    **{f"timeout_total_{protocol}": _timeout_total(protocol) for protocol in PROTOCOLS},
    "sync_timeout_call": sync_timeout_call,
    "leave_after_progress_async": leave_after_progress_async,
    "leave_after_progress_sync": leave_after_progress_sync,
    "leave_call_async": leave_call_async,
    "queue_contention": queue_contention,
}
"""The scenarios that depend on the Space's time (part of `SCENARIOS`)."""


# -- wire-level scenarios --------------------------------------------------------------------------


async def wire_discovery(target: Target) -> Observed:
    """``/config`` and ``/info``: what clients read from them, per Gradio line."""
    return await _discovery(target, (8, 11, 12, 15))


async def _discovery(target: Target, slider_ids: tuple[int, ...]) -> Observed:
    async with target.http() as http:
        config = cast("dict[str, object]", (await http.get(target.url + "/config")).json())
        info = cast("dict[str, object]", (await http.get("/info")).json())
    dependencies = cast("list[dict[str, object]]", config["dependencies"])
    keys = (
        "id",
        "targets",
        "inputs",
        "outputs",
        "queue",
        "api_name",
        "types",
        "show_api",
        "api_visibility",
        "backend_fn",
        "trigger_after",
    )
    components = {
        int(str(component["id"])): component
        for component in cast("list[dict[str, object]]", config["components"])
    }
    sliders: list[Item] = []
    for component_id in slider_ids:
        props = cast("dict[str, object]", components[component_id]["props"])
        sliders.append(
            (
                component_id,
                components[component_id]["type"],
                *(props[key] for key in ("label", "minimum", "maximum", "step", "value")),
            )
        )
    endpoint = cast("dict[str, dict[str, object]]", info["named_endpoints"])["/infer"]
    return [
        (
            "config",
            config["version"],
            config.get("api_prefix"),
            config["protocol"],
            config["enable_queue"],
            config["show_error"],
            config.get("show_api"),
        ),
        ("layout", json.dumps(config["layout"], sort_keys=True)),
        (
            "dependencies",
            json.dumps(
                [{key: dep[key] for key in keys if key in dep} for dep in dependencies],
                sort_keys=True,
            ),
        ),
        ("components", tuple(sorted(components)), tuple(sliders)),
        # The replica's infer has a docstring, the Space's has none: compare the key only.
        ("info", sorted(info), sorted(endpoint)),
        (
            "snippets",
            json.dumps(endpoint.get("code_snippets"), sort_keys=True).replace(target.url, "<root>"),
        ),
        ("parameters", json.dumps(endpoint["parameters"], sort_keys=True)),
        ("returns", json.dumps(endpoint["returns"], sort_keys=True)),
    ]


async def _queue_messages(
    http: httpx.AsyncClient, data: list[object], *, by_name: bool = False
) -> tuple[int, list[object]]:
    """A job's ``queue/data`` messages, submitted by ``queue/join`` or (``by_name``) as the SDK
    submits it: ``call/infer`` naming the session, with no ``fn_index``."""
    session = uuid.uuid4().hex
    if by_name:
        join = await http.post("/call/infer", json={"data": data, "session_hash": session})
    else:
        join = await http.post(
            "/queue/join", json={"data": data, "fn_index": 2, "session_hash": session}
        )
    messages: list[object] = []
    async with http.stream("GET", "/queue/data", params={"session_hash": session}) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                messages.append(cast(object, json.loads(line[6:])))
    # Read to the end (the server closes after close_stream): a stream left half-read leaves
    # httpx's generators to the garbage collector, which trio reports.
    return join.status_code, messages


def _shape(messages: list[object], target: Target) -> list[object]:
    """Messages normalised; progress runs collapsed to one, empty progress dropped."""
    shaped: list[object] = []
    for message in messages:
        body = cast("dict[str, object]", message)
        if body.get("msg") == "progress":
            if body.get("progress_data") == []:
                continue  # tqdm's close, sometimes sent after the last step
            bars = cast("list[dict[str, object]]", body["progress_data"])
            body = {**body, "progress_data": [{**bars[0], "index": "<index>"}]}
        item = normalise_message(body, target)
        if not shaped or shaped[-1] != item or body.get("msg") != "progress":
            shaped.append(item)
    return shaped


async def wire_queue_stream(target: Target) -> Observed:
    """A [slow] job's ``queue/data`` messages, field for field."""
    async with target.http() as http:
        status, messages = await _queue_messages(http, ["[slow] a fox", 5, False, 512, 512, 2])
    return [("join", status), *(("message", message) for message in _shape(messages, target))]


async def wire_named_queue_stream(target: Target) -> Observed:
    """The same job submitted by name in a session (``call/infer`` with our ``session_hash``,
    as the SDK submits it): its ``queue/data`` messages, field for field."""
    async with target.http() as http:
        status, messages = await _queue_messages(
            http, ["[slow] a fox", 5, False, 512, 512, 2], by_name=True
        )
    return [("join", status), *(("message", message) for message in _shape(messages, target))]


# Inputs sent raw (the SDK validates before sending), and what each Gradio line makes of them.
RAW_INPUTS: list[tuple[str, list[object]]] = [
    ("gr.Error", ["[error] the model is on fire", 1, False, 512, 512, 1]),
    ("exception", ["[crash] x", 1, False, 512, 512, 1]),
    ("quota", ["[quota] x", 1, False, 512, 512, 1]),
    ("gpu", ["[gpu] x", 1, False, 512, 512, 1]),
    ("width 5000", ["a fox", 1, False, 5000, 512, 1]),
    ("steps 0", ["a fox", 1, False, 512, 512, 0]),
    ("seed -1", ["a fox", -1, False, 512, 512, 1]),
    ("seed float", ["a fox", 1.5, False, 512, 512, 1]),
    ("seed string", ["a fox", "abc", False, 512, 512, 1]),
    ("seed null", ["a fox", None, False, 512, 512, 1]),
    ("width string", ["a fox", 1, False, "big", 512, 1]),
    ("steps string", ["a fox", 1, False, 512, 512, "2"]),
    ("5 values", ["a fox", 1, False, 512, 512]),
    ("7 values", ["a fox", 1, False, 512, 512, 1, "extra"]),
    ("prompt null", [None, 1, False, 512, 512, 1]),
]


async def wire_queue_outcomes(target: Target) -> Observed:
    """Each raw input's final ``queue/data`` message (and that ``close_stream`` follows)."""
    observed: Observed = []
    async with target.http() as http:
        for name, data in RAW_INPUTS:
            status, messages = await _queue_messages(http, data)
            shaped = _shape(messages, target)
            observed.append((name, status, shaped[-2], shaped[-1]))
    return observed


async def wire_named_queue_outcomes(target: Target) -> Observed:
    """Each raw input submitted by name in a session: its final ``queue/data`` messages."""
    observed: Observed = []
    async with target.http() as http:
        for name, data in RAW_INPUTS:
            status, messages = await _queue_messages(http, data, by_name=True)
            shaped = _shape(messages, target)
            observed.append((name, status, shaped[-2], shaped[-1]))
    return observed


async def _call_events(http: httpx.AsyncClient, event_id: str) -> list[tuple[str, object]]:
    events: list[tuple[str, object]] = []
    name = ""
    async with http.stream("GET", f"/call/infer/{event_id}") as response:
        try:
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    events.append((name, cast(object, json.loads(line[6:]))))
        except httpx.RemoteProtocolError:
            events.append(("connection dropped", None))
    return events


async def wire_call_outcomes(target: Target) -> Observed:
    """Each raw input's ``/call/`` stream: the event and its data (null before Gradio 6.13)."""
    return await _call_outcomes(target, RAW_INPUTS, normalise_message)


async def _call_outcomes(
    target: Target,
    inputs: list[tuple[str, list[object]]],
    shape: Callable[[object, Target], object],
) -> Observed:
    observed: Observed = []
    async with target.http() as http:
        for name, data in inputs:
            post = await http.post("/call/infer", json={"data": data})
            events = await _call_events(http, str(post.json()["event_id"]))
            shaped = [(event, shape(payload, target)) for event, payload in events]
            observed.append((name, post.status_code, shaped))
    return observed


async def wire_http_errors(target: Target) -> Observed:
    """Malformed requests and unknown routes: status, content type and body."""
    bad_join = {"data": ["x", 1, False, 512, 512, 1]}
    requests: list[tuple[str, str, dict[str, object] | bytes | None]] = [
        ("POST", "/queue/join", {**bad_join, "fn_index": 2}),
        ("POST", "/queue/join", {**bad_join, "session_hash": "s1"}),
        ("POST", "/queue/join", {**bad_join, "fn_index": 99, "session_hash": "s2"}),
        ("POST", "/queue/join", {"fn_index": 2, "session_hash": "s3"}),
        ("POST", "/call/infer", b"not json"),
        ("POST", "/call/infer", {"x": 1}),
        ("POST", "/call/nope", {"data": []}),
        ("POST", "/call/nope", {"data": [], "session_hash": "s4"}),
        ("POST", "/call/infer", {"session_hash": "s5"}),
        ("POST", "/call/infer", {**bad_join, "session_hash": 5}),
        ("POST", "/call/v2/infer", {"prompt": "x", "num_inference_steps": 1}),
        ("POST", "/cancel", {"fn_index": 2, "session_hash": "zz", "event_id": "zz"}),
        ("GET", "/file=/etc/passwd", None),
        ("GET", "/nothing", None),
        ("GET", "/queue/join", None),
    ]
    observed: Observed = []
    async with target.http() as http:
        for method, path, body in requests:
            if isinstance(body, bytes):
                response = await http.request(
                    method, path, content=body, headers={"content-type": "application/json"}
                )
            else:
                response = await http.request(method, path, json=body)
            content_type = response.headers.get("content-type", "").split(";")[0]
            if response.status_code == 500:
                payload: object = "<500 body>"  # 5.50 sends a traceback, 4.44 and 6.31 a phrase
            elif content_type == "application/json":
                payload = _detail(response)
            else:
                payload = response.text
            observed.append((method, path, response.status_code, content_type, payload))
        for path in ("/config", "/info", "/file=/tmp/x"):
            other = ("/gradio_api" + path) if target.major < 5 else path
            response = await http.get(target.url + other)
            observed.append(("GET", other, response.status_code))
        # The SDK's first submission, at Gradio 5's prefix: Gradio 4 must answer it 404 (what
        # makes the SDK read /config), and its body is what the SDK tells apart.
        other = ("/gradio_api" if target.major < 5 else "") + "/call/infer"
        response = await http.post(target.url + other, json={**bad_join, "session_hash": "s6"})
        observed.append(("POST", other, response.status_code, cast(object, response.json())))
    return observed


async def wire_unknown_ids(target: Target) -> Observed:
    """Streams for an unknown session or event: one error message, then a dropped connection."""
    async with target.http() as http:
        events = await _call_events(http, "0123456789abcdef")
        messages: list[object] = []
        async with http.stream("GET", "/queue/data", params={"session_hash": "nope"}) as response:
            try:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        messages.append(cast(object, json.loads(line[6:])))
            except httpx.RemoteProtocolError:
                messages.append("connection dropped")
    return [("call", events), ("queue", messages)]


async def wire_cancel(target: Target) -> Observed:
    """``POST /cancel`` for a running queue job and a running /call/ job."""
    observed: Observed = []
    async with target.http() as http:
        session = uuid.uuid4().hex
        join = await http.post(
            "/queue/join",
            json={
                "data": ["[slow] cancel me", 1, False, 512, 512, 8],
                "fn_index": 2,
                "session_hash": session,
            },
        )
        event_id = str(join.json()["event_id"])
        messages: list[object] = []
        async with http.stream("GET", "/queue/data", params={"session_hash": session}) as stream:
            lines = stream.aiter_lines()
            async for line in lines:
                if not line.startswith("data: "):
                    continue
                message = cast("dict[str, object]", json.loads(line[6:]))
                if message["msg"] == "process_starts":
                    cancel = await http.post(
                        "/cancel",
                        json={"fn_index": 2, "session_hash": session, "event_id": event_id},
                    )
                    observed.append(("cancel", cancel.status_code, cancel.json()))
                elif message["msg"] in ("process_completed", "close_stream"):
                    messages.append(message)
        observed.append(("queue", normalise_message(messages, target)))

        post = await http.post(
            "/call/infer", json={"data": ["[slow] cancel me", 1, False, 512, 512, 8]}
        )
        event_id = str(post.json()["event_id"])
        async with http.stream("GET", f"/call/infer/{event_id}") as stream:
            cancel = await http.post(
                "/cancel", json={"fn_index": 2, "session_hash": event_id, "event_id": event_id}
            )
            observed.append(("cancel", cancel.status_code, cancel.json()))
            observed.append(("call", (await stream.aread()).decode()))
    return observed


async def wire_file(target: Target) -> Observed:
    """The image route: GET and HEAD headers, the WebP bytes."""
    async with target.http() as http:
        post = await http.post("/call/infer", json={"data": ["a fox", 1, False, 512, 512, 1]})
        events = await _call_events(http, str(post.json()["event_id"]))
        output = cast("list[dict[str, object]]", events[0][1])
        url = str(output[0]["url"])
        got = await http.get(url)
        head = await http.head(url)
    keys = ("content-type", "content-disposition", "accept-ranges")
    return [
        ("url", target.file_url_ok(url), output[0]["path"] == url.split("/file=", 1)[1]),
        (
            "get",
            got.status_code,
            *(got.headers.get(key) for key in keys),
            "etag" in got.headers,
            "last-modified" in got.headers,
            got.headers.get("content-length") == str(len(got.content)),
        ),
        ("bytes", got.content[:4] == WEBP[0] and got.content[8:12] == WEBP[1]),
        ("head", head.status_code, head.headers.get("content-type")),
    ]


SCENARIOS: dict[str, Scenario] = {
    "generate_queue": generate_queue,
    "generate_call": generate_call,
    "random_seed_is_reproducible": random_seed_is_reproducible,
    **{
        f"fault_{tag}_{protocol}": _fault(tag, protocol)
        for tag in ("error", "quota", "gpu", "crash")
        for protocol in PROTOCOLS
    },
    "slow_progress_queue": slow_progress_queue,
    "slow_call": slow_call,
    "info_queue": info_queue,
    "info_call": info_call,
    "leave_queue_stream": leave_queue_stream,
    "leave_call_stream": leave_call_stream,
    "concurrent_ranks": concurrent_ranks,
    "queue_full": queue_full,
    "sync_client": sync_client,
    "wire_discovery": wire_discovery,
    "wire_queue_stream": wire_queue_stream,
    "wire_queue_outcomes": wire_queue_outcomes,
    "wire_named_queue_stream": wire_named_queue_stream,
    "wire_named_queue_outcomes": wire_named_queue_outcomes,
    "wire_call_outcomes": wire_call_outcomes,
    "wire_http_errors": wire_http_errors,
    "wire_unknown_ids": wire_unknown_ids,
    "wire_cancel": wire_cancel,
    "wire_file": wire_file,
    **TIME_SCENARIOS,
}
"""Every scenario by name; each runs against the fake and the real server of one line."""


# -- FLUX.1-dev ------------------------------------------------------------------------------------
# The same comparisons against the FLUX.1-dev replica (LocalSpace(space="flux-dev")): seven inputs,
# guidance_scale before the steps, and a generator infer that yields a preview per step. After a
# queue/join Gradio sends the first yield whole on queue/data and the next ones as diffs (which
# carry no image dict); a /call/ job sends every yield whole (simple_format), also on queue/data
# when it names a session, as the SDK's queue jobs do: so the SDK makes a Preview of each yield
# on both protocols. Progress is left out: Gradio's throttling interleaves it with the yields
# differently from run to run.

DEV_DATA = ["a dev fox", 5, False, 512, 512, 3.5]


def _dev_events(events: Sequence[Event], target: Target) -> Observed:
    observed: Observed = []
    for event in events:
        if isinstance(event, Preview):
            observed.append(("preview", target.file_url_ok(event.url), event.path in event.url))
        elif not isinstance(event, Progress):
            observed.extend(normalise_events([event], target))
    return observed


async def _dev_job(
    target: Target, prompt: str, protocol: ProtocolName, *, steps: int = 3
) -> Observed:
    async with AsyncFluxClient(
        target.url,
        space="flux-dev",
        protocol=protocol,
        max_retries=0,
        http_transport=target.http_transport,
    ) as client:
        events: list[Event] = []
        try:
            async with client.stream(
                prompt,
                seed=9,
                randomize_seed=False,
                width=512,
                height=512,
                guidance_scale=5.0,
                num_inference_steps=steps,
            ) as stream:
                events.extend([event async for event in stream])
        except FluxError as error:
            return [*_dev_events(events, target), normalise_error(error)]
        observed = _dev_events(events, target)
        previews = [event for event in events if isinstance(event, Preview)]
        final = events[-1]
        assert isinstance(final, Completed)
        observed.append(("request", final.generation.request.guidance_scale))
        if previews:
            preview = await client.download(
                Generation(
                    url=previews[0].url,
                    path=previews[0].path,
                    seed=final.generation.seed,
                    request=final.generation.request,
                )
            )
            image = await client.download(final.generation)
            observed.append(("preview bytes", preview[8:12] == WEBP[1], preview != image))
    return observed


def _dev_fault(tag: str, protocol: ProtocolName) -> Scenario:
    async def scenario(target: Target) -> Observed:
        return await _dev_job(target, f"[{tag}] a dev fox", protocol)

    scenario.__doc__ = f"FLUX.1-dev: the [{tag}] fault tag on the {protocol} protocol."
    return scenario


async def dev_generate_queue(target: Target) -> Observed:
    """FLUX.1-dev on the queue protocol: a Preview per yield (submitted by name, each yield
    arrives whole on queue/data), then the image."""
    return await _dev_job(target, "a dev fox", "queue")


async def dev_generate_call(target: Target) -> Observed:
    """FLUX.1-dev on /call/: a Preview per yield (the last is the image), then the image."""
    return await _dev_job(target, "a dev fox", "call")


async def dev_one_step(target: Target) -> Observed:
    """FLUX.1-dev with one step: its only yield is the image itself."""
    return await _dev_job(target, "a dev fox", "call", steps=1)


def _dev_shape(value: object, target: Target) -> object:
    """A message normalised, and the file paths and URLs inside Gradio's diffs too."""

    def file(match: re.Match[str]) -> str:
        url = cast(str, json.loads(match.group()))
        return '"<file url>"' if target.file_url_ok(url) else '"<file path>"'

    text = json.dumps(normalise_message(value, target))
    return cast(object, json.loads(re.sub(r'"[^"]*/image\.webp"', file, text)))


def _without_progress(messages: list[object], target: Target) -> list[object]:
    return [
        _dev_shape(message, target)
        for message in messages
        if cast("dict[str, object]", message).get("msg") != "progress"
    ]


async def wire_dev_discovery(target: Target) -> Observed:
    """FLUX.1-dev's ``/config`` and ``/info``: the guidance slider (15) before the steps (16)."""
    return await _discovery(target, (8, 11, 12, 15, 16))


async def wire_dev_queue_stream(target: Target) -> Observed:
    """A 3-step FLUX.1-dev job's ``queue/data`` messages: whole first yield, then diffs."""
    async with target.http() as http:
        status, messages = await _queue_messages(http, ["[slow] a fox", *DEV_DATA[1:], 3])
    return [("join", status), *(("message", item) for item in _without_progress(messages, target))]


async def wire_dev_named_queue_stream(target: Target) -> Observed:
    """The same job submitted by name in a session (as the SDK does): on ``queue/data``, but
    every yield whole (Gradio's ``simple_format`` for ``/call/``)."""
    async with target.http() as http:
        status, messages = await _queue_messages(
            http, ["[slow] a fox", *DEV_DATA[1:], 3], by_name=True
        )
    return [("join", status), *(("message", item) for item in _without_progress(messages, target))]


async def wire_dev_named_queue_outcomes(target: Target) -> Observed:
    """Each raw FLUX.1-dev input submitted by name in a session, progress left out."""
    observed: Observed = []
    async with target.http() as http:
        for name, data in DEV_RAW_INPUTS:
            status, messages = await _queue_messages(http, data, by_name=True)
            observed.append((name, status, _without_progress(messages, target)))
    return observed


# Raw FLUX.1-dev inputs: the guidance slider's range (checked on 5.x and 6.x only), too few
# values, and the fault tags.
DEV_RAW_INPUTS: list[tuple[str, list[object]]] = [
    ("ok", [*DEV_DATA, 2]),
    ("guidance 99", [*DEV_DATA[:5], 99, 1]),
    ("guidance 0.5", [*DEV_DATA[:5], 0.5, 1]),
    ("guidance string", [*DEV_DATA[:5], "x", 1]),
    ("6 values", [*DEV_DATA[:5], 1]),
    ("gr.Error", ["[error] the model is on fire", *DEV_DATA[1:], 2]),
    ("exception", ["[crash] x", *DEV_DATA[1:], 2]),
    ("quota", ["[quota] x", *DEV_DATA[1:], 2]),
    ("info", ["[info] x", *DEV_DATA[1:], 2]),
]


async def wire_dev_queue_outcomes(target: Target) -> Observed:
    """Each raw FLUX.1-dev input's ``queue/data`` messages, progress left out."""
    observed: Observed = []
    async with target.http() as http:
        for name, data in DEV_RAW_INPUTS:
            status, messages = await _queue_messages(http, data)
            observed.append((name, status, _without_progress(messages, target)))
    return observed


async def wire_dev_call_outcomes(target: Target) -> Observed:
    """Each raw FLUX.1-dev input's ``/call/`` stream: ``generating`` events, then the end."""
    return await _call_outcomes(target, DEV_RAW_INPUTS, _dev_shape)


DEV_SCENARIOS: dict[str, Scenario] = {
    "dev_generate_queue": dev_generate_queue,
    "dev_generate_call": dev_generate_call,
    "dev_one_step": dev_one_step,
    **{
        f"dev_fault_{tag}_{protocol}": _dev_fault(tag, protocol)
        for tag in ("error", "quota", "gpu", "crash", "info", "slow")
        for protocol in PROTOCOLS
    },
    "wire_dev_discovery": wire_dev_discovery,
    "wire_dev_queue_stream": wire_dev_queue_stream,
    "wire_dev_named_queue_stream": wire_dev_named_queue_stream,
    "wire_dev_named_queue_outcomes": wire_dev_named_queue_outcomes,
    "wire_dev_queue_outcomes": wire_dev_queue_outcomes,
    "wire_dev_call_outcomes": wire_dev_call_outcomes,
}
"""The FLUX.1-dev scenarios; each runs against ``FakeSpace(space="flux-dev")`` and the replica."""
