"""The emulated server's state and its job scheduler: the queue, the workers, what jobs say.

`Scheduler` accepts jobs, keeps them waiting until a worker is free, and lets each running job
do its next thing when the clock says it is due (see `_clock`): a toast, a progress step (with
a preview image on a Space whose ``infer`` is a generator), or its outcome. What it says goes
to the job's queue session, or to its ``/call/`` stream, in the words of `_gradio` for the
emulated line.

Every method expects ``lock`` to be held: the state is guarded by a `threading.Lock` never
held across an ``await`` (the sync `FluxClient` drives the fake from its own loop thread).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import math
import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Final, Literal, cast

import httpx

from .. import _space_messages as messages
from . import _gradio as gradio
from ._apps import INFER_FN_INDEX, Rejection, SpaceApp
from ._clock import Clock
from ._records import FakeJob, JobProtocol, RecordedRequest
from ._responses import Refused, json_response, queue_full
from ._scenario import Fail, Notice, Outcome, Result, Script, script_for_prompt
from ._webp import solid_webp

__all__ = ["Run", "Scheduler", "Session"]

_FINISHED: Final = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class _Plan:
    """What a job does once it runs: its toasts and steps (``actions``), then ``outcome``.

    The toasts and the first step come when it starts, each further step ``step_delay``
    seconds after the one before, the outcome one ``step_delay`` after the last step.
    """

    actions: tuple[Notice | int, ...]
    outcome: Outcome | Rejection
    step_delay: float
    total_steps: int = 0
    notices: int = 0

    def offset(self, cursor: int) -> float:
        """Seconds from the start to the action at ``cursor`` (the outcome: past the end)."""
        steps = max(cursor - self.notices, 0)
        return self.step_delay * steps if steps else 0.0


@dataclass(eq=False)
class Run:
    """A job on the fake's queue; ``job`` is None for the invented jobs of `queue_ahead`."""

    job: FakeJob | None
    plan: _Plan
    root: str = ""
    cursor: int = 0
    started_at: float = 0.0
    # When its next action is due; infinite while it waits, or for a job that never moves.
    next_at: float = math.inf
    # Another user's job, whose worker stays busy until the next job is submitted (then for
    # its own duration), so that the next job's wait does not depend on when it came.
    held: bool = False
    seed: object = None
    # The last output a generator yielded: the next yield is sent as a diff from it, unless
    # the job came by /call/ (Gradio's simple_format sends every yield whole).
    last_output: list[object] | None = None
    whole: bool = False
    # /call/ jobs: the events for its one reader, whether the last is in, and what the reader did.
    call_chunks: collections.deque[bytes] = field(default_factory=lambda: collections.deque())
    call_ended: bool = False
    reader: Literal["none", "open", "delivered", "dropped"] = "none"

    @property
    def finished(self) -> bool:
        return self.job is None or self.job.status in _FINISHED


@dataclass(eq=False)
class Session:
    """A queue session: messages waiting for its ``queue/data`` reader, and its jobs."""

    messages: collections.deque[gradio.Message] = field(
        default_factory=lambda: collections.deque[gradio.Message]()
    )
    runs: list[Run] = field(default_factory=lambda: list[Run]())

    @property
    def pending(self) -> bool:
        return any(not run.finished for run in self.runs)


