"""A fake FLUX.1-schnell Space on respx, so the docs' examples run offline and fast.

It answers for every host (the public Space's URL included), with the wire messages of Gradio
6.31 as captured in the protocol transcripts: ``GET /config``, the queue protocol
(``call/infer`` naming a ``session_hash``, or ``queue/join``, + ``queue/data``), the ``/call/``
protocol, ``cancel``, and the result file. A
host registered by `FakeLocalSpace` honours the local Space's fault tags (``[error]``,
``[quota]``, ``[gpu]``, ``[crash]``, ``[slow]``, ``[info]``) with the messages
``flux_sdk/local/_app.py`` raises.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

import anyio
import httpx
import respx

from flux_sdk.local import LocalSpace

GRADIO_VERSION = "6.31.0"
PREFIX = "/gradio_api"
FN_INDEX = 2
MAX_SEED = 2_147_483_647
SLOW_STEP_DELAY = 0.25
# A few bytes with a WebP header: the examples save and measure the file, nothing decodes it.
IMAGE = b"RIFF\x16\x00\x00\x00WEBPVP8L\x0a\x00\x00\x00/\x00\x00\x00\x00\x00\x00\x00\x00\x00"

# The local Space's fault messages (flux_sdk/local/_app.py, which imports gradio).
QUOTA_MESSAGE = (
    "You have exceeded your free ZeroGPU quota (60s requested vs. 12s left). "
    "Try again in 0:06:53. Authenticate with a Hugging Face token for more quota - "
    "https://huggingface.co/settings/tokens"
)
GPU_TIMEOUT_MESSAGE = (
    'No GPU was available after 60s. <a href="https://huggingface.co/join">Create a free '
    "account</a> to get a higher priority in ZeroGPU queues."
)
_FAULT_TAG = re.compile(r"\A\s*\[(error|quota|gpu|crash|slow|info)\]\s*(.*)\Z", re.S)
_SSE_TYPE = "text/event-stream; charset=utf-8"
_POLL = 0.01


@dataclass(frozen=True)
class Behaviour:
    """How one fake host behaves."""

    faults: bool = False
    step_delay: float = 0.0
    always: str | None = None


@dataclass
class _Job:
    event_id: str
    data: list[object]
    behaviour: Behaviour
    base_url: str
    cancelled: bool = False


@dataclass(frozen=True)
class _Failure:
    message: str | None
    title: str


@dataclass
class FakeSpace:
    """The fake Space's state: jobs by session, and how each registered host behaves."""

    hosts: dict[str, Behaviour] = field(default_factory=dict[str, Behaviour])
    jobs: dict[str, _Job] = field(default_factory=dict[str, _Job])
    next_port: int = 7860

    def install(self, router: respx.MockRouter) -> None:
        """Add the Space's routes, for any host, to ``router``."""
        router.get(path="/config").mock(side_effect=self._config)
        router.post(path=f"{PREFIX}/queue/join").mock(side_effect=self._join)
        router.get(path=f"{PREFIX}/queue/data").mock(side_effect=self._queue_data)
        router.post(path=f"{PREFIX}/call/infer").mock(side_effect=self._call)
        router.get(path__regex=rf"^{PREFIX}/call/infer/(?P<event_id>\w+)$").mock(
            side_effect=self._call_data
        )
        router.post(path=f"{PREFIX}/cancel").mock(side_effect=self._cancel)
        router.get(path__startswith=f"{PREFIX}/file=").mock(
            return_value=httpx.Response(200, headers={"content-type": "image/webp"}, content=IMAGE)
        )

    # -- routes ---------------------------------------------------------------------------------

    def _config(self, request: httpx.Request) -> httpx.Response:
        dependencies = [
            {"id": 0, "api_name": None},
            {"id": 1, "api_name": None},
            {"id": FN_INDEX, "api_name": "infer"},
        ]
        return httpx.Response(
            200,
            json={"version": GRADIO_VERSION, "api_prefix": PREFIX, "dependencies": dependencies},
        )

    def _join(self, request: httpx.Request) -> httpx.Response:
        body = _object(json.loads(request.content))
        session_hash = str(body["session_hash"])
        job = self._new_job(request, body)
        self.jobs[session_hash] = job
        return httpx.Response(200, json={"event_id": job.event_id})

    def _queue_data(self, request: httpx.Request) -> httpx.Response:
        job = self.jobs.get(request.url.params.get("session_hash", ""))
        if job is None:
            return httpx.Response(404, json={"detail": "Session not found."})
        return _sse(self._queue_messages(job), job.event_id)

    def _call(self, request: httpx.Request) -> httpx.Response:
        body = _object(json.loads(request.content))
        session_hash = body.get("session_hash")
        job = self._new_job(request, body)
        # Gradio queues a /call/ job that names a session in that session, as queue/join does:
        # its messages go to queue/data (this fake sends every output whole either way).
        self.jobs[session_hash if isinstance(session_hash, str) else job.event_id] = job
        return httpx.Response(200, json={"event_id": job.event_id})

    def _call_data(self, request: httpx.Request, event_id: str) -> httpx.Response:
        job = self.jobs.get(event_id)
        if job is None:
            return httpx.Response(404, json={"detail": "Not Found"})
        return _sse(self._call_messages(job))

    def _cancel(self, request: httpx.Request) -> httpx.Response:
        event_id = _object(json.loads(request.content)).get("event_id")
        for job in self.jobs.values():
            if job.event_id == event_id:
                job.cancelled = True
        return httpx.Response(200, json={"success": True})

    # -- jobs -----------------------------------------------------------------------------------

    def _new_job(self, request: httpx.Request, body: dict[str, object]) -> _Job:
        data = body["data"]
        assert isinstance(data, list), data
        url = request.url
        return _Job(
            event_id=uuid.uuid4().hex,
            data=list(cast("list[object]", data)),
            behaviour=self.hosts.get(url.netloc.decode(), Behaviour()),
            base_url=f"{url.scheme}://{url.netloc.decode()}",
        )

    async def _queue_messages(self, job: _Job) -> AsyncIterator[dict[str, object]]:
        yield {"msg": "estimation", "rank": 0, "queue_size": 1, "rank_eta": 1.2}
        yield {"msg": "process_starts", "eta": 1.2}
        outcome = _outcome(job)
        if isinstance(outcome, _Failure):
            error = {"error": outcome.message, "duration": 10, "visible": True}
            error["title"] = outcome.title
            yield {"msg": "process_completed", "output": error, "success": False, "title": "Error"}
            yield {"msg": "close_stream", "event_id": None}
            return
        for level, message, title in outcome:
            yield {"msg": "log", "log": message, "level": level, "visible": True, "title": title}
        steps = _steps(job)
        for index in range(steps):
            bar = {"index": index, "length": steps, "unit": "steps", "progress": None, "desc": None}
            yield {"msg": "progress", "progress_data": [bar]}
            if not await _step(job):
                # A cancelled job "succeeds" with an empty output (protocol reference §4.4).
                yield {"msg": "process_completed", "output": {}, "success": True, "title": None}
                yield {"msg": "close_stream", "event_id": None}
                return
            if _previews(job) and index < steps - 1:
                output = {"data": _result(job), "is_generating": True}
                yield {"msg": "process_generating", "output": output, "success": True}
        output = {"data": _result(job), "is_generating": False}
        yield {"msg": "process_completed", "output": output, "success": True, "title": None}
        yield {"msg": "close_stream", "event_id": None}

    async def _call_messages(self, job: _Job) -> AsyncIterator[dict[str, object]]:
        outcome = _outcome(job)
        if isinstance(outcome, _Failure):
            error = {"error": outcome.message, "duration": 10, "visible": True}
            yield {"event": "error", "data": error | {"title": outcome.title}}
            return
        steps = _steps(job)
        for index in range(steps):
            if not await _step(job):
                yield {"event": "complete", "data": None}
                return
            if _previews(job) and index < steps - 1:
                yield {"event": "generating", "data": _result(job)}
        yield {"event": "complete", "data": _result(job)}


