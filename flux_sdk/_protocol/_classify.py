"""Turn what a Space says about a failure into the right `ResponseError` subclass (pure)."""

from __future__ import annotations

import ast
import contextlib
import datetime
import html
import math
import re

from .._errors import (
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
# "Try again in 0:06:53" (current spaces) and "retry in 0:06:53" (older wording), §6.
_RETRY_IN = re.compile(r"(?:try again|retry) in (\d+):(\d\d):(\d\d)", re.IGNORECASE)
_INPUT_REJECTED = (
    "is greater than maximum value",
    "is less than minimum value",
    "didn't receive enough input values",
)
_JOB_UNKNOWN = ("404: not found", "404: session not found.")
_GPU_TITLES = ("zerogpu queue timeout", "zerogpu worker error", "zerogpu client error")
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
    if "&" in text:
        text = html.unescape(text)
    return _SPACES.sub(" ", text).strip()


def parse_retry_after(text: str | None) -> datetime.timedelta | None:
    """Read ZeroGPU's "Try again in H:MM:SS" (or "retry in ..."), if present."""
    if not text:
        return None
    match = _RETRY_IN.search(text)
    if match is None:
        return None
    hours, minutes, seconds = (int(part) for part in match.groups())
    try:
        return datetime.timedelta(hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:  # more hours than a timedelta holds: no usable time
        return None


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
    # gradio's own workflow.py checks "no gpu was available" first: ZeroGPU titles a queue
    # timeout "quota exceeded" too (§6).
    if "no gpu was available" in lowered or "gpu task aborted" in lowered or title in _GPU_TITLES:
        return GPUUnavailableError
    if (
        title.startswith("zerogpu quota")
        or title == "zerogpu pending credits exceeded"
        or ("exceeded your" in lowered and ("quota" in lowered or "runs limit" in lowered))
        or "reached its gpu limit" in lowered
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
) -> ResponseError:
    """Map an HTTP error response (JSON detail, plain text or an HTML page) to its exception."""
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
        retry_after=_parse_retry_after_header(retry_after),
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
