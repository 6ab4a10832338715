"""What a client keeps per event loop: its connection pool, its locks and its running calls.

httpx's connections, like anyio's primitives, belong to the event loop that made them. A client
used from a second loop (a second ``asyncio.run()``, a loop per thread, pytest's loop per test, a
forked child) gets a pool of its own there, and never reuses a connection of another loop. A
pool does not outlive its loop either: a loop that shuts down finalises the async generators it
started (PEP 525; ``asyncio.run`` and trio both do), and one of ours closes the pool then.

The calls running on a loop are registered here so that ``close()`` can cancel them: their jobs
are cancelled on the Space, and each caller gets `ClientClosedError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from types import TracebackType

import anyio
import httpx
from anyio.lowlevel import RunVar

from ._errors import ClientClosedError, FluxError

__all__ = ["CLOSED_WHILE_RUNNING", "Call", "LoopState", "Loops"]

# Bumped in a forked child: a state made before the fork holds the parent's sockets.
_process = 0
# The parent's states, kept alive in a child so that no finaliser ever runs there on the
# parent's sockets or event loop (closing them could end the parent's connections).
_inherited: list[object] = []
_all_loops: weakref.WeakSet[Loops] = weakref.WeakSet()

CLOSED_WHILE_RUNNING = "the client was closed while the call ran; its job was cancelled"


def _after_fork_in_child() -> None:
    global _process
    _process += 1
    for loops in list(_all_loops):
        _inherited.extend(loops.states)
        loops.states.clear()
        loops._states_lock = threading.Lock()  # pyright: ignore[reportPrivateUsage]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _task_starter() -> Callable[[Callable[[], Awaitable[None]]], None]:
    """A thread-safe way to start a task on the current event loop (asyncio or trio).

    It holds the loop weakly: the state that keeps it is stored per loop, and a strong
    reference would keep every loop a client ever ran on alive.
    """
    try:
        loop_ref = weakref.ref(asyncio.get_running_loop())
    except RuntimeError:
        import trio

        token_ref = weakref.ref(trio.lowlevel.current_trio_token())

        def on_trio(task: Callable[[], Awaitable[None]]) -> None:
            token = token_ref()
            if token is not None:
                token.run_sync_soon(lambda: trio.lowlevel.spawn_system_task(task))

        return on_trio

    def on_asyncio(task: Callable[[], Awaitable[None]]) -> None:
        loop = loop_ref()
        if loop is not None:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(task()))

    return on_asyncio


class LoopState:
    """One event loop's pool, config locks, running calls and open jobs."""

    def __init__(
        self, http: httpx.AsyncClient, *, close_transport_at_loop_end: bool, cleanup: float
    ) -> None:
        self.http = http
        self.process: int = _process
        self.calls: set[anyio.CancelScope] = set()
        # Jobs' event generators, also those suspended between events (no call running).
        self.jobs: weakref.WeakSet[AsyncGenerator[object, None]] = weakref.WeakSet()
        self.running_jobs: set[anyio.Event] = set()
        self.drained: anyio.Event | None = None
        self.ended: bool = False
        """The pool is closed: by ``close()``, or because the loop ended."""
        self.done: threading.Event = threading.Event()
        """Set once closed, for a closer on another loop or thread."""
        self._closing: anyio.Event | None = None
        self._locks: dict[str, anyio.Lock] = {}
        self._cleanup = cleanup
        self._start_task = _task_starter()
        self._close_at_loop_end = close_transport_at_loop_end
        self._closer: AsyncGenerator[None, bool] | None = self._closing_at_loop_end()
        # Started here, so that the loop knows it and finalises it when it shuts down.
        with contextlib.suppress(StopIteration):
            self._closer.__anext__().send(None)

    async def _closing_at_loop_end(self) -> AsyncGenerator[None, bool]:
        explicit = False
        try:
            explicit = yield
        finally:
            with anyio.CancelScope(shield=True):
                if not explicit:
                    # The loop is ending and finalising the jobs' generators too, at the same
                    # time: their cancels need the pool, so it closes after them.
                    await self.finish_jobs(anyio.current_time() + self._cleanup)
                # A user's own transport (http_transport=) is theirs to keep across loops.
                if explicit or self._close_at_loop_end:
                    with contextlib.suppress(Exception):
                        await self.http.aclose()
                self._ended()

    def _ended(self) -> None:
        self.ended = True
        # What refers to the loop goes, so that the loop can be collected once it is over.
        self._closer = None
        self.drained = self._closing = None
        self.done.set()

    def lock(self, key: str) -> anyio.Lock:
        """A lock for ``key`` (one per Space's config), made on this loop."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = anyio.Lock()
        return lock

    async def aclose(self) -> None:
        """Cancel the calls and jobs here (on the Space too), bounded, then close the pool.

        A second ``aclose()`` while the first works waits for it.
        """
        with anyio.CancelScope(shield=True):
            if self.ended:
                return
            if self._closing is not None:
                closing = self._closing
                with anyio.move_on_after(self._cleanup):
                    await closing.wait()
                return
            closing = self._closing = anyio.Event()
            try:
                deadline = anyio.current_time() + self._cleanup
                if self.calls:
                    drained = self.drained = anyio.Event()
                    for scope in list(self.calls):
                        scope.cancel()
                    with anyio.move_on_after(self._cleanup):
                        await drained.wait()
                await self.finish_jobs(deadline)
                closer = self._closer
                if closer is not None:
                    # RuntimeError: the loop's end is finalising it right now.
                    with contextlib.suppress(StopAsyncIteration, RuntimeError):
                        await closer.asend(True)
            finally:
                closing.set()

    async def finish_jobs(self, deadline: float) -> None:
        """End every job still open here (each cancels itself on the Space), by ``deadline``."""
        with anyio.move_on_after(max(deadline - anyio.current_time(), 0.0)):
            for job in list(self.jobs):
                # RuntimeError: being closed already (by the loop's end, or by its reader's
                # task); waited for below.
                with contextlib.suppress(RuntimeError):
                    await job.aclose()
            for ended in list(self.running_jobs):
                await ended.wait()

    def job_started(self) -> anyio.Event:
        """Mark a job as on the Space until `job_ended`: its clean-up needs the pool."""
        ended = anyio.Event()
        self.running_jobs.add(ended)
        return ended

    def job_ended(self, ended: anyio.Event) -> None:
        """The job is over, its cancel sent if it needed one."""
        self.running_jobs.discard(ended)
        ended.set()

    def close_soon(self) -> None:
        """From another loop or thread: close this loop's state on its own loop."""
        # The loop may have ended already; then nothing runs on it any more.
        with contextlib.suppress(Exception):
            self._start_task(self.aclose)


