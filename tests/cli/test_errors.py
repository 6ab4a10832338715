"""Each failure's exit code and one-line message (flux_sdk._cli._errors), for every class."""

from __future__ import annotations

import datetime
import inspect

import pytest

import flux_sdk._errors as errors
from flux_sdk import (
    ClientClosedError,
    DownloadError,
    EndpointNotFoundError,
    FluxConnectionError,
    FluxError,
    FluxTimeoutError,
    GPUUnavailableError,
    InputRejectedError,
    InvalidRequestError,
    JobCancelledError,
    JobFailedError,
    MissingExtraError,
    ProtocolError,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    SpaceUnavailableError,
)
from flux_sdk._cli._errors import (
    EXIT_CODES,
    ErrorContext,
    ExitCode,
    Failure,
    LocalSpaceError,
    OutputError,
    UsageError,
    describe,
    exit_code_for,
    fitting_timeout,
    format_duration,
)

SPACE = "http://127.0.0.1:7860"
CONTEXT = ErrorContext(url=SPACE)
RETRY = datetime.timedelta(minutes=6, seconds=53)

CASES: list[tuple[BaseException, ExitCode, list[str]]] = [
    (
        InvalidRequestError("width", 1000, "an integer multiple of 32 from 256 to 2048"),
        ExitCode.INVALID_REQUEST,
        ["--width 1000", "multiple of 32", "256", "2048"],
    ),
    (
        InvalidRequestError("num_inference_steps", 80, "an integer from 1 to 50"),
        ExitCode.INVALID_REQUEST,
        ["--steps 80", "from 1 to 50"],
    ),
    (
        InvalidRequestError("prompt", "", "a non-empty string"),
        ExitCode.INVALID_REQUEST,
        ["PROMPT", "non-empty"],
    ),
    (
        InputRejectedError("Value 4096 is greater than maximum value 2048."),
        ExitCode.INPUT_REJECTED,
        ["Value 4096", "flux info --url " + SPACE],
    ),
    (
        QuotaExceededError("You have exceeded your free ZeroGPU quota", retry_after=RETRY),
        ExitCode.QUOTA_EXCEEDED,
        ["quota", "retry in 6 min 53 s", "--token"],
    ),
    (
        QuotaExceededError("You have exceeded your ZeroGPU runs limit."),
        ExitCode.QUOTA_EXCEEDED,
        ["quota", "retry later"],
    ),
    (
        RateLimitError(
            "Too Many Requests", status_code=429, retry_after=datetime.timedelta(seconds=30)
        ),
        ExitCode.RATE_LIMITED,
        ["rate-limiting", "retry in 30 s"],
    ),
    (
        QueueFullError("Queue is full.", status_code=503),
        ExitCode.QUEUE_FULL,
        ["queue is full", "retry in a few minutes"],
    ),
    (
        SpaceUnavailableError("Service Unavailable", status_code=503),
        ExitCode.SPACE_UNAVAILABLE,
        ["asleep", "HTTP 503", "retry in a few minutes"],
    ),
    (
        GPUUnavailableError("No GPU was available after 60s."),
        ExitCode.GPU_UNAVAILABLE,
        ["no GPU", "retry", "--token"],
    ),
    (
        JobFailedError("CUDA out of memory"),
        ExitCode.JOB_FAILED,
        ["failed on the Space", "CUDA out of memory"],
    ),
    (
        JobFailedError(None),
        ExitCode.JOB_FAILED,
        ["hid the error", "retry"],
    ),
    (
        JobCancelledError("the job was cancelled"),
        ExitCode.JOB_CANCELLED,
        ["cancelled", "run the command again"],
    ),
    (
        EndpointNotFoundError("the Space has no endpoint named 'infer'"),
        ExitCode.ENDPOINT_NOT_FOUND,
        ["no `infer` endpoint", "flux info --url " + SPACE],
    ),
    (
        DownloadError("File not allowed", status_code=403),
        ExitCode.DOWNLOAD_FAILED,
        ["could not be downloaded", "File not allowed", "run the command again"],
    ),
    (
        ResponseError("Internal Server Error", status_code=500),
        ExitCode.RESPONSE_ERROR,
        ["refused", "HTTP 500", "retry later"],
    ),
    (
        FluxConnectionError("ConnectError: connection refused"),
        ExitCode.CONNECTION_ERROR,
        ["cannot reach " + SPACE, "connection refused", "check the URL"],
    ),
    (
        FluxTimeoutError("connect", 10.0),
        ExitCode.TIMEOUT,
        ["timed out", "10 s", "connecting to " + SPACE],
    ),
    (
        FluxTimeoutError("idle", 60.0),
        ExitCode.TIMEOUT,
        ["timed out", "nothing for 60 s", "retry later"],
    ),
    (
        FluxTimeoutError("total", 600.0),
        ExitCode.TIMEOUT,
        ["timed out", "600 s", "--timeout"],
    ),
    (
        FluxTimeoutError("cancel", 5.0),
        ExitCode.TIMEOUT,
        ["timed out", "cancelling"],
    ),
    (
        ProtocolError("malformed JSON from the Space: b'<html>'"),
        ExitCode.PROTOCOL_ERROR,
        ["does not understand", "malformed JSON", "flux info"],
    ),
    (
        MissingExtraError("pil", "Pillow", "-o fox.png (converting the Space's WebP to PNG)"),
        ExitCode.MISSING_EXTRA,
        ["-o fox.png", "needs Pillow", "pip install 'flux-sdk[pil]'", ".webp"],
    ),
    (ClientClosedError(), ExitCode.CLIENT_CLOSED, ["client was closed", "report a bug"]),
    (FluxError("something new"), ExitCode.ERROR, ["something new"]),
    (UsageError("the local Space needs Gradio"), ExitCode.USAGE, ["needs Gradio"]),
    (LocalSpaceError("the local Space did not start: boom"), ExitCode.ERROR, ["did not start"]),
    (OutputError("cannot write /x/fox.webp: No such file"), ExitCode.ERROR, ["cannot write"]),
]


