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

import copy
import enum
import math
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .._errors import JobCancelledError, JobFailedError, ProtocolError, ResponseError
from .._models import (  # the events the decoder builds from the Space's messages
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


class GeneratorOutputs:
    """A generator job's last whole output: after the first yield, Gradio sends diffs (§12).

    As gradio_client does, the first ``process_generating`` of a job is taken whole and every
    later one as one list of edits per output (``["replace", path, value]``, ``append``,
    ``add``, ``delete``), applied to the previous yield; a yield whose outputs are not lists of
    edits is taken whole.
    """

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: list[object] | None = None

    def update(self, data: list[object]) -> list[object]:
        """The whole output after this yield's ``data``."""
        if self.data is None or len(data) != len(self.data) or not all(map(_is_diff, data)):
            # The first yield, or a server that sends every yield whole (older protocol
            # versions do, and so may a proxy that re-encodes): an image output is an object,
            # never a list of edits.
            self.data = data
        else:
            self.data = [_apply_diff(old, diff) for old, diff in zip(self.data, data, strict=True)]
        return self.data


def _is_diff(value: object) -> bool:
    edits = as_list(value)
    if edits is None:
        return False
    for edit in edits:
        parts = as_list(edit)
        if parts is None or len(parts) != 3 or not isinstance(parts[0], str):
            return False
    return True


_MAX_EDITS = 1000


def _apply_diff(value: object, diff: object) -> object:
    edits = as_list(diff)
    if edits is None or len(edits) > _MAX_EDITS:
        raise ProtocolError(f"unexpected output diff: {diff!r:.200}")
    result = copy.deepcopy(value)
    for edit in edits:
        parts = as_list(edit)
        if parts is None or len(parts) != 3:
            raise ProtocolError(f"unexpected output diff edit: {edit!r:.200}")
        action, path, new = parts
        keys = as_list(path)
        if not isinstance(action, str) or keys is None:
            raise ProtocolError(f"unexpected output diff edit: {edit!r:.200}")
        result = _apply_edit(result, keys, action, new)
    return result


def _apply_edit(target: object, path: list[object], action: str, value: object) -> object:
    if not path:
        if action == "replace":
            return value
        if action == "append" and isinstance(target, str) and isinstance(value, str):
            return target + value
        raise ProtocolError(f"unsupported output diff action {action!r} at the root")
    parent = target
    for key in path[:-1]:
        parent = _child(parent, key)
    last = path[-1]
    as_dict, as_array = as_object(parent), as_list(parent)
    if as_array is not None and isinstance(last, int) and not isinstance(last, bool):
        _edit_list(as_array, last, action, value)
    elif as_dict is not None and isinstance(last, str):
        _edit_dict(as_dict, last, action, value)
    else:
        raise ProtocolError(f"an output diff path that does not fit the output: {path!r:.200}")
    return target


def _child(parent: object, key: object) -> object:
    as_dict, as_array = as_object(parent), as_list(parent)
    if as_dict is not None and isinstance(key, str) and key in as_dict:
        return as_dict[key]
    if as_array is not None and isinstance(key, int) and -len(as_array) <= key < len(as_array):
        return as_array[key]
    raise ProtocolError(f"an output diff path that does not fit the output: {key!r:.100}")


def _edit_dict(parent: JSONObject, key: str, action: str, value: object) -> None:
    if action in ("replace", "add"):
        parent[key] = value
    elif action == "append":
        parent[key] = _appended(parent.get(key), value)
    elif action == "delete" and key in parent:
        del parent[key]
    else:
        raise ProtocolError(f"unsupported output diff action {action!r} on {key!r:.100}")


def _edit_list(parent: list[object], index: int, action: str, value: object) -> None:
    if action == "add" and -len(parent) - 1 <= index <= len(parent):
        parent.insert(index, value)
    elif not -len(parent) <= index < len(parent):
        raise ProtocolError(f"an output diff index out of range: {index}")
    elif action == "replace":
        parent[index] = value
    elif action == "append":
        parent[index] = _appended(parent[index], value)
    elif action == "delete":
        del parent[index]
    else:
        raise ProtocolError(f"unsupported output diff action {action!r}")


def _appended(current: object, value: object) -> object:
    if isinstance(current, str) and isinstance(value, str):
        return current + value
    current_list, value_list = as_list(current), as_list(value)
    if current_list is not None and value_list is not None:
        return [*current_list, *value_list]
    raise ProtocolError("an output diff appends to something that is not text or a list")


def decode_queue(data: str, job: JobContext, outputs: GeneratorOutputs | None = None) -> Step:
    """Decode one ``queue/data`` message.

    ``outputs`` keeps a generator job's last yield, which later yields are diffs of; without it,
    each yield is read whole.
    """
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
        output = as_object(message.get("output"))
        items = as_list(output.get("data")) if output is not None else None
        if items is None:
            return None
        return _preview({"data": outputs.update(items) if outputs else items}, job)
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
