"""Helpers shared by the unit tests: transcript replay, SSE splitting, blocking bodies."""

from __future__ import annotations

import contextlib
import gc
import json
import warnings
from collections.abc import AsyncIterator, Callable, Generator
from dataclasses import dataclass
from typing import Protocol, cast

import anyio
import httpx
import pytest
import respx
from respx.models import Call
from respx.patterns import M

from flux_sdk import GenerateRequest
from flux_sdk._protocol import JobContext
from tests.transcripts import load

BASE = "http://127.0.0.1:7860"
PREFIX = {4: "", 5: "/gradio_api", 6: "/gradio_api"}
SSE_TYPE = "text/event-stream; charset=utf-8"

# Headers that describe the captured bytes rather than the response (the loader adds a final
# newline, and respx builds its own framing).
_FRAMING = {"content-length", "transfer-encoding", "date", "server"}


def replay(name: str) -> httpx.Response:
    """The captured response, as the server sent it (status, headers, body)."""
    transcript = load(name)
    headers = {k: v for k, v in transcript.headers.items() if k not in _FRAMING}
    return httpx.Response(transcript.status, headers=headers, content=transcript.body.encode())


def sse(body: str) -> httpx.Response:
    """A 200 event stream with ``body``."""
    return httpx.Response(200, headers={"content-type": SSE_TYPE}, content=body.encode())


def body_of(name: str) -> str:
    return load(name).body


def json_body(name: str) -> object:
    return cast(object, json.loads(load(name).body))


def event_id_of(name: str) -> str:
    """The event_id a POST transcript (join or /call/) returned."""
    payload = json_body(name)
    assert isinstance(payload, dict)
    event_id = cast("dict[str, object]", payload)["event_id"]
    assert isinstance(event_id, str)
    return event_id


def sse_blocks(body: str) -> list[tuple[str, str]]:
    """Split an SSE body into ``(event, data)`` pairs, like a browser's EventSource."""
    blocks: list[tuple[str, str]] = []
    event, data = "message", list[str]()
    for line in body.split("\n"):
        if line == "":
            if data:
                blocks.append((event, "\n".join(data)))
            event, data = "message", []
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
    if data:
        blocks.append((event, "\n".join(data)))
    return blocks


@dataclass(frozen=True)
class Output:
    """The image and seed a success transcript carries, read without the SDK."""

    url: str
    path: str
    seed: object


def output_of(name: str) -> Output:
    """The result in a success stream transcript (queue or /call/)."""
    for event, data in sse_blocks(body_of(name)):
        payload = cast(object, json.loads(data))
        message = cast("dict[str, object]", payload) if isinstance(payload, dict) else {}
        if event == "complete":
            items = cast("list[object]", payload)
        elif message.get("msg") == "process_completed":
            output = cast("dict[str, object]", message["output"])
            items = cast("list[object]", output["data"])
        else:
            continue
        image = cast("dict[str, object]", items[0])
        return Output(url=str(image["url"]), path=str(image["path"]), seed=items[1])
    raise AssertionError(f"no result in {name}")


def sample_request() -> GenerateRequest:
    return GenerateRequest(
        prompt="a red fox in snow",
        seed=1234,
        randomize_seed=False,
        width=512,
        height=768,
        num_inference_steps=6,
    )


def job(event_id: str, *, prefix: str = "/gradio_api", base: str = BASE) -> JobContext:
    return JobContext(base_url=base, api_prefix=prefix, request=sample_request(), event_id=event_id)


class Settable(Protocol):
    """An ``anyio.Event`` or a ``threading.Event``."""

    def set(self) -> None: ...


async def _blocking_body(chunks: list[bytes], reached: Settable | None) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    if reached is not None:
        reached.set()
    await anyio.sleep_forever()


def blocking(
    *chunks: bytes,
    content_type: str = SSE_TYPE,
    reached: Settable | None = None,
) -> httpx.Response:
    """A 200 response that sends ``chunks``, then nothing, forever (until closed)."""
    return httpx.Response(
        200,
        headers={"content-type": content_type},
        content=_blocking_body(list(chunks), reached),
    )


