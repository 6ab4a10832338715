"""`flux_sdk._protocol._routes`: where a job goes on each protocol and Gradio line (pure)."""

from __future__ import annotations

import pytest

from flux_sdk import GenerateRequest, ProtocolError
from flux_sdk._protocol import (
    GUESSED_PREFIX,
    call_body,
    call_body_in_session,
    cancel_body,
    config_url,
    submission,
)

REQUEST = GenerateRequest(prompt="a fox")
DATA: list[object] = ["a fox", 0, True, 768, 768, 2]
SPACE = "http://127.0.0.1:7860"


@pytest.mark.parametrize("prefix", ["", "/gradio_api"])
def test_the_queue_protocol_submits_by_name_in_our_session(prefix: str) -> None:
    job = submission(SPACE, prefix, "infer", REQUEST, DATA, session_hash="s1")
    assert (job.url, job.queue) == (f"{SPACE}{prefix}/call/infer", True)
    # By name, never by fn_index: a stale or guessed index could run another function.
    assert job.body == {"data": DATA, "session_hash": "s1"}
    accepted = job.accepted({"event_id": "e1"})
    assert accepted.stream_url == f"{SPACE}{prefix}/queue/data?session_hash=s1"
    assert accepted.cancel_url == f"{SPACE}{prefix}/cancel"
    assert accepted.session_hash == "s1"
    assert accepted.cancel_body(3) == {"fn_index": 3, "session_hash": "s1", "event_id": "e1"}
    assert (accepted.event_id, accepted.context.api_prefix) == ("e1", prefix)


@pytest.mark.parametrize("prefix", ["", "/gradio_api"])
def test_the_call_protocol_takes_the_event_id_as_the_session(prefix: str) -> None:
    job = submission(SPACE, prefix, "infer", REQUEST, DATA, session_hash=None)
    assert (job.url, job.body, job.queue) == (f"{SPACE}{prefix}/call/infer", {"data": DATA}, False)
    accepted = job.accepted({"event_id": "e2"})
    assert accepted.stream_url == f"{SPACE}{prefix}/call/infer/e2"
    assert accepted.cancel_url == f"{SPACE}{prefix}/cancel"
    assert accepted.session_hash == "e2"
    assert accepted.cancel_body(0) == {"fn_index": 0, "session_hash": "e2", "event_id": "e2"}


def test_other_endpoints_are_submitted_by_their_name() -> None:
    job = submission(SPACE, GUESSED_PREFIX, "load_example", REQUEST, DATA, session_hash="s")
    assert job.url == f"{SPACE}/gradio_api/call/load_example"


def test_the_guess_is_gradio_5s_prefix() -> None:
    assert GUESSED_PREFIX == "/gradio_api"


def test_the_bodies_are_the_official_clients() -> None:
    assert call_body(DATA) == {"data": DATA}
    assert call_body_in_session(DATA, "s") == {"data": DATA, "session_hash": "s"}
    assert cancel_body(2, "s", "e") == {"fn_index": 2, "session_hash": "s", "event_id": "e"}


@pytest.mark.parametrize("answer", [None, [], {}, {"event_id": ""}, {"event_id": 7}, "e1"])
def test_an_answer_without_an_event_id_is_a_protocol_error(answer: object) -> None:
    job = submission(SPACE, "", "infer", REQUEST, DATA, session_hash="s")
    with pytest.raises(ProtocolError, match="without an event_id"):
        job.accepted(answer)


def test_config_is_at_the_root_on_every_line() -> None:
    assert config_url(SPACE) == f"{SPACE}/config"
