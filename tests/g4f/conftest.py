"""gpt4free's own client (g4f 8.8.6) driving `flux_sdk.compat`'s providers, against real replicas.

Skipped unless g4f is installed, except under ``FLUX_REQUIRE_G4F=1`` (``nox -s g4f``, CI), where
its absence is a failure. The replicas are the integration tests' (``tests/integration``): the
``server`` fixture, one per Gradio line in ``FLUX_TEST_GRADIO``.

g4f must not reach the internet: its version check is switched off, and every test fails if
anything (g4f or the SDK) resolves or connects to a host other than 127.0.0.1.
"""

# pyright: reportMissingModuleSource=false
# (in the typecheck environment g4f is not installed: the checker reads typings/g4f alone.)

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from tests._servers import Server, require_servers

HAS_G4F = importlib.util.find_spec("g4f") is not None

if HAS_G4F:
    # g4f reads its configuration directory once, on import, and writes there (cookies, usage
    # logs): a temporary one, never the user's ~/.g4f.
    _CONFIG = tempfile.mkdtemp(prefix="flux-g4f-config-")
    os.environ.setdefault("G4F_CONFIG_DIR", _CONFIG)

    def pytest_unconfigure(config: pytest.Config) -> None:
        shutil.rmtree(_CONFIG, ignore_errors=True)

elif os.environ.get("FLUX_REQUIRE_G4F") == "1":
    raise pytest.UsageError("FLUX_REQUIRE_G4F=1 but g4f is not installed")
else:
    collect_ignore_glob = ["test_*.py"]

if TYPE_CHECKING or HAS_G4F:  # after G4F_CONFIG_DIR is set
    from flux_sdk._g4f import BlackForestLabs_Flux1Dev, BlackForestLabs_Flux1Schnell


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    require_servers(items, lambda item: "tests/g4f/" in item.path.as_posix())


@pytest.fixture
def anyio_backend() -> str:
    """g4f runs on asyncio only (aiohttp)."""
    return "asyncio"


@pytest.fixture(scope="session")
def dev(dev_server: Server) -> str:
    """The shared FLUX.1-dev replica (guidance_scale, a preview per step)."""
    return dev_server.url


@pytest.fixture(autouse=True)
def offline_g4f(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[object]]:
    """No version check, no token, files in tmp_path; fail on any non-loopback address."""
    import g4f.debug

    monkeypatch.setattr(g4f.debug, "version_check", False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    # Failures must not send a provider into g4f's cool-down, which reorders providers.
    monkeypatch.setenv("G4F_DISABLE_CIRCUIT_BREAKER", "1")
    # The default response_format copies images into ./generated_media.
    monkeypatch.chdir(tmp_path)
    outside: list[object] = []
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only(socket.getaddrinfo, outside))
    monkeypatch.setattr(socket.socket, "connect", _loopback_only(socket.socket.connect, outside))
    monkeypatch.setattr(
        socket.socket, "connect_ex", _loopback_only(socket.socket.connect_ex, outside)
    )
    yield outside
    assert outside == [], f"g4f or the SDK tried to reach {outside}"


def _loopback_only(function: Callable[..., Any], outside: list[object]) -> Callable[..., Any]:
    def guarded(*args: Any, **kwargs: Any) -> Any:
        # getaddrinfo(host, port, ...) or sock.connect((host, port)); unix sockets pass.
        first: object = args[0]
        if isinstance(first, socket.socket):
            if first.family not in (socket.AF_INET, socket.AF_INET6):
                return function(*args, **kwargs)
            target: object = args[1]
        else:
            target = args[:2]
        address = cast("tuple[object, ...]", target) if isinstance(target, tuple) else (target,)
        host = address[0]
        if isinstance(host, str | bytes) and _host(host) not in ("127.0.0.1", "localhost", "::1"):
            outside.append(address)
            raise OSError(f"tests/g4f: no internet ({target!r})")
        return function(*args, **kwargs)

    return guarded


def _host(host: str | bytes) -> str:
    return host.decode() if isinstance(host, bytes) else host


@pytest.fixture
def schnell(server: Server) -> type[BlackForestLabs_Flux1Schnell]:
    """The provider pointed at a replica the way g4f users do it: a subclass overriding url."""

    class LocalFlux1Schnell(BlackForestLabs_Flux1Schnell):
        url = server.url

    return LocalFlux1Schnell


@pytest.fixture
def flux_dev(dev: str) -> type[BlackForestLabs_Flux1Dev]:
    """The FLUX.1-dev provider pointed at the FLUX.1-dev replica."""

    class LocalFlux1Dev(BlackForestLabs_Flux1Dev):
        url = dev

    return LocalFlux1Dev


@pytest.fixture
def unreachable() -> type[BlackForestLabs_Flux1Schnell]:
    """The provider pointed at a port where nothing listens: it fails without sending a job."""

    class UnreachableFlux1Schnell(BlackForestLabs_Flux1Schnell):
        url = "http://127.0.0.1:9"

    return UnreachableFlux1Schnell
