"""What ``flux generate`` and ``flux batch`` do between opening the display and connecting.

`open_session` ties the display to the command's `ExitStack`, routes the SDK's log to it, and
starts the local Space for ``--space local``.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from typing import Protocol

from ._display import NoticeHandler
from ._local import start_local_space

__all__ = ["SessionDisplay", "open_session"]


class SessionDisplay(Protocol):
    """What `open_session` needs of a display (`Display` and `BatchDisplay` both fit)."""

    def status(self, text: str) -> None:
        """Show what the command is doing (starting, connecting)."""
        ...

    def notice(self, text: str, level: str) -> None:
        """Show a message that stays (an SDK warning)."""
        ...

    def close(self) -> None:
        """Remove the live part of the display; idempotent."""
        ...


def open_session(
    stack: ExitStack,
    display: SessionDisplay,
    *,
    space: str,
    model: str,
    verbose: bool,
    step_delay: float | None = None,
) -> str:
    """Show the SDK's log on ``display`` until ``stack`` closes; start the local Space if asked.

    Args:
        stack: The command's stack: it closes the display, restores the ``flux_sdk`` logger
            and stops the local Space.
        display: The open display.
        space: The Space's URL, or ``"local"``.
        model: ``"flux-schnell"`` or ``"flux-dev"``: the local Space's kind.
        verbose: Show the SDK's INFO log, not only its warnings.
        step_delay: The local Space's seconds per step; None for its default.

    Returns:
        The URL to connect to; the display says it is connecting there.

    Raises:
        LocalSpaceError: The local Space did not start.
        StartInterrupted: Ctrl-C or SIGTERM while the local Space started.
    """
    stack.callback(display.close)
    # The SDK's warnings (retries, quota waits) go to the display, never to stderr as text.
    level = logging.INFO if verbose else logging.WARNING
    handler = NoticeHandler(display, level)
    sdk_logger = logging.getLogger("flux_sdk")
    stack.callback(sdk_logger.setLevel, sdk_logger.level)
    stack.callback(sdk_logger.removeHandler, handler)
    sdk_logger.addHandler(handler)
    sdk_logger.setLevel(level)
    url = space
    if url == "local":
        display.status("starting the local Space")
        url = start_local_space(stack, model=model, step_delay=step_delay).url
    display.status(f"connecting to {url}")
    return url
