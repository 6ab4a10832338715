"""Every failure flux-sdk raises, in one tree.

```
FluxError
├── InvalidRequestError (also ValueError)  bad input, raised before any network I/O
├── ResponseError                          the Space refused or failed the job
│   ├── QuotaExceededError                 ZeroGPU quota; .retry_after
│   ├── GPUUnavailableError                no ZeroGPU worker in time, or the GPU task aborted
│   ├── QueueFullError                     HTTP 503, the Space's queue is full
│   ├── RateLimitError                     HTTP 429
│   ├── SpaceUnavailableError              HTTP 502/503/504: sleeping, building or unreachable app
│   ├── InputRejectedError                 the Space's own validation refused an input
│   ├── JobFailedError                     the app raised; .message is None if the Space hid it
│   ├── JobCancelledError                  the job was cancelled (by us or by the Space)
│   ├── EndpointNotFoundError              no `infer` endpoint, or an unknown job
│   └── DownloadError                      the result file could not be fetched
├── FluxConnectionError                    could not reach the Space
├── FluxTimeoutError                       connect, idle or total job time ran out; .phase
├── ProtocolError                          the Space sent something that breaks the protocol
├── ClientClosedError                      the client was closed (before or during the call)
└── MissingExtraError (also ImportError)   an optional extra is not installed; .extra
```

`ResponseError` keeps the name of the error the original gpt4free provider raised, so code that
caught it keeps working. Every `ResponseError` carries the normalised `message`, the `raw` text as
the Space sent it, its `title`, the HTTP `status_code` when there is one, and the decoded `payload`.
"""

from __future__ import annotations

import datetime
from typing import Literal

__all__ = [
    "ClientClosedError",
    "DownloadError",
    "EndpointNotFoundError",
    "FluxConnectionError",
    "FluxError",
    "FluxTimeoutError",
    "GPUUnavailableError",
    "InputRejectedError",
    "InvalidRequestError",
    "JobCancelledError",
    "JobFailedError",
    "MissingExtraError",
    "ProtocolError",
    "QueueFullError",
    "QuotaExceededError",
    "RateLimitError",
    "ResponseError",
    "SpaceUnavailableError",
    "TimeoutPhase",
]

JSON = object
"""A decoded JSON value (kept as ``object``: the payload is data, not API)."""

TimeoutPhase = Literal["connect", "idle", "total", "cancel"]


class FluxError(Exception):
    """Base class of every error flux-sdk raises."""

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructor arguments do not survive the default pickling, and errors
        # cross process boundaries (multiprocessing, concurrent.futures) often enough to care.
        return (_rebuild, (type(self), self.__dict__.copy(), str(self)))


def _rebuild(cls: type[FluxError], state: dict[str, object], text: str) -> FluxError:
    error = cls.__new__(cls)
    Exception.__init__(error, text)
    error.__dict__.update(state)
    return error


class InvalidRequestError(FluxError, ValueError):
    """An argument is out of range or of the wrong type; nothing was sent.

    Attributes:
        field: The name of the offending argument, e.g. ``"width"``.
        value: The value that was given.
        constraint: What is allowed, in words, e.g. ``"a multiple of 32 from 256 to 2048"``.
    """

    def __init__(self, field: str, value: object, constraint: str) -> None:
        self.field = field
        self.value = value
        self.constraint = constraint
        super().__init__(f"{field}={value!r} is invalid: must be {constraint}")


