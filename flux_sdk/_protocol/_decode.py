"""Decode the two Gradio stream dialects into events, results and errors (pure, §3-§4).

``decode_queue`` reads ``queue/data`` messages (``data:`` lines with a ``msg`` field);
``decode_call`` reads ``/call/`` streams (``event:`` + ``data:`` pairs). Both return:

- an `Event` to hand to the user (a `Completed` ends the job),
- a `ResponseError` that ends the job,
- `END` when the server closes the stream (``close_stream``),
- None for what is skipped: heartbeats, other jobs' messages, unknown types.

Malformed payloads raise `ProtocolError`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .._errors import JobCancelledError, JobFailedError, ProtocolError, ResponseError
from .._models import (
    Completed,
    Event,
    GenerateRequest,
    Generation,
    Log,
    Preview,
    Progress,
    Queued,
    Started,
)
from ._classify import classify, normalise
from ._json import JSONObject, as_list, as_object, loads


class StreamEnd(enum.Enum):
    """The server closed the stream on purpose."""

    END = "end"


END = StreamEnd.END
Step = Event | ResponseError | StreamEnd | None


@dataclass(frozen=True)
class JobContext:
    """What decoding one job's stream needs to know."""

    base_url: str
    api_prefix: str
    request: GenerateRequest
    event_id: str


def decode_queue(data: str, job: JobContext) -> Step:
    """Decode one ``queue/data`` message."""
    message = as_object(loads(data))
    if message is None:
        raise ProtocolError(f"queue message is not a JSON object: {data[:200]!r}")
    event_id = message.get("event_id")
    # One session's stream can carry several jobs; ours are tagged with our event_id (§4.2).
    if event_id is not None and event_id != job.event_id:
        return None
    kind = message.get("msg")
    if kind == "estimation":
        return Queued(
            rank=_opt_int(message.get("rank")),
            queue_size=_opt_int(message.get("queue_size")),
            eta=_opt_float(message.get("rank_eta")),
        )
    if kind == "process_starts":
        return Started(eta=_opt_float(message.get("eta")))
    if kind == "progress":
        return _progress(message.get("progress_data"))
    if kind == "log":
        return Log(
            level=str(message.get("level") or "info"),
            message=normalise(str(message.get("log") or "")) or "",
            title=_opt_str(message.get("title")),
        )
    if kind == "process_completed":
        return _completed(message, job)
    if kind == "process_generating":
        # Generator endpoints (FLUX.1-dev) stream intermediate images (§12).
        return _preview(as_object(message.get("output")), job)
    if kind == "close_stream":
        return END
    if kind == "unexpected_error":
        return classify(_opt_str(message.get("message")), payload=message)
    # heartbeat, process_streaming, and anything newer: skipped (§10.4).
    return None


def decode_call(event: str, data: str, job: JobContext) -> Step:
    """Decode one ``/call/`` server-sent event."""
    if event == "complete":
        output = loads(data)
        if output is None:
            # A cancelled /call/ job "completes" with null (§4.4).
            return JobCancelledError("the job was cancelled", payload=output)
        return _generation(output, job)
    if event == "error":
        payload = loads(data)
        if payload is None:
            # Gradio < 6.13 sends null for every error (§3.4): the text is lost on this protocol.
            return JobFailedError(None, payload=payload)
        if isinstance(payload, str):
            return classify(payload, payload=payload)
        error = as_object(payload)
        if error is not None:
            return classify(
                _opt_str(error.get("error")), title=_opt_str(error.get("title")), payload=payload
            )
        raise ProtocolError(f"unexpected error payload: {data[:200]!r}")
    if event == "generating":
        return _preview({"data": loads(data)}, job)
    # heartbeat and unknown events: skipped.
    return None


def _completed(message: JSONObject, job: JobContext) -> Step:
    output = as_object(message.get("output"))
    if output is None:
        raise ProtocolError("process_completed without an output object")
    if message.get("success") is False:
        title = _opt_str(output.get("title")) or _opt_str(message.get("title"))
        return classify(_opt_str(output.get("error")), title=title, payload=message)
    if "data" not in output:
        # A cancelled queue job "succeeds" with output {} (§4.4).
        return JobCancelledError("the job was cancelled", payload=message)
    return _generation(output["data"], job)


def _preview(output: JSONObject | None, job: JobContext) -> Preview | None:
    items = as_list(output.get("data")) if output is not None else None
    image = as_object(items[0]) if items else None
    path = image.get("path") if image is not None else None
    if image is None or not isinstance(path, str) or not path:
        return None
    return Preview(url=_absolute_url(image.get("url"), path, job), path=path)


def _generation(data: object, job: JobContext) -> Completed:
    output = as_list(data)
    if output is None or len(output) < 2:
        raise ProtocolError(f"unexpected output: {data!r:.200}")
    image, seed = as_object(output[0]), output[1]
    if image is None:
        raise ProtocolError(f"the Space returned no image: {output[0]!r:.200}")
    path = image.get("path")
    if not isinstance(path, str) or not path:
        raise ProtocolError("the image has no path")
    return Completed(
        generation=Generation(
            url=_absolute_url(image.get("url"), path, job),
            path=path,
            seed=_seed(seed),
            request=job.request,
            space=job.base_url,
        )
    )


def _absolute_url(url: object, path: str, job: JobContext) -> str:
    if not isinstance(url, str) or not url:
        return f"{job.base_url}{job.api_prefix}/file={path}"
    try:
        if urlsplit(url).scheme:
            return url
        # Relative URLs resolve against the Space, as public clients do (§5).
        return urljoin(job.base_url + "/", url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL"
        raise ProtocolError(f"the Space sent an unusable URL: {url!r:.200}") from exc


def _seed(value: object) -> int:
    if isinstance(value, bool):
        raise ProtocolError(f"unexpected seed: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ProtocolError(f"unexpected seed: {value!r:.50}")


def _progress(data: object) -> Progress | None:
    bars = as_list(data)
    first = as_object(bars[0]) if bars else None
    if first is None:
        return None
    index = first.get("index")
    if not isinstance(index, int):
        return None
    return Progress(
        step=index,
        total=_opt_int(first.get("length")),
        unit=_opt_str(first.get("unit")) or "steps",
    )


def _opt_int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _opt_float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            return None
        return number if math.isfinite(number) else None
    return None


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None