async def _chunked(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def chunked(*chunks: bytes, content_type: str = "image/webp") -> httpx.Response:
    """A 200 response with no Content-Length, its body sent in ``chunks``."""
    return httpx.Response(
        200, headers={"content-type": content_type}, content=_chunked(list(chunks))
    )


# -- a fake Space on a respx router ----------------------------------------------------------

Handler = Callable[[httpx.Request], httpx.Response]


def serve(name: str) -> Handler:
    """A side effect answering each call with a fresh copy of a transcript's response."""
    return lambda _request: replay(name)


def stream_of(body: str) -> Handler:
    return lambda _request: sse(body)


@dataclass(frozen=True)
class Line:
    """One Gradio line's success exchange: the submit and the stream it answers."""

    version: int
    post: str
    stream: str

    @property
    def prefix(self) -> str:
        return PREFIX[self.version]


QUEUE_OK = [
    Line(4, "gradio4/20-queue-success-join.txt", "gradio4/20-queue-success-data.txt"),
    Line(5, "gradio5/20-queue-success-join.txt", "gradio5/20-queue-success-data.txt"),
    Line(6, "gradio6/20-post-queue-join.txt", "gradio6/21-get-queue-data-success.txt"),
]
CALL_OK = [
    Line(4, "gradio4/10-call-infer-noprefix-post.txt", "gradio4/10-call-infer-noprefix-stream.txt"),
    Line(
        5,
        "gradio5/11-gradio_api-call-infer-post.txt",
        "gradio5/11-gradio_api-call-infer-stream.txt",
    ),
    Line(
        6,
        "gradio6/11-post-gradio_api-call-infer.txt",
        "gradio6/12-get-gradio_api-call-infer-stream-success.txt",
    ),
]


def mount_config(router: respx.MockRouter, version: int) -> respx.Route:
    return router.get("/config").mock(side_effect=serve(f"gradio{version}/01-get-config.txt"))


@dataclass(frozen=True)
class Mounted:
    """The routes of one fake Space."""

    config: respx.Route
    submit: respx.Route
    stream: respx.Route
    guess: respx.Route | None = None
    """Gradio 4's 404 at the guessed prefix (None on Gradio 5 and 6, where the guess is right)."""


# Both protocols submit to ``{prefix}/call/infer``; a queue job's body names its session, so
# one Space can take both (each route counting its own jobs).
_IN_A_SESSION = M(content__contains=b'"session_hash"')


def mount_guess(router: respx.MockRouter, version: int) -> respx.Route | None:
    """Gradio 4's 404 for the prefix a cold client guesses first (Gradio 5's), if it differs."""
    if PREFIX[version] == "/gradio_api":
        return None
    return router.post("/gradio_api/call/infer").mock(
        side_effect=serve("gradio4/11-gradio_api-call-infer-post.txt")
    )


def mount_queue(router: respx.MockRouter, version: int, join: str, data: str | Handler) -> Mounted:
    """A Space on ``version``'s line taking queue jobs: by name, in our session (§4.1).

    ``join`` is the transcript of the submission's answer (a ``queue/join`` one has the same
    shape as that of ``call/infer`` naming a session: ``{"event_id": ...}``).
    """
    prefix = PREFIX[version]
    guess = mount_guess(router, version)
    return Mounted(
        config=mount_config(router, version),
        submit=router.route(_IN_A_SESSION, method="POST", path=f"{prefix}/call/infer").mock(
            side_effect=serve(join)
        ),
        stream=router.get(f"{prefix}/queue/data").mock(
            side_effect=serve(data) if isinstance(data, str) else data
        ),
        guess=guess,
    )


def mount_call(router: respx.MockRouter, version: int, post: str, stream: str | Handler) -> Mounted:
    """A Space on ``version``'s line taking ``/call/`` jobs (§3.1)."""
    prefix = PREFIX[version]
    guess = mount_guess(router, version)
    return Mounted(
        config=mount_config(router, version),
        submit=router.route(~_IN_A_SESSION, method="POST", path=f"{prefix}/call/infer").mock(
            side_effect=serve(post)
        ),
        stream=router.get(f"{prefix}/call/infer/{event_id_of(post)}").mock(
            side_effect=serve(stream) if isinstance(stream, str) else stream
        ),
        guess=guess,
    )


def mount_cancel(router: respx.MockRouter, prefix: str) -> respx.Route:
    return router.post(f"{prefix}/cancel").mock(
        return_value=httpx.Response(200, json={"success": True})
    )


def sent_json(route: respx.Route) -> dict[str, object]:
    return cast("dict[str, object]", json.loads(route.calls.last.request.content))


def requests(router: respx.MockRouter) -> list[httpx.Request]:
    """Every request the router answered, in order."""
    return [call.request for call in cast("list[Call]", router.calls)]


def wire(router: respx.MockRouter) -> list[str]:
    """Every request the router answered, in order, as ``"METHOD /path"``."""
    return [f"{request.method} {request.url.path}" for request in requests(router)]


def edited_config(version: int, *, infer_id: int | None) -> httpx.Response:
    """``version``'s real ``GET /config``, ``infer`` given the id ``infer_id`` (None: removed)."""
    config = cast("dict[str, object]", json_body(f"gradio{version}/01-get-config.txt"))
    dependencies = cast("list[dict[str, object]]", config["dependencies"])
    if infer_id is None:
        config["dependencies"] = [d for d in dependencies if d.get("api_name") != "infer"]
    else:
        for dependency in dependencies:
            if dependency.get("api_name") == "infer":
                dependency["id"] = infer_id
    return httpx.Response(200, json=config)


def xfail_on_trio(request: pytest.FixtureRequest, backend: str, reason: str) -> None:
    """Mark the trio run of a test as a known SDK bug (strict: it must fail an assert)."""
    if backend == "trio":
        request.applymarker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))


@contextlib.contextmanager
def resource_warnings() -> Generator[list[warnings.WarningMessage], None, None]:
    """Record ResourceWarnings rather than raise them, collecting garbage before leaving.

    trio warns when an async generator is garbage-collected unfinished (an httpx stream left
    half-read). Collecting here makes that warning land in the test that caused it, not in
    whichever test the garbage collector happens to run next.
    """
    found: list[warnings.WarningMessage] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            yield found
        finally:
            gc.collect()
            found.extend(w for w in caught if issubclass(w.category, ResourceWarning))
