"""What ``flux generate`` and ``flux batch`` do between opening the display and connecting.

`open_session` ties the display to the command's `ExitStack`, routes the SDK's log to it, and
starts the local Space for ``--url local``; `client_for` makes the command's client.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack

from .._client import AsyncFluxClient
from .._config import DEFAULT_TIMEOUT
from ._args import LOCAL, JobFlags
from ._display import Display, LogHandler
from ._local import start_local_space

__all__ = ["client_for", "open_session"]


def open_session(stack: ExitStack, display: Display, options: JobFlags) -> str:
    """Show the SDK's log on ``display`` until ``stack`` closes; start the local Space if asked.

    Args:
        stack: The command's stack: it closes the display, restores the ``flux_sdk`` logger
            and stops the local Space.
        display: The open display.
        options: The command's `JobFlags`: ``--url``, ``--space`` (the local Space's kind),
            ``--verbose`` (the SDK's INFO log too, not only its warnings), ``--step-delay``.

    Returns:
        The URL to connect to; the display says it is connecting there.

    Raises:
        LocalSpaceError: The local Space did not start.
        StartInterrupted: Ctrl-C or SIGTERM while the local Space started.
    """
    stack.callback(display.close)
    # The SDK's warnings (retries, quota waits) go to the display, never to stderr as text.
    level = logging.INFO if options.verbose else logging.WARNING
    handler = LogHandler(display, level)
    sdk_logger = logging.getLogger("flux_sdk")
    stack.callback(sdk_logger.setLevel, sdk_logger.level)
    stack.callback(sdk_logger.removeHandler, handler)
    sdk_logger.addHandler(handler)
    sdk_logger.setLevel(level)
    url = options.url
    if url == LOCAL:
        display.status("starting the local Space")
        url = start_local_space(stack, space=options.space, step_delay=options.step_delay).url
    display.status(f"connecting to {url}")
    return url


def client_for(url: str, options: JobFlags) -> AsyncFluxClient:
    """The command's client for ``url``.

    It takes ``--space``, ``--token``, ``--ca-bundle``, ``--http2``, ``--protocol``,
    ``--timeout`` and ``--wait-on-quota`` from ``options``; the command enters it on its event
    loop.
    """
    return AsyncFluxClient(
        url,
        space=options.space,
        token=options.token,
        verify=True if options.ca_bundle is None else options.ca_bundle,
        http2=options.http2,
        protocol=options.protocol,
        timeout=DEFAULT_TIMEOUT if options.timeout is None else options.timeout,
        wait_on_quota=options.wait_on_quota,
    )
