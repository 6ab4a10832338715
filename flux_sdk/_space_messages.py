"""What the Space says when it fails or warns, and the prompt tags that make the replicas say it.

The one table of these texts: the local Space (``local/_app.py``, a real Gradio app) raises
them and the fake (``testing/``) sends them, so both say exactly the same thing. Standard library
only: ``local/_app.py`` runs under an interpreter that has Gradio but maybe not flux_sdk, and
loads this file by its path.

The ZeroGPU texts are those of the ``spaces`` package (0.51.3) for an API caller without a token.
"""

from __future__ import annotations

import re
from typing import Final, Literal, NamedTuple

__all__ = [
    "CRASH_TEXT",
    "DEFAULT_RETRY_AFTER",
    "ERROR_TEXT",
    "FAULT_TAGS",
    "GPU_TIMEOUT_MESSAGE",
    "GPU_TIMEOUT_TITLE",
    "INFO_TOASTS",
    "QUOTA_MESSAGE",
    "QUOTA_TITLE",
    "SLOW_STEP_DELAY",
    "ZEROGPU_ERRORS",
    "SpaceError",
    "Toast",
    "fault_tag",
    "quota_message",
]


class SpaceError(NamedTuple):
    """A ``gr.Error`` a ZeroGPU Space raises: its text and its title (sent on Gradio >= 5)."""

    message: str
    title: str


_TOKEN_HINT: Final = (
    "Authenticate with a Hugging Face token for more quota - https://huggingface.co/settings/tokens"
)
_EXAMPLES_RETRY: Final = "Try re-running outside of examples if it happened after clicking one"

ZEROGPU_ERRORS: Final = {
    "runs-limit": SpaceError(
        f"You have exceeded your ZeroGPU runs limit. {_TOKEN_HINT}", "ZeroGPU quota exceeded"
    ),
    "no-token": SpaceError(
        f"Space app has reached its GPU limit. {_EXAMPLES_RETRY}", "ZeroGPU quota exceeded"
    ),
    "pending-credits": SpaceError(
        "You have too many ZeroGPU credits allocated to running tasks. "
        "Try again once some of those tasks have completed.",
        "ZeroGPU pending credits exceeded",
    ),
    "illegal-duration": SpaceError(
        # "allowed" and "Subscribe" touch: so spaces 0.51.3 writes it.
        "The requested GPU duration (60s) is larger than the maximum allowed"
        "Subscribe to Hugging Face PRO to allow GPU tasks up to 40 min - "
        "https://huggingface.co/subscribe/pro?from=ZeroGPU",
        "ZeroGPU illegal duration",
    ),
    "daily-quota": SpaceError(
        # spaces 0.40-0.48 to a caller without a token on Gradio 4 ("runnning" is theirs).
        "Unlogged user is runnning out of daily ZeroGPU quotas. Signup for free on "
        "https://huggingface.co/join or login on https://huggingface.co/login to get more "
        "ZeroGPU quota now.",
        "ZeroGPU quota exceeded",
    ),
    "no-gpu": SpaceError("No GPU was available", "ZeroGPU client error"),
    "gpu-aborted": SpaceError("GPU task aborted", "ZeroGPU worker error"),
    "worker-crash": SpaceError("RuntimeError", "ZeroGPU worker error"),
}
"""The other ZeroGPU failures, by fault tag, as ``spaces`` 0.51.3 words them for an API caller
without a token (``daily-quota``: 0.40-0.48). See docs/errors.md for the class each lands in."""

FAULT_TAGS: Final = ("error", "quota", "gpu", "crash", "slow", "info", *ZEROGPU_ERRORS)
"""The prompt tags (``[error] text``, ``[quota]``...) that pick a failure when faults are on.

* ``[error] text``: ``gr.Error(text)`` (`ERROR_TEXT` without a text).
* ``[quota]``: ZeroGPU's quota error (`QUOTA_MESSAGE`, titled `QUOTA_TITLE` on Gradio >= 5).
* ``[gpu]``: ZeroGPU's queue timeout (`GPU_TIMEOUT_MESSAGE`, titled `GPU_TIMEOUT_TITLE`).
* ``[crash]``: a plain exception, its text (`CRASH_TEXT`) hidden as on the Space.
* ``[slow]``: `SLOW_STEP_DELAY` seconds per step, with progress (the fake has no real delay).
* ``[info]``: ZeroGPU's toasts (`INFO_TOASTS`), then success.
* ``[runs-limit]``, ``[no-token]``, ``[pending-credits]``, ``[illegal-duration]``,
  ``[daily-quota]``, ``[no-gpu]``, ``[gpu-aborted]``, ``[worker-crash]``: the ZeroGPU error
  of that name (`ZEROGPU_ERRORS`).
"""

DEFAULT_RETRY_AFTER: Final = "0:06:53"
"""When the quota error tells the caller to come back (the replicas' fixed value)."""

QUOTA_MESSAGE: Final = (
    "You have exceeded your free ZeroGPU quota (60s requested vs. 12s left). "
    "Try again in {retry_after}. Authenticate with a Hugging Face token for more quota - "
    "https://huggingface.co/settings/tokens"
)
"""ZeroGPU's quota error; ``{retry_after}`` is ``H:MM:SS`` (see `quota_message`)."""

QUOTA_TITLE: Final = "ZeroGPU quota exceeded"

GPU_TIMEOUT_MESSAGE: Final = (
    'No GPU was available after 60s. <a style="white-space: nowrap;text-underline-offset: 2px;'
    'color: var(--body-text-color)" href="https://huggingface.co/join">Create a free '
    "account</a> to get a higher priority in ZeroGPU queues."
)
"""ZeroGPU's queue timeout, HTML included, as the Space sends it."""

GPU_TIMEOUT_TITLE: Final = "ZeroGPU queue timeout"

ERROR_TEXT: Final = "Simulated error"
"""The ``gr.Error`` text of an ``[error]`` tag with no text after it."""

CRASH_TEXT: Final = "boom"
"""The ``[crash]`` exception's text; the Space hides it (``show_error=False``)."""

SLOW_STEP_DELAY: Final = 0.25
"""Seconds per step of the local Space for prompts tagged ``[slow]``."""


class Toast(NamedTuple):
    """A ``gr.Info``/``gr.Warning``/``gr.Success`` toast: its level, text and title."""

    level: Literal["info", "warning", "success"]
    message: str
    title: str


INFO_TOASTS: Final = (
    Toast("info", "Waiting for a GPU to become available", "ZeroGPU queue"),
    Toast("warning", "Falling back to IP-based quotas", "Warning"),
)
"""What an ``[info]`` job shows before it succeeds (Gradio 4 sends no titles)."""

_FAULT_TAG: Final = re.compile(r"\A\s*\[(" + "|".join(FAULT_TAGS) + r")\]\s*(.*)\Z", re.S)


def fault_tag(prompt: str) -> tuple[str, str] | None:
    """The tag at the start of ``prompt`` and the text after it, or None without a tag.

    Example:
        >>> fault_tag("[error] the model is on fire")
        ('error', 'the model is on fire')
    """
    match = _FAULT_TAG.match(prompt)
    return None if match is None else (match.group(1), match.group(2))


def quota_message(retry_after: str = DEFAULT_RETRY_AFTER) -> str:
    """ZeroGPU's quota error telling the caller to try again in ``retry_after`` (H:MM:SS)."""
    return QUOTA_MESSAGE.format(retry_after=retry_after)