class ResponseError(FluxError):
    """The Space answered, and the answer is a refusal or a failure.

    Attributes:
        message: The Space's message, normalised (quotes and HTML stripped), or None when the
            Space hid it (Gradio does for unexpected exceptions unless the app sets show_error).
        raw: The message exactly as the Space sent it, or None.
        title: The Gradio error title (e.g. ``"ZeroGPU quota exceeded"``), when sent.
        status_code: The HTTP status code, when the failure was an HTTP response.
        retry_after: How long the Space asks us to wait before trying again (an HTTP
            ``Retry-After`` header, or ZeroGPU's "Try again in H:MM:SS"), or None.
        payload: The decoded body or stream message the error was read from.
        space_url: The base URL of the Space that answered (one of a pool's), or None when
            the error was not read from a Space's answer.
    """

    def __init__(
        self,
        message: str | None,
        *,
        raw: str | None = None,
        title: str | None = None,
        status_code: int | None = None,
        retry_after: datetime.timedelta | None = None,
        payload: JSON = None,
        space_url: str | None = None,
    ) -> None:
        self.message = message
        self.space_url = space_url
        self.retry_after = retry_after
        self.raw: str | None = raw if raw is not None else message
        self.title = title
        self.status_code = status_code
        self.payload = payload
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts: list[str] = []
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        if self.title and self.title != "Error":
            parts.append(self.title)
        parts.append(self.message if self.message is not None else "the Space gave no message")
        return ": ".join(parts)


class QuotaExceededError(ResponseError):
    """The caller's ZeroGPU quota is used up.

    ``retry_after`` is parsed from the Space's "Try again in H:MM:SS", or None when the message
    does not say. A Hugging Face token raises the quota (see the docs on authentication).
    """


class RateLimitError(ResponseError):
    """HTTP 429 from the Space or its proxy; ``retry_after`` comes from the header."""


class GPUUnavailableError(ResponseError):
    """No ZeroGPU worker was free in time, or the GPU task was aborted; retrying may work."""


class QueueFullError(ResponseError):
    """The Space's queue is full (HTTP 503); retry later."""


class SpaceUnavailableError(ResponseError):
    """The Space's proxy answered 502, 503 or 504: the app is asleep, building or down."""


class InputRejectedError(ResponseError):
    """The Space's own validation refused an input (e.g. "Value 5000 is greater than ...")."""


class JobFailedError(ResponseError):
    """The app failed while running the job; ``message`` is None when the Space hides it."""


class JobCancelledError(ResponseError):
    """The job was cancelled before it produced an image."""


class EndpointNotFoundError(ResponseError):
    """The Space has no `infer` endpoint at the expected route, or does not know the job."""


class DownloadError(ResponseError):
    """The generated image could not be downloaded (HTTP error, too large, or a refused URL)."""


class FluxConnectionError(FluxError):
    """The Space could not be reached (DNS, refused or reset connection, proxy failure)."""


class FluxTimeoutError(FluxError):
    """A time limit ran out.

    Attributes:
        phase: Which limit: ``"connect"``, ``"idle"`` (no event for that long), ``"total"``
            (the whole job), or ``"cancel"``.
        seconds: The limit that ran out, in seconds.
    """

    def __init__(self, phase: TimeoutPhase, seconds: float) -> None:
        self.phase = phase
        self.seconds = seconds
        super().__init__(f"{phase} timeout after {seconds:g} s")


class ProtocolError(FluxError):
    """The Space sent something that does not fit the Gradio protocol (e.g. malformed JSON)."""


class ClientClosedError(FluxError):
    """The client was closed: before the call, or while it ran (its job was cancelled).

    Raised by every call on a closed client, and by the calls still running when another thread
    or task closed it; their jobs are cancelled on the Space first.
    """

    def __init__(self, message: str = "the client is closed") -> None:
        super().__init__(message)


class MissingExtraError(FluxError, ImportError):
    """A feature needs an optional extra that is not installed; nothing was sent.

    Also an `ImportError`, so ``except ImportError`` around an optional feature catches it.

    Attributes:
        extra: The extra to install, e.g. ``"pil"``.
        package: What it installs, e.g. ``"Pillow"``.
        feature: What needed it, e.g. ``"converting images"``.

    Example:
        >>> str(MissingExtraError("pil", "Pillow", "converting images"))
        "converting images needs Pillow: pip install 'flux-sdk[pil]'"
    """

    def __init__(self, extra: str, package: str, feature: str) -> None:
        self.extra = extra
        self.package = package
        self.feature = feature
        super().__init__(f"{feature} needs {package}: pip install 'flux-sdk[{extra}]'")