def _fault(job: _Job) -> tuple[str, str]:
    """The job's fault tag and the text after it, or two empty strings."""
    prompt, behaviour = str(job.data[0]), job.behaviour
    if behaviour.always is not None:
        match = _FAULT_TAG.match(f"[{behaviour.always}] {prompt}")
    else:
        match = _FAULT_TAG.match(prompt) if behaviour.faults else None
    return (match.group(1), match.group(2)) if match else ("", "")


def _outcome(job: _Job) -> _Failure | list[tuple[str, str, str]]:
    """The failure a fault tag asks for, or the notices to send before success."""
    tag, text = _fault(job)
    if tag == "error":
        return _Failure(text or "Simulated error", "Error")
    if tag == "quota":
        return _Failure(QUOTA_MESSAGE, "ZeroGPU quota exceeded")
    if tag == "gpu":
        return _Failure(GPU_TIMEOUT_MESSAGE, "ZeroGPU queue timeout")
    if tag == "crash":
        return _Failure(None, "Error")
    if tag == "info":
        return [
            ("info", "Waiting for a GPU to become available", "ZeroGPU queue"),
            ("warning", "Falling back to IP-based quotas", "Warning"),
        ]
    return []


def _dev(job: _Job) -> bool:
    """FLUX.1-dev's API: seven inputs, guidance_scale before the steps (§12)."""
    return len(job.data) == 7