@pytest.mark.parametrize(
    ("exc", "code", "phrases"),
    CASES,
    ids=[f"{type(case[0]).__name__}-{i}" for i, case in enumerate(CASES)],
)
def test_each_failure_has_its_code_and_a_one_line_message(
    exc: BaseException, code: ExitCode, phrases: list[str]
) -> None:
    failure = describe(exc, CONTEXT)
    assert failure is not None
    assert failure.exit_code == code
    assert failure.error == type(exc).__name__
    assert "\n" not in failure.message
    for phrase in phrases:
        assert phrase in failure.message


def _sdk_exception_classes() -> list[type[BaseException]]:
    return [
        cls
        for name in errors.__all__
        if inspect.isclass(cls := getattr(errors, name)) and issubclass(cls, BaseException)
    ]


def test_every_sdk_exception_class_has_its_own_exit_code() -> None:
    classes = _sdk_exception_classes()
    assert set(classes) == set(EXIT_CODES)
    codes = [EXIT_CODES[cls] for cls in classes]
    assert len(set(codes)) == len(codes)
    assert ExitCode.USAGE not in codes
    assert ExitCode.API_MISMATCH not in codes
    assert ExitCode.BATCH_INCOMPLETE not in codes
    assert ExitCode.OK not in codes


def test_every_sdk_exception_class_is_tested() -> None:
    tested = {type(exc) for exc, _, _ in CASES}
    assert set(_sdk_exception_classes()) <= tested


def test_a_subclass_takes_its_nearest_base_code() -> None:
    class SpecialQuota(QuotaExceededError):
        pass

    assert exit_code_for(SpecialQuota("x")) == ExitCode.QUOTA_EXCEEDED


def test_other_exceptions_are_bugs_not_failures() -> None:
    assert describe(KeyError("x"), CONTEXT) is None
    assert exit_code_for(ValueError("x")) is None


def test_quota_message_without_token_hint_when_a_token_is_used() -> None:
    exc = QuotaExceededError("quota", retry_after=RETRY)
    failure = describe(exc, ErrorContext(url=SPACE, token=True))
    assert failure is not None
    assert "--token" not in failure.message
    assert "retry in 6 min 53 s" in failure.message


@pytest.mark.parametrize("token", [False, True])
def test_wait_on_quota_that_did_not_wait_says_which_timeout_would_fit(token: bool) -> None:
    exc = QuotaExceededError("quota", retry_after=RETRY)
    context = ErrorContext(url=SPACE, token=token, wait_on_quota=True, timeout=30.0)
    failure = describe(exc, context)
    assert failure is not None
    assert failure.exit_code == ExitCode.QUOTA_EXCEEDED
    assert failure.retry_after == 413.0
    assert (
        "ZeroGPU quota exceeded: the Space asks to wait 6 min 53 s, which does not fit in what "
        "is left of --timeout 30 s, so --wait-on-quota did not wait: run again with "
        "--timeout 480 (or more) to wait it out, or retry in 6 min 53 s"
    ) in failure.message
    assert ("--token" in failure.message) is not token


def test_wait_on_quota_without_a_time_from_the_space_says_retry_later() -> None:
    context = ErrorContext(url=SPACE, wait_on_quota=True, timeout=30.0)
    failure = describe(QuotaExceededError("quota"), context)
    assert failure is not None
    assert "retry later (the Space gave no time)" in failure.message
    assert "--timeout" not in failure.message


@pytest.mark.parametrize(("seconds", "fits"), [(0, 60), (1, 120), (413, 480), (3600, 3660)])
def test_fitting_timeout_leaves_a_minute_for_the_job(seconds: int, fits: int) -> None:
    assert fitting_timeout(datetime.timedelta(seconds=seconds)) == fits
    assert fits > seconds + 59


def test_hidden_error_on_the_call_protocol_suggests_the_queue_protocol() -> None:
    failure = describe(JobFailedError(None), ErrorContext(url=SPACE, protocol="call"))
    assert failure is not None
    assert "hid the error" in failure.message
    assert "--protocol queue" in failure.message


def test_long_space_messages_are_shortened() -> None:
    failure = describe(JobFailedError("x" * 1000 + "\nsecond line"), CONTEXT)
    assert failure is not None
    assert len(failure.message) < 400
    assert "\n" not in failure.message


def test_json_form_carries_retry_after_in_seconds_only_when_known() -> None:
    quota = describe(QuotaExceededError("quota", retry_after=RETRY), CONTEXT)
    assert quota is not None
    assert quota.retry_after == 413.0
    body = quota.to_json()
    assert body["error"] == "QuotaExceededError"
    assert body["retry_after"] == 413.0
    assert body["exit_code"] == 6
    assert "retry" in str(body["message"])
    plain = Failure(ExitCode.JOB_FAILED, "JobFailedError", "failed").to_json()
    assert "retry_after" not in plain


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (60, "1 min"),
        (413, "6 min 53 s"),
        (3600, "1 h"),
        (7500, "2 h 5 min"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(datetime.timedelta(seconds=seconds)) == text
