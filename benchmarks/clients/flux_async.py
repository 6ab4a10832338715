"""flux_sdk's `AsyncFluxClient` under asyncio, as a user would call it."""

from __future__ import annotations

from typing import Literal

from flux_sdk import AsyncFluxClient, Generation

from . import HEIGHT, JOB_TIMEOUT, PROMPT, RANDOMIZE_SEED, SEED, STEPS, WIDTH

MODE: Literal["async"] = "async"


class FluxAsync:
    def __init__(self, url: str, protocol: Literal["queue", "call"]) -> None:
        self._client = AsyncFluxClient(url, protocol=protocol, timeout=JOB_TIMEOUT)

    async def _generate(self) -> Generation:
        return await self._client.generate(
            PROMPT,
            seed=SEED,
            randomize_seed=RANDOMIZE_SEED,
            width=WIDTH,
            height=HEIGHT,
            num_inference_steps=STEPS,
        )

    async def job(self) -> str:
        return (await self._generate()).url

    async def job_file(self) -> int:
        return len(await self._client.download(await self._generate()))

    async def close(self) -> None:
        await self._client.close()


async def connect(url: str, protocol: str, max_inflight: int) -> FluxAsync:
    return FluxAsync(url, "call" if protocol == "call" else "queue")
