"""Fixtures shared by the fault and security suites (re-exported by their conftest files)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest

from tests.faults._runner import FACADES, Facade
from tests.faults._server import FaultServer, RefusedPort
from tests.faults._space import FakeSpace

_AMBIENT = ("HF_TOKEN", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_ambient_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's HF_TOKEN must not change what the tests see, nor a proxy variable send
    loopback traffic anywhere else."""
    for name in _AMBIENT:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(params=FACADES)
def facade(request: pytest.FixtureRequest) -> Facade:
    """The async client on asyncio, on trio, or the sync client."""
    value: Facade = request.param
    return value


@pytest.fixture
def space() -> Iterator[FakeSpace]:
    """A healthy Gradio 6 Space on 127.0.0.1; tests swap one route for a fault."""
    with FaultServer("127.0.0.1") as server:
        yield FakeSpace(server)


@pytest.fixture
def other_host() -> Iterator[FaultServer]:
    """Another origin: a server on 127.0.0.2 (all of 127/8 is loopback on Linux)."""
    try:
        server = FaultServer("127.0.0.2")
    except OSError as exc:  # pragma: no cover - BSDs and macOS only alias 127.0.0.1
        pytest.skip(f"cannot bind 127.0.0.2: {exc}")
    with server:
        yield server


@pytest.fixture
def other_port() -> Iterator[FaultServer]:
    """Another origin on the Space's own host: 127.0.0.1, another port."""
    with FaultServer("127.0.0.1") as server:
        yield server


@pytest.fixture
def refused_port() -> Iterator[RefusedPort]:
    """A port on 127.0.0.1 where connections are refused."""
    port = RefusedPort()
    yield port
    port.close()


@pytest.fixture
def traced() -> Iterator[None]:
    """Trace Python allocations during the test, for `peak_memory`."""
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def peak_memory() -> int:
    """The peak of traced memory so far, in bytes (under the `traced` fixture)."""
    return tracemalloc.get_traced_memory()[1]
