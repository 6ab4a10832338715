"""What the ``flux`` command says, and which status it exits with, for each failure.

Every exception class of the SDK (see the tree in `flux_sdk._errors`) has its own exit code and a
one-line message that says what to do next. `describe` is pure: it only reads the exception and
the `ErrorContext` of the command that failed, so the whole table is unit-tested.

This module is imported by ``flux_sdk._cli`` before the command line is parsed, so it imports
only the standard library and `flux_sdk._errors` (which is standard library only itself).
"""

from __future__ import annotations

import datetime
import enum
import math
from dataclasses import dataclass

from .._errors import (  # the whole tree: describe() gives each class its own exit code
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

__all__ = [
    "ErrorContext",
    "ExitCode",
    "Failure",
    "LocalSpaceError",
    "OutputError",
    "StartInterrupted",
    "Terminated",
    "UsageError",
    "describe",
    "exit_codes_text",
    "fitting_timeout",
    "format_duration",
]

_MAX_QUOTED = 300
"""The longest Space message quoted inside a one-line error."""


class ExitCode(enum.IntEnum):
    """The ``flux`` command's exit statuses (the table in ``docs/cli.md``)."""

    OK = 0
    ERROR = 1
    """Anything else: the file could not be written, the local Space did not start, ..."""
    USAGE = 2
    """A bad command line, or ``--url local`` without Gradio installed."""
    API_MISMATCH = 3
    """``flux info``: the Space's ``infer`` API differs from what flux-sdk sends."""
    INVALID_REQUEST = 4
    INPUT_REJECTED = 5
    QUOTA_EXCEEDED = 6
    RATE_LIMITED = 7
    QUEUE_FULL = 8
    GPU_UNAVAILABLE = 9
    JOB_FAILED = 10
    JOB_CANCELLED = 11
    ENDPOINT_NOT_FOUND = 12
    DOWNLOAD_FAILED = 13
    RESPONSE_ERROR = 14
    CONNECTION_ERROR = 15
    TIMEOUT = 16
    PROTOCOL_ERROR = 17
    SPACE_UNAVAILABLE = 18
    BATCH_INCOMPLETE = 19
    """``flux batch``: some prompts failed (when all failed the same way: that failure's code)."""
    MISSING_EXTRA = 20
    """An optional extra is not installed, e.g. Pillow for ``-o fox.png``; nothing was sent."""
    CLIENT_CLOSED = 21
    """The client was closed while the job ran; the ``flux`` command never does that itself."""
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT), after the job was cancelled on the Space."""
    TERMINATED = 143
    """SIGTERM (128 + SIGTERM), handled like Ctrl-C."""


EXIT_CODE_HELP: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.ERROR: "the file could not be written, the local Space did not start, ...",
    ExitCode.USAGE: "a bad command line, or --url local without Gradio",
    ExitCode.API_MISMATCH: "flux info: the Space's API differs from what flux-sdk sends",
    ExitCode.INVALID_REQUEST: "a value is out of range; nothing was sent",
    ExitCode.INPUT_REJECTED: "the Space's own validation refused a value",
    ExitCode.QUOTA_EXCEEDED: "ZeroGPU quota used up (a token gives more; see --wait-on-quota)",
    ExitCode.RATE_LIMITED: "HTTP 429: the Space is rate-limiting requests",
    ExitCode.QUEUE_FULL: "the Space's queue is full",
    ExitCode.GPU_UNAVAILABLE: "no ZeroGPU worker was free in time",
    ExitCode.JOB_FAILED: "the job failed on the Space",
    ExitCode.JOB_CANCELLED: "the job was cancelled on the Space",
    ExitCode.ENDPOINT_NOT_FOUND: "the Space has no infer endpoint (check it with flux info)",
    ExitCode.DOWNLOAD_FAILED: "the image could not be downloaded",
    ExitCode.RESPONSE_ERROR: "another refusal from the Space (e.g. HTTP 500)",
    ExitCode.CONNECTION_ERROR: "the Space could not be reached",
    ExitCode.TIMEOUT: "a time limit ran out (see --timeout)",
    ExitCode.PROTOCOL_ERROR: "the Space answered something flux-sdk does not understand",
    ExitCode.SPACE_UNAVAILABLE: "the Space is asleep, building or down (HTTP 502/503/504)",
    ExitCode.BATCH_INCOMPLETE: "flux batch: some prompts failed",
    ExitCode.MISSING_EXTRA: "an optional extra is missing, e.g. [pil] for -o fox.png",
    ExitCode.CLIENT_CLOSED: "the client was closed during the job (a bug: please report it)",
    ExitCode.INTERRUPTED: "Ctrl-C (a running job is cancelled on the Space first)",
    ExitCode.TERMINATED: "SIGTERM, handled like Ctrl-C",
}
"""One line per exit status, for ``flux --help`` (the longer table is in docs/cli.md)."""


def exit_codes_text() -> str:
    """The exit statuses as an aligned list, one per line (the end of ``flux --help``).

    Example:
        >>> exit_codes_text().splitlines()[1]
        '  0    success'
    """
    lines = ["exit statuses:"]
    lines += [f"  {int(code):<4} {EXIT_CODE_HELP[code]}" for code in ExitCode]
    return "\n".join(lines)


EXIT_CODES: dict[type[BaseException], ExitCode] = {
    InvalidRequestError: ExitCode.INVALID_REQUEST,
    InputRejectedError: ExitCode.INPUT_REJECTED,
    QuotaExceededError: ExitCode.QUOTA_EXCEEDED,
    RateLimitError: ExitCode.RATE_LIMITED,
    QueueFullError: ExitCode.QUEUE_FULL,
    SpaceUnavailableError: ExitCode.SPACE_UNAVAILABLE,
    GPUUnavailableError: ExitCode.GPU_UNAVAILABLE,
    JobFailedError: ExitCode.JOB_FAILED,
    JobCancelledError: ExitCode.JOB_CANCELLED,
    EndpointNotFoundError: ExitCode.ENDPOINT_NOT_FOUND,
    DownloadError: ExitCode.DOWNLOAD_FAILED,
    ResponseError: ExitCode.RESPONSE_ERROR,
    FluxConnectionError: ExitCode.CONNECTION_ERROR,
    FluxTimeoutError: ExitCode.TIMEOUT,
    ProtocolError: ExitCode.PROTOCOL_ERROR,
    MissingExtraError: ExitCode.MISSING_EXTRA,
    ClientClosedError: ExitCode.CLIENT_CLOSED,
    FluxError: ExitCode.ERROR,
}
"""Each SDK exception class's exit code; a subclass not listed takes its nearest base's."""

_OPTIONS = {
    "prompt": "PROMPT",
    "seed": "--seed",
    "randomize_seed": "--seed",
    "width": "--width",
    "height": "--height",
    "num_inference_steps": "--steps",
    "guidance_scale": "--guidance",
}
"""The command-line name of each `GenerateRequest` field."""

_TOKEN_HINT = "a Hugging Face token (--token or HF_TOKEN)"


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: the command stops as on Ctrl-C (cancels the job, stops a local Space)."""


class StartInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM arrived while the local Space was starting: nothing was submitted.

    Attributes:
        terminated: SIGTERM rather than Ctrl-C (the command exits 143, not 130).
    """

    def __init__(self, *, terminated: bool) -> None:
        super().__init__()
        self.terminated = terminated


class UsageError(Exception):
    """The command line is wrong, or the command cannot run in this environment."""


class LocalSpaceError(Exception):
    """The local Space (``--url local``, ``serve-local``) did not start or stopped early."""


class OutputError(Exception):
    """The image could not be written where ``-o`` says."""


@dataclass(frozen=True)
class ErrorContext:
    """What the failed command was doing, to make its error message precise.

    Attributes:
        url: The ``--url`` value (a URL, or ``"local"``).
        protocol: The ``--protocol`` value.
        token: Whether a Hugging Face token was in use (``--token`` or ``HF_TOKEN``).
        wait_on_quota: Whether ``--wait-on-quota`` was given.
        timeout: The job's time limit in seconds (``--timeout`` or the default), or None.
    """

    url: str = ""
    protocol: str = "auto"
    token: bool = False
    wait_on_quota: bool = False
    timeout: float | None = None


@dataclass(frozen=True)
class Failure:
    """How the command reports one failure.

    Attributes:
        exit_code: The process exit status.
        error: The exception's class name, e.g. ``"QuotaExceededError"``.
        message: One line that says what went wrong and what to do.
        retry_after: Seconds the Space asked us to wait, when it said.
    """

    exit_code: ExitCode
    error: str
    message: str
    retry_after: float | None = None

    def to_json(self) -> dict[str, object]:
        """The JSON object written to stderr in machine-readable mode."""
        body: dict[str, object] = {
            "error": self.error,
            "message": self.message,
            "exit_code": int(self.exit_code),
        }
        if self.retry_after is not None:
            body["retry_after"] = self.retry_after
        return body


def exit_code_for(exc: BaseException) -> ExitCode | None:
    """The exit code of ``exc``'s class or its nearest listed base; None if it is not ours."""
    for cls in type(exc).__mro__:
        code = EXIT_CODES.get(cls)
        if code is not None:
            return code
    return None


