"""`FakeSpace`: an httpx transport that answers like a Gradio server running the Space's app.

Time in the fake is made of *ticks*. A tick lets every running job do one thing (send a toast,
a progress step, or finish) and then starts waiting jobs on free workers. Ticks happen only while
someone reads a stream and has nothing to read, so a job never runs ahead of its readers, a
client that stops reading (to cancel) finds the job where it left it, and no test waits for a
clock. Between ticks the fake sleeps ``step_delay`` seconds (0 by default: a checkpoint).

Everything works under asyncio and trio: the only waiting is `anyio.sleep`, and the state is
guarded by a `threading.Lock` never held across an ``await`` (the sync `FluxClient` drives the
fake from its own event-loop thread).
"""

from __future__ import annotations

import collections
import email.utils
import hashlib
import json
import math
import random
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal, cast
from urllib.parse import unquote

import anyio
import httpx
from typing_extensions import Self

from . import _wire as wire
from ._scenario import Fail, Notice, Outcome, Result, Script, script_for_prompt
from ._webp import solid_webp

__all__ = ["FakeJob", "FakePool", "FakeSpace", "JobProtocol", "JobStatus", "RecordedRequest"]

JobStatus = Literal["waiting", "running", "completed", "failed", "cancelled"]
"""Where a `FakeJob` is: in the queue, on a worker, or finished one way or another."""

JobProtocol = Literal["queue", "call"]
"""How a job was submitted: ``queue/join`` or ``call/infer``."""

DEFAULT_URL: Final = "http://127.0.0.1:7860"
HEARTBEAT_INTERVAL: Final = 15.0
"""Seconds between heartbeats on an idle stream, as on every Gradio line."""

_JSON: Final = "application/json"
_SSE: Final = "text/event-stream; charset=utf-8"
_FINISHED: Final = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake received.

    Attributes:
        method: ``"GET"``, ``"POST"``...
        url: The full URL.
        path: The URL's path, e.g. ``"/gradio_api/queue/join"``.
        headers: The headers, names in lower case.
        content: The raw body.
    """

    method: str
    url: str
    path: str
    headers: dict[str, str]
    content: bytes

    def json(self) -> object:
        """The body decoded as JSON (None for an empty body).

        Raises:
            ValueError: The body is not JSON.
        """
        return cast(object, json.loads(self.content)) if self.content else None


@dataclass(eq=False)
class FakeJob:
    """A job the fake accepted (read-only for tests; the fake updates ``status``).

    Attributes:
        event_id: The id the Space answered the submission with.
        protocol: ``"queue"`` (``queue/join``) or ``"call"`` (``call/infer``).
        session_hash: The queue session; a ``/call/`` job's is its event_id.
        data: The decoded ``data`` list it was submitted with.
        request: The submission request (for its headers, e.g. authentication).
        status: ``"waiting"``, ``"running"``, ``"completed"``, ``"failed"`` or ``"cancelled"``.
    """

    event_id: str
    protocol: JobProtocol
    session_hash: str
    data: list[object]
    request: RecordedRequest
    status: JobStatus = "waiting"


@dataclass(frozen=True)
class _Plan:
    """What a job does once it runs: its toasts and steps (``actions``), then ``outcome``."""

    actions: tuple[Notice | int, ...]
    outcome: Outcome | wire.Rejection
    total_steps: int = 0


@dataclass(eq=False)
class _Run:
    """A job on the fake's queue; ``job`` is None for the invented jobs of `queue_ahead`."""

    job: FakeJob | None
    plan: _Plan
    root: str = ""
    cursor: int = 0
    started_at: float = 0.0
    # /call/ jobs: the one event that ends the stream, and what its reader did.
    final: bytes | None = None
    reader: Literal["none", "open", "delivered", "dropped"] = "none"

    @property
    def finished(self) -> bool:
        return self.job is None or self.job.status in _FINISHED


