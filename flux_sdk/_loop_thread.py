"""The sync facade's event loop: one thread, started on first use, ended with the client.

The thread is a daemon, so a client that is never closed does not keep the interpreter alive;
its finaliser (at garbage collection, or at exit) closes the client first, which cancels its
running jobs on the Space. In a forked child the parent's thread does not exist: the child starts
a thread of its own on first use and never touches the parent's.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from concurrent.futures import Future

import anyio
from anyio.from_thread import BlockingPortal

from ._errors import ClientClosedError

__all__ = ["LoopThread"]

_all_threads: weakref.WeakSet[LoopThread] = weakref.WeakSet()
# The parent's portals and threads, kept alive in a forked child so that nothing of them is
# finalised there.
_inherited: list[object] = []


def _after_fork_in_child() -> None:
    for loop in list(_all_threads):
        _inherited.append((loop._portal, loop._thread))  # pyright: ignore[reportPrivateUsage]
        loop._reset()  # pyright: ignore[reportPrivateUsage]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class LoopThread:
    """An event loop on a daemon thread, reached through an anyio `BlockingPortal`."""

    def __init__(self) -> None:
        self._reset()
        self._stopped = False
        _all_threads.add(self)

    def _reset(self) -> None:
        # Also in a forked child, where another thread may have held the lock.
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._thread: threading.Thread | None = None

    @property
    def started(self) -> bool:
        """Whether the thread runs (in this process)."""
        return self._portal is not None

    def in_loop(self) -> bool:
        """Whether the caller runs on this loop's own thread."""
        return self._thread is threading.current_thread()

    def running_portal(self) -> BlockingPortal | None:
        """The portal if the loop runs in this process, without starting it."""
        return self._portal

    def portal(self) -> BlockingPortal:
        """The running loop's portal, starting the thread on first use."""
        portal = self._portal
        if portal is not None:
            return portal
        with self._lock:
            if self._stopped:
                raise ClientClosedError()
            if self._portal is None:
                self._start()
            assert self._portal is not None
            return self._portal

    def _start(self) -> None:
        ready: Future[BlockingPortal] = Future()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                ready.set_result(portal)
                await portal.sleep_until_stopped()

        def main() -> None:
            try:
                anyio.run(serve)
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(exc)

        thread = threading.Thread(target=main, name="flux-sdk event loop", daemon=True)
        thread.start()
        self._portal = ready.result()
        self._thread = thread

    def stop(self, wait: float) -> None:
        """End the loop (cancelling what still runs) and the thread, for good."""
        with self._lock:
            self._stopped = True
            portal, thread = self._portal, self._thread
            self._portal = None
        if portal is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # already stopped
            portal.call(portal.stop, True)
        thread.join(wait)
