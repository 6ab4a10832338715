"""Helpers shared by the unit tests: transcript replay, SSE splitting, blocking bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, cast

import anyio
import httpx

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
        if event == "complete":
            items = cast("list[object]", payload)
        elif isinstance(payload, dict) and payload.get("msg") == "process_completed":
            output = cast("dict[str, object]", cast("dict[str, object]", payload)["output"])
            items = cast("list[object]", output["data"])
        else:
            continue
        image = cast("dict[str, object]", items[0])
        return Output(url=str(image["url"]), path=str(image["path"]), seed=items[1])
    raise AssertionError(f"no result in {name}")


def request() -> GenerateRequest:
    return GenerateRequest(
        prompt="a red fox in snow",
        seed=1234,
        randomize_seed=False,
        width=512,
        height=768,
        num_inference_steps=6,
    )


def job(event_id: str, *, prefix: str = "/gradio_api", base: str = BASE) -> JobContext:
    return JobContext(base_url=base, api_prefix=prefix, request=request(), event_id=event_id)


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
    return httpx.Response(200, headers={"content-type": content_type}, content=_chunked(list(chunks)))
