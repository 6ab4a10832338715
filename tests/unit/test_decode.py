"""`decode_queue` and `decode_call` on every captured stream line (README §3.2-§3.4, §4.2, §4.4)."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from types import EllipsisType

import pytest

from flux_sdk import (
    Completed,
    EndpointNotFoundError,
    GPUUnavailableError,
    InputRejectedError,
    JobCancelledError,
    JobFailedError,
    Log,
    Preview,
    Progress,
    ProtocolError,
    Queued,
    QuotaExceededError,
    ResponseError,
    Started,
)
from flux_sdk._protocol import END, GeneratorOutputs, Step, decode_call, decode_queue
from tests.transcripts import load, transcripts_dir
from tests.unit._support import BASE, body_of, job, output_of, sample_request, sse_blocks

EID = "57f167cd5021436db7b9f288b2aa9f01"  # g6/20-21
QUOTA_TEXT = (
    "You have exceeded your free ZeroGPU quota (60s requested vs. 42s left). Try again in "
    "0:07:13. Subscribe to Hugging Face PRO to get 40 min of ZeroGPU quota a day - "
    "https://huggingface.co/subscribe/pro?from=ZeroGPU"
)
GR_ERROR = "Replica gr.Error: simulated failure (e.g. quota or validation)"
ANY = ...


@dataclass(frozen=True)
class Expect:
    """How a stream ends: `Completed`, an error class (and its message), or None (no result)."""

    outcome: type[Completed] | type[Exception] | None
    message: str | EllipsisType | None = ANY


C = Expect(Completed)
NULL_ERROR = Expect(JobFailedError, None)
UNKNOWN_JOB = Expect(EndpointNotFoundError, "404: Not Found")
NO_RESULT = Expect(None)

CALL_STREAMS: dict[str, Expect] = {
    "gradio4/01b-arity-5-stream.txt": NULL_ERROR,
    "gradio4/05b-seed-string-stream.txt": NULL_ERROR,
    "gradio4/10-call-infer-noprefix-stream.txt": C,
    "gradio4/11b-width-5000-stream.txt": C,  # 4.44 has no range check
    "gradio4/13-call-gr_error-stream.txt": NULL_ERROR,
    "gradio4/14-call-exception-stream.txt": NULL_ERROR,
    "gradio4/15-call-sleep-stream-heartbeat.txt": C,
    "gradio4/16-call-quota-stream.txt": NULL_ERROR,
    "gradio4/17-call-info-toast-stream.txt": C,
    "gradio4/30-get-unknown-event-id.txt": Expect(EndpointNotFoundError, "404: Session not found."),
    "gradio4/35-get-call-stream-8s-after-completion.txt": C,
    "gradio4/36-get-call-stream-second-time.txt": NO_RESULT,
    "gradio4/45-get-call-stream-x-forwarded.txt": C,
    "gradio5/01b-arity-5-stream.txt": NULL_ERROR,
    "gradio5/11-gradio_api-call-infer-stream.txt": C,
    "gradio5/11b-width-5000-stream.txt": NULL_ERROR,
    "gradio5/14-call-exception-stream.txt": NULL_ERROR,
    "gradio5/16-call-quota-stream.txt": NULL_ERROR,
    "gradio5/30-get-unknown-event-id.txt": UNKNOWN_JOB,
    "gradio6/12-get-gradio_api-call-infer-stream-success.txt": C,
    "gradio6/13-call-gr_error-stream.txt": Expect(JobFailedError, GR_ERROR),
    "gradio6/14-call-exception-stream.txt": NULL_ERROR,
    "gradio6/15-call-sleep-stream-heartbeat.txt": C,
    "gradio6/16-call-quota-stream.txt": Expect(QuotaExceededError, QUOTA_TEXT),
    "gradio6/17-call-info-toast-stream.txt": C,
    "gradio6/30-get-unknown-event-id.txt": UNKNOWN_JOB,
    "gradio6/34-get-call-v2-stream.txt": C,
    "gradio6/35-get-call-stream-8s-after-completion.txt": C,
    "gradio6/36-get-call-stream-second-time.txt": NO_RESULT,
    "gradio6/37-get-call-stream-disconnect-after-3s.txt": NO_RESULT,
    "gradio6/37-get-call-stream-reconnect.txt": UNKNOWN_JOB,
    "gradio6/45-get-call-stream-x-forwarded.txt": C,
    "gradio6/47-get-call-stream-no-forwarded.txt": C,
    "gradio6/52-get-call-stream-cancelled.txt": Expect(JobCancelledError),
    "gradio6/badinput/01-arity-5-stream.txt": NULL_ERROR,
    "gradio6/badinput/02-arity-7-stream.txt": C,
    "gradio6/badinput/03-arity-0-stream.txt": NULL_ERROR,
    "gradio6/badinput/04-arity-1-stream.txt": NULL_ERROR,
    "gradio6/badinput/05-seed-string-stream.txt": NULL_ERROR,
    "gradio6/badinput/06-width-string-stream.txt": NULL_ERROR,
    "gradio6/badinput/07-width-numeric-string-stream.txt": NULL_ERROR,
    "gradio6/badinput/08-randomize-string-stream.txt": C,
    "gradio6/badinput/09-prompt-int-stream.txt": C,
    "gradio6/badinput/10-prompt-null-stream.txt": C,
    "gradio6/badinput/11-width-5000-stream.txt": Expect(
        InputRejectedError, "Value 5000 is greater than maximum value 2048."
    ),
    "gradio6/badinput/12-width-100-stream.txt": Expect(
        InputRejectedError, "Value 100 is less than minimum value 256."
    ),
    "gradio6/badinput/13-width-1000-not-step-stream.txt": C,
    "gradio6/badinput/14-steps-0-stream.txt": Expect(
        InputRejectedError, "Value 0 is less than minimum value 1."
    ),
    "gradio6/badinput/15-steps-100-stream.txt": Expect(
        InputRejectedError, "Value 100 is greater than maximum value 50."
    ),
    "gradio6/badinput/16-seed-neg-stream.txt": Expect(
        InputRejectedError, "Value -1 is less than minimum value 0."
    ),
    "gradio6/badinput/17-seed-over-max-stream.txt": Expect(
        InputRejectedError, "Value 2147483648 is greater than maximum value 2147483647."
    ),
    "gradio6/badinput/18-steps-float-stream.txt": C,
    # a non-integral seed (1.7) cannot be a Generation.seed
    "gradio6/badinput/19-seed-float-stream.txt": Expect(ProtocolError),
    "gradio6/badinput/20-nulls-for-defaults-stream.txt": NULL_ERROR,
    "gradio6/concurrency/maxsize2-call-stream-1.txt": C,
    "gradio6/concurrency/maxsize2-call-stream-2.txt": C,
    "gradio6/concurrency/maxsize2-call-stream-3.txt": C,
}

QUEUE_STREAMS: dict[str, Expect] = {
    "gradio4/20-queue-success-data.txt": C,
    "gradio4/22-queue-gr_error-data.txt": Expect(JobFailedError, GR_ERROR),
    "gradio4/23-queue-exception-data.txt": NULL_ERROR,
    "gradio4/24-get-queue-data-queued-heartbeat.txt": C,
    "gradio4/26-queue-quota-data.txt": Expect(QuotaExceededError, QUOTA_TEXT),
    "gradio4/27-queue-info-toast-data.txt": C,
    "gradio4/28-queue-out-of-range-data.txt": C,  # 4.44 has no range check
    "gradio4/50-get-queue-data-cancelled.txt": Expect(JobCancelledError),
    "gradio5/20-queue-success-data.txt": C,
    "gradio5/23-queue-exception-data.txt": NULL_ERROR,
    "gradio5/26-queue-quota-data.txt": Expect(QuotaExceededError, QUOTA_TEXT),
    "gradio5/28-queue-out-of-range-data.txt": Expect(
        InputRejectedError, "Value 5000 is greater than maximum value 2048."
    ),
    "gradio6/21-get-queue-data-success.txt": C,
    "gradio6/22-get-queue-data-gr_error.txt": Expect(JobFailedError, GR_ERROR),
    "gradio6/23-get-queue-data-exception.txt": NULL_ERROR,
    "gradio6/24-get-queue-data-queued-heartbeat.txt": C,
    "gradio6/26-queue-quota-data.txt": Expect(QuotaExceededError, QUOTA_TEXT),
    "gradio6/27-get-queue-data-unknown-session.txt": UNKNOWN_JOB,
    "gradio6/27-queue-info-toast-data.txt": C,
    "gradio6/28-get-queue-data-out-of-range.txt": Expect(
        InputRejectedError, "Value 4096 is greater than maximum value 2048."
    ),
    "gradio6/29-get-queue-data-by-api-name.txt": UNKNOWN_JOB,
    "gradio6/50-get-queue-data-cancelled.txt": Expect(JobCancelledError),
    **{f"gradio6/concurrency/cl{n}-data-{i}.txt": C for n in (1, 2) for i in (1, 2, 3, 4)},
    **{f"gradio6/concurrency/maxsize2-data-{i}.txt": C for i in (1, 2, 3)},
    "gradio6/concurrency/maxsize2-data-4.txt": UNKNOWN_JOB,
}


def _prefix(name: str) -> str:
    return "" if name.startswith("gradio4/") else "/gradio_api"


def _queue_event_id(name: str) -> str:
    for _, data in sse_blocks(body_of(name)):
        event_id = json.loads(data).get("event_id")
        if isinstance(event_id, str):
            return event_id
    return "0" * 32


def _steps(name: str) -> list[Step | Exception]:
    """Decode every block of a transcript; a raised `ProtocolError` ends the list."""
    queue = name in QUEUE_STREAMS
    context = job(_queue_event_id(name) if queue else "e" * 32, prefix=_prefix(name))
    steps: list[Step | Exception] = []
    for event, data in sse_blocks(body_of(name)):
        try:
            steps.append(
                decode_queue(data, context) if queue else decode_call(event, data, context)
            )
        except ProtocolError as exc:
            steps.append(exc)
            break
    return steps


def _outcome(steps: list[Step | Exception]) -> Completed | Exception | None:
    for step in steps:
        if isinstance(step, (Completed, Exception)):
            return step
    return None


def test_every_stream_transcript_is_covered() -> None:
    found: set[str] = set()
    for path in transcripts_dir().rglob("*.txt"):
        name = path.relative_to(transcripts_dir()).as_posix()
        if "text/event-stream" in load(name).headers.get("content-type", ""):
            found.add(name)
    assert found == set(CALL_STREAMS) | set(QUEUE_STREAMS)
    assert not set(CALL_STREAMS) & set(QUEUE_STREAMS)


@pytest.mark.parametrize("name", sorted({**CALL_STREAMS, **QUEUE_STREAMS}))
def test_transcript_outcome(name: str) -> None:
    expect = {**CALL_STREAMS, **QUEUE_STREAMS}[name]
    steps = _steps(name)
    outcome = _outcome(steps)
    if expect.outcome is None:
        assert outcome is None
        assert all(step is None for step in steps)
        return
    assert type(outcome) is expect.outcome
    if isinstance(outcome, Completed):
        output = output_of(name)
        assert outcome.generation.url == output.url
        assert outcome.generation.path == output.path
        assert outcome.generation.seed == output.seed
        assert outcome.generation.request == sample_request()
    if isinstance(outcome, ResponseError) and expect.message is not ANY:
        assert outcome.message == expect.message
    if isinstance(outcome, QuotaExceededError):
        assert "Try again in 0:07:13" in body_of(name)
        assert outcome.retry_after == datetime.timedelta(minutes=7, seconds=13)
    # Queue streams end with close_stream right after the job's last message.
    if name in QUEUE_STREAMS and "close_stream" in body_of(name):
        assert steps[-1] is END
        assert [s for s in steps if s is not None][-2] is outcome


def test_g6_queue_success_sequence() -> None:
    steps = [s for s in _steps("gradio6/21-get-queue-data-success.txt") if s is not None]
    output = output_of("gradio6/21-get-queue-data-success.txt")
    eta = 1.210280418395996
    assert steps[:2] == [Queued(rank=0, queue_size=1, eta=eta), Started(eta=eta)]
    assert steps[2:8] == [Progress(step=i, total=6, unit="steps") for i in range(6)]
    completed = steps[8]
    assert isinstance(completed, Completed)
    assert completed.generation.seed == 1234
    assert completed.generation.path == output.path
    assert completed.generation.url == (
        "http://127.0.0.1:7860/gradio_api/file=/tmp/gradio/"
        "4cf3d8da56840b5393c74704c407eb5107b7650d9c4f21e474271d6980cfc020/image.webp"
    )
    assert steps[9:] == [END]


def test_queue_rank_and_unknown_eta() -> None:
    steps = _steps("gradio6/concurrency/cl1-data-4.txt")
    queued = [s for s in steps if isinstance(s, Queued)]
    assert queued == [
        Queued(rank=2, queue_size=3, eta=None),
        Queued(rank=1, queue_size=2, eta=16.83237385749817),
        Queued(rank=0, queue_size=1, eta=11.219408988952637),
    ]


@pytest.mark.parametrize(
    ("name", "title", "warning_title"),
    [
        ("gradio6/27-queue-info-toast-data.txt", "ZeroGPU queue", "Warning"),
        ("gradio4/27-queue-info-toast-data.txt", None, None),
    ],
)
def test_log_toasts(name: str, title: str | None, warning_title: str | None) -> None:
    logs = [s for s in _steps(name) if isinstance(s, Log)]
    assert logs == [
        Log(level="info", message="Waiting for a GPU to become available", title=title),
        Log(level="warning", message="Replica warning toast", title=warning_title),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "gradio6/24-get-queue-data-queued-heartbeat.txt",
        "gradio4/24-get-queue-data-queued-heartbeat.txt",
    ],
)
def test_queue_heartbeats_are_skipped(name: str) -> None:
    heartbeats = body_of(name).count('"msg":"heartbeat"')
    assert heartbeats == 4
    assert _steps(name).count(None) == heartbeats


def test_call_heartbeats_are_skipped() -> None:
    steps = _steps("gradio6/15-call-sleep-stream-heartbeat.txt")
    assert steps[:2] == [None, None]
    assert isinstance(steps[2], Completed)
    assert steps[2].generation.seed == 7
    assert decode_call("heartbeat", "null", job(EID)) is None


def test_empty_progress_data_is_skipped() -> None:
    assert (
        decode_queue(
            json.dumps({"msg": "progress", "event_id": EID, "progress_data": []}), job(EID)
        )
        is None
    )


def test_other_jobs_messages_are_skipped() -> None:
    other = job("f" * 32)
    steps = [
        decode_queue(d, other)
        for _, d in sse_blocks(body_of("gradio6/21-get-queue-data-success.txt"))
    ]
    assert steps[:-1] == [None] * (len(steps) - 1)
    assert steps[-1] is END


def test_other_jobs_error_is_skipped() -> None:
    failure = {
        "msg": "process_completed",
        "event_id": "f" * 32,
        "output": {"error": "boom"},
        "success": False,
    }
    assert decode_queue(json.dumps(failure), job(EID)) is None


@pytest.mark.parametrize(
    "message",
    [
        {"msg": "heartbeat", "event_id": None},
        {"msg": "process_generating", "event_id": EID, "output": {"data": []}, "success": True},
        {"msg": "process_streaming", "event_id": EID, "output": {"data": []}, "success": True},
        {"msg": "some_future_message", "event_id": EID, "x": 1},
        {"event_id": EID},
    ],
)
def test_unknown_queue_messages_are_skipped(message: dict[str, object]) -> None:
    assert decode_queue(json.dumps(message), job(EID)) is None


@pytest.mark.parametrize(
    ("event", "data"),
    [("heartbeat", "null"), ("generating", "[1, 2]"), ("mystery", '{"a": 1}'), ("message", "x")],
)
def test_unknown_call_events_are_skipped(event: str, data: str) -> None:
    assert decode_call(event, data, job(EID)) is None


def test_close_stream_is_end() -> None:
    assert decode_queue('{"msg":"close_stream","event_id":null}', job(EID)) is END


def test_cancelled_queue_job() -> None:
    message: dict[str, object] = {
        "msg": "process_completed",
        "event_id": EID,
        "output": {},
        "success": True,
    }
    step = decode_queue(json.dumps(message), job(EID))
    assert isinstance(step, JobCancelledError)
    assert step.payload == message


def test_cancelled_call_job() -> None:
    step = decode_call("complete", "null", job(EID))
    assert isinstance(step, JobCancelledError)
    assert step.payload is None


def test_null_error_on_call_is_job_failed_without_message() -> None:
    step = decode_call("error", "null", job(EID))
    assert type(step) is JobFailedError
    assert step.message is None
    assert step.title is None


def test_g6_dict_error_keeps_title_and_payload() -> None:
    data = (
        '{"error": "No GPU was available", "duration": 10, "visible": true, '
        '"title": "ZeroGPU client error"}'
    )
    step = decode_call("error", data, job(EID))
    assert type(step) is GPUUnavailableError
    assert step.message == "No GPU was available"
    assert step.title == "ZeroGPU client error"
    assert step.payload == json.loads(data)


def test_queue_error_title_falls_back_to_the_message_title() -> None:
    message = {
        "msg": "process_completed",
        "event_id": EID,
        "output": {"error": "Space app has reached its GPU limit."},
        "success": False,
        "title": "ZeroGPU quota exceeded",
    }
    step = decode_queue(json.dumps(message), job(EID))
    assert type(step) is QuotaExceededError
    assert step.title == "ZeroGPU quota exceeded"
    assert step.payload == message


@pytest.mark.parametrize(
    ("data", "cls", "message"),
    [
        ('"404: Not Found"', EndpointNotFoundError, "404: Not Found"),
        ('"404: Session not found."', EndpointNotFoundError, "404: Session not found."),
        ('"Server stopped unexpectedly."', JobFailedError, "Server stopped unexpectedly."),
        ('"Value 5000 is greater than maximum value 2048."', InputRejectedError, None),
    ],
)
def test_json_string_errors(data: str, cls: type[ResponseError], message: str | None) -> None:
    step = decode_call("error", data, job(EID))
    assert isinstance(step, ResponseError)
    assert type(step) is cls
    assert step.message == (message or json.loads(data))
    assert step.raw == json.loads(data)


def test_unexpected_error_message() -> None:
    message = {
        "msg": "unexpected_error",
        "event_id": None,
        "message": "404: Not Found",
        "session_not_found": True,
        "success": False,
    }
    step = decode_queue(json.dumps(message), job(EID))
    assert type(step) is EndpointNotFoundError
    assert step.payload == message


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("complete", "[{"),
        ("complete", ""),
        ("error", "{not json"),
        ("error", "42"),
        ("error", "[1, 2]"),
        ("complete", "[]"),
        ("complete", '[{"path": "/tmp/x.webp"}]'),
        ("complete", "[null, 3]"),
        ("complete", '["/tmp/x.webp", 3]'),
        ("complete", '[{"url": "http://x/y"}, 3]'),
        ("complete", '[{"path": ""}, 3]'),
        ("complete", '[{"path": "/tmp/x.webp"}, 1.7]'),
        ("complete", '[{"path": "/tmp/x.webp"}, true]'),
        ("complete", '[{"path": "/tmp/x.webp"}, "7"]'),
        ("complete", '{"data": []}'),
    ],
)
def test_malformed_call_payloads_are_protocol_errors(event: str, data: str) -> None:
    with pytest.raises(ProtocolError):
        decode_call(event, data, job(EID))


@pytest.mark.parametrize(
    "data",
    [
        "{not json",
        "",
        "[1, 2]",
        "null",
        '"text"',
        f'{{"msg":"process_completed","event_id":"{EID}","success":true}}',
        f'{{"msg":"process_completed","event_id":"{EID}","output":[1],"success":true}}',
        f'{{"msg":"process_completed","event_id":"{EID}","output":{{"data":null}},"success":true}}',
    ],
)
def test_malformed_queue_payloads_are_protocol_errors(data: str) -> None:
    with pytest.raises(ProtocolError):
        decode_queue(data, job(EID))


def _complete(image: dict[str, object], seed: object = 3) -> Completed:
    step = decode_call("complete", json.dumps([image, seed]), job(EID))
    assert isinstance(step, Completed)
    return step


def test_relative_url_is_resolved_against_the_base() -> None:
    completed = _complete({"path": "/tmp/x.webp", "url": "/gradio_api/file=/tmp/x.webp"})
    assert completed.generation.url == f"{BASE}/gradio_api/file=/tmp/x.webp"


@pytest.mark.parametrize("prefix", ["", "/gradio_api"])
@pytest.mark.parametrize("url", [None, ""])
def test_missing_url_is_built_from_the_path(prefix: str, url: str | None) -> None:
    image: dict[str, object] = {"path": "/tmp/gradio/abc/image.webp", "url": url}
    step = decode_call("complete", json.dumps([image, 3]), job(EID, prefix=prefix))
    assert isinstance(step, Completed)
    assert step.generation.url == f"{BASE}{prefix}/file=/tmp/gradio/abc/image.webp"
    assert step.generation.path == "/tmp/gradio/abc/image.webp"


def test_absent_url_is_built_from_the_path() -> None:
    assert (
        _complete({"path": "/tmp/y.webp"}).generation.url == f"{BASE}/gradio_api/file=/tmp/y.webp"
    )


def test_absolute_url_on_another_host_is_kept() -> None:
    url = "https://black-forest-labs-flux-1-schnell.hf.space/gradio_api/file=/tmp/z.webp"
    assert _complete({"path": "/tmp/z.webp", "url": url}).generation.url == url


def test_float_seed_that_is_an_integer_becomes_int() -> None:
    seed = _complete({"path": "/tmp/x.webp"}, 7.0).generation.seed
    assert seed == 7
    assert type(seed) is int


def test_large_seed_is_kept() -> None:
    assert _complete({"path": "/tmp/x.webp"}, 2147483647).generation.seed == 2147483647


def test_queue_completed_carries_the_request() -> None:
    steps = _steps("gradio5/20-queue-success-data.txt")
    completed = _outcome(steps)
    assert isinstance(completed, Completed)
    assert completed.generation.request == sample_request()
    assert completed.generation.seed == 1234


# -- generator yields: the first whole, the next ones as diffs (FLUX.1-dev, §12) ----------------


def _generating(data: list[object]) -> str:
    return json.dumps({"msg": "process_generating", "event_id": "e1", "output": {"data": data}})


def _image(name: str) -> dict[str, object]:
    return {"path": f"/tmp/{name}.webp", "url": f"{BASE}/gradio_api/file=/tmp/{name}.webp"}


def test_later_yields_are_diffs_of_the_one_before() -> None:
    context, outputs = job("e1"), GeneratorOutputs()
    steps = [
        _generating([_image("a"), 7]),
        _generating(
            [[["replace", ["path"], "/tmp/b.webp"], ["replace", ["url"], f"{BASE}/b"]], []]
        ),
        _generating([[["replace", ["path"], "/tmp/c.webp"]], [["replace", [], 8]]]),
    ]
    seen = [decode_queue(step, context, outputs) for step in steps]
    assert [preview.path for preview in seen if isinstance(preview, Preview)] == [
        "/tmp/a.webp",
        "/tmp/b.webp",
        "/tmp/c.webp",
    ]
    assert outputs.data == [{"path": "/tmp/c.webp", "url": f"{BASE}/b"}, 8]


@pytest.mark.parametrize(
    "diff",
    [
        [["replace", ["nope", "deeper"], 1]],
        [["explode", ["path"], 1]],
        [["replace", "path", 1]],
        [["append", ["path"], 3]],
    ],
)
def test_a_diff_that_does_not_fit_is_a_protocol_error(diff: object) -> None:
    context, outputs = job("e1"), GeneratorOutputs()
    decode_queue(_generating([_image("a"), 7]), context, outputs)
    with pytest.raises(ProtocolError):
        decode_queue(_generating([diff, []]), context, outputs)


def test_yields_sent_whole_are_read_whole() -> None:
    context, outputs = job("e1"), GeneratorOutputs()
    seen = [decode_queue(_generating([_image(name), 7]), context, outputs) for name in "abc"]
    assert [preview.path for preview in seen if isinstance(preview, Preview)] == [
        "/tmp/a.webp",
        "/tmp/b.webp",
        "/tmp/c.webp",
    ]
