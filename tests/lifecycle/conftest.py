"""A real Gradio replica behind a recording relay, for the client's whole life.

One replica (the newest Gradio line available) serves the module; each test gets its own relay,
so what the Space saw is that test's alone. The client-side code under test is the same on every
Gradio line; the integration suite covers the lines themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flux_sdk.local import LocalSpace
from tests.integration.conftest import SERVERS
from tests.lifecycle._proxy import Relay


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SERVERS:
        return
    skip = pytest.mark.skip(reason="no Gradio server available (set FLUX_TEST_GRADIO)")
    for item in items:
        if "lifecycle" in str(item.path):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def replica() -> Iterator[str]:
    """The replica's URL: fault tags on ([slow] jobs take 0.25 s a step), other steps instant."""
    python = SERVERS[max(SERVERS)]
    with LocalSpace(python=python, faults=True, scale=16, step_delay=0) as space:
        yield space.url


@pytest.fixture
def relay(replica: str) -> Iterator[Relay]:
    """A relay in front of the replica that notes every request and answer."""
    with Relay(replica) as relay:
        yield relay
