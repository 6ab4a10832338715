"""Real Gradio servers running the Space's replica (`flux_sdk.local`) on 127.0.0.1.

One place for every suite that needs them (integration, cli, g4f, lifecycle, zerogpu).
``FLUX_TEST_GRADIO`` names the interpreters to run them with, one per Gradio line
(``4=/path/python,5=...,6=...``; ``nox -s tests`` builds them). Without it, the test
environment's own gradio is used if it has one, else the tests that need a server are skipped,
unless ``FLUX_REQUIRE_INTEGRATION=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pytest

from flux_sdk.local import LocalSpace


@dataclass(frozen=True)
class Server:
    """A running replica and what the tests need to know about it."""

    url: str
    gradio: str
    """The Gradio version it runs, e.g. "6.31.0"."""

    @property
    def major(self) -> int:
        return int(self.gradio.split(".")[0])

    @property
    def call_has_error_text(self) -> bool:
        """Gradio >= 6.13 sends error text on /call/ streams; older lines send null (§3.4)."""
        major, minor = (int(part) for part in self.gradio.split(".")[:2])
        return (major, minor) >= (6, 13)


def _interpreters() -> dict[str, str]:
    configured = os.environ.get("FLUX_TEST_GRADIO", "")
    if configured:
        pairs = (item.split("=", 1) for item in configured.split(",") if item)
        return {label.strip(): python.strip() for label, python in pairs}
    if importlib.util.find_spec("gradio") is not None:
        return {"local": sys.executable}
    return {}


SERVERS = _interpreters()
"""Gradio line → the interpreter that runs its server."""
LABELS = sorted(SERVERS) or ["none"]
"""The parameters of a fixture with one server per Gradio line ("none": skipped)."""


def newest() -> str:
    """The newest Gradio line available (for suites that need one server, not every line)."""
    return max(SERVERS) if SERVERS else "none"


def replica(
    label: str, *, space: str = "flux-schnell", max_size: int | None = None
) -> Iterator[Server]:
    """Run the replica on ``label``'s Gradio line for as long as the generator is open.

    Fault tags on, images at 1/16 size, steps instant (``step_delay=0`` keeps the suites fast:
    a job that needs time uses ``[slow]``).
    """
    if label not in SERVERS:
        pytest.skip("no Gradio server available (set FLUX_TEST_GRADIO)")
    with LocalSpace(
        python=SERVERS[label], faults=True, scale=16, step_delay=0, space=space, max_size=max_size
    ) as running:
        yield Server(url=running.url, gradio=running.gradio_version)


def require_servers(items: Iterable[pytest.Item], needs: Callable[[pytest.Item], bool]) -> None:
    """Mark the tests that ``needs`` a server as integration; without servers, skip them (or,
    with ``FLUX_REQUIRE_INTEGRATION=1``, refuse to run)."""
    needing = [item for item in items if needs(item)]
    for item in needing:
        item.add_marker(pytest.mark.integration)
    if SERVERS or not needing:
        return
    if os.environ.get("FLUX_REQUIRE_INTEGRATION") == "1":
        raise pytest.UsageError("FLUX_REQUIRE_INTEGRATION=1 but FLUX_TEST_GRADIO names no server")
    skip = pytest.mark.skip(reason="no Gradio server available (set FLUX_TEST_GRADIO)")
    for item in needing:
        item.add_marker(skip)


def uses(*fixtures: str) -> Callable[[pytest.Item], bool]:
    """Whether a test uses any of ``fixtures``."""
    wanted = set(fixtures)
    return lambda item: bool(wanted & set(getattr(item, "fixturenames", ())))
