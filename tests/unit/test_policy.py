"""`flux_sdk._policy`: for each failure, retry, fail over, rest, wait, or give up (pure)."""

from __future__ import annotations

import datetime

import httpx
import pytest

from flux_sdk import (
    EndpointNotFoundError,
    FluxConnectionError,
    FluxError,
    GPUUnavailableError,
    InputRejectedError,
    JobFailedError,
    ProtocolError,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    SpaceUnavailableError,
)
from flux_sdk._policy import (
    DEFAULT_QUOTA_REST,
    UNREACHABLE_REST,
    fails_over,
    quota_wait,
    rediscovers,
    rest_for,
    retry_delay,
)

MINUTE = datetime.timedelta(minutes=1)


def quota(retry_after: datetime.timedelta | None = MINUTE) -> QuotaExceededError:
    return QuotaExceededError("You have exceeded your GPU quota", retry_after=retry_after)


# -- a request: sent again only when that cannot run the job twice -----------------------------


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (httpx.ConnectError("refused"), False, True),
        (httpx.ConnectTimeout("slow"), False, True),
        # It may have reached the Space: only a request that changes nothing goes again.
        (httpx.ReadError("reset"), False, False),
        (httpx.ReadError("reset"), True, True),
        (httpx.RemoteProtocolError("bad"), False, False),
        (ResponseError("busy", status_code=429), False, True),
        (ResponseError("bad gateway", status_code=502), False, True),
        (ResponseError("unavailable", status_code=503), False, True),
        (ResponseError("timeout", status_code=504), False, True),
        (ResponseError("server error", status_code=500), False, False),
        (ResponseError("server error", status_code=500), True, False),
        (ResponseError("not found", status_code=404), False, False),
    ],
)
def test_which_requests_are_sent_again(
    error: httpx.TransportError | ResponseError, idempotent: bool, retried: bool
) -> None:
    delay = retry_delay(error, 0, 2, idempotent=idempotent, jitter=1.0)
    assert (delay is not None) is retried


def test_a_retry_after_is_the_delay() -> None:
    error = ResponseError("slow down", status_code=429, retry_after=datetime.timedelta(seconds=7))
    assert retry_delay(error, 0, 2, idempotent=False, jitter=0.5) == 7.0


def test_no_retry_past_max_retries() -> None:
    error = httpx.ConnectError("refused")
    assert retry_delay(error, 2, 2, idempotent=True, jitter=1.0) is None


# -- a job: another Space of the pool, a rest, a wait ------------------------------------------


@pytest.mark.parametrize(
    ("error", "moves"),
    [
        (quota(), True),
        (GPUUnavailableError("No GPU was available"), True),
        (QueueFullError("queue full"), True),
        (RateLimitError("slow down", status_code=429), True),
        (SpaceUnavailableError("sleeping", status_code=503), True),
        (FluxConnectionError("refused"), True),
        # The job ran and failed, or the request is wrong: another Space would say the same.
        (JobFailedError("it broke"), False),
        (InputRejectedError("too wide"), False),
        (ProtocolError("garbled"), False),
        (EndpointNotFoundError("no infer"), False),
    ],
)
def test_which_failures_move_a_job_to_the_next_space(error: FluxError, moves: bool) -> None:
    assert fails_over(error) is moves


@pytest.mark.parametrize("discovered", [True, False])
def test_a_missing_endpoint_rediscovers(discovered: bool) -> None:
    assert rediscovers(EndpointNotFoundError("gone", status_code=404), discovered=discovered)
    assert rediscovers(EndpointNotFoundError("gone"))


@pytest.mark.parametrize(
    ("error", "discovered", "again"),
    [
        # Gradio's answer to a /call/ name it does not know: only a Space not yet read may
        # simply not have it (the guess went by name); /config then says so.
        (ResponseError("Internal Server Error", status_code=500), False, True),
        (ResponseError("Internal Server Error", status_code=500), True, False),
        (ResponseError("Field required", status_code=422), False, False),
        (ResponseError("bad gateway", status_code=502), False, False),
        (QueueFullError("queue full", status_code=503), False, False),
        (quota(), False, False),
        (quota(), True, False),
        (FluxConnectionError("refused"), False, False),
        (FluxConnectionError("refused"), True, False),
        (ProtocolError("garbled"), False, False),
    ],
)
def test_what_else_rediscovers(error: FluxError, discovered: bool, again: bool) -> None:
    assert rediscovers(error, discovered=discovered) is again


def test_a_500_is_not_rediscovered_by_default() -> None:
    assert not rediscovers(ResponseError("Internal Server Error", status_code=500))


@pytest.mark.parametrize(
    ("error", "pool_size", "rest"),
    [
        (quota(datetime.timedelta(seconds=433)), 1, datetime.timedelta(seconds=433)),
        (quota(None), 1, DEFAULT_QUOTA_REST),
        (FluxConnectionError("refused"), 2, UNREACHABLE_REST),
        # Alone, an unreachable Space is still the only one to try.
        (FluxConnectionError("refused"), 1, None),
        (GPUUnavailableError("No GPU was available"), 2, None),
    ],
)
def test_how_long_a_space_rests(
    error: FluxError, pool_size: int, rest: datetime.timedelta | None
) -> None:
    assert rest_for(error, pool_size) == rest


@pytest.mark.parametrize(
    ("failures", "wait_on_quota", "remaining", "wait"),
    [
        ([quota(MINUTE), quota(2 * MINUTE)], True, 600.0, 60.0),
        ([quota(MINUTE)], False, 600.0, None),
        ([quota(MINUTE)], True, 30.0, None),  # the wait would not fit
        ([quota(None)], True, 600.0, None),  # no time to come back
        ([quota(MINUTE), FluxConnectionError("refused")], True, 600.0, None),
        ([], True, 600.0, None),
    ],
)
def test_when_wait_on_quota_waits(
    failures: list[FluxError], wait_on_quota: bool, remaining: float, wait: float | None
) -> None:
    assert quota_wait(failures, wait_on_quota=wait_on_quota, remaining=remaining) == wait
