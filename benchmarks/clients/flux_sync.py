"""flux_sdk's synchronous `FluxClient`, shared by all the harness's threads."""

from __future__ import annotations

from typing import Literal

from flux_sdk import FluxClient, Generation

from . import HEIGHT, JOB_TIMEOUT, PROMPT, RANDOMIZE_SEED, SEED, STEPS, WIDTH

MODE: Literal["sync"] = "sync"


class FluxSync:
    def __init__(self, url: str, protocol: Literal["queue", "call"]) -> None:
        self._client = FluxClient(url, protocol=protocol, timeout=JOB_TIMEOUT)

    def _generate(self) -> Generation:
        return self._client.generate(
            PROMPT,
            seed=SEED,
            randomize_seed=RANDOMIZE_SEED,
            width=WIDTH,
            height=HEIGHT,
            num_inference_steps=STEPS,
        )

    def job(self) -> str:
        return self._generate().url

    def job_file(self) -> int:
        return len(self._client.download(self._generate()))

    def close(self) -> None:
        self._client.close()


def connect(url: str, protocol: str, max_inflight: int) -> FluxSync:
    return FluxSync(url, "call" if protocol == "call" else "queue")