@dataclass(eq=False)
class _Session:
    """A queue session: messages waiting for its ``queue/data`` reader, and its jobs."""

    messages: collections.deque[wire.Message] = field(
        default_factory=lambda: collections.deque[wire.Message]()
    )
    runs: list[_Run] = field(default_factory=lambda: list[_Run]())

    @property
    def pending(self) -> bool:
        return any(not run.finished for run in self.runs)


class _Refused(Exception):
    """A response that ends request handling early (an HTTP error)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class _World:
    """The emulated server's state: scripts, the queue, the workers, sessions and files.

    Every method expects ``lock`` to be held, except `advance`, which takes it.
    """

    def __init__(
        self,
        line: wire.GradioLine,
        *,
        concurrency: int | None,
        max_size: int | None,
        faults: bool,
        step_delay: float,
    ) -> None:
        self.line = line
        self.concurrency = concurrency
        self.max_size = max_size
        self.faults = faults
        self.step_delay = step_delay
        self.lock = threading.Lock()
        self.random = random.Random(0)
        self.scripts: collections.deque[Script] = collections.deque()
        self.requests: list[RecordedRequest] = []
        self.jobs: list[FakeJob] = []
        self.runs: dict[str, _Run] = {}
        self.sessions: dict[str, _Session] = {}
        self.waiting: list[_Run] = []
        self.running: list[_Run] = []
        self.durations: list[float] = []
        self.files: dict[str, bytes] = {}
        self.next_tick = 0.0

    # -- submissions -------------------------------------------------------------------------------

    def submit(
        self,
        request: httpx.Request,
        recorded: RecordedRequest,
        protocol: JobProtocol,
        data: list[object],
        session_hash: str | None,
    ) -> str:
        """Accept a job (or refuse it as scripted, or as a full queue); returns its event_id."""
        script = self.scripts[0] if self.scripts else None
        if script is not None and isinstance(script.outcome, Fail) and script.outcome.at_submission:
            self.scripts.popleft()
            self.refuse(request, script.outcome)
        if self.max_size is not None and len(self.waiting) >= self.max_size:
            raise _Refused(_queue_full(self.max_size, len(self.waiting)))
        if script is not None:
            self.scripts.popleft()
        event_id = uuid.uuid4().hex
        job = FakeJob(
            event_id=event_id,
            protocol=protocol,
            session_hash=session_hash or event_id,
            data=data,
            request=recorded,
        )
        run = _Run(job, self.plan(data, script), root=_root(request))
        self.jobs.append(job)
        self.runs[event_id] = run
        if protocol == "queue":
            self.sessions.setdefault(job.session_hash, _Session()).runs.append(run)
        self.waiting.append(run)
        rank = len(self.waiting) - 1
        self.emit(run, wire.estimation(event_id, rank, rank + 1, self.eta(rank)))
        self.schedule()
        return event_id

    def refuse(self, request: httpx.Request, failure: Fail) -> None:
        """Answer a submission with the scripted failure."""
        if failure.kind == "unreachable":
            raise httpx.ConnectError("All connection attempts failed", request=request)
        if failure.kind == "rate_limited":
            headers: list[tuple[str, str]] = []
            if failure.retry_after is not None:
                headers.append(("retry-after", f"{failure.retry_after:g}"))
            raise _Refused(_json(429, {"detail": failure.message}, headers))
        size = max(self.max_size or 1, len(self.waiting))
        raise _Refused(_queue_full(size, size))

    def plan(self, data: list[object], script: Script | None) -> _Plan:
        """What the job will do: Gradio's input checks first, then the app (script or tag)."""
        rejection = wire.check_inputs(self.line, data)
        if rejection is not None:
            return _Plan(actions=(), outcome=rejection)
        if script is None and self.faults:
            script = script_for_prompt(str(data[0]))
        script = script or Script()
        outcome = script.outcome
        steps = script.steps
        if isinstance(outcome, Result):
            # The app loops over int(num_inference_steps) and draws width x height pixels;
            # inputs that cannot do that make it raise (a hidden exception).
            requested = _as_int(data[5])
            if requested is None or not all(_is_number(value) for value in data[3:5]):
                return _Plan(actions=(), outcome=Fail.crash())
            if steps is None:
                steps = requested
        steps = max(steps or 0, 0)
        return _Plan(actions=(*script.notices, *range(steps)), outcome=outcome, total_steps=steps)

    # -- the queue ---------------------------------------------------------------------------------

    def schedule(self) -> None:
        """Start waiting jobs on free workers; tell the others their new rank."""
        started = False
        while self.waiting and (self.concurrency is None or len(self.running) < self.concurrency):
            run = self.waiting.pop(0)
            self.running.append(run)
            run.started_at = time.monotonic()
            started = True
            if run.job is not None:
                run.job.status = "running"
                self.emit(run, wire.process_starts(run.job.event_id, self.eta(0)))
        if started:
            size = len(self.waiting)
            for rank, run in enumerate(self.waiting):
                if run.job is not None:
                    self.emit(run, wire.estimation(run.job.event_id, rank, size, self.eta(rank)))

    def tick(self) -> None:
        """Let every running job do one thing, then fill the free workers."""
        for run in list(self.running):
            if run.cursor < len(run.plan.actions):
                action = run.plan.actions[run.cursor]
                run.cursor += 1
                if run.job is None:
                    continue
                if isinstance(action, Notice):
                    self.emit(run, wire.log(self.line, run.job.event_id, action))
                else:
                    self.emit(run, wire.progress(run.job.event_id, action, run.plan.total_steps))
            else:
                self.finish(run)
        self.schedule()

    async def advance(self) -> None:
        """Wait for the next tick (``step_delay``, or just a checkpoint), then run it."""
        with self.lock:
            delay = self.next_tick - time.monotonic()
        await anyio.sleep(max(delay, 0.0))
        with self.lock:
            now = time.monotonic()
            if now >= self.next_tick:
                self.next_tick = now + self.step_delay
                self.tick()

    def eta(self, rank: int) -> float | None:
        """Gradio's estimate: None until a job has finished, then from the average duration."""
        if not self.durations:
            return None
        return sum(self.durations) / len(self.durations) * (rank + 1)

    def finish(self, run: _Run) -> None:
        """The job's outcome, once its toasts and steps are out."""
        self.running.remove(run)
        job = run.job
        if job is None:
            return
        outcome = run.plan.outcome
        if isinstance(outcome, Result):
            duration = time.monotonic() - run.started_at
            self.durations.append(duration)
            average = sum(self.durations) / len(self.durations)
            output = self.output(job, run.root, outcome)
            job.status = "completed"
            self.emit(
                run,
                wire.completed(self.line, job.event_id, output, duration, average),
                wire.call_event("complete", output),
            )
            return
        title = outcome.title if isinstance(outcome, Fail) else None
        job.status = "failed"
        self.emit(
            run,
            wire.failed(self.line, job.event_id, outcome.message, title),
            wire.call_event("error", wire.call_error(self.line, outcome.message, title)),
        )

    def output(self, job: FakeJob, root: str, result: Result) -> list[object]:
        """``[image, seed]``: a solid-colour WebP keyed on prompt and seed, and the seed."""
        data = job.data
        seed: object
        if result.seed is not None:
            seed = result.seed
        elif data[2]:
            seed = self.random.randint(0, wire.MAX_SEED)
        else:
            # The seed slider's postprocess turns None into its minimum (reachable on 4.x).
            seed = 0 if data[1] is None else data[1]
        digest = hashlib.sha256(f"{data[0]}\x00{seed}".encode()).digest()
        width, height = (round(cast(float, value)) for value in data[3:5])
        image = solid_webp(width, height, (digest[0], digest[1], digest[2]))
        path = f"/tmp/gradio/{hashlib.sha256(image).hexdigest()}/image.webp"
        self.files[path] = image
        return [wire.file_data(path, f"{root}{self.line.api_prefix}/file={path}"), seed]

    def emit(self, run: _Run, message: wire.Message, call_final: bytes | None = None) -> None:
        """Route a message to the job's session (queue), or end its ``/call/`` stream."""
        job = run.job
        if job is None:
            return
        if job.protocol == "call":
            if call_final is not None:
                run.final = call_final
            return
        session = self.sessions[job.session_hash]
        session.messages.append(message)
        if message["msg"] == "process_completed" and not session.pending:
            session.messages.append(wire.close_stream())

    def cancel(self, event_id: str, session_hash: object, fn_index: object) -> None:
        """``POST /cancel``: drop a waiting job by its id, stop a running one by its session."""
        run = self.runs.get(event_id)
        if run is None or run.job is None or run.finished:
            return
        if run in self.waiting:
            self.waiting.remove(run)
        elif session_hash == run.job.session_hash and fn_index == wire.INFER_FN_INDEX:
            self.running.remove(run)
        else:
            return
        run.job.status = "cancelled"
        cancelled = wire.cancelled(self.line, run.job.event_id)
        self.emit(run, cancelled, wire.call_event("complete", None))
        self.schedule()


