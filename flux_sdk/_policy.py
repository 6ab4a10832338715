"""What to do after a failure, in one place (pure): retry, fail over, rest, wait, or give up.

Two levels, because a failure means different things at each:

- **A request** (``/config``, a submission, a cancel) is sent again only when that cannot make
  the Space run the job twice: it never reached the Space, the Space said it did not take it
  (HTTP 429, 502, 503, 504, honouring ``Retry-After``), or repeating it changes nothing
  (``GET /config``). `retry_delay`.
- **A job** moves to the next Space of a pool when this one cannot take it now (quota, GPU,
  queue full, rate limit, unreachable: `fails_over`); a Space that answered "quota exceeded"
  rests until its ``retry_after``, one that could not be reached rests briefly (`rest_for`);
  when every Space is out of quota and says when to come back, ``wait_on_quota`` waits for the
  soonest (`quota_wait`). A submission answered 404 (or 500 before the Space was
  read) rediscovers the Space once (`rediscovers`).

Nothing here sleeps, reads a clock or draws a random number: the transport passes them in.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

import httpx

from ._errors import (
    EndpointNotFoundError,
    FluxConnectionError,
    FluxError,
    GPUUnavailableError,
    QueueFullError,
    QuotaExceededError,
    RateLimitError,
    ResponseError,
    SpaceUnavailableError,
)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Statuses after which a submission was certainly not accepted: rate limited, the queue is
full, or the HF proxy could not reach the app."""
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0
"""Exponential backoff between retries: 0.5 s, 1 s, 2 s... at most 8 s, before jitter."""
FAILOVER_ERRORS: tuple[type[FluxError], ...] = (
    QuotaExceededError,
    GPUUnavailableError,
    QueueFullError,
    RateLimitError,
    SpaceUnavailableError,
    FluxConnectionError,
)
"""Failures that say "this Space cannot take the job now", so another Space may: the job did
not run here (or, for a lost connection, cannot be followed any more)."""
DEFAULT_QUOTA_REST = datetime.timedelta(minutes=1)
"""How long a Space rests after a quota error that does not say when to come back."""
UNREACHABLE_REST = datetime.timedelta(seconds=10)
"""How long a Space of a pool rests once unreachable, so that each job does not pay a
connection timeout first."""


def retry_delay(
    error: httpx.TransportError | ResponseError,
    attempt: int,
    retries: int,
    *,
    idempotent: bool,
    jitter: float,
) -> float | None:
    """Seconds to wait before sending a request again, or None when it must not be re-sent.

    Args:
        error: How the request failed.
        attempt: Retries made so far (0 after the first failure).
        retries: The most retries allowed (``max_retries``).
        idempotent: Whether sending it twice changes nothing (``GET /config``).
        jitter: A fraction in [0.5, 1] scaling the backoff, so clients do not retry in step.

    Example:
        >>> retry_delay(httpx.ConnectError("refused"), 0, 2, idempotent=False, jitter=1.0)
        0.5
        >>> retry_delay(httpx.ReadError("reset"), 0, 2, idempotent=False, jitter=1.0) is None
        True
    """
    if attempt >= retries:
        return None
    if isinstance(error, ResponseError):
        if error.status_code not in RETRY_STATUSES:
            return None
        if error.retry_after is not None:
            return error.retry_after.total_seconds()
    # A request that never reached the Space is safe to send again; one that may have reached it
    # is only safe when repeating it changes nothing (GET /config): a second join could run, and
    # bill ZeroGPU quota for, the same job twice.
    elif not (idempotent or isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout))):
        return None
    return min(BACKOFF_CAP, BACKOFF_BASE * 2.0**attempt) * jitter


def rediscovers(error: FluxError, *, discovered: bool = True) -> bool:
    """Whether a submission's failure calls for reading ``/config`` (again), then one more try.

    A Space may have moved between Gradio lines (the ``/gradio_api`` prefix, §7.1), so the
    route it was sent to is gone (404). Before the Space has been read at all (``discovered``
    false: the job went to the guessed prefix, by name), a 500 also does: it is how Gradio
    answers a ``/call/`` name it does not know (an uncaught ``FnIndexInferError``), and
    ``/config`` then says so as `EndpointNotFoundError`.
    """
    if isinstance(error, EndpointNotFoundError):
        return True
    return not discovered and isinstance(error, ResponseError) and error.status_code == 500


def fails_over(error: BaseException) -> bool:
    """Whether a job that failed so may go to the next Space of a pool."""
    return isinstance(error, FAILOVER_ERRORS)


def rest_for(error: FluxError, pool_size: int) -> datetime.timedelta | None:
    """How long a Space rests after ``error``, or None if it does not.

    Until its ``retry_after`` after a quota error (a minute when it does not say); briefly
    when unreachable, in a pool of more than one Space (alone, there is nothing to prefer).
    """
    if isinstance(error, QuotaExceededError):
        return error.retry_after or DEFAULT_QUOTA_REST
    if isinstance(error, FluxConnectionError) and pool_size > 1:
        return UNREACHABLE_REST
    return None


def quota_wait(
    failures: Sequence[FluxError], *, wait_on_quota: bool, remaining: float
) -> float | None:
    """How long ``wait_on_quota`` waits before trying again, or None to give up now.

    Only when every Space answered "quota exceeded" with a time to come back, and the soonest
    of those fits in the job's ``remaining`` total time.
    """
    if not wait_on_quota or not failures:
        return None
    waits: list[float] = []
    for failure in failures:
        if not isinstance(failure, QuotaExceededError) or failure.retry_after is None:
            return None
        waits.append(failure.retry_after.total_seconds())
    wait = min(waits)
    return wait if wait < remaining else None


__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "DEFAULT_QUOTA_REST",
    "FAILOVER_ERRORS",
    "RETRY_STATUSES",
    "UNREACHABLE_REST",
    "fails_over",
    "quota_wait",
    "rediscovers",
    "rest_for",
    "retry_delay",
]
