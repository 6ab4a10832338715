"""Proxies: ``proxy=`` and the environment's ``HTTP_PROXY`` / ``NO_PROXY`` reach the Space.

The fault server accepts a forward proxy's absolute-form targets (``POST http://host/...``),
so it plays the proxy and the Space at once: a request that reached it with the Space's
absolute URL went through the proxy; one with a bare path did not.
"""

from __future__ import annotations

import anyio
import pytest

from flux_sdk import AsyncFluxClient, FluxClient, Generation, Timeout
from tests.faults._runner import Facade
from tests.faults._server import RefusedPort
from tests.faults._space import FakeSpace

UNRESOLVABLE = "http://flux-space.invalid"
"""A Space only a proxy can reach: ``.invalid`` never resolves (RFC 6761)."""
TIMEOUT = Timeout(connect=5, idle=5, total=20, cancel=2)


def _generate(facade: Facade, url: str, proxy: str | None) -> Generation:
    if facade == "sync":
        with FluxClient(url, proxy=proxy, token="", timeout=TIMEOUT) as client:
            return client.generate("a fox", seed=1)

    async def main() -> Generation:
        async with AsyncFluxClient(url, proxy=proxy, token="", timeout=TIMEOUT) as client:
            return await client.generate("a fox", seed=1)

    return anyio.run(main, backend=facade)


def _targets(space: FakeSpace) -> list[str]:
    return [request.target for request in space.server.requests("POST")]


def test_proxy_argument_carries_every_request(facade: Facade, space: FakeSpace) -> None:
    generation = _generate(facade, UNRESOLVABLE, proxy=space.url)
    assert generation.seed == 1234
    targets = _targets(space)
    assert targets
    assert all(target.startswith(f"{UNRESOLVABLE}/") for target in targets), targets


def test_the_environments_proxy_is_used(
    facade: Facade, space: FakeSpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", space.url)
    assert _generate(facade, UNRESOLVABLE, proxy=None).seed == 1234
    assert all(target.startswith(f"{UNRESOLVABLE}/") for target in _targets(space))


def test_no_proxy_goes_direct(
    facade: Facade, space: FakeSpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = RefusedPort()
    try:
        # Were the proxy used, the job would fail to connect to it.
        monkeypatch.setenv("HTTP_PROXY", dead.url)
        monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
        monkeypatch.delenv("no_proxy", raising=False)
        assert _generate(facade, space.url, proxy=None).seed == 1234
    finally:
        dead.close()
    assert all(target.startswith("/") for target in _targets(space))


@pytest.mark.parametrize("proxy", ["ftp://proxy.example", "proxy.example:3128"])
def test_a_proxy_url_no_transport_can_use_is_refused_at_once(proxy: str) -> None:
    with pytest.raises(ValueError, match="a proxy URL starts with http://"):
        FluxClient("http://127.0.0.1:9", proxy=proxy)
    with pytest.raises(ValueError, match="a proxy URL starts with http://"):
        AsyncFluxClient("http://127.0.0.1:9", proxy=proxy)
