"""Real Gradio servers running the Space's replica (`flux_sdk.local`) on 127.0.0.1.

``FLUX_TEST_GRADIO`` names the interpreters to run them with, one per Gradio line
(``4=/path/python,5=...,6=...``; ``nox -s tests`` builds them). Without it, the test
environment's own gradio is used if it has one, else the integration tests are skipped, unless
``FLUX_REQUIRE_INTEGRATION=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
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
        return {label: python for label, python in pairs}
    if importlib.util.find_spec("gradio") is not None:
        return {"local": sys.executable}
    return {}


SERVERS = _interpreters()
"""Gradio line → the interpreter that runs its server."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
    if SERVERS:
        return
    if os.environ.get("FLUX_REQUIRE_INTEGRATION") == "1":
        raise pytest.UsageError("FLUX_REQUIRE_INTEGRATION=1 but FLUX_TEST_GRADIO names no server")
    skip = pytest.mark.skip(reason="no Gradio server available (set FLUX_TEST_GRADIO)")
    for item in items:
        if "integration" in str(item.path):
            item.add_marker(skip)


@pytest.fixture(scope="session", params=sorted(SERVERS) or ["none"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """One replica per Gradio line, shared by the session; fault switches on, steps instant.

    step_delay=0 keeps the suite fast, so this replica sends little progress: tests that need
    progress use [slow], and test_local_space.py checks a replica with the default delay.
    """
    label = str(request.param)
    with LocalSpace(python=SERVERS[label], faults=True, scale=16, step_delay=0) as space:
        yield Server(url=space.url, gradio=space.gradio_version)
