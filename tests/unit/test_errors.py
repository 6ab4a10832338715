"""The error tree, its messages, and pickling (errors cross process boundaries)."""

from __future__ import annotations

import datetime
import pickle

import pytest

from flux_sdk import (
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
    ProtocolError,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
)

RESPONSE_ERRORS: list[type[ResponseError]] = [
    QuotaExceededError,
    GPUUnavailableError,
    QueueFullError,
    RateLimitError,
    InputRejectedError,
    JobFailedError,
    JobCancelledError,
    EndpointNotFoundError,
    DownloadError,
]


@pytest.mark.parametrize("cls", RESPONSE_ERRORS)
def test_response_errors_are_flux_errors(cls: type[ResponseError]) -> None:
    assert issubclass(cls, ResponseError)
    assert issubclass(cls, FluxError)
    assert not issubclass(cls, ValueError)


@pytest.mark.parametrize("cls", [FluxConnectionError, FluxTimeoutError, ProtocolError])
def test_other_errors_are_not_response_errors(cls: type[FluxError]) -> None:
    assert issubclass(cls, FluxError)
    assert not issubclass(cls, ResponseError)


def test_invalid_request_is_value_error() -> None:
    assert issubclass(InvalidRequestError, ValueError)
    assert issubclass(InvalidRequestError, FluxError)
    assert not issubclass(InvalidRequestError, ResponseError)


def test_response_error_str() -> None:
    assert str(QueueFullError("Queue is full.", status_code=503)) == "HTTP 503: Queue is full."
    assert str(JobFailedError(None, title="Error")) == "the Space gave no message"
    assert (
        str(QuotaExceededError("out", title="ZeroGPU quota exceeded"))
        == "ZeroGPU quota exceeded: out"
    )


def test_raw_defaults_to_message() -> None:
    assert JobFailedError("boom").raw == "boom"
    assert JobFailedError("boom", raw="'boom'").raw == "'boom'"


def test_timeout_error_attributes() -> None:
    error = FluxTimeoutError("idle", 60.0)
    assert (error.phase, error.seconds) == ("idle", 60.0)
    assert str(error) == "idle timeout after 60 s"


def _roundtrip(error: FluxError) -> FluxError:
    restored = pickle.loads(pickle.dumps(error))
    assert isinstance(restored, FluxError)
    assert type(restored) is type(error)
    assert str(restored) == str(error)
    assert restored.args == (str(error),)
    return restored


@pytest.mark.parametrize("cls", [*RESPONSE_ERRORS, ResponseError])
def test_response_errors_pickle(cls: type[ResponseError]) -> None:
    error = cls(
        "You have exceeded your quota. Try again in 0:06:53.",
        raw="'You have exceeded your quota. Try again in 0:06:53.'",
        title="ZeroGPU quota exceeded",
        status_code=503,
        retry_after=datetime.timedelta(minutes=6, seconds=53),
        payload={"output": {"error": "x"}, "success": False},
    )
    restored = _roundtrip(error)
    assert isinstance(restored, cls)
    assert restored.message == error.message
    assert restored.raw == error.raw
    assert restored.title == "ZeroGPU quota exceeded"
    assert restored.status_code == 503
    assert restored.retry_after == datetime.timedelta(minutes=6, seconds=53)
    assert restored.payload == {"output": {"error": "x"}, "success": False}


def test_response_error_without_message_pickles() -> None:
    restored = _roundtrip(JobFailedError(None))
    assert isinstance(restored, JobFailedError)
    assert restored.message is None
    assert restored.raw is None


def test_invalid_request_pickles() -> None:
    error = InvalidRequestError("width", 5000, "an integer multiple of 32 from 256 to 2048")
    restored = _roundtrip(error)
    assert isinstance(restored, InvalidRequestError)
    assert isinstance(restored, ValueError)
    assert (restored.field, restored.value, restored.constraint) == (
        "width",
        5000,
        "an integer multiple of 32 from 256 to 2048",
    )


def test_timeout_error_pickles() -> None:
    restored = _roundtrip(FluxTimeoutError("total", 0.5))
    assert isinstance(restored, FluxTimeoutError)
    assert (restored.phase, restored.seconds) == ("total", 0.5)


@pytest.mark.parametrize("cls", [FluxConnectionError, ProtocolError, FluxError])
def test_plain_errors_pickle(cls: type[FluxError]) -> None:
    restored = _roundtrip(cls("ConnectError: refused"))
    assert str(restored) == "ConnectError: refused"
