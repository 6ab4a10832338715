"""The ZeroGPU fault tags: the local Space (real Gradio) and the fake send the same texts, and
each lands in the class docs/errors.md says, on both protocols.

The texts are `flux_sdk._space_messages`' table, the one both replicas read; tests/zerogpu
checks the classification against the real ``spaces`` package's own code.
"""

from __future__ import annotations

import pytest

from flux_sdk import (
    AsyncFluxClient,
    GPUUnavailableError,
    JobFailedError,
    ProtocolName,
    QuotaExceededError,
    ResponseError,
)
from flux_sdk._protocol import normalise
from flux_sdk._space_messages import FAULT_TAGS, ZEROGPU_ERRORS
from flux_sdk.testing import FakeSpace
from tests._servers import Server

pytestmark = pytest.mark.anyio

EXPECTED: dict[str, type[ResponseError]] = {
    "runs-limit": QuotaExceededError,
    "no-token": QuotaExceededError,
    "pending-credits": QuotaExceededError,
    "daily-quota": QuotaExceededError,
    "illegal-duration": JobFailedError,
    "no-gpu": GPUUnavailableError,
    "gpu-aborted": GPUUnavailableError,
    "worker-crash": JobFailedError,
}


def test_every_zerogpu_tag_is_a_fault_tag_with_an_expected_class() -> None:
    assert set(ZEROGPU_ERRORS) == set(EXPECTED)
    assert set(ZEROGPU_ERRORS) <= set(FAULT_TAGS)


async def _raised(client: AsyncFluxClient, tag: str) -> ResponseError:
    with pytest.raises(ResponseError) as caught:
        await client.generate(f"[{tag}] a fox")
    return caught.value


@pytest.mark.parametrize("tag", sorted(EXPECTED))
async def test_the_local_space_sends_each_zerogpu_error(server: Server, tag: str) -> None:
    # The queue protocol carries the text on every Gradio line (§3.4).
    async with AsyncFluxClient(server.url, token="", protocol="queue") as client:
        error = await _raised(client, tag)
    sent = ZEROGPU_ERRORS[tag]
    assert type(error) is EXPECTED[tag]
    assert error.message == normalise(sent.message)
    assert error.title == (sent.title if server.major >= 5 else None)


@pytest.mark.parametrize("protocol", ["queue", "call"])
@pytest.mark.parametrize("tag", sorted(EXPECTED))
async def test_the_fake_sends_the_same(tag: str, protocol: ProtocolName) -> None:
    space = FakeSpace(gradio="6.31.0", faults=True)
    async with AsyncFluxClient(
        space.url, token="", protocol=protocol, http_transport=space
    ) as client:
        error = await _raised(client, tag)
    assert type(error) is EXPECTED[tag]
    assert error.message == normalise(ZEROGPU_ERRORS[tag].message)
