"""Turn what a Space says about a failure into the right `ResponseError` subclass (pure)."""

from __future__ import annotations

import ast
import contextlib
import datetime
import html
import math
import re

from .._errors import (  # the classes a failure is classified into, by status and by text
    EndpointNotFoundError,
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
from ._json import as_list, as_object, loads

_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
# "Try again in 0:06:53" (spaces 0.30+), "retry in 0:06:53" (0.26-0.28), §6: Python's
# str(timedelta), so also "1 day, 2:03:04" and "0:07:13.250000".
_RETRY_IN = re.compile(
    r"(?:try again|retry) in (?:(\d+) days?, )?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?",
    re.IGNORECASE,
)
# ZeroGPU's toasts link their advice: HTML on Gradio 5 and 6 (<a href="...">Create a free
# account</a>), Markdown in the text variant Gradio 4 gets ([Create a free account](https://...)).
# The message keeps the link's text, as it reads; the URL stays in `raw`.
_MARKDOWN_LINK = re.compile(r"\[([^\[\]]+)\]\(https?://[^\s()]+\)")
# The Hub's rate limiter: `ratelimit: "api";r=0;t=55`, seconds until the window resets.
_RATELIMIT_RESET = re.compile(r";\s*t=(\d+)")
_INPUT_REJECTED = (
    "is greater than maximum value",
    "is less than minimum value",
    "didn't receive enough input values",
)
_JOB_UNKNOWN = ("404: not found", "404: session not found.")
# Every wording of "no GPU for this job now" across spaces 0.22-0.51 (§6), and ZeroGPU's own
# infrastructure failing; lower case.
_NO_GPU = (
    "no gpu was available",
    "no gpu is currently available",
    "gpu task aborted",
    "expired zerogpu proxy token",
    "internal infra error",
)
_GPU_TITLES = ("zerogpu queue timeout", "zerogpu client error")
# Every wording of "this account is out of ZeroGPU time": quota in GPU seconds, the runs
# limit, credits held by running tasks, a Space without the visitor's IP token; lower case.
_QUOTA_TEXTS = (
    "reached its gpu limit",
    "running out of daily zerogpu quota",
    "runnning out of daily zerogpu quota",  # sic: spaces 0.40-0.48
    "too many zerogpu credits",
)
_QUOTA_TITLES = ("zerogpu quota exceeded", "zerogpu pending credits exceeded")
_WORKER_TITLE = "zerogpu worker error"
_HTTP_ERRORS: dict[int, type[ResponseError]] = {
    404: EndpointNotFoundError,
    422: InputRejectedError,
    429: RateLimitError,
    502: SpaceUnavailableError,
    503: QueueFullError,
    504: SpaceUnavailableError,
}
_MAX_SUMMARY = 300
# A Retry-After beyond a day is not advice one can act on; it is capped there.
_MAX_RETRY_AFTER = 86_400.0


def normalise(raw: str | None) -> str | None:
    """Strip Gradio 4's wrapping quotes and ZeroGPU's HTML; None stays None (§4.2, §6)."""
    if raw is None:
        return None
    text = raw.strip()
    # Gradio 4.44's gr.Error.__str__ is repr(message): undo exactly that, and only that, so a
    # message that merely starts and ends with quotes ("'a' must not be 'b'") stays whole.
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        with contextlib.suppress(ValueError, SyntaxError, MemoryError, RecursionError):
            literal = ast.literal_eval(text)
            if isinstance(literal, str):
                text = literal
    if "<" in text:
        text = _TAG.sub("", text)
    if "](" in text:
        text = _MARKDOWN_LINK.sub(r"\1", text)
    if "&" in text:
        text = html.unescape(text)
    return _SPACES.sub(" ", text).strip()


def parse_retry_after(text: str | None) -> datetime.timedelta | None:
    """Read ZeroGPU's "Try again in H:MM:SS" (or "retry in ..."), if present.

    Any form of Python's ``str(timedelta)``: ``0:07:13``, ``1 day, 2:03:04``,
    ``0:07:13.250000``. A zero wait is None: spaces 0.40-0.48 send "Try again in 0:00:00" when
    the runs limit is reached, which says no usable time.

    Example:
        >>> parse_retry_after("Try again in 1 day, 2:03:04.5")
        datetime.timedelta(days=1, seconds=7384, microseconds=500000)
    """
    if not text:
        return None
    match = _RETRY_IN.search(text)
    if match is None:
        return None
    days, hours, minutes, seconds, fraction = match.groups()
    try:
        wait = datetime.timedelta(
            days=int(days or 0),
            hours=int(hours),
            minutes=int(minutes),
            seconds=int(seconds),
            microseconds=int((fraction or "0").ljust(6, "0")),
        )
    except OverflowError:  # more than a timedelta holds: no usable time
        return None
    return wait if wait > datetime.timedelta(0) else None


def classify(
    raw: str | None,
    *,
    title: str | None = None,
    payload: object = None,
) -> ResponseError:
    """Map an in-stream error (its text and Gradio title) to its exception."""
    message = normalise(raw)
    cls = _classify_text((message or "").lower(), (title or "").lower())
    retry_after = parse_retry_after(message) if cls is QuotaExceededError else None
    return cls(message, raw=raw, title=title, retry_after=retry_after, payload=payload)


def _classify_text(lowered: str, title: str) -> type[ResponseError]:
    # ZeroGPU's worker error carries either "GPU task aborted" or the class name of the app's
    # own exception (RuntimeError, OutOfMemoryError): the app crashed on a GPU it had.
    if title == _WORKER_TITLE:
        return GPUUnavailableError if "gpu task aborted" in lowered else JobFailedError
    # gradio's own workflow.py checks "no gpu was available" first: ZeroGPU titles a queue
    # timeout "quota exceeded" too (§6).
    if any(marker in lowered for marker in _NO_GPU) or title in _GPU_TITLES:
        return GPUUnavailableError
    if (
        title in _QUOTA_TITLES
        or ("exceeded your" in lowered and ("quota" in lowered or "runs limit" in lowered))
        or any(marker in lowered for marker in _QUOTA_TEXTS)
    ):
        return QuotaExceededError
    if any(marker in lowered for marker in _INPUT_REJECTED):
        return InputRejectedError
    if lowered in _JOB_UNKNOWN:
        return EndpointNotFoundError
    return JobFailedError


def classify_http(
    status_code: int,
    body: bytes,
    *,
    content_type: str = "",
    retry_after: str | None = None,
    ratelimit: str | None = None,
) -> ResponseError:
    """Map an HTTP error response (JSON detail, plain text or an HTML page) to its exception.

    ``retry_after`` is the ``Retry-After`` header; without one, the Hub's ``ratelimit`` header
    (``"api";r=0;t=55``) says when its window resets.
    """
    payload, raw = _read_body(body, content_type)
    message = normalise(raw) if raw is not None else None
    if message is not None and len(message) > _MAX_SUMMARY:
        message = message[: _MAX_SUMMARY - 1] + "…"
    cls = _HTTP_ERRORS.get(status_code, ResponseError)
    if cls is QueueFullError and "queue" not in (message or "").lower():
        # A 503 that is not Gradio's "Queue is full": the HF proxy's page for a Space that is
        # sleeping, building or paused.
        cls = SpaceUnavailableError
    return cls(
        message,
        raw=raw,
        status_code=status_code,
        retry_after=_parse_retry_after_header(retry_after)
        if retry_after is not None
        else _parse_ratelimit_header(ratelimit),
        payload=payload,
    )


def _read_body(body: bytes, content_type: str) -> tuple[object, str | None]:
    text = body.decode("utf-8", errors="replace").strip()
    if not text:
        return None, None
    if "json" in content_type or text[:1] in '{["':
        try:
            payload = loads(text)
        except ProtocolError:
            return text, text
        return payload, _json_message(payload) or text
    if "html" in content_type or text[:1] == "<":
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        if title and title.group(1).strip():
            return text, title.group(1).strip()
    return text, text


def _json_message(payload: object) -> str | None:
    if isinstance(payload, str):
        return payload
    body = as_object(payload)
    if body is None:
        return None
    for key in ("detail", "error", "message"):
        value = body.get(key)
        if isinstance(value, str):
            return value
        items = as_list(value)
        if items:
            # FastAPI's 422: a list of {"loc", "msg", ...}
            return "; ".join(str((as_object(item) or {}).get("msg", item)) for item in items)
    return None


def _parse_retry_after_header(value: str | None) -> datetime.timedelta | None:
    if value is None:
        return None
    try:
        seconds = float(value)
        if not math.isfinite(seconds):
            return None
        return datetime.timedelta(seconds=min(max(seconds, 0.0), _MAX_RETRY_AFTER))
    except ValueError:
        try:
            from email.utils import parsedate_to_datetime

            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        delta = when - datetime.datetime.now(datetime.timezone.utc)
        return min(max(delta, datetime.timedelta(0)), datetime.timedelta(seconds=_MAX_RETRY_AFTER))


def _parse_ratelimit_header(value: str | None) -> datetime.timedelta | None:
    match = _RATELIMIT_RESET.search(value or "")
    if match is None:
        return None
    return datetime.timedelta(seconds=min(float(match.group(1)), _MAX_RETRY_AFTER))