class FakeSpace(httpx.AsyncBaseTransport):
    """A fake FLUX.1-schnell Space: pass it as ``http_transport`` to either client.

    It answers every route the SDK uses the way a Gradio 4.44, 5.x or 6.x server running the
    Space's app does (same JSON, same stream messages, same quirks), with no network and no
    Gradio. By default every job succeeds after ``num_inference_steps`` progress steps; script
    other outcomes with `respond`, and other users' jobs with `queue_ahead`.

    Args:
        gradio: The Gradio version to emulate: ``"6.31.0"`` (default), ``"5.50.0"``,
            ``"4.44.1"``, or another 4.x, 5.x or 6.x version (6.13 changed ``/call/`` errors).
        concurrency: Jobs run at once (the Space's default is 1); None is unlimited.
        max_size: Queue capacity: beyond it submissions get HTTP 503. None (the Space's
            setting) is unbounded.
        faults: Honour the local replica's prompt tags (``[error] text``, ``[quota]``,
            ``[gpu]``, ``[crash]``, ``[slow]``, ``[info]``) for jobs without a script.
        step_delay: Real seconds between ticks (a progress step is one tick); 0 by default.
        url: The base URL the fake answers for; requests to other hosts fail to connect.

    Raises:
        ValueError: An argument is out of range, or ``gradio`` is not a 4.x, 5.x or 6.x version.

    Example:
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
        step_delay: float = 0.0,
        url: str = DEFAULT_URL,
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
        self._world = _World(
            wire.GradioLine.parse(gradio),
            concurrency=concurrency,
            max_size=max_size,
            faults=faults,
            step_delay=step_delay,
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
        return self._world.line.version

    @property
    def api_prefix(self) -> str:
        """``"/gradio_api"`` on Gradio 5 and 6, ``""`` on 4.x."""
        return self._world.line.api_prefix

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._world.lock:
            return list(self._world.requests)

    @property
    def jobs(self) -> list[FakeJob]:
        """Every job accepted so far, in submission order (a copy of the list)."""
        with self._world.lock:
            return list(self._world.jobs)

    def respond(
        self,
        *outcomes: Outcome,
        steps: int | None = None,
        notices: Sequence[Notice] = (),
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

        Raises:
            ValueError: ``steps`` is negative.
        """
        if steps is not None and steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps}")
        scripts = [Script(outcome, tuple(notices), steps) for outcome in outcomes or (Result(),)]
        with self._world.lock:
            self._world.scripts.extend(scripts)

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
        world = self._world
        with world.lock:
            # Workers free up one per tick (busy ones end after 1, 2... ticks; waiting ones take
            # as many ticks as there are workers), so the rank drops by exactly one each time.
            workers = world.concurrency or 1
            if world.concurrency is not None:
                for ticks in range(1, world.concurrency - len(world.running) + 1):
                    world.running.append(_Run(None, _phantom(ticks), started_at=time.monotonic()))
            world.waiting.extend(_Run(None, _phantom(workers)) for _ in range(count))
            world.schedule()

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
        with self._world.lock:
            self._world.requests.append(recorded)
        if _origin(request.url) != self._origin:
            raise httpx.ConnectError(f"no fake Space at {request.url.host}", request=request)
        try:
            return self._route(request, recorded)
        except _Refused as refused:
            return refused.response

    async def aclose(self) -> None:
        """Nothing to release: the fake outlives the clients that use it."""

    def _route(self, request: httpx.Request, recorded: RecordedRequest) -> httpx.Response:
        method, path = recorded.method, recorded.path
        line = self._world.line
        if path == "/config":
            _allow(method, "GET")
            return _json(200, wire.config(line, _root(request)))
        if not path.startswith(line.api_prefix + "/"):
            raise _Refused(_json(404, {"detail": "Not Found"}))
        route = path[len(line.api_prefix) :]
        if route == "/info":
            _allow(method, "GET")
            return _json(200, wire.info(line, _root(request)))
        if route == "/queue/join":
            _allow(method, "POST")
            return self._join(request, recorded)
        if route == "/queue/data":
            _allow(method, "GET")
            return self._queue_stream(request.url.params.get("session_hash", ""))
        if route == "/cancel":
            _allow(method, "POST")
            body = _json_body(recorded)
            missing = [key for key in ("session_hash", "fn_index", "event_id") if key not in body]
            if missing:
                raise _Refused(_missing(body, missing[0]))
            with self._world.lock:
                self._world.cancel(str(body["event_id"]), body["session_hash"], body["fn_index"])
            return _json(200, {"success": True})
        if route.startswith("/file="):
            _allow(method, "GET", "HEAD")
            return self._file(route[len("/file=") :], head=method == "HEAD")
        if route.startswith("/call/"):
            return self._call(request, recorded, route[len("/call/") :])
        raise _Refused(_json(404, {"detail": "Not Found"}))

    def _join(self, request: httpx.Request, recorded: RecordedRequest) -> httpx.Response:
        body = _json_body(recorded)
        data = _data_list(body)
        session_hash = body.get("session_hash")
        if not isinstance(session_hash, str) or not session_hash:
            raise _Refused(_json(400, {"detail": "Session hash not found."}))
        fn_index = body.get("fn_index")
        if fn_index is None:
            raise _Refused(_json(400, {"detail": "No function index provided."}))
        if fn_index != wire.INFER_FN_INDEX or isinstance(fn_index, bool):
            # Only `infer` is emulated; Gradio answers an unknown fn_index like this too.
            raise _Refused(_internal_error())
        with self._world.lock:
            event_id = self._world.submit(request, recorded, "queue", data, session_hash)
        return _json(200, {"event_id": event_id})

    def _call(self, request: httpx.Request, recorded: RecordedRequest, rest: str) -> httpx.Response:
        if rest == "v2/infer" and recorded.method == "POST":
            if not self._world.line.call_error_text:  # /call/v2 came with 6.13
                raise _Refused(_json(405, {"detail": "Method Not Allowed"}))
            data = wire.named_inputs(_json_body(recorded))
        elif "/" in rest:
            api_name, _, event_id = rest.partition("/")
            if recorded.method != "GET" or "/" in event_id:
                raise _Refused(_json(405, {"detail": "Method Not Allowed"}))
            return self._call_stream(event_id if api_name == "infer" else "")
        elif recorded.method != "POST":
            raise _Refused(_json(405, {"detail": "Method Not Allowed"}))
        elif rest == "infer":
            data = _data_list(_json_body(recorded))
        else:
            raise _Refused(_internal_error())
        with self._world.lock:
            event_id = self._world.submit(request, recorded, "call", data, None)
        return _json(200, {"event_id": event_id})

    def _queue_stream(self, session_hash: str) -> httpx.Response:
        world = self._world
        with world.lock:
            session = world.sessions.get(session_hash)
        if session is None:
            # Gradio sends the error, then drops the connection mid-body.
            return _stream(_Broken(wire.queue_event(wire.unexpected_error(world.line))))
        return _stream(_QueueStream(world, session))

    def _call_stream(self, event_id: str) -> httpx.Response:
        world = self._world
        with world.lock:
            run = world.runs.get(event_id)
            job = run.job if run is not None else None
            if run is None or job is None or job.protocol != "call" or run.reader == "dropped":
                # Unknown, or its first reader left before the result: the session is gone.
                chunk = wire.call_event("error", world.line.session_not_found)
                return _stream(_Broken(chunk))
            if run.reader != "none":
                # A second GET of the same event: Gradio only sends heartbeats, forever.
                return _stream(_Heartbeats(wire.call_event("heartbeat", None)))
            run.reader = "open"
        return _stream(_CallStream(world, run))

    def _file(self, path: str, *, head: bool) -> httpx.Response:
        with self._world.lock:
            image = self._world.files.get(path)
        if image is None:
            raise _Refused(_json(403, {"detail": f"File not allowed: {path}."}))
        headers = [
            ("accept-ranges", "bytes"),
            ("content-type", "image/webp"),
            ("content-disposition", 'inline; filename="image.webp"'),
            ("content-length", str(len(image))),
            ("last-modified", email.utils.formatdate(usegmt=True)),
            ("etag", f'"{hashlib.md5(image, usedforsecurity=False).hexdigest()}"'),
        ]
        return httpx.Response(200, headers=headers, content=b"" if head else image)


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