class Scheduler:
    """The emulated server's state: scripts, the queue, the workers, sessions and files."""

    def __init__(
        self,
        app: SpaceApp,
        *,
        concurrency: int | None,
        max_size: int | None,
        faults: bool,
        clock: Clock,
    ) -> None:
        self.app = app
        self.line = app.line
        self.concurrency = concurrency
        self.max_size = max_size
        self.faults = faults
        self.clock = clock
        # The instant the state stands at: the clock's present, or, while `catch_up` replays
        # what happened since, the instant of the action it replays.
        self.now = clock.now()
        self.lock = threading.Lock()
        self.random = random.Random(0)
        self.scripts: collections.deque[Script] = collections.deque()
        self.requests: list[RecordedRequest] = []
        self.jobs: list[FakeJob] = []
        self.runs: dict[str, Run] = {}
        self.sessions: dict[str, Session] = {}
        self.waiting: list[Run] = []
        self.running: list[Run] = []
        self.durations: list[float] = []
        self.files: dict[str, bytes] = {}

    # -- submissions -------------------------------------------------------------------------------

    def submit(
        self,
        request: httpx.Request,
        recorded: RecordedRequest,
        protocol: JobProtocol,
        data: list[object],
        session_hash: str | None,
        root: str,
        *,
        whole: bool = False,
    ) -> str:
        """Accept a job (or refuse it as scripted, or as a full queue); returns its event_id.

        ``whole``: a generator's yields are sent whole, never as diffs (a ``/call/`` job).
        """
        self.catch_up()
        script = self.scripts[0] if self.scripts else None
        if script is not None and isinstance(script.outcome, Fail) and script.outcome.at_submission:
            self.scripts.popleft()
            self.refuse(request, script.outcome)
        if self.max_size is not None and len(self.waiting) >= self.max_size:
            raise Refused(queue_full(self.max_size, len(self.waiting)))
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
        run = Run(job, self.plan(data, script), root=root, whole=whole)
        self.jobs.append(job)
        self.runs[event_id] = run
        if protocol == "queue":
            self.sessions.setdefault(job.session_hash, Session()).runs.append(run)
        self.waiting.append(run)
        rank = len(self.waiting) - 1
        self.emit(run, gradio.estimation(event_id, rank, rank + 1, self.eta(rank)))
        for held in self.running:
            if held.held:
                held.held = False
                self.start_clock(held, self.now)
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
            raise Refused(json_response(429, {"detail": failure.message}, headers))
        size = max(self.max_size or 1, len(self.waiting))
        raise Refused(queue_full(size, size))

    def plan(self, data: list[object], script: Script | None) -> _Plan:
        """What the job will do: Gradio's input checks first, then the app (script or tag)."""
        delay = self.clock.step_delay
        rejection = self.app.check_inputs(data)
        if rejection is not None:
            return _Plan(actions=(), outcome=rejection, step_delay=delay)
        if script is None and self.faults:
            script = self._tagged(str(data[0]))
        script = script or Script()
        outcome = script.outcome
        steps = script.steps
        if isinstance(outcome, Result):
            # The app loops over int(num_inference_steps) and draws width x height pixels;
            # inputs that cannot do that make it raise (a hidden exception).
            requested = _as_int(data[self.app.position("num_inference_steps")])
            if requested is None or not all(_is_number(value) for value in self._size(data)):
                return _Plan(actions=(), outcome=Fail.crash(), step_delay=delay)
            if steps is None:
                steps = requested
        steps = max(steps or 0, 0)
        return _Plan(
            actions=(*script.notices, *range(steps)),
            outcome=outcome,
            step_delay=delay if script.step_delay is None else script.step_delay,
            total_steps=steps,
            notices=len(script.notices),
        )

    def _tagged(self, prompt: str) -> Script | None:
        script = script_for_prompt(prompt)
        tag = messages.fault_tag(prompt)
        if (
            script is not None
            and self.app.previews
            and isinstance(script.outcome, Result)
            and tag is not None
            and tag[0] != "slow"
        ):
            # The FLUX.1-dev replica runs these tags through schnell's infer, with one step.
            return dataclasses.replace(script, steps=1)
        return script

    def _size(self, data: list[object]) -> tuple[object, object]:
        return data[self.app.position("width")], data[self.app.position("height")]

    # -- the queue ---------------------------------------------------------------------------------

    def schedule(self) -> None:
        """Start waiting jobs on free workers; tell the others their new rank."""
        started = False
        while self.waiting and (self.concurrency is None or len(self.running) < self.concurrency):
            run = self.waiting.pop(0)
            self.running.append(run)
            self.start_clock(run, self.now)
            started = True
            if run.job is not None:
                run.job.status = "running"
                self.emit(run, gradio.process_starts(run.job.event_id, self.eta(0)))
        if started:
            size = len(self.waiting)
            for rank, run in enumerate(self.waiting):
                if run.job is not None:
                    self.emit(run, gradio.estimation(run.job.event_id, rank, size, self.eta(rank)))

    def start_clock(self, run: Run, instant: float) -> None:
        """The job runs from ``instant``: its first action is due then."""
        run.started_at = instant
        run.next_at = math.inf if run.held else instant + run.plan.offset(run.cursor)

    def catch_up(self) -> None:
        """Bring the state to the clock's present: every action due since, in time order.

        A job's actions happen at the instants its plan gives, whoever reads its stream and
        whenever; a worker freed by a finished job takes the next waiting one at that instant.
        """
        present = self.clock.now()
        while self.running:
            run = min(self.running, key=lambda candidate: candidate.next_at)
            if run.next_at > present:
                break
            self.now = run.next_at
            self.act(run)
        self.now = max(self.now, present)

    def due(self) -> float:
        """When the next action of any running job is due (``math.inf``: none is)."""
        return min((run.next_at for run in self.running), default=math.inf)

    def act(self, run: Run) -> None:
        """The job's next action (a toast, a step, or its outcome), then its next instant."""
        if run.cursor >= len(run.plan.actions):
            self.finish(run)
            self.schedule()
            return
        action = run.plan.actions[run.cursor]
        run.cursor += 1
        run.next_at = run.started_at + run.plan.offset(run.cursor)
        if run.job is None:
            return
        if isinstance(action, Notice):
            self.emit(run, gradio.log(self.line, run.job.event_id, action))
            return
        total = run.plan.total_steps
        self.emit(run, gradio.progress(run.job.event_id, action, total))
        if self.app.previews and action < total - 1:
            self.yield_output(run, self.output(run, f" (preview {action + 1})"))

    def eta(self, rank: int) -> float | None:
        """Gradio's estimate: None until a job has finished, then from the average duration."""
        if not self.durations:
            return None
        return sum(self.durations) / len(self.durations) * (rank + 1)

    def finish(self, run: Run) -> None:
        """The job's outcome, once its toasts and steps are out."""
        self.running.remove(run)
        job = run.job
        if job is None:
            return
        outcome = run.plan.outcome
        if isinstance(outcome, Result):
            output = self.output(run)
            if self.app.previews:
                self.yield_output(run, output)  # a generator's last yield is its result
            duration = self.now - run.started_at
            self.durations.append(duration)
            average = sum(self.durations) / len(self.durations)
            job.status = "completed"
            run.call_ended = True
            self.emit(
                run,
                gradio.completed(self.line, job.event_id, output, duration, average),
                gradio.call_event("complete", output),
            )
            return
        title = outcome.title if isinstance(outcome, Fail) else None
        job.status = "failed"
        run.call_ended = True
        self.emit(
            run,
            gradio.failed(self.line, job.event_id, outcome.message, title),
            gradio.call_event("error", gradio.call_error(self.line, outcome.message, title)),
        )

    def yield_output(self, run: Run, output: list[object]) -> None:
        """One yield of a generator ``infer``: whole the first time, then as a diff."""
        job = run.job
        if job is None:
            return
        before, run.last_output = run.last_output, output
        data: list[object] = list(output)
        if before is not None and not run.whole:
            data = [gradio.output_diff(old, new) for old, new in zip(before, output, strict=True)]
        duration = self.now - run.started_at
        self.emit(
            run,
            gradio.generating(self.line, job.event_id, data, duration, duration),
            gradio.call_event("generating", output),
        )

    def output(self, run: Run, note: str = "") -> list[object]:
        """``[image, seed]``: a solid-colour WebP keyed on prompt (and note) and seed."""
        assert run.job is not None
        data = run.job.data
        if run.seed is None:
            run.seed = self._seed(data, run.plan.outcome)
        seed = run.seed
        digest = hashlib.sha256(f"{data[0]}{note}\x00{seed}".encode()).digest()
        width, height = (round(cast(float, value)) for value in self._size(data))
        image = solid_webp(width, height, (digest[0], digest[1], digest[2]))
        path = f"/tmp/gradio/{hashlib.sha256(image).hexdigest()}/image.webp"
        self.files[path] = image
        return [gradio.file_data(path, f"{run.root}{self.line.api_prefix}/file={path}"), seed]

    def _seed(self, data: list[object], outcome: Outcome | Rejection) -> object:
        if isinstance(outcome, Result) and outcome.seed is not None:
            return outcome.seed
        if data[2]:
            return self.random.randint(0, self.app.max_seed)
        # The seed slider's postprocess turns None into its minimum (reachable on 4.x).
        return 0 if data[1] is None else data[1]

    def emit(self, run: Run, message: gradio.Message, call_chunk: bytes | None = None) -> None:
        """Route a message to the job's session (queue), or to its ``/call/`` stream."""
        job = run.job
        if job is None:
            return
        if job.protocol == "call":
            if call_chunk is not None:
                run.call_chunks.append(call_chunk)
            return
        session = self.sessions[job.session_hash]
        session.messages.append(message)
        if message["msg"] == "process_completed" and not session.pending:
            session.messages.append(gradio.close_stream())

    def cancel(self, event_id: str, session_hash: object, fn_index: object) -> None:
        """``POST /cancel``: drop a waiting job by its id, stop a running one by its session."""
        self.catch_up()
        run = self.runs.get(event_id)
        if run is None or run.job is None or run.finished:
            return
        if run in self.waiting:
            self.waiting.remove(run)
        elif session_hash == run.job.session_hash and fn_index == INFER_FN_INDEX:
            self.running.remove(run)
        else:
            return
        run.job.status = "cancelled"
        run.call_ended = True
        cancelled = gradio.cancelled(self.line, run.job.event_id)
        self.emit(run, cancelled, gradio.call_event("complete", None))
        self.schedule()

    def queue_ahead(self, count: int) -> None:
        """Make every worker busy and put ``count`` other users' jobs in the queue."""
        # Workers free up one per step_delay from the next submission on (busy ones end
        # after 1, 2... steps; waiting ones take as many steps as there are workers), so the
        # rank drops by exactly one each time.
        self.catch_up()
        workers = self.concurrency or 1
        if self.concurrency is not None:
            for steps in range(1, self.concurrency - len(self.running) + 1):
                busy = Run(None, self._phantom(steps), held=True)
                self.running.append(busy)
                self.start_clock(busy, self.now)
        self.waiting.extend(Run(None, self._phantom(workers)) for _ in range(count))
        self.schedule()

    def _phantom(self, steps: int) -> _Plan:
        """Another user's job: it keeps a worker busy for ``steps`` steps and says nothing."""
        return _Plan(
            actions=tuple(range(steps)), outcome=Result(), step_delay=self.clock.step_delay
        )


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
