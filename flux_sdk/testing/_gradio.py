"""What a Gradio 4.44, 5.x or 6.x server says, message by message, for the emulated Space.

Pure functions and data: the per-line differences (protocol reference §8) live here, and the
scheduler only decides *when* to say things. Shapes follow real captures of the local replica
(``tests/data/protocol/transcripts`` and the scenario tests in ``tests/scenarios``). What the
Space's app is (its ``/config``, ``/info`` and inputs) is in `_apps`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final, cast

from ._scenario import Notice

__all__ = [
    "GradioLine",
    "Message",
    "call_event",
    "queue_event",
]

Message = dict[str, object]
"""One decoded message, as the server builds it before encoding."""

_VERSION: Final = re.compile(r"\A(\d+)\.(\d+)(?:\.(\d+))?\Z")
_ERROR_DURATION: Final = 10
_LOG_DURATION: Final = 10.0


@dataclass(frozen=True)
class GradioLine:
    """One Gradio release line, and how its wire protocol differs from the others.

    Attributes:
        version: The full version string the server reports, e.g. ``"6.31.0"``.
        major: 4, 5 or 6.
        minor: The minor version.
    """

    version: str
    major: int
    minor: int

    @classmethod
    def parse(cls, version: str) -> GradioLine:
        """Read ``"6.31.0"`` (or ``"5.50"``); only Gradio 4, 5 and 6 are emulated.

        Raises:
            ValueError: The version is malformed or not on Gradio 4, 5 or 6.
        """
        match = _VERSION.match(version)
        if match is None:
            raise ValueError(f"gradio must be a version like '6.31.0', got {version!r}")
        major, minor = int(match.group(1)), int(match.group(2))
        if major not in (4, 5, 6):
            raise ValueError(f"only Gradio 4, 5 and 6 are emulated, got {version!r}")
        return cls(version, major, minor)

    @property
    def api_prefix(self) -> str:
        """``/gradio_api`` from Gradio 5 on; routes are un-prefixed on 4.x."""
        return "" if self.major < 5 else "/gradio_api"

    @property
    def titles(self) -> bool:
        """Whether errors and toasts carry a ``title`` (Gradio 5 and 6)."""
        return self.major >= 5

    @property
    def checks_ranges(self) -> bool:
        """Whether sliders reject out-of-range values (Gradio 5 and 6; 4.44 does not)."""
        return self.major >= 5

    @property
    def call_error_text(self) -> bool:
        """Whether ``/call/`` error events carry the error (6.13+; earlier lines send null)."""
        return (self.major, self.minor) >= (6, 13)

    @property
    def session_not_found(self) -> str:
        """The text of an unknown session or event: Gradio 4 words it differently."""
        return "404: Session not found." if self.major < 5 else "404: Not Found"

    def render_error(self, message: str | None) -> str | None:
        """An error's text as the server sends it: 4.44 sends ``repr(message)`` (quoted)."""
        if message is None or self.major >= 5:
            return message
        return repr(message)


# -- encoding -------------------------------------------------------------------------------------


def queue_event(message: Message) -> bytes:
    """A ``queue/data`` block: ``data:`` and compact JSON (the server uses orjson)."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    return b"data: " + text.encode() + b"\n\n"


def call_event(event: str, data: object) -> bytes:
    """A ``/call/`` block: ``event:`` and ``data:``, JSON with Python's ``", "`` separators."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


# -- queue messages -------------------------------------------------------------------------------


def estimation(event_id: str, rank: int, queue_size: int, rank_eta: float | None) -> Message:
    """The job waits: ``rank`` jobs are ahead of it among the waiting ones."""
    return {
        "msg": "estimation",
        "event_id": event_id,
        "rank": rank,
        "queue_size": queue_size,
        "rank_eta": rank_eta,
    }


def process_starts(event_id: str, eta: float | None) -> Message:
    """The job left the queue and runs."""
    return {"msg": "process_starts", "event_id": event_id, "eta": eta}


def progress(event_id: str, index: int, length: int) -> Message:
    """One ``track_tqdm`` step: ``index`` runs from 0 to ``length - 1``."""
    return {
        "msg": "progress",
        "event_id": event_id,
        "progress_data": [
            {"index": index, "length": length, "unit": "steps", "progress": None, "desc": None}
        ],
    }


def log(line: GradioLine, event_id: str, notice: Notice) -> Message:
    """A toast (``gr.Info``, ``gr.Warning``, ``gr.Success``); no title on Gradio 4."""
    message: Message = {
        "msg": "log",
        "event_id": event_id,
        "log": notice.message,
        "level": notice.level,
        "duration": _LOG_DURATION,
        "visible": True,
    }
    if line.titles:
        message["title"] = notice.title
    return message