# -- stream bodies ---------------------------------------------------------------------------------


class _Body(httpx.AsyncByteStream):
    """A response body made chunk by chunk as the fake's jobs move.

    Plain iterator objects rather than async generators: a reader that walks away leaves
    nothing for the garbage collector to finalize (which trio would report).
    """

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Called by httpx when the response is closed."""


class _QueueStream(_Body):
    """``queue/data``: the session's messages as they come, until ``close_stream``."""

    def __init__(self, world: _World, session: _Session) -> None:
        self._world = world
        self._session = session
        self._done = False
        self._last_sent = time.monotonic()

    async def __anext__(self) -> bytes:
        world, session = self._world, self._session
        while not self._done:
            with world.lock:
                message = session.messages.popleft() if session.messages else None
                pending = session.pending
            if message is not None:
                self._done = message["msg"] == "close_stream"
                self._last_sent = time.monotonic()
                return wire.queue_event(message)
            if time.monotonic() - self._last_sent >= HEARTBEAT_INTERVAL:
                self._last_sent = time.monotonic()
                return wire.queue_event(wire.heartbeat())
            if pending:
                await world.advance()
            else:
                # Nothing of this session is pending (a second reader): Gradio keeps it open.
                await anyio.sleep(HEARTBEAT_INTERVAL)
        raise StopAsyncIteration


