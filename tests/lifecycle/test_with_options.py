"""``with_options`` against a real Gradio replica: the clients it makes share one pool.

A client made by ``with_options`` opens no connection of its own: its jobs reuse the ones the
original left open (under asyncio, trio, and in the sync client's loop thread), and closing
either client leaves no connection and no thread.
"""

from __future__ import annotations

import threading

import anyio
import pytest

from flux_sdk import AsyncFluxClient, FluxClient
from tests.lifecycle._proxy import LIMIT, Relay
from tests.lifecycle.test_close_and_loops import FAST, open_connections


def established(relay: Relay) -> set[str]:
    return {c for c in open_connections(relay) if c.endswith("ESTABLISHED")}


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_async_with_options_opens_no_connection(relay: Relay, backend: str) -> None:
    async def main() -> None:
        client = AsyncFluxClient(relay.url)
        with anyio.fail_after(LIMIT):
            await client.generate(FAST)
            warm = established(relay)
            twin = client.with_options(timeout=120, max_retries=0, protocol="queue")
            await twin.generate(FAST)
            await twin.generate(FAST, protocol="call")
            assert established(relay) == warm
            await twin.close()
        assert client.is_closed
        assert open_connections(relay) == []

    anyio.run(main, backend=backend)


def test_sync_with_options_opens_no_connection_and_no_thread(relay: Relay) -> None:
    before = set(threading.enumerate())
    client = FluxClient(relay.url)
    client.generate(FAST)
    warm, threads = established(relay), set(threading.enumerate())
    twin = client.with_options(timeout=120, max_retries=0)
    twin.generate(FAST)
    with twin.stream(FAST, protocol="call") as events:
        assert type(list(events)[-1]).__name__ == "Completed"
    assert established(relay) == warm
    assert set(threading.enumerate()) == threads
    twin.close()
    assert client.is_closed
    assert open_connections(relay) == []
    assert not [t for t in set(threading.enumerate()) - before if t.name == "flux-sdk event loop"]