def file_data(path: str, url: str) -> Message:
    """The image output, as ``gr.Image`` (format webp) serialises it."""
    return {
        "path": path,
        "url": url,
        "size": None,
        "orig_name": "image.webp",
        "mime_type": None,
        "is_stream": False,
        "meta": {"_type": "gradio.FileData"},
    }


# completed and generating share their output (_output) but not their keys; `duplicates` sees
# the two short builders' shape as a pair.
def completed(
    line: GradioLine, event_id: str, data: list[object], duration: float, average: float
) -> Message:
    """A successful ``process_completed``; Gradio 5 adds a title, 6 the cache fields."""
    output = _output(line, data, duration, average, generating=False)
    message: Message = {"msg": "process_completed", "event_id": event_id, "output": output}
    message["success"] = True
    _completion_extras(line, message, title=None, duration=duration, average=average)
    return message


def generating(
    line: GradioLine, event_id: str, data: list[object], duration: float, average: float
) -> Message:
    """A generator's ``process_generating``: the first yield whole, the next ones as diffs."""
    output = _output(line, data, duration, average, generating=True)
    message: Message = {"msg": "process_generating", "event_id": event_id, "output": output}
    message["success"] = True
    if line.major >= 5:
        message["time_limit"] = None
    return message


def _output(
    line: GradioLine, data: list[object], duration: float, average: float, *, generating: bool
) -> Message:
    """The ``output`` of a yield or of the result: the data and its timings."""
    output: Message = {
        "data": data,
        "is_generating": generating,
        "duration": duration,
        "average_duration": average,
        "render_config": None,
        "changed_state_ids": [],
    }
    if line.major >= 6:
        output["used_cache"] = None
    return output


def output_diff(before: object, after: object) -> list[object]:
    """Gradio's diff of one output between two yields: ``["replace", path, value]`` edits."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        old = cast("dict[str, object]", before)
        new = cast("dict[str, object]", after)
        if old.keys() == new.keys():
            return [["replace", [key], value] for key, value in new.items() if old[key] != value]
    return [["replace", [], after]]


def failed(line: GradioLine, event_id: str, error: str | None, title: str | None) -> Message:
    """A failed ``process_completed``: ``error`` None is a hidden exception."""
    output: Message = {"error": line.render_error(error)}
    title = title or "Error"
    if error is not None:
        output["duration"] = _ERROR_DURATION
        output["visible"] = True
        if line.titles:
            output["title"] = title
    message: Message = {"msg": "process_completed", "event_id": event_id, "output": output}
    message["success"] = False
    _completion_extras(line, message, title=title, duration=None, average=None)
    return message


def cancelled(line: GradioLine, event_id: str) -> Message:
    """A cancelled job: it "succeeds" with an empty output (§4.4)."""
    message: Message = {"msg": "process_completed", "event_id": event_id, "output": {}}
    message["success"] = True
    _completion_extras(line, message, title=None, duration=None, average=None)
    return message


def _completion_extras(
    line: GradioLine,
    message: Message,
    *,
    title: str | None,
    duration: float | None,
    average: float | None,
) -> None:
    if line.major >= 5:
        message["title"] = title
    if line.major >= 6:
        message["used_cache"] = None
        message["cache_duration"] = duration
        message["avg_time"] = average


def close_stream() -> Message:
    """The last message of a session's stream once none of its jobs is pending."""
    return {"msg": "close_stream", "event_id": None}


def heartbeat() -> Message:
    """The keep-alive sent every 15 s on an idle stream."""
    return {"msg": "heartbeat", "event_id": None}


def unexpected_error(line: GradioLine) -> Message:
    """What ``queue/data`` says for a session it does not know (before dropping the stream)."""
    message: Message = {
        "msg": "unexpected_error",
        "event_id": None,
        "message": line.session_not_found,
    }
    if line.major >= 5:
        message["session_not_found"] = True
    message["success"] = False
    return message


# -- /call/ payloads ------------------------------------------------------------------------------


def call_error(line: GradioLine, error: str | None, title: str | None) -> object:
    """The ``data`` of a ``/call/`` ``error`` event: null before Gradio 6.13 (§3.4)."""
    if not line.call_error_text:
        return None
    if error is None:
        return {"error": None}
    return {
        "error": line.render_error(error),
        "duration": _ERROR_DURATION,
        "visible": True,
        "title": title or "Error",
    }