class _CallStream(_Body):
    """``GET /call/infer/{event_id}``: one ``complete`` or ``error`` event, then the end."""

    def __init__(self, world: _World, run: _Run) -> None:
        self._world = world
        self._run = run
        self._last_sent = time.monotonic()

    async def __anext__(self) -> bytes:
        world, run = self._world, self._run
        while True:
            with world.lock:
                if run.reader == "delivered":
                    raise StopAsyncIteration
                if run.final is not None:
                    run.reader = "delivered"
                    return run.final
            if time.monotonic() - self._last_sent >= HEARTBEAT_INTERVAL:
                self._last_sent = time.monotonic()
                return wire.call_event("heartbeat", None)
            await world.advance()

    async def aclose(self) -> None:
        """A reader gone before the result loses it: a new GET gets "404: Not Found"."""
        with self._world.lock:
            if self._run.reader == "open":
                self._run.reader = "dropped"


class _Heartbeats(_Body):
    """A stream that never ends: a heartbeat every 15 s."""

    def __init__(self, chunk: bytes) -> None:
        self._chunk = chunk

    async def __anext__(self) -> bytes:
        await anyio.sleep(HEARTBEAT_INTERVAL)
        return self._chunk


class _Broken(_Body):
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


# -- helpers ---------------------------------------------------------------------------------------