def describe(exc: BaseException, context: ErrorContext) -> Failure | None:
    """The exit code and one-line message for ``exc``; None for an exception we do not know.

    Args:
        exc: The exception a command raised.
        context: What the command was doing.

    Returns:
        The `Failure` to report, or None when ``exc`` is a bug rather than a failure (the
        caller lets it propagate with its traceback).

    Example:
        >>> describe(InvalidRequestError("width", 1000, "a multiple of 32"), ErrorContext()).message
        'invalid --width 1000: must be a multiple of 32'
    """
    name = type(exc).__name__
    if isinstance(exc, UsageError):
        return Failure(ExitCode.USAGE, name, _one_line(str(exc)))
    if isinstance(exc, (LocalSpaceError, OutputError)):
        return Failure(ExitCode.ERROR, name, _one_line(str(exc)))
    code = exit_code_for(exc)
    if code is None:
        return None
    retry_after = getattr(exc, "retry_after", None)
    seconds = retry_after.total_seconds() if isinstance(retry_after, datetime.timedelta) else None
    return Failure(code, name, _one_line(_message(exc, context)), seconds)


def format_duration(delta: datetime.timedelta) -> str:
    """A wait in words: ``"45 s"``, ``"6 min 53 s"``, ``"2 h 5 min"``.

    Example:
        >>> format_duration(datetime.timedelta(minutes=6, seconds=53))
        '6 min 53 s'
    """
    total = max(round(delta.total_seconds()), 0)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    return f"{seconds} s"


def _retry(exc: ResponseError, otherwise: str) -> str:
    """``"retry in 6 min 53 s"`` from ``retry_after``, else ``otherwise``."""
    if exc.retry_after is None:
        return otherwise
    return f"retry in {format_duration(exc.retry_after)}"


def _quoted(text: str | None) -> str:
    """The Space's own words, shortened to fit in one line."""
    if text is None:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= _MAX_QUOTED else text[: _MAX_QUOTED - 1] + "…"


