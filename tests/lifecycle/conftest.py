"""A real Gradio replica behind a recording relay, for the client's whole life.

One replica (the newest Gradio line available) serves the module; each test gets its own relay,
so what the Space saw is that test's alone. The client-side code under test is the same on every
Gradio line; the integration suite covers the lines themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._servers import newest, require_servers
from tests._servers import replica as replica_on
from tests.lifecycle._proxy import Relay


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    require_servers(items, lambda item: "tests/lifecycle/" in item.path.as_posix())


@pytest.fixture(scope="session")
def replica() -> Iterator[str]:
    """The replica's URL: fault tags on ([slow] jobs take 0.25 s a step), other steps instant."""
    for server in replica_on(newest()):
        yield server.url


@pytest.fixture
def relay(replica: str) -> Iterator[Relay]:
    """A relay in front of the replica that notes every request and answer."""
    with Relay(replica) as relay:
        yield relay