def _phantom(ticks: int) -> _Plan:
    """Another user's job: it keeps a worker busy for ``ticks`` ticks and says nothing."""
    return _Plan(actions=tuple(range(ticks - 1)), outcome=Result())


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)


def _root(request: httpx.Request) -> str:
    """The server's URL as Gradio builds file URLs from it, honouring X-Forwarded-* (§5)."""
    scheme = request.headers.get("x-forwarded-proto", request.url.scheme)
    host = request.headers.get("x-forwarded-host", request.url.netloc.decode("ascii"))
    return f"{scheme}://{host}"


def _is_number(value: object) -> bool:
    """Whether the app can size an image with ``value`` (``round(value)`` works)."""
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _as_int(value: object) -> int | None:
    """``int(value)`` as the app computes it, or None where that raises."""
    if not isinstance(value, (int, float, str)):
        return None
    try:
        return int(value)
    except (ValueError, OverflowError):
        return None


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise _Refused(_json(405, {"detail": "Method Not Allowed"}))


def _json(status: int, body: object, headers: Sequence[tuple[str, str]] = ()) -> httpx.Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return httpx.Response(
        status,
        headers=[("content-length", str(len(content))), ("content-type", _JSON), *headers],
        content=content,
    )


def _queue_full(max_size: int, size: int) -> httpx.Response:
    return _json(503, {"detail": f"Queue is full. Max size is {max_size} and size is {size}."})


