"""`client.image()`: the Space's image as a Pillow image, on every Gradio line."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image

from flux_sdk import AsyncFluxClient, FluxClient, GenerateRequest, MissingExtraError
from tests._servers import Server

# The replica draws images at 1/16 of the requested size (scale=16).
REQUEST = GenerateRequest(prompt="a red fox", width=512, height=256, seed=7, randomize_seed=False)


@pytest.mark.anyio
async def test_async_image_is_a_loaded_pillow_image(server: Server) -> None:
    async with AsyncFluxClient(server.url) as client:
        generation = await client.generate(REQUEST)
        image = await client.image(generation)
        assert isinstance(image, Image.Image)
        assert (image.format, image.size) == ("WEBP", (32, 16))
        served = Image.open(io.BytesIO(await client.download(generation)))
        assert image.tobytes() == served.tobytes()


def test_sync_image_is_a_loaded_pillow_image(server: Server) -> None:
    with FluxClient(server.url) as client:
        image = client.image(client.generate(REQUEST))
    assert (image.format, image.size, image.mode) == ("WEBP", (32, 16), "RGB")


def test_without_pillow_image_names_the_extra_before_any_download(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FluxClient(server.url) as client:
        generation = client.generate(REQUEST)
        for name in [name for name in sys.modules if name == "PIL" or name.startswith("PIL.")]:
            monkeypatch.setitem(sys.modules, name, None)
        with pytest.raises(MissingExtraError) as caught:
            client.image(generation)
    assert caught.value.extra == "pil"
    assert str(caught.value) == "client.image() needs Pillow: pip install 'flux-sdk[pil]'"