def _message(exc: BaseException, context: ErrorContext) -> str:
    url = context.url or "the Space"
    if isinstance(exc, InvalidRequestError):
        option = _OPTIONS.get(exc.field, exc.field)
        return f"invalid {option} {exc.value!r}: must be {exc.constraint}"
    if isinstance(exc, InputRejectedError):
        return (
            f"the Space rejected an input ({_quoted(exc.message)}): "
            f"compare your values with `flux info --url {url}`"
        )
    if isinstance(exc, QuotaExceededError):
        text = f"ZeroGPU quota exceeded: {_retry(exc, 'retry later (the Space gave no time)')}"
        if context.wait_on_quota and exc.retry_after is not None:
            text = _quota_wait_message(exc.retry_after, context.timeout)
        return text if context.token else f"{text}, or use {_TOKEN_HINT} for more quota"
    if isinstance(exc, RateLimitError):
        return f"the Space is rate-limiting requests: {_retry(exc, 'retry in a minute')}"
    if isinstance(exc, QueueFullError):
        return f"the Space's queue is full: {_retry(exc, 'retry in a few minutes')}"
    if isinstance(exc, SpaceUnavailableError):
        status = f"HTTP {exc.status_code}" if exc.status_code is not None else "unavailable"
        return (
            f"the Space is asleep, building or down ({status}): "
            f"{_retry(exc, 'retry in a few minutes')}; opening its page wakes a sleeping Space"
        )
    if isinstance(exc, GPUUnavailableError):
        hint = "" if context.token else f"; {_TOKEN_HINT} gets a higher place in ZeroGPU's queue"
        return f"no GPU was free on the Space in time: {_retry(exc, 'retry in a minute')}{hint}"
    if isinstance(exc, JobFailedError):
        if exc.message:
            return f"the job failed on the Space: {_quoted(exc.message)}"
        if context.protocol == "call":
            return (
                "the job failed and the Space hid the error (the /call/ API sends no error text "
                "before Gradio 6.13): run again with --protocol queue to see the reason"
            )
        return (
            "the job failed and the Space hid the error (an unexpected error in its app; "
            "Gradio shows no details to API callers): retry, and if it fails again check the "
            "Space's page"
        )
    if isinstance(exc, JobCancelledError):
        return (
            "the job was cancelled on the Space before it produced an image: run the command again"
        )
    if isinstance(exc, EndpointNotFoundError):
        return (
            f"{url} has no `infer` endpoint, or forgot the job: check that --url is a "
            f"Space of the --space kind with `flux info --url {url}`"
        )
    if isinstance(exc, DownloadError):
        return (
            f"the image could not be downloaded ({_quoted(exc.message or str(exc))}): "
            "run the command again"
        )
    if isinstance(exc, ResponseError):
        return f"the Space refused the job ({_quoted(str(exc))}): {_retry(exc, 'retry later')}"
    if isinstance(exc, FluxConnectionError):
        return (
            f"cannot reach {url} ({_quoted(str(exc))}): check the URL, your network and "
            "any proxy settings"
        )
    if isinstance(exc, FluxTimeoutError):
        return _timeout_message(exc, url)
    if isinstance(exc, ClientClosedError):
        return f"the client was closed while the job ran ({_quoted(str(exc))}): report a bug"
    if isinstance(exc, MissingExtraError):
        if exc.extra == "pil":
            return f"{exc}, or save as .webp (the Space's own format, written as served)"
        return str(exc)
    if isinstance(exc, ProtocolError):
        return (
            f"the Space answered in a way flux-sdk does not understand ({_quoted(str(exc))}): "
            f"compare its API with `flux info --url {url}`, and report a bug"
        )
    return _quoted(str(exc)) or type(exc).__name__


def fitting_timeout(wait: datetime.timedelta) -> int:
    """A ``--timeout`` that fits ``wait`` and the job after it: a minute more, in whole minutes.

    Example:
        >>> fitting_timeout(datetime.timedelta(minutes=6, seconds=53))
        480
    """
    return math.ceil((wait.total_seconds() + 60) / 60) * 60


def _quota_wait_message(wait: datetime.timedelta, timeout: float | None) -> str:
    """``--wait-on-quota`` did not wait: the Space's wait does not fit in the time left."""
    limit = f"--timeout {timeout:g} s" if timeout is not None else "the time limit"
    return (
        f"ZeroGPU quota exceeded: the Space asks to wait {format_duration(wait)}, which does "
        f"not fit in what is left of {limit}, so --wait-on-quota did not wait: run again with "
        f"--timeout {fitting_timeout(wait)} (or more) to wait it out, or retry in "
        f"{format_duration(wait)}"
    )


def _timeout_message(exc: FluxTimeoutError, url: str) -> str:
    seconds = f"{exc.seconds:g} s"
    if exc.phase == "connect":
        return f"timed out after {seconds} connecting to {url}: check the URL and your network"
    if exc.phase == "idle":
        return (
            f"timed out: the Space sent nothing for {seconds} (it may be busy or restarting); "
            "retry later"
        )
    if exc.phase == "total":
        return (
            f"timed out: the job took more than {seconds} and was cancelled; retry later, or "
            "allow more time with --timeout"
        )
    return f"timed out after {seconds} cancelling the job on the Space; it may still run"


def _one_line(text: str) -> str:
    """The first line of ``text``: every message is one line, in every output mode."""
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else text