def _internal_error() -> httpx.Response:
    content = b"Internal Server Error"
    return httpx.Response(
        500,
        headers=[
            ("content-length", str(len(content))),
            ("content-type", "text/plain; charset=utf-8"),
        ],
        content=content,
    )


def _stream(body: _Body) -> httpx.Response:
    return httpx.Response(200, headers=[("content-type", _SSE)], stream=body)


def _unprocessable(error_type: str, loc: list[object], msg: str, value: object) -> httpx.Response:
    """FastAPI's 422 for a body that does not validate."""
    detail: dict[str, object] = {"type": error_type, "loc": loc, "msg": msg, "input": value}
    if error_type == "json_invalid":
        detail["ctx"] = {"error": "Expecting value"}
    return _json(422, {"detail": [detail]})


def _missing(body: dict[str, object], key: str) -> httpx.Response:
    return _unprocessable("missing", ["body", key], "Field required", body)


def _json_body(recorded: RecordedRequest) -> dict[str, object]:
    """The request's JSON object, or FastAPI's 422."""
    try:
        body = recorded.json()
    except ValueError:
        raise _Refused(
            _unprocessable("json_invalid", ["body", 0], "JSON decode error", {})
        ) from None
    if not isinstance(body, dict):
        message = "Input should be a valid dictionary or object to extract fields from"
        raise _Refused(_unprocessable("model_attributes_type", ["body"], message, body))
    return cast("dict[str, object]", body)


def _data_list(body: dict[str, object]) -> list[object]:
    """The body's ``data`` list, or FastAPI's 422."""
    if "data" not in body:
        raise _Refused(_missing(body, "data"))
    data = body["data"]
    if not isinstance(data, list):
        raise _Refused(
            _unprocessable("list_type", ["body", "data"], "Input should be a valid list", data)
        )
    return list(cast("list[object]", data))
