"""Properties of `SSEReader` and the stream decoders on arbitrary input (hypothesis).

Whatever bytes a Space sends, however the network splits them, reading and decoding ends in
events, skips, the end of the stream, a `ResponseError`, or `ProtocolError`: never another
exception, never an unbounded buffer. Examples are small, so every one ends quickly.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace

import pytest
from httpx_sse import ServerSentEvent
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flux_sdk import (
    Completed,
    Log,
    Preview,
    Progress,
    ProtocolError,
    Queued,
    ResponseError,
    Started,
)
from flux_sdk._protocol import END, SSEReader, Step, decode_call, decode_queue
from tests.property._strategies import (
    JOB,
    Block,
    blocks,
    call_data,
    call_events,
    chunkings,
    encode,
    newlines,
    queue_messages,
)

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
Outcome = tuple[list[tuple[str, str]], bool]


def read(chunks: list[bytes], max_event_bytes: int = 4 * 1024 * 1024) -> Outcome:
    """The (event, data) pairs read from ``chunks``, and whether the reader refused the input."""
    reader = SSEReader(max_event_bytes)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events += reader.feed(chunk)
        events += reader.close()
    except ProtocolError:
        return [(event.event, event.data) for event in events], True
    return [(event.event, event.data) for event in events], False


def is_step(step: object) -> bool:
    return (
        step is None
        or step is END
        or isinstance(step, Queued | Started | Progress | Log | Preview | Completed | ResponseError)
    )


def decode_all(pairs: list[tuple[str, str]]) -> None:
    """Both decoders on every event: a step, or ProtocolError, and nothing else."""
    for event, data in pairs:
        steps: list[Step] = []
        with contextlib.suppress(ProtocolError):
            steps.append(decode_queue(data, JOB))
        with contextlib.suppress(ProtocolError):
            steps.append(decode_call(event, data, JOB))
        for step in steps:
            assert is_step(step), step


# -- anything at all ------------------------------------------------------------------------------


@PROPERTY
@given(data=st.data(), raw=st.binary(max_size=3000), limit=st.sampled_from([16, 256, 4 << 20]))
@example(data=None, raw=b"data: " + b"x" * 300, limit=256)
@example(data=None, raw=b"\xff\xfe\r\r\ndata: \xc3\n\n", limit=16)
def test_any_bytes_read_and_decode_to_steps_or_protocol_error(
    data: st.DataObject | None, raw: bytes, limit: int
) -> None:
    chunks = data.draw(chunkings(raw)) if data is not None else [raw]
    pairs, _refused = read(chunks, limit)
    decode_all(pairs)


@PROPERTY
@given(data=st.data(), items=st.lists(blocks, max_size=6), newline=newlines)
def test_sse_shaped_noise_decodes_to_steps_or_protocol_error(
    data: st.DataObject, items: list[Block], newline: str
) -> None:
    raw = encode(items, newline)
    pairs, refused = read(data.draw(chunkings(raw)))
    assert not refused
    decode_all(pairs)


@PROPERTY
@given(messages=st.lists(queue_messages(), min_size=1, max_size=5), data=st.data())
def test_gradio_shaped_queue_streams_decode_to_steps_or_protocol_error(
    messages: list[str], data: st.DataObject
) -> None:
    raw = "".join(f"data: {message}\n\n" for message in messages).encode()
    pairs, refused = read(data.draw(chunkings(raw)))
    assert not refused
    assert [json.loads(payload) for _, payload in pairs] == [json.loads(m) for m in messages]
    decode_all(pairs)


@PROPERTY
@given(event=call_events, payload=call_data())
def test_gradio_shaped_call_events_decode_to_steps_or_protocol_error(
    event: str, payload: str
) -> None:
    try:
        step = decode_call(event, payload, JOB)
    except ProtocolError:
        return
    assert is_step(step)
    if event == "complete" and json.loads(payload) is None:
        assert isinstance(step, ResponseError)


@PROPERTY
@given(text=st.text(max_size=300))
def test_any_text_as_a_data_line_decodes_to_steps_or_protocol_error(text: str) -> None:
    decode_all([("complete", text), ("error", text), ("generating", text), ("x", text)])


# -- chunking does not matter ----------------------------------------------------------------------


@PROPERTY
@given(data=st.data(), items=st.lists(blocks, max_size=6), newline=newlines)
def test_valid_streams_are_read_the_same_however_they_are_split(
    data: st.DataObject, items: list[Block], newline: str
) -> None:
    raw = encode(items, newline)
    expected = [(block.event or "message", "\n".join(block.data)) for block in items]
    assert read([raw]) == (expected, False)
    assert read(data.draw(chunkings(raw))) == (expected, False)
    assert read([raw[i : i + 1] for i in range(len(raw))]) == (expected, False)


@PROPERTY
@given(data=st.data(), raw=st.binary(max_size=2000), limit=st.sampled_from([32, 4 << 20]))
def test_any_bytes_give_the_same_outcome_however_they_are_split(
    data: st.DataObject, raw: bytes, limit: int
) -> None:
    whole, whole_refused = read([raw], limit)
    split, split_refused = read(data.draw(chunkings(raw)), limit)
    assert split_refused == whole_refused
    if not whole_refused:
        assert split == whole


# -- the bound ------------------------------------------------------------------------------------


@PROPERTY
@given(
    data=st.data(),
    items=st.lists(blocks, min_size=1, max_size=4),
    newline=newlines,
    slack=st.integers(0, 50),
)
def test_events_within_the_bound_are_read_and_larger_ones_refused(
    data: st.DataObject, items: list[Block], newline: str, slack: int
) -> None:
    raw = encode(items, newline)
    # What the reader counts for an event: the characters of its field lines, without line
    # ends; a comment is a keep-alive, not part of the event, but bounded as a line of its own.
    sizes = [
        max(
            len(encode([replace(block, comment=None)], "\n").decode())
            - len(encode([replace(block, comment=None)], "\n").splitlines()),
            0 if block.comment is None else len(block.comment) + 1,
        )
        for block in items
    ]
    largest = max(sizes)
    chunks = data.draw(chunkings(raw))
    assert read(chunks, largest + slack)[1] is False
    if largest > 0:
        assert read(chunks, largest - 1)[1] is True


def test_an_endless_line_is_refused_at_the_bound_without_growing() -> None:
    reader = SSEReader(max_event_bytes=1024 * 1024)
    reader.feed(b"data: ")
    piece = b"x" * 65536
    fed = 0

    def feed_four_mib() -> None:
        nonlocal fed
        for _ in range(64):
            reader.feed(piece)
            fed += len(piece)

    with pytest.raises(ProtocolError, match="larger than"):
        feed_four_mib()
    assert fed <= 1024 * 1024  # refused as soon as the line passed the bound


@pytest.mark.parametrize(
    "raw",
    [b"id: 1\n\n", b"retry: 100\n\n", b"event: ping\nid: 2\n\n", b"id: 3\ndata: 1\n\n\n\n"],
)
def test_blocks_without_data_are_not_dispatched(raw: bytes) -> None:
    pairs, refused = read([raw])
    assert not refused
    assert all(data for _, data in pairs), pairs


# -- counterexamples outside the strategies above (each once a bug; tests/faults: end to end) --


@pytest.mark.parametrize(
    ("event", "data"),
    [
        pytest.param(
            "complete",
            "[" * 100_000 + "]" * 100_000,
            id="deeply-nested-json",
        ),
        pytest.param(
            "message",
            json.dumps({"msg": "estimation", "event_id": JOB.event_id, "rank_eta": 10**400}),
            id="huge-integer-eta",
        ),
        pytest.param(
            "message",
            json.dumps({"msg": "process_starts", "event_id": JOB.event_id, "eta": 10**400}),
            id="huge-integer-started-eta",
        ),
        pytest.param(
            "complete",
            json.dumps([{"path": "/tmp/x.webp", "url": "http://[::1/x.webp"}, 1]),
            id="invalid-ipv6-url",
        ),
        pytest.param(
            "generating",
            json.dumps([{"path": "/tmp/x.webp", "url": "//[x/y"}]),
            id="invalid-ipv6-preview-url",
        ),
        pytest.param(
            "error",
            json.dumps(
                {"error": "You have exceeded your quota. Retry in 99999999999:00:00", "title": ""}
            ),
            id="quota-retry-in-overflow",
        ),
    ],
)
def test_known_counterexamples_decode_to_steps_or_protocol_error(event: str, data: str) -> None:
    try:
        decode_all([(event, data)])
    except Exception as exc:  # the property: nothing but ProtocolError, handled in decode_all
        raise AssertionError(f"{type(exc).__name__}: {exc}"[:200]) from None
