"""Ctrl-C and SIGTERM while ``flux generate`` or ``flux batch`` runs on its event loop.

Both commands drive `AsyncFluxClient` on the main thread (``anyio.run``): no loop thread to
start, and no hop to it per call. A signal cancels the command's scope, so every job still
running is cancelled on the Space as it unwinds; the command then raises the interrupt itself
(`Terminated` for SIGTERM), and ``flux_sdk._cli.main`` reports it as it always has.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Generator

import anyio
from anyio.abc import TaskStatus

from ._errors import Terminated

__all__ = ["signals_restored", "watch_signals"]


@contextlib.contextmanager
def signals_restored() -> Generator[None, None, None]:
    """Put SIGINT's and SIGTERM's handlers back as they were, after the event loop used them.

    The loop resets a signal to its default when it stops listening to it, which for SIGTERM
    would mean dying at once instead of the command's own handling (see ``flux_sdk._cli``).
    """
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            # ValueError: not the main thread; TypeError: a handler not set from Python.
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)


async def watch_signals(
    scope: anyio.CancelScope,
    caught: list[KeyboardInterrupt],
    on_signal: Callable[[], None] | None = None,
    *,
    task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """Cancel ``scope`` at the first Ctrl-C or SIGTERM, and note which in ``caught``.

    Start it with ``await group.start(...)``: the command's handlers are in place before any
    job is sent. Where the loop cannot listen for signals (Windows, not the main thread), it
    returns at once, and Ctrl-C cancels the whole run instead, arriving as a
    `KeyboardInterrupt` out of ``anyio.run``.

    Args:
        scope: What a signal cancels: the command's jobs.
        caught: Gets the interrupt to raise once the jobs have unwound: `Terminated` for
            SIGTERM, `KeyboardInterrupt` for Ctrl-C.
        on_signal: Called at the first signal (e.g. to say on the display what happens).
        task_status: anyio's, for ``group.start``.
    """
    started = False
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            task_status.started()
            started = True
            async for signum in signals:
                if not caught:
                    sigterm = signum == signal.SIGTERM
                    caught.append(Terminated() if sigterm else KeyboardInterrupt())
                    if on_signal is not None:
                        on_signal()
                    scope.cancel()
    except (NotImplementedError, RuntimeError, ValueError):
        if not started:
            task_status.started()
