"""What a fake job does: its outcome (`Result` or `Fail`), its `Notice` toasts, its steps.

Scripts are plain frozen values; `FakeSpace` turns them into Gradio messages for the Gradio line
it emulates. The prompt fault tags of the local replica (``flux_sdk/local/_app.py``) map onto
the same values, from the same table (``flux_sdk/_space_messages.py``), so one scenario can
drive the fake and the real replica alike.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Final, Literal

from .. import _space_messages as messages

__all__ = [
    "Fail",
    "FailKind",
    "Notice",
    "NoticeLevel",
    "Outcome",
    "Result",
    "Script",
    "script_for_prompt",
]

FailKind = Literal["error", "quota", "gpu", "crash", "queue_full", "rate_limited", "unreachable"]
"""How a job fails; see the `Fail` constructors."""

NoticeLevel = Literal["info", "warning", "success"]
"""The level of a `Notice`, as ``gr.Info``, ``gr.Warning`` and ``gr.Success`` send it."""


@dataclass(frozen=True)
class Result:
    """The job succeeds.

    Attributes:
        seed: The seed the Space reports. None (the default) does what the Space does: the
            seed that was sent, or a random one when ``randomize_seed`` was true.
    """

    seed: int | None = None


@dataclass(frozen=True)
class Fail:
    """The job, or its submission, fails. Build one with a constructor, e.g. `Fail.quota`.

    In-stream failures (``error``, ``quota``, ``gpu``, ``crash``) arrive as Gradio error
    messages; submission failures (``queue_full``, ``rate_limited``, ``unreachable``) answer
    the ``queue/join`` or ``call/infer`` POST itself.

    Attributes:
        kind: What fails.
        message: The error text the app raised (None for a hidden exception).
        title: The Gradio error title (Gradio 5 and 6 send it; Gradio 4 has none).
        retry_after: Seconds for the HTTP ``Retry-After`` header (``rate_limited`` only).
    """

    kind: FailKind
    message: str | None = None
    title: str | None = None
    retry_after: float | None = None

    @classmethod
    def error(cls, message: str, *, title: str = "Error") -> Fail:
        """``raise gr.Error(message)`` in the app: the text reaches the client.

        Args:
            message: The error text.
            title: The error's title (``gr.Error(title=...)``, Gradio 5 and 6).
        """
        return cls("error", message, title)

    @classmethod
    def quota(cls, retry_after: str | datetime.timedelta = messages.DEFAULT_RETRY_AFTER) -> Fail:
        """ZeroGPU's "You have exceeded your free ZeroGPU quota ... Try again in H:MM:SS".

        Args:
            retry_after: When to try again, as ``"H:MM:SS"`` or a timedelta.
        """
        text = str(retry_after) if isinstance(retry_after, datetime.timedelta) else retry_after
        return cls("quota", messages.quota_message(text), messages.QUOTA_TITLE)

    @classmethod
    def gpu(cls) -> Fail:
        """ZeroGPU's queue timeout: "No GPU was available after 60s" (with its HTML link)."""
        return cls("gpu", messages.GPU_TIMEOUT_MESSAGE, messages.GPU_TIMEOUT_TITLE)

    @classmethod
    def crash(cls) -> Fail:
        """A plain exception in the app: the Space hides its text (``show_error=False``)."""
        return cls("crash")

    @classmethod
    def queue_full(cls) -> Fail:
        """The submission gets HTTP 503 "Queue is full", as with ``queue(max_size=...)``."""
        return cls("queue_full")

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> Fail:
        """The submission gets HTTP 429 (the Hugging Face proxy's rate limit).

        Args:
            retry_after: Seconds for the ``Retry-After`` header; None sends no header.
        """
        return cls("rate_limited", "Too Many Requests", retry_after=retry_after)

    @classmethod
    def unreachable(cls) -> Fail:
        """The submission never connects: the transport raises `httpx.ConnectError`."""
        return cls("unreachable")

    @property
    def at_submission(self) -> bool:
        """Whether this failure answers the submission instead of the job's stream."""
        return self.kind in ("queue_full", "rate_limited", "unreachable")


@dataclass(frozen=True)
class Notice:
    """A toast the app shows while the job runs (``gr.Info``, ``gr.Warning``, ``gr.Success``).

    It reaches queue-protocol clients as a ``log`` message; ``/call/`` streams drop it.

    Attributes:
        level: ``"info"``, ``"warning"`` or ``"success"``.
        message: The toast's text.
        title: Its title; Gradio 4 does not send titles.
    """

    level: NoticeLevel
    message: str
    title: str

    @classmethod
    def info(cls, message: str, *, title: str = "Info") -> Notice:
        """``gr.Info(message)``, e.g. ZeroGPU's "Waiting for a GPU to become available"."""
        return cls("info", message, title)

    @classmethod
    def warning(cls, message: str, *, title: str = "Warning") -> Notice:
        """``gr.Warning(message)``."""
        return cls("warning", message, title)

    @classmethod
    def success(cls, message: str, *, title: str = "Success") -> Notice:
        """``gr.Success(message)``."""
        return cls("success", message, title)


Outcome = Result | Fail
"""How a scripted job ends."""


@dataclass(frozen=True)
class Script:
    """One job's script: toasts first, then progress steps, then the outcome.

    Attributes:
        outcome: How the job ends.
        notices: Toasts sent when the job starts.
        steps: Progress steps before the outcome; None means ``num_inference_steps`` for a
            `Result` and none for a `Fail` (ZeroGPU fails before the function body runs).
        step_delay: Seconds per step; None means the fake's ``step_delay``.
    """

    outcome: Outcome = field(default_factory=Result)
    notices: tuple[Notice, ...] = ()
    steps: int | None = None
    step_delay: float | None = None


_INFO_NOTICES: Final = tuple(Notice(*toast) for toast in messages.INFO_TOASTS)


def script_for_prompt(prompt: str) -> Script | None:
    """The script the local replica's fault tags give ``prompt``, or None without a tag.

    ``[error] text``, ``[quota]``, ``[gpu]``, ``[crash]``, ``[slow]`` and ``[info]`` behave as
    in ``flux_sdk.local`` with faults on (``[slow]``: `SLOW_STEP_DELAY` real seconds a step);
    the tags and texts are ``flux_sdk/_space_messages.py``'s.
    """
    match = messages.fault_tag(prompt)
    if match is None:
        return None
    tag, text = match
    if tag == "error":
        return Script(Fail.error(text or messages.ERROR_TEXT))
    if tag == "quota":
        return Script(Fail.quota())
    if tag == "gpu":
        return Script(Fail.gpu())
    if tag in messages.ZEROGPU_ERRORS:
        error = messages.ZEROGPU_ERRORS[tag]
        return Script(Fail.error(error.message, title=error.title))
    if tag == "crash":
        return Script(Fail.crash())
    if tag == "info":
        return Script(Result(), notices=_INFO_NOTICES)
    return Script(Result(), step_delay=messages.SLOW_STEP_DELAY)
