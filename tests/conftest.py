"""Shared fixtures: every async test runs under asyncio and under trio; real replicas.

The replicas (`tests/_servers.py`) are session fixtures here, so every suite that needs one
(integration, cli, g4f, lifecycle) shares the same servers instead of starting its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._h2space import H2Space
from tests._servers import LABELS, Server, newest, replica, require_servers, uses


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each ``@pytest.mark.anyio`` test on both backends."""
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    require_servers(items, uses("server", "dev_server"))


@pytest.fixture(scope="session", params=LABELS)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """One replica per Gradio line, shared by the session."""
    yield from replica(str(request.param))


@pytest.fixture(scope="session")
def dev_server() -> Iterator[Server]:
    """A replica of the FLUX.1-dev Space (guidance, 28 steps), on the newest Gradio given."""
    yield from replica(newest(), space="flux-dev")


@pytest.fixture(scope="session")
def h2space() -> Iterator[H2Space]:
    """The replica over TLS and HTTP/2 (hypercorn), one for the session."""
    import trustme

    with H2Space(trustme.CA()) as space:
        yield space


@pytest.fixture
def h2_replica(h2space: H2Space) -> H2Space:
    """`h2space` with its request log cleared for this test."""
    h2space.forget()
    return h2space
