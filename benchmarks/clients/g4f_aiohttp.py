"""Reference: the request logic of gpt4free's ``BlackForestLabs_Flux1Schnell`` provider.

Re-implemented here (gpt4free is not a dependency) from ``g4f/Provider/hf_space/
BlackForestLabs_Flux1Schnell.py`` @e91815d, keeping its behaviour: a new aiohttp
``ClientSession`` per job, ``POST …/call/infer`` with the six values, then ``GET
…/call/infer/{event_id}`` read with ``readuntil(b"\\n\\n")``, split on ``b"\\ndata: "``,
``error`` raises, ``complete`` yields ``json[0]["url"]``; and the same ``while True`` re-GET
when a stream ends without a result. Its ``raise_for_status`` helper becomes aiohttp's own.

One deliberate change: the original hard-codes the un-prefixed ``{space}/call/infer``, which
only Gradio 4 serves (protocol reference §1). The benchmark's server is Gradio 6, so the
endpoint here is ``{space}/gradio_api/call/infer``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Literal

from aiohttp import ClientSession

from . import HEIGHT, PROMPT, RANDOMIZE_SEED, SEED, STEPS, WIDTH

MODE: Literal["async"] = "async"
API_PREFIX = "/gradio_api"  # the original: "" (Gradio 4 only)


class G4fAiohttp:
    def __init__(self, url: str) -> None:
        self.api_endpoint = f"{url}{API_PREFIX}/call/infer"

    async def job(self) -> str:
        async for image_url in self.create_async_generator(PROMPT):
            return image_url
        raise RuntimeError("no image")

    async def job_file(self) -> int:
        """The job, then the image as g4f's media copy fetches it: a ClientSession of its own."""
        url = await self.job()
        async with ClientSession() as session, session.get(url) as response:
            response.raise_for_status()
            return len(await response.read())

    async def create_async_generator(
        self,
        prompt: str,
        width: int = WIDTH,
        height: int = HEIGHT,
        num_inference_steps: int = STEPS,
        seed: int = SEED,
        randomize_seed: bool = RANDOMIZE_SEED,
    ) -> AsyncGenerator[str, None]:
        width = max(32, width - (width % 8))
        height = max(32, height - (height % 8))
        payload = {"data": [prompt, seed, randomize_seed, width, height, num_inference_steps]}
        async with ClientSession() as session:  # noqa: SIM117  # nested as in the original
            async with session.post(self.api_endpoint, json=payload) as response:
                response.raise_for_status()
                response_data = await response.json()
                event_id = response_data["event_id"]
                while True:
                    async with session.get(f"{self.api_endpoint}/{event_id}") as status:
                        status.raise_for_status()
                        while not status.content.at_eof():
                            event = await status.content.readuntil(b"\n\n")
                            if not event.startswith(b"event:"):
                                continue
                            parts = event.split(b"\ndata: ")
                            if len(parts) < 2:
                                continue
                            event_type = parts[0].split(b": ")[1]
                            data = parts[1]
                            if event_type == b"error":
                                text = data.decode(errors="ignore")
                                raise RuntimeError(f"Error generating image: {text}")
                            if event_type == b"complete":
                                yield str(json.loads(data)[0]["url"])
                                return

    async def close(self) -> None:
        return None


async def connect(url: str, protocol: str, max_inflight: int) -> G4fAiohttp:
    return G4fAiohttp(url)
