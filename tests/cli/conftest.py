"""Fixtures for the ``flux`` command's tests, and real local Spaces for its end-to-end tests.

The end-to-end tests follow the design of ``tests/integration/conftest.py``:
``FLUX_TEST_GRADIO`` names the interpreters that run the Space's replica (``flux_sdk.local``),
one per Gradio line (``4=/path/python,5=...,6=...``). Without it, this environment's own gradio
is used if it has one; else the tests that need a server are skipped, unless
``FLUX_REQUIRE_INTEGRATION=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flux_sdk.local import LocalSpace

_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Server:
    """A running replica of the Space."""

    url: str
    gradio: str
    """The Gradio version it runs, e.g. "6.31.0"."""


def _interpreters() -> dict[str, str]:
    configured = os.environ.get("FLUX_TEST_GRADIO", "")
    if configured:
        pairs = (item.split("=", 1) for item in configured.split(",") if item)
        return {label: python for label, python in pairs}
    if importlib.util.find_spec("gradio") is not None:
        return {"local": sys.executable}
    return {}


_SERVERS = _interpreters()
_SERVER_FIXTURES = {"server", "dev_server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needing = [
        item
        for item in items
        if item.path.is_relative_to(_HERE)
        and _SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
    ]
    for item in needing:
        item.add_marker(pytest.mark.integration)
    if _SERVERS or not needing:
        return
    if os.environ.get("FLUX_REQUIRE_INTEGRATION") == "1":
        raise pytest.UsageError("FLUX_REQUIRE_INTEGRATION=1 but FLUX_TEST_GRADIO names no server")
    skip = pytest.mark.skip(reason="no Gradio server available (set FLUX_TEST_GRADIO)")
    for item in needing:
        item.add_marker(skip)


@pytest.fixture(scope="session", params=sorted(_SERVERS) or ["none"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """One replica per Gradio line, shared by the session; fault tags on, images 1/16 size."""
    # step_delay=0: instant steps keep the suite fast; a job that needs time uses [slow].
    python = _SERVERS[str(request.param)]
    with LocalSpace(python=python, faults=True, scale=16, step_delay=0) as space:
        yield Server(url=space.url, gradio=space.gradio_version)


@pytest.fixture(scope="session")
def dev_server() -> Iterator[Server]:
    """A replica of the FLUX.1-dev Space (guidance, 28 steps), on the newest Gradio given."""
    label = max(_SERVERS) if _SERVERS else "none"
    python = _SERVERS[label]
    with LocalSpace(python=python, faults=True, scale=16, model="dev", step_delay=0) as space:
        yield Server(url=space.url, gradio=space.gradio_version)


@pytest.fixture(autouse=True)
def _no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own HF_TOKEN must not change what the tests see."""
    monkeypatch.delenv("HF_TOKEN", raising=False)
