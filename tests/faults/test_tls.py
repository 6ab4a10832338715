"""HTTPS as on the Space: a certificate from a CA the test makes, and ``verify=`` to trust it.

The fault server speaks TLS with a certificate for 127.0.0.1 issued by a throwaway CA
(``trustme``); the image URL it hands out is https too, so the download goes over TLS as well.
"""

from __future__ import annotations

import importlib.util
import ssl
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path

import anyio
import pytest
import trustme

from flux_sdk import (
    AsyncFluxClient,
    FluxClient,
    FluxConnectionError,
    Generation,
    MissingExtraError,
    Timeout,
)
from tests.faults._runner import Facade
from tests.faults._server import FaultServer
from tests.faults._space import IMAGE, FakeSpace

TIMEOUT = Timeout(connect=5, idle=5, total=20, cancel=2)
Verify = ssl.SSLContext | str | bool


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_bundle(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def tls_space(ca: trustme.CA) -> Iterator[FakeSpace]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FaultServer("127.0.0.1", tls=context) as server:
        yield FakeSpace(server)


def _job(
    facade: Facade, url: str, verify: Verify, *, http2: bool = False
) -> tuple[Generation, bytes]:
    if facade == "sync":
        with FluxClient(url, token="", timeout=TIMEOUT, verify=verify, http2=http2) as client:
            generation = client.generate("a fox", seed=1)
            return generation, client.download(generation)

    async def main() -> tuple[Generation, bytes]:
        async with AsyncFluxClient(
            url, token="", timeout=TIMEOUT, verify=verify, http2=http2
        ) as client:
            generation = await client.generate("a fox", seed=1)
            return generation, await client.download(generation)

    return anyio.run(main, backend=facade)


def test_a_ca_bundle_path_is_trusted(facade: Facade, tls_space: FakeSpace, ca_bundle: str) -> None:
    generation, content = _job(facade, tls_space.url, ca_bundle)
    assert generation.url.startswith("https://127.0.0.1:")
    assert content == IMAGE


def test_an_ssl_context_is_used_as_given(
    facade: Facade, tls_space: FakeSpace, ca: trustme.CA
) -> None:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    _generation, content = _job(facade, tls_space.url, context)
    assert content == IMAGE


def test_ssl_cert_file_is_honoured(
    tls_space: FakeSpace, ca_bundle: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", ca_bundle)
    _generation, content = _job("sync", tls_space.url, True)
    assert content == IMAGE


def test_an_unknown_ca_is_refused_and_says_how_to_trust_it(
    facade: Facade, tls_space: FakeSpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(FluxConnectionError) as caught:
        _job(facade, tls_space.url, True)
    text = str(caught.value)
    assert "certificate was refused" in text
    assert "verify=" in text
    assert "--ca-bundle" in text
    # Refused at the handshake: the Space never saw a request.
    assert tls_space.server.requests() == []


def test_http2_falls_back_to_http1_on_a_server_without_it(
    facade: Facade, tls_space: FakeSpace, ca_bundle: str
) -> None:
    _generation, content = _job(facade, tls_space.url, ca_bundle, http2=True)
    assert content == IMAGE


def test_a_missing_ca_bundle_is_refused_before_any_io() -> None:
    with pytest.raises(ValueError, match="no CA bundle"):
        FluxClient("https://127.0.0.1:9", verify="/nonexistent/ca.pem")


def test_http2_without_its_extra_is_refused_before_any_io(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "h2" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingExtraError, match=r"flux-sdk\[http2\]"):
        AsyncFluxClient("https://127.0.0.1:9", http2=True)