class Loops:
    """The `LoopState` of each event loop a client is used on; closed with the client."""

    def __init__(
        self, make_http: Callable[[], httpx.AsyncClient], *, owns_transport: bool, cleanup: float
    ) -> None:
        self._make_http = make_http
        self._owns_transport = owns_transport
        self._cleanup = cleanup
        self._var: RunVar[LoopState] = RunVar("flux_sdk.loop_state")
        self.states: list[LoopState] = []
        self._states_lock = threading.Lock()
        self.closed: bool = False
        _all_loops.add(self)

    def current(self) -> LoopState:
        """This loop's state, made on first use; a closed client makes none."""
        state = self._var.get(None)
        if state is not None and state.process == _process:
            return state
        if self.closed:
            raise ClientClosedError()
        state = LoopState(
            self._make_http(),
            close_transport_at_loop_end=self._owns_transport,
            cleanup=self._cleanup,
        )
        self._var.set(state)
        with self._states_lock:  # loops on other threads may be making theirs
            self.states[:] = [kept for kept in self.states if not kept.ended]
            self.states.append(state)
        return state

    def call(self) -> Call:
        """Guard one public call: see `Call`."""
        return Call(self)

    def close_now(self) -> None:
        """Refuse new calls (no loop needed); pools close with their loops."""
        self.closed = True

    def track(self, job: AsyncGenerator[object, None]) -> None:
        """Note a job's event generator, so that closing (or the loop's end) ends it first."""
        self.current().jobs.add(job)

    async def aclose(self) -> None:
        """Refuse new calls; on every loop, cancel the calls and jobs and close the pool.

        This loop's are closed here; other loops' on their own loops, waited for (bounded).
        """
        self.closed = True
        mine = self._var.get(None)
        with self._states_lock:
            others = [s for s in self.states if s is not mine and not s.ended]
        for state in others:
            state.close_soon()
        if mine is not None and mine.process == _process:
            await mine.aclose()
        if others:

            def wait_for_others() -> None:
                for state in others:
                    state.done.wait(self._cleanup)

            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(wait_for_others)


class Call:
    """One public call: refused on a closed client, cancelled by ``close()``.

    Cancelled by ``close()``, the call's own clean-up runs (its job is cancelled on the Space)
    and the caller gets `ClientClosedError`, as it does for anything else that breaks because
    the pool was closed under it.
    """

    __slots__ = ("_loops", "_scope", "_state")

    def __init__(self, loops: Loops) -> None:
        self._loops = loops
        self._scope = anyio.CancelScope()

    async def __aenter__(self) -> None:
        if self._loops.closed:
            raise ClientClosedError()
        self._state = self._loops.current()
        self._scope.__enter__()
        self._state.calls.add(self._scope)
        if self._loops.closed:  # closed meanwhile, by another thread: too late to join in
            self._scope.cancel()

    # The protocol's own signature, as every context manager in the package spells it.
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        state, scope = self._state, self._scope
        state.calls.discard(scope)
        swallowed = bool(scope.__exit__(exc_type, exc, tb))
        if state.drained is not None and not state.calls:
            state.drained.set()
        if not self._loops.closed:
            return
        # Only close() cancels this scope; anything else that broke because the pool closed
        # under it says so too.
        if swallowed or (isinstance(exc, Exception) and not isinstance(exc, FluxError)):
            raise ClientClosedError(CLOSED_WHILE_RUNNING) from exc
