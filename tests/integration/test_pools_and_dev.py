"""Pools of real replicas (one made to fail), the FLUX.1-dev replica, and batches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flux_sdk import (
    AsyncFluxClient,
    Completed,
    Event,
    Generation,
    JobFailedError,
    Log,
    Preview,
    QuotaExceededError,
)
from flux_sdk.local import LocalSpace

from .conftest import SERVERS, Server

pytestmark = pytest.mark.anyio


def _newest() -> str:
    if not SERVERS:
        pytest.skip("no Gradio server available (set FLUX_TEST_GRADIO)")
    return SERVERS[max(SERVERS)]


@pytest.fixture(scope="module")
def out_of_quota() -> Iterator[str]:
    """A replica whose every job fails with the ZeroGPU quota error."""
    with LocalSpace(python=_newest(), always="quota", scale=16) as space:
        yield space.url


@pytest.fixture(scope="module")
def dev() -> Iterator[str]:
    """A replica of the FLUX.1-dev Space (guidance_scale, streamed previews)."""
    with LocalSpace(python=_newest(), model="dev", scale=16, step_delay=0.15) as space:
        yield space.url


async def test_pool_fails_over_from_quota_and_unreachable_to_a_working_space(
    server: Server, out_of_quota: str
) -> None:
    unreachable = "http://127.0.0.1:9"
    async with AsyncFluxClient([unreachable, out_of_quota, server.url], max_retries=0) as client:
        async with client.stream("a pooled fox") as stream:
            events: list[Event] = [event async for event in stream]
        second = await client.generate("a second pooled fox")
    moves = [event.message for event in events if isinstance(event, Log)]
    assert len(moves) == 2
    assert moves[0].startswith(unreachable)
    assert moves[1].startswith(out_of_quota)
    final = events[-1]
    assert isinstance(final, Completed)
    assert final.generation.space == server.url
    # Both failed Spaces rest now: the next job goes straight to the working one.
    assert second.space == server.url


async def test_a_pool_of_only_exhausted_spaces_raises_quota(out_of_quota: str) -> None:
    async with AsyncFluxClient([out_of_quota, out_of_quota + "/"]) as client:
        with pytest.raises(QuotaExceededError):
            await client.generate("a fox")


async def test_dev_space_streams_previews_and_takes_guidance(dev: str) -> None:
    async with AsyncFluxClient(dev, space="flux-dev", protocol="call") as client:
        async with client.stream(
            "a dev fox", guidance_scale=5.0, num_inference_steps=3, seed=9, randomize_seed=False
        ) as stream:
            events = [event async for event in stream]
        final = events[-1]
        assert isinstance(final, Completed)
        previews = [event for event in events if isinstance(event, Preview)]
        assert previews
        preview_bytes = await client.download(
            Generation(
                url=previews[0].url, path=previews[0].path, seed=9, request=final.generation.request
            )
        )
    assert final.generation.seed == 9
    assert final.generation.request.guidance_scale == 5.0
    assert preview_bytes[8:12] == b"WEBP"


async def test_generate_many_against_a_real_space(server: Server) -> None:
    progress: list[int] = []
    async with AsyncFluxClient(server.url) as client:
        results = await client.generate_many(
            ["one", "[error] two", "three"],
            concurrency=2,
            progress=lambda done, _total: progress.append(done),
        )
    assert [type(result) for result in results] == [Generation, JobFailedError, Generation]
    assert sorted(progress) == [1, 2, 3]
