"""Real Gradio servers for the parity tests, one per Gradio line, as ``tests/integration`` does.

``FLUX_TEST_GRADIO`` names the interpreters (``4=/path/python,5=...,6=...``). Without it the
test environment's own gradio is used if it has one, else the parity tests are skipped (a
failure when ``FLUX_REQUIRE_INTEGRATION=1``). The fake-only tests need no server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from flux_sdk.local import LocalSpace
from tests._servers import SERVERS

REAL_MAX_SIZE = 4
"""Queue capacity of the real servers (and of the fakes they are compared with), so that the
queue-full scenario has something to hit; no other scenario queues more than 3 jobs."""


@dataclass(frozen=True)
class RealServer:
    """A running replica: its URL and the Gradio version it reports."""

    label: str
    url: str
    gradio: str


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if {"real_server", "real_dev_server"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
    if not SERVERS and os.environ.get("FLUX_REQUIRE_INTEGRATION") == "1":
        raise pytest.UsageError("FLUX_REQUIRE_INTEGRATION=1 but FLUX_TEST_GRADIO names no server")


@pytest.fixture(scope="session", params=sorted(SERVERS) or ["none"])
def real_server(request: pytest.FixtureRequest) -> Iterator[RealServer]:
    """One replica per Gradio line for the whole session, fault tags on."""
    yield from _replica(str(request.param), space="flux-schnell")


@pytest.fixture(scope="session", params=sorted(SERVERS) or ["none"])
def real_dev_server(request: pytest.FixtureRequest) -> Iterator[RealServer]:
    """One FLUX.1-dev replica (``space="flux-dev"``) per Gradio line, fault tags on."""
    yield from _replica(str(request.param), space="flux-dev")


def _replica(label: str, *, space: str) -> Iterator[RealServer]:
    if label not in SERVERS:
        pytest.skip("no Gradio server available (set FLUX_TEST_GRADIO)")
    # step_delay=0: instant steps keep the suite fast; a job that needs time uses [slow].
    replica = LocalSpace(
        python=SERVERS[label],
        faults=True,
        scale=16,
        max_size=REAL_MAX_SIZE,
        step_delay=0,
        space=space,
    )
    with replica:
        yield RealServer(label=label, url=replica.url, gradio=replica.gradio_version)
