"""Hypothesis strategies for what a Space may send: bytes, SSE streams, JSON, error payloads."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

from hypothesis import strategies as st

from flux_sdk import GenerateRequest
from flux_sdk._protocol import JobContext

EVENT_ID = "0123456789abcdef0123456789abcdef"
JOB = JobContext(
    base_url="http://127.0.0.1:7860",
    api_prefix="/gradio_api",
    request=GenerateRequest(prompt="a red fox"),
    event_id=EVENT_ID,
)

_SAFE_TEXT = st.text(st.characters(blacklist_categories=["Cs"]))
_KEYS = st.sampled_from(
    [
        "msg",
        "event_id",
        "output",
        "data",
        "success",
        "title",
        "error",
        "rank",
        "queue_size",
        "rank_eta",
        "eta",
        "progress_data",
        "index",
        "length",
        "unit",
        "log",
        "level",
        "message",
        "path",
        "url",
    ]
)
_MSGS = st.sampled_from(
    [
        "estimation",
        "process_starts",
        "progress",
        "log",
        "process_completed",
        "process_generating",
        "close_stream",
        "unexpected_error",
        "heartbeat",
        "process_streaming",
        "something_new",
    ]
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats()
    | _SAFE_TEXT
    | _MSGS
    | st.just(EVENT_ID),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_KEYS | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=25,
)
"""Any JSON value, shallow, with numbers a float can hold."""

file_data = st.fixed_dictionaries(
    {"path": _SAFE_TEXT | st.none(), "url": _SAFE_TEXT | st.none() | st.just("/gradio_api/f")},
    optional={"meta": json_values, "size": json_values},
)


@st.composite
def queue_messages(draw: st.DrawFn) -> str:
    """A ``queue/data`` message: Gradio-shaped, with arbitrary values where it matters."""
    message: dict[str, object] = {
        "msg": draw(_MSGS),
        "event_id": draw(st.sampled_from([EVENT_ID, None, "another-job"]) | _SAFE_TEXT),
    }
    output = draw(
        st.none()
        | st.fixed_dictionaries({}, optional={"data": st.lists(file_data | json_values)})
        | st.fixed_dictionaries(
            {"error": _SAFE_TEXT | st.none()}, optional={"title": _SAFE_TEXT | st.none()}
        )
        | json_values
    )
    message["output"] = output
    extra = draw(st.dictionaries(_KEYS, json_values, max_size=6))
    message.update({key: value for key, value in extra.items() if key not in ("msg", "event_id")})
    return json.dumps(message)


call_events = st.sampled_from(["complete", "error", "heartbeat", "generating", "message"]) | (
    st.text(max_size=10)
)


@st.composite
def call_data(draw: st.DrawFn) -> str:
    """A ``/call/`` event's data: the outputs list, an error payload, null, or anything."""
    value = draw(
        st.lists(file_data | json_values, max_size=3)
        | st.fixed_dictionaries(
            {"error": _SAFE_TEXT | st.none()}, optional={"title": _SAFE_TEXT | st.none()}
        )
        | json_values
    )
    return json.dumps(value)


@dataclass(frozen=True)
class Block:
    """One SSE event as a server writes it."""

    event: str | None
    data: list[str]
    comment: str | None = None


_LINE_TEXT = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=40
)
blocks = st.builds(
    Block,
    event=st.none()
    | st.text(
        st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=12,
    ),
    data=st.lists(_LINE_TEXT, min_size=1, max_size=4),
    comment=st.none() | _LINE_TEXT,
)
newlines = st.sampled_from(["\n", "\r\n", "\r"])


def encode(items: list[Block], newline: str) -> bytes:
    """Serialise ``items`` as a server would, with ``newline`` as the line end."""
    lines: list[str] = []
    for block in items:
        if block.comment is not None:
            lines.append(":" + block.comment)
        if block.event is not None:
            lines.append("event: " + block.event)
        lines.extend("data: " + line for line in block.data)
        lines.append("")
    return "".join(line + newline for line in lines).encode()


@st.composite
def chunkings(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """``data`` split at arbitrary points (inside UTF-8 sequences and CR LF pairs too)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=12)))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]
