"""Run one job in a chosen facade (asyncio, trio, or the sync client) and check it left nothing.

Every scenario ends in an `Outcome` (a result or the exception the SDK raised) within a hang
guard, and then must have left behind no open connection to the fault servers, no extra task
(async facades) and no extra thread (all facades; the sync client is closed).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import warnings
from collections.abc import AsyncGenerator, Collection, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import anyio
import psutil
import pytest

from flux_sdk import AsyncFluxClient, FluxClient, Generation, ProtocolName, Timeout
from flux_sdk._config import DEFAULT_MAX_RETRIES
from tests.faults._server import THREAD_PREFIX

Facade = Literal["asyncio", "trio", "sync"]
FACADES: tuple[Facade, ...] = ("asyncio", "trio", "sync")

GUARD = 20.0
"""A hang guard, not a timing assertion: every scenario ends long before this."""

PROMPT = "a red fox in fresh snow"
TOKEN = "hf_SECRETtokenDoNotLeak0123456789"
# Generous limits unless a scenario is about a limit: the guard must be what catches a hang.
TIMEOUT = Timeout(connect=5, idle=10, total=15, cancel=2)

E = TypeVar("E", bound=BaseException)


@dataclass(frozen=True)
class Scenario:
    """What to ask the client, and how it is configured."""

    protocol: ProtocolName = "queue"
    timeout: Timeout = TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    token: str | None = None
    download: bool = False
    save_to: Path | None = None
    max_download_bytes: int = 64 * 1024 * 1024
    discover: bool = False
    """Read ``GET /config`` before the job (a cold client reads it only when needed)."""


@dataclass
class Outcome:
    """How the scenario ended."""

    generation: Generation | None = None
    content: bytes | None = None
    saved: Path | None = None
    error: Exception | None = None
    repr_texts: list[str] = field(default_factory=list[str])
    """repr() and str() of the client, taken while it was open."""
    abandoned: list[str] = field(default_factory=list[str])
    """Async generators left unfinished and finalised by the loop (async facades)."""
    extra_tasks: int = 0
    """Tasks still running after the client closed (async facades)."""

    def assert_nothing_abandoned(self) -> None:
        assert self.abandoned == [], "async generators left unfinished for the garbage collector"
        assert self.extra_tasks == 0, "a task outlived the client"

    def raised(self, kind: type[E]) -> E:
        assert isinstance(self.error, kind), f"expected {kind.__name__}, got {self.error!r}"
        return self.error

    def succeeded(self) -> Generation:
        assert self.error is None, f"expected success, got {self.error!r}"
        assert self.generation is not None
        return self.generation


@contextlib.contextmanager
def abandoned_async_generators() -> Generator[list[str], None, None]:
    """Record the async generators the event loop had to finalise: started, never finished,
    then garbage-collected. Each costs a loop task (trio adds a ResourceWarning).

    The hook is read by a generator on its first iteration, so install this before the client
    runs; the list is complete once the block exits (it collects garbage first).
    """
    firstiter, finalizer = sys.get_asyncgen_hooks()
    found: list[str] = []

    def record(agen: AsyncGenerator[object, object]) -> None:
        name: str = getattr(agen, "__qualname__", type(agen).__name__)
        found.append(name)
        if finalizer is not None:
            # trio's finalizer also warns (ResourceWarning, an error under our filters, raised
            # inside the garbage collector); the list above already says it.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                finalizer(agen)

    sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=record)
    try:
        yield found
    finally:
        gc.collect()
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)


def open_connections(ports: Collection[int]) -> list[str]:
    """This process's TCP sockets connected *to* one of ``ports`` (the client's ends).

    A socket the client closed has no file descriptor left, so psutil does not list it, whatever
    its TCP state; the servers' own ends have the port as their local address, not remote.
    """
    return [
        f"{c.laddr} -> {c.raddr} {c.status}"
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port in ports
    ]


def _async_client(url: str, scenario: Scenario) -> AsyncFluxClient:
    # token "" means no token (not HF_TOKEN from the environment).
    return AsyncFluxClient(
        url,
        protocol=scenario.protocol,
        timeout=scenario.timeout,
        token=scenario.token or "",
        max_retries=scenario.max_retries,
        max_download_bytes=scenario.max_download_bytes,
        discover=scenario.discover,
    )


def _sync_client(url: str, scenario: Scenario) -> FluxClient:
    return FluxClient(
        url,
        protocol=scenario.protocol,
        timeout=scenario.timeout,
        token=scenario.token or "",
        max_retries=scenario.max_retries,
        max_download_bytes=scenario.max_download_bytes,
        discover=scenario.discover,
    )


async def _run_async(url: str, scenario: Scenario, ports: Collection[int]) -> Outcome:
    outcome = Outcome()
    tasks_before = len(anyio.get_running_tasks())
    try:
        with abandoned_async_generators() as abandoned, anyio.fail_after(GUARD):
            async with _async_client(url, scenario) as client:
                outcome.repr_texts += [repr(client), str(client)]
                try:
                    generation = outcome.generation = await client.generate(PROMPT)
                    if scenario.download:
                        outcome.content = await client.download(generation)
                    if scenario.save_to is not None:
                        outcome.saved = await client.save(generation, scenario.save_to)
                except Exception as exc:
                    outcome.error = exc
    except TimeoutError:
        pytest.fail(f"hang: the scenario did not end within the {GUARD} s guard")
    outcome.abandoned = abandoned
    outcome.extra_tasks = len(anyio.get_running_tasks()) - tasks_before
    assert open_connections(ports) == [], "a connection outlived the client"
    return outcome


def _run_sync(url: str, scenario: Scenario, ports: Collection[int]) -> Outcome:
    outcome = Outcome()
    crashed: list[BaseException] = []

    def scenario_thread() -> None:
        try:
            with _sync_client(url, scenario) as client:
                outcome.repr_texts += [repr(client), str(client)]
                try:
                    generation = outcome.generation = client.generate(PROMPT)
                    if scenario.download:
                        outcome.content = client.download(generation)
                    if scenario.save_to is not None:
                        outcome.saved = client.save(generation, scenario.save_to)
                except Exception as exc:
                    outcome.error = exc
        except BaseException as exc:
            crashed.append(exc)

    worker = threading.Thread(target=scenario_thread, name="fault-scenario", daemon=True)
    worker.start()
    worker.join(GUARD)
    if worker.is_alive():
        pytest.fail(f"hang: the scenario did not end within the {GUARD} s guard")
    if crashed:
        raise crashed[0]
    assert open_connections(ports) == [], "a connection outlived the client"
    return outcome


def run(
    facade: Facade,
    url: str,
    scenario: Scenario,
    *,
    ports: Collection[int],
    check_tasks: bool = True,
) -> Outcome:
    """Run ``scenario`` against ``url`` in ``facade``; ``ports`` are the servers involved.

    With ``check_tasks=False`` the test calls `Outcome.assert_nothing_abandoned` itself, last,
    so that a known leak does not hide its other assertions.
    """
    threads_before = set(threading.enumerate())
    if facade == "sync":
        outcome = _run_sync(url, scenario, ports)
    else:
        outcome = anyio.run(_run_async, url, scenario, ports, backend=facade)
    extra = [
        thread.name
        for thread in threading.enumerate()
        if thread not in threads_before
        and thread.is_alive()
        and not thread.name.startswith(THREAD_PREFIX)
        # anyio's and trio's worker threads (anyio.to_thread: save() writes files through
        # them) are cached by the runtime for reuse and end on their own: not the client's.
        and not thread.name.startswith(("Trio thread", "AnyIO worker thread"))
    ]
    assert extra == [], f"threads outlived the client: {extra}"
    assert open_connections(ports) == []
    if check_tasks:
        outcome.assert_nothing_abandoned()
    return outcome