def _steps(job: _Job) -> int:
    tag = _fault(job)[0]
    if _dev(job) and tag not in ("", "slow"):
        return 1  # the dev app runs the other fault tags through schnell's infer, one step
    steps = job.data[-1]
    assert isinstance(steps, int)
    return steps


def _previews(job: _Job) -> bool:
    """Whether the job streams a preview image after each step but the last."""
    return _dev(job) and _fault(job)[0] in ("", "slow")


async def _step(job: _Job) -> bool:
    """Sleep through one step; False when the job was cancelled."""
    delay = SLOW_STEP_DELAY if _fault(job)[0] == "slow" else job.behaviour.step_delay
    waited = 0.0
    while waited < delay and not job.cancelled:
        await anyio.sleep(_POLL)
        waited += _POLL
    return not job.cancelled


def _result(job: _Job) -> list[object]:
    digest = uuid.uuid4().hex
    path = f"/tmp/gradio/{digest}/image.webp"
    seed = random.randint(0, MAX_SEED) if job.data[2] is True else job.data[1]
    image = {
        "path": path,
        "url": f"{job.base_url}{PREFIX}/file={path}",
        "size": None,
        "orig_name": "image.webp",
        "mime_type": None,
        "is_stream": False,
        "meta": {"_type": "gradio.FileData"},
    }
    return [image, seed]


def _sse(messages: AsyncIterator[dict[str, object]], event_id: str | None = None) -> httpx.Response:
    async def body() -> AsyncIterator[bytes]:
        async for message in messages:
            if "msg" in message:  # queue/data: every message but close_stream names its job
                text = json.dumps({"event_id": event_id} | message)
                yield f"data: {text}\n\n".encode()
            else:  # /call/: an event name, then its data
                yield f"event: {message['event']}\ndata: {json.dumps(message['data'])}\n\n".encode()

    return httpx.Response(200, headers={"content-type": _SSE_TYPE}, content=body())


def _object(value: object) -> dict[str, object]:
    assert isinstance(value, dict), value
    return {str(key): item for key, item in cast("dict[object, object]", value).items()}


def fake_local_space(space: FakeSpace) -> type[LocalSpace]:
    """A `LocalSpace` served by ``space``: same arguments and checks, no Gradio, no process."""

    class FakeLocalSpace(LocalSpace):
        def start(self) -> str:
            if self._url is None:
                port = self.port or space.next_port
                space.next_port = max(space.next_port, port) + 1
                netloc = f"127.0.0.1:{port}"
                space.hosts[netloc] = Behaviour(self.faults, self.step_delay, self.always)
                self._url = f"http://{netloc}"
            return self._url

        def stop(self) -> None:
            self._url = None

        @property
        def running(self) -> bool:
            return self._url is not None

        @property
        def gradio_version(self) -> str:
            self.url  # noqa: B018 (raises when not running, as the real one does)
            return GRADIO_VERSION

    return FakeLocalSpace
